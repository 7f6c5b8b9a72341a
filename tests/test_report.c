/* test_report.c - the analysis report: JSON members checked against the analysis after
 * parsing the output back with cJSON, Markdown sections, grouped rows for big plans. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "plan/defaults.h"
#include "testutil.h"

static cJSON *render_json(const pd_compilation *c)
{
	char *text = pd_test_report(c, PD_REPORT_JSON, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	cJSON *j = cJSON_Parse(text);
	if (!j)
		fprintf(stderr, "unparsable JSON report:\n%.2000s\n", text);
	free(text);
	return j;
}

static cJSON *member(const cJSON *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	const cJSON *cur = o;
	for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
		cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
	return (cJSON *)cur;
}

static double number(const cJSON *o, const char *path)
{
	const cJSON *m = member(o, path);
	CU_ASSERT_TRUE(cJSON_IsNumber(m));
	return cJSON_IsNumber(m) ? m->valuedouble : -1e300;
}

/* A compilation that stopped at the schema: no plan, one diagnostic. */
static void schema_failure(pd_compilation *c)
{
	memset(c, 0, sizeof(*c));
	c->path = "broken.xml";
	pd_diag_list_init(&c->diags);
	pd_diag *d = pd_diag_add(&c->diags, PD_RULE_SCHEMA, PD_ERROR, 3, 5,
	                         "element 'model': missing attribute 'layers'");
	pd_diag_fix(d, "add layers=\"N\" to <model>");
	c->status = PD_INVALID;
}

static void report_json_should_keep_diagnostics_when_the_schema_fails(void)
{
	pd_compilation c;
	schema_failure(&c);
	cJSON *j = render_json(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_TRUE(cJSON_IsNull(member(j, "plan")));
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(member(j, "verdict")), "invalid");
	cJSON *diags = member(j, "diagnostics");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(diags), 1);
	cJSON *d = cJSON_GetArrayItem(diags, 0);
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(member(d, "rule")), "schema");
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(member(d, "severity")), "error");
	CU_ASSERT_EQUAL(number(d, "line"), 3);
	CU_ASSERT_EQUAL(number(d, "column"), 5);
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(member(d, "fix")),
	                       "add layers=\"N\" to <model>");
	const char *nulls[] = {"gpus",   "params",     "kv_bytes_per_token",
	                       "memory", "throughput", "dag"};
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		CU_ASSERT_TRUE(cJSON_IsNull(member(j, nulls[i])));
	cJSON_Delete(j);
	pd_diag_list_release(&c.diags);
}

