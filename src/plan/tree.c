/* tree.c - the expanded hierarchy as an indented tree (--dump=expand, the report).
 *
 *   strategy: 16 GPUs (declared 16)
 *     replica 0
 *       stage 0: layers 0-15, GPUs 0-15 (16), TP 1, EP 16
 *         GPU 0: experts 0
 *         ...
 *
 * Big plans are summarised so that the tree stays readable: at most a few replicas,
 * stages and GPU lines are printed in full, lists become ranges.
 */
#include "plan/layout.h"
#include "plandag/plan.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>

#define TREE_REPLICAS 2 /* replicas printed in full */
#define TREE_STAGES 4   /* stages printed in full per replica */
#define TREE_GPUS 4     /* GPU lines printed before a summary line */

/* Prints ids as ranges: 0-7,16-23 (the whole list). */
static void print_ranges(FILE *f, const int32_t *ids, uint32_t n)
{
	size_t size = 24 * (size_t)n + 8;
	char *buf = malloc(size);
	if (!buf) {
		fprintf(f, "(%u ids)", n); /* out of memory: the dump stays readable */
		return;
	}
	pd_i_format_ids(buf, size, ids, n);
	fputs(buf, f);
	free(buf);
}

/* Prints the experts of the slots of stage GPU index g as ranges (ascending ids, from
 * the stage's layout); returns the number of ranges. */
static uint32_t print_experts(FILE *f, const pd_i_expert_layout *l, uint32_t g)
{
	uint32_t n = 0;
	for (uint64_t i = l->off[g]; l->ids && i < l->off[g + 1]; n++) {
		uint64_t j = i;
		while (j + 1 < l->off[g + 1] && l->ids[j + 1] == l->ids[j] + 1)
			j++;
		fprintf(f, "%s%u", n ? "," : " ", l->ids[i]);
		if (j > i)
			fprintf(f, "-%u", l->ids[j]);
		i = j + 1;
	}
	if (n == 0)
		fprintf(f, " none");
	return n;
}

/* The range of slot counts over stage GPUs from..n_gpus-1. */
static void count_range(const pd_i_expert_layout *l, uint32_t from, uint64_t *lo,
                        uint64_t *hi)
{
	*lo = UINT64_MAX;
	*hi = 0;
	for (uint32_t g = from; g < l->n_gpus; g++) {
		*lo = pd_i_layout_slots(l, g) < *lo ? pd_i_layout_slots(l, g) : *lo;
		*hi = pd_i_layout_slots(l, g) > *hi ? pd_i_layout_slots(l, g) : *hi;
	}
}

/* The GPU lines of a stage: the first few in full, the rest in one summary line. */
static void print_stage_gpus(FILE *f, const pd_stage *s)
{
	uint32_t shown = s->n_gpus <= TREE_GPUS + 1 ? s->n_gpus : TREE_GPUS;
	for (uint32_t g = 0; g < shown; g++) {
		fprintf(f, "      GPU %d: experts", s->gpus[g]);
		print_experts(f, s->layout, g);
		fputc('\n', f);
	}
	if (shown == s->n_gpus)
		return;
	uint64_t lo, hi;
	count_range(s->layout, shown, &lo, &hi);
	fprintf(f, "      GPU %d..%d: ", s->gpus[shown], s->gpus[s->n_gpus - 1]);
	if (lo == hi && lo == 1)
		fprintf(f, "one expert each\n");
	else if (lo == hi)
		fprintf(f, "%llu experts each\n", (unsigned long long)lo);
	else
		fprintf(f, "%llu to %llu experts each\n", (unsigned long long)lo,
		        (unsigned long long)hi);
}

static void print_stage(FILE *f, const pd_plan *p, const pd_stage *s, uint32_t index)
{
	fprintf(f, "    stage %u: layers %lld-%lld, GPUs ", index, (long long)s->first_layer,
	        (long long)s->last_layer);
	print_ranges(f, s->gpus, s->n_gpus);
	fprintf(f, " (%u), TP %lld%s", s->n_gpus, (long long)s->tp, s->sp ? " + SP" : "");
	if (s->has_moe || p->model.experts > 0)
		fprintf(f, ", EP %lld", (long long)s->ep);
	if (s->has_dense_ffn)
		fprintf(f, ", dense FFN TP %lld", (long long)pd_stage_dense_tp(s));
	if (s->redundant > 0)
		fprintf(f, ", %lld redundant expert slots", (long long)s->redundant);
	fputc('\n', f);
	if (s->layout && s->layout->n_gpus > 0 && s->layout->n_gpus == s->n_gpus)
		print_stage_gpus(f, s);
}

