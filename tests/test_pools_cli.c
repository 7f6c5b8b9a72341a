/* test_pools_cli.c - pooled plans through the real binary: `plandag check` on the two
 * examples (exit 0) and on every invalid pooled plan (exit 1 for an error, 0 for a
 * warning, FILE:LINE: at the offending element, `[rule]`, then a `fix:` line). */
#include <stdio.h>
#include <string.h>

#include "pool_cases.h"
#include "testutil.h"


static void check_should_report_each_pooled_case(void)
{
	for (size_t i = 0; i < N_POOL_CASES; i++) {
		const pool_case *k = &pool_cases[i];
		char rel[256];
		snprintf(rel, sizeof(rel), "tests/plans/invalid/%s.xml", k->file);
		const char *path = pd_test_path(rel);
		long line = pd_test_line_of(path, k->marker);
		CU_ASSERT_TRUE_FATAL(line > 0);
		pd_run_result r;
		pd_run_plandag(&r, "check", path, NULL);
		int want = k->severity == PD_ERROR ? 1 : 0;
		bool found = r.err && pd_test_has_diagnostic(r.err, path, line, k->rule);
		CU_ASSERT_EQUAL(r.status, want);
		CU_ASSERT_TRUE(found);
		if (!found || r.status != want)
			fprintf(stderr, "\n  %s: exit %d, stderr:\n%s\n", k->file, r.status,
			        r.err ? r.err : "(none)");
		pd_run_release(&r);
	}
}

static void check_should_pass_the_pooled_examples(void)
{
	const char *files[] = {"examples/deepseek-v3-pd-352-h800.xml",
	                       "examples/mixtral-pd-pair.xml"};
	for (size_t i = 0; i < 2; i++) {
		pd_run_result r;
		pd_run_plandag(&r, "check", pd_test_path(files[i]), NULL);
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_PTR_NULL(r.err ? strstr(r.err, "error:") : NULL);
		CU_ASSERT_PTR_NOT_NULL(r.out ? strstr(r.out, "valid") : NULL);
		pd_run_release(&r);
	}
}

static CU_TestInfo tests[] = {
    {"check_should_report_each_pooled_case", check_should_report_each_pooled_case},
    {"check_should_pass_the_pooled_examples", check_should_pass_the_pooled_examples},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"pools_cli", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
