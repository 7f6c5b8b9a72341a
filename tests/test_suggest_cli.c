/* test_suggest_cli.c - `plandag suggest` the way a user runs it (real binary, real
 * files): the seed's plan gets 1-2 GPUs, the written plan passes `plandag check` and
 * `plandag report` of it gives the printed figures within 3 %, a target is met when the
 * written plan is compiled, an unreachable target and a model that cannot fit exit 1
 * saying why, the JSON has exactly the keys of DESIGN §12, usage errors exit 2 with
 * "did you mean", and a failed write leaves nothing behind.  (Run under valgrind by
 * .ci/test, as every *_cli test.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "testutil.h"

#define SEED "examples/moe-10b-multiplicative.xml"
#define NAME "moe-10b-multiplicative"

static cJSON *run_json(const char *plan, const char *objective, int want_status)
{
	pd_run_result r;
	const char *dir = pd_test_tmpdir("suggest-json");
	pd_run_plandag(&r, "suggest", plan, "--format", "json", "--objective", objective, "-o",
	               dir, NULL);
	CU_ASSERT_EQUAL(r.status, want_status);
	cJSON *j = cJSON_Parse(r.out);
	CU_ASSERT_PTR_NOT_NULL(j);
	if (!j)
		fprintf(stderr, "stdout: %s\nstderr: %s\n", r.out, r.err);
	pd_run_release(&r);
	return j;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The written plan compiled by the real binary: its tokens/ms (report --format json). */
static double compiled_tokens(const char *xml, const char **verdict_out)
{
	pd_run_result r;
	pd_run_plandag(&r, "report", "--format", "json", xml, NULL);
	cJSON *j = cJSON_Parse(r.out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	double t = num(cJSON_GetObjectItemCaseSensitive(j, "throughput"), "tokens_per_ms");
	static char verdict[16];
	snprintf(verdict, sizeof(verdict), "%s",
	         cJSON_GetObjectItemCaseSensitive(j, "verdict")->valuestring);
	*verdict_out = verdict;
	cJSON_Delete(j);
	pd_run_release(&r);
	return t;
}

static void test_seed_suggestion_checks_and_compiles(void)
{
	const char *dir = pd_test_tmpdir("suggest-seed");
	pd_run_result r;
	pd_run_plandag(&r, "suggest", pd_test_path(SEED), "-o", dir, NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "**best** | 2 |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "multiplicative-gpu-count"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "instead of 32"));
	pd_run_release(&r);
	const char *xml = pd_test_join(dir, NAME "-suggested.xml");
	CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 3);
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0);
	pd_run_plandag(&r, "check", xml, NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "valid (0 error(s), 0 warning(s))"));
	pd_run_release(&r);
	/* the printed best against compile of the written plan */
	cJSON *j = run_json(pd_test_path(SEED), "gpus", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	int best = (int)num(j, "best");
	const cJSON *b =
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "candidates"), best);
	CU_ASSERT(num(b, "gpus") >= 1 && num(b, "gpus") <= 2);
	const char *verdict;
	double t = compiled_tokens(xml, &verdict);
	CU_ASSERT_STRING_EQUAL(verdict, "valid");
	CU_ASSERT(fabs(t - num(b, "tokens_per_ms")) <= 0.03 * t);
	/* EP 16 on 16 GPUs is among the candidates */
	bool ep16 = false;
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "candidates"))
	{
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "strategy");
		ep16 |= num(s, "dp") == 1 && num(s, "pp") == 1 && num(s, "tp") == 1 &&
		        num(s, "ep") == 16 && num(c, "gpus") == 16;
	}
	CU_ASSERT(ep16);
	cJSON_Delete(j);
}

static void test_target_met_when_compiled(void)
{
	char *text = pd_test_edit_file(SEED, "micro-batches=\"1\"",
	                               "micro-batches=\"1\" target-throughput=\"3\"");
	const char *dir = pd_test_tmpdir("suggest-target");
	const char *plan = pd_test_join(dir, "target.xml");
	CU_ASSERT_EQUAL_FATAL(pd_test_write_file(plan, text), 0);
	pd_run_result r;
	pd_run_plandag(&r, "suggest", plan, "-o", dir, "--emit", "plan", "--diff", NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "+++ "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "-  <strategy gpus=\"128\""));
	pd_run_release(&r);
	CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 2); /* target.xml and the suggestion */
	const char *verdict;
	double t = compiled_tokens(pd_test_join(dir, NAME "-suggested.xml"), &verdict);
	CU_ASSERT_STRING_EQUAL(verdict, "valid");
	CU_ASSERT(t >= 3.0);
	free(text);
}

