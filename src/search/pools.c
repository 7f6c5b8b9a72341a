/* pools.c - the search of a pooled plan (docs/suggest.md, "Pooled plans").
 *
 * Each pool is searched through its single-phase view (pd_plan_pool_view) like a plain
 * plan: the prefill pool against target-ttft less the KV hand-over of the plan as
 * written, the decode pool against target-tpot.  The best shapes of each (tokens/s per
 * GPU) are then paired, and for every pair the replica counts of the two pools are sized
 * so that the prefill pool's supply and the decode pool's demand (sequences/s) balance
 * within pool-balance's 25 % and everything fits the cluster or --max-gpus; the pair's
 * best by objective is a candidate.  The best K are written as pooled plans and compiled
 * like any other (refine.c). */
#include "search/search_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SHAPES_PER_POOL 24
#define MAX_REPLICAS 4096
#define BALANCE 1.25 /* pool-balance: the larger at most 1.25 x the smaller */

typedef struct pool_shape {
	pd_candidate k;   /* dp 1 */
	double seq_per_s; /* per replica: supply (prefill) or demand (decode) */
} pool_shape;

typedef struct pool_side {
	pool_shape v[SHAPES_PER_POOL];
	uint32_t n;
	uint64_t evaluated, pruned;
	pd_search_phases phases; /* of the pool's search */
} pool_side;

/* The view of the pool of that phase, with its own target. */
static void view_of(const pd_plan *plan, pd_phase phase, double handover_ms, pd_plan *view)
{
	uint32_t p = plan->strategy.pools[0].phase == phase ? 0 : 1;
	pd_plan_pool_view(plan, p, view);
	const pd_workload *w = &plan->workload;
	if (phase == PD_PREFILL && w->has_target_ttft) {
		view->workload.has_target_ttft = true;
		view->workload.target_ttft_ms = w->target_ttft_ms - handover_ms;
	}
	if (phase == PD_DECODE && w->has_target_tpot) {
		view->workload.has_target_tpot = true;
		view->workload.target_tpot_ms = w->target_tpot_ms;
	}
}

static double seq_per_s(const pd_plan *view, const pd_candidate *k)
{
	double steps = view->workload.phase == PD_DECODE && view->workload.output_tokens > 0
	                   ? (double)view->workload.output_tokens
	                   : 1.0;
	return (double)view->workload.batch / (k->step_latency_us * 1e-6 * steps);
}

/* The shapes of one pool worth pairing: dp 1, the workload's overlap, meeting the pool's
 * target first, most tokens/s per GPU first (the search's own order). */
static pd_status search_pool(const pd_plan *view, const pd_search_options *opt,
                             pool_side *side)
{
	pd_search_options o = *opt;
	o.objective = PD_OBJECTIVE_PER_GPU;
	o.text = NULL;
	pd_search_result r;
	pd_i_space sp;
	pd_status s = pd_i_search_core(view, &o, &r, &sp);
	side->evaluated += r.evaluated;
	side->pruned += r.pruned;
	side->phases = r.phases;
	for (uint32_t i = 0; s == PD_OK && i < r.n_candidates && side->n < SHAPES_PER_POOL;
	     i++) {
		const pd_candidate *k = &r.candidates[i];
		if (k->choice.dp != 1 || k->choice.two_batch != view->workload.overlap_two_batch ||
		    k->step_latency_us <= 0)
			continue;
		side->v[side->n++] = (pool_shape){*k, seq_per_s(view, k)};
	}
	pd_i_space_release(&sp);
	pd_search_result_release(&r);
	return s;
}

/* The deployment of rp prefill and rd decode replicas of the pair. */
static pd_candidate combine(const pd_plan *plan, const pool_shape *p, const pool_shape *d,
                            int64_t rp, int64_t rd, double handover_ms)
{
	const pd_workload *w = &plan->workload;
	pd_candidate k = d->k;
	k.choice.dp = rd;
	k.prefill = p->k.choice;
	k.prefill.dp = rp;
	k.gpus = rp * p->k.gpus + rd * d->k.gpus;
	double served = fmin((double)rp * p->seq_per_s, (double)rd * d->seq_per_s);
	k.tokens_per_ms = served * (double)w->output_tokens / 1000.0;
	k.tokens_per_s_per_gpu = k.tokens_per_ms * 1000.0 / (double)k.gpus;
	k.step_latency_us = d->k.step_latency_us;
	k.tpot_ms = d->k.step_latency_us / 1000.0;
	k.ttft_ms = p->k.step_latency_us / 1000.0 + handover_ms;
	k.peak_memory_fraction = fmax(p->k.peak_memory_fraction, d->k.peak_memory_fraction);
	k.meets_targets = p->k.meets_targets && d->k.meets_targets &&
	                  (!w->has_target || k.tokens_per_ms >= w->target);
	k.reach = pd_i_reach(w, &k);
	k.scheduled = false;
	return k;
}

