/* test_search.c - pd_search on real plans: the frontier is Pareto, every candidate passes
 * the rules of check, the seed's plan gets 1-2 GPUs with EP 16 among the candidates, the
 * result is the same at every thread count, hostile plans give a bounded search, a model
 * that cannot fit says so with the memory arithmetic, an unreachable target says how
 * many GPUs it would take, a tight budget prunes and says what. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/search_internal.h"
#include "testutil.h"

#define SEED "examples/moe-10b-multiplicative.xml"

static const char *const PLANS[] = {SEED, "examples/mixtral-8x7b-tp2-ep8.xml",
                                    "examples/dense-70b-pp2-tp8-sp.xml",
                                    "examples/qwen3-235b-a22b-tp4-ep8.xml"};

static pd_plan *load_text(const char *text)
{
	pd_plan *p = NULL;
	pd_analysis an;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_test_load_text(text, "search.xml", &p, &an, &dl);
	pd_diag_list_release(&dl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return p;
}

static pd_plan *load(const char *rel)
{
	char *text = pd_test_read_file(pd_test_path(rel), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	pd_plan *p = load_text(text);
	free(text);
	return p;
}

static void search(const pd_plan *p, const pd_search_options *o, pd_search_result *r,
                   pd_diag_list *dl)
{
	pd_diag_list_init(dl);
	CU_ASSERT_EQUAL_FATAL(pd_search(p, o, r, dl), PD_OK);
}

static bool equal3(const pd_candidate *a, const pd_candidate *b)
{
	return a->gpus == b->gpus && a->tokens_per_s_per_gpu == b->tokens_per_s_per_gpu &&
	       a->step_latency_us == b->step_latency_us;
}

/* The frontier over (fewer GPUs, more tokens/s per GPU, shorter step): no candidate
 * dominates a frontier point, every other candidate is dominated by (or equal to) one. */
static void test_frontier_is_pareto(void)
{
	for (size_t i = 0; i < sizeof(PLANS) / sizeof(PLANS[0]); i++) {
		pd_plan *p = load(PLANS[i]);
		pd_search_options o = {.objective = PD_OBJECTIVE_GPUS, .top_k = 2};
		pd_search_result r;
		pd_diag_list dl;
		search(p, &o, &r, &dl);
		CU_ASSERT(r.n_candidates > 0);
		CU_ASSERT(r.n_frontier > 0);
		bool *on = calloc(r.n_candidates, sizeof(*on));
		CU_ASSERT_PTR_NOT_NULL_FATAL(on);
		for (uint32_t f = 0; f < r.n_frontier; f++) {
			const pd_candidate *fp = &r.candidates[r.frontier[f]];
			on[r.frontier[f]] = true;
			if (f > 0)
				CU_ASSERT(fp->gpus >= r.candidates[r.frontier[f - 1]].gpus);
			for (uint32_t k = 0; k < r.n_candidates; k++)
				CU_ASSERT_FALSE(pd_i_dominates(&r.candidates[k], fp));
		}
		for (uint32_t k = 0; k < r.n_candidates; k++) {
			bool covered = on[k];
			for (uint32_t f = 0; f < r.n_frontier && !covered; f++) {
				const pd_candidate *fp = &r.candidates[r.frontier[f]];
				covered =
				    pd_i_dominates(fp, &r.candidates[k]) || equal3(fp, &r.candidates[k]);
			}
			CU_ASSERT(covered);
		}
		free(on);
		pd_search_result_release(&r);
		pd_diag_list_release(&dl);
		pd_plan_destroy(p);
	}
}

/* The candidate's plan, built by the function the search uses, through the rules. */
static void assert_passes_rules(const pd_plan *p, const pd_candidate *k)
{
	pd_plan *cp;
	CU_ASSERT_EQUAL_FATAL(pd_i_search_build_plan(p, &k->choice, &cp), PD_OK);
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_analysis an;
	CU_ASSERT_EQUAL(pd_plan_expand(cp, &dl), PD_OK);
	pd_plan_validate(cp, &an, &dl);
	for (size_t i = 0; i < dl.n; i++)
		if (dl.items[i].severity == PD_ERROR) {
			CU_ASSERT(strcmp(dl.items[i].rule, PD_RULE_THROUGHPUT_TARGET) == 0 ||
			          strcmp(dl.items[i].rule, PD_RULE_LATENCY_TARGET) == 0);
		}
	CU_ASSERT_EQUAL(an.gpus_structural, k->gpus);
	CU_ASSERT(k->gpus <= pd_cluster_gpus(&p->cluster));
	if (!k->scheduled)
		CU_ASSERT_DOUBLE_EQUAL(an.tokens_per_ms, k->tokens_per_ms, 1e-6 * k->tokens_per_ms);
	pd_diag_list_release(&dl);
	pd_plan_destroy(cp);
}

