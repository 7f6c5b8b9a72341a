/* test_analysis.c - the arithmetic behind the rules: parameter counts against published
 * figures, KV bytes per token, memory per GPU of the default example recomputed by hand
 * from docs/plan-format.md, and the roofline throughput. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan/rules.h"
#include "testutil.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

static pd_model mixtral(void)
{
	return (pd_model){.layers = 32,
	                  .hidden = 4096,
	                  .heads = 32,
	                  .kv_heads = 8,
	                  .head_dim = 128,
	                  .vocab = 32000,
	                  .experts = 8,
	                  .top_k = 2,
	                  .expert_ffn = 14336,
	                  .dtype = PD_BF16};
}

static bool near(double got, double want, double rel)
{
	return fabs(got - want) <= rel * fabs(want);
}

static void params_should_match_mixtral_8x7b(void)
{
	pd_model m = mixtral();
	pd_analysis an;
	memset(&an, 0, sizeof(an));
	pd_i_params_compute(&m, &an);
	CU_ASSERT_TRUE(near(pd_model_params(&m), 46.7e9, 0.005));
	/* Mistral's 12.9 B active counts the embedding table; plandag's active figure leaves
	 * the lookup out (docs/models.md) */
	CU_ASSERT_TRUE(near(an.params_active_per_token + 32000.0 * 4096, 12.9e9, 0.01));
	CU_ASSERT_TRUE(near(an.weight_bytes, 2.0 * an.params_computed, 1e-12));
}

static void params_should_match_llama2_70b(void)
{
	pd_model m = {.layers = 80,
	              .hidden = 8192,
	              .heads = 64,
	              .kv_heads = 8,
	              .head_dim = 128,
	              .vocab = 32000,
	              .dense_ffn = 28672,
	              .dtype = PD_FP16};
	pd_analysis an;
	memset(&an, 0, sizeof(an));
	pd_i_params_compute(&m, &an);
	CU_ASSERT_TRUE(near(an.params_computed, 68.98e9, 0.001));
	/* a dense model is active as a whole, but for the embedding lookup */
	CU_ASSERT_TRUE(
	    near(an.params_active_per_token, an.params_computed - 32000.0 * 8192, 1e-12));
}

static void params_should_count_first_dense_and_shared_experts(void)
{
	pd_model m = mixtral();
	m.first_dense = 2;
	m.dense_ffn = 1000;
	m.shared_experts = 1;
	double expert = 3.0 * 4096 * 14336, dense = 3.0 * 4096 * 1000;
	pd_model base = mixtral();
	double want =
	    pd_model_params(&base) + 30 * expert - 2 * (8 * expert + 4096.0 * 8) + 2 * dense;
	CU_ASSERT_TRUE(near(pd_model_params(&m), want, 1e-12));
}

static void kv_bytes_per_token_should_cover_the_whole_model(void)
{
	pd_model m = mixtral();
	pd_analysis an;
	memset(&an, 0, sizeof(an));
	pd_i_params_compute(&m, &an);
	CU_ASSERT_DOUBLE_EQUAL(an.kv_bytes_per_token, 2.0 * 32 * 8 * 128 * 2, 1e-9);
}

static void load(const char *rel, pd_plan **plan, pd_analysis *an)
{
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_status s = pd_test_load(rel, plan, an, &l);
	CU_ASSERT_EQUAL(s, PD_OK);
	if (s != PD_OK)
		pd_test_dump_diags(&l);
	pd_diag_list_release(&l);
}

