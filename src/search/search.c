/* search.c - pd_search: the space, every shape evaluated on every core, the candidates
 * ranked, the best K compiled for real, the verdict on the targets. */
#include "search/search_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const OBJECTIVES[] = {"gpus", "throughput", "per-gpu", "latency"};
#define N_OBJECTIVES ((int)(sizeof(OBJECTIVES) / sizeof(OBJECTIVES[0])))

const char *pd_objective_name(pd_objective o)
{
	return (int)o >= 0 && (int)o < N_OBJECTIVES ? OBJECTIVES[o] : "gpus";
}

int pd_objective_from_name(const char *s)
{
	for (int i = 0; s && i < N_OBJECTIVES; i++)
		if (strcmp(s, OBJECTIVES[i]) == 0)
			return i;
	return -1;
}

int64_t pd_choice_gpus(const pd_choice *c)
{
	int64_t stage = c->tp > c->ep ? c->tp : c->ep;
	return c->dp * c->pp * stage;
}

const char *pd_choice_describe(const pd_choice *c, char *buf, size_t size)
{
	int n = snprintf(buf, size, "DP %lld x PP %lld x TP %lld%s", (long long)c->dp,
	                 (long long)c->pp, (long long)c->tp, c->sp ? "+SP" : "");
	if (c->ep > 1 && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, ", EP %lld", (long long)c->ep);
	if (c->redundant > 0 && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, " (+%lld redundant)",
		              (long long)c->redundant);
	if (c->dense_tp != c->tp && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, ", dense TP %lld", (long long)c->dense_tp);
	if (c->micro_batches > 1 && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, ", %lld micro-batches",
		              (long long)c->micro_batches);
	if (c->two_batch && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, ", two-batch overlap");
	return buf;
}

const char *pd_candidate_describe(const pd_candidate *k, char *buf, size_t size)
{
	if (k->prefill.dp <= 0)
		return pd_choice_describe(&k->choice, buf, size);
	char p[200], d[200];
	snprintf(buf, size, "prefill %s; decode %s",
	         pd_choice_describe(&k->prefill, p, sizeof(p)),
	         pd_choice_describe(&k->choice, d, sizeof(d)));
	return buf;
}

void pd_search_result_release(pd_search_result *res)
{
	free(res->candidates);
	free(res->frontier);
	free((char *)res->pruned_why);
	memset(res, 0, sizeof(*res));
}

double pd_i_now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* No strategy can hold the model: the memory arithmetic. */
static void cannot_fit(const pd_plan *plan, const pd_i_space *sp, pd_diag_list *diags)
{
	const pd_workload *w = &plan->workload;
	pd_diag *d = pd_diag_add(
	    diags, PD_RULE_MEMORY_CAPACITY, PD_ERROR, plan->model.loc.line,
	    plan->model.loc.column,
	    "the model cannot fit %lld GPU(s) with any strategy: its weights and the KV cache "
	    "of %lld sequences x %lld tokens need at least %.1f GB, more than %lld x %.1f GB "
	    "usable (gpu-memory %.1f GB less the 10 %% reserve)",
	    (long long)sp->max_gpus, (long long)w->batch, (long long)w->context,
	    sp->floor_bytes / 1e9, (long long)sp->max_gpus, sp->usable_bytes / 1e9,
	    plan->cluster.gpu_memory / 1e9);
	pd_diag_fix(d,
	            "a cluster of at least %lld such GPUs, GPUs with more memory, a smaller "
	            "batch or context, or a smaller dtype",
	            (long long)sp->min_replica);
}

static pd_status run_space(const pd_plan *plan, const pd_search_options *opt,
                           pd_i_space *sp, pd_search_result *res)
{
	pd_i_cands all = {0};
	double t0 = pd_i_now_s();
	pd_status s = pd_i_evaluate_all(plan, sp, opt->threads, &all, &res->evaluated);
	res->phases.evaluate_s += pd_i_now_s() - t0;
	res->candidates = all.v;
	res->n_candidates = all.n;
	res->pruned = sp->pruned;
	if (s == PD_OK && sp->why[0] && !(res->pruned_why = strdup(sp->why)))
		s = PD_IO;
	return s == PD_OK ? pd_i_rank(plan, res, opt->objective) : s;
}

/* The search without the refinement and the verdict (used again on larger clusters). */
pd_status pd_i_search_core(const pd_plan *plan, const pd_search_options *opt,
                           pd_search_result *res, pd_i_space *sp)
{
	memset(res, 0, sizeof(*res));
	res->best = -1;
	res->gpus_needed = -1;
	double t0 = pd_i_now_s();
	PD_CHECK(pd_i_space_build(plan, opt, sp));
	res->phases.space_s = pd_i_now_s() - t0;
	return run_space(plan, opt, sp, res);
}

static void note_pruned(const pd_plan *plan, const pd_search_result *res,
                        pd_diag_list *diags)
{
	if (!res->pruned_why)
		return;
	pd_diag_add(diags, PD_RULE_SUGGEST, PD_NOTE, plan->strategy.loc.line, 0,
	            "suggest evaluated %llu strategies and pruned %llu: %s",
	            (unsigned long long)res->evaluated, (unsigned long long)res->pruned,
	            res->pruned_why);
}

pd_status pd_search(const pd_plan *plan, const pd_search_options *opt,
                    pd_search_result *res, pd_diag_list *diags)
{
	double t0 = pd_i_now_s();
	pd_search_options o = *opt;
	pd_i_space sp = {0};
	bool pooled = pd_plan_is_pooled(plan);
	pd_status s =
	    pooled ? pd_i_search_pools(plan, &o, res) : pd_i_search_core(plan, &o, res, &sp);
	if (s == PD_OK && !pooled && sp.min_replica > sp.max_gpus)
		cannot_fit(plan, &sp, diags);
	if (s == PD_OK)
		note_pruned(plan, res, diags);
	double t1 = pd_i_now_s(), ranked = res->phases.rank_s;
	if (s == PD_OK && res->n_candidates > 0)
		s = pd_i_refine(plan, &o, res, diags);
	double t2 = pd_i_now_s();
	res->phases.refine_s = t2 - t1 - (res->phases.rank_s - ranked);
	if (s == PD_OK && !res->reachable && res->n_candidates > 0)
		s = pooled ? pd_i_unreachable_pools(plan, res) : pd_i_unreachable(plan, &o, res);
	pd_i_space_release(&sp);
	res->phases.unreachable_s = pd_i_now_s() - t2;
	res->seconds = pd_i_now_s() - t0;
	return s;
}
