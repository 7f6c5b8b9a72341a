/* dag_internal.h - helpers shared by the files of src/dag (not a public interface). */
#ifndef PLANDAG_DAG_INTERNAL_H
#define PLANDAG_DAG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plandag/dag.h"
#include "util/array.h"
#include "util/util.h"

/* Hubs are the only nodes without a GPU. */
static inline int pd_i_node_is_hub(const pd_node *n)
{
	return n->kind == PD_N_COLLECTIVE;
}

/* Contraction of collectives: rep[v] is the hub of v when v is a member (the source of
 * a collective edge), else v itself.  Built by pd_dag_finalize in its pass over the
 * edges, no union-find: a member belongs to one instance (a second collective edge of
 * the same member is ignored here and reported by the placement check).  Owned by the
 * DAG, valid while it stays finalized. */
const uint32_t *pd_i_contract(const pd_dag *dag);

/* Whether increasing id is a topological order of the contracted graph: every data,
 * comm and control edge goes from a smaller to a larger contracted id (the lowering
 * emits ids that way).  pd_i_prove_ids_topological always runs the pass over the
 * edges (the acyclic check); pd_i_ids_topological reuses its last answer since the
 * last pd_dag_finalize when there is one (the critical path). */
bool pd_i_prove_ids_topological(const pd_dag *dag);
bool pd_i_ids_topological(const pd_dag *dag);

/* Kahn's algorithm over data, comm and control edges of the contracted graph (needs
 * the CSR of pd_dag_finalize).  order receives the contracted nodes (representatives)
 * in a topological order; *n_order < number of representatives means a cycle, and
 * indeg[] (n_nodes entries, caller's) then stays > 0 exactly on the nodes left. */
void pd_i_kahn(const pd_dag *dag, const uint32_t *rep, uint32_t *indeg, uint32_t *order,
               uint32_t *n_order, uint32_t *n_reps);

/* Appends "kind gpu G LL mbM" describing node v to buf (for cycle and placement
 * messages). */
void pd_i_node_describe(const pd_dag *dag, uint32_t v, char *buf, size_t size);

/* Per-node costs of the lowering (src/dag/cost.c).  One pd_i_costs is filled once per
 * stage; the lowering then only copies indices. */
typedef struct pd_i_stage_shape {
	const pd_plan *plan;
	uint32_t stage_size; /* GPUs of the stage */
	int64_t tp;
	bool sp;
	int64_t dense_tp;    /* TP of the dense FFN layers (pd_stage_dense_tp) */
	const int32_t *gpus; /* cluster ids of the stage's GPUs, as written */
	uint32_t next_size;  /* GPUs of the next stage (0 for the last) */
	int64_t next_tp;
	bool next_sp; /* SP on the next stage: its GPUs receive their sequence shard */
} pd_i_stage_shape;

/* Collectives carry two records with the same us: [0] members, [1] the hub.  TP
 * collectives have one pair per TP group: of[k] for kind PD_N_TP_ALLREDUCE + k. */
#define PD_I_TP_KINDS 3 /* tp_allreduce, tp_reduce_scatter, tp_all_gather */
typedef struct pd_i_tp_costs {
	uint32_t of[PD_I_TP_KINDS][2];
} pd_i_tp_costs;

typedef struct pd_i_costs {
	uint32_t op[PD_N__COUNT];      /* compute kinds: one record per stage */
	uint32_t coll[PD_N__COUNT][2]; /* EP collectives: one pair per stage */
	uint32_t pp[2];                /* pp_send: [0] inside a node, [1] across nodes */
	uint32_t pp_recv;              /* pp_recv of the next stage: bytes, no time */
	pd_i_tp_costs *tp;             /* one per TP group of the stage (caller's array) */
	uint32_t n_tp;
	/* dense FFN layers at their own TP (dense_tp != tp): ffn_norm and ffn at that TP,
	 * and the collectives of each dense TP group (caller's array) */
	uint32_t dense_op[2]; /* [0] ffn_norm, [1] ffn */
	pd_i_tp_costs *dtp;
	uint32_t n_dtp;
} pd_i_costs;

/* Fills *c for one stage, interning every record in dag. */
pd_status pd_i_costs_stage(pd_dag *dag, const pd_i_stage_shape *sh, pd_i_costs *c);
/* The record of an expert node of the stage whose expert has `copies` copies
 * (redundant experts: each copy takes 1/copies of the expert's tokens); `busiest`: on
 * the stage's GPU 0, whose experts take expert-imbalance times the mean tokens. */
pd_status pd_i_costs_expert(pd_dag *dag, const pd_i_stage_shape *sh, uint32_t copies,
                            bool busiest, uint32_t *idx);

/* ---- the KV hand-over of a pooled plan (src/dag/handover.c, docs/pools.md) ---- */

/* One run of kv_send / kv_recv pairs: GPU index gi of a prefill stage hands the KV of
 * layers first_layer .. last_layer over to dst_gpu, a GPU of stage dst_stage of decode
 * replica dst_replica (indices into plan->strategy.replicas), `bytes` per layer. */
typedef struct pd_i_kv_pair {
	uint32_t gi;
	int32_t src_gpu, dst_gpu;
	uint32_t dst_replica, dst_stage;
	int64_t first_layer, last_layer;
	double bytes;
} pd_i_kv_pair;

typedef void (*pd_i_kv_fn)(void *arg, const pd_i_kv_pair *pair);

/* Calls fn for every run of pairs that stage s of prefill replica r (an index into
 * plan->strategy.replicas) hands over, GPU by GPU in stage order, then decode stage by
 * decode stage: the one emitter behind both lowering and counting.  Nothing when the
 * plan has no prefill and decode pool. */
void pd_i_handover_pairs(const pd_plan *plan, uint32_t r, uint32_t s, pd_i_kv_fn fn,
                         void *arg);

#endif
