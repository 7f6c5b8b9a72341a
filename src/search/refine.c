/* refine.c - the best candidates compiled exactly as `plandag compile` compiles the
 * written plan (src/pipeline.c), their estimate replaced by the scheduled figures. */
#include "plandag/pipeline.h"
#include "search/search_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ROUNDS 4
#define MAX_FRONTIER 8 /* frontier points compiled after the best K */
#define MAX_BATCH 4    /* compilations at once: each may hold a DAG of 3 M elements */

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
	size_t targets = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].severity == PD_ERROR &&
		    (strcmp(l->items[i].rule, PD_RULE_THROUGHPUT_TARGET) == 0 ||
		     strcmp(l->items[i].rule, PD_RULE_LATENCY_TARGET) == 0))
			targets++;
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
	if (comp->plan && (breaks(&comp->diags, &misses) || unbalanced)) {
		char buf[160];
		pd_diag_add(diags, PD_RULE_SUGGEST, PD_WARNING, 0, 0,
		            "internal: the written plan of %s breaks a rule; dropped",
		            pd_choice_describe(&k->choice, buf, sizeof(buf)));
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

/* One compilation of a batch, run on a thread of its own. */
typedef struct job {
	const pd_plan *plan;
	const pd_search_options *opt;
	pd_candidate cand;
	uint64_t max_elements;
	pd_compilation comp;
	pd_status status;
	pthread_t thread;
	bool started;
} job;

static void *run_job(void *arg)
{
	job *j = arg;
	j->status = compile(j->plan, j->opt, &j->cand, j->max_elements, &j->comp);
	return NULL;
}

/* Compiles jobs[0..n) at once (the first on the calling thread). */
static void run_batch(job *jobs, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++)
		jobs[i].started = pthread_create(&jobs[i].thread, NULL, run_job, &jobs[i]) == 0;
	run_job(&jobs[0]);
	for (uint32_t i = 1; i < n; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		else
			run_job(&jobs[i]);
	}
}

static uint32_t batch_size(const pd_search_options *opt)
{
	long n = opt->threads > 0 ? opt->threads : sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_BATCH ? MAX_BATCH : (uint32_t)n;
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

/* Compiles the candidates idx[0..n) (ascending) a batch at a time on every core and
 * applies the results in that order, so the result does not depend on the threads. */
static pd_status compile_all(const pd_plan *plan, const pd_search_options *opt,
                             uint64_t max_elements, pd_search_result *res,
                             const uint32_t *idx, uint32_t n, pd_diag_list *diags)
{
	job jobs[MAX_BATCH];
	pd_status s = PD_OK;
	uint32_t b = batch_size(opt), gone_before = 0;
	for (uint32_t first = 0; first < n; first += b) {
		uint32_t m = n - first < b ? n - first : b;
		for (uint32_t j = 0; j < m; j++)
			jobs[j] = (job){.plan = plan,
			                .opt = opt,
			                .max_elements = max_elements,
			                .cand = res->candidates[idx[first + j] - gone_before]};
		run_batch(jobs, m);
		for (uint32_t j = 0; j < m; j++) {
			bool gone = false;
			uint32_t at = idx[first + j] - gone_before;
			if (s == PD_OK)
				s = apply(res, &res->candidates[at], &jobs[j].comp, jobs[j].status, &gone,
				          diags);
			if (s == PD_OK && gone) {
				drop(res, at);
				gone_before++;
			}
			pd_compilation_release(&jobs[j].comp);
		}
	}
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
