/* test_validate.c - every rule of docs/rules.md fires on its invalid plan, at the
 * right line, with the right severity and a fix; valid plans pass; several mistakes are
 * all reported. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Loads tests/plans/invalid/FILE.xml and checks that `rule` fires with `sev` on the line
 * holding `marker`.  When `only` is true, no other rule may report anything. */
static void expect_rule(const char *file, const char *rule, pd_severity sev,
                        const char *marker, bool only)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "tests/plans/invalid/%s.xml", file);
	long line = pd_test_line_of(pd_test_path(rel), marker);
	CU_ASSERT_TRUE_FATAL(line > 0);
	pd_plan *plan = NULL;
	pd_analysis an;
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_status s = pd_test_load(rel, &plan, &an, &l);
	if (only)
		CU_ASSERT_EQUAL(s, sev == PD_ERROR ? PD_INVALID : PD_OK);
	int i = pd_test_find_diag(&l, rule, line);
	CU_ASSERT_TRUE(i >= 0);
	if (i >= 0) {
		const pd_diag *d = &l.items[i];
		CU_ASSERT_EQUAL(d->severity, sev);
		CU_ASSERT_PTR_NOT_NULL(d->fix);
		CU_ASSERT_FALSE(isupper((unsigned char)d->message[0]));
		CU_ASSERT_NOT_EQUAL(d->message[strlen(d->message) - 1], '.');
	}
	bool others = false;
	for (size_t k = 0; only && k < l.n; k++)
		others |= strcmp(l.items[k].rule, rule) != 0;
	CU_ASSERT_FALSE(others);
	if (i < 0 || others)
		pd_test_dump_diags(&l);
	pd_diag_list_release(&l);
	pd_plan_destroy(plan);
}

#define REJECT(fn, file, rule, sev, marker, only)                                          \
	static void validate_should_flag_##fn(void)                                            \
	{                                                                                      \
		expect_rule(file, rule, sev, marker, only);                                        \
	}

REJECT(declared_product, "multiplicative-gpu-count", PD_RULE_MULTIPLICATIVE, PD_ERROR,
       "<strategy gpus=\"32\">", true)
REJECT(declared_other_count, "multiplicative-gpu-count-sum", PD_RULE_MULTIPLICATIVE,
       PD_ERROR, "<strategy gpus=\"20\">", true)
REJECT(layer_gap, "layer-coverage", PD_RULE_LAYER_COVERAGE, PD_ERROR, "layers=\"8-15\"",
       true)
REJECT(layers_left_over, "layer-coverage-short", PD_RULE_LAYER_COVERAGE, PD_ERROR,
       "layers=\"8-13\"", true)
REJECT(tp_not_dividing_heads, "tp-divides-heads", PD_RULE_TP_DIVIDES_HEADS, PD_ERROR,
       "<attention tp=\"8\"", true)
REJECT(kv_heads_below_tp, "tp-divides-heads-kv", PD_RULE_TP_DIVIDES_HEADS, PD_WARNING,
       "<attention tp=\"8\"", true)
REJECT(tp_not_dividing_stage, "tp-divides-heads-stage", PD_RULE_TP_DIVIDES_HEADS, PD_ERROR,
       "<attention tp=\"16\"", true)
REJECT(sp_without_tp, "sp-needs-tp", PD_RULE_SP_NEEDS_TP, PD_ERROR, "sp=\"true\"", true)
REJECT(ep_below_stage_size, "ep-placement", PD_RULE_EP_PLACEMENT, PD_ERROR, "<moe ep=\"8\"",
       true)
REJECT(ep_not_dividing_experts, "ep-placement-divides", PD_RULE_EP_PLACEMENT, PD_ERROR,
       "<moe ep=\"16\"", true)
REJECT(expert_placed_twice, "ep-placement-place", PD_RULE_EP_PLACEMENT, PD_ERROR,
       "gpu=\"14\"", true)
REJECT(expert_placed_nowhere, "ep-placement-place", PD_RULE_EP_PLACEMENT, PD_ERROR,
       "<moe ep=\"16\"", true)
REJECT(place_outside_stage, "ep-placement-gpu", PD_RULE_EP_PLACEMENT, PD_ERROR,
       "gpu=\"8\"/>", true)
REJECT(ep_on_dense_model, "ep-placement-dense", PD_RULE_EP_PLACEMENT, PD_ERROR,
       "<moe ep=\"16\"", true)
