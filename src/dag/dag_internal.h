/* dag_internal.h - helpers shared by the files of src/dag (not a public interface). */
#ifndef PLANDAG_DAG_INTERNAL_H
#define PLANDAG_DAG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plandag/dag.h"

/* Hubs are the only nodes without a GPU. */
static inline int pd_i_node_is_hub(const pd_node *n)
{
	return n->kind == PD_N_COLLECTIVE;
}

/* Contraction of collectives: rep[v] is the hub of v when v is a member (the source of
 * a collective edge), else v itself.  Built from the edge list in one pass, no
 * union-find: a member belongs to exactly one instance.  Returns NULL when out of
 * memory.  The caller frees it. */
uint32_t *pd_i_contract(const pd_dag *dag);

/* Appends "kind gpu G LL mbM" describing node v to buf (for cycle and placement
 * messages). */
void pd_i_node_describe(const pd_dag *dag, uint32_t v, char *buf, size_t size);

/* Per-node costs of the lowering (src/dag/cost.c).  One pd_i_costs is filled once per
 * stage shape and layer type; the lowering then only copies indices. */
typedef struct pd_i_stage_shape {
	const pd_plan *plan;
	uint32_t stage_size;         /* GPUs of the stage */
	int64_t tp, ep;
	bool sp;
	const int32_t *gpus;         /* cluster ids of the stage's GPUs */
	int stage_index, n_stages;   /* of the replica */
	uint32_t next_size;          /* GPUs of the next stage (0 for the last) */
	const int32_t *next_gpus;
} pd_i_stage_shape;

typedef struct pd_i_costs {
	/* compute nodes; layer-dependent ones indexed by is_moe */
	uint32_t embed, lm_head, sample, attn_norm, qkv, attention, o_proj;
	uint32_t ffn_norm[2], router, expert, shared_expert, ffn;
	/* collectives: one cost for members and hub (same us); [0] dense, [1] moe */
	uint32_t tp_allreduce[2], tp_reduce_scatter[2], tp_all_gather[2];
	uint32_t ep_dispatch, ep_combine;
	uint32_t pp_send, pp_recv;
} pd_i_costs;

/* Fills *c for one stage, interning every record in dag.  tp_group_spans[i] is not
 * needed: the link is chosen per stage from its GPU list (a TP group of a stage whose
 * GPUs span nodes uses the network when the group itself spans nodes, see cost.c). */
pd_status pd_i_costs_stage(pd_dag *dag, const pd_i_stage_shape *sh, pd_i_costs *c);

/* Cost of a collective over `n` GPUs of one instance, picking NVLink or network from
 * the member list. */
double pd_i_comm_us(const pd_plan *plan, const int32_t *gpus, uint32_t n, double bytes);

#endif