/* The best deployment of one pair under the objective, balanced and within max GPUs;
 * false when none fits. */
static bool best_of_pair(const pd_plan *plan, const pool_shape *p, const pool_shape *d,
                         int64_t max_gpus, double handover_ms, pd_objective o,
                         pd_candidate *best, uint64_t *tried)
{
	bool any = false;
	for (int64_t rd = 1; rd <= MAX_REPLICAS && rd * d->k.gpus < max_gpus; rd++) {
		double demand = (double)rd * d->seq_per_s;
		int64_t lo = (int64_t)ceil(demand / BALANCE / p->seq_per_s);
		int64_t hi = (int64_t)floor(demand * BALANCE / p->seq_per_s);
		lo = lo < 1 ? 1 : lo;
		int64_t even = (int64_t)ceil(demand / p->seq_per_s);
		int64_t tries[2] = {lo, even < hi ? even : hi};
		for (int i = 0; i < 2; i++) {
			if (tries[i] < lo || tries[i] > hi ||
			    tries[i] * p->k.gpus + rd * d->k.gpus > max_gpus)
				continue;
			pd_candidate k = combine(plan, p, d, tries[i], rd, handover_ms);
			(*tried)++;
			if (!any || pd_i_better(&k, best, o))
				*best = k;
			any = true;
		}
	}
	return any;
}

static pd_status pair_all(const pd_plan *plan, const pool_side *pre, const pool_side *dec,
                          int64_t max_gpus, double handover_ms, pd_objective o,
                          pd_i_cands *out, uint64_t *tried)
{
	for (uint32_t i = 0; i < pre->n; i++)
		for (uint32_t j = 0; j < dec->n; j++) {
			pd_candidate k;
			if (best_of_pair(plan, &pre->v[i], &dec->v[j], max_gpus, handover_ms, o, &k,
			                 tried) &&
			    !pd_i_cands_push(out, &k))
				return PD_IO;
		}
	return PD_OK;
}

/* The KV hand-over of one prefill step of the plan as written (ms), 0 when unknown. */
static double handover_ms_of(const pd_plan *plan)
{
	pd_analysis an;
	pd_diag_list l;
	pd_diag_list_init(&l);
	double ms = pd_plan_validate(plan, &an, &l) != PD_IO ? an.handover_us / 1000.0 : 0;
	pd_diag_list_release(&l);
	return isfinite(ms) && ms > 0 ? ms : 0;
}

pd_status pd_i_search_pools(const pd_plan *plan, const pd_search_options *opt,
                            pd_search_result *res)
{
	memset(res, 0, sizeof(*res));
	res->best = -1;
	res->gpus_needed = -1;
	double handover = handover_ms_of(plan);
	int64_t cluster = pd_cluster_gpus(&plan->cluster);
	int64_t max = opt->max_gpus > 0 && opt->max_gpus < cluster ? opt->max_gpus : cluster;
	pd_plan vp, vd;
	view_of(plan, PD_PREFILL, handover, &vp);
	view_of(plan, PD_DECODE, handover, &vd);
	pool_side *pre = calloc(2, sizeof(*pre)), *dec = pre + 1;
	if (!pre)
		return PD_IO;
	pd_status s = search_pool(&vp, opt, pre);
	if (s == PD_OK)
		s = search_pool(&vd, opt, dec);
	pd_i_cands all = {0};
	if (s == PD_OK)
		s = pair_all(plan, pre, dec, max, handover, opt->objective, &all, &res->evaluated);
	res->candidates = all.v;
	res->n_candidates = all.n;
	res->evaluated += pre->evaluated + dec->evaluated; /* + the deployments paired */
	res->pruned = pre->pruned + dec->pruned;
	res->phases.space_s = pre->phases.space_s + dec->phases.space_s;
	res->phases.evaluate_s = pre->phases.evaluate_s + dec->phases.evaluate_s;
	res->phases.rank_s = pre->phases.rank_s + dec->phases.rank_s;
	free(pre);
	return s == PD_OK ? pd_i_rank(plan, res, opt->objective) : s;
}
