/* test_timeline_cli.c - `plandag compile --emit trace,timeline` the way a user runs it:
 * the Chrome Trace Event file parsed back with cJSON and held event by event against
 * the schedule of the same plan, the timeline's PNG header and SVG text, views, and
 * the refusals (exit 2, nothing written). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dag/ops.h"
#include "testutil.h"

static const char *const FAMILY_CAT[PD_I_F__COUNT] = {"compute", "tp",  "ep",
                                                      "pp",      "hub", "kv"};

/* Compiles rel into a fresh directory with the extra arguments; returns the directory. */
static const char *compile_into(const char *tag, const char *rel, const char *emit,
                                const char *view)
{
	const char *dir = pd_test_tmpdir(tag);
	pd_run_result r;
	int st = view ? pd_run_plandag(&r, "compile", pd_test_path(rel), "-o", dir, "--emit",
	                               emit, "--view", view, "-q", NULL)
	              : pd_run_plandag(&r, "compile", pd_test_path(rel), "-o", dir, "--emit",
	                               emit, "-q", NULL);
	CU_ASSERT_EQUAL(st, 0);
	if (st != 0)
		fprintf(stderr, "\n%s: exit %d\n%s\n", rel, st, r.err ? r.err : "");
	pd_run_release(&r);
	return dir;
}

