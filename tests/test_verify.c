/* test_verify.c - `plandag verify` on files compile wrote and on hand-made bad ones. */
#include <string.h>

#include "testutil.h"

static void verify_should_pass_what_compile_wrote(void)
{
	const char *dir = pd_test_tmpdir("verify");
	pd_run_result r;
	CU_ASSERT_EQUAL_FATAL(pd_run_plandag(&r, "compile",
	                                     pd_test_path("tests/plans/valid/tiny.xml"), "-o",
	                                     dir, "--emit", "graphml", "-q", NULL),
	                      0);
	pd_run_release(&r);
	char path[4096];
	snprintf(path, sizeof(path), "%s/tiny.graphml", dir);
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "verify", path, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "passes"));
	pd_run_release(&r);
	CU_ASSERT_EQUAL(
	    pd_run_plandag(&r, "verify", pd_test_path("tests/golden/tiny.graphml"), NULL), 0);
	pd_run_release(&r);
}

/* Runs verify on tests/graphml/NAME and expects exit 1 with `rule` and `needle`. */
static void expect_rejected(const char *name, const char *rule, const char *needle)
{
	char rel[256], tag[64];
	snprintf(rel, sizeof(rel), "tests/graphml/%s", name);
	snprintf(tag, sizeof(tag), "[%s]", rule);
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "verify", pd_test_path(rel), NULL), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, tag));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, needle));
	if (!strstr(r.err, tag) || !strstr(r.err, needle))
		fprintf(stderr, "\n%s: %s\n", name, r.err);
	pd_run_release(&r);
}

static void verify_should_reject_a_cycle_and_print_it(void)
{
	expect_rejected("cyclic.graphml", "acyclic", "o_proj gpu 0 L0 mb0 -> attn_norm");
}

static void verify_should_reject_swapped_collective_order_as_deadlock(void)
{
	expect_rejected("deadlock.graphml", "acyclic", "ep_dispatch gpu 1");
}

static void verify_should_reject_an_expert_on_the_wrong_gpu(void)
{
	expect_rejected("misplaced-expert.graphml", "placement", "expert 1");
}

static void verify_should_reject_a_collective_missing_a_member(void)
{
	expect_rejected("missing-member.graphml", "placement", "gpu 1 missing");
}

static void verify_should_report_malformed_files_as_schema_errors(void)
{
	const char *dir = pd_test_tmpdir("verify");
	char path[4096];
	snprintf(path, sizeof(path), "%s/bad.graphml", dir);
	pd_test_write_file(path, "<graphml>\n<graph edgedefault='directed'>\n<node>\n");
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "verify", path, NULL), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "[schema]"));
	pd_run_release(&r);
	snprintf(path, sizeof(path), "%s/missing.graphml", dir);
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "verify", path, NULL), 3);
	pd_run_release(&r);
}

static CU_TestInfo verify_tests[] = {
    {"verify_should_pass_what_compile_wrote", verify_should_pass_what_compile_wrote},
    {"verify_should_reject_a_cycle_and_print_it",
     verify_should_reject_a_cycle_and_print_it},
    {"verify_should_reject_swapped_collective_order_as_deadlock",
     verify_should_reject_swapped_collective_order_as_deadlock},
    {"verify_should_reject_an_expert_on_the_wrong_gpu",
     verify_should_reject_an_expert_on_the_wrong_gpu},
    {"verify_should_reject_a_collective_missing_a_member",
     verify_should_reject_a_collective_missing_a_member},
    {"verify_should_report_malformed_files_as_schema_errors",
     verify_should_report_malformed_files_as_schema_errors},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"verify", NULL, NULL, NULL, NULL, verify_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
