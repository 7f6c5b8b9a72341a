/* rank.c - candidates in the order of the objective, the Pareto frontier over three
 * criteria (fewer GPUs, more tokens/s per GPU, a shorter step) and the verdict on the
 * targets. */
#include "search/search_internal.h"

#include <math.h>
#include <stdlib.h>

/* Larger is better for every key; NAN compares as worst. */
static int cmp_more(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b) ? 0 : isnan(a) ? 1 : -1;
	return a > b ? -1 : a < b ? 1 : 0;
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/* The strategies in a fixed order: the last tie-break, so that ranks never depend on
 * the order the candidates came in. */
int pd_i_choice_cmp(const pd_choice *a, const pd_choice *b)
{
	int64_t x[9] = {a->dp,       a->pp, a->tp,        a->sp,
	                a->dense_tp, a->ep, a->redundant, a->micro_batches,
	                a->two_batch};
	int64_t y[9] = {b->dp,       b->pp, b->tp,        b->sp,
	                b->dense_tp, b->ep, b->redundant, b->micro_batches,
	                b->two_batch};
	for (int i = 0; i < 9; i++)
		if (x[i] != y[i])
			return cmp_i64(x[i], y[i]);
	return 0;
}

static int cmp_objective(const pd_candidate *a, const pd_candidate *b, pd_objective o)
{
	int r = 0;
	switch (o) {
	case PD_OBJECTIVE_GPUS:
		r = cmp_i64(a->gpus, b->gpus);
		return r ? r : cmp_more(a->tokens_per_ms, b->tokens_per_ms);
	case PD_OBJECTIVE_THROUGHPUT:
		r = cmp_more(a->tokens_per_ms, b->tokens_per_ms);
		break;
	case PD_OBJECTIVE_PER_GPU:
		r = cmp_more(a->tokens_per_s_per_gpu, b->tokens_per_s_per_gpu);
		break;
	case PD_OBJECTIVE_LATENCY:
		r = cmp_more(-a->step_latency_us, -b->step_latency_us);
		break;
	}
	return r ? r : cmp_i64(a->gpus, b->gpus);
}

static int compare(const pd_candidate *a, const pd_candidate *b, pd_objective o)
{
	if (a->meets_targets != b->meets_targets)
		return a->meets_targets ? -1 : 1;
	/* neither meets them: the one reaching furthest first (the best reachable figure) */
	int r = a->meets_targets ? 0 : cmp_more(a->reach, b->reach);
	if (!r)
		r = cmp_objective(a, b, o);
	if (!r)
		r = cmp_more(a->tokens_per_ms, b->tokens_per_ms);
	if (!r)
		r = pd_i_choice_cmp(&a->choice, &b->choice);
	return r ? r : pd_i_choice_cmp(&a->prefill, &b->prefill);
}

bool pd_i_better(const pd_candidate *a, const pd_candidate *b, pd_objective o)
{
	return compare(a, b, o) < 0;
}

static _Thread_local pd_objective sort_objective;

static int qcmp(const void *a, const void *b)
{
	return compare(a, b, sort_objective);
}

static _Thread_local const pd_candidate *frontier_base;

/* Ascending GPUs, then descending tokens/s per GPU, then ascending step, then index. */
static int fcmp(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const pd_candidate *x = &frontier_base[i], *y = &frontier_base[j];
	int r = cmp_i64(x->gpus, y->gpus);
	if (!r)
		r = cmp_more(x->tokens_per_s_per_gpu, y->tokens_per_s_per_gpu);
	if (!r)
		r = cmp_more(-x->step_latency_us, -y->step_latency_us);
	return r ? r : cmp_i64(i, j);
}

bool pd_i_dominates(const pd_candidate *a, const pd_candidate *b)
{
	bool no_worse = a->gpus <= b->gpus &&
	                a->tokens_per_s_per_gpu >= b->tokens_per_s_per_gpu &&
	                a->step_latency_us <= b->step_latency_us;
	bool better = a->gpus < b->gpus || a->tokens_per_s_per_gpu > b->tokens_per_s_per_gpu ||
	              a->step_latency_us < b->step_latency_us;
	return no_worse && better;
}

/* As good on all three criteria (a duplicate of a frontier point is left off it). */
static bool covers(const pd_candidate *a, const pd_candidate *b)
{
	return pd_i_dominates(a, b) ||
	       (a->gpus == b->gpus && a->tokens_per_s_per_gpu == b->tokens_per_s_per_gpu &&
	        a->step_latency_us == b->step_latency_us);
}

/* The frontier over three criteria a deployer trades: fewer GPUs, more tokens/s per GPU,
 * a shorter step (TPOT in decode, TTFT in prefill).  In the order of fcmp a point can
 * only be covered by one before it, and a point covered by any earlier point is covered
 * by an earlier frontier point, so each is checked against the frontier so far. */
static pd_status frontier(pd_search_result *res)
{
	uint32_t n = res->n_candidates, *idx = malloc(((size_t)n + 1) * sizeof(*idx));
	if (!idx)
		return PD_IO;
	for (uint32_t i = 0; i < n; i++)
		idx[i] = i;
	frontier_base = res->candidates;
	if (n > 1)
		qsort(idx, n, sizeof(*idx), fcmp);
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		const pd_candidate *c = &res->candidates[idx[i]];
		bool covered = false;
		for (uint32_t f = 0; f < k && !covered; f++)
			covered = covers(&res->candidates[idx[f]], c);
		if (!covered)
			idx[k++] = idx[i];
	}
	res->frontier = idx;
	res->n_frontier = k;
	return PD_OK;
}

double pd_i_reach(const pd_workload *w, const pd_candidate *k)
{
	double r = 1;
	if (w->has_target)
		r = fmin(r, isnan(k->tokens_per_ms) ? 0 : k->tokens_per_ms / w->target);
	if (w->has_target_ttft && !isnan(k->ttft_ms))
		r = fmin(r, k->ttft_ms > 0 ? w->target_ttft_ms / k->ttft_ms : 1);
	if (w->has_target_tpot && !isnan(k->tpot_ms))
		r = fmin(r, k->tpot_ms > 0 ? w->target_tpot_ms / k->tpot_ms : 1);
	return r;
}

pd_status pd_i_rank(const pd_plan *plan, pd_search_result *res, pd_objective o)
{
	double t0 = pd_i_now_s();
	for (uint32_t i = 0; i < res->n_candidates; i++)
		res->candidates[i].reach = pd_i_reach(&plan->workload, &res->candidates[i]);
	sort_objective = o;
	if (res->n_candidates > 1)
		qsort(res->candidates, res->n_candidates, sizeof(*res->candidates), qcmp);
	free(res->frontier);
	res->frontier = NULL;
	PD_CHECK(frontier(res));
	res->best = res->n_candidates ? 0 : -1;
	res->reachable = res->n_candidates && res->candidates[0].meets_targets;
	res->phases.rank_s += pd_i_now_s() - t0;
	return PD_OK;
}
