/* dag.h - per-GPU operator DAGs joined by communication edges (README.md, "Lowering";
 * the checks are in docs/rules.md).
 *
 * One pd_dag describes one step of the workload for every replica, stage, GPU and
 * micro-batch.  Built for millions of nodes: 32-bit ids, 32-byte node records, costs
 * interned in a small table, edges gathered into CSR (out and in) by pd_dag_finalize(),
 * no per-node malloc.  The same structure is filled by the lowering and by the GraphML
 * reader behind `plandag verify`, so the checks work on either.
 */
#ifndef PLANDAG_DAG_H
#define PLANDAG_DAG_H

#include <stdint.h>
#include <stdio.h>

#include "plandag/analysis.h"
#include "plandag/diag.h"
#include "plandag/plan.h"

/* Node kinds; pd_node_kind_name() gives the `kind` string of every export.  Each kind
 * has one row in the operator catalogue (src/dag/ops.c, docs/architecture.md). */
typedef enum pd_node_kind {
	PD_N_EMBED,
	PD_N_PP_RECV,
	PD_N_ATTN_NORM,
	PD_N_QKV,
	PD_N_ATTENTION,
	PD_N_O_PROJ,
	PD_N_TP_ALLREDUCE,
	PD_N_TP_REDUCE_SCATTER,
	PD_N_TP_ALL_GATHER,
	PD_N_FFN_NORM,
	PD_N_ROUTER,
	PD_N_EP_DISPATCH,
	PD_N_EXPERT,
	PD_N_SHARED_EXPERT,
	PD_N_EP_COMBINE,
	PD_N_FFN,
	PD_N_LM_HEAD,
	PD_N_SAMPLE,
	PD_N_PP_SEND,
	PD_N_COLLECTIVE, /* hub of one collective instance (gpu = -1) */
	PD_N_KV_SEND,    /* KV hand-over of a pooled plan: on a prefill GPU (§13) */
	PD_N_KV_RECV,    /* its arrival on the decode GPU serving the same layer */
	PD_N__COUNT
} pd_node_kind;

typedef enum pd_edge_kind {
	PD_E_DATA,       /* same GPU */
	PD_E_COMM,       /* pp_send -> pp_recv, kv_send -> kv_recv */
	PD_E_CONTROL,    /* order on one GPU (micro-batch m -> m+1) */
	PD_E_COLLECTIVE, /* member -> hub */
	PD_E__COUNT
} pd_edge_kind;

/* "embed", "pp_recv", ..., "collective"; NULL when out of range. */
const char *pd_node_kind_name(pd_node_kind k);
/* "data", "comm", "control", "collective" */
const char *pd_edge_kind_name(pd_edge_kind k);
/* Inverse lookups; -1 when the name is unknown. */
int pd_node_kind_from_name(const char *s);
int pd_edge_kind_from_name(const char *s);
/* True for member kinds of a collective (tp_*, ep_dispatch, ep_combine). */
int pd_node_kind_is_collective_member(pd_node_kind k);

/* Per-node cost, interned: many nodes share one record. */
typedef struct pd_cost {
	double flops;     /* floating-point operations */
	double bytes;     /* HBM traffic for compute, payload for comm */
	double us;        /* estimated microseconds */
	double out_bytes; /* size of the node's output (bytes on its out-edges) */
	double mem_us; /* compute kinds: the HBM term of us (memory-bound when = us); else 0 */
} pd_cost;

typedef struct pd_node {
	int32_t gpu;            /* cluster GPU id; -1 for hubs */
	int32_t replica, stage; /* stage index within the replica */
	int32_t layer;          /* -1 if none */
	int32_t micro_batch;
	union {
		int32_t expert; /* expert id for `expert` nodes, else -1 */
		int32_t group;  /* for hubs: index of the member group in dag->groups */
	};
	uint32_t cost; /* index into dag->costs */
	uint8_t kind;  /* pd_node_kind */
	uint8_t phase; /* pd_phase of the step it belongs to (its pool's in a pooled plan) */
	uint8_t pad_[2];
} pd_node;

typedef struct pd_edge {
	uint32_t src, dst;
	uint8_t kind; /* pd_edge_kind */
	uint8_t pad_[3];
} pd_edge;

/* Interned GPU groups (members of collectives): group g holds
 * gpus[off[g] .. off[g+1]), sorted ascending. */
typedef struct pd_groups {
	uint32_t *off; /* n + 1 entries */
	int32_t *gpus;
	uint32_t n, cap, n_gpus, cap_gpus;
} pd_groups;

/* What the checks need to know about the deployment, independent of the plan file so
 * that a GraphML file can carry it (graph-level data). */
typedef struct pd_dag_gpu {
	int32_t replica, stage; /* -1 when the plan does not use this GPU */
	double memory;          /* bytes the plan needs on it (weights+KV+act+reserve) */
	int32_t pool;           /* index into dag->pools; -1 without pools or unused */
} pd_dag_gpu;

