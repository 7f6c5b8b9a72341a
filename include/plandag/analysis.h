/* analysis.h - the structural rules and the arithmetic behind them.
 *
 * pd_plan_validate() checks every rule of docs/rules.md on an expanded plan and fills
 * a pd_analysis with the numbers the rules used (parameter count, GPU counts, per-GPU
 * memory, throughput).  The throughput starts as an analytic roofline estimate; once the
 * plan is lowered, pd_analysis_set_throughput() replaces it with the DAG's critical path
 * and pd_validate_throughput() re-checks the `throughput-target` rule.
 */
#ifndef PLANDAG_ANALYSIS_H
#define PLANDAG_ANALYSIS_H

#include "plandag/plan.h"

/* Memory of one GPU used by the plan (bytes). */
typedef struct pd_gpu_memory {
	int32_t gpu;            /* cluster GPU id */
	int32_t replica, stage; /* where it serves */
	int32_t experts;        /* routed expert slots hosted (redundant copies included) */
	double weights, kv_cache, activations, reserve, total, capacity;
} pd_gpu_memory;

typedef enum pd_throughput_source {
	PD_THROUGHPUT_NONE,     /* not computed (plan too broken) */
	PD_THROUGHPUT_ROOFLINE, /* analytic estimate */
	PD_THROUGHPUT_DAG,      /* critical path of the lowered DAG */
} pd_throughput_source;

typedef struct pd_analysis {
	/* parameters */
	double params_computed;
	double params_active_per_token; /* attention + router + norms + top-k and shared
	                                 * experts or dense FFN per layer + embed/head */
	double weight_bytes;            /* params_computed * dtype bytes */
	double kv_bytes_per_token;      /* whole model, unsharded */

	/* GPU counts */
	int64_t gpus_structural;    /* sum over replicas and stages */
	int64_t gpus_product;       /* DP*TP*PP*EP*SP as an author would multiply */
	int64_t dp, pp, tp, ep, sp; /* the degrees in that product (SP = TP when on) */
	int64_t gpus_cluster;

	/* per-GPU memory: one entry per GPU the plan uses, in replica/stage/GPU order */
	pd_gpu_memory *memory;
	uint32_t n_memory;
	const char *activation_formula; /* human-readable formula used for activations */

	/* throughput */
	pd_throughput_source throughput_source;
	double step_latency_us;
	double step_tokens;   /* per replica */
	double tokens_per_ms; /* whole deployment */

	/* A pooled plan (§13): one analysis per pool, in strategy.pools order, each of that
	 * pool's view (pd_plan_pool_view); the fields above then describe the whole
	 * deployment (memory[] holds every pool's GPUs, tokens_per_ms is the generated tokens
	 * the slower pool sustains).  NULL and 0 for a plan without pools. */
	struct pd_analysis *pools;
	uint32_t n_pools;
	double handover_bytes_per_request; /* prompt KV cache of one request, every layer */
	double handover_us;     /* one prefill step's KV hand-over on the links it uses */
	double ttft_ms, tpot_ms; /* prefill step + hand-over; decode step (pooled plans) */
	double handover_bytes_per_step; /* prefill replicas x prefill batch x per request */
	double handover_bytes_per_gpu;  /* what the busiest prefill GPU sends in one step */
	bool handover_network;          /* that GPU's hand-over crosses the scale-out network */
	/* A pool's own analysis (an->pools[p]): the sequences per second it moves, the
	 * prefill pool's supply (replicas x batch / step) or the decode pool's demand
	 * (replicas x batch / (step x output-tokens)); the deployment's is the smaller. */
	double sequences_per_s;
} pd_analysis;

/* Runs every rule except `schema` and `hierarchy` (the parser's) on an expanded plan,
 * appending diagnostics (errors and warnings) and filling *an (allocated in the plan's
 * arena).  Returns PD_OK when no error was found, PD_INVALID otherwise, PD_IO when out
 * of memory. */
pd_status pd_plan_validate(const pd_plan *plan, pd_analysis *an, pd_diag_list *diags);

/* Replaces the throughput with the DAG critical path latency (microseconds).  A pooled
 * plan has one step per pool: use pd_analysis_set_pool_steps (this call leaves it). */
void pd_analysis_set_throughput(const pd_plan *plan, pd_analysis *an,
                                double step_latency_us);

/* A pooled plan: replaces each pool's step (step_us[p], microseconds, the makespan of the
 * schedule over that pool's GPUs, in strategy.pools order) and recomputes the
 * deployment's figures (TTFT, TPOT, tokens_per_ms) from them. */
void pd_analysis_set_pool_steps(const pd_plan *plan, pd_analysis *an, const double *step_us);

/* The `throughput-target` and `latency-target` rules on the current estimate.
 * pd_plan_validate() calls it with the roofline estimate; call it again (after removing the
 * old diagnostic with pd_diag_list_remove_rule) when the DAG estimate replaces it.  On a
 * pooled plan it judges the deployment (TTFT, TPOT, generated tokens/ms) and the
 * `pool-balance` rule, whose old diagnostics it removes itself. */
void pd_validate_throughput(const pd_plan *plan, const pd_analysis *an,
                            pd_diag_list *diags);

/* Parameter count of the model as docs/plan-format.md defines it. */
double pd_model_params(const pd_model *m);

#endif
