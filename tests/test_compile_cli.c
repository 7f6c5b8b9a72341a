/* test_compile_cli.c - `plandag compile` run the way a user runs it: summary by kind,
 * --dump lower against the golden file, invalid plans stopping before lowering. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void compile_should_summarise_every_valid_example(void)
{
	const char *valid[] = {"examples/moe-10b-ep16.xml", "examples/mixtral-8x7b-tp2-ep8.xml",
	                       "examples/dense-70b-pp2-tp8-sp.xml",
	                       "examples/moe-10b-two-replicas.xml"};
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		pd_run_result r;
		int st = pd_run_plandag(&r, "compile", pd_test_path(valid[i]), "--emit", "none",
		                        "-o", pd_test_tmpdir("compile_cli"), NULL);
		if (st != 0)
			fprintf(stderr, "%s: exit %d\n%s%s", valid[i], st, r.out, r.err);
		CU_ASSERT_EQUAL(st, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "nodes by kind: embed "));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, " attention "));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "edges by kind: data "));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "critical path: "));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "DAG critical path"));
		pd_run_release(&r);
	}
}

static void compile_should_count_the_default_example_exactly(void)
{
	/* 16 GPUs x 16 MoE layers, EP 16, TP 1, decode, 1 micro-batch */
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", pd_test_path("examples/moe-10b-ep16.xml"),
	                               "--emit", "none", NULL),
	                0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out,
	                              "DAG: 2384 nodes (32 collective hubs), 2848 edges, "
	                              "16 GPUs"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, " expert 256 ep_combine 256 lm_head 16 sample 16 "
	                                     "collective 32\n"));
	pd_run_release(&r);
}

static void compile_dump_lower_should_match_the_golden_file(void)
{
	const char *pairs[][2] = {
	    {"tests/plans/valid/tiny.xml", "tests/golden/tiny.lower.txt"},
	    {"tests/plans/valid/tiny-pp.xml", "tests/golden/tiny-pp.lower.txt"},
	};
	for (size_t i = 0; i < 2; i++) {
		pd_run_result r;
		CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", pd_test_path(pairs[i][0]), "--emit",
		                               "none", "--dump", "lower", NULL),
		                0);
		char *want = pd_test_read_file(pd_test_path(pairs[i][1]), NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(want);
		CU_ASSERT_STRING_EQUAL(r.out, want);
		free(want);
		pd_run_release(&r);
	}
}

static void compile_should_stop_an_invalid_plan_before_lowering(void)
{
	const char *cases[][2] = {
	    {"tests/plans/invalid/gpu-overlap.xml", "[gpu-overlap]"},
	    {"tests/plans/invalid/memory-capacity.xml", "[memory-capacity]"},
	    {"examples/moe-10b-multiplicative.xml", "[multiplicative-gpu-count]"},
	};
	for (size_t i = 0; i < 3; i++) {
		pd_run_result r;
		CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", pd_test_path(cases[i][0]), "--emit",
		                               "none", NULL),
		                1);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, cases[i][1]));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "fix: "));
		CU_ASSERT_PTR_NULL(strstr(r.out, "DAG:"));
		CU_ASSERT_PTR_NULL(strstr(r.out, "nodes by kind"));
		pd_run_release(&r);
	}
}

static CU_TestInfo compile_tests[] = {
    {"compile_should_summarise_every_valid_example",
     compile_should_summarise_every_valid_example},
    {"compile_should_count_the_default_example_exactly",
     compile_should_count_the_default_example_exactly},
    {"compile_dump_lower_should_match_the_golden_file",
     compile_dump_lower_should_match_the_golden_file},
    {"compile_should_stop_an_invalid_plan_before_lowering",
     compile_should_stop_an_invalid_plan_before_lowering},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"compile_cli", NULL, NULL, NULL, NULL, compile_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