/* One pool of a pooled plan (§13, docs/pools.md): replicas first_replica ..
 * first_replica + n_replicas - 1 of the DAG (numbered across the whole strategy), the
 * phase of their step, its micro-batches and tokens per replica. */
typedef struct pd_dag_pool {
	pd_phase phase;
	int32_t first_replica, n_replicas;
	int32_t micro_batches;
	double step_tokens;
} pd_dag_pool;

typedef struct pd_dag_stage {
	int32_t replica, stage;
	int32_t n_experts;   /* 0 for a dense model */
	int32_t *expert_gpu; /* cluster GPU id hosting expert e, -1 if none (the first
	                      * of its copies with redundant experts) */
	/* Further copies of redundant experts: expert e is also hosted on
	 * copy_gpu[copy_off[e] .. copy_off[e + 1]), ascending (pd_dag_stage_sort_copies);
	 * both NULL when no expert has copies. */
	uint32_t *copy_off; /* n_experts + 1 */
	int32_t *copy_gpu;
} pd_dag_stage;

typedef struct pd_dag {
	pd_node *nodes;
	uint32_t n_nodes, cap_nodes;
	pd_edge *edges;
	uint32_t n_edges, cap_edges;
	pd_cost *costs;
	uint32_t n_costs, cap_costs;
	pd_groups groups;

	/* CSR, valid after pd_dag_finalize(): the edges leaving node v are
	 * out_edge[out_off[v] .. out_off[v+1]) (edge ids), likewise in_*. */
	uint32_t *out_off, *out_edge;
	uint32_t *in_off, *in_edge;
	int finalized;

	/* deployment context */
	const char *name; /* plan name */
	int32_t n_gpus;   /* GPUs of the cluster */
	int32_t gpus_per_node;
	double gpu_capacity;  /* bytes per GPU */
	pd_dag_gpu *gpu;      /* n_gpus entries */
	pd_dag_stage *stages; /* one per (replica, stage), replica-major */
	uint32_t n_stages;
	int32_t n_replicas;
	int32_t micro_batches;
	pd_phase phase;
	double step_tokens; /* tokens of one step per replica */
	/* A pooled plan: one record per pool, in strategy.pools order (then micro_batches,
	 * phase and step_tokens above are the decode pool's, or the last pool's); NULL and 0
	 * for a one-phase plan. */
	pd_dag_pool *pools;
	uint32_t n_pools;
} pd_dag;

/* The pool of GPU g, -1 when none (a one-phase DAG, an unused or unknown GPU). */
int32_t pd_dag_gpu_pool(const pd_dag *dag, int32_t gpu);
/* The pool replica r belongs to, -1 when none. */
int32_t pd_dag_replica_pool(const pd_dag *dag, int32_t replica);

/* Creation and growth.  Every function returning pd_status returns PD_IO when out of
 * memory or when a 32-bit id would overflow. */
pd_dag *pd_dag_create(void);
void pd_dag_destroy(pd_dag *dag); /* accepts NULL */
/* Reserve exact capacities up front (the lowering knows them). */
pd_status pd_dag_reserve(pd_dag *dag, uint32_t nodes, uint32_t edges);
pd_status pd_dag_add_node(pd_dag *dag, const pd_node *n, uint32_t *id);
pd_status pd_dag_add_edge(pd_dag *dag, uint32_t src, uint32_t dst, pd_edge_kind kind);
/* Interns a cost record; *idx receives its index. */
pd_status pd_dag_intern_cost(pd_dag *dag, const pd_cost *c, uint32_t *idx);
/* Sorts the copies of every expert of st ascending (the placement check searches them). */
void pd_dag_stage_sort_copies(pd_dag_stage *st);

/* Interns a sorted GPU group; *idx receives its index. */
pd_status pd_dag_intern_group(pd_dag *dag, const int32_t *gpus, uint32_t n, uint32_t *idx);
/* Builds the CSR arrays (stable: edges keep their insertion order per node). */
pd_status pd_dag_finalize(pd_dag *dag);

/* Writes the node's human label ("L3 qkv", "expert 5 L7 mb1") into buf. */
void pd_node_label(const pd_dag *dag, uint32_t v, char *buf, size_t size);

/* Lowers an expanded, valid plan (README.md, "Lowering"): one with no error but
 * throughput-target; anything else is a caller's bug and aborts.  `an` supplies per-GPU
 * memory.
 * On PD_OK *out is a finalized DAG the caller destroys.  Deterministic: the same plan
 * gives the same ids and order every run. */
pd_status pd_dag_lower(const pd_plan *plan, const pd_analysis *an, pd_dag **out);

/* Number of nodes and edges pd_dag_lower() would create, without building anything
 * (used to refuse plans that would not fit in memory); same precondition.  Runs the
 * lowering's emitter in count mode, once per distinct class of stage and GPU. */
pd_status pd_dag_count(const pd_plan *plan, uint64_t *nodes, uint64_t *edges);
/* The part of that count on the GPUs of one replica, stage or GPU id (-1 = any): their
 * nodes without hubs, and the hubs of every stage one of them is in (for the hubs a
 * part takes part in, an upper bound). */
