/* search_internal.h - the pieces of pd_search (docs/suggest.md), one file each:
 *
 *   space.c      the strategies to try (replica shapes) and what is pruned before trying
 *   candidate.c  one strategy as a real pd_plan (the structure pd_search_plan_xml writes)
 *   evaluate.c   a shape through expand + validate, its figures for the dp that matter
 *   workers.c    the shapes evaluated on every core, merged in a fixed order
 *   rank.c       ranking by objective, the Pareto frontier, unreachable targets
 *   refine.c     the best K written, parsed back, lowered and scheduled like `compile`
 *   search.c     pd_search itself and the small public helpers
 */
#ifndef PLANDAG_SEARCH_INTERNAL_H
#define PLANDAG_SEARCH_INTERNAL_H

#include "plandag/analysis.h"
#include "plandag/search.h"

/* Defaults of pd_search_options. */
#define PD_I_SEARCH_TOP_K 5
#define PD_I_SEARCH_BUDGET_S 3.0
/* Lowering a candidate above this many nodes + edges takes about a second; such a
 * candidate keeps its estimate (scheduled = false). */
#define PD_I_SEARCH_MAX_ELEMENTS 3000000ull
/* The frontier points besides the best K are compiled only when cheap (a few 0.1 s). */
#define PD_I_SEARCH_FRONTIER_ELEMENTS 500000ull

/* The monotonic clock in seconds (the phases of pd_search_result). */
double pd_i_now_s(void);

/* A growable array of candidates (malloc'd). */
typedef struct pd_i_cands {
	pd_candidate *v;
	uint32_t n, cap;
} pd_i_cands;

/* Appends c; false when out of memory. */
bool pd_i_cands_push(pd_i_cands *a, const pd_candidate *c);

/* The space of replica shapes to evaluate (every choice with dp = 1). */
typedef struct pd_i_space {
	pd_choice *shapes;
	uint32_t n;
	int64_t max_gpus;    /* GPUs a candidate may use: cluster or --max-gpus */
	int64_t min_replica; /* GPUs a replica needs at least (memory lower bound) */
	uint64_t pruned;     /* shapes skipped before evaluation */
	char why[512];       /* what was pruned, "" when nothing */
	double floor_bytes;  /* weights + KV cache of one replica, unsharded */
	double usable_bytes; /* per GPU: capacity - reserve */
} pd_i_space;

/* Enumerates the shapes of plan within opt's bounds, pruning memory lower bounds first,
 * then harder while the estimated work exceeds the budget.  PD_IO when out of memory. */
pd_status pd_i_space_build(const pd_plan *plan, const pd_search_options *opt,
                           pd_i_space *sp);
void pd_i_space_release(pd_i_space *sp);

/* The strategy c of plan (model, cluster and workload copied, micro-batches and overlap
 * from c) as a new plan, not yet expanded: one <replica count=dp> of pp stages (balanced
 * layer splits, earlier stages take the remainder) without gpus, each with <attention
 * tp sp>, <moe ep redundant-experts> for a MoE model and <dense-ffn tp> on stages with
 * dense layers when dense_tp differs from tp.  The caller destroys *out.  PD_IO when out
 * of memory. */
pd_status pd_i_search_build_plan(const pd_plan *plan, const pd_choice *c, pd_plan **out);

/* Figures of the plan's current analysis as a candidate of choice c.  The analysis is
 * that of the expanded, validated plan of c (or of c with dp 1 when scale_dp: tokens/ms
 * then multiply by c->dp, per-GPU figures do not change). */
void pd_i_candidate_fill(const pd_plan *cplan, const pd_analysis *an, const pd_choice *c,
                         pd_candidate *out);

/* Whether the plan cplan with analysis an but tokens_per_ms meets every target of its
 * workload: the throughput-target and latency-target rules themselves. */
/* The errors of l that are throughput-target or latency-target (a diagnostic counted but
 * not kept counts in l->errors, so l->errors > this means a rule is broken). */
