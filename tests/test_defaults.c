/* test_defaults.c - the <cluster> defaults stated once (src/plan/defaults.c): the
 * parser fills from them and the report prints them; and the one byte formatter
 * (src/util/units.c) every output uses. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan/defaults.h"
#include "testutil.h"
#include "util/util.h"

static void cluster_defaults_should_fill_the_plan_and_be_printed_as_assumed(void)
{
	pd_compile_options opt = {.lower = 0};
	pd_compilation c;
	pd_compile_file(pd_test_path("tests/plans/valid/tiny.xml"), &opt, &c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.plan);
	char *md = pd_test_report(&c, PD_REPORT_MD, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	for (size_t i = 0; i < PD_I_N_CLUSTER_DEFAULTS; i++) {
		const pd_i_cluster_default *d = &pd_i_cluster_defaults[i];
		const double *v = (const double *)((const char *)&c.plan->cluster + d->offset);
		char text[128], line[160];
		CU_ASSERT_DOUBLE_EQUAL(*v, d->value, 1e-6 * d->value); /* none is written */
		CU_ASSERT(c.plan->cluster.assumed & d->bit);
		snprintf(line, sizeof(line), "\n- %s\n",
		         pd_i_cluster_default_text(d, text, sizeof(text)));
		CU_ASSERT_PTR_NOT_NULL(strstr(md, line));
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "\n- gpu-tflops: 989 TFLOP/s (H100 SXM default)\n"));
	free(md);
	pd_compilation_release(&c);
}

static void cluster_values_written_in_the_plan_should_not_be_reported_as_assumed(void)
{
	pd_compile_options opt = {.lower = 0};
	pd_compilation c;
	pd_compile_file(pd_test_path("examples/moe-10b-ep16.xml"), &opt, &c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.plan);
	CU_ASSERT_FALSE(c.plan->cluster.assumed & PD_ASSUMED_TFLOPS);
	char *md = pd_test_report(&c, PD_REPORT_MD, NULL);
	CU_ASSERT_PTR_NULL(md ? strstr(md, "gpu-tflops:") : md);
	free(md);
	pd_compilation_release(&c);
}

static void format_bytes_should_print_si_units_with_a_small_k(void)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {
	    {0, "0 B"},           {999, "999 B"},     {1000, "1.00 kB"},
	    {320e3, "320.00 kB"}, {1.5e6, "1.50 MB"}, {80.1e9, "80.10 GB"},
	    {-2e3, "-2.00 kB"},   {1e30, "1e+12 EB"}, {INFINITY, "n/a"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];
		pd_i_format_bytes(cases[i].v, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, cases[i].text);
	}
	char tiny[4];
	pd_i_format_bytes(123456, tiny, sizeof(tiny)); /* truncated, still a string */
	CU_ASSERT_STRING_EQUAL(tiny, "123");
}

static CU_TestInfo tests[] = {
    {"cluster_defaults_should_fill_the_plan_and_be_printed_as_assumed",
     cluster_defaults_should_fill_the_plan_and_be_printed_as_assumed},
    {"cluster_values_written_in_the_plan_should_not_be_reported_as_assumed",
     cluster_values_written_in_the_plan_should_not_be_reported_as_assumed},
    {"format_bytes_should_print_si_units_with_a_small_k",
     format_bytes_should_print_si_units_with_a_small_k},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"defaults", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
