/* rules.h - internals of pd_plan_validate(): the rule checks of docs/rules.md and the
 * arithmetic they share (parameters, per-GPU memory, roofline throughput).
 *
 * validate.c calls one pd_i_rule_* per rule id; each appends its diagnostics and never
 * stops at the first violation.  Every rule copes with a plan that another rule found
 * broken (out-of-range ids, unplaced experts, stages without GPUs).
 */
#ifndef PLANDAG_PLAN_RULES_H
#define PLANDAG_PLAN_RULES_H

#include "plandag/analysis.h"
#include "util/util.h" /* pd_i_format_ids */

/* Common arguments of every rule. */
typedef struct pd_i_ctx {
	const pd_plan *plan;
	pd_analysis *an;
	pd_diag_list *diags;
	const pd_pool *pool; /* the pool whose view `plan` is (pooled plans), else NULL */
} pd_i_ctx;

/* Appends a diagnostic at loc unless one with the same rule, place and message was
 * just reported (stages expanded from the shorthand share one location).  The list
 * keeps PD_DIAG_PER_RULE_MAX per rule and counts the rest, so that a plan of a million
 * broken stages gives a readable answer quickly.  Returns the new diagnostic for
 * pd_diag_fix, or NULL when it was not kept. */
pd_diag *pd_i_report(pd_i_ctx *c, const char *rule, pd_severity sev, pd_loc loc,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Whether every replica has the same number of stages and every stage the same number
 * of GPUs (DP x PP x stage size describes the plan); then *dp, *pp and *size get them. */
bool pd_i_strategy_uniform(const pd_strategy *st, uint32_t *dp, uint32_t *pp,
                           uint32_t *size);

/* First replica after r that is not a copy of the same <replica> element (expand puts
 * the copies of one element next to each other). */
uint32_t pd_i_copies_end(const pd_strategy *st, uint32_t r);

/* The location of a stage's <attention> / <moe>, falling back to the stage's own. */
pd_loc pd_i_attention_loc(const pd_stage *s);
pd_loc pd_i_moe_loc(const pd_stage *s);

/* Layers of [first, last] clipped to the model, split into MoE and dense layers. */
void pd_i_stage_layers(const pd_model *m, const pd_stage *s, int64_t *moe, int64_t *dense);
/* The largest divisor of n not above cap (1 when none above 1): the degree a fix offers. */
int64_t pd_i_largest_divisor_upto(int64_t n, int64_t cap);
/* max(tp, 1): a degree usable as a divisor even in a broken plan. */
int64_t pd_i_tp(const pd_stage *s);
/* Attention groups of a stage: stage_size / TP, at least 1. */
int64_t pd_i_groups(const pd_stage *s);
/* The KV hand-over's pairing (docs/pools.md), one definition for the lowering and the
 * rules: the index in d->gpus of the decode GPU that GPU gi of prefill stage s sends to,
 * s's replica being the j-th prefill replica on d's replica: attention group
 * (j x G + q) mod G' (q = gi / TP), the rank pd_i_kv_dst_rank names. */
int64_t pd_i_kv_dst_index(const pd_model *m, const pd_stage *s, int64_t gi, int64_t j,
                          const pd_stage *d);

/* params.c: fills params_computed, params_active_per_token, weight_bytes,
 * kv_bytes_per_token. */
void pd_i_params_compute(const pd_model *m, pd_analysis *an);
/* Parameters of one piece of one layer (docs/plan-format.md). */
double pd_i_attention_params(const pd_model *m);
double pd_i_expert_params(const pd_model *m);

/* memory.c: fills an->memory (arena) and an->activation_formula; PD_IO when out of
 * memory. */
pd_status pd_i_memory_compute(const pd_plan *p, pd_analysis *an);
/* memory.c: a lower bound of what one replica holds whatever its strategy: every weight
 * once and the KV cache of every token of its batch once (bytes); *usable gets what one
 * GPU offers (gpu-memory less the reserve).  `suggest` prunes with it. */
double pd_i_memory_floor(const pd_plan *p, double *usable);

/* roofline.c: the analytic step latency and throughput (PD_THROUGHPUT_ROOFLINE), or
 * PD_THROUGHPUT_NONE when the plan has no stage to time. */
void pd_i_roofline_compute(const pd_plan *p, pd_analysis *an);
/* Tokens of one step of one replica: batch in decode, batch * context in prefill. */
double pd_i_step_tokens(const pd_workload *w);

/* rules_gpus.c */
void pd_i_gpu_counts(pd_i_ctx *c);
void pd_i_rule_multiplicative(pd_i_ctx *c);
void pd_i_rule_gpu_range(pd_i_ctx *c);
pd_status pd_i_rule_gpu_overlap(pd_i_ctx *c);
void pd_i_rule_tp_crosses_node(pd_i_ctx *c);

/* rules_layers.c */
void pd_i_rule_layer_coverage(pd_i_ctx *c);
void pd_i_rule_replica_shape(pd_i_ctx *c);

/* rules_parallel.c */
void pd_i_rule_tp_divides_heads(pd_i_ctx *c);
void pd_i_rule_sp_needs_tp(pd_i_ctx *c);
pd_status pd_i_rule_ep_placement(pd_i_ctx *c);

/* rules_resources.c */
void pd_i_rule_workload_split(pd_i_ctx *c);
void pd_i_rule_params_mismatch(pd_i_ctx *c);
pd_status pd_i_rule_memory_capacity(pd_i_ctx *c);
void pd_i_rule_over_provisioned(pd_i_ctx *c);

/* rules_pools.c: a pooled plan (docs/pools.md).  Validates every pool through its view
 * (an->pools), then the rules over the whole deployment; pd_i_pooled_figures fills the
 * deployment's hand-over, TTFT, TPOT and throughput from the pools' steps. */
pd_status pd_i_validate_pooled(const pd_plan *plan, pd_analysis *an, pd_diag_list *diags);
void pd_i_pooled_figures(const pd_plan *plan, pd_analysis *an);
/* Index of the pool of that phase, -1 when none. */
int pd_i_pool_of_phase(const pd_plan *plan, pd_phase phase);
/* "the decode pool's replica 2" for replica r (whole-strategy index) of a pooled plan. */
void pd_i_describe_replica(const pd_plan *plan, uint32_t r, char *buf, size_t size);
/* The pooled latency-target, throughput-target and pool-balance rules. */
void pd_i_validate_pooled_targets(const pd_plan *plan, const pd_analysis *an,
                                  pd_diag_list *diags);

#endif
