/* space.c - the replica shapes `suggest` evaluates, and what it prunes before evaluating.
 *
 * A shape is a pd_choice with dp = 1: pp (a table of depths up to the layers), attention
 * tp (divisors of heads up to the NVLink domain), the stage size (= ep for a MoE model:
 * divisors of the experts, multiples of the node and powers of two, with the fewest
 * redundant experts that make experts + R divide by ep, at most a quarter of the
 * experts; = tp for a dense model), SP (with tp > 1), dense TP (the stage, when it
 * differs from tp, for models with dense layers), micro-batches (divisors of the batch up
 * to 2 pp) and two-batch overlap (micro-batches 1, a stage that communicates, two or
 * more sequences per attention group).  Pruning, in this order (docs/suggest.md):
 *   memory: pp x stage below the GPUs that weights + KV cache need (pd_i_memory_floor);
 *   budget: while the estimated work exceeds the budget, one level harder at a time
 *           (LEVELS below); the last level keeps every k-th shape.
 * The work estimate is a fixed cost per shape (not a clock), so that the same plan
 * gives the same shapes on every machine and at every thread count.
 */
#include "plan/rules.h"
#include "search/search_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int64_t PP_TABLE[] = {1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24, 32, 48, 64};
#define N_PP (sizeof(PP_TABLE) / sizeof(PP_TABLE[0]))
#define MAX_STAGE_SIZES 96
#define MAX_TP 32

/* What each budget level gives up, cumulatively. */
static const char *const LEVELS[] = {
    NULL,
    "micro-batches only 1 and pp",
    "dense TP only the attention TP",
    "only the fewest redundant experts",
    "SP only on (with tp > 1)",
    "no two-batch overlap",
    "pipeline depths only 1, 2, 4, 8, 16, 32, 64",
    "stage sizes only divisors of the experts and whole nodes",
};
#define N_LEVELS ((int)(sizeof(LEVELS) / sizeof(LEVELS[0])))

/* Estimated microseconds to expand and validate a shape (bench/: plandag-bench suggest). */
static double work_us(const pd_plan *p, const pd_choice *c)
{
	double gpus = (double)pd_choice_gpus(c);
	double slots = (double)(p->model.experts + c->redundant);
	return 25.0 + 0.25 * gpus + 0.02 * slots * (double)c->pp +
	       0.002 * (double)p->model.layers;
}

typedef struct gen {
	const pd_plan *p;
	pd_i_space *sp;
	int level;
	uint64_t stride; /* keep every stride-th shape (level N_LEVELS) */
	uint64_t seen;   /* shapes generated that passed the memory bound */
	uint64_t memory; /* shapes below the memory bound */
	double work_us;
	bool store; /* false: count only */
	pd_choice *out;
	uint32_t n, cap;
	bool oom;
} gen;

static void emit(gen *g, const pd_choice *c)
{
	if (pd_choice_gpus(c) < g->sp->min_replica) {
		g->memory++;
		return;
	}
	if (g->seen++ % g->stride != 0)
		return;
	g->work_us += work_us(g->p, c);
	if (!g->store) {
		g->n++;
		return;
	}
	if (g->n == g->cap) {
		uint32_t cap = g->cap ? 2 * g->cap : 256;
		pd_choice *v = realloc(g->out, cap * sizeof(*v));
		if (!v) {
			g->oom = true;
			return;
		}
		g->out = v;
		g->cap = cap;
	}
	g->out[g->n++] = *c;
}

static int64_t largest_divisor_upto(int64_t n, int64_t cap)
{
	for (int64_t d = cap < n ? cap : n; d > 1; d--)
		if (n % d == 0)
			return d;
	return 1;
}

