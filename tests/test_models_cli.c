/* test_models_cli.c - `plandag check` on the model attributes of docs/models.md the way
 * a user runs it: every contradiction and every bound of a new <model> attribute is a
 * `schema` error at its own line with a fix and exit 1; the shipped model plans check
 * clean.  (Run under valgrind by .ci/test, as every *_cli test.) */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "testutil.h"

#define DSV3 "tests/plans/models/deepseek-v3.xml"

typedef struct bad_case {
	const char *shape; /* the model's line 4 */
	const char *extra; /* line 5 ("\n" inside moves the culprit down) */
	long line;         /* the line the diagnostic must name */
	const char *needle;
} bad_case;

#define MOE "experts=\"8\" top-k=\"2\" expert-ffn=\"256\""
#define MLA "kv-lora-rank=\"64\" qk-nope-dim=\"32\" qk-rope-dim=\"16\" v-head-dim=\"32\""

static const bad_case bad_cases[] = {
    /* contradictions: a rule id, the attribute's line, a fix */
    {MOE, MLA "\n       head-dim=\"64\"", 6, "remove head-dim"},
    {MOE, MLA "\n       kv-heads=\"2\"", 6, "remove kv-heads"},
    {MOE, "kv-lora-rank=\"64\" qk-nope-dim=\"32\" qk-rope-dim=\"16\"", 3, "v-head-dim"},
    {MOE, "q-lora-rank=\"64\"", 5, "add kv-lora-rank"},
    {"expert-ffn=\"256\"", "dense-ffn=\"1024\"\n       expert-dtype=\"fp4\"", 6,
     "a dense model has no experts"},
    {MOE, "expert-groups=\"3\"", 5, "divides 8"},
    {MOE, "expert-groups=\"4\" group-top-k=\"5\"", 5, "from 1 to 4"},
    {"experts=\"8\" expert-ffn=\"256\"\n       top-k=\"4\"",
     "expert-groups=\"4\" group-top-k=\"1\"", 5, "at most 2"},
    {"dense-ffn=\"1024\"", "expert-groups=\"2\"", 5, "a dense model has no experts"},
    /* schema bounds of every new attribute */
    {MOE, "kv-lora-rank=\"0\" qk-nope-dim=\"32\" qk-rope-dim=\"16\" v-head-dim=\"32\"", 0,
     "kv-lora-rank"},
    {MOE, MLA " q-lora-rank=\"70000\"", 0, "q-lora-rank"},
    {MOE, "kv-lora-rank=\"64\" qk-nope-dim=\"0\" qk-rope-dim=\"16\" v-head-dim=\"32\"", 0,
     "qk-nope-dim"},
    {MOE, "kv-lora-rank=\"64\" qk-nope-dim=\"32\" qk-rope-dim=\"-1\" v-head-dim=\"32\"", 0,
     "qk-rope-dim"},
    {MOE, "kv-lora-rank=\"64\" qk-nope-dim=\"32\" qk-rope-dim=\"16\" v-head-dim=\"65537\"",
     0, "v-head-dim"},
    {MOE, "expert-groups=\"0\"", 0, "expert-groups"},
    {MOE, "group-top-k=\"0\"", 0, "group-top-k"},
    {MOE, "kv-dtype=\"fp2\"", 0, "kv-dtype"},
    {MOE, "expert-dtype=\"int4\"", 0, "expert-dtype"},
    {MOE, "dtype=\"fp6\"", 0, "dtype"},
};

static const char *write_case(const bad_case *c, size_t i)
{
	char name[32], text[1024];
	snprintf(name, sizeof(name), "bad-%zu.xml", i);
	snprintf(text, sizeof(text),
	         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	         "<plan name=\"bad\">\n"
	         "  <model name=\"m\" layers=\"2\" hidden=\"512\" heads=\"8\" vocab=\"1000\"\n"
	         "         %s\n"
	         "         %s/>\n"
	         "  <cluster nodes=\"1\" gpus-per-node=\"8\" gpu-memory=\"80GB\"/>\n"
	         "  <strategy gpus=\"8\" ep=\"8\"/>\n"
	         "</plan>\n",
	         c->shape, c->extra);
	const char *path = pd_test_join(pd_test_tmpdir("models"), name);
	CU_ASSERT_EQUAL_FATAL(pd_test_write_file(path, text), 0);
	return path;
}