static void params_should_give_the_design_example_10b(void)
{
	pd_plan *plan = NULL;
	pd_analysis an;
	load("examples/moe-10b-ep16.xml", &plan, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	CU_ASSERT_TRUE(near(an.params_computed, 10.2e9, 0.01));
	CU_ASSERT_TRUE(near(an.weight_bytes, 20.4e9, 0.01)); /* fp16: 2 bytes each */
	pd_plan_destroy(plan);
}

/* docs/plan-format.md by hand for one GPU of the example: TP 1, one expert per GPU, one
 * stage holding both the embedding and the LM head, 256 / 16 sequences per GPU. */
static void memory_should_follow_the_design_formula_for_the_example(void)
{
	pd_plan *plan = NULL;
	pd_analysis an;
	load("examples/moe-10b-ep16.xml", &plan, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	double h = 4096, heads = 32, kv = 32, hd = 128, vocab = 32000, ffn = 2816, bytes = 2;
	double layer =
	    h * heads * hd + 2 * h * kv * hd + heads * hd * h + h * 16 + 2 * h + 3 * h * ffn;
	double weights = (16 * layer + 2 * vocab * h) * bytes;
	double kv_cache = 2 * 16 * kv * hd * bytes * (256.0 / 16) * 4096;
	double act = (256.0 / 16) * (4 * h + 2 * ffn) * bytes;
	double reserve = 0.10 * 64 * GIB;
	CU_ASSERT_EQUAL_FATAL(an.n_memory, 16);
	for (uint32_t g = 0; g < an.n_memory; g++) {
		const pd_gpu_memory *e = &an.memory[g];
		CU_ASSERT_EQUAL(e->gpu, (int32_t)g);
		CU_ASSERT_EQUAL(e->experts, 1);
		CU_ASSERT_TRUE(near(e->weights, weights, 1e-9));
		CU_ASSERT_TRUE(near(e->kv_cache, kv_cache, 1e-9));
		CU_ASSERT_TRUE(near(e->activations, act, 1e-9));
		CU_ASSERT_TRUE(near(e->reserve, reserve, 1e-9));
		CU_ASSERT_TRUE(near(e->total, weights + kv_cache + act + reserve, 1e-9));
		CU_ASSERT_TRUE(near(e->capacity, 64 * GIB, 1e-12));
	}
	CU_ASSERT_PTR_NOT_NULL(an.activation_formula);
	pd_plan_destroy(plan);
}

/* TP 2 with 4 kv-heads: attention and the embedding halve, K and V are split in two. */
static void memory_should_split_attention_over_tp(void)
{
	pd_plan *plan = NULL;
	pd_analysis an;
	load("tests/plans/valid/tiny.xml", &plan, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	double h = 256, hd = 64, bytes = 2;
	double layer =
	    2 * h * 4 * hd / 2 + 2 * h * (4.0 / 2) * hd + h * 2 + 2 * h + 3 * h * 512;
	double weights = (2 * layer + 2 * 1000 * h / 2) * bytes;
	double kv_cache = 2 * 2 * (4.0 / 2) * hd * bytes * 4 * 128;
	CU_ASSERT_EQUAL_FATAL(an.n_memory, 2);
	CU_ASSERT_TRUE(near(an.memory[1].weights, weights, 1e-9));
	CU_ASSERT_TRUE(near(an.memory[1].kv_cache, kv_cache, 1e-9));
	pd_plan_destroy(plan);
}

/* SP splits the hidden-wide activations along the sequence: 4·hidden / TP per token, the
 * FFN's intermediate (already / TP in width) unchanged.  PP 2 x TP 8 + SP, decode, 96 / 2
 * sequences per micro-batch in one attention group. */
static void memory_should_split_the_hidden_wide_activations_with_sp(void)
{
	pd_plan *plan = NULL;
	pd_analysis an;
	load("examples/dense-70b-pp2-tp8-sp.xml", &plan, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	double tokens = 96.0 / 2, h = 8192, ffn = 28672.0 / 8, bytes = 2;
	double sp = tokens * (4 * h / 8 + 2 * ffn) * bytes;
	double plain = tokens * (4 * h + 2 * ffn) * bytes;
	CU_ASSERT_EQUAL_FATAL(an.n_memory, 16);
	for (uint32_t g = 0; g < an.n_memory; g++)
		CU_ASSERT_TRUE(near(an.memory[g].activations, sp, 1e-12));
	CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(an.activation_formula, "4*hidden/SP"));
	pd_plan_destroy(plan);
	/* the same plan without SP */
	size_t len = 0;
	char *text = pd_test_read_file(pd_test_path("examples/dense-70b-pp2-tp8-sp.xml"), &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (char *q = text; (q = strstr(q, "sp=\"true\"")) != NULL;)
		memcpy(q, "sp=\"0\"   ", 9);
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL_FATAL(pd_plan_parse_memory(text, len, "no-sp.xml", &plan, &l), PD_OK);
	CU_ASSERT_EQUAL_FATAL(pd_plan_expand(plan, &l), PD_OK);
	CU_ASSERT_EQUAL(pd_plan_validate(plan, &an, &l), PD_OK);
	CU_ASSERT_FALSE(plan->strategy.replicas[0].stages[0].sp);
	CU_ASSERT_TRUE(near(an.memory[0].activations, plain, 1e-12));
	pd_diag_list_release(&l);
	free(text);
	pd_plan_destroy(plan);
}

/* Decode reads every weight and the whole KV cache once per step: the step cannot be
 * faster than that at HBM bandwidth. */
static void roofline_should_be_bounded_by_hbm_traffic(void)
{
	pd_plan *plan = NULL;
	pd_analysis an;
	load("examples/moe-10b-ep16.xml", &plan, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	CU_ASSERT_EQUAL(an.throughput_source, PD_THROUGHPUT_ROOFLINE);
	double floor_us = (an.memory[0].weights + an.memory[0].kv_cache) / 3.35e12 * 1e6;
	CU_ASSERT_TRUE(an.step_latency_us >= floor_us);
	CU_ASSERT_TRUE(an.step_latency_us <= 2 * floor_us);
	CU_ASSERT_DOUBLE_EQUAL(an.step_tokens, 256, 1e-9);
	CU_ASSERT_TRUE(near(an.tokens_per_ms, 256 / (an.step_latency_us / 1000), 1e-9));
	pd_plan_destroy(plan);
}

static void set_throughput_should_use_the_dag_latency(void)
{
	pd_plan *plan = NULL;
	pd_analysis an;
	load("examples/moe-10b-ep16.xml", &plan, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	pd_analysis_set_throughput(plan, &an, 1000.0);
	CU_ASSERT_EQUAL(an.throughput_source, PD_THROUGHPUT_DAG);
	CU_ASSERT_DOUBLE_EQUAL(an.step_latency_us, 1000.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(an.tokens_per_ms, 256.0, 1e-9);
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_validate_throughput(plan, &an, &l); /* target 25 < 256 */
	CU_ASSERT_EQUAL(l.n, 0);
	pd_analysis_set_throughput(plan, &an, 100000.0); /* 2.56 tokens/ms */
	pd_validate_throughput(plan, &an, &l);
	CU_ASSERT_TRUE(pd_test_find_diag(&l, PD_RULE_THROUGHPUT_TARGET, 0) >= 0);
	pd_diag_list_release(&l);
	pd_plan_destroy(plan);
}

static const char TWO_REPLICAS[] =
    "<?xml version=\"1.0\"?>\n<plan name=\"two\">\n"
    "  <model layers=\"16\" hidden=\"4096\" heads=\"32\" vocab=\"32000\" experts=\"16\"\n"
    "         top-k=\"2\" expert-ffn=\"2816\" dtype=\"fp16\"/>\n"
    "  <cluster nodes=\"4\" gpus-per-node=\"8\" gpu-memory=\"64GiB\"/>\n"
    "  <workload batch=\"256\" context=\"4096\"/>\n"
    "  <strategy gpus=\"32\"><replica count=\"2\"><stage layers=\"0-15\">\n"
    "    <moe ep=\"16\"/></stage></replica></strategy>\n</plan>\n";

/* DP replicas serve different requests: throughput adds up over replicas. */
static void roofline_should_sum_over_replicas(void)
{
	pd_plan *one = NULL, *two = NULL;
	pd_analysis a1, a2;
	pd_diag_list l;
	pd_diag_list_init(&l);
	load("examples/moe-10b-ep16.xml", &one, &a1);
	CU_ASSERT_EQUAL_FATAL(
	    pd_plan_parse_memory(TWO_REPLICAS, sizeof(TWO_REPLICAS) - 1, "two.xml", &two, &l),
	    PD_OK);
	CU_ASSERT_EQUAL_FATAL(pd_plan_expand(two, &l), PD_OK);
	CU_ASSERT_EQUAL(pd_plan_validate(two, &a2, &l), PD_OK);
	CU_ASSERT_EQUAL(a2.gpus_structural, 32);
	CU_ASSERT_EQUAL(a2.n_memory, 32);
	CU_ASSERT_TRUE(near(a2.tokens_per_ms, 2 * a1.tokens_per_ms, 1e-9));
	pd_diag_list_release(&l);
	pd_plan_destroy(one);
	pd_plan_destroy(two);
}

static CU_TestInfo param_tests[] = {
    {"params_should_match_mixtral_8x7b", params_should_match_mixtral_8x7b},
    {"params_should_match_llama2_70b", params_should_match_llama2_70b},
    {"params_should_count_first_dense_and_shared_experts",
     params_should_count_first_dense_and_shared_experts},
    {"kv_bytes_per_token_should_cover_the_whole_model",
     kv_bytes_per_token_should_cover_the_whole_model},
    {"params_should_give_the_design_example_10b",
     params_should_give_the_design_example_10b},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo memory_tests[] = {
    {"memory_should_follow_the_design_formula_for_the_example",
     memory_should_follow_the_design_formula_for_the_example},
    {"memory_should_split_attention_over_tp", memory_should_split_attention_over_tp},
    {"memory_should_split_the_hidden_wide_activations_with_sp",
     memory_should_split_the_hidden_wide_activations_with_sp},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo throughput_tests[] = {
    {"roofline_should_be_bounded_by_hbm_traffic",
     roofline_should_be_bounded_by_hbm_traffic},
    {"set_throughput_should_use_the_dag_latency",
     set_throughput_should_use_the_dag_latency},
    {"roofline_should_sum_over_replicas", roofline_should_sum_over_replicas},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"params", NULL, NULL, NULL, NULL, param_tests},
    {"memory", NULL, NULL, NULL, NULL, memory_tests},
    {"throughput", NULL, NULL, NULL, NULL, throughput_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
