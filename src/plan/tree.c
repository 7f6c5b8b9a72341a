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

/* Prints the experts hosted on stage GPU index g as ranges; returns their number. */
static uint32_t print_experts(FILE *f, const pd_stage *s, int64_t experts, int32_t g)
{
	uint32_t n = 0;
	int64_t run = -1;
	for (int64_t e = 0; e <= experts; e++) {
		bool here = e < experts && s->expert_host[e] == g;
		if (here && run < 0)
			run = e;
		if (!here && run >= 0) {
			fprintf(f, "%s%lld", n ? "," : " ", (long long)run);
			if (e - 1 > run)
				fprintf(f, "-%lld", (long long)(e - 1));
			n++;
			run = -1;
		}
	}
	if (n == 0)
		fprintf(f, " none");
	return n;
}

/* The range of expert counts over stage GPUs from..n_gpus-1, in one pass. */
static void count_range(const pd_stage *s, int64_t experts, uint32_t from, uint32_t *lo,
                        uint32_t *hi)
{
	uint32_t *count = calloc(s->n_gpus, sizeof(*count));
	*lo = *hi = 0;
	if (!count)
		return;
	for (int64_t e = 0; e < experts; e++)
		if (s->expert_host[e] >= 0 && (uint32_t)s->expert_host[e] < s->n_gpus)
			count[s->expert_host[e]]++;
	*lo = UINT32_MAX;
	for (uint32_t g = from; g < s->n_gpus; g++) {
		*lo = count[g] < *lo ? count[g] : *lo;
		*hi = count[g] > *hi ? count[g] : *hi;
	}
	free(count);
}

/* The GPU lines of a stage: the first few in full, the rest in one summary line. */
static void print_stage_gpus(FILE *f, const pd_stage *s, int64_t experts)
{
	uint32_t shown = s->n_gpus <= TREE_GPUS + 1 ? s->n_gpus : TREE_GPUS;
	for (uint32_t g = 0; g < shown; g++) {
		fprintf(f, "      GPU %d: experts", s->gpus[g]);
		print_experts(f, s, experts, (int32_t)g);
		fputc('\n', f);
	}
	if (shown == s->n_gpus)
		return;
	uint32_t lo, hi;
	count_range(s, experts, shown, &lo, &hi);
	fprintf(f, "      GPU %d..%d: ", s->gpus[shown], s->gpus[s->n_gpus - 1]);
	if (lo == hi && lo == 1)
		fprintf(f, "one expert each\n");
	else if (lo == hi)
		fprintf(f, "%u experts each\n", lo);
	else
		fprintf(f, "%u to %u experts each\n", lo, hi);
}

static void print_stage(FILE *f, const pd_plan *p, const pd_stage *s, uint32_t index)
{
	fprintf(f, "    stage %u: layers %lld-%lld, GPUs ", index, (long long)s->first_layer,
	        (long long)s->last_layer);
	print_ranges(f, s->gpus, s->n_gpus);
	fprintf(f, " (%u), TP %lld%s", s->n_gpus, (long long)s->tp, s->sp ? " + SP" : "");
	if (s->has_moe || p->model.experts > 0)
		fprintf(f, ", EP %lld", (long long)s->ep);
	fputc('\n', f);
	if (s->expert_host && s->n_gpus > 0)
		print_stage_gpus(f, s, p->model.experts);
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

void pd_plan_print_tree(const pd_plan *p, FILE *f)
{
	if (!p || !f)
		return;
	print_header(f, p);
	const pd_strategy *st = &p->strategy;
	uint32_t shown = st->n_replicas <= TREE_REPLICAS + 1 ? st->n_replicas : TREE_REPLICAS;
	for (uint32_t i = 0; i < shown; i++)
		print_replica(f, p, &st->replicas[i], i);
	if (shown == st->n_replicas)
		return;
	int64_t gpus = 0;
	for (uint32_t i = shown; i < st->n_replicas; i++)
		for (uint32_t s = 0; s < st->replicas[i].n_stages; s++)
			gpus += st->replicas[i].stages[s].n_gpus;
	fprintf(f, "  replicas %u..%u: %u more, %lld GPUs\n", shown, st->n_replicas - 1,
	        st->n_replicas - shown, (long long)gpus);
}
