/* plan.h - the plan IR: what <plan> says, after parsing and expansion.
 *
 * Pipeline: pd_plan_parse_file() -> pd_plan_expand() -> pd_plan_validate()
 * (see analysis.h) -> pd_dag_lower() (see dag.h).
 *
 * Every element keeps its source location (pd_loc) so that every rule can point at a
 * line.  All memory of a plan belongs to plan->arena.
 */
#ifndef PLANDAG_PLAN_H
#define PLANDAG_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "plandag/arena.h"
#include "plandag/diag.h"
#include "plandag/units.h"

/* Sane upper bounds, enforced by the schema and again by the parser. */
#define PD_MAX_LAYERS 10000
#define PD_MAX_GPUS 1000000
#define PD_MAX_EXPERTS 65536

typedef struct pd_loc {
	long line;  /* 1-based line of the element's start tag; 0 = synthesised */
	int column; /* 1-based column of its '<'; 0 = unknown */
} pd_loc;

typedef enum pd_dtype { PD_FP32, PD_FP16, PD_BF16, PD_FP8, PD_FP4 } pd_dtype;
/* 4, 2, 2, 1, 0.5 bytes per element */
double pd_dtype_bytes(pd_dtype t);
/* "fp32", "fp16", "bf16", "fp8", "fp4" */
const char *pd_dtype_name(pd_dtype t);

typedef enum pd_phase { PD_DECODE, PD_PREFILL } pd_phase;
const char *pd_phase_name(pd_phase p);

/* <model>: every default of docs/plan-format.md is applied by the parser. */
typedef struct pd_model {
	const char *name; /* may be NULL */
	int64_t layers, hidden, heads, kv_heads, head_dim, vocab;
	int64_t experts;        /* 0 = dense model */
	int64_t top_k;          /* default 1 when experts > 0, else 0 */
	int64_t expert_ffn;     /* FFN width of one routed expert (0 if absent) */
	int64_t shared_experts; /* default 0; width expert_ffn */
	int64_t dense_ffn;      /* FFN width of dense layers (0 if absent) */
	int64_t first_dense;    /* leading dense layers of a MoE model */
	pd_dtype dtype;         /* default bf16 */
	pd_dtype kv_dtype;      /* valid when has_kv_dtype: see pd_model_kv_dtype() */
	pd_dtype expert_dtype;  /* valid when has_expert_dtype: see pd_model_expert_dtype() */
	bool has_kv_dtype, has_expert_dtype;
	/* multi-head latent attention (DeepSeek-V2/V3, Kimi K2): kv_lora > 0 makes the model
	 * MLA; then kv_heads = heads and head_dim = 0 (they do not apply) */
	int64_t kv_lora, q_lora; /* q_lora 0 = queries not compressed */
	int64_t qk_nope, qk_rope, v_head;
	int64_t expert_groups; /* group-limited routing; 0 or 1 = one group */
	int64_t group_top_k;   /* groups a token picks its experts in; 0 = expert_groups */
	double params;         /* declared total; valid when has_params */
	bool has_params;
	pd_loc loc;
} pd_model;

/* True for a multi-head latent attention model (kv-lora-rank written). */
static inline bool pd_model_is_mla(const pd_model *m)
{
	return m->kv_lora > 0;
}

/* The dtype of the KV cache: kv-dtype when written, else dtype, but bf16 for an fp4
 * model (fp4 only when written). */
pd_dtype pd_model_kv_dtype(const pd_model *m);
/* The dtype of routed and shared expert weights: expert-dtype when written, else dtype. */
pd_dtype pd_model_expert_dtype(const pd_model *m);
/* The dtype of activations (and of everything the other two do not cover at run time):
 * dtype, but bf16 for an fp4 model (fp4 is a weight format). */
pd_dtype pd_model_act_dtype(const pd_model *m);

/* True when layer l (0-based) is a MoE layer: experts > 0 and l >= first_dense. */
bool pd_model_layer_is_moe(const pd_model *m, int64_t l);

/* Bits of pd_cluster.assumed / pd_workload.assumed: the attribute was absent and the
 * default of docs/plan-format.md was used (the report lists them). */
enum {
	PD_ASSUMED_TFLOPS = 1u << 0,
	PD_ASSUMED_GPU_BANDWIDTH = 1u << 1,
	PD_ASSUMED_INTRA_BANDWIDTH = 1u << 2,
	PD_ASSUMED_INTER_BANDWIDTH = 1u << 3,
	PD_ASSUMED_WORKLOAD = 1u << 4, /* no <workload> element at all */
	PD_ASSUMED_PHASE = 1u << 5,
	PD_ASSUMED_BATCH = 1u << 6,
	PD_ASSUMED_CONTEXT = 1u << 7,
	PD_ASSUMED_MICRO_BATCHES = 1u << 8,
};