static void test_every_candidate_passes_the_rules(void)
{
	for (size_t i = 0; i < sizeof(PLANS) / sizeof(PLANS[0]); i++) {
		pd_plan *p = load(PLANS[i]);
		pd_search_options o = {.objective = PD_OBJECTIVE_THROUGHPUT, .top_k = 1};
		pd_search_result r;
		pd_diag_list dl;
		search(p, &o, &r, &dl);
		uint32_t step = r.n_candidates / 60 + 1; /* about 60 of each plan, spread */
		for (uint32_t k = 0; k < r.n_candidates; k += step)
			assert_passes_rules(p, &r.candidates[k]);
		CU_ASSERT(r.evaluated >= r.n_candidates); /* candidates are among the tried */
		pd_search_result_release(&r);
		pd_diag_list_release(&dl);
		pd_plan_destroy(p);
	}
}

static void test_seed_gets_two_gpus_and_ep16(void)
{
	pd_plan *p = load(SEED);
	pd_search_options o = {.objective = PD_OBJECTIVE_GPUS};
	pd_search_result r;
	pd_diag_list dl;
	search(p, &o, &r, &dl);
	CU_ASSERT_FATAL(r.best >= 0);
	const pd_candidate *b = &r.candidates[r.best];
	CU_ASSERT(b->gpus >= 1 && b->gpus <= 2);
	CU_ASSERT(b->scheduled);
	CU_ASSERT(r.reachable);
	CU_ASSERT(b->peak_memory_fraction <= 1.0);
	bool ep16 = false;
	for (uint32_t k = 0; k < r.n_candidates; k++) {
		const pd_choice *c = &r.candidates[k].choice;
		ep16 |= c->dp == 1 && c->pp == 1 && c->tp == 1 && c->ep == 16 &&
		        r.candidates[k].gpus == 16;
	}
	CU_ASSERT(ep16);
	/* the frontier trades GPUs for a shorter step: 2, 4, 8 and 16 GPUs are on it */
	int64_t want[4] = {2, 4, 8, 16};
	for (int w = 0; w < 4; w++) {
		bool found = false;
		for (uint32_t f = 0; f < r.n_frontier; f++)
			found |= r.candidates[r.frontier[f]].gpus == want[w];
		CU_ASSERT(found);
	}
	/* nothing with fewer GPUs than the best passes */
	for (uint32_t k = 0; k < r.n_candidates; k++)
		CU_ASSERT(r.candidates[k].gpus >= b->gpus);
	pd_search_result_release(&r);
	pd_diag_list_release(&dl);
	pd_plan_destroy(p);
}

static void assert_same(const pd_search_result *a, const pd_search_result *b)
{
	CU_ASSERT_EQUAL_FATAL(a->n_candidates, b->n_candidates);
	CU_ASSERT_EQUAL(a->evaluated, b->evaluated);
	CU_ASSERT_EQUAL(a->best, b->best);
	CU_ASSERT_EQUAL(a->n_frontier, b->n_frontier);
	for (uint32_t k = 0; k < a->n_candidates; k++) {
		CU_ASSERT_EQUAL(pd_i_choice_cmp(&a->candidates[k].choice, &b->candidates[k].choice),
		                0);
		CU_ASSERT_EQUAL(a->candidates[k].tokens_per_ms, b->candidates[k].tokens_per_ms);
		CU_ASSERT_EQUAL(a->candidates[k].scheduled, b->candidates[k].scheduled);
		CU_ASSERT_EQUAL(a->candidates[k].step_latency_us, b->candidates[k].step_latency_us);
		CU_ASSERT_EQUAL(a->candidates[k].peak_memory_fraction,
		                b->candidates[k].peak_memory_fraction);
		CU_ASSERT_EQUAL(a->candidates[k].meets_targets, b->candidates[k].meets_targets);
	}
	CU_ASSERT_EQUAL(a->reachable, b->reachable);
	for (uint32_t f = 0; f < a->n_frontier && f < b->n_frontier; f++)
		CU_ASSERT_EQUAL(a->frontier[f], b->frontier[f]);
}

