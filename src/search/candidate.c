/* candidate.c - one strategy of the search as a real plan: the structure that
 * pd_search_plan_xml writes, so that what is evaluated is what is suggested. */
#include "plan/plan_internal.h"
#include "plan/rules.h"
#include "search/search_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool pd_i_cands_push(pd_i_cands *a, const pd_candidate *c)
{
	if (a->n == a->cap) {
		uint32_t cap = a->cap ? 2 * a->cap : 64;
		pd_candidate *v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return false;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = *c;
	return true;
}

static void fill_stage(const pd_plan *plan, const pd_choice *c, int64_t i, pd_stage *s)
{
	const pd_model *m = &plan->model;
	pd_loc at = plan->strategy.loc;
	int64_t n;
	pd_i_pp_split(m->layers, c->pp, i, &s->first_layer, &n); /* the shorthand's split */
	s->last_layer = s->first_layer + n - 1;
	s->has_attention = true;
	s->tp = c->tp;
	s->sp = c->sp;
	s->attention_loc = at;
	s->ep = m->experts > 0 ? c->ep : 1;
	s->has_moe = m->experts > 0;
	s->redundant = m->experts > 0 ? c->redundant : 0;
	s->moe_loc = s->has_moe ? at : (pd_loc){0, 0};
	int64_t moe, dense;
	pd_i_stage_layers(m, s, &moe, &dense);
	s->has_dense_ffn = dense > 0 && c->dense_tp != c->tp;
	s->dense_tp = s->has_dense_ffn ? c->dense_tp : 0;
	s->dense_ffn_loc = s->has_dense_ffn ? at : (pd_loc){0, 0};
	s->loc = at;
}

static void fill_workload(pd_plan *p, const pd_choice *c)
{
	pd_workload *w = &p->workload;
	w->micro_batches = c->micro_batches;
	w->overlap_two_batch = c->two_batch;
	w->assumed &= ~(unsigned)PD_ASSUMED_MICRO_BATCHES;
}

pd_status pd_i_search_build_plan(const pd_plan *plan, const pd_choice *c, pd_plan **out)
{
	*out = NULL;
	pd_arena *a = pd_arena_create();
	pd_plan *p = a ? pd_arena_calloc(a, 1, sizeof(*p)) : NULL;
	pd_replica *r = p ? pd_arena_calloc(a, 1, sizeof(*r)) : NULL;
	pd_stage *st = r ? pd_arena_calloc(a, (size_t)c->pp, sizeof(*st)) : NULL;
	if (!st) {
		pd_arena_destroy(a);
		return PD_IO;
	}
	p->name = plan->name;
	p->path = plan->path;
	p->model = plan->model;
	p->cluster = plan->cluster;
	p->workload = plan->workload;
	fill_workload(p, c);
	p->strategy.loc = plan->strategy.loc;
	p->strategy.declared_gpus = pd_choice_gpus(c);
	p->strategy.has_declared_gpus = true;
	p->arena = a;
	for (int64_t i = 0; i < c->pp; i++)
		fill_stage(plan, c, i, &st[i]);
	*r = (pd_replica){.count = c->dp,
	                  .stages = st,
	                  .n_stages = (uint32_t)c->pp,
	                  .loc = plan->strategy.loc};
	p->strategy.replicas = r;
	p->strategy.n_replicas = 1;
	*out = p;
	return PD_OK;
}

void pd_i_candidate_fill(const pd_plan *cplan, const pd_analysis *an, const pd_choice *c,
                         pd_candidate *out)
{
	double peak = 0;
	for (uint32_t i = 0; i < an->n_memory; i++)
		if (an->memory[i].capacity > 0 &&
		    an->memory[i].total / an->memory[i].capacity > peak)
			peak = an->memory[i].total / an->memory[i].capacity;
	int64_t reps = (int64_t)(cplan->strategy.n_replicas ? cplan->strategy.n_replicas : 1);
	double scale = (double)c->dp / (double)reps;
	bool prefill = cplan->workload.phase == PD_PREFILL;
	*out = (pd_candidate){.choice = *c, .gpus = pd_choice_gpus(c)};
	out->tokens_per_ms = an->tokens_per_ms * scale;
	out->tokens_per_s_per_gpu = out->tokens_per_ms * 1000.0 / (double)out->gpus;
	out->step_latency_us = an->step_latency_us;
	out->ttft_ms = prefill ? an->step_latency_us / 1000.0 : NAN;
	out->tpot_ms = prefill ? NAN : an->step_latency_us / 1000.0;
	out->peak_memory_fraction = peak;
}

void pd_i_candidate_fill_pooled(const pd_plan *cplan, const pd_analysis *an,
                                const pd_candidate *k, pd_candidate *out)
{
	pd_i_candidate_fill(cplan, an, &k->choice, out);
	out->prefill = k->prefill;
	out->gpus = an->gpus_structural;
	out->tokens_per_ms = an->tokens_per_ms;
	out->tokens_per_s_per_gpu =
	    out->gpus > 0 ? an->tokens_per_ms * 1000.0 / (double)out->gpus : 0;
	out->ttft_ms = an->ttft_ms;
	out->tpot_ms = an->tpot_ms;
	out->step_latency_us = an->tpot_ms * 1000.0;
}