/* <cluster>: all quantities in base units (bytes, FLOP/s, bytes/s). */
typedef struct pd_cluster {
	int64_t nodes, gpus_per_node;
	double gpu_memory;      /* bytes */
	double gpu_flops;       /* dense 16-bit FLOP/s (gpu-tflops * 1e12) */
	double gpu_bandwidth;   /* HBM bytes/s */
	double intra_bandwidth; /* NVLink bytes/s */
	double inter_bandwidth; /* network bytes/s per GPU */
	double gpu_flops_fp8;   /* dense FLOP/s of GEMMs with fp8 weights; 0: not given */
	double gpu_flops_fp4;   /* dense FLOP/s of GEMMs with fp4 weights; 0: not given */
	int64_t nvlink_domain;  /* GPUs of one NVLink fabric (default gpus_per_node) */
	/* Fractions of peak reached (docs/time-model.md): GEMM FLOP/s, attention FLOP/s, HBM
	 * bandwidth, NVLink and scale-out link bandwidth, each in (0, 1]; the latency of
	 * every communication in microseconds.  Defaults: src/plan/defaults.c. */
	double gemm_eff, attention_eff, memory_eff, nvlink_eff, network_eff;
	double comm_latency_us;
	unsigned eff_written; /* bit i: row i of pd_i_time_defaults written in the plan */
	const char *gpu;      /* the preset of <cluster gpu="...">, NULL when none */
	unsigned from_preset; /* bit v (src/plan/gpus.h pd_i_gpu_value): from the preset */
	unsigned assumed;     /* PD_ASSUMED_* */
	pd_loc loc;
} pd_cluster;

static inline int64_t pd_cluster_gpus(const pd_cluster *c)
{
	return c->nodes * c->gpus_per_node;
}

/* <workload> (optional element; defaults applied). */
typedef struct pd_workload {
	pd_phase phase;
	int64_t batch;   /* sequences per replica */
	int64_t context; /* tokens of prompt / KV per sequence */
	int64_t micro_batches;
	double target; /* tokens per millisecond, whole deployment */
	bool has_target;
	double target_ttft_ms, target_tpot_ms; /* target-ttft, target-tpot (ms) */
	bool has_target_ttft, has_target_tpot;
	bool overlap_two_batch;  /* overlap="two-batch": two halves, micro-batches 0 and 1 */
	double expert_imbalance; /* tokens of the busiest expert copy / the mean (>= 1) */
	/* input-tokens / output-tokens (§13): the prompt and the generated tokens of one
	 * request; they say which context each pool of a pooled plan uses (docs/pools.md) */
	int64_t input_tokens, output_tokens;
	bool has_input_tokens, has_output_tokens;
	unsigned assumed;        /* PD_ASSUMED_* */
	pd_loc loc;              /* line 0 when the element is absent */
} pd_workload;

/* <place experts="first-last" gpu="G"/> */
typedef struct pd_place {
	int64_t first, last; /* inclusive expert range */
	int64_t gpu;         /* cluster GPU id as written */
	pd_loc loc;
} pd_place;

/* <stage>: one pipeline stage of one replica. */
typedef struct pd_stage {
	int64_t first_layer, last_layer; /* inclusive, as written */
	int32_t *gpus;                   /* cluster GPU ids, in the order written */
	uint32_t n_gpus;                 /* after expand: the stage size */
	bool gpus_given;                 /* the gpus attribute was written */

	bool has_attention; /* an <attention> element was written */
	int64_t tp;         /* default 1 */
	bool sp;            /* default false */
	pd_loc attention_loc;

	bool has_moe;      /* a <moe> element was written */
	int64_t ep;        /* default 1 (also for dense stages) */
	int64_t redundant; /* redundant-experts: extra expert slots, default 0 */
	pd_loc moe_loc;
	pd_place *places; /* explicit <place> elements */
	uint32_t n_places;

	bool has_dense_ffn; /* a <dense-ffn> element was written */
	int64_t dense_tp;   /* its tp; pd_stage_dense_tp() gives the TP in effect */
	pd_loc dense_ffn_loc;

	/* After expand, for a MoE model: which expert every slot of every GPU of the stage
	 * holds (an internal table of the library; stages with the same default layout
	 * share one).  NULL for dense models. */
	const struct pd_i_expert_layout *layout;

	pd_loc loc;
} pd_stage;

/* TP of the stage's dense FFN layers: <dense-ffn tp>, else the attention TP. */
static inline int64_t pd_stage_dense_tp(const pd_stage *s)
{
	return s->has_dense_ffn && s->dense_tp > 0 ? s->dense_tp : s->tp;
}

