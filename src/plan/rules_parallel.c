/* rules_parallel.c - the degrees inside a stage: tp-divides-heads, sp-needs-tp (the
 * experts' ep-placement is rules_experts.c). */
#include "plan/rules.h"

#include <stdlib.h>

static void check_heads(pd_i_ctx *c, const pd_stage *s)
{
	const pd_model *m = &c->plan->model;
	pd_loc loc = pd_i_attention_loc(s);
	if (m->heads % s->tp != 0) {
		pd_diag *d = pd_i_report(c, PD_RULE_TP_DIVIDES_HEADS, PD_ERROR, loc,
		                         "tp %lld does not divide the model's %lld attention heads",
		                         (long long)s->tp, (long long)m->heads);
		pd_diag_fix(d, "use a tp that divides %lld, e.g. tp=\"%lld\"", (long long)m->heads,
		            (long long)pd_i_largest_divisor_upto(m->heads, s->tp));
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

static int64_t gcd(int64_t a, int64_t b)
{
	while (b) {
		int64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* A dense-ffn tp at most n that divides the stage, the FFN width and the attention TP's
 * multiples, for fixes: the largest divisor of gcd(stage, width) up to n that nests. */
static int64_t dense_tp_fix(const pd_stage *s, int64_t width, int64_t n)
{
	int64_t g = gcd((int64_t)s->n_gpus, width > 0 ? width : (int64_t)s->n_gpus);
	for (int64_t d = n < g ? n : g; d > 1; d--)
		if (g % d == 0 && (s->tp % d == 0 || d % s->tp == 0))
			return d;
	return 1;
}

/* <dense-ffn tp="N">: N divides the stage and the dense FFN width, N and the attention
 * TP nest (the smaller divides the larger: every dense TP group lies inside one
 * attention group or covers whole ones); a warning when the stage has no dense layer. */
static void check_dense_tp(pd_i_ctx *c, const pd_stage *s)
{
	const pd_model *m = &c->plan->model;
	int64_t moe, dense, n = s->dense_tp, a = s->tp;
	pd_i_stage_layers(m, s, &moe, &dense);
	if (!s->has_dense_ffn || n < 1 || a < 1)
		return;
	if (dense == 0) {
		pd_diag *d =
		    pd_i_report(c, PD_RULE_TP_DIVIDES_HEADS, PD_WARNING, s->dense_ffn_loc,
		                "<dense-ffn tp=\"%lld\"> on a stage without dense layers "
		                "(layers %lld-%lld are all MoE layers): it changes nothing",
		                (long long)n, (long long)s->first_layer, (long long)s->last_layer);
		pd_diag_fix(d,
		            "remove <dense-ffn>, or put it on the stage that holds the first "
		            "%lld (dense) layers",
		            (long long)m->first_dense);
		return;
	}
	if (s->n_gpus % (uint64_t)n != 0) {
		pd_diag *d = pd_i_report(c, PD_RULE_TP_DIVIDES_HEADS, PD_ERROR, s->dense_ffn_loc,
		                         "dense-ffn tp %lld does not divide the stage's %u GPUs",
		                         (long long)n, s->n_gpus);
		pd_diag_fix(d, "use a dense-ffn tp that divides %u, e.g. tp=\"%lld\"", s->n_gpus,
		            (long long)dense_tp_fix(s, m->dense_ffn, n));
	}
	if (m->dense_ffn % n != 0) {
		pd_diag *d = pd_i_report(
		    c, PD_RULE_TP_DIVIDES_HEADS, PD_ERROR, s->dense_ffn_loc,
		    "dense-ffn tp %lld does not divide the model's dense-ffn width %lld",
		    (long long)n, (long long)m->dense_ffn);
		pd_diag_fix(d, "use a dense-ffn tp that divides %lld, e.g. tp=\"%lld\"",
		            (long long)m->dense_ffn, (long long)dense_tp_fix(s, m->dense_ffn, n));
	}
	if ((n < a && a % n != 0) || (n > a && n % a != 0)) {
		pd_diag *d = pd_i_report(c, PD_RULE_TP_DIVIDES_HEADS, PD_ERROR, s->dense_ffn_loc,
		                         "dense-ffn tp %lld and attention tp %lld do not nest: "
		                         "the smaller must divide the larger",
		                         (long long)n, (long long)a);
		pd_diag_fix(d,
		            "use a dense-ffn tp that divides %lld (e.g. tp=\"%lld\") or a "
		            "multiple of it",
		            (long long)a, (long long)dense_tp_fix(s, m->dense_ffn, n));
	}
}

/* tp-divides-heads: heads % TP = 0 and TP divides the stage size; kv-heads < TP warns.
 * The TP of the dense FFN layers (<dense-ffn>) divides the stage and the FFN width. */
void pd_i_rule_tp_divides_heads(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	for (uint32_t r = 0; r < st->n_replicas; r++)
		for (uint32_t si = 0; si < st->replicas[r].n_stages; si++) {
			const pd_stage *s = &st->replicas[r].stages[si];
			if (st->replicas[r].copy > 0 || s->tp < 1)
				continue;
			check_heads(c, s);
			check_dense_tp(c, s);
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