static void check_should_refuse_every_bad_model_attribute_at_its_line_with_a_fix(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const bad_case *c = &bad_cases[i];
		const char *path = write_case(c, i);
		char head[4200];
		snprintf(head, sizeof(head), "%s:%ld:", path, c->line);
		pd_run_result r;
		pd_run_plandag(&r, "check", path, NULL);
		const char *err = r.err ? r.err : "";
		bool ok = r.status == 1 && strstr(err, "[schema]") && strstr(err, "    fix: ") &&
		          strstr(err, c->needle) && (c->line == 0 || strstr(err, head));
		CU_ASSERT_TRUE(ok);
		if (!ok)
			fprintf(stderr, "\n  case %zu: exit %d, stderr:\n%s\n", i, r.status, err);
		pd_run_release(&r);
	}
}

static void valid_examples_of_the_models_should_check_clean(void)
{
	static const char *const plans[] = {DSV3, "examples/kimi-k2-h200-tp8-ep32.xml",
	                                    "examples/qwen3-235b-a22b-tp4-ep8.xml",
	                                    "examples/gpt-oss-120b-1gpu-fp4.xml"};
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		pd_run_result r;
		pd_run_plandag(&r, "check", pd_test_path(plans[i]), NULL);
		CU_ASSERT_EQUAL(r.status, 0);
		if (r.status != 0)
			fprintf(stderr, "\n  %s: exit %d\n%s\n", plans[i], r.status,
			        r.err ? r.err : "");
		pd_run_release(&r);
	}
}

/* The JSON report names the dtypes and the attention kind of the model it read. */
static void json_report_should_name_the_dtypes_and_the_attention(void)
{
	static const struct {
		const char *plan, *dtype, *expert, *kv, *attention;
	} cases[] = {
	    {"examples/gpt-oss-120b-1gpu-fp4.xml", "bf16", "fp4", "bf16", "gqa"},
	    {DSV3, "fp8", "fp8", "bf16", "mla"},
	    {"examples/dense-70b-pp2-tp8-sp.xml", NULL, NULL, NULL, "gqa"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pd_run_result r;
		CU_ASSERT_EQUAL(pd_run_plandag(&r, "report", pd_test_path(cases[i].plan),
		                               "--format", "json", NULL),
		                0);
		cJSON *root = cJSON_Parse(r.out ? r.out : "");
		cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
		CU_ASSERT_PTR_NOT_NULL_FATAL(params);
		const char *keys[] = {"dtype", "expert_dtype", "kv_dtype", "attention"};
		const char *want[] = {cases[i].dtype, cases[i].expert, cases[i].kv,
		                      cases[i].attention};
		for (int k = 0; k < 4; k++) {
			cJSON *v = cJSON_GetObjectItemCaseSensitive(params, keys[k]);
			CU_ASSERT_PTR_NOT_NULL(v);
			if (want[k])
				CU_ASSERT_STRING_EQUAL(cJSON_IsString(v) ? v->valuestring : "", want[k]);
		}
		if (i == 2) /* a dense model has no expert dtype */
			CU_ASSERT_TRUE(
			    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(params, "expert_dtype")));
		cJSON_Delete(root);
		pd_run_release(&r);
	}
}

static CU_TestInfo cli_tests[] = {
    {"check_should_refuse_every_bad_model_attribute_at_its_line_with_a_fix",
     check_should_refuse_every_bad_model_attribute_at_its_line_with_a_fix},
    {"valid_examples_of_the_models_should_check_clean",
     valid_examples_of_the_models_should_check_clean},
    {"json_report_should_name_the_dtypes_and_the_attention",
     json_report_should_name_the_dtypes_and_the_attention},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"models_cli", NULL, NULL, NULL, NULL, cli_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