/* <replica>: one DP replica.  Before expand, count is as written; expand turns a
 * replica of count N into N replicas of count 1. */
typedef struct pd_replica {
	int64_t count;
	pd_stage *stages;
	uint32_t n_stages;
	uint32_t source; /* index of the <replica> element it came from */
	uint32_t copy;   /* 0 .. count-1 within that element */
	int32_t pool;    /* index into strategy.pools; 0 (meaningless) without pools */
	pd_loc loc;
} pd_replica;

/* <pool phase batch micro-batches> (§13): one phase of a disaggregated deployment.  Its
 * replicas are strategy.replicas[first_replica .. first_replica + n_replicas) (before
 * expand: as written; after expand: the expanded copies), so code that walks every
 * replica of the strategy sees every pool's. */
typedef struct pd_pool {
	pd_phase phase;
	int64_t batch;         /* sequences per replica of this pool */
	int64_t micro_batches; /* default 1 */
	bool has_batch, has_micro_batches;
	uint32_t first_replica, n_replicas;
	pd_loc loc;
} pd_pool;

/* <strategy> */
typedef struct pd_strategy {
	int64_t declared_gpus; /* valid when has_declared_gpus */
	bool has_declared_gpus;
	bool shorthand;         /* written as <strategy dp= pp= tp= ep= sp=/> */
	int64_t dp, pp, tp, ep; /* shorthand degrees (1 when absent) */
	bool sp;
	pd_replica *replicas;
	uint32_t n_replicas;
	pd_pool *pools; /* NULL and 0 in a plan without pools (one phase) */
	uint32_t n_pools;
	pd_loc loc;
} pd_strategy;

typedef struct pd_plan {
	const char *name; /* plan/@name */
	const char *path; /* file it was read from */
	pd_model model;
	pd_cluster cluster;
	pd_workload workload;
	pd_strategy strategy;
	bool expanded;   /* pd_plan_expand() has run */
	pd_arena *arena; /* owns everything above */
} pd_plan;

/* Reads and checks PLAN against the embedded schemas/plan.xsd with network access,
 * entity substitution and DTDs off.  Appends `schema` and `hierarchy` diagnostics
 * (and `io` when the file cannot be read).  On PD_OK *out is a new plan the caller
 * destroys; otherwise *out is NULL.  Returns PD_INVALID for a bad plan, PD_IO when
 * the file cannot be read.  The path "-" reads standard input. */
pd_status pd_plan_parse_file(const char *path, pd_plan **out, pd_diag_list *diags);
/* The same from memory; name is used as plan->path. */
pd_status pd_plan_parse_memory(const char *buf, size_t len, const char *name, pd_plan **out,
                               pd_diag_list *diags);

/* Expands the shorthand strategy into replicas and stages, repeats replicas of
 * count > 1 on the next free GPUs, gives stages without gpus the next free GPUs
 * (stage size max(TP, EP)) and builds every stage's expert layout (default: slot s
 * on stage GPU s / ((experts + R) / ep) holding expert s mod experts; explicit <place>
 * elements override).  Never fails on a bad
 * plan: what cannot be expanded is left for the rules to report.  Returns PD_IO only
 * when out of memory. */
pd_status pd_plan_expand(pd_plan *plan, pd_diag_list *diags);

/* True for a plan whose strategy holds <pool> elements. */
static inline bool pd_plan_is_pooled(const pd_plan *plan)
{
	return plan->strategy.n_pools > 0;
}

/* Fills *view with a single-phase view of pool p of a pooled plan: a shallow copy
 * sharing plan's arena whose strategy holds only that pool's replicas (n_pools 0) and
 * whose workload has the pool's phase, batch, micro-batches and context (prefill:
 * input-tokens; decode: input-tokens + output-tokens; docs/pools.md).  Every rule of §3,
 * the cost module and the lowering run on a view unchanged.  The view lives as long as
 * plan; nothing to free. */
void pd_plan_pool_view(const pd_plan *plan, uint32_t p, pd_plan *view);
/* The context (tokens per sequence) a pool of that phase uses: input-tokens (default
 * the workload's context) for prefill, input-tokens + output-tokens for decode. */
int64_t pd_plan_pool_context(const pd_plan *plan, pd_phase phase);

/* Frees the plan and everything in its arena; accepts NULL. */
void pd_plan_destroy(pd_plan *plan);

/* Prints the expanded hierarchy as an indented tree (used by --dump=expand and the
 * report). */
void pd_plan_print_tree(const pd_plan *plan, FILE *f);

#endif
