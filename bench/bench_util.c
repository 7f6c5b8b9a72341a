/* bench_util.c - what every part of plandag-bench shares: clocks, repetition, RSS and
 * file sizes (declared in bench.h).  The driver (bench.c) sits on top of bench_plan.c
 * and bench_igraph.c; all three call down into this file. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_peak_rss(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_maxrss * 1024.0; /* kilobytes on Linux */
}

int bench_reset_peak_rss(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	if (!f)
		return -1;
	int err = fputs("5", f) < 0;
	return (fclose(f) != 0 || err) ? -1 : 0;
}

double bench_file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (double)st.st_size : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void bench_run(bench_fn fn, bench_fn reset, void *ctx, const bench_repeat *rep,
               bench_timing *t)
{
	double samples[64], spent = 0;
	int max = rep->max_runs < 1 ? 1 : rep->max_runs > 64 ? 64 : rep->max_runs;
	memset(t, 0, sizeof(*t));
	while (t->runs < max && (t->runs == 0 || spent < rep->budget_s)) {
		if (reset)
			reset(ctx);
		double t0 = bench_now(), c0 = bench_cpu();
		int rc = fn(ctx);
		double dt = bench_now() - t0, dc = bench_cpu() - c0;
		if (rc != 0) {
			t->failed = 1;
			break;
		}
		if (t->runs == 0 || dc < t->cpu_best)
			t->cpu_best = dc;
		samples[t->runs++] = dt;
		spent += dt;
	}
	if (t->runs == 0)
		return;
	qsort(samples, (size_t)t->runs, sizeof(double), cmp_double);
	t->best = samples[0];
	t->median = t->runs % 2 ? samples[t->runs / 2]
	                        : (samples[t->runs / 2 - 1] + samples[t->runs / 2]) / 2;
}
