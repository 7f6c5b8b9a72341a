/* pools.c - pooled plans (docs/pools.md): the pools' replica ranges after expansion and
 * the single-phase view of one pool that every rule, the cost module and the lowering
 * run on unchanged.
 *
 * Context of each pool: the prefill pool's memory and time use input-tokens (the prompt
 * it processes); the decode pool's use input-tokens + output-tokens (it holds the KV of
 * its whole batch at the end of generation, and its step is timed there, the slowest).
 */
#include "plan/plan_internal.h"

#include <string.h>

void pd_i_pools_reindex(pd_plan *plan)
{
	pd_strategy *st = &plan->strategy;
	for (uint32_t p = 0; p < st->n_pools; p++) {
		pd_pool *pool = &st->pools[p];
		uint32_t first = st->n_replicas, n = 0;
		for (uint32_t r = 0; r < st->n_replicas; r++)
			if (st->replicas[r].pool == (int32_t)p) {
				first = first < r ? first : r;
				n++;
			}
		pool->first_replica = n ? first : 0;
		pool->n_replicas = n;
	}
}

int64_t pd_plan_pool_context(const pd_plan *plan, pd_phase phase)
{
	const pd_workload *w = &plan->workload;
	int64_t in = w->has_input_tokens ? w->input_tokens : w->context;
	return phase == PD_DECODE ? in + w->output_tokens : in;
}

void pd_plan_pool_view(const pd_plan *plan, uint32_t p, pd_plan *view)
{
	*view = *plan;
	if (p >= plan->strategy.n_pools)
		return;
	const pd_pool *pool = &plan->strategy.pools[p];
	pd_strategy *st = &view->strategy;
	st->replicas = plan->strategy.replicas + pool->first_replica;
	st->n_replicas = pool->n_replicas;
	st->pools = NULL;
	st->n_pools = 0;
	st->has_declared_gpus = false; /* judged over the whole plan */
	st->shorthand = false;
	pd_workload *w = &view->workload;
	w->phase = pool->phase;
	w->batch = pool->batch;
	w->micro_batches = pool->micro_batches;
	w->context = pd_plan_pool_context(plan, pool->phase);
	w->assumed &= ~(unsigned)(PD_ASSUMED_PHASE | PD_ASSUMED_BATCH | PD_ASSUMED_CONTEXT |
	                          PD_ASSUMED_MICRO_BATCHES);
	/* the pooled targets are judged over the deployment (TTFT, TPOT, throughput) */
	w->has_target = w->has_target_ttft = w->has_target_tpot = false;
	w->loc = pool->loc; /* a pool's batch and micro-batches are written on <pool> */
}