REJECT(gpu_missing_from_cluster, "gpu-range", PD_RULE_GPU_RANGE, PD_ERROR, "gpus=\"16-23\"",
       true)
REJECT(copies_beyond_cluster, "gpu-range-count", PD_RULE_GPU_RANGE, PD_ERROR,
       "<stage layers=\"0-15\">", true)
REJECT(shared_gpus, "gpu-overlap", PD_RULE_GPU_OVERLAP, PD_ERROR, "gpus=\"4-11\"", true)
REJECT(count_with_explicit_gpus, "gpu-overlap-count", PD_RULE_GPU_OVERLAP, PD_ERROR,
       "<replica count=\"2\">", true)
REJECT(different_replicas, "replica-shape", PD_RULE_REPLICA_SHAPE, PD_ERROR, "<replica>",
       true)
REJECT(micro_batches_not_dividing, "workload-split", PD_RULE_WORKLOAD_SPLIT, PD_ERROR,
       "<workload", true)
REJECT(uneven_attention_groups, "workload-split-groups", PD_RULE_WORKLOAD_SPLIT, PD_WARNING,
       "<workload", true)
REJECT(declared_params_off, "params-mismatch", PD_RULE_PARAMS_MISMATCH, PD_ERROR, "<model",
       true)
REJECT(gpu_out_of_memory, "memory-capacity", PD_RULE_MEMORY_CAPACITY, PD_ERROR, "<stage",
       true)
REJECT(tp_group_across_nodes, "tp-crosses-node", PD_RULE_TP_CROSSES_NODE, PD_WARNING,
       "<attention tp=\"16\"", true)
REJECT(slow_plan, "throughput-target", PD_RULE_THROUGHPUT_TARGET, PD_ERROR, "<workload",
       true)
REJECT(idle_memory, "over-provisioned", PD_RULE_OVER_PROVISIONED, PD_WARNING, "<strategy",
       true)
REJECT(idle_gpus, "over-provisioned-idle", PD_RULE_OVER_PROVISIONED, PD_WARNING,
       "<strategy", false)

static void expect_valid(const char *rel)
{
	pd_plan *plan = NULL;
	pd_analysis an;
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL(pd_test_load(rel, &plan, &an, &l), PD_OK);
	CU_ASSERT_EQUAL(l.errors, 0);
	if (l.errors)
		pd_test_dump_diags(&l);
	pd_diag_list_release(&l);
	pd_plan_destroy(plan);
}

static void validate_should_accept_the_default_example(void)
{
	expect_valid("examples/moe-10b-ep16.xml");
}

static void validate_should_accept_the_golden_plans(void)
{
	expect_valid("tests/plans/valid/tiny.xml");
	expect_valid("tests/plans/valid/tiny-pp.xml");
}

static void validate_should_report_every_mistake_of_a_plan(void)
{
	const char *rel = "tests/plans/mixed/several-mistakes.xml";
	const char *path = pd_test_path(rel);
	pd_plan *plan = NULL;
	pd_analysis an;
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL(pd_test_load(rel, &plan, &an, &l), PD_INVALID);
	CU_ASSERT_TRUE(pd_test_find_diag(&l, PD_RULE_MULTIPLICATIVE,
	                                 pd_test_line_of(path, "<strategy")) >= 0);
	CU_ASSERT_TRUE(pd_test_find_diag(&l, PD_RULE_PARAMS_MISMATCH,
	                                 pd_test_line_of(path, "<model")) >= 0);
	CU_ASSERT_TRUE(pd_test_find_diag(&l, PD_RULE_WORKLOAD_SPLIT,
	                                 pd_test_line_of(path, "<workload")) >= 0);
	CU_ASSERT_TRUE(pd_test_find_diag(&l, PD_RULE_LAYER_COVERAGE,
	                                 pd_test_line_of(path, "layers=\"8-15\"")) >= 0);
	CU_ASSERT_TRUE(pd_test_find_diag(&l, PD_RULE_SP_NEEDS_TP,
	                                 pd_test_line_of(path, "sp=\"true\"")) >= 0);
	CU_ASSERT_TRUE(pd_test_find_diag(&l, PD_RULE_GPU_RANGE,
	                                 pd_test_line_of(path, "gpus=\"16-23\"")) >= 0);
	CU_ASSERT_TRUE(l.errors >= 6);
	pd_diag_list_release(&l);
	pd_plan_destroy(plan);
}

static size_t count_rule(const pd_diag_list *l, const char *rule)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		n += strcmp(l->items[i].rule, rule) == 0;
	return n;
}

