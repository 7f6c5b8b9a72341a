/* search.h - `plandag suggest`: search the strategy space of a plan and write the
 * corrected plan (docs/suggest.md).
 *
 * The search keeps the plan's model, cluster and workload and varies only the strategy:
 * replicas, pipeline stages (balanced layer splits), attention TP, SP, dense TP, EP,
 * redundant experts, micro-batches and two-batch overlap; a stage has max(TP, EP) GPUs.
 * Every candidate is a real plan: it goes through pd_plan_expand and pd_plan_validate
 * (the rules of `check`) and the cost module of `compile`; the best ones are lowered and
 * scheduled and their figures replace the estimate.
 */
#ifndef PLANDAG_SEARCH_H
#define PLANDAG_SEARCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "plandag/analysis.h"
#include "plandag/diag.h"
#include "plandag/plan.h"

typedef enum pd_objective {
	PD_OBJECTIVE_GPUS,       /* fewest GPUs meeting every target, then throughput */
	PD_OBJECTIVE_THROUGHPUT, /* most tokens/ms of the whole deployment */
	PD_OBJECTIVE_PER_GPU,    /* most tokens/s per GPU */
	PD_OBJECTIVE_LATENCY,    /* shortest step (TTFT in prefill, TPOT in decode) */
} pd_objective;

/* "gpus", "throughput", "per-gpu", "latency"; from_name gives -1 for an unknown word. */
const char *pd_objective_name(pd_objective o);
int pd_objective_from_name(const char *s);

/* One strategy: the JSON `strategy` object of docs/suggest.md member by member.  Every
 * replica is the same; stage i of pp takes layers split as evenly as possible (earlier
 * stages take the remainder); each stage has max(tp, ep) GPUs. */
typedef struct pd_choice {
	int64_t dp, pp, tp;
	bool sp;
	int64_t dense_tp; /* TP of dense FFN layers; = tp when the plan needs no <dense-ffn> */
	int64_t ep;       /* 1 for a dense model */
	int64_t redundant;
	int64_t micro_batches;
	bool two_batch; /* overlap="two-batch" */
} pd_choice;

/* GPUs the strategy uses: dp * pp * max(tp, ep). */
int64_t pd_choice_gpus(const pd_choice *c);
/* "DP 1 x PP 1 x TP 1, EP 16" style one-line description into buf; returns buf. */
const char *pd_choice_describe(const pd_choice *c, char *buf, size_t size);

/* One strategy that passed every rule, with its figures (NAN where a phase is absent). */
typedef struct pd_candidate {
	pd_choice choice;
	int64_t gpus;
	double tokens_per_ms;        /* whole deployment */
	double tokens_per_s_per_gpu;
	double step_latency_us;
	double ttft_ms, tpot_ms;     /* NAN when the phase is absent */
	double peak_memory_fraction; /* the fullest GPU: total / capacity */
	bool meets_targets;          /* every target of the workload (none given: true) */
	double reach; /* the hardest target's achieved fraction: tokens/ms over its target,
	               * target over TTFT or TPOT (>= 1 when met, 1 without targets); when no
	               * candidate meets every target, the best is the one reaching furthest */
	bool scheduled; /* figures from the lowered, scheduled DAG (else the estimate) */
	/* A pooled plan (docs/suggest.md): choice is the decode pool's strategy and prefill
	 * the prefill pool's, each with dp = its pool's replicas; ttft_ms and tpot_ms are
	 * both set.  prefill.dp = 0 for a plan without pools. */
	pd_choice prefill;
} pd_candidate;

/* The candidate's strategy in one short string into buf (a pooled one names both pools:
 * "prefill ...; decode ..."); returns buf. */
const char *pd_candidate_describe(const pd_candidate *k, char *buf, size_t size);

typedef struct pd_search_options {
	pd_objective objective;
	int64_t max_gpus; /* 0 = the cluster's GPUs */
	int top_k;        /* candidates lowered and scheduled for real; 0 = default */
	int threads;      /* 0 = every online core */
	double budget_s;  /* time budget before pruning harder; 0 = default */
	/* The plan's file as read (text_len bytes), or NULL.  Given, the best top_k are
	 * written with pd_search_plan_xml, parsed back and compiled, so that their figures
	 * are those `plandag compile` gives the written plan; NULL: the plans built in
	 * memory are compiled (the same structure). */
	const char *text;
	size_t text_len;
} pd_search_options;

