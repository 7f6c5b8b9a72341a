/* unreachable.c - how many GPUs of this kind a target the search cannot meet would take.
 *
 * Throughput: replicas never talk to each other, so the best tokens/s per GPU among the
 * strategies that meet the latency targets, repeated until the target is met.  Latency:
 * a larger cluster only helps through larger stages, so the search runs again (the
 * throughput target set aside) on hypothetical clusters of 2, 4, 8 and 16 times the
 * nodes; the fewest GPUs meeting the latency targets there, or -1: adding GPUs of this
 * kind does not reach it. */
#include "search/search_internal.h"

#include <math.h>

#define MAX_FACTOR 16
#define HYPOTHETICAL_GPUS_MAX 65536

/* GPUs of the shape of k repeated until target tokens/ms. */
static int64_t replicas_for(const pd_candidate *k, double target)
{
	int64_t replica = k->gpus / (k->choice.dp > 0 ? k->choice.dp : 1);
	double per = k->tokens_per_ms / (double)(k->choice.dp > 0 ? k->choice.dp : 1);
	if (per <= 0)
		return -1;
	return (int64_t)ceil(target / per) * replica;
}

/* The best per-GPU candidate meeting every latency target, searched on plan. */
static pd_status best_latency_ok(const pd_plan *plan, const pd_search_options *opt,
                                 pd_candidate *out, bool *found)
{
	pd_plan hyp = *plan;
	hyp.workload.has_target = false;
	pd_search_options o = *opt;
	o.objective = PD_OBJECTIVE_PER_GPU;
	o.budget_s = (opt->budget_s > 0 ? opt->budget_s : PD_I_SEARCH_BUDGET_S) / 4;
	pd_search_result r;
	pd_i_space sp;
	pd_status s = pd_i_search_core(&hyp, &o, &r, &sp);
	*found = s == PD_OK && r.n_candidates > 0 && r.candidates[0].meets_targets;
	if (*found)
		*out = r.candidates[0];
	pd_i_space_release(&sp);
	pd_search_result_release(&r);
	return s;
}

pd_status pd_i_unreachable(const pd_plan *plan, const pd_search_options *opt,
                           pd_search_result *res)
{
	const pd_workload *w = &plan->workload;
	pd_candidate k;
	bool found = false;
	res->gpus_needed = -1;
	for (int64_t f = 1; f <= MAX_FACTOR && !found; f *= 2) {
		pd_plan hyp = *plan;
		hyp.cluster.nodes = plan->cluster.nodes * f;
		if (f > 1 && pd_cluster_gpus(&hyp.cluster) > HYPOTHETICAL_GPUS_MAX)
			break;
		pd_search_options o = *opt;
		o.max_gpus = f == 1 ? opt->max_gpus : 0;
		PD_CHECK(best_latency_ok(&hyp, &o, &k, &found));
	}
	if (!found)
		return PD_OK;
	res->gpus_needed = w->has_target ? replicas_for(&k, w->target) : k.gpus;
	if (res->gpus_needed >= 0 && res->gpus_needed < k.gpus)
		res->gpus_needed = k.gpus;
	return PD_OK;
}

pd_status pd_i_unreachable_pools(const pd_plan *plan, pd_search_result *res)
{
	const pd_workload *w = &plan->workload;
	const pd_candidate *b = &res->candidates[res->best];
	res->gpus_needed = -1;
	bool latency_ok = (!w->has_target_ttft || b->ttft_ms <= w->target_ttft_ms) &&
	                  (!w->has_target_tpot || b->tpot_ms <= w->target_tpot_ms);
	if (latency_ok && w->has_target && b->tokens_per_ms > 0)
		res->gpus_needed = (int64_t)ceil(w->target / b->tokens_per_ms) * b->gpus;
	return PD_OK;
}