static void test_unreachable_exits_1_with_gpus_needed(void)
{
	char *text = pd_test_edit_file(SEED, "micro-batches=\"1\"",
	                               "micro-batches=\"1\" target-throughput=\"500\"");
	const char *dir = pd_test_tmpdir("suggest-unreachable");
	const char *plan = pd_test_join(dir, "far.xml");
	CU_ASSERT_EQUAL_FATAL(pd_test_write_file(plan, text), 0);
	pd_run_result r;
	pd_run_plandag(&r, "suggest", plan, "-o", dir, "--emit", "report", NULL);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "No strategy meets every target"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "Best reachable"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "would need about"));
	pd_run_release(&r);
	free(text);
}

static void test_cannot_fit_exits_1_with_arithmetic(void)
{
	const char *dir = pd_test_tmpdir("suggest-cannot-fit");
	const char *plan = pd_test_join(dir, "big.xml");
	CU_ASSERT_EQUAL_FATAL(
	    pd_test_write_file(plan, "<plan name=\"big\">\n"
	                             "  <model layers=\"80\" hidden=\"8192\" heads=\"64\" "
	                             "vocab=\"32000\" dense-ffn=\"28672\" dtype=\"fp16\"/>\n"
	                             "  <cluster nodes=\"1\" gpus-per-node=\"2\" "
	                             "gpu-memory=\"24GB\"/>\n"
	                             "  <strategy dp=\"1\" pp=\"1\" tp=\"2\"/>\n</plan>\n"),
	    0);
	const char *out = pd_test_join(dir, "out");
	pd_run_result r;
	pd_run_plandag(&r, "suggest", plan, "-o", out, NULL);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "big.xml:2:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "cannot fit 2 GPU(s) with any strategy"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "GB usable"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "fix:"));
	CU_ASSERT_EQUAL(pd_test_dir_entries(out), 0); /* nothing to suggest, nothing written */
	pd_run_release(&r);
}

static bool keys_are(const cJSON *o, const char *const *keys, size_t n)
{
	size_t count = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, o)
	{
		bool known = false;
		for (size_t i = 0; i < n; i++)
			known |= strcmp(c->string, keys[i]) == 0;
		if (!known)
			fprintf(stderr, "unexpected key %s\n", c->string);
		count += known;
	}
	return count == n && (size_t)cJSON_GetArraySize(o) == n;
}

static void test_json_keys_exact(void)
{
	static const char *const root[] = {"plan",     "objective", "original",  "candidates",
	                                   "frontier", "best",      "reachable", "evaluated"};
	static const char *const orig[] = {"verdict", "gpus", "tokens_per_ms"};
	static const char *const cand[] = {
	    "gpus",    "tokens_per_ms", "tokens_per_s_per_gpu", "step_latency_us",
	    "ttft_ms", "tpot_ms",       "peak_memory_fraction", "strategy"};
	static const char *const strat[] = {
	    "dp",     "pp", "tp", "sp", "dense_tp", "ep", "redundant_experts", "micro_batches",
	    "overlap"};
	cJSON *j = run_json(pd_test_path(SEED), "per-gpu", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT(keys_are(j, root, 8));
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "objective")->valuestring, "per-gpu");
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "plan")->valuestring, NAME);
	const cJSON *o = cJSON_GetObjectItem(j, "original");
	CU_ASSERT(keys_are(o, orig, 3));
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "verdict")->valuestring, "invalid");
	CU_ASSERT_EQUAL(num(o, "gpus"), 32);
	const cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "candidates"), 0);
	CU_ASSERT(keys_are(c0, cand, 8));
	CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(c0, "ttft_ms"))); /* decode: no TTFT */
	CU_ASSERT(cJSON_IsNumber(cJSON_GetObjectItem(c0, "tpot_ms")));
	CU_ASSERT(keys_are(cJSON_GetObjectItem(c0, "strategy"), strat, 9));
	const cJSON *ov = cJSON_GetObjectItem(cJSON_GetObjectItem(c0, "strategy"), "overlap");
	CU_ASSERT(cJSON_IsString(ov) && (strcmp(ov->valuestring, "none") == 0 ||
	                                 strcmp(ov->valuestring, "two-batch") == 0));
	CU_ASSERT(cJSON_IsBool(cJSON_GetObjectItem(j, "reachable")));
	CU_ASSERT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "frontier")) >= 1);
	CU_ASSERT(num(j, "evaluated") >=
	          cJSON_GetArraySize(cJSON_GetObjectItem(j, "candidates")));
	cJSON_Delete(j);
}

