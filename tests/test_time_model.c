/* test_time_model.c - the time model of docs/time-model.md: the calibration against
 * DeepSeek's published H800 profile, two-batch overlap, efficiencies and
 * expert-imbalance in the plan, their bad values through the binary. */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plandag/dag.h"
#include "plandag/pipeline.h"
#include "testutil.h"

/* rel with the first `from` replaced by `to`, written into a fresh directory; returns
 * the path of the new file (NAME.xml). */
static const char *edited(const char *rel, const char *from, const char *to,
                          const char *name)
{
	char *out = pd_test_edit_file(rel, from, to);
	char file[64];
	snprintf(file, sizeof(file), "%s.xml", name);
	const char *path = pd_test_join(pd_test_tmpdir(name), file);
	CU_ASSERT_EQUAL_FATAL(pd_test_write_file(path, out), 0);
	free(out);
	return path;
}

/* Compiles path (absolute) into c, lowered; asserts it reached the check stage. */
static void compile(const char *path, pd_compilation *c)
{
	pd_compile_options opt = {.lower = 1};
	pd_compile_file(path, &opt, c);
	if (c->reached != PD_STAGE_CHECK)
		pd_test_dump_diags(&c->diags);
	CU_ASSERT_EQUAL_FATAL(c->reached, PD_STAGE_CHECK);
}

/* The analytic estimate takes perfect hiding under two-batch overlap (roofline.c). */
#define ROOFLINE_OVERLAP_TOLERANCE 0.15

static double tokens_per_s_per_gpu(const pd_compilation *c)
{
	return c->analysis.tokens_per_ms * 1000.0 / (double)c->dag->n_gpus;
}

/* DeepSeek's profile (deepseek-ai/profile-data): 7,839 tokens/s per GPU in prefill,
 * 2,325 in decode; the plans cite it.  The defaults are one set for all plans. */
static void calibration_should_hold_both_deepseek_points_within_15_percent(void)
{
	static const struct {
		const char *plan;
		double published;
	} points[] = {{"tests/plans/calib/deepseek-v3-prefill-ep32.xml", 7839},
	              {"tests/plans/calib/deepseek-v3-decode-ep128.xml", 2325}};
	for (size_t i = 0; i < 2; i++) {
		pd_compilation c;
		compile(pd_test_path(points[i].plan), &c);
		double got = tokens_per_s_per_gpu(&c), res = got / points[i].published - 1;
		if (getenv("PD_TEST_VERBOSE"))
			printf("\n  %s: %.0f tokens/s per GPU, published %.0f (%+.1f %%)",
			       points[i].plan, got, points[i].published, res * 100);
		CU_ASSERT_EQUAL(c.analysis.throughput_source, PD_THROUGHPUT_DAG);
		/* the analytic estimate (check above 100 000 elements) stays near the schedule */
		pd_compile_options opt = {.lower = 0};
		pd_compilation r;
		pd_compile_file(pd_test_path(points[i].plan), &opt, &r);
		double gap = r.analysis.step_latency_us / c.cp.latency_us - 1;
		if (getenv("PD_TEST_VERBOSE"))
			printf(" analytic %+.1f %%", gap * 100);
		CU_ASSERT_TRUE(fabs(gap) <= ROOFLINE_OVERLAP_TOLERANCE);
		pd_compilation_release(&r);
		CU_ASSERT_TRUE(c.plan->workload.overlap_two_batch);
		CU_ASSERT_TRUE(fabs(res) <= 0.15);
		pd_compilation_release(&c);
	}
}

/* No edge joins the two halves: nothing serialises them but the streams. */
static int edges_between_halves(const pd_dag *d)
{
	int n = 0;
	for (uint32_t e = 0; e < d->n_edges; e++)
		n += d->nodes[d->edges[e].src].micro_batch != d->nodes[d->edges[e].dst].micro_batch;
	return n;
}

static void overlap_case(const char *rel, const char *name)
{
	pd_compilation a, b;
	compile(pd_test_path(rel), &a);
	compile(edited(rel, "micro-batches=\"1\"", "overlap=\"two-batch\"", name), &b);
	uint64_t nodes, edges;
	CU_ASSERT_EQUAL(pd_dag_count(b.plan, &nodes, &edges), PD_OK);
	CU_ASSERT_EQUAL(nodes, b.dag->n_nodes); /* one emitter: the count stays exact */
	CU_ASSERT_EQUAL(edges, b.dag->n_edges);
	CU_ASSERT_EQUAL(edges_between_halves(b.dag), 0);
	CU_ASSERT_EQUAL(b.dag->micro_batches, 2);
	pd_schedule sa, sb;
	pd_time_breakdown ba, bb;
	CU_ASSERT_EQUAL_FATAL(pd_dag_schedule(a.dag, &sa), PD_OK);
	CU_ASSERT_EQUAL_FATAL(pd_dag_schedule(b.dag, &sb), PD_OK);
	CU_ASSERT_EQUAL(pd_schedule_breakdown(a.dag, &sa, &ba), PD_OK);
	CU_ASSERT_EQUAL(pd_schedule_breakdown(b.dag, &sb, &bb), PD_OK);
	if (getenv("PD_TEST_VERBOSE"))
		printf("\n  %s: makespan %.0f -> %.0f us, comm hidden %.0f -> %.0f us, exposed "
		       "%.0f -> %.0f us",
		       rel, sa.makespan_us, sb.makespan_us, ba.comm_hidden_us, bb.comm_hidden_us,
		       ba.comm_exposed_us, bb.comm_exposed_us);
	CU_ASSERT_TRUE(sb.makespan_us < sa.makespan_us);
	CU_ASSERT_TRUE(bb.comm_hidden_us > 0);
	CU_ASSERT_TRUE(bb.comm_hidden_us > ba.comm_hidden_us);
	CU_ASSERT_DOUBLE_EQUAL(b.cp.latency_us, sb.makespan_us, 1e-9 * sb.makespan_us);
	pd_schedule_release(&sa);
	pd_schedule_release(&sb);
	pd_compilation_release(&a);
	pd_compilation_release(&b);
}