static void report_md_should_list_diagnostics_when_the_schema_fails(void)
{
	pd_compilation c;
	schema_failure(&c);
	char *md = pd_test_report(&c, PD_REPORT_MD, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "**Verdict: invalid**"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "## Diagnostics"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "`[schema]` line 3:5: element 'model'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "fix: add layers"));
	CU_ASSERT_PTR_NULL(strstr(md, "## Memory per GPU"));
	free(md);
	pd_diag_list_release(&c.diags);
}

/* A validated dense plan built by hand: `dp` replicas of one stage of `size` GPUs,
 * every GPU with the same memory figures except GPU `odd` (none when < 0). */
typedef struct synth {
	pd_compilation c;
	pd_arena *arena;
} synth;

static void synth_plan(synth *s, int32_t dp, int32_t size)
{
	pd_arena *a = s->arena;
	pd_plan *p = pd_arena_calloc(a, 1, sizeof(*p));
	p->arena = a;
	p->name = "synthetic";
	p->expanded = true;
	p->model = (pd_model){.layers = 4,
	                      .hidden = 1024,
	                      .heads = 8,
	                      .kv_heads = 8,
	                      .head_dim = 128,
	                      .vocab = 1000,
	                      .dtype = PD_BF16};
	p->cluster = (pd_cluster){.nodes = (dp * size + 7) / 8,
	                          .gpus_per_node = 8,
	                          .gpu_memory = 80e9,
	                          .assumed = PD_ASSUMED_TFLOPS};
	p->workload = (pd_workload){
	    .batch = 8, .context = 128, .micro_batches = 1, .target = 1.5, .has_target = true};
	p->strategy = (pd_strategy){.declared_gpus = dp * size * 4,
	                            .has_declared_gpus = true,
	                            .n_replicas = (uint32_t)dp};
	p->strategy.replicas = pd_arena_calloc(a, (size_t)dp, sizeof(pd_replica));
	for (int32_t r = 0; r < dp; r++) {
		pd_replica *rep = &p->strategy.replicas[r];
		*rep = (pd_replica){.count = 1, .n_stages = 1, .copy = (uint32_t)r};
		rep->stages = pd_arena_calloc(a, 1, sizeof(pd_stage));
		pd_stage *st = &rep->stages[0];
		*st = (pd_stage){.last_layer = 3, .n_gpus = (uint32_t)size, .tp = size, .ep = 1};
		st->gpus = pd_arena_calloc(a, (size_t)size, sizeof(int32_t));
		for (int32_t g = 0; g < size; g++)
			st->gpus[g] = r * size + g;
	}
	s->c.plan = p;
}

static void synth_init(synth *s, int32_t dp, int32_t size, int32_t odd)
{
	memset(s, 0, sizeof(*s));
	s->arena = pd_arena_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->arena);
	pd_diag_list_init(&s->c.diags);
	synth_plan(s, dp, size);
	pd_analysis *an = &s->c.analysis;
	uint32_t n = (uint32_t)(dp * size);
	an->memory = pd_arena_calloc(s->arena, n, sizeof(pd_gpu_memory));
	an->n_memory = n;
	for (uint32_t i = 0; i < n; i++)
		an->memory[i] = (pd_gpu_memory){.gpu = (int32_t)i,
		                                .replica = (int32_t)i / size,
		                                .weights = 1e9,
		                                .kv_cache = 2e9,
		                                .activations = 1e8,
		                                .reserve = 3.1e8,
		                                .total = 3.41e9,
		                                .capacity = 80e9};
	if (odd >= 0)
		an->memory[odd].weights = 2e9, an->memory[odd].total = 4.41e9;
	an->gpus_structural = n;
	an->dp = dp, an->tp = size, an->pp = 1, an->ep = 1, an->sp = 1;
	an->gpus_product = (int64_t)dp * size;
	an->gpus_cluster = s->c.plan->cluster.nodes * 8;
	an->activation_formula = "2 * batch * hidden * bytes";
	an->throughput_source = PD_THROUGHPUT_ROOFLINE;
	an->tokens_per_ms = 1.0, an->step_latency_us = 8000, an->step_tokens = 8;
	pd_diag_add(&s->c.diags, PD_RULE_MULTIPLICATIVE, PD_ERROR, 7, 3, "declared gpus");
	pd_diag_add(&s->c.diags, PD_RULE_THROUGHPUT_TARGET, PD_ERROR, 5, 0, "too slow");
	s->c.reached = PD_STAGE_VALIDATE;
	s->c.status = PD_INVALID;
}

static void synth_release(synth *s)
{
	pd_diag_list_release(&s->c.diags);
	pd_arena_destroy(s->arena);
}

static void report_json_should_match_the_analysis_of_a_validated_plan(void)
{
	synth s;
	synth_init(&s, 2, 4, 5);
	cJSON *j = render_json(&s.c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(member(j, "plan")), "synthetic");
	CU_ASSERT_EQUAL(number(j, "gpus.declared"), 32);
	CU_ASSERT_EQUAL(number(j, "gpus.structural"), 8);
	CU_ASSERT_EQUAL(number(j, "gpus.product"), 8);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(member(j, "memory")), 8);
	cJSON *row = cJSON_GetArrayItem(member(j, "memory"), 5);
	CU_ASSERT_EQUAL(number(row, "gpu"), 5);
	CU_ASSERT_EQUAL(number(row, "weights"), 2e9);
	CU_ASSERT_EQUAL(number(row, "capacity"), 80e9);
	CU_ASSERT_EQUAL(number(j, "throughput.target"), 1.5);
	CU_ASSERT_EQUAL(number(j, "throughput.step_latency_us"), 8000);
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(member(j, "throughput.source")),
	                       "analytic");
	CU_ASSERT_TRUE(cJSON_IsNull(member(j, "time_breakdown"))); /* not lowered */
	CU_ASSERT_TRUE(cJSON_IsNull(member(j, "params.declared")));
	CU_ASSERT_TRUE(cJSON_IsNull(member(j, "dag")));
	cJSON *d = cJSON_GetArrayItem(member(j, "diagnostics"), 0);
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(member(d, "rule")),
	                       "multiplicative-gpu-count");
	CU_ASSERT_PTR_NOT_NULL(strstr(cJSON_GetStringValue(member(d, "impact")), "+24 GPUs"));
	CU_ASSERT_TRUE(cJSON_IsNull(member(d, "fix")));
	/* one default taken, then every value of the time model with its source */
	CU_ASSERT_EQUAL(cJSON_GetArraySize(member(j, "assumptions")), 1 + PD_I_N_TIME_DEFAULTS);
	cJSON_Delete(j);
	synth_release(&s);
}