/* Wall seconds of each phase of one pd_search (bench/README.md prints them): together
 * they make up nearly all of pd_search_result.seconds. */
typedef struct pd_search_phases {
	double space_s;    /* the shapes to try enumerated and pruned (space.c) */
	double evaluate_s; /* every shape expanded and validated on the workers, merged */
	double rank_s;     /* every ranking and frontier, those after each refine round too */
	double refine_s;   /* the best K and frontier points compiled (lowered, checked,
	                    * scheduled), their ranking aside */
	double unreachable_s; /* the searches on larger clusters for an unreachable target */
} pd_search_phases;

typedef struct pd_search_result {
	pd_candidate *candidates; /* every strategy that passed the rules */
	uint32_t n_candidates;
	uint32_t *frontier; /* indices into candidates: the Pareto frontier (GPUs, tokens/s
	                     * per GPU), in ascending GPUs */
	uint32_t n_frontier;
	int64_t best;         /* index into candidates, -1 when there is none */
	bool reachable;       /* best meets every target */
	uint64_t evaluated;   /* strategies tried, rule-breakers included */
	uint64_t pruned;      /* strategies skipped without evaluation (memory lower bound,
	                       * budget) */
	const char *pruned_why; /* what was pruned, for the output; NULL when nothing */
	double seconds;         /* wall time of the search */
	/* Where that time went (a pooled plan: both pools' searches summed). */
	pd_search_phases phases;
	int64_t gpus_needed;    /* unreachable target: GPUs of this kind it would take
	                         * (-1 when it cannot be said) */
} pd_search_result;

/* Searches the strategies of an expanded plan (whatever its strategy says, valid or
 * not; a pooled plan gets both pools sized, its candidates' prefill set).  On PD_OK *res is filled (release with pd_search_result_release).  Diagnostics
 * say why nothing can fit (the memory arithmetic) or what was pruned.  Returns PD_IO when
 * out of memory. */
pd_status pd_search(const pd_plan *plan, const pd_search_options *opt, pd_search_result *res,
                    pd_diag_list *diags);
void pd_search_result_release(pd_search_result *res);

/* Why the best candidate under objective o was suggested, one line for the comments of
 * the suggested plan ("the fewest GPUs that meet every target, then ..."). */
const char *pd_search_why(pd_objective o);

/* The suggested plan as text: the original plan file (orig, len bytes) with its
 * <workload> and <strategy> elements rewritten for choice c (every other element, comment
 * and attribute kept), a comment on every changed element saying what changed and why
 * (why: one line from the search, e.g. "the fewest GPUs that meet every target").  The
 * text parses, expands and validates to exactly the strategy c.  Returns a malloc'd,
 * NUL-terminated string the caller frees (*out_len its length), NULL when out of memory
 * or when orig is not a plan. */
char *pd_search_plan_xml(const pd_plan *plan, const char *orig, size_t len, const pd_choice *c,
                         const char *why, size_t *out_len);

/* The suggested plan of a pooled plan (two <pool> elements): the original file with its
 * <strategy> rewritten, a prefill pool of prefill->dp replicas of that strategy and a
 * decode pool of decode->dp replicas, each pool keeping its batch (micro-batches from
 * its choice), a comment before it saying what changed and why.  The workload is kept
 * (its overlap must be that of both choices).  NULL when out of memory, when orig is not
 * a plan or when plan has no pools. */
char *pd_search_pooled_plan_xml(const pd_plan *plan, const char *orig, size_t len,
                                const pd_choice *prefill, const pd_choice *decode,
                                const char *why, size_t *out_len);

/* A unified diff (`diff -u` format, 3 lines of context) from text a to text b, labelled
 * a_name and b_name, written to f.  Returns the number of changed hunks (0: identical),
 * -1 on a write error or when out of memory. */
int pd_text_unified_diff(const char *a, size_t a_len, const char *b, size_t b_len,
                         const char *a_name, const char *b_name, FILE *f);

/* The Pareto chart: a PNG scatter of every candidate (GPUs against tokens/s per GPU), the
 * frontier joined, the winner marked, axes with units and a legend, drawn with cairo and
 * written atomically to path.  title names the plan.  Returns PD_OK, PD_IO on a write
 * error or out of memory (with an `io` diagnostic). */
pd_status pd_search_pareto_png(const pd_search_result *res, const char *title,
                               const char *path, pd_diag_list *diags);

#endif