static cJSON *read_json(const char *path)
{
	char *text = pd_test_read_file(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	cJSON *j = cJSON_Parse(text);
	free(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	return j;
}

static int near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(1, fmax(fabs(a), fabs(b)));
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static double num_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	CU_ASSERT_TRUE(cJSON_IsNumber(v));
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A metadata event names its GPU (process) or stream (thread) as the schedule says. */
static void check_meta(const pd_dag *dag, const cJSON *e)
{
	int g = (int)num_of(e, "pid"), tid = (int)num_of(e, "tid");
	const char *what = str_of(e, "name");
	const char *name = str_of(cJSON_GetObjectItemCaseSensitive(e, "args"), "name");
	CU_ASSERT_TRUE_FATAL(g >= 0 && g < dag->n_gpus);
	char want[96];
	if (strcmp(what, "process_name") == 0)
		snprintf(want, sizeof(want), "GPU %d (replica %d, stage %d)", g,
		         (int)dag->gpu[g].replica, (int)dag->gpu[g].stage);
	else
		snprintf(want, sizeof(want), "%s", tid == 0 ? "compute" : "comm");
	CU_ASSERT_TRUE(strcmp(what, "process_name") == 0 || strcmp(what, "thread_name") == 0);
	CU_ASSERT_STRING_EQUAL(name, want);
}

/* The complete event of node v. */
static void check_event(const pd_dag *dag, const pd_schedule *s, uint32_t v, const cJSON *e)
{
	const pd_node *n = &dag->nodes[v];
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(e, "args");
	CU_ASSERT_EQUAL((int)num_of(e, "pid"), n->gpu);
	CU_ASSERT_EQUAL((int)num_of(e, "tid"), pd_node_stream(dag, v) == PD_STREAM_COMM);
	CU_ASSERT_TRUE(near(num_of(e, "ts"), s->start_us[v]));
	CU_ASSERT_TRUE(near(num_of(e, "ts") + num_of(e, "dur"), s->end_us[v]));
	const char *kind = pd_node_kind_name((pd_node_kind)n->kind);
	CU_ASSERT_EQUAL(strncmp(str_of(e, "name"), kind, strlen(kind)), 0);
	CU_ASSERT_STRING_EQUAL(str_of(e, "cat"), FAMILY_CAT[pd_i_ops[n->kind].family]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(args);
	const cJSON *layer = cJSON_GetObjectItemCaseSensitive(args, "layer");
	CU_ASSERT_TRUE(n->layer < 0 ? cJSON_IsNull(layer) : num_of(args, "layer") == n->layer);
	CU_ASSERT_EQUAL((int)num_of(args, "micro_batch"), n->micro_batch);
	CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItemCaseSensitive(args, "expert"));
	CU_ASSERT_TRUE(near(num_of(args, "flops"), dag->costs[n->cost].flops));
	CU_ASSERT_TRUE(near(num_of(args, "bytes"), dag->costs[n->cost].bytes));
}

/* Every event of the trace against the schedule: the k-th complete event is the k-th
 * node that is no hub; the last to end ends at the makespan.  Returns the events. */
static uint32_t check_trace(const char *plan_rel, const char *trace, int32_t only_gpu)
{
	pd_compilation c;
	pd_compile_options opt = {.lower = 1};
	CU_ASSERT_EQUAL_FATAL(pd_compile_file(pd_test_path(plan_rel), &opt, &c), PD_OK);
	pd_schedule s;
	CU_ASSERT_EQUAL_FATAL(pd_dag_schedule(c.dag, &s), PD_OK);
	cJSON *j = read_json(trace);
	CU_ASSERT_STRING_EQUAL(str_of(j, "displayTimeUnit"), "ms");
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "traceEvents"), *e;
	CU_ASSERT_TRUE_FATAL(cJSON_IsArray(ev));
	uint32_t v = 0, n_x = 0;
	double last_end = 0;
	cJSON_ArrayForEach(e, ev)
	{
		if (strcmp(str_of(e, "ph"), "M") == 0) {
			check_meta(c.dag, e);
			continue;
		}
		CU_ASSERT_STRING_EQUAL(str_of(e, "ph"), "X");
		while (v < c.dag->n_nodes && (c.dag->nodes[v].kind == PD_N_COLLECTIVE ||
		                              (only_gpu >= 0 && c.dag->nodes[v].gpu != only_gpu)))
			v++;
		CU_ASSERT_TRUE_FATAL(v < c.dag->n_nodes);
		check_event(c.dag, &s, v++, e);
		last_end = fmax(last_end, num_of(e, "ts") + num_of(e, "dur"));
		n_x++;
	}
	uint32_t want = 0;
	for (uint32_t u = 0; u < c.dag->n_nodes; u++)
		want += c.dag->nodes[u].kind != PD_N_COLLECTIVE &&
		        (only_gpu < 0 || c.dag->nodes[u].gpu == only_gpu);
	CU_ASSERT_EQUAL(n_x, want);
	if (only_gpu < 0)
		CU_ASSERT_TRUE(near(last_end, s.makespan_us));
	cJSON_Delete(j);
	pd_schedule_release(&s);
	pd_compilation_release(&c);
	return n_x;
}

static void trace_should_hold_one_event_per_node_at_its_scheduled_time(void)
{
	const char *dir = compile_into("trace", "examples/moe-10b-ep16.xml", "trace", NULL);
	CU_ASSERT_TRUE(check_trace("examples/moe-10b-ep16.xml",
	                           pd_test_join(dir, "moe-10b-ep16.trace.json"), -1) > 2000);
	dir = compile_into("trace-pp", "tests/plans/valid/tiny-pp.xml", "trace", NULL);
	CU_ASSERT_TRUE(check_trace("tests/plans/valid/tiny-pp.xml",
	                           pd_test_join(dir, "tiny-pp.trace.json"), -1) > 0);
}

static void trace_of_a_gpu_view_should_hold_that_gpu_only(void)
{
	const char *dir =
	    compile_into("trace-gpu", "examples/moe-10b-ep16.xml", "trace", "gpu=3");
	CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 1);
	CU_ASSERT_TRUE(check_trace("examples/moe-10b-ep16.xml",
	                           pd_test_join(dir, "moe-10b-ep16-gpu3.trace.json"), 3) > 100);
}

/* Width and height from a PNG's IHDR; 0 when the file is no PNG. */
static void png_size(const char *path, uint32_t *w, uint32_t *h)
{
	size_t n = 0;
	unsigned char *p = (unsigned char *)pd_test_read_file(path, &n);
	*w = *h = 0;
	if (p && n >= 24 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 &&
	    memcmp(p + 12, "IHDR", 4) == 0) {
		*w = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
		*h = (uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23];
	}
	free(p);
}

