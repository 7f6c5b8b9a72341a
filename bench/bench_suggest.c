/* bench_suggest.c - plandag-bench --suggest: the strategy search of `plandag suggest`
 * (pd_search, the best K lowered and scheduled included) on one plan, with one worker
 * and with every online core in the same run: strategies evaluated per second, the
 * whole search time, each phase (pd_search_result.phases) and the ratios, next to the
 * cores the machine lends at that moment (pure arithmetic on 1 and on every thread) and
 * its load average. */
#include "bench.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct suggest_run {
	const pd_plan *plan;
	int threads;
	uint64_t evaluated;
	uint32_t candidates;
	double seconds;          /* pd_search's own time of its fastest run */
	pd_search_phases phases; /* of that run */
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
	if (s->seconds == 0 || r.seconds < s->seconds) {
		s->seconds = r.seconds;
		s->phases = r.phases;
	}
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

#define PHASE_MIN_S 0.001 /* below this in both runs a ratio says nothing: "-" */

static void phase(const char *name, double one, double all)
{
	printf("    %-22s %8.3f s %8.3f s  ", name, one, all);
	if (all > 0 && (one >= PHASE_MIN_S || all >= PHASE_MIN_S))
		printf("%5.2fx\n", one / all);
	else
		printf("    -\n");
}

/* Each phase of the fastest run of each, side by side, and the ratio. */
static void phases(const suggest_run *one, const suggest_run *all)
{
	const pd_search_phases *a = &one->phases, *b = &all->phases;
	printf("  phases (fastest run)     1 thread %2d threads  ratio\n", all->threads);
	phase("space", a->space_s, b->space_s);
	phase("evaluate (workers)", a->evaluate_s, b->evaluate_s);
	phase("rank + frontier", a->rank_s, b->rank_s);
	phase("refine (compile K)", a->refine_s, b->refine_s);
	phase("unreachable", a->unreachable_s, b->unreachable_s);
	double ra = a->space_s + a->evaluate_s + a->rank_s + a->refine_s + a->unreachable_s;
	double rb = b->space_s + b->evaluate_s + b->rank_s + b->refine_s + b->unreachable_s;
	phase("other", one->seconds - ra, all->seconds - rb);
	phase("whole search", one->seconds, all->seconds);
	printf("  evaluation phase: %.0f vs %.0f strategies/s\n",
	       a->evaluate_s > 0 ? (double)one->evaluated / a->evaluate_s : 0,
	       b->evaluate_s > 0 ? (double)all->evaluated / b->evaluate_s : 0);
}

#define SPIN_ROUNDS 40000000u /* about 50 ms of one core */
#define MAX_SPIN_THREADS 64

static volatile uint64_t spin_sink; /* the results are read, so the loops stay */

/* A fixed amount of arithmetic that touches no memory (the result kept in *arg). */
static void *spin(void *arg)
{
	uint64_t x = 88172645463325252ull;
	for (uint32_t i = 0; i < SPIN_ROUNDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	*(uint64_t *)arg = x;
	return NULL;
}

/* Wall seconds of n threads each spinning once. */
static double spin_wall(int n)
{
	pthread_t th[MAX_SPIN_THREADS];
	uint64_t out[MAX_SPIN_THREADS];
	bool started[MAX_SPIN_THREADS] = {false};
	double t0 = bench_now();
	for (int t = 1; t < n; t++)
		started[t] = pthread_create(&th[t], NULL, spin, &out[t]) == 0;
	spin(&out[0]);
	for (int t = 1; t < n; t++)
		if (started[t])
			pthread_join(th[t], NULL);
	double dt = bench_now() - t0;
	for (int t = 0; t < n; t++)
		spin_sink += t == 0 || started[t] ? out[t] : 0;
	return dt;
}

/* The cores the machine lends right now: n threads of the same pure arithmetic against
 * one (n when nothing else runs; about 1 when another process holds the other cores). */
static void cores_lent(int n)
{
	if (n > MAX_SPIN_THREADS)
		n = MAX_SPIN_THREADS;
	double one = spin_wall(1), all = spin_wall(n);
	printf("  cores lent: %d threads of pure arithmetic did %.2fx the work of one "
	       "(%.3f s vs %.3f s)\n",
	       n, all > 0 ? n * one / all : 0, all, one);
}

/* The load of the machine, as /proc/loadavg gives it ("?" where there is none). */
static void load(void)
{
	char buf[128] = "?";
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			snprintf(buf, sizeof(buf), "?\n");
		fclose(f);
	}
	printf("  load average (/proc/loadavg) %s", buf);
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
	phases(&one, &all);
	cores_lent(all.threads);
	printf("  online cores %ld;", cores);
	load();
	pd_plan_destroy(plan);
	return t1.failed || tn.failed;
}
