/* bench_suggest.c - plandag-bench --suggest: the strategy search of `plandag suggest`
 * (pd_search, the best K lowered and scheduled included) on one plan, with one worker
 * and with every online core in the same run: strategies evaluated per second, the
 * whole search time and the speed-up. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct suggest_run {
	const pd_plan *plan;
	int threads;
	uint64_t evaluated;
	uint32_t candidates;
} suggest_run;

static int one_search(void *ctx)
{
	suggest_run *s = ctx;
	pd_search_options o = {.objective = PD_OBJECTIVE_GPUS, .threads = s->threads};
	pd_search_result r;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_status st = pd_search(s->plan, &o, &r, &dl);
	s->evaluated = r.evaluated;
	s->candidates = r.n_candidates;
	pd_search_result_release(&r);
	pd_diag_list_release(&dl);
	return st == PD_OK ? 0 : 1;
}

static void row(const char *label, const suggest_run *s, const bench_timing *t)
{
	printf("  %-18s %7llu strategies %6u candidates  best %6.3f s  median %6.3f s  "
	       "cpu %6.3f s  %7.0f strategies/s\n",
	       label, (unsigned long long)s->evaluated, s->candidates, t->best, t->median,
	       t->cpu_best, t->best > 0 ? (double)s->evaluated / t->best : 0);
}

int bench_suggest(const bench_opts *o, const char *path)
{
	pd_plan *plan = NULL;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	if (pd_plan_parse_file(path, &plan, &dl) != PD_OK ||
	    pd_plan_expand(plan, &dl) != PD_OK) {
		pd_diag_list_print(stderr, path, &dl);
		pd_diag_list_release(&dl);
		pd_plan_destroy(plan);
		return 1;
	}
	pd_diag_list_release(&dl);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	suggest_run one = {.plan = plan, .threads = 1};
	suggest_run all = {.plan = plan, .threads = (int)(cores > 0 ? cores : 1)};
	bench_timing t1, tn;
	bench_run(one_search, NULL, &one, &o->rep, &t1);
	bench_run(one_search, NULL, &all, &o->rep, &tn);
	printf("== suggest: %s (%lld GPUs) ==\n", plan->name,
	       (long long)pd_cluster_gpus(&plan->cluster));
	row("1 thread", &one, &t1);
	char label[32];
	snprintf(label, sizeof(label), "%d threads (all)", all.threads);
	row(label, &all, &tn);
	printf("  speed-up %.2fx with %d threads; same strategies: %s\n",
	       tn.best > 0 ? t1.best / tn.best : 0, all.threads,
	       one.evaluated == all.evaluated && one.candidates == all.candidates ? "yes"
	                                                                          : "NO");
	pd_plan_destroy(plan);
	return t1.failed || tn.failed;
}