/* Micro-batches and overlap of a shape whose other members are set. */
static void vary_batches(gen *g, pd_choice c)
{
	const pd_workload *w = &g->p->workload;
	int64_t mbs[3] = {1, largest_divisor_upto(w->batch, c.pp),
	                  largest_divisor_upto(w->batch, 2 * c.pp)};
	int n = g->level >= 1 ? 2 : 3;
	for (int i = 0; i < n; i++) {
		if (i > 0 && mbs[i] == mbs[i - 1])
			continue;
		c.micro_batches = mbs[i];
		c.two_batch = false;
		emit(g, &c);
		int64_t stage = c.tp > c.ep ? c.tp : c.ep, groups = stage / c.tp;
		bool talks = stage > 1, halves = w->batch / groups >= 2;
		if (g->level < 5 && mbs[i] == 1 && talks && halves) {
			c.two_batch = true;
			emit(g, &c);
		}
	}
}

/* SP and dense TP of a shape with pp, tp, ep and redundant set. */
static void vary_operator(gen *g, pd_choice c)
{
	const pd_model *m = &g->p->model;
	int64_t stage = c.tp > c.ep ? c.tp : c.ep;
	bool has_dense = m->dense_ffn > 0 && (m->experts == 0 || m->first_dense > 0);
	bool other = has_dense && g->level < 2 && stage != c.tp && m->dense_ffn % stage == 0;
	for (int sp = c.tp > 1 && g->level < 4 ? 0 : c.tp > 1; sp <= (c.tp > 1); sp++)
		for (int d = 0; d <= (int)other; d++) {
			c.sp = sp;
			c.dense_tp = d ? stage : c.tp;
			vary_batches(g, c);
		}
}

static bool is_pow2(int64_t x)
{
	return x > 0 && (x & (x - 1)) == 0;
}

/* Stage sizes of a MoE model with attention tp: ascending, at most MAX_STAGE_SIZES. */
static int stage_sizes(const gen *g, int64_t tp, int64_t *out)
{
	const pd_plan *p = g->p;
	int64_t e = p->model.experts, cap = e + e / 4, unit = p->cluster.gpus_per_node;
	if (cap > g->sp->max_gpus)
		cap = g->sp->max_gpus;
	int n = 0;
	for (int64_t s = tp; s <= cap && n < MAX_STAGE_SIZES; s += tp) {
		bool whole = unit > 0 && s % unit == 0 && s / unit <= 64;
		bool keep = e % s == 0 || whole || (g->level < 7 && is_pow2(s));
		if (keep)
			out[n++] = s;
		if (s / tp > 4096)
			break; /* hostile expert counts: the sizes above are whole nodes only */
	}
	return n;
}

static void vary_experts(gen *g, pd_choice c)
{
	int64_t sizes[MAX_STAGE_SIZES], e = g->p->model.experts;
	int n = stage_sizes(g, c.tp, sizes);
	for (int i = 0; i < n; i++) {
		int64_t s = sizes[i], r0 = (s - e % s) % s;
		if (r0 > e / 4)
			continue;
		c.ep = s;
		for (int64_t r = r0; r <= r0 + (g->level < 3 ? s : 0); r += s) {
			if (r > e / 4 || (r > r0 && s > e))
				break;
			c.redundant = r;
			if (c.pp * s <= g->sp->max_gpus)
				vary_operator(g, c);
		}
	}
}

static bool pp_allowed(const gen *g, int64_t pp)
{
	return pp <= g->p->model.layers && (g->level < 6 || is_pow2(pp));
}

static void generate(gen *g)
{
	const pd_plan *p = g->p;
	const pd_model *m = &p->model;
	int64_t tp_cap =
	    p->cluster.nvlink_domain > 0 ? p->cluster.nvlink_domain : p->cluster.gpus_per_node;
	tp_cap = tp_cap < MAX_TP ? tp_cap : MAX_TP;
	for (size_t k = 0; k < N_PP; k++) {
		if (!pp_allowed(g, PP_TABLE[k]))
			continue;
		for (int64_t tp = 1; tp <= tp_cap; tp++) {
			if (m->heads % tp != 0 || PP_TABLE[k] * tp > g->sp->max_gpus)
				continue;
			pd_choice c = {
			    .dp = 1, .pp = PP_TABLE[k], .tp = tp, .ep = 1, .micro_batches = 1};
			if (m->experts > 0)
				vary_experts(g, c);
			else
				vary_operator(g, c);
		}
	}
}

