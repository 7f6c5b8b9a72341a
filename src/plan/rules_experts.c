/* rules_experts.c - ep-placement: where the experts of a stage live.
 *
 *   EP = stage size in a MoE stage; experts % EP = 0, or with redundant-experts R
 *   (experts + R) % EP = 0 and (experts + R) / EP <= experts; every expert on at least
 *   one slot of a GPU of its stage (exactly one without R); no GPU holds one expert
 *   twice; with R and <place> elements every GPU holds (experts + R) / EP slots; no
 *   <moe> on a dense model.  The layout is the stage's (plan/layout.h).
 */
#include "plan/layout.h"
#include "plan/rules.h"

#include <stdlib.h>

#define IDS_TEXT 160

static bool stage_has_gpu(const pd_stage *s, int64_t gpu)
{
	for (uint32_t g = 0; s->gpus && g < s->n_gpus; g++)
		if (s->gpus[g] == gpu)
			return true;
	return false;
}

/* One <place>: its experts exist, its GPU is the stage's; without redundant experts no
 * expert placed twice (dups: scratch, or NULL when copies are allowed). */
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
		if (placed[e]++ > 0 && dups)
			dups[n++] = (int32_t)e;
	if (n == 0)
		return;
	pd_i_format_ids(text, sizeof(text), dups, n);
	pd_diag *d = pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, pl->loc,
	                         "experts %s are already placed by an earlier <place>", text);
	pd_diag_fix(d, "place every expert exactly once, or give <moe> redundant-experts=\"N\" "
	               "for N extra copies in all");
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

/* Places on the same stage GPU next to each other, in document order. */
typedef struct place_ref {
	int64_t gpu;
	uint32_t i;
} place_ref;

static int cmp_place_ref(const void *a, const void *b)
{
	const place_ref *p = a, *q = b;
	if (p->gpu != q->gpu)
		return p->gpu < q->gpu ? -1 : 1;
	return (p->i > q->i) - (p->i < q->i);
}

/* A <place> that gives its GPU an expert one of its earlier places gave it already. */
static void report_twice(pd_i_ctx *c, const pd_place *pl, int32_t *dups, uint32_t n)
{
	char text[IDS_TEXT];
	pd_i_format_ids(text, sizeof(text), dups, n);
	pd_diag *d = pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, pl->loc,
	                         "gpu %lld already holds experts %s from an earlier <place>: "
	                         "no GPU holds one expert twice",
	                         (long long)pl->gpu, text);
	pd_diag_fix(d, "place these copies on other GPUs of the stage");
}

/* With redundant experts: no GPU holds one expert twice.  seen[e] is the number of the
 * GPU's run of places that last gave it e; every place is walked once. */
static pd_status check_twice(pd_i_ctx *c, const pd_stage *s, int32_t *seen, int32_t *dups)
{
	int64_t experts = c->plan->model.experts;
	place_ref *ref = malloc((s->n_places + 1) * sizeof(*ref));
	if (!ref)
		return PD_IO;
	for (uint32_t i = 0; i < s->n_places; i++)
		ref[i] = (place_ref){s->places[i].gpu, i};
	qsort(ref, s->n_places, sizeof(*ref), cmp_place_ref);
	int32_t run = 0;
	for (uint32_t k = 0; k < s->n_places; k++) {
		const pd_place *pl = &s->places[ref[k].i];
		run += k == 0 || ref[k].gpu != ref[k - 1].gpu;
		uint32_t n = 0;
		for (int64_t e = pl->first < 0 ? 0 : pl->first; e <= pl->last && e < experts; e++) {
			if (seen[e] == run)
				dups[n++] = (int32_t)e;
			seen[e] = run;
		}
		if (n)
			report_twice(c, pl, dups, n);
	}
	free(ref);
	return PD_OK;
}

