/* refine.c - the best candidates compiled exactly as `plandag compile` compiles the
 * written plan (src/pipeline.c), their estimate replaced by the scheduled figures. */
#include "plandag/pipeline.h"
#include "search/search_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ROUNDS 4
#define MAX_FRONTIER 8 /* frontier points compiled after the best K */
#define MAX_BATCH 4    /* compilations at once: each may hold a DAG of 3 M elements */
#define MAX_JOBS 64    /* candidates one compile_all takes (the top K is at most 64) */

const char *pd_search_why(pd_objective o)
{
	switch (o) {
	case PD_OBJECTIVE_THROUGHPUT:
		return "the most tokens/ms that meets every target";
	case PD_OBJECTIVE_PER_GPU:
		return "the most tokens/s per GPU that meets every target";
	case PD_OBJECTIVE_LATENCY:
		return "the shortest step that meets every target";
	case PD_OBJECTIVE_GPUS:
		break;
	}
	return "the fewest GPUs that meet every target, then the most tokens/ms";
}

/* Errors other than the targets: the compiled plan breaks a rule. */
static bool breaks(const pd_diag_list *l, bool *misses)
{
	size_t targets = pd_i_target_errors(l);
	*misses = targets > 0;
	return l->errors > targets;
}

static pd_status compile(const pd_plan *plan, const pd_search_options *opt,
                         const pd_candidate *k, uint64_t max_elements, pd_compilation *comp)
{
	pd_compile_options copt = {.lower = 1, .max_elements = max_elements};
	const pd_choice *c = &k->choice;
	bool pooled = k->prefill.dp > 0;
	if (!opt->text && !pooled) {
		pd_plan *p;
		PD_CHECK(pd_i_search_build_plan(plan, c, &p));
		return pd_compile_plan(p, &copt, comp);
	}
	size_t len = 0;
	const char *why = pd_search_why(opt->objective);
	char *xml = !opt->text ? NULL
	            : pooled   ? pd_search_pooled_plan_xml(plan, opt->text, opt->text_len,
	                                                   &k->prefill, c, why, &len)
	                     : pd_search_plan_xml(plan, opt->text, opt->text_len, c, why, &len);
	if (!xml) {
		memset(comp, 0, sizeof(*comp));
		pd_diag_list_init(&comp->diags);
		return opt->text ? PD_IO : PD_OK; /* a pooled plan without its text: estimate */
	}
	pd_status s = pd_compile_memory(xml, len, plan->path, &copt, comp);
	free(xml);
	return s;
}

static bool same_shape(const pd_choice *a, const pd_choice *b)
{
	pd_choice x = *a, y = *b;
	x.dp = y.dp = 1;
	return pd_i_choice_cmp(&x, &y) == 0;
}

/* The other dp of k's shape take its scheduled figures where that is exact (replicas
 * aligned on the nodes): tokens/ms scale with dp, the rest is per replica. */
static void share(pd_search_result *res, const pd_candidate *k, const pd_compilation *comp)
{
	const pd_cluster *cl = &comp->plan->cluster;
	int64_t replica = k->gpus / k->choice.dp;
	if (!pd_i_replicas_aligned(cl, replica))
		return;
	for (uint32_t i = 0; i < res->n_candidates; i++) {
		pd_candidate *o = &res->candidates[i];
		if (o == k || o->scheduled || !same_shape(&o->choice, &k->choice))
			continue;
		pd_choice ch = o->choice;
		pd_i_candidate_fill(comp->plan, &comp->analysis, &ch, o);
		o->meets_targets =
		    pd_i_meets_targets(comp->plan, &comp->analysis, o->tokens_per_ms);
		o->scheduled = true;
	}
}

/* Says why a compiled candidate is dropped: a rule its written plan breaks (the estimate
 * let it through: a bug worth reporting), or pools the scheduled steps put out of
 * balance (the estimate balanced them; the schedule is what counts). */