size_t pd_i_target_errors(const pd_diag_list *l);
bool pd_i_meets_targets(const pd_plan *cplan, const pd_analysis *an, double tokens_per_ms);
/* Whether dp replicas of `gpus` GPUs each sit on node and NVLink-domain boundaries the
 * same way (gpus a multiple or a divisor of both): then their figures are those of one
 * replica, tokens/ms times dp. */
bool pd_i_replicas_aligned(const pd_cluster *cl, int64_t gpus);

/* The same for a pooled candidate k compiled as a pooled plan: the deployment's figures
 * (generated tokens/ms, TTFT, TPOT; the step is the decode step). */
void pd_i_candidate_fill_pooled(const pd_plan *cplan, const pd_analysis *an,
                                const pd_candidate *k, pd_candidate *out);

/* The search of a pooled plan (pools.c): each pool through its view, the best shapes
 * paired, replica counts balanced within pool-balance and the GPUs allowed. */
pd_status pd_i_search_pools(const pd_plan *plan, const pd_search_options *opt,
                            pd_search_result *res);

/* Evaluates one shape (dp = 1) and appends the candidates of the dp that matter: 1, the
 * least meeting the throughput target, the most that fits.  *evaluated counts the plans
 * validated.  PD_IO when out of memory. */
pd_status pd_i_evaluate_shape(const pd_plan *plan, const pd_i_space *sp,
                              const pd_choice *shape, pd_i_cands *out, uint64_t *evaluated);

/* Evaluates every shape on threads workers (0 = online cores); appends to out in the
 * order of sp->shapes whatever the thread count. */
pd_status pd_i_evaluate_all(const pd_plan *plan, const pd_i_space *sp, int threads,
                            pd_i_cands *out, uint64_t *evaluated);

/* Strategies in a fixed order (member by member): 0 when equal. */
int pd_i_choice_cmp(const pd_choice *a, const pd_choice *b);
/* min over the targets w gives of achieved / wanted (tokens/ms over target-throughput,
 * target-ttft over TTFT, target-tpot over TPOT); 1 without targets (pd_candidate.reach). */
double pd_i_reach(const pd_workload *w, const pd_candidate *k);
/* Whether a beats b under objective o (meets every target first, then reach). */
bool pd_i_better(const pd_candidate *a, const pd_candidate *b, pd_objective o);
/* Whether a dominates b on the frontier's three criteria: no more GPUs, at least the
 * tokens/s per GPU, no longer step, and strictly better on one. */
bool pd_i_dominates(const pd_candidate *a, const pd_candidate *b);
/* Sorts res->candidates by objective (the targets' reach from plan's workload first),
 * fills the frontier, best and reachable; adds its wall time to res->phases.rank_s. */
pd_status pd_i_rank(const pd_plan *plan, pd_search_result *res, pd_objective o);
/* The search without refinement: the space, every shape, the ranking.  *sp is the
 * space it used (release it). */
pd_status pd_i_search_core(const pd_plan *plan, const pd_search_options *opt,
                           pd_search_result *res, pd_i_space *sp);

/* res->gpus_needed for an unreachable target: replicas of the best per-GPU shape for
 * throughput; for latency the fewest GPUs meeting it on clusters of up to 16 times the
 * nodes (-1 when none does: adding GPUs does not reach it). */
pd_status pd_i_unreachable(const pd_plan *plan, const pd_search_options *opt,
                           pd_search_result *res);

/* The same for a pooled plan: whole copies of the best deployment (both pools) for a
 * throughput target; -1 for a latency target (the pools' stages already are searched on
 * the whole cluster). */
pd_status pd_i_unreachable_pools(const pd_plan *plan, pd_search_result *res);

/* Compiles the best opt->top_k candidates like `plandag compile` (written with
 * pd_search_plan_xml and parsed back when opt->text is given, else built with
 * pd_i_search_build_plan), replaces their figures with the scheduled ones and ranks
 * again, until the best top_k are scheduled (or too large to lower: estimate kept);
 * then the frontier points whose DAG is small (PD_I_SEARCH_FRONTIER_ELEMENTS). */
pd_status pd_i_refine(const pd_plan *plan, const pd_search_options *opt,
                      pd_search_result *res, pd_diag_list *diags);

#endif