/* With redundant experts and <place>: every GPU holds (experts + R) / EP slots. */
static void check_slot_counts(pd_i_ctx *c, const pd_stage *s, int32_t *over, int32_t *under)
{
	const pd_i_expert_layout *l = s->layout;
	int64_t experts = c->plan->model.experts;
	uint64_t cap = l->capacity, q = s->ep > 0 ? cap / (uint64_t)s->ep : 0;
	if (s->ep != (int64_t)s->n_gpus || q * (uint64_t)s->ep != cap)
		return; /* the degree checks said why no count per GPU exists */
	uint32_t no = 0, nu = 0;
	for (uint32_t g = 0; g < l->n_gpus; g++) {
		if (pd_i_layout_slots(l, g) > q)
			over[no++] = s->gpus[g];
		else if (pd_i_layout_slots(l, g) < q)
			under[nu++] = s->gpus[g];
	}
	if (no + nu == 0)
		return;
	char a[IDS_TEXT], b[IDS_TEXT];
	pd_i_format_ids(a, sizeof(a), over, no);
	pd_i_format_ids(b, sizeof(b), under, nu);
	pd_diag *d = pd_i_report(
	    c, PD_RULE_EP_PLACEMENT, PD_ERROR, pd_i_moe_loc(s),
	    "the <place> elements fill %llu of the %lld + %lld = %llu expert slots unevenly: "
	    "every GPU holds %llu (more on gpus %s, fewer on gpus %s)",
	    (unsigned long long)l->slots, (long long)experts, (long long)s->redundant,
	    (unsigned long long)cap, (unsigned long long)q, no ? a : "none", nu ? b : "none");
	pd_diag_fix(d,
	            "give every GPU of the stage exactly %llu expert slots in its <place> "
	            "elements, %lld extra copies in all",
	            (unsigned long long)q, (long long)s->redundant);
}

/* More slots named than the stage has: the layout stops there (plan/layout.h). */
static void report_overfull(pd_i_ctx *c, const pd_stage *s)
{
	const pd_i_expert_layout *l = s->layout;
	pd_diag *d = pd_i_report(
	    c, PD_RULE_EP_PLACEMENT, PD_ERROR, pd_i_moe_loc(s),
	    "the <place> elements name %llu expert slots but the stage has %lld + %lld = %llu",
	    (unsigned long long)l->slots, (long long)c->plan->model.experts,
	    (long long)s->redundant, (unsigned long long)l->capacity);
	pd_diag_fix(d,
	            "place every expert once and %lld extra copies in all, or raise "
	            "redundant-experts",
	            (long long)s->redundant);
}

/* Explicit placement with redundant experts: the places, copies on one GPU, the slots
 * per GPU.  scratch: 3 * experts + 2 * GPUs + 1 entries. */
static pd_status check_redundant_places(pd_i_ctx *c, const pd_stage *s, int32_t *scratch)
{
	int64_t experts = c->plan->model.experts;
	for (uint32_t i = 0; i < s->n_places; i++)
		check_place(c, s, &s->places[i], scratch, NULL);
	report_missing(c, s, scratch, scratch + experts);
	if (!s->layout || !s->layout->ids) {
		if (s->layout)
			report_overfull(c, s);
		return PD_OK;
	}
	int32_t *seen = scratch + 2 * experts;
	for (int64_t e = 0; e < experts; e++)
		seen[e] = 0;
	PD_CHECK(check_twice(c, s, seen, scratch + experts));
	check_slot_counts(c, s, scratch + 3 * experts, scratch + 3 * experts + s->n_gpus);
	return PD_OK;
}

/* Every expert of the stage's MoE layers on a GPU of the stage.  *clean is the last
 * default layout found complete: stages sharing it (expand.c) are not walked again,
 * which keeps the rule linear in the plan rather than stages x experts. */
static pd_status check_placement(pd_i_ctx *c, const pd_stage *s,
                                 const pd_i_expert_layout **clean)
{
	int64_t experts = c->plan->model.experts;
	if (s->n_places == 0 && s->layout && s->layout == *clean)
		return PD_OK;
	int32_t *placed =
	    calloc((size_t)experts * 3 + 2 * (size_t)s->n_gpus + 1, sizeof(*placed));
	if (!placed)
		return PD_IO;
	pd_status st = PD_OK;
	if (s->n_places > 0 && s->redundant > 0) {
		st = check_redundant_places(c, s, placed);
	} else if (s->n_places > 0) {
		for (uint32_t i = 0; i < s->n_places; i++)
			check_place(c, s, &s->places[i], placed, placed + experts);
		report_missing(c, s, placed, placed + experts);
	} else {
		const pd_i_expert_layout *l = s->layout;
		for (int64_t e = 0; e < experts; e++)
			placed[e] = !l || !l->copies || l->copies[e] > 0;
		if (report_missing(c, s, placed, placed + experts) == 0)
			*clean = l;
	}
	free(placed);
	return st;
}