static void drop_note(const pd_candidate *k, const pd_compilation *comp, bool broken,
                      pd_diag_list *diags)
{
	char buf[420];
	const char *rule = PD_RULE_POOL_BALANCE;
	for (size_t i = 0; broken && i < comp->diags.n; i++)
		if (comp->diags.items[i].severity == PD_ERROR &&
		    strcmp(comp->diags.items[i].rule, PD_RULE_THROUGHPUT_TARGET) != 0 &&
		    strcmp(comp->diags.items[i].rule, PD_RULE_LATENCY_TARGET) != 0) {
			rule = comp->diags.items[i].rule;
			break;
		}
	pd_candidate_describe(k, buf, sizeof(buf));
	if (broken)
		pd_diag_add(diags, PD_RULE_SUGGEST, PD_WARNING, 0, 0,
		            "internal: the written plan of %s breaks %s; dropped", buf, rule);
	else
		pd_diag_add(diags, PD_RULE_SUGGEST, PD_NOTE, 0, 0,
		            "%s: on the schedule its pools are out of balance (%s); dropped", buf,
		            rule);
}

/* Applies the compilation of candidate k (status s); *gone when the compiled plan
 * breaks a rule (then it is dropped). */
static pd_status apply(pd_search_result *res, pd_candidate *k, pd_compilation *comp,
                       pd_status s, bool *gone, pd_diag_list *diags)
{
	bool misses = false;
	*gone = false;
	if (s == PD_IO && !comp->plan)
		return PD_IO;
	bool unbalanced =
	    k->prefill.dp > 0 && pd_diag_list_has(&comp->diags, PD_RULE_POOL_BALANCE);
	bool broken = comp->plan && breaks(&comp->diags, &misses);
	if (broken || (comp->plan && unbalanced)) {
		drop_note(k, comp, broken, diags);
		*gone = true;
	} else if (comp->reached == PD_STAGE_CHECK) {
		pd_candidate v;
		if (k->prefill.dp > 0) {
			pd_i_candidate_fill_pooled(comp->plan, &comp->analysis, k, &v);
		} else {
			pd_i_candidate_fill(comp->plan, &comp->analysis, &k->choice, &v);
			share(res, k, comp);
		}
		v.meets_targets = !misses;
		v.scheduled = true;
		*k = v;
	} else {
		k->meets_targets = k->meets_targets && !misses; /* too large: estimate stays */
	}
	return PD_OK;
}

/* The compilations of one call of compile_all: workers take candidates by index from a
 * shared counter (no batch waits for its slowest member), each compiles into that
 * candidate's own slot and drops the DAG at once, so that at most MAX_BATCH DAGs are held
 * and the main thread only applies the figures, in index order. */
typedef struct pool {
	const pd_plan *plan;
	const pd_search_options *opt;
	uint64_t max_elements;
	const pd_candidate *cands; /* copies of the candidates to compile */
	pd_compilation *comps;
	pd_status *status;
	uint32_t n;
	atomic_uint next;
} pool;

/* What apply needs of a compilation (plan, analysis, diagnostics, stage reached): the
 * DAG and its critical path are released by the worker that built them. */
static void keep_figures(pd_compilation *c)
{
	pd_critical_path_release(&c->cp);
	pd_dag_destroy(c->dag);
	c->dag = NULL;
}

static void *pool_work(void *arg)
{
	pool *p = arg;
	for (unsigned i; (i = atomic_fetch_add(&p->next, 1u)) < p->n;) {
		p->status[i] =
		    compile(p->plan, p->opt, &p->cands[i], p->max_elements, &p->comps[i]);
		keep_figures(&p->comps[i]);
	}
	return NULL;
}

static uint32_t pool_size(const pd_search_options *opt, uint32_t n)
{
	long t = opt->threads > 0 ? opt->threads : sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t b = t < 1 ? 1 : t > MAX_BATCH ? MAX_BATCH : (uint32_t)t;
	return b < n ? b : n;
}

/* Runs the pool on b workers, the calling thread one of them. */
static void run_pool(pool *p, uint32_t b)
{
	pthread_t th[MAX_BATCH];
	bool started[MAX_BATCH] = {false};
	for (uint32_t t = 1; t < b; t++)
		started[t] = pthread_create(&th[t], NULL, pool_work, p) == 0;
	pool_work(p); /* also takes what a thread that failed to start would have */
	for (uint32_t t = 1; t < b; t++)
		if (started[t])
			pthread_join(th[t], NULL);
}

static void drop(pd_search_result *res, uint32_t i)
{
	memmove(&res->candidates[i], &res->candidates[i + 1],
	        (res->n_candidates - i - 1) * sizeof(*res->candidates));
	res->n_candidates--;
}

typedef struct tried {
	pd_choice v[MAX_ROUNDS * 64], pre[MAX_ROUNDS * 64];
	uint32_t n;
} tried;