static void report_md_should_show_formulas_and_group_identical_gpus(void)
{
	synth s;
	synth_init(&s, 2, 4, 5);
	char *md = pd_test_report(&s.c, PD_REPORT_MD, "synthetic-overview.png");
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	const char *want[] = {
	    "**Verdict: invalid**",
	    "## Diagnostics",
	    "## GPU count",
	    "## Hierarchy (expanded)",
	    "```text",
	    "## Memory per GPU",
	    "## Throughput",
	    "## DAG statistics",
	    "## Assumptions",
	    "![overview](synthetic-overview.png)",
	    "Σ replicas Σ stages |GPUs| = 4 + 4 = 8",
	    "DP x PP x stage_size = 2 x 1 x 4 = 8",
	    "DP x TP x PP x EP x SP = 2 x 4 x 1 x 1 x 1 = 8",
	    "| GPUs 0-4 (identical) |",
	    "| GPU 5 |",
	    "| GPUs 6-7 (identical) |",
	    "impact: 1.00 tokens/ms is 67 % of the target",
	    "gpu-tflops: 989",
	    "2 * batch * hidden * bytes",
	    "source: roofline",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(md, want[i])) {
			fprintf(stderr, "missing '%s' in:\n%s\n", want[i], md);
			CU_FAIL("Markdown section missing");
		}
	free(md);
	synth_release(&s);
}

static void report_should_stay_readable_and_valid_json_for_thousands_of_gpus(void)
{
	synth s;
	synth_init(&s, 640, 8, 4000);
	char *md = pd_test_report(&s.c, PD_REPORT_MD, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "| GPUs 0-3999 (identical) |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "| GPUs 4001-5119 (identical) |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "Σ replicas Σ stages |GPUs| = 8 + 8 + 8"));
	free(md);
	cJSON *j = render_json(&s.c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(member(j, "memory")), 5120);
	CU_ASSERT_EQUAL(number(cJSON_GetArrayItem(member(j, "memory"), 4000), "weights"), 2e9);
	CU_ASSERT_EQUAL(number(j, "gpus.structural"), 5120);
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(member(j, "verdict")), "invalid");
	cJSON_Delete(j);
	synth_release(&s);
}

/* ---- real plans through the whole pipeline ---- */

static void compile(const char *path, pd_compilation *c)
{
	pd_compile_options opt = {.lower = 1};
	pd_compile_file(path, &opt, c);
	if (c->status == PD_IO)
		pd_test_dump_diags(&c->diags);
}

static double sum_numbers(const cJSON *o)
{
	double sum = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, o)
	{
		CU_ASSERT_TRUE(cJSON_IsNumber(it));
		sum += it->valuedouble;
	}
	return sum;
}

static void check_json_against_analysis(const pd_compilation *c, const cJSON *j)
{
	const pd_analysis *an = &c->analysis;
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(member(j, "plan")), c->plan->name);
	CU_ASSERT_EQUAL(number(j, "gpus.structural"), (double)an->gpus_structural);
	CU_ASSERT_EQUAL(number(j, "gpus.product"), (double)an->gpus_product);
	CU_ASSERT_EQUAL(number(j, "params.computed"), an->params_computed);
	CU_ASSERT_EQUAL(number(j, "params.active_per_token"), an->params_active_per_token);
	CU_ASSERT_EQUAL(number(j, "kv_bytes_per_token"), an->kv_bytes_per_token);
	cJSON *mem = member(j, "memory");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(mem), (int)an->gpus_structural);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(mem), (int)an->n_memory);
	for (uint32_t i = 0; i < an->n_memory && i < 64; i++) {
		cJSON *row = cJSON_GetArrayItem(mem, (int)i);
		CU_ASSERT_EQUAL(number(row, "gpu"), an->memory[i].gpu);
		CU_ASSERT_EQUAL(number(row, "total"), an->memory[i].total);
		CU_ASSERT_EQUAL(number(row, "capacity"), an->memory[i].capacity);
	}
	if (an->throughput_source != PD_THROUGHPUT_NONE)
		CU_ASSERT_EQUAL(number(j, "throughput.tokens_per_ms"), an->tokens_per_ms);
}