static void test_same_result_at_every_thread_count(void)
{
	pd_plan *p = load("examples/mixtral-8x7b-tp2-ep8.xml");
	pd_search_result r[3];
	int threads[3] = {1, 2, 5};
	for (int i = 0; i < 3; i++) {
		pd_search_options o = {.objective = PD_OBJECTIVE_PER_GPU, .threads = threads[i]};
		pd_diag_list dl;
		search(p, &o, &r[i], &dl);
		pd_diag_list_release(&dl);
	}
	assert_same(&r[0], &r[1]);
	assert_same(&r[0], &r[2]);
	for (int i = 0; i < 3; i++)
		pd_search_result_release(&r[i]);
	pd_plan_destroy(p);
}

/* The refinement compiles the best K on a pool of workers: with K = 12 on the written
 * plan (more compilations than workers, the frontier after them) the result is still the
 * same at every thread count, and more than the default 5 are scheduled. */
static void test_same_refinement_at_every_thread_count(void)
{
	size_t len = 0;
	char *text =
	    pd_test_read_file(pd_test_path("examples/qwen3-235b-a22b-tp4-ep8.xml"), &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	pd_plan *p = load_text(text);
	pd_search_result r[3];
	int threads[3] = {1, 2, 3};
	for (int i = 0; i < 3; i++) {
		pd_search_options o = {.objective = PD_OBJECTIVE_GPUS,
		                       .top_k = 12,
		                       .threads = threads[i],
		                       .text = text,
		                       .text_len = len};
		pd_diag_list dl;
		search(p, &o, &r[i], &dl);
		pd_diag_list_release(&dl);
	}
	uint32_t scheduled = 0;
	for (uint32_t k = 0; k < r[0].n_candidates; k++)
		scheduled += r[0].candidates[k].scheduled;
	CU_ASSERT(scheduled > 5);
	assert_same(&r[0], &r[1]);
	assert_same(&r[0], &r[2]);
	for (int i = 0; i < 3; i++)
		pd_search_result_release(&r[i]);
	pd_plan_destroy(p);
	free(text);
}

/* The phases account for the search's time: none negative, evaluation and refinement
 * took some, together no more than the whole (and most of it). */
static void test_phases_add_up(void)
{
	pd_plan *p = load("examples/mixtral-8x7b-tp2-ep8.xml");
	pd_search_options o = {.objective = PD_OBJECTIVE_GPUS};
	pd_search_result r;
	pd_diag_list dl;
	search(p, &o, &r, &dl);
	const pd_search_phases *ph = &r.phases;
	double parts[5] = {ph->space_s, ph->evaluate_s, ph->rank_s, ph->refine_s,
	                   ph->unreachable_s};
	double sum = 0;
	for (int i = 0; i < 5; i++) {
		CU_ASSERT(parts[i] >= 0);
		sum += parts[i];
	}
	CU_ASSERT(ph->evaluate_s > 0);
	CU_ASSERT(ph->refine_s > 0);
	CU_ASSERT(sum <= r.seconds + 1e-6);
	CU_ASSERT(sum >= 0.5 * r.seconds);
	pd_diag_list_release(&dl);
	pd_search_result_release(&r);
	pd_plan_destroy(p);
}

static char *hostile_text(const char *model, const char *cluster)
{
	char *t = malloc(4096);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	snprintf(t, 4096,
	         "<plan name=\"hostile\">\n  <model %s/>\n  <cluster %s/>\n"
	         "  <workload phase=\"decode\" batch=\"64\" context=\"1024\"/>\n"
	         "  <strategy dp=\"1\" pp=\"1\" tp=\"1\"/>\n</plan>\n",
	         model, cluster);
	return t;
}

static void test_hostile_plans_are_bounded(void)
{
	static const char *const cases[][2] = {
	    {"name=\"m\" layers=\"10000\" hidden=\"1024\" heads=\"16\" vocab=\"32000\" "
	     "dense-ffn=\"4096\" dtype=\"fp8\"",
	     "nodes=\"125000\" gpus-per-node=\"8\" gpu-memory=\"80GB\""},
	    {"name=\"m\" layers=\"10000\" hidden=\"1024\" heads=\"64\" vocab=\"32000\" "
	     "experts=\"4096\" top-k=\"8\" expert-ffn=\"256\" dtype=\"fp8\"",
	     "nodes=\"125000\" gpus-per-node=\"8\" gpu-memory=\"80GB\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = hostile_text(cases[i][0], cases[i][1]);
		pd_plan *p = load_text(text);
		pd_search_options o = {.objective = PD_OBJECTIVE_GPUS, .top_k = 1, .budget_s = 0.5};
		pd_search_result r;
		pd_diag_list dl;
		search(p, &o, &r, &dl);
		CU_ASSERT(r.evaluated > 0);
		CU_ASSERT(r.evaluated < 100000);
		CU_ASSERT(r.n_candidates > 0);
		for (uint32_t k = 0; k < r.n_candidates; k++)
			CU_ASSERT(r.candidates[k].gpus <= 1000000);
		pd_search_result_release(&r);
		pd_diag_list_release(&dl);
		pd_plan_destroy(p);
		free(text);
	}
}

static void test_cannot_fit_says_the_arithmetic(void)
{
	char *text = hostile_text("name=\"m\" layers=\"80\" hidden=\"8192\" heads=\"64\" "
	                          "vocab=\"32000\" dense-ffn=\"28672\" dtype=\"fp16\"",
	                          "nodes=\"1\" gpus-per-node=\"2\" gpu-memory=\"24GB\"");
	pd_plan *p = load_text(text);
	pd_search_options o = {0};
	pd_search_result r;
	pd_diag_list dl;
	search(p, &o, &r, &dl);
	CU_ASSERT_EQUAL(r.n_candidates, 0);
	CU_ASSERT_EQUAL(r.best, -1);
	CU_ASSERT_FALSE(r.reachable);
	int i = pd_test_find_diag(&dl, PD_RULE_MEMORY_CAPACITY, 0);
	CU_ASSERT_FATAL(i >= 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(dl.items[i].message, "cannot fit 2 GPU(s)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dl.items[i].message, "21.6 GB usable"));
	CU_ASSERT_PTR_NOT_NULL(dl.items[i].fix);
	pd_search_result_release(&r);
	pd_diag_list_release(&dl);
	pd_plan_destroy(p);
	free(text);
}

static void test_unreachable_throughput_says_gpus_needed(void)
{
	char *text = pd_test_edit_file(SEED, "micro-batches=\"1\"",
	                               "micro-batches=\"1\" target-throughput=\"1000\"");
	pd_plan *p = load_text(text);
	pd_search_options o = {.top_k = 2};
	pd_search_result r;
	pd_diag_list dl;
	search(p, &o, &r, &dl);
	CU_ASSERT_FALSE(r.reachable);
	CU_ASSERT(r.best >= 0);
	CU_ASSERT(r.gpus_needed > pd_cluster_gpus(&p->cluster));
	/* the best reachable is the most tokens/ms the cluster gives, not the fewest GPUs */
	for (uint32_t k = 0; k < r.n_candidates; k++) {
		CU_ASSERT_FALSE(r.candidates[k].meets_targets);
		if (r.best >= 0)
			CU_ASSERT(r.candidates[r.best].tokens_per_ms >= r.candidates[k].tokens_per_ms);
	}
	if (r.best >= 0)
		CU_ASSERT(r.candidates[r.best].gpus > 2);
	pd_search_result_release(&r);
	pd_diag_list_release(&dl);
	pd_plan_destroy(p);
	free(text);
}

/* A TPOT the allowed GPUs cannot reach but a larger stage can: the GPUs it would take. */
static void test_unreachable_latency_searches_larger_clusters(void)
{
	char *text = pd_test_edit_file(SEED, "micro-batches=\"1\"",
	                               "micro-batches=\"1\" target-tpot=\"5\"");
	pd_plan *p = load_text(text);
	pd_search_options o = {.top_k = 1, .max_gpus = 2};
	pd_search_result r;
	pd_diag_list dl;
	search(p, &o, &r, &dl);
	CU_ASSERT_FALSE(r.reachable);
	CU_ASSERT(r.best >= 0);
	CU_ASSERT(r.gpus_needed > 2);
	CU_ASSERT(r.gpus_needed <= 64);
	for (uint32_t k = 0; k < r.n_candidates; k++)
		CU_ASSERT(r.candidates[k].gpus <= 2);
	pd_search_result_release(&r);
	pd_diag_list_release(&dl);
	pd_plan_destroy(p);
	free(text);
	/* a TPOT no stage of these GPUs reaches: adding GPUs does not help (-1) */
	text = pd_test_edit_file(SEED, "micro-batches=\"1\"",
	                         "micro-batches=\"1\" target-tpot=\"0.001\"");
	p = load_text(text);
	o = (pd_search_options){.top_k = 1};
	search(p, &o, &r, &dl);
	CU_ASSERT_FALSE(r.reachable);
	CU_ASSERT_EQUAL(r.gpus_needed, -1);
	pd_search_result_release(&r);
	pd_diag_list_release(&dl);
	pd_plan_destroy(p);
	free(text);
}

static void test_reachable_target_is_met(void)
{
	char *text = pd_test_edit_file(SEED, "micro-batches=\"1\"",
	                               "micro-batches=\"1\" target-throughput=\"3\"");
	pd_plan *p = load_text(text);
	pd_search_options o = {.top_k = 3};
	pd_search_result r;
	pd_diag_list dl;
	search(p, &o, &r, &dl);
	CU_ASSERT_FATAL(r.reachable);
	const pd_candidate *b = &r.candidates[r.best];
	CU_ASSERT(b->tokens_per_ms >= 3.0);
	CU_ASSERT(b->meets_targets);
	/* fewest GPUs first: no candidate meeting the target has fewer */
	for (uint32_t k = 0; k < r.n_candidates; k++)
		if (r.candidates[k].meets_targets)
			CU_ASSERT(r.candidates[k].gpus >= b->gpus);
	pd_search_result_release(&r);
	pd_diag_list_release(&dl);
	pd_plan_destroy(p);
	free(text);
}

static void test_budget_prunes_and_says_so(void)
{
	pd_plan *p = load("examples/deepseek-v3-decode-320-h800.xml");
	pd_search_options o = {.top_k = 1, .budget_s = 0.01};
	pd_search_result r;
	pd_diag_list dl;
	search(p, &o, &r, &dl);
	CU_ASSERT(r.pruned > 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.pruned_why);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.pruned_why, "time budget"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.pruned_why, "GPUs per replica"));
	CU_ASSERT(pd_diag_list_has(&dl, PD_RULE_SUGGEST));
	pd_search_result_release(&r);
	pd_diag_list_release(&dl);
	pd_plan_destroy(p);
}

static void test_names(void)
{
	for (int o = 0; o < 4; o++)
		CU_ASSERT_EQUAL(pd_objective_from_name(pd_objective_name((pd_objective)o)), o);
	CU_ASSERT_EQUAL(pd_objective_from_name("gpu"), -1);
	CU_ASSERT_EQUAL(pd_objective_from_name(NULL), -1);
	pd_choice c = {.dp = 2,
	               .pp = 3,
	               .tp = 4,
	               .sp = true,
	               .dense_tp = 4,
	               .ep = 16,
	               .redundant = 0,
	               .micro_batches = 1};
	char buf[128];
	CU_ASSERT_EQUAL(pd_choice_gpus(&c), 96);
	CU_ASSERT_STRING_EQUAL(pd_choice_describe(&c, buf, sizeof(buf)),
	                       "DP 2 x PP 3 x TP 4+SP, EP 16");
}

static CU_TestInfo tests[] = {
    {"frontier is Pareto", test_frontier_is_pareto},
    {"every candidate passes the rules", test_every_candidate_passes_the_rules},
    {"seed gets 1-2 GPUs and EP 16", test_seed_gets_two_gpus_and_ep16},
    {"same result at every thread count", test_same_result_at_every_thread_count},
    {"same refinement at every thread count", test_same_refinement_at_every_thread_count},
    {"phases add up", test_phases_add_up},
    {"hostile plans are bounded", test_hostile_plans_are_bounded},
    {"cannot fit says the arithmetic", test_cannot_fit_says_the_arithmetic},
    {"unreachable throughput says GPUs needed",
     test_unreachable_throughput_says_gpus_needed},
    {"unreachable latency searches larger clusters",
     test_unreachable_latency_searches_larger_clusters},
    {"reachable target is met", test_reachable_target_is_met},
    {"budget prunes and says so", test_budget_prunes_and_says_so},
    {"names", test_names},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"search", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
