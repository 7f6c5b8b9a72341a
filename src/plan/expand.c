/* expand.c - from the plan as written to the structural form the rules check.
 *
 *   1. shorthand <strategy dp= pp= tp= ep= sp=/>  -> one <replica count=dp> of pp stages
 *   2. <replica count=N>                          -> N replicas (copy 0..N-1)
 *   3. stages without gpus                        -> the next free GPUs, max(TP, EP)
 *   4. MoE models                                 -> the expert layout of every stage
 *
 * A pooled plan's replicas are all in strategy.replicas (the prefill pool's first), so
 * the next free GPUs continue from the prefill pool's stages into the decode pool's; the
 * pools' replica ranges are recomputed after step 2.
 *
 * Nothing here judges the plan: whatever is odd is left for the rules to report.
 */
#include "plan/layout.h"
#include "plan/plan_internal.h"

#include <stdlib.h>
#include <string.h>

/* Past this many stages or handed-out GPUs a plan cannot fit any cluster plandag
 * accepts (every stage needs a GPU of its own), so expansion stops there. */
#define PD_MAX_EXPANDED (4 * (int64_t)PD_MAX_GPUS)

static void too_big(pd_plan *p, pd_diag_list *diags, const char *what)
{
	pd_diag *d = pd_diag_add(diags, PD_RULE_SCHEMA, PD_ERROR, p->strategy.loc.line,
	                         p->strategy.loc.column,
	                         "the strategy expands to more %s than plandag handles (%lld)",
	                         what, (long long)PD_MAX_EXPANDED);
	pd_diag_fix(d, "lower the replica counts or degrees; a cluster has at most %d GPUs",
	            PD_MAX_GPUS);
}

void pd_i_pp_split(int64_t layers, int64_t pp, int64_t i, int64_t *first, int64_t *count)
{
	int64_t base = layers / pp, extra = layers % pp;
	*first = i * base + (i < extra ? i : extra);
	*count = base + (i < extra);
}

/* Step 1: the shorthand degrees as one replica element of count dp. */
static pd_status expand_shorthand(pd_plan *p)
{
	pd_strategy *st = &p->strategy;
	pd_replica *rep = pd_arena_calloc(p->arena, 1, sizeof(*rep));
	pd_stage *stages = pd_arena_calloc(p->arena, (size_t)st->pp, sizeof(*stages));
	if (!rep || !stages)
		return PD_IO;
	*rep = (pd_replica){
	    .count = st->dp, .stages = stages, .n_stages = (uint32_t)st->pp, .loc = st->loc};
	for (int64_t i = 0; i < st->pp; i++) {
		int64_t first, n;
		pd_i_pp_split(p->model.layers, st->pp, i, &first, &n);
		bool moe = p->model.experts > 0 || st->ep > 1;
		stages[i] = (pd_stage){.first_layer = first,
		                       .last_layer = first + n - 1,
		                       .has_attention = true,
		                       .tp = st->tp,
		                       .sp = st->sp,
		                       .attention_loc = st->loc,
		                       .has_moe = moe,
		                       .ep = st->ep,
		                       .moe_loc = moe ? st->loc : (pd_loc){0, 0},
		                       .loc = st->loc};
	}
	st->replicas = rep;
	st->n_replicas = 1;
	return PD_OK;
}

/* Step 2: replicas of count N become N copies sharing nothing but GPU lists. */
static pd_status expand_counts(pd_plan *p, pd_diag_list *diags)
{
	pd_strategy *st = &p->strategy;
	int64_t total = 0, stages = 0;
	for (uint32_t i = 0; i < st->n_replicas; i++) {
		int64_t c = st->replicas[i].count, ns = st->replicas[i].n_stages;
		if (stages + c * (ns ? ns : 1) > PD_MAX_EXPANDED) {
			too_big(p, diags, "stages");
			c = (PD_MAX_EXPANDED - stages) / (ns ? ns : 1);
		}
		total += c;
		stages += c * (ns ? ns : 1);
	}
	pd_replica *out = pd_arena_calloc(p->arena, (size_t)total, sizeof(*out));
	if (!out && total > 0)
		return PD_IO;
	uint32_t k = 0;
	for (uint32_t i = 0; i < st->n_replicas && k < total; i++) {
		const pd_replica *r = &st->replicas[i];
		for (int64_t c = 0; c < r->count && k < total; c++) {
			pd_replica *o = &out[k++];
			*o = *r;
			o->count = 1;
			o->copy = (uint32_t)c;
			o->stages = pd_arena_calloc(p->arena, r->n_stages, sizeof(*o->stages));
			if (!o->stages && r->n_stages > 0)
				return PD_IO;
			memcpy(o->stages, r->stages, r->n_stages * sizeof(*o->stages));
		}
	}
	st->replicas = out;
	st->n_replicas = k;
	return PD_OK;
}

