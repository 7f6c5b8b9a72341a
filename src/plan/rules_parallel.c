/* rules_parallel.c - the degrees inside a stage: tp-divides-heads, sp-needs-tp (the
 * experts' ep-placement is rules_experts.c). */
#include "plan/rules.h"

#include <stdlib.h>

#define IDS_TEXT 160

static int64_t largest_divisor_upto(int64_t n, int64_t cap)
{
	for (int64_t d = cap < n ? cap : n; d > 1; d--)
		if (n % d == 0)
			return d;
	return 1;
}

static void check_heads(pd_i_ctx *c, const pd_stage *s)
{
	const pd_model *m = &c->plan->model;
	pd_loc loc = pd_i_attention_loc(s);
	if (m->heads % s->tp != 0) {
		pd_diag *d = pd_i_report(c, PD_RULE_TP_DIVIDES_HEADS, PD_ERROR, loc,
		                         "tp %lld does not divide the model's %lld attention heads",
		                         (long long)s->tp, (long long)m->heads);
		pd_diag_fix(d, "use a tp that divides %lld, e.g. tp=\"%lld\"", (long long)m->heads,
		            (long long)largest_divisor_upto(m->heads, s->tp));
	}
	if (m->kv_heads < s->tp) {
		pd_diag *d = pd_i_report(c, PD_RULE_TP_DIVIDES_HEADS, PD_WARNING, loc,
		                         "kv-heads %lld < tp %lld: K and V projections and the KV "
		                         "cache are replicated on every GPU of a TP group",
		                         (long long)m->kv_heads, (long long)s->tp);
		pd_diag_fix(d,
		            "use tp <= %lld to shard K and V without copies, or accept the "
		            "replicated KV cache",
		            (long long)m->kv_heads);
	} else if (m->kv_heads % s->tp != 0 && m->heads % s->tp == 0) {
		pd_diag *d = pd_i_report(c, PD_RULE_TP_DIVIDES_HEADS, PD_WARNING, loc,
		                         "tp %lld does not divide the model's %lld kv-heads evenly",
		                         (long long)s->tp, (long long)m->kv_heads);
		pd_diag_fix(d, "use a tp that divides %lld", (long long)m->kv_heads);
	}
}

/* tp-divides-heads: heads % TP = 0 and TP divides the stage size; kv-heads < TP warns. */
void pd_i_rule_tp_divides_heads(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	for (uint32_t r = 0; r < st->n_replicas; r++)
		for (uint32_t si = 0; si < st->replicas[r].n_stages; si++) {
			const pd_stage *s = &st->replicas[r].stages[si];
			if (st->replicas[r].copy > 0 || s->tp < 1)
				continue;
			check_heads(c, s);
			if (s->n_gpus % (uint64_t)s->tp == 0)
				continue;
			pd_diag *d = pd_i_report(
			    c, PD_RULE_TP_DIVIDES_HEADS, PD_ERROR, pd_i_attention_loc(s),
			    "tp %lld does not divide the stage's %u GPUs", (long long)s->tp, s->n_gpus);
			pd_diag_fix(d,
			            "give the stage a multiple of %lld GPUs (TP groups run side by "
			            "side) or use a tp that divides %u",
			            (long long)s->tp, s->n_gpus);
		}
}

/* sp-needs-tp: sequence parallelism rides on a TP group, so it needs TP > 1. */
void pd_i_rule_sp_needs_tp(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	for (uint32_t r = 0; r < st->n_replicas; r++)
		for (uint32_t si = 0; si < st->replicas[r].n_stages; si++) {
			const pd_stage *s = &st->replicas[r].stages[si];
			if (st->replicas[r].copy > 0 || !s->sp || s->tp > 1)
				continue;
			pd_diag *d =
			    pd_i_report(c, PD_RULE_SP_NEEDS_TP, PD_ERROR, pd_i_attention_loc(s),
			                "sp=\"true\" with tp %lld: sequence parallelism splits "
			                "the sequence over the TP group, which has one GPU",
			                (long long)s->tp);
			pd_diag_fix(d, "set tp to 2 or more, or sp=\"false\"");
		}
}
