/* test_diag.c - the diagnostic list and the arena. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void diag_should_count_errors_and_warnings(void)
{
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_diag_add(&l, PD_RULE_GPU_RANGE, PD_ERROR, 7, 3, "gpu %d does not exist", 99);
	pd_diag_add(&l, PD_RULE_TP_CROSSES_NODE, PD_WARNING, 2, 0, "tp group spans nodes");
	CU_ASSERT_EQUAL(l.errors, 1);
	CU_ASSERT_EQUAL(l.warnings, 1);
	CU_ASSERT_STRING_EQUAL(l.items[0].message, "gpu 99 does not exist");
	CU_ASSERT_TRUE(pd_diag_list_has(&l, "gpu-range"));
	CU_ASSERT_FALSE(pd_diag_list_has(&l, "gpu-overlap"));
	pd_diag_list_release(&l);
	CU_ASSERT_EQUAL(l.n, 0);
}

static void diag_sort_should_order_by_line_and_keep_ties_stable(void)
{
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_diag_add(&l, "b", PD_ERROR, 9, 0, "third");
	pd_diag_add(&l, "a", PD_ERROR, 3, 0, "first");
	pd_diag_add(&l, "c", PD_ERROR, 3, 0, "second");
	pd_diag_list_sort(&l);
	CU_ASSERT_STRING_EQUAL(l.items[0].message, "first");
	CU_ASSERT_STRING_EQUAL(l.items[1].message, "second");
	CU_ASSERT_STRING_EQUAL(l.items[2].message, "third");
	pd_diag_list_release(&l);
}

static void diag_print_should_follow_compiler_format(void)
{
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_diag *d =
	    pd_diag_add(&l, PD_RULE_MULTIPLICATIVE, PD_ERROR, 12, 7, "declared %d GPUs", 128);
	pd_diag_fix(d, "set gpus=\"%d\"", 32);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	pd_diag_print(f, "plan.xml", d);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(
	    buf, "plan.xml:12:7: error: declared 128 GPUs [multiplicative-gpu-count]\n"
	         "    fix: set gpus=\"32\"\n");
	free(buf);
	pd_diag_list_release(&l);
}

static void diag_remove_rule_should_fix_counts(void)
{
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_diag_add(&l, PD_RULE_THROUGHPUT_TARGET, PD_ERROR, 1, 0, "slow");
	pd_diag_add(&l, PD_RULE_GPU_RANGE, PD_ERROR, 2, 0, "bad");
	pd_diag_list_remove_rule(&l, PD_RULE_THROUGHPUT_TARGET);
	CU_ASSERT_EQUAL(l.n, 1);
	CU_ASSERT_EQUAL(l.errors, 1);
	CU_ASSERT_STRING_EQUAL(l.items[0].rule, "gpu-range");
	pd_diag_list_release(&l);
}

static void arena_should_align_zero_and_refuse_overflow(void)
{
	pd_arena *a = pd_arena_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	unsigned char *p = pd_arena_calloc(a, 3, 1);
	double *q = pd_arena_calloc(a, 1000000, sizeof(double));
	CU_ASSERT_PTR_NOT_NULL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL((uintptr_t)q % 16, 0);
	CU_ASSERT_EQUAL(q[999999], 0.0);
	CU_ASSERT_PTR_NULL(pd_arena_calloc(a, SIZE_MAX / 2, 4));
	CU_ASSERT_STRING_EQUAL(pd_arena_printf(a, "%s-%d", "stage", 3), "stage-3");
	pd_arena_destroy(a);
}

static void diag_list_should_keep_a_bounded_number_per_rule_and_count_the_rest(void)
{
	pd_diag_list l;
	pd_diag_list_init(&l);
	for (int i = 0; i < 100000; i++)
		pd_diag_add(&l, PD_RULE_SCHEMA, PD_ERROR, i + 1, 0, "bad attribute %d", i);
	pd_diag_add(&l, PD_RULE_GPU_RANGE, PD_ERROR, 5, 0, "gpu 9 does not exist");
	CU_ASSERT_EQUAL(l.errors, 100001);
	CU_ASSERT_EQUAL(l.n, PD_DIAG_PER_RULE_MAX + 1);
	CU_ASSERT_EQUAL(pd_diag_list_dropped(&l, PD_RULE_SCHEMA),
	                100000 - PD_DIAG_PER_RULE_MAX);
	CU_ASSERT_EQUAL(pd_diag_list_dropped(&l, PD_RULE_GPU_RANGE), 0);
	CU_ASSERT_FALSE(pd_diag_list_keeps(&l, PD_RULE_SCHEMA));
	CU_ASSERT_TRUE(pd_diag_list_keeps(&l, PD_RULE_GPU_RANGE));
	CU_ASSERT_TRUE(pd_diag_list_keeps(&l, PD_RULE_HIERARCHY));
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	pd_diag_list_print(f, "p.xml", &l);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "p.xml: note: 99980 more diagnostic(s) of this rule "
	                                   "not shown [schema]"));
	free(buf);
	pd_diag_list_remove_rule(&l, PD_RULE_SCHEMA);
	CU_ASSERT_EQUAL(l.errors, 1);
	CU_ASSERT_EQUAL(l.dropped, 0);
	pd_diag_list_release(&l);
}

static CU_TestInfo diag_tests[] = {
    {"diag_list_should_keep_a_bounded_number_per_rule_and_count_the_rest",
     diag_list_should_keep_a_bounded_number_per_rule_and_count_the_rest},
    {"diag_should_count_errors_and_warnings", diag_should_count_errors_and_warnings},
    {"diag_sort_should_order_by_line_and_keep_ties_stable",
     diag_sort_should_order_by_line_and_keep_ties_stable},
    {"diag_print_should_follow_compiler_format", diag_print_should_follow_compiler_format},
    {"diag_remove_rule_should_fix_counts", diag_remove_rule_should_fix_counts},
    {"arena_should_align_zero_and_refuse_overflow",
     arena_should_align_zero_and_refuse_overflow},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"diag", NULL, NULL, NULL, NULL, diag_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
