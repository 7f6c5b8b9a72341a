/* test_search_pools.c - `suggest` on pooled plans (disaggregated prefill and decode):
 * both pooled examples get a suggestion that passes `plandag check` without a
 * pool-balance warning and meets its TTFT and TPOT targets when compiled (the real
 * binary, `plandag report` of the written plan, figures within 3 %); the candidates are
 * balanced and fit the cluster; the result is the same at every thread count.  (Not a
 * *_cli test: compiling the DeepSeek-V3 pools under valgrind would take minutes; the
 * Mixtral pair runs under valgrind in test_suggest_cli.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "search/search_internal.h"
#include "testutil.h"

#define MIXTRAL "examples/mixtral-pd-pair.xml"
#define DSV3 "examples/deepseek-v3-pd-352-h800.xml"

static pd_plan *load(const char *rel, char **text, size_t *len)
{
	*text = pd_test_read_file(pd_test_path(rel), len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*text);
	pd_plan *p = NULL;
	pd_analysis an;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_test_load_text(*text, rel, &p, &an, &dl);
	pd_diag_list_release(&dl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_FATAL(pd_plan_is_pooled(p));
	return p;
}

/* The written plan of candidate k validates with no error and no pool-balance warning. */
static void assert_written_plan_balanced(const pd_plan *p, const char *text, size_t len,
                                         const pd_candidate *k)
{
	size_t n = 0;
	char *xml =
	    pd_search_pooled_plan_xml(p, text, len, &k->prefill, &k->choice, "test", &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
	pd_plan *w = NULL;
	pd_analysis an;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_test_load_text(xml, "written.xml", &w, &an, &dl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_FALSE(pd_diag_list_has(&dl, PD_RULE_POOL_BALANCE));
	for (size_t i = 0; i < dl.n; i++)
		if (dl.items[i].severity == PD_ERROR)
			CU_ASSERT(strcmp(dl.items[i].rule, PD_RULE_THROUGHPUT_TARGET) == 0 ||
			          strcmp(dl.items[i].rule, PD_RULE_LATENCY_TARGET) == 0);
	CU_ASSERT_EQUAL(an.gpus_structural, k->gpus);
	CU_ASSERT(k->gpus <= pd_cluster_gpus(&p->cluster));
	if (!k->scheduled)
		CU_ASSERT(fabs(an.tokens_per_ms - k->tokens_per_ms) <= 1e-6 * an.tokens_per_ms);
	pd_diag_list_release(&dl);
	pd_plan_destroy(w);
	free(xml);
}

static void test_pooled_candidates_are_balanced(void)
{
	const char *plans[] = {MIXTRAL, DSV3};
	for (int i = 0; i < 2; i++) {
		size_t len;
		char *text;
		pd_plan *p = load(plans[i], &text, &len);
		pd_search_options o = {.top_k = 2, .text = text, .text_len = len};
		pd_search_result r;
		pd_diag_list dl;
		pd_diag_list_init(&dl);
		CU_ASSERT_EQUAL_FATAL(pd_search(p, &o, &r, &dl), PD_OK);
		CU_ASSERT(r.reachable);
		CU_ASSERT(r.evaluated >= r.n_candidates);
		CU_ASSERT_FATAL(r.best >= 0);
		CU_ASSERT(r.candidates[r.best].scheduled);
		CU_ASSERT(r.candidates[r.best].ttft_ms <= p->workload.target_ttft_ms);
		CU_ASSERT(r.candidates[r.best].tpot_ms <= p->workload.target_tpot_ms);
		for (uint32_t k = 0; k < r.n_candidates && k < 12; k++) {
			CU_ASSERT(r.candidates[k].prefill.dp >= 1);
			assert_written_plan_balanced(p, text, len, &r.candidates[k]);
		}
		pd_search_result_release(&r);
		pd_diag_list_release(&dl);
		pd_plan_destroy(p);
		free(text);
	}
}

static void test_pooled_same_at_every_thread_count(void)
{
	size_t len;
	char *text;
	pd_plan *p = load(MIXTRAL, &text, &len);
	pd_search_result r[2];
	for (int i = 0; i < 2; i++) {
		pd_search_options o = {.threads = i + 1, .text = text, .text_len = len};
		pd_diag_list dl;
		pd_diag_list_init(&dl);
		CU_ASSERT_EQUAL_FATAL(pd_search(p, &o, &r[i], &dl), PD_OK);
		pd_diag_list_release(&dl);
	}
	CU_ASSERT_EQUAL_FATAL(r[0].n_candidates, r[1].n_candidates);
	CU_ASSERT_EQUAL(r[0].evaluated, r[1].evaluated);
	for (uint32_t k = 0; k < r[0].n_candidates; k++) {
		CU_ASSERT_EQUAL(
		    pd_i_choice_cmp(&r[0].candidates[k].choice, &r[1].candidates[k].choice), 0);
		CU_ASSERT_EQUAL(
		    pd_i_choice_cmp(&r[0].candidates[k].prefill, &r[1].candidates[k].prefill), 0);
		CU_ASSERT_EQUAL(r[0].candidates[k].tokens_per_ms, r[1].candidates[k].tokens_per_ms);
	}
	for (int i = 0; i < 2; i++)
		pd_search_result_release(&r[i]);
	pd_plan_destroy(p);
	free(text);
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	return v->valuedouble;
}

/* The real binary: suggest, then check and report of the written plan. */
static void test_deepseek_pools_through_the_binary(void)
{
	const char *dir = pd_test_tmpdir("suggest-pools-dsv3");
	pd_run_result r;
	pd_run_plandag(&r, "suggest", pd_test_path(DSV3), "--format", "json", "-o", dir, NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	cJSON *j = cJSON_Parse(r.out);
	pd_run_release(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	const cJSON *b =
	    cJSON_GetArrayItem(cJSON_GetObjectItem(j, "candidates"), (int)num(j, "best"));
	const cJSON *pools = cJSON_GetObjectItem(b, "pools");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(pools), 2);
	CU_ASSERT_STRING_EQUAL(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(pools, 0), "phase")->valuestring, "prefill");
	CU_ASSERT_EQUAL(num(cJSON_GetArrayItem(pools, 0), "gpus") +
	                    num(cJSON_GetArrayItem(pools, 1), "gpus"),
	                num(b, "gpus"));
	const char *xml = pd_test_join(dir, "deepseek-v3-pd-352-h800-suggested.xml");
	pd_run_plandag(&r, "check", xml, NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "valid (0 error(s), 0 warning(s))"));
	pd_run_release(&r);
	pd_run_plandag(&r, "report", "--format", "json", xml, NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	cJSON *rep = cJSON_Parse(r.out);
	pd_run_release(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
	const cJSON *t = cJSON_GetObjectItem(rep, "throughput");
	CU_ASSERT(fabs(num(t, "tokens_per_ms") - num(b, "tokens_per_ms")) <=
	          0.03 * num(t, "tokens_per_ms"));
	CU_ASSERT(num(t, "ttft_ms") <= 3000);
	CU_ASSERT(num(t, "tpot_ms") <= 50);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(rep, "verdict")->valuestring, "valid");
	cJSON_Delete(rep);
	cJSON_Delete(j);
}

static CU_TestInfo tests[] = {
    {"pooled candidates are balanced", test_pooled_candidates_are_balanced},
    {"pooled same at every thread count", test_pooled_same_at_every_thread_count},
    {"DeepSeek pools through the binary", test_deepseek_pools_through_the_binary},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"search pools", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
