/* report_i.h - inside the report: report.c calls the writers (pd_i_report_md, _json),
 * which call the shared helpers of report_common.c; nothing calls back up. */
#ifndef PLANDAG_REPORT_I_H
#define PLANDAG_REPORT_I_H

#include <stdbool.h>
#include <stdio.h>

#include "plandag/report.h"

/* Memory tables above this many rows are grouped / streamed. */
#define PD_I_REPORT_BIG 4096
/* Markdown memory table: at most this many (grouped) rows are printed. */
#define PD_I_REPORT_MD_ROWS 64
/* The hierarchy tree is cut after this many lines. */
#define PD_I_REPORT_TREE_LINES 200
/* Most assumptions a plan can carry (one per PD_ASSUMED_* bit). */
#define PD_I_REPORT_MAX_ASSUMED 24

/* ---- shared helpers (report_common.c) ---- */
/* "valid" or "invalid" */
const char *pd_i_report_verdict(const pd_compilation *c);
/* "parse", "expand", ... or "none" */
const char *pd_i_report_stage_name(pd_stage_id s);
/* "analytic", "schedule" or NULL when no estimate was made */
const char *pd_i_report_source_name(pd_throughput_source s);
/* True when the analysis can be printed (the rules ran). */
bool pd_i_report_has_analysis(const pd_compilation *c);

/* True when every replica has the same number of stages and every stage the same
 * size; *dp, *pp, *size receive the numbers. */
bool pd_i_report_uniform(const pd_plan *p, int64_t *dp, int64_t *pp, int64_t *size);
/* "16 + 16 = 32" style sum of the structural count, at most `size` bytes; long sums are
 * abbreviated.  Returns buf. */
char *pd_i_report_gpu_sum(const pd_plan *p, char *buf, size_t size);
/* "DP x TP x PP x EP x SP = 1 x 1 x 1 x 16 x 1 = 16" */
void pd_i_report_product(const pd_analysis *an, char *buf, size_t size);

/* The expanded hierarchy printed by pd_plan_print_tree, cut after
 * PD_I_REPORT_TREE_LINES lines; malloc'd, NULL on failure. */
char *pd_i_report_tree(const pd_plan *p);

/* The arithmetic behind a diagnostic, when its rule has numbers in the analysis
 * ("needs 80.1 GB of 68.7 GB (117 %)"); false when there is nothing to add. */
bool pd_i_report_impact(const pd_compilation *c, const pd_diag *d, char *buf, size_t size);

/* Longest assumption text, with its NUL. */
#define PD_I_REPORT_LINE 128
/* Human texts of the defaults that were assumed into out[0..]; returns how many
 * (<= max).  The cluster's come from the defaults table (src/plan/defaults.c). */
size_t pd_i_report_assumptions(const pd_plan *p, char (*out)[PD_I_REPORT_LINE], size_t max);

/* True when m's GPU id is not one of the cluster's (a gpu-range error). */
bool pd_i_report_gpu_outside(const pd_analysis *an, const pd_gpu_memory *m);
/* Index one past the last row of the run of rows identical to row i (same stage,
 * experts and memory figures). */
uint32_t pd_i_report_memory_run(const pd_analysis *an, uint32_t i);
/* "GPU 3", "GPUs 0-255", "GPUs 0-7,16-23" (abbreviated with "..." when long). */
void pd_i_report_gpu_list(const pd_analysis *an, uint32_t first, uint32_t end, char *buf,
                          size_t size);

/* "12.5 %" with `decimals` digits, "n/a" when not finite (0 % when whole <= 0). */
const char *pd_i_report_percent(double part, double whole, int decimals, char *buf,
                                size_t size);

/* ---- where the step goes (report_time.c) ---- */
enum { /* the phases of a layer (and around it) the step is split by */
	   PD_I_PHASE_ATTENTION,
	   PD_I_PHASE_FFN,
	   PD_I_PHASE_TP,
	   PD_I_PHASE_EP,
	   PD_I_PHASE_PP,
	   PD_I_PHASE_OTHER,
	   PD_I_PHASES
};
enum { PD_I_T_COMPUTE, PD_I_T_MEMORY, PD_I_T_EXPOSED, PD_I_T_HIDDEN, PD_I_T__COUNT };
typedef struct pd_i_report_time {
	bool has;                /* a checked DAG was scheduled */
	pd_time_breakdown total; /* on the GPU where the step ends */
	double makespan_us;
	double phase[PD_I_PHASES][PD_I_T__COUNT]; /* us; each column sums to total's */
} pd_i_report_time;
/* "attention", "MoE / FFN", ...; NULL out of range. */
const char *pd_i_report_phase_name(int phase);
/* Schedules c's DAG (when checked) and splits the breakdown by phase; t->has = false
 * without a DAG.  PD_IO when out of memory. */
pd_status pd_i_report_time_compute(const pd_compilation *c, pd_i_report_time *t);
/* Tokens per second per GPU the plan uses; false when not estimated. */
bool pd_i_report_tokens_per_gpu(const pd_compilation *c, double *out);
/* The step in ms as TTFT (prefill plans) or TPOT (decode plans): *ttft or *tpot gets
 * it and its has_ flag; a pooled plan has both (prefill step + hand-over, decode step).
 * False when the step was not estimated. */
bool pd_i_report_latency(const pd_compilation *c, double *ttft, bool *has_ttft,
                         double *tpot, bool *has_tpot);

/* ---- pooled plans (report_common.c, docs/pools.md) ---- */
/* One pool of a pooled plan as the report prints it. */
typedef struct pd_i_report_pool {
	const char *phase; /* "prefill" or "decode" */
	int64_t gpus, replicas, batch;
	int64_t context; /* the tokens per sequence its memory and time use */
	bool has_step;   /* the step was estimated */
	double step_us;
	double tokens_per_s_per_gpu; /* prefill: prompt tokens; decode: generated tokens */
	double peak_memory_fraction; /* the fullest GPU of the pool: total / capacity */
	double sequences_per_s;      /* prefill: supplied; decode: served */
} pd_i_report_pool;
/* Fills *out for pool p of c's pooled plan (c has the analysis). */
void pd_i_report_pool_row(const pd_compilation *c, uint32_t p, pd_i_report_pool *out);
/* The link of the hand-over: "network" (scale-out) or "nvlink". */
const char *pd_i_report_handover_link(const pd_analysis *an);

/* ---- the writers (report_md.c, report_json.c), called by report.c only ---- */
pd_status pd_i_report_md(FILE *f, const pd_compilation *c, const char *picture,
                         const char *caption);
pd_status pd_i_report_json(FILE *f, const pd_compilation *c);

/* report_suggest_json.c: the JSON of `plandag suggest` (pd_suggest_report_write). */
pd_status pd_i_suggest_json(FILE *f, const pd_suggest_report *r);

#endif
