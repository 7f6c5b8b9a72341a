/* test_models.c - the flagship models as they are published, through the real parser on
 * the shipped plans: parameter counts, active parameters, KV bytes, weights per GPU
 * (docs/models.md); MLA's cost in decode and prefill, fp4 / kv-dtype / expert-dtype,
 * group-limited routing.  The bad input of every new attribute: test_models_cli.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/cost.h"
#include "plan/rules.h"
#include "testutil.h"

#define DSV3 "tests/plans/models/deepseek-v3.xml"

static bool near(double got, double want, double rel)
{
	bool ok = fabs(got - want) <= rel * fabs(want);
	if (!ok)
		fprintf(stderr, "\n  got %.6g, want %.6g (within %g %%)\n", got, want, rel * 100);
	return ok;
}

static pd_plan *load(const char *rel, pd_analysis *an)
{
	pd_plan *plan = NULL;
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_status s = pd_test_load(rel, &plan, an, &l);
	CU_ASSERT_EQUAL(s, PD_OK);
	if (s != PD_OK)
		pd_test_dump_diags(&l);
	pd_diag_list_release(&l);
	return plan;
}

/* The plan file rel with `from` replaced by `to` (once), parsed, expanded, validated. */
static pd_plan *load_edited(const char *rel, const char *from, const char *to,
                            pd_analysis *an)
{
	char *edited = pd_test_edit_file(rel, from, to);
	pd_plan *plan = NULL;
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_status s = pd_test_load_text(edited, rel, &plan, an, &l);
	CU_ASSERT_EQUAL(s, PD_OK);
	if (s != PD_OK)
		pd_test_dump_diags(&l);
	pd_diag_list_release(&l);
	free(edited);
	return plan;
}

/* --- published figures ------------------------------------------------------------ */