pd_status pd_dag_count_part(const pd_plan *plan, int32_t replica, int32_t stage,
                            int32_t gpu, uint64_t *nodes, uint64_t *hubs);

/* The DAG checks of docs/rules.md, on a finalized DAG.  Both append diagnostics (rule
 * `acyclic` / `placement`, line 0) and return PD_OK, PD_INVALID or PD_IO (out of memory).
 * pd_dag_check_acyclic prints one cycle node by node in its message when it fails. */
pd_status pd_dag_check_acyclic(const pd_dag *dag, pd_diag_list *diags);
pd_status pd_dag_check_placement(const pd_dag *dag, pd_diag_list *diags);

typedef struct pd_dag_stats {
	uint64_t nodes, edges;
	uint64_t by_kind[PD_N__COUNT];
	uint64_t edges_by_kind[PD_E__COUNT];
	uint64_t hubs;
	int32_t gpus_used;
} pd_dag_stats;
void pd_dag_stats_compute(const pd_dag *dag, pd_dag_stats *st);

/* ---- Step time: the stream schedule (docs/time-model.md) ----
 * Every GPU has two streams, compute and comm; every node but a hub runs on one, as
 * the operator catalogue (src/dag/ops.c) says of its kind. */
typedef enum pd_stream {
	PD_STREAM_COMPUTE = 0,
	PD_STREAM_COMM = 1,
	PD_STREAM_NONE = 2
} pd_stream;
/* The stream of node v: PD_STREAM_NONE for hubs and out-of-range ids or kinds. */
pd_stream pd_node_stream(const pd_dag *dag, uint32_t v);
/* "compute", "comm", "none"; NULL when out of range. */
const char *pd_stream_name(pd_stream s);

/* A node starts when all its predecessors (data, comm, control edges) have ended and
 * its stream on its GPU is free; the nodes of one stream run in id order (in Kahn's
 * order of the contracted graph when the ids are not a topological order, e.g. a
 * GraphML file edited by hand).  A collective instance starts when every member is
 * ready and its comm stream free; all members end together at start + the hub's time,
 * and the hub spans the instance.  One linear pass. */
typedef struct pd_schedule {
	double *start_us, *end_us; /* per node id (malloc'd); a hub spans its instance */
	double makespan_us;        /* the step latency */
	uint32_t n;                /* = dag->n_nodes */
} pd_schedule;
/* On a finalized DAG.  PD_IO when out of memory, PD_INVALID when the contracted graph
 * has a cycle (*out is then empty). */
pd_status pd_dag_schedule(const pd_dag *dag, pd_schedule *out);
void pd_schedule_release(pd_schedule *s); /* accepts NULL and released schedules */

/* A pooled DAG (dag->n_pools > 0): the step of each pool, step_us[p] = the latest end on
 * the GPUs of pool p in schedule s, the KV hand-over (kv_send, kv_recv) left out: it is
 * not part of either step (TTFT adds its time, docs/pools.md).  0 for a pool without
 * nodes. */
void pd_dag_pool_steps(const pd_dag *dag, const pd_schedule *s, double *step_us);

/* Where the step goes on one GPU: the GPU of the last node to end (the end of the
 * critical path).  compute_us + memory_us = busy time of its compute stream (a node is
 * memory-bound when its HBM term decided its time, pd_cost.mem_us); comm_hidden_us =
 * comm-stream time during which the compute stream is busy, comm_exposed_us = the rest
 * of the comm stream's busy time; idle_us = makespan - compute - memory - exposed
 * (waiting for other GPUs, pipeline bubbles). */
typedef struct pd_time_breakdown {
	int32_t gpu; /* -1 when the DAG has no node on a GPU */
	double compute_us, memory_us, comm_exposed_us, comm_hidden_us, idle_us;
} pd_time_breakdown;
pd_status pd_schedule_breakdown(const pd_dag *dag, const pd_schedule *s,
                                pd_time_breakdown *b); /* PD_IO on OOM */

/* Critical path, read off the schedule: from the node ending last, back through the
 * predecessor or stream predecessor that decided each start.  latency_us is the
 * makespan.  Collective instances count once, as the hub's time; the path lists the
 * member through which it entered the instance (the straggler). */
typedef struct pd_critical_path {
	double latency_us;
	uint32_t *nodes; /* the path, first to last (malloc'd) */
	uint32_t n;
	/* contributors: total microseconds on the path per (kind, gpu), largest first */
	struct pd_cp_contrib {
		uint8_t kind;
		int32_t gpu;
		double us;
		uint32_t count;
	} * top;
	uint32_t n_top;
} pd_critical_path;
pd_status pd_dag_critical_path(const pd_dag *dag, pd_critical_path *cp);
void pd_critical_path_release(pd_critical_path *cp);

/* Prints nodes and edges, one per line (--dump=lower, golden tests). */
void pd_dag_dump(const pd_dag *dag, FILE *f);

#endif
