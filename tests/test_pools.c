/* test_pools.c - pooled plans (docs/pools.md): the examples parse, expand and validate;
 * each pool's view has its phase, batch and context; the next free GPUs continue from
 * the prefill pool into the decode pool; the KV hand-over bytes are the formula worked
 * by hand; every pooled case of a rule fires at its line with a fix. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_cases.h"
#include "testutil.h"

#define DEEPSEEK "examples/deepseek-v3-pd-352-h800.xml"
#define MIXTRAL "examples/mixtral-pd-pair.xml"

static pd_plan *load_valid(const char *rel, pd_analysis *an)
{
	pd_plan *plan = NULL;
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_status s = pd_test_load(rel, &plan, an, &l);
	CU_ASSERT_EQUAL(s, PD_OK);
	CU_ASSERT_EQUAL(l.errors, 0);
	if (s != PD_OK || l.errors)
		pd_test_dump_diags(&l);
	pd_diag_list_release(&l);
	return plan;
}

static void examples_should_validate(void)
{
	const char *files[] = {DEEPSEEK, MIXTRAL};
	for (size_t i = 0; i < 2; i++) {
		pd_analysis an;
		pd_plan *plan = load_valid(files[i], &an);
		CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
		CU_ASSERT_TRUE(pd_plan_is_pooled(plan));
		CU_ASSERT_EQUAL(plan->strategy.n_pools, 2);
		CU_ASSERT_EQUAL(an.n_pools, 2);
		CU_ASSERT_EQUAL(an.n_memory, (uint32_t)an.gpus_structural);
		CU_ASSERT_EQUAL(an.n_memory, an.pools[0].n_memory + an.pools[1].n_memory);
		CU_ASSERT_TRUE(an.ttft_ms > 0 && an.tpot_ms > 0 && an.tokens_per_ms > 0);
		pd_plan_destroy(plan);
	}
}

/* The DeepSeek example: pools in phase order, the view of each pool, the context. */
static void views_should_carry_each_pools_phase_batch_and_context(void)
{
	pd_analysis an;
	pd_plan *plan = load_valid(DEEPSEEK, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	pd_plan pre, dec;
	pd_plan_pool_view(plan, 0, &pre);
	pd_plan_pool_view(plan, 1, &dec);
	CU_ASSERT_EQUAL(pre.workload.phase, PD_PREFILL);
	CU_ASSERT_EQUAL(pre.workload.batch, 128);
	CU_ASSERT_EQUAL(pre.workload.context, 4096);
	CU_ASSERT_EQUAL(pre.workload.micro_batches, 1);
	CU_ASSERT_EQUAL(dec.workload.phase, PD_DECODE);
	CU_ASSERT_EQUAL(dec.workload.batch, 10240);
	CU_ASSERT_EQUAL(dec.workload.context, 4096 + 1024);
	CU_ASSERT_EQUAL(pre.strategy.n_pools, 0);
	CU_ASSERT_EQUAL(pre.strategy.n_replicas, 1);
	CU_ASSERT_EQUAL(dec.strategy.n_replicas, 1);
	CU_ASSERT_EQUAL(pre.strategy.replicas[0].stages[0].n_gpus, 32);
	CU_ASSERT_EQUAL(dec.strategy.replicas[0].stages[0].n_gpus, 320);
	CU_ASSERT_EQUAL(dec.strategy.replicas[0].stages[0].gpus[0], 32);
	CU_ASSERT_EQUAL(plan->strategy.replicas[1].pool, 1);
	/* the expanded hierarchy names each pool with the context it uses */
	char *tree = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&tree, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	pd_plan_print_tree(plan, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(tree, "pool prefill: 1 replica(s), batch 128, "
	                                    "micro-batches 1, context 4096\n  replica 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(tree, "pool decode: 1 replica(s), batch 10240, "
	                                    "micro-batches 1, context 5120\n  replica 1"));
	free(tree);
	/* the decode pool's KV: 128 sequences of 5120 tokens, 61 x 576 x 2 bytes each */
	CU_ASSERT_DOUBLE_EQUAL(an.pools[1].memory[0].kv_cache, 128.0 * 5120 * 61 * 576 * 2, 1);
	/* the prefill pool's: 128 prompts over 8 attention groups, 16 of 4096 tokens each */
	CU_ASSERT_DOUBLE_EQUAL(an.pools[0].memory[0].kv_cache, 16.0 * 4096 * 61 * 576 * 2, 1);
	pd_plan_destroy(plan);
}

/* Hand-over bytes per request: the prompt's KV of every layer, worked by hand. */
static void handover_bytes_should_match_the_formula(void)
{
	pd_analysis an;
	pd_plan *plan = load_valid(DEEPSEEK, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	/* MLA, kv-dtype bf16: 61 layers x (512 + 64) x 2 bytes x 4096 tokens */
	CU_ASSERT_DOUBLE_EQUAL(an.handover_bytes_per_request, 61.0 * 576 * 2 * 4096, 0.5);
	CU_ASSERT_DOUBLE_EQUAL(an.handover_bytes_per_step, 128.0 * 61 * 576 * 2 * 4096, 1);
	/* 8 groups of 16 prompts; the latent split over the 4 TP ranks of a group */
	CU_ASSERT_DOUBLE_EQUAL(an.handover_bytes_per_gpu, 16.0 * 61 * 576 * 2 * 4096 / 4, 1);
	CU_ASSERT_TRUE(an.handover_network);
	pd_plan_destroy(plan);

	plan = load_valid(MIXTRAL, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	/* GQA, bf16: 32 layers x 2 x 8 KV heads x 128 x 2 bytes x 2048 tokens */
	CU_ASSERT_DOUBLE_EQUAL(an.handover_bytes_per_request, 32.0 * 2 * 8 * 128 * 2 * 2048,
	                       0.5);
	/* 4 groups of 4 prompts, each TP rank sends its own 4 heads (half) */
	CU_ASSERT_DOUBLE_EQUAL(an.handover_bytes_per_gpu, 4.0 * 32 * 2 * 8 * 128 * 2 * 2048 / 2,
	                       1);
	CU_ASSERT_TRUE(an.handover_network);
	CU_ASSERT_DOUBLE_EQUAL(an.ttft_ms * 1000, an.pools[0].step_latency_us + an.handover_us,
	                       1e-6);
	CU_ASSERT_DOUBLE_EQUAL(an.tpot_ms * 1000, an.pools[1].step_latency_us, 1e-6);
	pd_plan_destroy(plan);
}

/* A workload phase in a pooled plan is a schema warning at <workload>; a pool without
 * batch takes the workload's, its micro-batches default to 1; input-tokens to context. */
static void workload_defaults_should_reach_the_pools(void)
{
	char *text =
	    pd_test_edit_file(MIXTRAL, "<workload input-tokens=\"2048\" output-tokens=\"512\"",
	                      "<workload phase=\"decode\" batch=\"16\" context=\"1024\" "
	                      "output-tokens=\"512\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	char *b = strstr(text, "<pool phase=\"prefill\" batch=\"16\">");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	static const char no_batch[] = "<pool phase=\"prefill\"           >";
	CU_ASSERT_EQUAL_FATAL(strlen(no_batch),
	                      strlen("<pool phase=\"prefill\" batch=\"16\">"));
	memcpy(b, no_batch, strlen(no_batch));
	pd_plan *plan = NULL;
	pd_analysis an;
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL(pd_test_load_text(text, "defaults.xml", &plan, &an, &l), PD_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	int d = pd_test_find_diag(&l, PD_RULE_SCHEMA, plan->workload.loc.line);
	CU_ASSERT_TRUE(d >= 0 && l.items[d].severity == PD_WARNING && l.items[d].fix);
	CU_ASSERT_EQUAL(plan->strategy.pools[0].batch, 16);
	CU_ASSERT_FALSE(plan->strategy.pools[0].has_batch);
	CU_ASSERT_EQUAL(plan->strategy.pools[0].micro_batches, 1);
	CU_ASSERT_EQUAL(pd_plan_pool_context(plan, PD_PREFILL), 1024);
	CU_ASSERT_EQUAL(pd_plan_pool_context(plan, PD_DECODE), 1024 + 512);
	pd_diag_list_release(&l);
	pd_plan_destroy(plan);
	free(text);
}

/* Both pools in one node: the hand-over runs over NVLink, at its bandwidth. */
static void handover_inside_a_node_should_use_nvlink(void)
{
	static const char plan_text[] =
	    "<plan name=\"pair-one-node\">\n"
	    "  <model name=\"mixtral-8x7b\" layers=\"32\" hidden=\"4096\" heads=\"32\" "
	    "kv-heads=\"8\" head-dim=\"128\" vocab=\"32000\" experts=\"8\" top-k=\"2\" "
	    "expert-ffn=\"14336\" dtype=\"bf16\"/>\n"
	    "  <cluster nodes=\"1\" gpus-per-node=\"8\" gpu=\"h100-sxm\"/>\n"
	    "  <workload input-tokens=\"1024\" output-tokens=\"256\"/>\n"
	    "  <strategy gpus=\"8\">\n"
	    "    <pool phase=\"prefill\" batch=\"8\"><replica><stage layers=\"0-31\">"
	    "<attention tp=\"2\"/><moe ep=\"4\"/></stage></replica></pool>\n"
	    "    <pool phase=\"decode\" batch=\"64\"><replica><stage layers=\"0-31\">"
	    "<attention tp=\"2\"/><moe ep=\"4\"/></stage></replica></pool>\n"
	    "  </strategy>\n"
	    "</plan>\n";
	pd_plan *plan = NULL;
	pd_analysis an;
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL(pd_test_load_text(plan_text, "pair-one-node.xml", &plan, &an, &l), PD_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	CU_ASSERT_EQUAL(plan->strategy.replicas[1].stages[0].gpus[0], 4);
	CU_ASSERT_FALSE(an.handover_network);
	/* 2 groups of 4 prompts of 1024 tokens; each GPU sends its 4 of the 8 KV heads */
	double bytes = 4.0 * 1024 * 32 * 2 * 8 * 128 * 2 / 2;
	CU_ASSERT_DOUBLE_EQUAL(an.handover_bytes_per_gpu, bytes, 0.5);
	const pd_cluster *c = &plan->cluster;
	CU_ASSERT_DOUBLE_EQUAL(an.handover_us,
	                       c->comm_latency_us + bytes / (c->intra_bandwidth * c->nvlink_eff) * 1e6,
	                       1e-6);
	pd_diag_list_release(&l);
	pd_plan_destroy(plan);
}

/* Without gpus the prefill pool's stages take the first GPUs even when written second. */
static void next_free_gpus_should_start_with_the_prefill_pool(void)
{
	char *text = pd_test_read_file(pd_test_path(MIXTRAL), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	/* swap the two pools' phases and batches: the decode pool now comes first */
	static const char pre_tag[] = "<pool phase=\"prefill\" batch=\"16\">";
	static const char dec_tag[] = "<pool phase=\"decode\" batch=\"256\">";
	CU_ASSERT_EQUAL_FATAL(strlen(pre_tag), strlen(dec_tag));
	char *pre = strstr(text, pre_tag);
	char *dec = strstr(text, dec_tag);
	CU_ASSERT_FATAL(pre && dec);
	memcpy(pre, dec_tag, strlen(dec_tag));
	memcpy(dec, pre_tag, strlen(pre_tag));
	pd_plan *plan = NULL;
	pd_analysis an;
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL(pd_test_load_text(text, "swapped.xml", &plan, &an, &l), PD_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	CU_ASSERT_EQUAL(plan->strategy.pools[0].phase, PD_PREFILL);
	CU_ASSERT_EQUAL(plan->strategy.pools[0].batch, 16);
	CU_ASSERT_EQUAL(plan->strategy.replicas[0].stages[0].gpus[0], 0);
	CU_ASSERT_EQUAL(plan->strategy.replicas[1].stages[0].gpus[0], 8);
	CU_ASSERT_TRUE(plan->strategy.pools[1].loc.line < plan->strategy.pools[0].loc.line);
	pd_diag_list_release(&l);
	pd_plan_destroy(plan);
	free(text);
}

/* Each invalid pooled plan: its rule at its line, with its severity and a fix; a plan
 * with only warnings still validates. */
static void rules_should_flag_each_pooled_case_at_its_line(void)
{
	for (size_t i = 0; i < N_POOL_CASES; i++) {
		const pool_case *k = &pool_cases[i];
		char rel[256];
		snprintf(rel, sizeof(rel), "tests/plans/invalid/%s.xml", k->file);
		long line = pd_test_line_of(pd_test_path(rel), k->marker);
		CU_ASSERT_TRUE_FATAL(line > 0);
		pd_plan *plan = NULL;
		pd_analysis an;
		pd_diag_list l;
		pd_diag_list_init(&l);
		pd_status s = pd_test_load(rel, &plan, &an, &l);
		CU_ASSERT_EQUAL(s, k->severity == PD_ERROR ? PD_INVALID : PD_OK);
		int d = pd_test_find_diag(&l, k->rule, line);
		CU_ASSERT_TRUE(d >= 0);
		if (d >= 0) {
			CU_ASSERT_EQUAL(l.items[d].severity, k->severity);
			CU_ASSERT_PTR_NOT_NULL(l.items[d].fix);
		} else {
			fprintf(stderr, "\n  %s: no [%s] at line %ld\n", k->file, k->rule, line);
			pd_test_dump_diags(&l);
		}
		pd_diag_list_release(&l);
		pd_plan_destroy(plan);
	}
}

/* The numbers the pooled messages quote: the largest decode batch that fits, the
 * bandwidth a hand-over would need, the replicas that balance the pools. */
static void messages_should_quote_the_arithmetic(void)
{
	static const struct {
		const char *file, *rule, *text;
	} want[] = {
	    /* (80 GB - 8 reserve - 12.88 weights - activations) / (2560 x 65536 B) per group */
	    {"memory-capacity-decode-pool", PD_RULE_MEMORY_CAPACITY, "batch=\"1408\""},
	    {"memory-capacity-decode-pool", PD_RULE_MEMORY_CAPACITY, "2560 tokens"},
	    {"latency-target-handover", PD_RULE_LATENCY_TARGET, "inter-node-bandwidth"},
	    {"latency-target-handover", PD_RULE_LATENCY_TARGET, "0.5369 GB"},
	    {"pool-balance", PD_RULE_POOL_BALANCE, "decode replica(s)"},
	    {"gpu-overlap-pools", PD_RULE_GPU_OVERLAP, "the prefill pool's replica 0"},
	    {"multiplicative-gpu-count-pools", PD_RULE_MULTIPLICATIVE,
	     "prefill pool 8 + decode pool 8"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "tests/plans/invalid/%s.xml", want[i].file);
		pd_plan *plan = NULL;
		pd_analysis an;
		pd_diag_list l;
		pd_diag_list_init(&l);
		pd_test_load(rel, &plan, &an, &l);
		int d = pd_test_find_diag(&l, want[i].rule, 0);
		CU_ASSERT_TRUE_FATAL(d >= 0);
		const pd_diag *g = &l.items[d];
		bool found =
		    strstr(g->message, want[i].text) || (g->fix && strstr(g->fix, want[i].text));
		CU_ASSERT_TRUE(found);
		if (!found)
			fprintf(stderr, "\n  %s: no \"%s\" in: %s / %s\n", want[i].file, want[i].text,
			        g->message, g->fix ? g->fix : "");
		pd_diag_list_release(&l);
		pd_plan_destroy(plan);
	}
}

/* pd_analysis_set_pool_steps recomputes TTFT, TPOT and the deployment's throughput from
 * the given steps, and pd_validate_throughput judges the targets on them. */
static void pool_steps_should_drive_ttft_tpot_and_throughput(void)
{
	pd_analysis an;
	pd_plan *plan = load_valid(MIXTRAL, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	const double steps[2] = {100000.0, 20000.0}; /* 100 ms prefill, 20 ms decode */
	pd_analysis_set_pool_steps(plan, &an, steps);
	CU_ASSERT_EQUAL(an.throughput_source, PD_THROUGHPUT_DAG);
	CU_ASSERT_DOUBLE_EQUAL(an.ttft_ms, 100.0 + an.handover_us / 1000.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(an.tpot_ms, 20.0, 1e-9);
	/* prefill supplies 16 / 0.1 s = 160 sequences/s; decode serves 256 / (0.02 x 512) =
	 * 25: the deployment generates 25 x 512 tokens/s = 12.8 tokens/ms */
	CU_ASSERT_DOUBLE_EQUAL(an.pools[0].sequences_per_s, 160.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(an.pools[1].sequences_per_s, 25.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(an.tokens_per_ms, 12.8, 1e-9);
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_validate_throughput(plan, &an, &l);
	CU_ASSERT_EQUAL(l.errors, 0); /* 20 ms < target-tpot 50 */
	CU_ASSERT_TRUE(pd_test_find_diag(&l, PD_RULE_POOL_BALANCE, 0) >= 0);
	const double slow[2] = {100000.0, 60000.0};
	pd_analysis_set_pool_steps(plan, &an, slow);
	pd_validate_throughput(plan, &an, &l); /* pool-balance replaced, not repeated */
	CU_ASSERT_TRUE(pd_test_find_diag(&l, PD_RULE_LATENCY_TARGET, 0) >= 0);
	size_t balance = 0;
	for (size_t i = 0; i < l.n; i++)
		balance += strcmp(l.items[i].rule, PD_RULE_POOL_BALANCE) == 0;
	CU_ASSERT_EQUAL(balance, 1);
	pd_diag_list_release(&l);
	pd_plan_destroy(plan);
}

static cJSON *json_report(const char *rel, pd_compilation *c)
{
	pd_compile_options opt = {.lower = 0};
	pd_compile_file(pd_test_path(rel), &opt, c);
	char *text = pd_test_report(c, PD_REPORT_JSON, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	cJSON *j = cJSON_Parse(text);
	free(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	return j;
}

static double num_at(const cJSON *o, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);
	CU_ASSERT_TRUE(cJSON_IsNumber(m));
	return cJSON_IsNumber(m) ? m->valuedouble : -1;
}

/* JSON: pools [...] and handover {...} with the analysis' numbers; throughput keeps its
 * keys, ttft_ms and tpot_ms both filled. */
static void report_json_should_describe_pools_and_handover(void)
{
	pd_compilation c;
	cJSON *j = json_report(DEEPSEEK, &c);
	const cJSON *pools = cJSON_GetObjectItemCaseSensitive(j, "pools");
	CU_ASSERT_TRUE_FATAL(cJSON_IsArray(pools) && cJSON_GetArraySize(pools) == 2);
	const cJSON *pre = cJSON_GetArrayItem(pools, 0), *dec = cJSON_GetArrayItem(pools, 1);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItemCaseSensitive(pre, "phase")->valuestring,
	                       "prefill");
	CU_ASSERT_EQUAL(num_at(pre, "gpus"), 32);
	CU_ASSERT_EQUAL(num_at(dec, "gpus"), 320);
	CU_ASSERT_EQUAL(num_at(dec, "replicas"), 1);
	CU_ASSERT_EQUAL(num_at(dec, "batch"), 10240);
	CU_ASSERT_EQUAL(num_at(pre, "context"), 4096);
	CU_ASSERT_EQUAL(num_at(dec, "context"), 5120);
	CU_ASSERT_DOUBLE_EQUAL(num_at(dec, "step_latency_us"),
	                       c.analysis.pools[1].step_latency_us, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(num_at(pre, "sequences_per_s"),
	                       c.analysis.pools[0].sequences_per_s, 1e-9);
	double frac = num_at(dec, "peak_memory_fraction");
	CU_ASSERT_TRUE(frac > 0 && frac < 1);
	CU_ASSERT_TRUE(num_at(dec, "tokens_per_s_per_gpu") > 0);
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "handover");
	CU_ASSERT_DOUBLE_EQUAL(num_at(h, "bytes_per_request"), 61.0 * 576 * 2 * 4096, 0.5);
	CU_ASSERT_DOUBLE_EQUAL(num_at(h, "bytes_per_step"), 128.0 * 61 * 576 * 2 * 4096, 1);
	CU_ASSERT_DOUBLE_EQUAL(num_at(h, "time_us"), c.analysis.handover_us, 1e-6);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItemCaseSensitive(h, "link")->valuestring,
	                       "network");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "throughput");
	CU_ASSERT_DOUBLE_EQUAL(num_at(t, "ttft_ms"), c.analysis.ttft_ms, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(num_at(t, "tpot_ms"), c.analysis.tpot_ms, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(num_at(t, "tokens_per_ms"), c.analysis.tokens_per_ms, 1e-9);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItemCaseSensitive(t, "phase")->valuestring,
	                       "pooled");
	cJSON_Delete(j);
	pd_compilation_release(&c);
	/* a plan without pools has neither member */
	j = json_report("examples/mixtral-8x7b-tp2-ep8.xml", &c);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(j, "pools"));
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(j, "handover"));
	cJSON_Delete(j);
	pd_compilation_release(&c);
}

static void report_md_should_have_a_pools_section(void)
{
	pd_compilation c;
	pd_compile_options opt = {.lower = 0};
	pd_compile_file(pd_test_path(MIXTRAL), &opt, &c);
	char *md = pd_test_report(&c, PD_REPORT_MD, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "## Pools"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "| prefill | 8 | 1 | 16 | 2048 |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "| decode | 8 | 1 | 256 | 2560 |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "- per request: 268.44 MB"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "over the scale-out network"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "- TTFT: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "- TPOT: "));
	free(md);
	pd_compilation_release(&c);
	/* pool-balance's impact line quotes supply and demand */
	pd_compile_file(pd_test_path("tests/plans/invalid/pool-balance.xml"), &opt, &c);
	md = pd_test_report(&c, PD_REPORT_MD, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "prefill supplies 57.46 vs decode serves 9.592"));
	free(md);
	pd_compilation_release(&c);
}

static CU_TestInfo tests[] = {
    {"pool_steps_should_drive_ttft_tpot_and_throughput",
     pool_steps_should_drive_ttft_tpot_and_throughput},
    {"report_json_should_describe_pools_and_handover",
     report_json_should_describe_pools_and_handover},
    {"report_md_should_have_a_pools_section", report_md_should_have_a_pools_section},
    {"rules_should_flag_each_pooled_case_at_its_line",
     rules_should_flag_each_pooled_case_at_its_line},
    {"messages_should_quote_the_arithmetic", messages_should_quote_the_arithmetic},
    {"examples_should_validate", examples_should_validate},
    {"views_should_carry_each_pools_phase_batch_and_context",
     views_should_carry_each_pools_phase_batch_and_context},
    {"handover_bytes_should_match_the_formula", handover_bytes_should_match_the_formula},
    {"workload_defaults_should_reach_the_pools", workload_defaults_should_reach_the_pools},
    {"handover_inside_a_node_should_use_nvlink", handover_inside_a_node_should_use_nvlink},
    {"next_free_gpus_should_start_with_the_prefill_pool",
     next_free_gpus_should_start_with_the_prefill_pool},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"pools", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