static void report_json_should_match_the_pipeline_on_the_tiny_plan(void)
{
	pd_compilation c;
	compile(pd_test_path("tests/plans/valid/tiny.xml"), &c);
	CU_ASSERT_EQUAL_FATAL(c.status, PD_OK);
	CU_ASSERT_EQUAL(c.reached, PD_STAGE_CHECK);
	cJSON *j = render_json(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	check_json_against_analysis(&c, j);
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(member(j, "verdict")), "valid");
	CU_ASSERT_EQUAL(number(j, "dag.nodes"), (double)c.stats.nodes);
	CU_ASSERT_EQUAL(number(j, "dag.edges"), (double)c.stats.edges);
	CU_ASSERT_EQUAL(sum_numbers(member(j, "dag.by_kind")), number(j, "dag.nodes"));
	CU_ASSERT_EQUAL(number(j, "dag.by_kind.expert"), (double)c.stats.by_kind[PD_N_EXPERT]);
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(member(j, "throughput.source")),
	                       "schedule");
	CU_ASSERT_EQUAL(number(j, "throughput.step_latency_us"), c.cp.latency_us);
	CU_ASSERT_TRUE(cJSON_IsString(member(j, "hierarchy")));
	cJSON_Delete(j);
	pd_compilation_release(&c);
}

static void report_md_should_have_every_section_for_the_default_example(void)
{
	pd_compilation c;
	compile(pd_test_path("examples/moe-10b-ep16.xml"), &c);
	CU_ASSERT_EQUAL_FATAL(c.status == PD_IO, 0);
	char *md = pd_test_report(&c, PD_REPORT_MD, "moe-10b-ep16-overview.png");
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	const char *want[] = {
	    "# plandag report: moe-10b-ep16",
	    "**Verdict: ",
	    "## Diagnostics",
	    "## GPU count",
	    "- declared: 16",
	    "= 16\n",
	    "## Hierarchy (expanded)",
	    "```text",
	    "## Memory per GPU",
	    "| GPU",
	    "## Throughput",
	    "## Where the step goes",
	    "| attention | ",
	    "| EP dispatch / combine | ",
	    "## DAG statistics",
	    "## Assumptions",
	    "![overview](moe-10b-ep16-overview.png)",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(md, want[i])) {
			fprintf(stderr, "missing '%s' in:\n%s\n", want[i], md);
			CU_FAIL("Markdown section missing");
		}
	if (c.reached == PD_STAGE_CHECK)
		CU_ASSERT_PTR_NOT_NULL(strstr(md, "## Critical path"));
	char line[128];
	snprintf(line, sizeof(line), "- per GPU: %.1f tokens/s\n",
	         c.analysis.tokens_per_ms * 1000 / (double)c.analysis.gpus_structural);
	CU_ASSERT_PTR_NOT_NULL(strstr(md, line));
	snprintf(line, sizeof(line), "- TPOT: %.3f ms (the decode step, per output token)",
	         c.analysis.step_latency_us / 1000);
	CU_ASSERT_PTR_NOT_NULL(strstr(md, line));
	free(md);
	cJSON *j = render_json(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	check_json_against_analysis(&c, j);
	CU_ASSERT_EQUAL(number(j, "gpus.declared"), 16);
	cJSON_Delete(j);
	pd_compilation_release(&c);
}

/* The four totals and each phase's figures of time_breakdown, and the step they add
 * up to on the GPU where it ends. */
static void check_time_breakdown(const pd_compilation *c, const cJSON *j)
{
	static const char *const cols[] = {"compute_us", "memory_us", "comm_exposed_us",
	                                   "comm_hidden_us"};
	const cJSON *t = member(j, "time_breakdown"), *p;
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (size_t k = 0; k < 4; k++) {
		double sum = 0;
		cJSON_ArrayForEach(p, member(t, "phases")) sum += number(p, cols[k]);
		CU_ASSERT_DOUBLE_EQUAL(sum, number(t, cols[k]), 1e-6 * (1 + sum));
		CU_ASSERT_TRUE(number(t, cols[k]) >= 0);
	}
	double busy = number(t, "compute_us") + number(t, "memory_us") +
	              number(t, "comm_exposed_us") + number(t, "idle_us");
	CU_ASSERT_DOUBLE_EQUAL(busy, c->cp.latency_us, 1e-6 * c->cp.latency_us);
	CU_ASSERT_EQUAL(number(t, "step_us"), c->cp.latency_us);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(member(t, "phases")), 6);
}