static uint64_t run(const pd_plan *p, pd_i_space *sp, int level, uint64_t stride,
                    double *us)
{
	gen g = {.p = p, .sp = sp, .level = level, .stride = stride};
	generate(&g);
	*us = g.work_us;
	return g.n;
}

/* The memory bound: GPUs one replica needs at least. */
static void memory_bound(const pd_plan *p, pd_i_space *sp)
{
	sp->floor_bytes = pd_i_memory_floor(p, &sp->usable_bytes);
	double need =
	    sp->usable_bytes > 0 ? ceil(sp->floor_bytes / sp->usable_bytes) : INFINITY;
	sp->min_replica = need > (double)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)need;
	if (sp->min_replica < 1)
		sp->min_replica = 1;
}

static void say_pruned(pd_i_space *sp, uint64_t memory, int level, uint64_t stride,
                       uint64_t budget_cut)
{
	size_t n = 0;
	if (memory)
		n += (size_t)snprintf(
		    sp->why + n, sizeof(sp->why) - n,
		    "%llu strategies with fewer than %lld GPUs per replica (weights "
		    "+ KV cache %.1f GB, %.1f GB usable per GPU)",
		    (unsigned long long)memory, (long long)sp->min_replica, sp->floor_bytes / 1e9,
		    sp->usable_bytes / 1e9);
	if (level > 0 && n < sizeof(sp->why))
		n += (size_t)snprintf(sp->why + n, sizeof(sp->why) - n,
		                      "%s%llu more for the time budget:", n ? "; " : "",
		                      (unsigned long long)budget_cut);
	for (int l = 1; l <= level && l < N_LEVELS && n < sizeof(sp->why); l++)
		n += (size_t)snprintf(sp->why + n, sizeof(sp->why) - n, "%s %s", l > 1 ? "," : "",
		                      LEVELS[l]);
	if (stride > 1 && n < sizeof(sp->why))
		snprintf(sp->why + n, sizeof(sp->why) - n, ", then every %llu-th strategy",
		         (unsigned long long)stride);
}

pd_status pd_i_space_build(const pd_plan *plan, const pd_search_options *opt,
                           pd_i_space *sp)
{
	memset(sp, 0, sizeof(*sp));
	int64_t cluster = pd_cluster_gpus(&plan->cluster);
	sp->max_gpus = opt->max_gpus > 0 && opt->max_gpus < cluster ? opt->max_gpus : cluster;
	memory_bound(plan, sp);
	double budget_us = 1e6 * (opt->budget_s > 0 ? opt->budget_s : PD_I_SEARCH_BUDGET_S);
	double us;
	gen full = {.p = plan, .sp = sp, .stride = 1};
	generate(&full);
	uint64_t total = full.memory + full.n;
	int level = 0;
	uint64_t stride = 1;
	run(plan, sp, 0, 1, &us);
	while (us > budget_us && level + 1 < N_LEVELS)
		run(plan, sp, ++level, 1, &us);
	if (us > budget_us)
		stride = (uint64_t)ceil(us / budget_us);
	gen g = {.p = plan, .sp = sp, .level = level, .stride = stride, .store = true};
	generate(&g);
	if (g.oom) {
		free(g.out);
		return PD_IO;
	}
	sp->shapes = g.out;
	sp->n = g.n;
	sp->pruned = total - g.n;
	if (sp->pruned)
		say_pruned(sp, full.memory, level, stride, total - full.memory - g.n);
	return PD_OK;
}

void pd_i_space_release(pd_i_space *sp)
{
	free(sp->shapes);
	memset(sp, 0, sizeof(*sp));
}
