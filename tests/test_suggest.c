/* test_suggest.c - pd_suggest, the "did you mean" behind unknown commands, options,
 * --emit words, attributes and elements. */
#include <string.h>

#include "testutil.h"

static const char *const ATTRS[] = {"heads", "kv-heads", "head-dim", "hidden", "layers"};
#define N_ATTRS (sizeof(ATTRS) / sizeof(ATTRS[0]))

static void suggest_should_treat_underscore_as_dash(void)
{
	CU_ASSERT_STRING_EQUAL(pd_suggest("kv_heads", ATTRS, N_ATTRS), "kv-heads");
	CU_ASSERT_STRING_EQUAL(pd_suggest("KV-Heads", ATTRS, N_ATTRS), "kv-heads");
}

static void suggest_should_count_a_swap_as_one_edit(void)
{
	CU_ASSERT_STRING_EQUAL(pd_suggest("haeds", ATTRS, N_ATTRS), "heads");
	CU_ASSERT_STRING_EQUAL(pd_suggest("layesr", ATTRS, N_ATTRS), "layers");
}

static void suggest_should_stay_silent_beyond_two_edits_or_on_an_exact_name(void)
{
	CU_ASSERT_PTR_NULL(pd_suggest("pipeline", ATTRS, N_ATTRS));
	CU_ASSERT_PTR_NULL(pd_suggest("hiddenxyz", ATTRS, N_ATTRS));
	CU_ASSERT_PTR_NULL(pd_suggest("heads", ATTRS, N_ATTRS));
	CU_ASSERT_PTR_NULL(pd_suggest("", ATTRS, N_ATTRS));
	const char *const formats[] = {"md", "json"};
	CU_ASSERT_PTR_NULL(pd_suggest("x", formats, 2)); /* would replace every character */
	CU_ASSERT_STRING_EQUAL(pd_suggest("jsno", formats, 2), "json");
}

static void suggest_should_prefer_the_nearest_name(void)
{
	const char *const cmds[] = {"check", "report", "compile", "verify", "help"};
	CU_ASSERT_STRING_EQUAL(pd_suggest("chek", cmds, 5), "check");
	CU_ASSERT_STRING_EQUAL(pd_suggest("compiel", cmds, 5), "compile");
	CU_ASSERT_STRING_EQUAL(pd_suggest("hepl", cmds, 5), "help");
}

static CU_TestInfo tests[] = {
    {"suggest_should_treat_underscore_as_dash", suggest_should_treat_underscore_as_dash},
    {"suggest_should_count_a_swap_as_one_edit", suggest_should_count_a_swap_as_one_edit},
    {"suggest_should_stay_silent_beyond_two_edits_or_on_an_exact_name",
     suggest_should_stay_silent_beyond_two_edits_or_on_an_exact_name},
    {"suggest_should_prefer_the_nearest_name", suggest_should_prefer_the_nearest_name},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"suggest", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