static void deepseek_v3_should_have_671b_parameters_37b_active_and_70272_kv_bytes(void)
{
	pd_analysis an;
	pd_plan *p = load(DSV3, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_TRUE(pd_model_is_mla(&p->model));
	CU_ASSERT_TRUE(near(an.params_computed, 671e9, 0.01));
	CU_ASSERT_TRUE(near(an.params_active_per_token, 37e9, 0.03));
	/* 61 layers x (512 latent + 64 rope) x 2 bytes */
	CU_ASSERT_EQUAL(an.kv_bytes_per_token, 70272.0);
	pd_plan_destroy(p);
	p = load_edited(DSV3, "kv-dtype=\"bf16\"", "kv-dtype=\"fp8\"", &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(an.kv_bytes_per_token, 35136.0);
	pd_plan_destroy(p);
}

static void kimi_k2_should_have_1_03t_parameters_and_32b_active(void)
{
	pd_analysis an;
	pd_plan *p = load("examples/kimi-k2-h200-tp8-ep32.xml", &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_TRUE(near(an.params_computed, 1.03e12, 0.02));
	CU_ASSERT_TRUE(near(an.params_active_per_token, 32e9, 0.03));
	CU_ASSERT_EQUAL(an.kv_bytes_per_token, 70272.0);
	pd_plan_destroy(p);
}

static void qwen3_235b_should_have_235b_parameters_22b_active_and_192512_kv_bytes(void)
{
	pd_analysis an;
	pd_plan *p = load("examples/qwen3-235b-a22b-tp4-ep8.xml", &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_TRUE(near(an.params_computed, 235e9, 0.01));
	CU_ASSERT_TRUE(near(an.params_active_per_token, 22e9, 0.03));
	CU_ASSERT_EQUAL(an.kv_bytes_per_token, 192512.0);
	pd_plan_destroy(p);
}

static void gpt_oss_120b_should_have_116_8b_parameters_and_fit_one_gpu_in_fp4(void)
{
	pd_analysis an;
	pd_plan *p = load("examples/gpt-oss-120b-1gpu-fp4.xml", &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_TRUE(near(an.params_computed, 116.8e9, 0.01));
	CU_ASSERT_TRUE(near(an.params_active_per_token, 5.1e9, 0.03));
	CU_ASSERT_EQUAL_FATAL(an.n_memory, 1);
	CU_ASSERT_TRUE(an.memory[0].weights >= 55e9 && an.memory[0].weights <= 66e9);
	CU_ASSERT_TRUE(an.memory[0].total <= an.memory[0].capacity);
	/* the same plan with bf16 experts does not fit: fp4 is what makes it one GPU */
	CU_ASSERT_TRUE(an.weight_bytes < 0.6 * 2 * an.params_computed);
	pd_plan_destroy(p);
}

static void active_per_token_should_leave_out_the_embedding_lookup(void)
{
	pd_analysis an;
	pd_plan *p = load("examples/gpt-oss-120b-1gpu-fp4.xml", &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	const pd_model *m = &p->model;
	double embed = (double)m->vocab * (double)m->hidden;
	double attn = pd_i_attention_params(m) + 2.0 * (double)m->hidden;
	double ffn = (double)m->top_k * pd_i_expert_params(m) + (double)m->hidden * 128;
	/* layers x (attention + norms + top-k experts + router) + LM head */
	CU_ASSERT_DOUBLE_EQUAL(an.params_active_per_token, 36 * (attn + ffn) + embed, 1);
	pd_plan_destroy(p);
}

/* --- MLA ------------------------------------------------------------------------- */

/* q_a_proj + its norm and kv_a_proj_with_mqa + its norm whole on every GPU, q_b_proj,
 * kv_b_proj and o_proj split by heads (SGLang / vLLM DeepseekV2 attention). */
static void mla_weights_should_replicate_the_down_projections_and_split_the_rest(void)
{
	pd_analysis an;
	pd_plan *p = load(DSV3, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	pd_i_attn_params a = pd_i_attention_per_gpu(&p->model, 4);
	double h = 7168, heads = 128.0 / 4;
	CU_ASSERT_EQUAL(a.q, h * 1536 + 1536 + 1536 * heads * (128 + 64));
	CU_ASSERT_EQUAL(a.kv, h * (512 + 64) + 512 + 512 * heads * (128 + 128));
	CU_ASSERT_EQUAL(a.o, heads * 128 * h);
	/* fp8 weights: per GPU 61 layers of attention and norms, 58 routers and shared
	 * experts (/ TP), 3 dense FFNs (/ TP), embedding and LM head (/ TP), 8 experts */
	double expert = 3 * h * 2048;
	double want = 61 * (a.q + a.kv + a.o + 2 * h) + 58 * (h * 256 + expert / 4) +
	              3 * 3 * h * 18432 / 4 + 2 * 129280 * h / 4 + 8 * 58 * expert;
	CU_ASSERT_TRUE(near(an.memory[0].weights, want, 1e-12));
	pd_plan_destroy(p);
	/* without q-lora-rank the queries are one projection, split by heads */
	p = load_edited(DSV3, "q-lora-rank=\"1536\"", "", &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->model.q_lora, 0);
	CU_ASSERT_EQUAL(pd_i_attention_per_gpu(&p->model, 4).q, h * heads * (128 + 64));
	pd_plan_destroy(p);
}

static void mla_kv_cache_should_not_split_over_attention_tp(void)
{
	pd_analysis a4, a1;
	pd_plan *p4 = load(DSV3, &a4);
	pd_plan *p1 = load_edited(DSV3, "<attention tp=\"4\"/>", "<attention tp=\"1\"/>", &a1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p1);
	/* TP 1: 32 groups of one sequence; TP 4: 8 groups of 4, each GPU holds all 4 */
	CU_ASSERT_EQUAL(a1.memory[0].kv_cache, 70272.0 * 4096);
	CU_ASSERT_EQUAL(a4.memory[0].kv_cache, 4 * a1.memory[0].kv_cache);
	pd_plan_destroy(p4);
	pd_plan_destroy(p1);
}

static void mla_decode_should_read_the_latent_cache_once_in_the_absorbed_form(void)
{
	pd_analysis an;
	pd_plan *p = load_edited(DSV3, "phase=\"prefill\"", "phase=\"decode\"", &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	pd_i_shape x;
	pd_i_shape_init(&x, p, 32, 4, false);
	double s = 32.0 / 8, ctx = 4096, heads = 32, kl = 512, dr = 64;
	pd_i_work att = pd_i_work_attention(&x);
	CU_ASSERT_EQUAL(att.bytes, s * ctx * (kl + dr) * 2); /* bf16 cache, once */
	CU_ASSERT_EQUAL(att.flops, 2 * s * ctx * heads * (kl + dr) + 2 * s * ctx * heads * kl);
	/* W_UK into the query: latent queries; W_UV then W_O in o_proj */
	pd_i_work qkv = pd_i_work_qkv(&x), o = pd_i_work_o_proj(&x);
	double h = 7168, qm = h * 1536 + 1536 * heads * 192, kva = h * 576;
	CU_ASSERT_EQUAL(qkv.flops, 2 * s * (qm + kva + kl * heads * 128));
	CU_ASSERT_EQUAL(o.flops, 2 * s * (heads * kl * 128 + heads * 128 * h));
	pd_plan_destroy(p);
}

static void mla_prefill_should_decompress_k_and_v_and_attend_in_full(void)
{
	pd_analysis an;
	pd_plan *p = load(DSV3, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	pd_i_shape x;
	pd_i_shape_init(&x, p, 32, 4, false);
	double s = 4, ctx = 4096, T = s * ctx, heads = 32, h = 7168;
	pd_i_work qkv = pd_i_work_qkv(&x), att = pd_i_work_attention(&x);
	double qm = h * 1536 + 1536 * heads * 192, kva = h * 576, kvb = 512 * heads * 256;
	CU_ASSERT_EQUAL(qkv.flops, 2 * T * (qm + kva + kvb));
	/* causal half of QK^T (nope + rope = 192) and PV (v = 128) */
	CU_ASSERT_EQUAL(att.flops, s * ctx * ctx * heads * (192 + 128));
	CU_ASSERT_EQUAL(pd_i_work_o_proj(&x).flops, 2 * T * heads * 128 * h);
	pd_plan_destroy(p);
}

/* --- dtypes ---------------------------------------------------------------------- */

static void fp4_should_be_half_a_byte_and_never_the_default_kv_dtype(void)
{
	CU_ASSERT_EQUAL(pd_dtype_bytes(PD_FP4), 0.5);
	CU_ASSERT_STRING_EQUAL(pd_dtype_name(PD_FP4), "fp4");
	pd_analysis an;
	pd_plan *p = load_edited("examples/gpt-oss-120b-1gpu-fp4.xml", "dtype=\"bf16\" ",
	                         "dtype=\"fp4\" ", &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->model.dtype, PD_FP4);
	CU_ASSERT_EQUAL(pd_model_kv_dtype(&p->model), PD_BF16);
	CU_ASSERT_EQUAL(an.kv_bytes_per_token, 2.0 * 36 * 8 * 64 * 2);
	CU_ASSERT_TRUE(near(an.weight_bytes, 0.5 * an.params_computed, 1e-12));
	pd_plan_destroy(p);
	p = load_edited("examples/gpt-oss-120b-1gpu-fp4.xml", "dtype=\"bf16\" ",
	                "dtype=\"bf16\" kv-dtype=\"fp4\" ", &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(an.kv_bytes_per_token, 2.0 * 36 * 8 * 64 * 0.5);
	pd_plan_destroy(p);
}

static void expert_gemms_should_run_at_the_peak_of_the_expert_dtype(void)
{
	pd_cluster c = {.gpu_flops = 989e12, .gpu_flops_fp8 = 1979e12};
	CU_ASSERT_EQUAL(pd_i_gemm_flops(&c, PD_FP4), 989e12); /* Hopper: no fp4 cores */
	c.gpu_flops_fp4 = 9000e12;
	CU_ASSERT_EQUAL(pd_i_gemm_flops(&c, PD_FP4), 9000e12);
	pd_analysis an;
	pd_plan *p = load("examples/gpt-oss-120b-1gpu-fp4.xml", &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p->cluster.gpu_flops_fp4 = 4 * p->cluster.gpu_flops; /* a made-up fp4 peak */
	pd_i_shape x;
	pd_i_shape_init(&x, p, 1, 1, false);
	pd_i_work e = pd_i_work_expert(&x), q = pd_i_work_qkv(&x);
	CU_ASSERT_EQUAL(e.gemm, PD_I_GEMM_EXPERT);
	CU_ASSERT_EQUAL(e.bytes, 3 * 2880.0 * 2880 * 0.5 + 2 * 0.5 * 2880 * 2);
	pd_i_work compute_bound = {e.flops * 1e6, 0, 0, e.gemm};
	pd_i_work dense_bound = {q.flops * 1e6, 0, 0, q.gemm};
	double eff = p->cluster.gemm_eff; /* gemm-efficiency (docs/time-model.md) */
	CU_ASSERT_TRUE(near(pd_i_work_us(&x, compute_bound),
	                    compute_bound.flops / (p->cluster.gpu_flops_fp4 * eff) * 1e6,
	                    1e-12));
	CU_ASSERT_TRUE(near(pd_i_work_us(&x, dense_bound),
	                    dense_bound.flops / (p->cluster.gpu_flops * eff) * 1e6, 1e-12));
	pd_plan_destroy(p);
}

/* --- group-limited routing ------------------------------------------------------- */

static void grouped_dispatch_should_cross_the_network_once_per_remote_domain(void)
{
	pd_analysis an;
	pd_plan *g = load(DSV3, &an);
	pd_plan *one = load_edited(DSV3, "expert-groups=\"8\" group-top-k=\"4\"", "", &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_PTR_NOT_NULL_FATAL(one);
	CU_ASSERT_EQUAL(one->model.expert_groups, 1);
	const pd_stage *s = &g->strategy.replicas[0].stages[0];
	pd_i_shape x, y;
	pd_i_shape_init(&x, g, 32, 4, false);
	pd_i_shape_set_gpus(&x, s->gpus, s->n_gpus);
	pd_i_shape_init(&y, one, 32, 4, false);
	pd_i_shape_set_gpus(&y, s->gpus, s->n_gpus);
	CU_ASSERT_EQUAL(x.domains, 4); /* 32 GPUs over 4 nodes of 8 */
	double tokens = 32.0 * 4096 / 32, h = 7168;
	double nvl, net;
	/* 4 picked groups of 8 on 4 nodes: at most 4 domains, 3 of 4 remote on average;
	 * inside a domain every copy but the entry GPU's takes one NVLink hop (7 of 8) */
	pd_i_all_to_all_split(&x, &nvl, &net);
	CU_ASSERT_EQUAL(net, tokens * 4 * h * 1 * 3 / 4);
	CU_ASSERT_EQUAL(nvl, tokens * 8 * h * 1 * 7 / 8);
	CU_ASSERT_EQUAL(pd_i_work_ep_all_to_all(&x).bytes, nvl + net);
	/* one group: every one of the 8 copies to its GPU, 24 of 32 destinations in other
	 * domains (network), 7 of 32 in its own (NVLink) */
	pd_i_all_to_all_split(&y, &nvl, &net);
	CU_ASSERT_EQUAL(net, tokens * 8 * h * 1 * 24 / 32);
	CU_ASSERT_EQUAL(nvl, tokens * 8 * h * 1 * 7 / 32);
	pd_plan_destroy(g);
	pd_plan_destroy(one);
}

static CU_TestInfo published_tests[] = {
    {"deepseek_v3_should_have_671b_parameters_37b_active_and_70272_kv_bytes",
     deepseek_v3_should_have_671b_parameters_37b_active_and_70272_kv_bytes},
    {"kimi_k2_should_have_1_03t_parameters_and_32b_active",
     kimi_k2_should_have_1_03t_parameters_and_32b_active},
    {"qwen3_235b_should_have_235b_parameters_22b_active_and_192512_kv_bytes",
     qwen3_235b_should_have_235b_parameters_22b_active_and_192512_kv_bytes},
    {"gpt_oss_120b_should_have_116_8b_parameters_and_fit_one_gpu_in_fp4",
     gpt_oss_120b_should_have_116_8b_parameters_and_fit_one_gpu_in_fp4},
    {"active_per_token_should_leave_out_the_embedding_lookup",
     active_per_token_should_leave_out_the_embedding_lookup},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo mla_tests[] = {
    {"mla_weights_should_replicate_the_down_projections_and_split_the_rest",
     mla_weights_should_replicate_the_down_projections_and_split_the_rest},
    {"mla_kv_cache_should_not_split_over_attention_tp",
     mla_kv_cache_should_not_split_over_attention_tp},
    {"mla_decode_should_read_the_latent_cache_once_in_the_absorbed_form",
     mla_decode_should_read_the_latent_cache_once_in_the_absorbed_form},
    {"mla_prefill_should_decompress_k_and_v_and_attend_in_full",
     mla_prefill_should_decompress_k_and_v_and_attend_in_full},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo dtype_tests[] = {
    {"fp4_should_be_half_a_byte_and_never_the_default_kv_dtype",
     fp4_should_be_half_a_byte_and_never_the_default_kv_dtype},
    {"expert_gemms_should_run_at_the_peak_of_the_expert_dtype",
     expert_gemms_should_run_at_the_peak_of_the_expert_dtype},
    {"grouped_dispatch_should_cross_the_network_once_per_remote_domain",
     grouped_dispatch_should_cross_the_network_once_per_remote_domain},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"published", NULL, NULL, NULL, NULL, published_tests},
    {"mla", NULL, NULL, NULL, NULL, mla_tests},
    {"dtypes_and_routing", NULL, NULL, NULL, NULL, dtype_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
