/* rules_parallel.c - the degrees inside a stage: tp-divides-heads, sp-needs-tp,
 * ep-placement. */
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

static bool stage_has_gpu(const pd_stage *s, int64_t gpu)
{
	for (uint32_t g = 0; s->gpus && g < s->n_gpus; g++)
		if (s->gpus[g] == gpu)
			return true;
	return false;
}

/* One <place>: its experts exist, its GPU is the stage's, no expert placed twice. */
static void check_place(pd_i_ctx *c, const pd_stage *s, const pd_place *pl, int32_t *placed,
                        int32_t *dups)
{
	int64_t experts = c->plan->model.experts;
	char text[IDS_TEXT];
	if (pl->first < 0 || pl->last >= experts || pl->first > pl->last) {
		pd_diag *d =
		    pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, pl->loc,
		                "experts %lld-%lld do not exist: the model has %lld experts",
		                (long long)pl->first, (long long)pl->last, (long long)experts);
		pd_diag_fix(d, "place experts 0-%lld only", (long long)experts - 1);
	}
	if (!stage_has_gpu(s, pl->gpu)) {
		pd_i_format_ids(text, sizeof(text), s->gpus, s->n_gpus);
		pd_diag *d = pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, pl->loc,
		                         "gpu %lld is not a GPU of this stage (%s)",
		                         (long long)pl->gpu, text);
		pd_diag_fix(d, "place the experts on one of the stage's GPUs %s", text);
	}
	uint32_t n = 0;
	for (int64_t e = pl->first < 0 ? 0 : pl->first; e <= pl->last && e < experts; e++)
		if (placed[e]++ > 0)
			dups[n++] = (int32_t)e;
	if (n == 0)
		return;
	pd_i_format_ids(text, sizeof(text), dups, n);
	pd_diag *d = pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, pl->loc,
	                         "experts %s are already placed by an earlier <place>", text);
	pd_diag_fix(d, "place every expert exactly once");
}

/* Reports the experts placed nowhere; returns how many. */
static uint32_t report_missing(pd_i_ctx *c, const pd_stage *s, const int32_t *placed,
                               int32_t *missing)
{
	int64_t experts = c->plan->model.experts;
	uint32_t n = 0;
	for (int64_t e = 0; e < experts; e++)
		if (placed[e] == 0)
			missing[n++] = (int32_t)e;
	if (n == 0)
		return 0;
	char text[IDS_TEXT];
	pd_i_format_ids(text, sizeof(text), missing, n);
	pd_diag *d = pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, pd_i_moe_loc(s),
	                         "%u of the %lld experts are placed on no GPU of this stage "
	                         "(experts %s)",
	                         n, (long long)experts, text);
	pd_diag_fix(d,
	            "add <place> elements for them, or drop every <place> to get the default "
	            "contiguous blocks");
	return n;
}

/* Every expert of the stage's MoE layers on exactly one GPU of the stage.  *clean is
 * the last default layout found complete: stages sharing it (expand.c) are not walked
 * again, which keeps the rule linear in the plan rather than stages x experts. */
static pd_status check_placement(pd_i_ctx *c, const pd_stage *s, const int32_t **clean)
{
	int64_t experts = c->plan->model.experts;
	if (s->n_places == 0 && s->expert_host && s->expert_host == *clean)
		return PD_OK;
	int32_t *placed = calloc((size_t)experts * 2 + 1, sizeof(*placed));
	if (!placed)
		return PD_IO;
	if (s->n_places > 0) {
		for (uint32_t i = 0; i < s->n_places; i++)
			check_place(c, s, &s->places[i], placed, placed + experts);
	} else if (s->expert_host) {
		for (int64_t e = 0; e < experts; e++)
			placed[e] = s->expert_host[e] >= 0;
	} else {
		for (int64_t e = 0; e < experts; e++)
			placed[e] = 1;
	}
	if (report_missing(c, s, placed, placed + experts) == 0 && s->n_places == 0)
		*clean = s->expert_host;
	free(placed);
	return PD_OK;
}

static void check_ep_degree(pd_i_ctx *c, const pd_stage *s)
{
	int64_t experts = c->plan->model.experts;
	pd_loc loc = pd_i_moe_loc(s);
	if (s->ep != (int64_t)s->n_gpus) {
		pd_diag *d =
		    pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, loc,
		                "ep %lld but the stage has %u GPUs: a MoE stage spreads its "
		                "experts over all its GPUs (EP = stage size)",
		                (long long)s->ep, s->n_gpus);
		pd_diag_fix(d, "set ep=\"%u\" or give the stage %lld GPUs", s->n_gpus,
		            (long long)s->ep);
	}
	if (s->ep < 1 || experts % s->ep != 0) {
		pd_diag *d = pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, loc,
		                         "ep %lld does not divide the model's %lld experts",
		                         (long long)s->ep, (long long)experts);
		pd_diag_fix(d, "use an ep that divides %lld, e.g. ep=\"%lld\"", (long long)experts,
		            (long long)largest_divisor_upto(experts, s->ep < 1 ? 1 : s->ep));
	}
}

static void check_dense_model(pd_i_ctx *c, const pd_stage *s)
{
	if (!s->has_moe && s->ep <= 1)
		return;
	pd_diag *d =
	    pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, pd_i_moe_loc(s),
	                "<moe ep=\"%lld\"> on a dense model: it has no experts to spread",
	                (long long)s->ep);
	pd_diag_fix(d, "remove <moe> (and ep) from the strategy, or give the model experts");
}

/* ep-placement: EP = stage size in a MoE stage, experts % EP = 0, every expert placed
 * exactly once on a GPU of its stage, no EP on a dense model. */
pd_status pd_i_rule_ep_placement(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	const pd_model *m = &c->plan->model;
	const int32_t *clean = NULL;
	for (uint32_t r = 0; r < st->n_replicas; r++)
		for (uint32_t si = 0; si < st->replicas[r].n_stages; si++) {
			const pd_stage *s = &st->replicas[r].stages[si];
			int64_t moe, dense;
			pd_i_stage_layers(m, s, &moe, &dense);
			if (st->replicas[r].copy > 0)
				continue;
			if (m->experts <= 0) {
				check_dense_model(c, s);
			} else if (moe > 0) {
				check_ep_degree(c, s);
				PD_CHECK(check_placement(c, s, &clean));
			}
		}
	return PD_OK;
}