static void timeline_should_fold_identical_gpus_and_name_kinds_and_units(void)
{
	const char *dir =
	    compile_into("timeline", "examples/moe-10b-ep16.xml", "timeline", NULL);
	CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 2);
	uint32_t w, h;
	png_size(pd_test_join(dir, "moe-10b-ep16-timeline.png"), &w, &h);
	CU_ASSERT_TRUE(w >= 800 && w <= 8000);
	CU_ASSERT_TRUE(h >= 100 && h <= 8000);
	char *svg = pd_test_read_file(pd_test_join(dir, "moe-10b-ep16-timeline.svg"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
	/* the 16 GPUs of the one stage run the same schedule: one group, two rows */
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">GPU 0-15 (\u00d716) compute</text>"));
	CU_ASSERT_PTR_NULL(strstr(svg, ">GPU 1 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">comm</text>"));
	static const char *const legend[] = {">attention</text>", ">expert</text>",
	                                     ">ep_dispatch</text>", ">ep_combine</text>",
	                                     ">critical path"};
	for (size_t i = 0; i < sizeof(legend) / sizeof(legend[0]); i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(svg, legend[i]));
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">time (ms)</text>"));
	CU_ASSERT_PTR_NULL(strstr(svg, ">pp_send</text>")); /* only the kinds drawn */
	free(svg);
}

static void timeline_of_a_pipeline_should_keep_its_stages_apart(void)
{
	const char *dir =
	    compile_into("timeline-pp", "tests/plans/valid/tiny-pp.xml", "timeline", NULL);
	char *svg = pd_test_read_file(pd_test_join(dir, "tiny-pp-timeline.svg"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">GPU 0 compute</text>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">GPU 1 compute</text>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">pp_send</text>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, "\u00b5s)</text>")); /* a step under 2 ms */
	free(svg);
}

/* Refused with exit 2 and a hint; the directory stays empty. */
static void expect_refused(const char *rel, const char *emit, const char *hint)
{
	const char *dir = pd_test_tmpdir("refused");
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", pd_test_path(rel), "-o", dir, "--emit",
	                               emit, "-q", NULL),
	                2);
	CU_ASSERT_PTR_NOT_NULL(r.err ? strstr(r.err, "[usage]") : NULL);
	CU_ASSERT_PTR_NOT_NULL(r.err ? strstr(r.err, hint) : NULL);
	pd_run_release(&r);
	CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 0);
}

static void timeline_of_too_many_distinct_gpus_should_be_refused_with_a_hint(void)
{
	expect_refused("tests/plans/timeline/pp256.xml", "timeline,graphml", "--view stage=S");
	const char *dir = compile_into("timeline-view", "tests/plans/timeline/pp256.xml",
	                               "timeline", "stage=3");
	CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 2);
	char *svg = pd_test_read_file(pd_test_join(dir, "pp256-stage3-timeline.svg"), NULL);
	CU_ASSERT_PTR_NOT_NULL(svg ? strstr(svg, ">GPU 3 compute</text>") : NULL);
	CU_ASSERT_PTR_NULL(svg ? strstr(svg, ">GPU 4 ") : "");
	free(svg);
}

static void timeline_and_trace_should_not_go_to_standard_output_together(void)
{
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", pd_test_path("examples/moe-10b-ep16.xml"),
	                               "-o", "-", "--emit", "timeline", NULL),
	                2);
	pd_run_release(&r);
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", pd_test_path("examples/moe-10b-ep16.xml"),
	                               "-o", "-", "--emit", "trace", "-q", NULL),
	                0);
	cJSON *j = r.out ? cJSON_Parse(r.out) : NULL;
	CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItemCaseSensitive(j, "traceEvents"));
	cJSON_Delete(j);
	pd_run_release(&r);
}

static CU_TestInfo tests[] = {
    {"trace_should_hold_one_event_per_node_at_its_scheduled_time",
     trace_should_hold_one_event_per_node_at_its_scheduled_time},
    {"trace_of_a_gpu_view_should_hold_that_gpu_only",
     trace_of_a_gpu_view_should_hold_that_gpu_only},
    {"timeline_should_fold_identical_gpus_and_name_kinds_and_units",
     timeline_should_fold_identical_gpus_and_name_kinds_and_units},
    {"timeline_of_a_pipeline_should_keep_its_stages_apart",
     timeline_of_a_pipeline_should_keep_its_stages_apart},
    {"timeline_of_too_many_distinct_gpus_should_be_refused_with_a_hint",
     timeline_of_too_many_distinct_gpus_should_be_refused_with_a_hint},
    {"timeline_and_trace_should_not_go_to_standard_output_together",
     timeline_and_trace_should_not_go_to_standard_output_together},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"timeline_cli", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
