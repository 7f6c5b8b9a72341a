/* rules_common.c - helpers shared by the rule checks. */
#include "plan/rules.h"
#include "plan/cost.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define RECENT 64

static bool already_reported(const pd_diag_list *l, const char *rule, pd_loc loc,
                             const char *msg)
{
	for (size_t i = l->n > RECENT ? l->n - RECENT : 0; i < l->n; i++) {
		const pd_diag *d = &l->items[i];
		if (d->line == loc.line && d->column == loc.column && strcmp(d->rule, rule) == 0 &&
		    d->message && strcmp(d->message, msg) == 0)
			return true;
	}
	return false;
}

pd_diag *pd_i_report(pd_i_ctx *c, const char *rule, pd_severity sev, pd_loc loc,
                     const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (already_reported(c->diags, rule, loc, msg))
		return NULL;
	return pd_diag_add(c->diags, rule, sev, loc.line, loc.column, "%s", msg);
}

bool pd_i_strategy_uniform(const pd_strategy *st, uint32_t *dp, uint32_t *pp,
                           uint32_t *size)
{
	if (st->n_replicas == 0 || st->replicas[0].n_stages == 0)
		return false;
	uint32_t n_st = st->replicas[0].n_stages, sz = st->replicas[0].stages[0].n_gpus;
	for (uint32_t r = 0; r < st->n_replicas; r++) {
		if (st->replicas[r].n_stages != n_st)
			return false;
		for (uint32_t s = 0; s < n_st; s++)
			if (st->replicas[r].stages[s].n_gpus != sz)
				return false;
	}
	*dp = st->n_replicas;
	*pp = n_st;
	*size = sz;
	return true;
}

pd_loc pd_i_attention_loc(const pd_stage *s)
{
	return s->has_attention && s->attention_loc.line > 0 ? s->attention_loc : s->loc;
}

pd_loc pd_i_moe_loc(const pd_stage *s)
{
	return s->has_moe && s->moe_loc.line > 0 ? s->moe_loc : s->loc;
}

void pd_i_stage_layers(const pd_model *m, const pd_stage *s, int64_t *moe, int64_t *dense)
{
	int64_t a = s->first_layer < 0 ? 0 : s->first_layer;
	int64_t b = s->last_layer >= m->layers ? m->layers - 1 : s->last_layer;
	*moe = *dense = 0;
	if (b < a)
		return;
	int64_t first_moe =
	    m->experts > 0 ? (m->first_dense < 0 ? 0 : m->first_dense) : m->layers;
	int64_t moe_from = a > first_moe ? a : first_moe;
	*moe = b >= moe_from ? b - moe_from + 1 : 0;
	*dense = b - a + 1 - *moe;
}

int64_t pd_i_tp(const pd_stage *s)
{
	return s->tp < 1 ? 1 : s->tp;
}

int64_t pd_i_groups(const pd_stage *s)
{
	int64_t g = (int64_t)s->n_gpus / pd_i_tp(s);
	return g < 1 ? 1 : g;
}

int64_t pd_i_kv_dst_index(const pd_model *m, const pd_stage *s, int64_t gi, int64_t j,
                          const pd_stage *d)
{
	int64_t tp = pd_i_tp(s), dtp = pd_i_tp(d);
	int64_t group = (j * pd_i_groups(s) + gi / tp) % pd_i_groups(d);
	return group * dtp + pd_i_kv_dst_rank(m, gi % tp, tp, dtp);
}

uint32_t pd_i_copies_end(const pd_strategy *st, uint32_t r)
{
	uint32_t e = r + 1;
	while (e < st->n_replicas && st->replicas[e].source == st->replicas[r].source &&
	       st->replicas[e].copy > 0)
		e++;
	return e;
}

int64_t pd_i_largest_divisor_upto(int64_t n, int64_t cap)
{
	for (int64_t d = cap < n ? cap : n; d > 1; d--)
		if (n % d == 0)
			return d;
	return 1;
}