static void test_usage_errors_exit_2(void)
{
	static const char *const cases[][3] = {
	    {"--objective", "gpu", "did you mean 'gpus'"},
	    {"--objective", "per_gpu", "did you mean 'per-gpu'"},
	    {"--top", "0", "--top takes a whole number from 1 to 64"},
	    {"--max-gpus", "many", "--max-gpus takes a whole number"},
	    {"--emit", "plan,pgn", "did you mean 'png'"},
	    {"--format", "jsn", "did you mean 'json'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pd_run_result r;
		pd_run_plandag(&r, "suggest", pd_test_path(SEED), cases[i][0], cases[i][1], "-o",
		               pd_test_tmpdir("suggest-usage"), NULL);
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, cases[i][2]));
		CU_ASSERT_EQUAL(r.out[0], '\0');
		pd_run_release(&r);
	}
	pd_run_result r;
	pd_run_plandag(&r, "check", pd_test_path(SEED), "--objective", "gpus", NULL);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--objective does not apply to 'check'"));
	pd_run_release(&r);
}

/* NAME-pareto.png is a directory: the picture cannot be renamed into place, so neither
 * the plan nor the report may appear, and no temporary file stays. */
static void test_nothing_partial_on_failure(void)
{
	const char *dir = pd_test_tmpdir("suggest-partial");
	CU_ASSERT_EQUAL_FATAL(mkdir(pd_test_join(dir, NAME "-pareto.png"), 0755), 0);
	pd_run_result r;
	pd_run_plandag(&r, "suggest", pd_test_path(SEED), "-o", dir, NULL);
	CU_ASSERT_EQUAL(r.status, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "error"));
	pd_run_release(&r);
	CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 1);
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0);
	struct stat st;
	CU_ASSERT_NOT_EQUAL(stat(pd_test_join(dir, NAME "-suggested.xml"), &st), 0);
	CU_ASSERT_NOT_EQUAL(stat(pd_test_join(dir, NAME "-suggest.md"), &st), 0);
}

/* A pooled plan: both pools sized, the written plan balanced and meeting TTFT and TPOT. */
static void test_pooled_plan_gets_two_pools(void)
{
	const char *dir = pd_test_tmpdir("suggest-pools");
	pd_run_result r;
	pd_run_plandag(&r, "suggest", pd_test_path("examples/mixtral-pd-pair.xml"), "-o", dir,
	               "--diff", NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "prefill pool"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "+    <pool phase=\"decode\""));
	CU_ASSERT_PTR_NULL(strstr(r.err, "does not yet size pools"));
	pd_run_release(&r);
	const char *xml = pd_test_join(dir, "mixtral-pd-pair-suggested.xml");
	pd_run_plandag(&r, "check", xml, NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "valid (0 error(s), 0 warning(s))"));
	pd_run_release(&r);
	pd_run_plandag(&r, "report", "--format", "json", xml, NULL);
	cJSON *rep = cJSON_Parse(r.out);
	pd_run_release(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(rep, "verdict")->valuestring, "valid");
	const cJSON *t = cJSON_GetObjectItem(rep, "throughput");
	CU_ASSERT(num(t, "ttft_ms") <= 2000);
	CU_ASSERT(num(t, "tpot_ms") <= 50);
	cJSON_Delete(rep);
}

static void test_help_lists_suggest(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "suggest", "--help", NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "--objective"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "--max-gpus"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "--diff"));
	pd_run_release(&r);
	pd_run_plandag(&r, "--help", NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "suggest"));
	pd_run_release(&r);
}

static CU_TestInfo tests[] = {
    {"seed suggestion checks and compiles", test_seed_suggestion_checks_and_compiles},
    {"target met when compiled", test_target_met_when_compiled},
    {"unreachable exits 1 with GPUs needed", test_unreachable_exits_1_with_gpus_needed},
    {"cannot fit exits 1 with the arithmetic", test_cannot_fit_exits_1_with_arithmetic},
    {"JSON keys exact", test_json_keys_exact},
    {"usage errors exit 2", test_usage_errors_exit_2},
    {"nothing partial on failure", test_nothing_partial_on_failure},
    {"pooled plan gets two pools", test_pooled_plan_gets_two_pools},
    {"help lists suggest", test_help_lists_suggest},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"suggest cli", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