/* 16 GPUs over capacity are one finding of one stage, not sixteen. */
static void validate_should_group_memory_findings_per_stage(void)
{
	pd_plan *plan = NULL;
	pd_analysis an;
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_test_load("tests/plans/invalid/memory-capacity.xml", &plan, &an, &l);
	CU_ASSERT_EQUAL(count_rule(&l, PD_RULE_MEMORY_CAPACITY), 1);
	int i = pd_test_find_diag(&l, PD_RULE_MEMORY_CAPACITY, 0);
	if (i >= 0)
		CU_ASSERT_PTR_NOT_NULL(strstr(l.items[i].message, "GPUs 0-15 "));
	pd_diag_list_release(&l);
	pd_plan_destroy(plan);
}

static void validate_should_say_when_declared_gpus_is_the_product(void)
{
	pd_plan *plan = NULL;
	pd_analysis an;
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_test_load("tests/plans/invalid/multiplicative-gpu-count.xml", &plan, &an, &l);
	CU_ASSERT_EQUAL(an.gpus_structural, 16);
	CU_ASSERT_EQUAL(an.gpus_product, 32);
	int i = pd_test_find_diag(&l, PD_RULE_MULTIPLICATIVE, 0);
	CU_ASSERT_TRUE_FATAL(i >= 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(l.items[i].message, "1×2×1×16×1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(l.items[i].message, "uses 16"));
	CU_ASSERT_PTR_NOT_NULL(strstr(l.items[i].fix, "gpus=\"16\""));
	pd_diag_list_release(&l);
	pd_plan_destroy(plan);
}

static const char SHORTHAND[] =
    "<?xml version=\"1.0\"?>\n<plan name=\"short\">\n"
    "  <model layers=\"16\" hidden=\"4096\" heads=\"32\" vocab=\"32000\" experts=\"16\"\n"
    "         top-k=\"2\" expert-ffn=\"2816\" dtype=\"fp16\"/>\n"
    "  <cluster nodes=\"2\" gpus-per-node=\"8\" gpu-memory=\"64GiB\"/>\n"
    "  <workload batch=\"256\" context=\"4096\"/>\n"
    "  <strategy gpus=\"16\" dp=\"1\" pp=\"2\" tp=\"3\" ep=\"8\"/>\n</plan>\n";

/* Stages expanded from the shorthand share the <strategy> line: one report per problem. */
static void validate_should_report_shorthand_problems_once(void)
{
	pd_plan *plan = NULL;
	pd_analysis an;
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL_FATAL(
	    pd_plan_parse_memory(SHORTHAND, sizeof(SHORTHAND) - 1, "short.xml", &plan, &l),
	    PD_OK);
	CU_ASSERT_EQUAL_FATAL(pd_plan_expand(plan, &l), PD_OK);
	CU_ASSERT_EQUAL(pd_plan_validate(plan, &an, &l), PD_INVALID);
	CU_ASSERT_TRUE(pd_test_find_diag(&l, PD_RULE_TP_DIVIDES_HEADS, 7) >= 0);
	/* heads 32 % 3 and 8 GPUs % 3: two problems, not two per stage */
	CU_ASSERT_EQUAL(count_rule(&l, PD_RULE_TP_DIVIDES_HEADS), 2);
	CU_ASSERT_EQUAL(an.gpus_structural, 16);
	pd_diag_list_release(&l);
	pd_plan_destroy(plan);
}

/* A plan of 200 overlapping stages: a bounded list, a note with the rest, still invalid. */
static void validate_should_cap_repeated_findings(void)
{
	char *buf = malloc(1 << 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	int n = snprintf(buf, 1 << 16,
	                 "<?xml version=\"1.0\"?>\n<plan name=\"many\">\n"
	                 "  <model layers=\"4\" hidden=\"64\" heads=\"2\" vocab=\"100\" "
	                 "dense-ffn=\"128\"/>\n"
	                 "  <cluster nodes=\"25\" gpus-per-node=\"8\" gpu-memory=\"1GB\"/>\n"
	                 "  <strategy><replica>\n");
	for (int i = 0; i < 200; i++)
		n += snprintf(buf + n, (size_t)(1 << 16) - (size_t)n, "<stage layers=\"0-3\"/>\n");
	n += snprintf(buf + n, (size_t)(1 << 16) - (size_t)n,
	              "</replica></strategy>\n</plan>\n");
	pd_plan *plan = NULL;
	pd_analysis an;
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL_FATAL(pd_plan_parse_memory(buf, (size_t)n, "many.xml", &plan, &l),
	                      PD_OK);
	CU_ASSERT_EQUAL_FATAL(pd_plan_expand(plan, &l), PD_OK);
	CU_ASSERT_EQUAL(pd_plan_validate(plan, &an, &l), PD_INVALID);
	CU_ASSERT_EQUAL(count_rule(&l, PD_RULE_LAYER_COVERAGE), PD_DIAG_PER_RULE_MAX);
	CU_ASSERT_EQUAL(pd_diag_list_dropped(&l, PD_RULE_LAYER_COVERAGE),
	                199 - PD_DIAG_PER_RULE_MAX);
	CU_ASSERT_EQUAL(l.errors, 199);
	pd_diag_list_release(&l);
	pd_plan_destroy(plan);
	free(buf);
}

static CU_TestInfo rule_tests[] = {
    {"validate_should_flag_declared_product", validate_should_flag_declared_product},
    {"validate_should_flag_declared_other_count",
     validate_should_flag_declared_other_count},
    {"validate_should_flag_layer_gap", validate_should_flag_layer_gap},
    {"validate_should_flag_layers_left_over", validate_should_flag_layers_left_over},
    {"validate_should_flag_tp_not_dividing_heads",
     validate_should_flag_tp_not_dividing_heads},
    {"validate_should_flag_kv_heads_below_tp", validate_should_flag_kv_heads_below_tp},
    {"validate_should_flag_tp_not_dividing_stage",
     validate_should_flag_tp_not_dividing_stage},
    {"validate_should_flag_sp_without_tp", validate_should_flag_sp_without_tp},
    {"validate_should_flag_ep_below_stage_size", validate_should_flag_ep_below_stage_size},
    {"validate_should_flag_ep_not_dividing_experts",
     validate_should_flag_ep_not_dividing_experts},
    {"validate_should_flag_expert_placed_twice", validate_should_flag_expert_placed_twice},
    {"validate_should_flag_expert_placed_nowhere",
     validate_should_flag_expert_placed_nowhere},
    {"validate_should_flag_place_outside_stage", validate_should_flag_place_outside_stage},
    {"validate_should_flag_ep_on_dense_model", validate_should_flag_ep_on_dense_model},
    {"validate_should_flag_gpu_missing_from_cluster",
     validate_should_flag_gpu_missing_from_cluster},
    {"validate_should_flag_copies_beyond_cluster",
     validate_should_flag_copies_beyond_cluster},
    {"validate_should_flag_shared_gpus", validate_should_flag_shared_gpus},
    {"validate_should_flag_count_with_explicit_gpus",
     validate_should_flag_count_with_explicit_gpus},
    {"validate_should_flag_different_replicas", validate_should_flag_different_replicas},
    {"validate_should_flag_micro_batches_not_dividing",
     validate_should_flag_micro_batches_not_dividing},
    {"validate_should_flag_uneven_attention_groups",
     validate_should_flag_uneven_attention_groups},
    {"validate_should_flag_declared_params_off", validate_should_flag_declared_params_off},
    {"validate_should_flag_gpu_out_of_memory", validate_should_flag_gpu_out_of_memory},
    {"validate_should_flag_tp_group_across_nodes",
     validate_should_flag_tp_group_across_nodes},
    {"validate_should_flag_slow_plan", validate_should_flag_slow_plan},
    {"validate_should_flag_idle_memory", validate_should_flag_idle_memory},
    {"validate_should_flag_idle_gpus", validate_should_flag_idle_gpus},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo plan_tests[] = {
    {"validate_should_accept_the_default_example",
     validate_should_accept_the_default_example},
    {"validate_should_accept_the_golden_plans", validate_should_accept_the_golden_plans},
    {"validate_should_report_every_mistake_of_a_plan",
     validate_should_report_every_mistake_of_a_plan},
    {"validate_should_group_memory_findings_per_stage",
     validate_should_group_memory_findings_per_stage},
    {"validate_should_say_when_declared_gpus_is_the_product",
     validate_should_say_when_declared_gpus_is_the_product},
    {"validate_should_report_shorthand_problems_once",
     validate_should_report_shorthand_problems_once},
    {"validate_should_cap_repeated_findings", validate_should_cap_repeated_findings},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"rules", NULL, NULL, NULL, NULL, rule_tests},
    {"plans", NULL, NULL, NULL, NULL, plan_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