static void print_replica(FILE *f, const pd_plan *p, const pd_replica *r, uint32_t index)
{
	fprintf(f, "  replica %u", index);
	if (p->strategy.n_replicas > 1)
		fprintf(f, " (<replica> %u, copy %u)", r->source, r->copy);
	if (r->count > 1)
		fprintf(f, ", count %lld (not expanded)", (long long)r->count);
	fputc('\n', f);
	uint32_t shown = r->n_stages <= TREE_STAGES + 1 ? r->n_stages : TREE_STAGES;
	for (uint32_t s = 0; s < shown; s++)
		print_stage(f, p, &r->stages[s], s);
	if (shown < r->n_stages)
		fprintf(f, "    stages %u..%u: layers %lld-%lld\n", shown, r->n_stages - 1,
		        (long long)r->stages[shown].first_layer,
		        (long long)r->stages[r->n_stages - 1].last_layer);
}

static int64_t structural_gpus(const pd_strategy *st)
{
	int64_t n = 0;
	for (uint32_t i = 0; i < st->n_replicas; i++)
		for (uint32_t s = 0; s < st->replicas[i].n_stages; s++)
			n += st->replicas[i].stages[s].n_gpus;
	return n;
}

/* A name from the plan on one line: control characters (a newline, an escape sequence
 * meant for the terminal) are written as \xNN. */
static void print_name(FILE *f, const char *name)
{
	if (!name) {
		fputs("(unnamed)", f);
		return;
	}
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			fprintf(f, "\\x%02x", *c);
		else
			fputc(*c, f);
}

static void print_header(FILE *f, const pd_plan *p)
{
	const pd_model *m = &p->model;
	const pd_strategy *st = &p->strategy;
	fputs("plan ", f);
	print_name(f, p->name);
	fputs(": model ", f);
	print_name(f, m->name);
	fprintf(f, ", %lld layers, ", (long long)m->layers);
	if (m->experts > 0)
		fprintf(f, "%lld experts top-%lld, ", (long long)m->experts, (long long)m->top_k);
	fprintf(f, "%s; cluster %lld x %lld GPUs\n", pd_dtype_name(m->dtype),
	        (long long)p->cluster.nodes, (long long)p->cluster.gpus_per_node);
	fprintf(f, "strategy: %lld GPUs (", (long long)structural_gpus(st));
	if (st->has_declared_gpus)
		fprintf(f, "declared %lld", (long long)st->declared_gpus);
	else
		fprintf(f, "not declared");
	if (st->shorthand)
		fprintf(f, "; shorthand dp=%lld pp=%lld tp=%lld ep=%lld sp=%s", (long long)st->dp,
		        (long long)st->pp, (long long)st->tp, (long long)st->ep,
		        st->sp ? "true" : "false");
	fprintf(f, ")\n");
}

/* Replicas [first, end) of the strategy, the ones past TREE_REPLICAS summed up. */
static void print_replicas(FILE *f, const pd_plan *p, uint32_t first, uint32_t end)
{
	const pd_strategy *st = &p->strategy;
	uint32_t n = end - first;
	uint32_t shown = first + (n <= TREE_REPLICAS + 1 ? n : TREE_REPLICAS);
	for (uint32_t i = first; i < shown; i++)
		print_replica(f, p, &st->replicas[i], i);
	if (shown == end)
		return;
	int64_t gpus = 0;
	for (uint32_t i = shown; i < end; i++)
		for (uint32_t s = 0; s < st->replicas[i].n_stages; s++)
			gpus += st->replicas[i].stages[s].n_gpus;
	fprintf(f, "  replicas %u..%u: %u more, %lld GPUs\n", shown, end - 1, end - shown,
	        (long long)gpus);
}

void pd_plan_print_tree(const pd_plan *p, FILE *f)
{
	if (!p || !f)
		return;
	print_header(f, p);
	const pd_strategy *st = &p->strategy;
	if (!pd_plan_is_pooled(p)) {
		print_replicas(f, p, 0, st->n_replicas);
		return;
	}
	for (uint32_t k = 0; k < st->n_pools; k++) {
		const pd_pool *pool = &st->pools[k];
		uint32_t end = pool->first_replica + pool->n_replicas;
		fprintf(f, "pool %s: %u replica(s), batch %lld, micro-batches %lld, context %lld\n",
		        pd_phase_name(pool->phase), pool->n_replicas, (long long)pool->batch,
		        (long long)pool->micro_batches,
		        (long long)pd_plan_pool_context(p, pool->phase));
		print_replicas(f, p, pool->first_replica,
		               end <= st->n_replicas ? end : st->n_replicas);
	}
}