static void two_batch_overlap_should_shorten_the_deepseek_examples_and_hide_comm(void)
{
	overlap_case("examples/deepseek-v3-prefill-32-h800.xml", "overlap-prefill");
	overlap_case("examples/deepseek-v3-decode-320-h800.xml", "overlap-decode");
}

/* Largest time of an expert node on gpu g. */
static double expert_us(const pd_dag *d, int32_t g)
{
	double us = 0;
	for (uint32_t v = 0; v < d->n_nodes; v++)
		if (d->nodes[v].kind == PD_N_EXPERT && d->nodes[v].gpu == g)
			us = fmax(us, d->costs[d->nodes[v].cost].us);
	return us;
}

static void expert_imbalance_should_stretch_the_first_gpu_of_the_stage(void)
{
	const char *rel = "tests/plans/calib/deepseek-v3-prefill-ep32.xml";
	pd_compilation a, b;
	compile(pd_test_path(rel), &a);
	compile(edited(rel, "overlap=", "expert-imbalance=\"1.5\" overlap=", "imbalance"), &b);
	CU_ASSERT_DOUBLE_EQUAL(expert_us(a.dag, 0), expert_us(a.dag, 1), 1e-9);
	/* prefill experts are compute-bound: tokens x 1.5 is time x 1.5 */
	CU_ASSERT_DOUBLE_EQUAL(expert_us(b.dag, 0), 1.5 * expert_us(a.dag, 0),
	                       1e-6 * expert_us(a.dag, 0));
	CU_ASSERT_DOUBLE_EQUAL(expert_us(b.dag, 1), expert_us(a.dag, 1), 1e-9);
	CU_ASSERT_TRUE(b.cp.latency_us > a.cp.latency_us);
	pd_compilation_release(&a);
	pd_compilation_release(&b);
}

static void efficiency_written_in_the_plan_should_be_used_and_reported(void)
{
	const char *rel = "tests/plans/calib/deepseek-v3-prefill-ep32.xml";
	pd_compilation a, b;
	compile(pd_test_path(rel), &a);
	compile(edited(rel, "gpu=\"h800\"", "gpu=\"h800\" gemm-efficiency=\"0.84\"", "eff"),
	        &b);
	CU_ASSERT_DOUBLE_EQUAL(b.plan->cluster.gemm_eff, 0.84, 1e-12);
	/* compute-bound experts: twice the default's 0.42, half the time */
	CU_ASSERT_DOUBLE_EQUAL(expert_us(b.dag, 1), expert_us(a.dag, 1) / 2,
	                       1e-6 * expert_us(a.dag, 1));
	char *md = pd_test_report(&b, PD_REPORT_MD, NULL);
	CU_ASSERT_PTR_NOT_NULL(md && strstr(md, "gemm-efficiency: 0.84 (written in the plan)"));
	CU_ASSERT_PTR_NOT_NULL(md && strstr(md, "network-efficiency: 0.9 (default; DeepEP"));
	free(md);
	pd_compilation_release(&a);
	pd_compilation_release(&b);
}

/* Through the binary: exit 1, FILE:LINE, the attribute and its fix. */
static void bad(const char *from, const char *to, const char *name, const char *want)
{
	const char *path =
	    edited("tests/plans/calib/deepseek-v3-decode-ep128.xml", from, to, name);
	pd_run_result r;
	pd_run_plandag(&r, "check", path, NULL);
	CU_ASSERT_EQUAL(r.status, 1);
	char at[96];
	snprintf(at, sizeof(at), "%s.xml:", name);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, at));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "[schema]"));
	if (!strstr(r.err, want))
		fprintf(stderr, "\nwanted '%s' in:\n%s", want, r.err);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, want));
	pd_run_release(&r);
}

static void bad_time_model_values_should_be_schema_errors_with_a_fix(void)
{
	bad("gpu=\"h800\"", "gpu=\"h800\" gemm-efficiency=\"0\"", "eff0", "from 0.01 to 1");
	bad("gpu=\"h800\"", "gpu=\"h800\" network-efficiency=\"1.5\"", "eff15",
	    "from 0.01 to 1");
	bad("gpu=\"h800\"", "gpu=\"h800\" comm-latency=\"1e9\"", "lat",
	    "from 0 us to 10000 us");
	bad("overlap=", "expert-imbalance=\"0.5\" overlap=", "imb", "expert-imbalance");
	bad("overlap=", "micro-batches=\"2\" overlap=", "ovmb",
	    "remove micro-batches: overlap=\"two-batch\" splits the batch");
}

static CU_TestInfo time_tests[] = {
    {"calibration_should_hold_both_deepseek_points_within_15_percent",
     calibration_should_hold_both_deepseek_points_within_15_percent},
    {"two_batch_overlap_should_shorten_the_deepseek_examples_and_hide_comm",
     two_batch_overlap_should_shorten_the_deepseek_examples_and_hide_comm},
    {"expert_imbalance_should_stretch_the_first_gpu_of_the_stage",
     expert_imbalance_should_stretch_the_first_gpu_of_the_stage},
    {"efficiency_written_in_the_plan_should_be_used_and_reported",
     efficiency_written_in_the_plan_should_be_used_and_reported},
    {"bad_time_model_values_should_be_schema_errors_with_a_fix",
     bad_time_model_values_should_be_schema_errors_with_a_fix},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"time_model", NULL, NULL, NULL, NULL, time_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