/* Whether c was compiled already (a candidate too large to lower keeps its estimate). */
static bool seen(tried *t, const pd_candidate *k)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (pd_i_choice_cmp(&t->v[i], &k->choice) == 0 &&
		    pd_i_choice_cmp(&t->pre[i], &k->prefill) == 0)
			return true;
	if (t->n < sizeof(t->v) / sizeof(t->v[0])) {
		t->pre[t->n] = k->prefill;
		t->v[t->n++] = k->choice;
	}
	return false;
}

/* Applies the compilations of idx[0..n) in that order (candidates a compiled plan drops
 * shift the later indices down). */
static pd_status apply_all(pd_search_result *res, const uint32_t *idx, pool *p,
                           pd_diag_list *diags)
{
	pd_status s = PD_OK;
	uint32_t gone_before = 0;
	for (uint32_t j = 0; j < p->n; j++) {
		bool gone = false;
		uint32_t at = idx[j] - gone_before;
		if (s == PD_OK)
			s = apply(res, &res->candidates[at], &p->comps[j], p->status[j], &gone, diags);
		if (s == PD_OK && gone) {
			drop(res, at);
			gone_before++;
		}
		pd_compilation_release(&p->comps[j]);
	}
	return s;
}

/* Compiles the candidates idx[0..n) (ascending) on every core and applies the results in
 * that order, so the result does not depend on the threads. */
static pd_status compile_all(const pd_plan *plan, const pd_search_options *opt,
                             uint64_t max_elements, pd_search_result *res,
                             const uint32_t *idx, uint32_t n, pd_diag_list *diags)
{
	pd_candidate cands[MAX_JOBS];
	pd_status status[MAX_JOBS];
	pool p = {.plan = plan,
	          .opt = opt,
	          .max_elements = max_elements,
	          .cands = cands,
	          .status = status,
	          .n = n < MAX_JOBS ? n : MAX_JOBS};
	p.comps = calloc((size_t)p.n + 1, sizeof(*p.comps)); /* zeroed: released if unused */
	if (!p.comps)
		return PD_IO;
	atomic_init(&p.next, 0u);
	for (uint32_t j = 0; j < p.n; j++)
		cands[j] = res->candidates[idx[j]];
	if (p.n > 0)
		run_pool(&p, pool_size(opt, p.n));
	pd_status s = apply_all(res, idx, &p, diags);
	free(p.comps);
	return s;
}

/* The untried candidates among the first k (ascending indices); their number. */
static uint32_t untried_top(const pd_search_result *res, uint32_t k, tried *t,
                            uint32_t *idx)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < k && i < res->n_candidates; i++)
		if (!res->candidates[i].scheduled && !seen(t, &res->candidates[i]))
			idx[n++] = i;
	return n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The untried frontier points, at most MAX_FRONTIER, ascending. */
static uint32_t untried_frontier(const pd_search_result *res, tried *t, uint32_t *idx)
{
	uint32_t n = 0;
	for (uint32_t f = 0; f < res->n_frontier && n < MAX_FRONTIER; f++) {
		uint32_t i = res->frontier[f];
		if (!res->candidates[i].scheduled && !seen(t, &res->candidates[i]))
			idx[n++] = i;
	}
	qsort(idx, n, sizeof(*idx), cmp_u32);
	return n;
}

pd_status pd_i_refine(const pd_plan *plan, const pd_search_options *opt,
                      pd_search_result *res, pd_diag_list *diags)
{
	uint32_t k = opt->top_k > 0 ? (uint32_t)opt->top_k : PD_I_SEARCH_TOP_K;
	if (k > 64)
		k = 64;
	tried *t = calloc(1, sizeof(*t));
	if (!t)
		return PD_IO;
	pd_status s = PD_OK;
	uint32_t idx[64], n = 1;
	for (int round = 0; round < MAX_ROUNDS && s == PD_OK && n > 0; round++) {
		n = untried_top(res, k, t, idx);
		s = compile_all(plan, opt, PD_I_SEARCH_MAX_ELEMENTS, res, idx, n, diags);
		if (s == PD_OK)
			s = pd_i_rank(plan, res, opt->objective);
	}
	if (s == PD_OK && (n = untried_frontier(res, t, idx)) > 0) {
		s = compile_all(plan, opt, PD_I_SEARCH_FRONTIER_ELEMENTS, res, idx, n, diags);
		if (s == PD_OK)
			s = pd_i_rank(plan, res, opt->objective);
	}
	free(t);
	return s;
}
