/* bench.h - shared pieces of plandag-bench: timing, repetition, the igraph comparison. */
#ifndef PLANDAG_BENCH_H
#define PLANDAG_BENCH_H

#include <stdint.h>

#include "plandag/plandag.h"

/* Best and median wall time of a repeated stage, in seconds; runs = 0 when the stage
 * did not run (skipped or failed). */
typedef struct bench_timing {
	double best, median;
	double cpu_best; /* least process CPU time of a run (other load aside) */
	int runs;
	int failed; /* the stage returned an error */
} bench_timing;

/* How often a stage is repeated: at most max_runs times, and no new run is started
 * once budget_s seconds were spent (a stage always runs once). */
typedef struct bench_repeat {
	int max_runs;
	double budget_s;
} bench_repeat;

/* Command-line options shared by the driver and the per-plan measurement. */
typedef struct bench_opts {
	bench_repeat rep;
	uint64_t dot_max_elements; /* DOT through cgraph is skipped above this */
	int igraph_attrs;          /* set attributes before igraph's GraphML writer */
	const char *tmp_root;      /* outputs go to a fresh directory under it */
	const char *results;       /* targets are appended here (one line each) */
	int suggest;               /* --suggest: time the strategy search instead */
} bench_opts;

/* Measures one plan and prints its table; label is "small", "medium", "large" or the
 * file's base name and selects which targets apply.  Returns 0 when every stage ran. */
int bench_plan(const bench_opts *o, const char *path, const char *label);
/* plandag-bench --suggest: pd_search on one plan with 1 thread and with every core
 * (bench_suggest.c); prints strategies/s, the search time and the speed-up. */
int bench_suggest(const bench_opts *o, const char *path);

/* ---- bench_util.c ---- */

/* One run of a stage; returns 0 on success.  ctx is the stage's own state. */
typedef int (*bench_fn)(void *ctx);

/* Monotonic clock in seconds. */
double bench_now(void);
/* CPU time of this process in seconds. */
double bench_cpu(void);
/* Runs fn as bench_repeat says and fills *t; reset (may be NULL) runs before every run,
 * outside the timed region, to free what the previous run made: what the last run made
 * is left to the caller. */
void bench_run(bench_fn fn, bench_fn reset, void *ctx, const bench_repeat *rep,
               bench_timing *t);
/* Peak resident set size of this process so far, bytes (getrusage ru_maxrss). */
double bench_peak_rss(void);
/* Resets the peak to the current RSS (Linux: "5" into /proc/self/clear_refs); 0 on
 * success. */
int bench_reset_peak_rss(void);
/* Size of a file in bytes, 0 when it does not exist. */
double bench_file_size(const char *path);

/* What the igraph comparison measured on one DAG. */
typedef struct bench_igraph {
	int available;                  /* built with igraph */
	int attrs;                      /* node/edge attributes were set before writing */
	double build_s;                 /* pd_dag -> igraph_t (raw edges), one run */
	bench_timing is_dag_raw;        /* every edge, collective edges member -> hub */
	bench_timing is_dag_contracted; /* members contracted into their hub */
	int raw_is_dag, contracted_is_dag;
	bench_timing graphml; /* igraph_write_graph_graphml + fflush + fsync */
	double graphml_bytes;
} bench_igraph;

/* Compares igraph on the same DAG (see bench_igraph.c); writes its GraphML into tmpdir
 * and removes it afterwards.  Leaves r->available = 0 when built without igraph. */
void bench_igraph_compare(const pd_dag *dag, const char *tmpdir, const bench_repeat *rep,
                          int attrs, bench_igraph *r);
/* What the Chakra trace writers measured on one DAG (bench_chakra.c). */
typedef struct bench_chakra_result {
	double nodes; /* trace nodes: the DAG's minus the hubs */
	int32_t ranks;
	bench_timing buffered;     /* pd_export_chakra: every file */
	bench_timing naive;        /* malloc + pack + fwrite per node: the .et files */
	double bytes, naive_bytes; /* of the .et files */
	double rss_growth;         /* peak RSS during the buffered writer - RSS before */
} bench_chakra_result;

/* Times the Chakra trace writer on the DAG against the naive one; outputs under tmpdir,
 * removed afterwards. */
void bench_chakra(const pd_dag *dag, const pd_cluster *cluster, const char *tmpdir,
                  const bench_repeat *rep, bench_chakra_result *out);

/* "igraph 0.10.2" or the reason it is absent. */
const char *bench_igraph_version(void);

#endif
