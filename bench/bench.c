/* bench.c - plandag-bench: the driver.
 *
 * plandag-bench [options] [PLAN.xml ...]   (default: bench/plans/{small,medium,large}.xml)
 *
 * Every plan is measured in a child process of its own (this program run again with
 * --child) so that the peak RSS it reports belongs to that plan alone.  The children
 * append their targets to a results file; the driver prints them together at the end.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PD_BENCH_PLANS
#define PD_BENCH_PLANS "bench/plans"
#endif
#ifndef PD_BENCH_TMP
#define PD_BENCH_TMP "/tmp"
#endif

extern char **environ;

static const char usage_text[] =
    "usage: plandag-bench [options] [PLAN.xml ...]\n"
    "Measures parse+validate, lower, check, DOT, GraphML and PNG export on each plan\n"
    "(default: " PD_BENCH_PLANS "/{small,medium,large}.xml) and compares acyclicity and\n"
    "GraphML writing with igraph on the same DAG.\n"
    "  --runs N               repeat each stage at most N times (default 5)\n"
    "  --budget S             start no new repetition after S seconds (default 20)\n"
    "  --dot-max-elements N   skip DOT through cgraph above N nodes+edges (default "
    "2000000)\n"
    "  --no-igraph-attrs      write igraph's GraphML without attributes\n"
    "  --tmp DIR              where outputs are written and removed (default " PD_BENCH_TMP
    ")\n"
    "  --suggest [PLAN.xml]   time the suggest search instead, 1 thread vs every core\n"
    "                         (default " PD_BENCH_PLANS "/suggest-deepseek-v3-1024.xml)\n";

/* Parses the options; plans are the remaining arguments from *first on. */
static int parse_args(int argc, char **argv, bench_opts *o, int *child, int *first)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--child") == 0)
			*child = 1;
		else if (strcmp(a, "--suggest") == 0)
			o->suggest = 1;
		else if (strcmp(a, "--no-igraph-attrs") == 0)
			o->igraph_attrs = 0;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return fputs(usage_text, stdout), 0;
		else if (!v)
			return fprintf(stderr, "plandag-bench: %s needs a value\n%s", a, usage_text), 2;
		else if (strcmp(a, "--runs") == 0)
			o->rep.max_runs = atoi(v), i++;
		else if (strcmp(a, "--budget") == 0)
			o->rep.budget_s = atof(v), i++;
		else if (strcmp(a, "--dot-max-elements") == 0)
			o->dot_max_elements = strtoull(v, NULL, 10), i++;
		else if (strcmp(a, "--tmp") == 0)
			o->tmp_root = v, i++;
		else if (strcmp(a, "--results") == 0)
			o->results = v, i++;
		else
			return fprintf(stderr, "plandag-bench: unknown option %s\n%s", a, usage_text),
			       2;
	}
	*first = i;
	return -1;
}

/* "bench/plans/medium.xml" -> "medium" */
static void plan_label(const char *path, char *buf, size_t size)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	snprintf(buf, size, "%s", base);
	char *dot = strrchr(buf, '.');
	if (dot)
		*dot = '\0';
}

/* Runs this program again on one plan with the same options plus --child. */
static int spawn_child(int argc, char **argv, int first, const char *plan,
                       const char *results)
{
	char *args[64];
	int n = 0;
	args[n++] = argv[0];
	for (int i = 1; i < first && n < 56; i++)
		args[n++] = argv[i];
	args[n++] = "--child";
	args[n++] = "--results";
	args[n++] = (char *)results;
	args[n++] = (char *)plan;
	args[n] = NULL;
	(void)argc;
	fflush(stdout);
	pid_t pid;
	if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ) != 0)
		return fprintf(stderr, "plandag-bench: cannot run itself: %s\n", strerror(errno)),
		       3;
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return fprintf(stderr, "plandag-bench: %s: measurement crashed\n", plan), 3;
	return WEXITSTATUS(st);
}

static void print_results(const char *results)
{
	FILE *f = fopen(results, "r");
	if (!f)
		return;
	printf("\n== targets ==\n%-8s %-44s %-28s %-12s %s\n", "plan", "target", "measured",
	       "goal", "");
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		char *fld[5] = {0}, *save = NULL, *s = line;
		line[strcspn(line, "\n")] = '\0';
		for (int k = 0; k < 5; k++, s = NULL)
			fld[k] = strtok_r(s, "|", &save);
		if (fld[4])
			printf("%-8s %-44s %-28s %-12s %s\n", fld[0], fld[1], fld[2], fld[3], fld[4]);
	}
	fclose(f);
}

static int drive(int argc, char **argv, const bench_opts *o, int first)
{
	static const char *defaults[] = {PD_BENCH_PLANS "/small.xml",
	                                 PD_BENCH_PLANS "/medium.xml",
	                                 PD_BENCH_PLANS "/large.xml"};
	int n = argc - first;
	const char **plans = n > 0 ? (const char **)argv + first : defaults;
	if (n == 0)
		n = 3;
	char results[4096];
	snprintf(results, sizeof(results), "%s/plandag-bench-results.%ld", o->tmp_root,
	         (long)getpid());
	FILE *f = fopen(results, "w");
	if (!f)
		return fprintf(stderr, "plandag-bench: cannot write %s\n", results), 3;
	fclose(f);
	printf("plandag-bench: plandag %s, %s\n", PLANDAG_VERSION, bench_igraph_version());
	int rc = 0;
	for (int i = 0; i < n; i++) {
		int c = spawn_child(argc, argv, first, plans[i], results);
		rc = c > rc ? c : rc;
	}
	print_results(results);
	unlink(results);
	return rc;
}

int main(int argc, char **argv)
{
	bench_opts o = {.rep = {5, 20.0},
	                .dot_max_elements = 2000000,
	                .igraph_attrs = 1,
	                .tmp_root = PD_BENCH_TMP};
	int child = 0, first = argc;
	int rc = parse_args(argc, argv, &o, &child, &first);
	if (rc >= 0)
		return rc;
	if (mkdir(o.tmp_root, 0777) != 0 && errno != EEXIST)
		return fprintf(stderr, "plandag-bench: cannot create %s\n", o.tmp_root), 3;
	if (o.suggest)
		return bench_suggest(&o, first < argc ? argv[first]
		                                      : PD_BENCH_PLANS "/suggest-deepseek-v3-1024.xml");
	if (!child)
		return drive(argc, argv, &o, first);
	if (first != argc - 1)
		return fprintf(stderr, "plandag-bench: --child takes one plan\n"), 2;
	char label[256];
	plan_label(argv[first], label, sizeof(label));
	return bench_plan(&o, argv[first], label);
}