/* The GPUs named explicitly anywhere: never handed out to a stage without gpus.  The
 * map covers ids 0 .. *size-1 (the largest id named, + 1), not every possible id: a plan
 * without explicit GPUs (every plan `suggest` builds) costs nothing here. */
static unsigned char *explicit_gpus(const pd_strategy *st, int64_t *size)
{
	int64_t n = 1;
	for (uint32_t i = 0; i < st->n_replicas; i++)
		for (uint32_t s = 0; s < st->replicas[i].n_stages; s++) {
			const pd_stage *g = &st->replicas[i].stages[s];
			for (uint32_t j = 0; g->gpus_given && j < g->n_gpus; j++)
				if (g->gpus[j] >= n && g->gpus[j] < PD_MAX_GPUS)
					n = (int64_t)g->gpus[j] + 1;
		}
	unsigned char *used = calloc((size_t)n, 1);
	if (!used)
		return NULL;
	for (uint32_t i = 0; i < st->n_replicas; i++)
		for (uint32_t s = 0; s < st->replicas[i].n_stages; s++) {
			const pd_stage *g = &st->replicas[i].stages[s];
			for (uint32_t j = 0; g->gpus_given && j < g->n_gpus; j++)
				if (g->gpus[j] >= 0 && g->gpus[j] < PD_MAX_GPUS)
					used[g->gpus[j]] = 1;
		}
	*size = n;
	return used;
}

/* Step 3: stages without gpus take max(TP, EP) of the lowest free ids in order. */
static pd_status assign_gpus(pd_plan *p, pd_diag_list *diags)
{
	pd_strategy *st = &p->strategy;
	int64_t n_used;
	unsigned char *used = explicit_gpus(st, &n_used);
	if (!used)
		return PD_IO;
	int64_t next = 0;
	pd_status s = PD_OK;
	bool full = false; /* said once: the stages after it keep no GPUs */
	for (uint32_t i = 0; i < st->n_replicas && s == PD_OK && !full; i++)
		for (uint32_t k = 0; k < st->replicas[i].n_stages && s == PD_OK; k++) {
			pd_stage *g = &st->replicas[i].stages[k];
			if (g->gpus_given)
				continue;
			int64_t size = g->tp > g->ep ? g->tp : g->ep;
			if (next + size > PD_MAX_EXPANDED) {
				too_big(p, diags, "GPUs");
				full = true;
				break;
			}
			g->gpus = pd_arena_calloc(p->arena, (size_t)size, sizeof(*g->gpus));
			if (!g->gpus) {
				s = PD_IO;
				break;
			}
			for (int64_t j = 0; j < size; j++, next++) {
				while (next < n_used && used[next])
					next++;
				g->gpus[j] = (int32_t)next;
			}
			g->n_gpus = (uint32_t)size;
		}
	free(used);
	return s;
}

/* Step 4: the expert layout of every stage of a MoE model (plan/layout.h).  Stages with
 * the default layout of the same size share one (a big plan has many identical stages). */
static pd_status place_experts(pd_plan *p)
{
	int64_t experts = p->model.experts;
	if (experts <= 0)
		return PD_OK;
	const pd_stage *shared = NULL;
	for (uint32_t i = 0; i < p->strategy.n_replicas; i++)
		for (uint32_t k = 0; k < p->strategy.replicas[i].n_stages; k++) {
			pd_stage *g = &p->strategy.replicas[i].stages[k];
			bool dflt = g->n_places == 0;
			if (dflt && shared && shared->n_gpus == g->n_gpus &&
			    shared->redundant == g->redundant) {
				g->layout = shared->layout;
				continue;
			}
			PD_CHECK(pd_i_expert_layout_build(p->arena, g, experts, &g->layout));
			if (dflt)
				shared = g;
		}
	return PD_OK;
}

pd_status pd_plan_expand(pd_plan *plan, pd_diag_list *diags)
{
	if (plan->expanded)
		return PD_OK;
	if (plan->strategy.shorthand)
		PD_CHECK(expand_shorthand(plan));
	PD_CHECK(expand_counts(plan, diags));
	pd_i_pools_reindex(plan);
	PD_CHECK(assign_gpus(plan, diags));
	PD_CHECK(place_experts(plan));
	plan->expanded = true;
	return PD_OK;
}