static void report_json_should_give_ttft_tpot_per_gpu_and_where_the_step_goes(void)
{
	static const char *const plans[] = {"examples/moe-10b-ep16.xml",
	                                    "tests/plans/valid/dsv3-prefill-redundant.xml"};
	for (size_t i = 0; i < 2; i++) {
		pd_compilation c;
		compile(pd_test_path(plans[i]), &c);
		CU_ASSERT_EQUAL_FATAL(c.reached, PD_STAGE_CHECK);
		cJSON *j = render_json(&c);
		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		const pd_analysis *an = &c.analysis;
		bool prefill = c.plan->workload.phase == PD_PREFILL;
		CU_ASSERT_EQUAL(prefill, i == 1);
		CU_ASSERT_DOUBLE_EQUAL(number(j, "throughput.tokens_per_s_per_gpu"),
		                       an->tokens_per_ms * 1000 / (double)an->gpus_structural,
		                       1e-9);
		CU_ASSERT_TRUE(
		    cJSON_IsNull(member(j, prefill ? "throughput.tpot_ms" : "throughput.ttft_ms")));
		CU_ASSERT_DOUBLE_EQUAL(
		    number(j, prefill ? "throughput.ttft_ms" : "throughput.tpot_ms"),
		    c.cp.latency_us / 1000, 1e-9);
		check_time_breakdown(&c, j);
		cJSON_Delete(j);
		pd_compilation_release(&c);
	}
}

/* The default example with a multiplied GPU count: invalid, with the rule id. */
static void report_json_should_name_the_rules_of_an_invalid_plan(void)
{
	char *text = pd_test_read_file(pd_test_path("examples/moe-10b-ep16.xml"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	char *at = strstr(text, "<strategy gpus=\"16\">");
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	memcpy(at, "<strategy gpus=\"99\">", 20);
	char path[4200];
	snprintf(path, sizeof(path), "%s/bad.xml", pd_test_tmpdir("report"));
	CU_ASSERT_EQUAL_FATAL(pd_test_write_file(path, text), 0);
	free(text);
	pd_compilation c;
	compile(path, &c);
	CU_ASSERT_EQUAL(c.status, PD_INVALID);
	cJSON *j = render_json(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(member(j, "verdict")), "invalid");
	CU_ASSERT_EQUAL(number(j, "gpus.declared"), 99);
	bool found = false;
	const cJSON *d;
	cJSON_ArrayForEach(d, member(j, "diagnostics"))
	{
		const char *rule = cJSON_GetStringValue(member(d, "rule"));
		CU_ASSERT_PTR_NOT_NULL(rule);
		CU_ASSERT_TRUE(cJSON_IsNumber(member(d, "line")));
		if (rule && strcmp(rule, "multiplicative-gpu-count") == 0)
			found = true;
	}
	CU_ASSERT_TRUE(found);
	CU_ASSERT_TRUE(cJSON_IsNull(member(j, "dag")));
	cJSON_Delete(j);
	pd_compilation_release(&c);
}

static CU_TestInfo report_tests[] = {
    {"report_json_should_keep_diagnostics_when_the_schema_fails",
     report_json_should_keep_diagnostics_when_the_schema_fails},
    {"report_md_should_list_diagnostics_when_the_schema_fails",
     report_md_should_list_diagnostics_when_the_schema_fails},
    {"report_json_should_match_the_analysis_of_a_validated_plan",
     report_json_should_match_the_analysis_of_a_validated_plan},
    {"report_md_should_show_formulas_and_group_identical_gpus",
     report_md_should_show_formulas_and_group_identical_gpus},
    {"report_should_stay_readable_and_valid_json_for_thousands_of_gpus",
     report_should_stay_readable_and_valid_json_for_thousands_of_gpus},
    {"report_json_should_match_the_pipeline_on_the_tiny_plan",
     report_json_should_match_the_pipeline_on_the_tiny_plan},
    {"report_json_should_give_ttft_tpot_per_gpu_and_where_the_step_goes",
     report_json_should_give_ttft_tpot_per_gpu_and_where_the_step_goes},
    {"report_md_should_have_every_section_for_the_default_example",
     report_md_should_have_every_section_for_the_default_example},
    {"report_json_should_name_the_rules_of_an_invalid_plan",
     report_json_should_name_the_rules_of_an_invalid_plan},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"report", NULL, NULL, NULL, NULL, report_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
