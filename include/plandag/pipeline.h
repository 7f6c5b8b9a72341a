/* pipeline.h - the driver: parse -> expand -> validate -> lower -> check.
 *
 * One pd_compilation holds everything a command needs to print or export.
 */
#ifndef PLANDAG_PIPELINE_H
#define PLANDAG_PIPELINE_H

#include "plandag/analysis.h"
#include "plandag/dag.h"
#include "plandag/plan.h"

typedef enum pd_stage_id {
	PD_STAGE_NONE,
	PD_STAGE_PARSE, /* the plan was read and passed the schema */
	PD_STAGE_EXPAND,
	PD_STAGE_VALIDATE, /* rules ran (analysis filled) */
	PD_STAGE_LOWER,    /* dag built */
	PD_STAGE_CHECK,    /* dag checked, critical path known */
} pd_stage_id;

struct pd_compilation;

typedef struct pd_compile_options {
	int lower;             /* lower and check the DAG when the plan is valid */
	uint64_t max_elements; /* refuse to lower above this many nodes+edges
	                        * (0 = PD_DEFAULT_MAX_ELEMENTS) */
	/* Called before each step after validation ("lowering", "checking", "critical
	 * path") with the DAG's nodes + edges, so that a caller can show progress on
	 * large plans; NULL = nothing is called. */
	void (*progress)(void *arg, const char *step, uint64_t elements);
	void *progress_arg;
	/* Called just before lowering (est_nodes/est_edges set); a status other than PD_OK
	 * stops the pipeline with it (e.g. a picture refused before any work).  May be
	 * NULL. */
	pd_status (*before_lower)(struct pd_compilation *c, void *ctx);
	void *before_lower_ctx;
} pd_compile_options;

/* About 2 GB of IR at ~40 bytes per element. */
#define PD_DEFAULT_MAX_ELEMENTS 50000000ull
/* `plandag check` lowers only DAGs up to this size (a few milliseconds); larger plans
 * are judged on the analytic throughput estimate so that check stays interactive. */
#define PD_CHECK_MAX_ELEMENTS 100000ull

typedef struct pd_compilation {
	const char *path;
	pd_plan *plan;        /* NULL when the file could not be parsed */
	pd_analysis analysis; /* valid when reached >= PD_STAGE_VALIDATE */
	pd_diag_list diags;
	pd_dag *dag;                   /* valid when reached >= PD_STAGE_LOWER */
	pd_dag_stats stats;            /* valid when reached >= PD_STAGE_LOWER */
	pd_critical_path cp;           /* valid when reached == PD_STAGE_CHECK */
	uint64_t est_nodes, est_edges; /* size the lowering would have */
	bool over_limit;               /* not lowered because of max_elements */
	pd_stage_id reached;
	pd_status status; /* PD_OK, PD_INVALID or PD_IO */
} pd_compilation;

/* Runs the pipeline on PATH as far as the plan allows.  Never stops at the first error:
 * every rule runs; lowering happens only for a plan without errors.  Returns c->status.
 * Release c with pd_compilation_release() whatever the result. */
pd_status pd_compile_file(const char *path, const pd_compile_options *opt,
                          pd_compilation *c);
/* The same on a plan held in memory (len bytes of buf; name as messages call it):
 * `suggest` compiles the plans it writes before writing them. */
pd_status pd_compile_memory(const char *buf, size_t len, const char *name,
                            const pd_compile_options *opt, pd_compilation *c);
/* The same on a plan already parsed (not yet expanded); c takes plan over. */
pd_status pd_compile_plan(pd_plan *plan, const pd_compile_options *opt, pd_compilation *c);
void pd_compilation_release(pd_compilation *c);

/* Prints the compile summary (nodes and edges by kind, GPUs, hubs, critical path,
 * throughput) to f. */
void pd_compilation_print_summary(const pd_compilation *c, FILE *f);

#endif