/* (experts + R) % EP != 0: the nearest R above and below that divide. */
static void report_slots_divide(pd_i_ctx *c, const pd_stage *s)
{
	int64_t E = c->plan->model.experts, R = s->redundant, ep = s->ep, slots = E + R;
	int64_t up = R + ep - slots % ep, down = R - slots % ep;
	pd_diag *d = pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, pd_i_moe_loc(s),
	                         "%lld + %lld = %lld slots do not divide over EP %lld",
	                         (long long)E, (long long)R, (long long)slots, (long long)ep);
	if (down >= 0)
		pd_diag_fix(d,
		            "use redundant-experts %lld (%lld slots per GPU) or %lld (%lld slots "
		            "per GPU)",
		            (long long)up, (long long)((E + up) / ep), (long long)down,
		            (long long)((E + down) / ep));
	else
		pd_diag_fix(d, "use redundant-experts %lld (%lld slots per GPU)", (long long)up,
		            (long long)((E + up) / ep));
}

/* The slots divide over EP: a GPU of more slots than experts holds one expert twice. */
static void check_slots_per_gpu(pd_i_ctx *c, const pd_stage *s)
{
	int64_t E = c->plan->model.experts, R = s->redundant, ep = s->ep;
	if ((E + R) % ep != 0) {
		report_slots_divide(c, s);
		return;
	}
	if ((E + R) / ep <= E)
		return;
	pd_diag *d = pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, pd_i_moe_loc(s),
	                         "%lld + %lld = %lld slots over EP %lld are %lld per GPU, more "
	                         "than the %lld experts: a GPU would hold an expert twice",
	                         (long long)E, (long long)R, (long long)(E + R), (long long)ep,
	                         (long long)((E + R) / ep), (long long)E);
	pd_diag_fix(d,
	            "use redundant-experts %lld or fewer (%lld slots per GPU, every expert "
	            "on every GPU)",
	            (long long)(E * ep - E), (long long)E);
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
	if (s->ep >= 1 && s->redundant > 0) {
		check_slots_per_gpu(c, s);
	} else if (s->ep < 1 || experts % s->ep != 0) {
		pd_diag *d = pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, loc,
		                         "ep %lld does not divide the model's %lld experts",
		                         (long long)s->ep, (long long)experts);
		pd_diag_fix(d, "use an ep that divides %lld, e.g. ep=\"%lld\"", (long long)experts,
		            (long long)pd_i_largest_divisor_upto(experts, s->ep < 1 ? 1 : s->ep));
	}
}

static void check_dense_model(pd_i_ctx *c, const pd_stage *s)
{
	if (!s->has_moe && s->ep <= 1)
		return;
	if (s->redundant > 0) {
		pd_diag *d = pd_i_report(
		    c, PD_RULE_EP_PLACEMENT, PD_ERROR, pd_i_moe_loc(s),
		    "redundant-experts %lld on a dense model: it has no experts to copy",
		    (long long)s->redundant);
		pd_diag_fix(d, "remove <moe> (and redundant-experts) from the stage, or give the "
		               "model experts");
		return;
	}
	pd_diag *d =
	    pd_i_report(c, PD_RULE_EP_PLACEMENT, PD_ERROR, pd_i_moe_loc(s),
	                "<moe ep=\"%lld\"> on a dense model: it has no experts to spread",
	                (long long)s->ep);
	pd_diag_fix(d, "remove <moe> (and ep) from the strategy, or give the model experts");
}

pd_status pd_i_rule_ep_placement(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	const pd_model *m = &c->plan->model;
	const pd_i_expert_layout *clean = NULL;
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
