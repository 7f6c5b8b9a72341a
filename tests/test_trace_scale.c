/* test_trace_scale.c - the trace of a DAG too large for Perfetto, through the binary:
 * the large bench plan (5.4 M events) is refused with exit 2 and a hint naming views
 * that fit, nothing is written, and the view it names is written.  Not a *_cli test:
 * lowering 5.6 M nodes is too slow under valgrind. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void trace_of_the_large_plan_should_be_refused_with_views_that_fit(void)
{
	const char *plan = pd_test_path("bench/plans/large.xml");
	const char *dir = pd_test_tmpdir("trace-large");
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", plan, "-o", dir, "--emit", "trace,report",
	                               "-q", NULL),
	                2);
	CU_ASSERT_PTR_NOT_NULL(r.err ? strstr(r.err, "trace of view 'full' would hold") : NULL);
	CU_ASSERT_PTR_NOT_NULL(r.err ? strstr(r.err, "above the limit of 2000000") : NULL);
	CU_ASSERT_PTR_NOT_NULL(r.err ? strstr(r.err, "--view gpu=0") : NULL);
	CU_ASSERT_PTR_NOT_NULL(r.err ? strstr(r.err, "[usage]") : NULL);
	pd_run_release(&r);
	CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 0);
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", plan, "-o", dir, "--emit", "trace",
	                               "--view", "gpu=0", "-q", NULL),
	                0);
	pd_run_release(&r);
	char *text = pd_test_read_file(
	    pd_test_join(dir, "bench-large-dsv3-dp4-mb8-gpu0.trace.json"), NULL);
	CU_ASSERT_PTR_NOT_NULL(text ? strstr(text, "\"displayTimeUnit\":\"ms\"") : NULL);
	free(text);
}

static CU_TestInfo tests[] = {
    {"trace_of_the_large_plan_should_be_refused_with_views_that_fit",
     trace_of_the_large_plan_should_be_refused_with_views_that_fit},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"trace_scale", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
