/* cost.c - the lowering's per-node cost records (README.md, "Lowering").
 *
 * The formulas are the cost module's (src/plan/cost.h), one work function per node kind
 * as the operator catalogue (src/dag/ops.c) names it; this file only turns work into
 * interned pd_cost records: compute kinds once per stage, TP collectives once per TP
 * group (the link depends on its GPUs), EP collectives once per stage, pp_send once per
 * link type.  Every record is computed once per stage and interned; the lowering copies
 * indices, it never hashes per node.
 */
#include "dag/dag_internal.h"
#include "dag/ops.h"

static pd_status intern_compute(pd_dag *dag, const pd_i_shape *x, pd_node_kind k,
                                uint32_t *idx)
{
	pd_i_work w = pd_i_ops[k].work(x);
	pd_cost c = {w.flops, w.bytes, pd_i_work_us(x, w), w.out_bytes,
	             pd_i_memory_us(x->c, w.bytes)};
	return pd_dag_intern_cost(dag, &c, idx);
}

/* A collective over the n GPUs of one instance: members carry the bytes one member puts
 * on the link, the hub the payload; both take the same time.  out[0] member, out[1] hub. */
static pd_status intern_collective(pd_dag *dag, const pd_i_shape *x, pd_node_kind k,
                                   const int32_t *gpus, uint32_t n, uint32_t out[2])
{
	pd_i_work w = pd_i_ops[k].work(x);
	double us = pd_i_ops[k].coll == PD_I_COLL_ALL_TO_ALL
	                ? pd_i_all_to_all_us(x)
	                : pd_i_comm_us(x->c, w.bytes, pd_i_group_spans_nodes(x->c, gpus, n));
	pd_cost mem = {0, w.bytes, us, w.out_bytes, 0};
	pd_cost hub = {0, w.out_bytes, us, w.out_bytes, 0};
	PD_CHECK(pd_dag_intern_cost(dag, &mem, &out[0]));
	return pd_dag_intern_cost(dag, &hub, &out[1]);
}

/* pp_send towards the next stage: what the receiving GPU needs (the activations of its
 * attention group, its 1/TP sequence shard with SP on the next stage, cost.h);
 * [0] inside a node, [1] across nodes.  pp_recv: the same bytes, no time (one
 * transfer, timed once: on the pp_send; the pp_recv only marks its arrival). */
static pd_status costs_pp(pd_dag *dag, const pd_i_stage_shape *sh, pd_i_costs *c)
{
	if (!sh->next_size)
		return PD_OK;
	const pd_cluster *cl = &sh->plan->cluster;
	pd_i_shape y;
	pd_i_shape_init(&y, sh->plan, sh->next_size, sh->next_tp, sh->next_sp);
	pd_i_work w = pd_i_ops[PD_N_PP_SEND].work(&y);
	for (int i = 0; i < 2; i++) {
		pd_cost k = {0, w.bytes, pd_i_comm_us(cl, w.bytes, i == 1), w.out_bytes, 0};
		PD_CHECK(pd_dag_intern_cost(dag, &k, &c->pp[i]));
	}
	pd_i_work r = pd_i_ops[PD_N_PP_RECV].work(&y);
	pd_cost recv = {0, r.bytes, 0, r.out_bytes, 0};
	return pd_dag_intern_cost(dag, &recv, &c->pp_recv);
}

/* One record per kind for the whole stage: compute kinds and the EP collectives. */
static pd_status costs_stage_wide(pd_dag *dag, const pd_i_stage_shape *sh,
                                  const pd_i_shape *x, pd_i_costs *c)
{
	for (int k = 0; k < PD_N__COUNT; k++) {
		const pd_i_op *op = &pd_i_ops[k];
		if (op->family == PD_I_F_COMPUTE)
			PD_CHECK(intern_compute(dag, x, (pd_node_kind)k, &c->op[k]));
		else if (op->family == PD_I_F_EP)
			PD_CHECK(intern_collective(dag, x, (pd_node_kind)k, sh->gpus, sh->stage_size,
			                           c->coll[k]));
	}
	return PD_OK;
}

/* One record pair per TP group of `tp` consecutive GPUs, each kind, for shape x. */
static pd_status costs_tp_groups(pd_dag *dag, const pd_i_stage_shape *sh,
                                 const pd_i_shape *x, int64_t tp, pd_i_tp_costs *out,
                                 uint32_t n_out)
{
	uint32_t groups = tp > 0 ? sh->stage_size / (uint32_t)tp : 0;
	for (uint32_t g = 0; g < groups && g < n_out; g++) {
		const int32_t *gpus = sh->gpus + (size_t)g * (size_t)tp;
		for (int k = 0; k < PD_I_TP_KINDS; k++)
			PD_CHECK(intern_collective(dag, x, (pd_node_kind)(PD_N_TP_ALLREDUCE + k), gpus,
			                           (uint32_t)tp, out[g].of[k]));
	}
	return PD_OK;
}

/* Dense FFN layers at their own TP: the shape of the stage at that TP gives their
 * tokens (an FFN group serves dense_tp / tp attention groups' worth of tokens, with SP
 * the norm its 1/tp shard) and the payload of their collectives. */
static pd_status costs_dense(pd_dag *dag, const pd_i_stage_shape *sh, pd_i_costs *c)
{
	if (sh->dense_tp == sh->tp || sh->dense_tp < 1)
		return PD_OK;
	pd_i_shape y;
	pd_i_shape_init(&y, sh->plan, sh->stage_size, sh->dense_tp, sh->sp);
	PD_CHECK(intern_compute(dag, &y, PD_N_FFN_NORM, &c->dense_op[0]));
	PD_CHECK(intern_compute(dag, &y, PD_N_FFN, &c->dense_op[1]));
	return costs_tp_groups(dag, sh, &y, sh->dense_tp, c->dtp, c->n_dtp);
}

pd_status pd_i_costs_stage(pd_dag *dag, const pd_i_stage_shape *sh, pd_i_costs *c)
{
	pd_i_shape x;
	pd_i_shape_init(&x, sh->plan, sh->stage_size, sh->tp, sh->sp);
	pd_i_shape_set_gpus(&x, sh->gpus, sh->stage_size);
	PD_CHECK(costs_stage_wide(dag, sh, &x, c));
	PD_CHECK(costs_pp(dag, sh, c));
	PD_CHECK(costs_tp_groups(dag, sh, &x, sh->tp, c->tp, c->n_tp));
	return costs_dense(dag, sh, c);
}

pd_status pd_i_costs_expert(pd_dag *dag, const pd_i_stage_shape *sh, uint32_t copies,
                            bool busiest, uint32_t *idx)
{
	pd_i_shape x;
	pd_i_shape_init(&x, sh->plan, sh->stage_size, sh->tp, sh->sp);
	x.copies = copies;
	if (busiest && sh->plan->workload.expert_imbalance > 1)
		x.imbalance = sh->plan->workload.expert_imbalance;
	return intern_compute(dag, &x, PD_N_EXPERT, idx);
}
