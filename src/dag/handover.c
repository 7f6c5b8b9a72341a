/* handover.c - the KV hand-over of a pooled plan (§13, docs/pools.md): which prefill GPU
 * sends which layer's KV cache to which decode GPU, and how many bytes.
 *
 * Prefill replica r (the i-th of its pool) hands its sequences to decode replica
 * i mod D (D decode replicas); the j = i / D-th prefill replica on one decode replica
 * starts at the decode attention group j x G (G the prefill stage's attention groups),
 * so prefill replicas spread over the decode replica's groups.  Attention group q of a
 * prefill stage holds the KV of floor((q+1)B/G) - floor(qB/G) of its B sequences; TP
 * rank k of it sends what pd_i_kv_send_bytes gives (each KV element once) to the decode
 * stage serving each of its layers, to that stage's attention group (j x G + q) mod G'
 * and the rank of it that holds the first KV head rank k sends (MLA: rank k mod TP';
 * pd_i_kv_dst_rank).
 * One pair per layer: a prefill stage whose layers span two
 * decode stages sends to both, split by layers.
 */
#include "dag/dag_internal.h"
#include "dag/ops.h"
#include "plan/rules.h" /* pd_i_pool_of_phase */

/* Sequences of attention group q of G when B sequences spread as evenly as possible. */
static double group_seqs(int64_t B, uint32_t q, uint32_t G)
{
	return (double)((B * (int64_t)(q + 1)) / G - (B * (int64_t)q) / G);
}

/* The runs of one prefill GPU (index gi of stage st) towards decode replica dr. */
static void gpu_pairs(const pd_plan *plan, const pd_plan *view, const pd_stage *st,
                      uint32_t gi, uint32_t j, uint32_t dr, pd_i_kv_fn fn, void *arg)
{
	uint32_t tp = (uint32_t)pd_i_tp(st), G = (uint32_t)pd_i_groups(st), q = gi / tp,
	         k = gi % tp;
	pd_i_shape sh; /* the operator catalogue's work function of kv_send gives the bytes */
	pd_i_shape_init(&sh, view, st->n_gpus, st->tp, st->sp);
	sh.kv_rank = k;
	sh.kv_seqs = group_seqs(view->workload.batch, q, G);
	sh.kv_layers = 1;
	double bytes = pd_i_ops[PD_N_KV_SEND].work(&sh).bytes;
	if (bytes <= 0)
		return; /* a replicated KV head: another rank of the group sends it */
	const pd_replica *dec = &plan->strategy.replicas[dr];
	for (uint32_t s = 0; s < dec->n_stages; s++) {
		const pd_stage *ds = &dec->stages[s];
		int64_t a = st->first_layer > ds->first_layer ? st->first_layer : ds->first_layer;
		int64_t b = st->last_layer < ds->last_layer ? st->last_layer : ds->last_layer;
		if (a > b)
			continue;
		pd_i_kv_pair p = {
		    .gi = gi,
		    .src_gpu = st->gpus[gi],
		    .dst_gpu = ds->gpus[pd_i_kv_dst_index(&plan->model, st, gi, j, ds)],
		    .dst_replica = dr,
		    .dst_stage = s,
		    .first_layer = a,
		    .last_layer = b,
		    .bytes = bytes};
		fn(arg, &p);
	}
}

void pd_i_handover_pairs(const pd_plan *plan, uint32_t r, uint32_t s, pd_i_kv_fn fn,
                         void *arg)
{
	int pp = pd_i_pool_of_phase(plan, PD_PREFILL), dp = pd_i_pool_of_phase(plan, PD_DECODE);
	if (pp < 0 || dp < 0)
		return;
	const pd_pool *pre = &plan->strategy.pools[pp], *dec = &plan->strategy.pools[dp];
	PD_ASSERT(r >= pre->first_replica && r - pre->first_replica < pre->n_replicas);
	if (dec->n_replicas == 0)
		return;
	pd_plan view;
	pd_plan_pool_view(plan, (uint32_t)pp, &view);
	uint32_t i = r - pre->first_replica, D = dec->n_replicas;
	const pd_stage *st = &plan->strategy.replicas[r].stages[s];
	for (uint32_t gi = 0; gi < st->n_gpus; gi++)
		gpu_pairs(plan, &view, st, gi, i / D, dec->first_replica + i % D, fn, arg);
}
