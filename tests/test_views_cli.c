/* test_views_cli.c - views as a user meets them: a view naming a GPU, stage or layer the
 * plan lacks is refused with the valid range, the report shows this run's picture under
 * its view's name, and Graphviz's own messages come out as plandag diagnostics. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define TINY pd_test_path("tests/plans/valid/tiny.xml")
#define TALL pd_test_path("tests/plans/views/tall-chain.xml")

static void show(const pd_run_result *r)
{
	fprintf(stderr, "\nexit %d\nstdout:\n%.2000s\nstderr:\n%.2000s\n", r->status,
	        r->out ? r->out : "", r->err ? r->err : "");
}

/* Entries of dir other than . and .. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* compile TINY --emit emit --view view into a fresh directory: exit 2, the message on
 * stderr, tagged [usage], nothing written. */
static void refused(const char *tag, const char *emit, const char *view, const char *msg)
{
	const char *dir = pd_test_tmpdir(tag);
	pd_run_result r;
	pd_run_plandag(&r, "compile", TINY, "-o", dir, "--emit", emit, "--view", view, NULL);
	int ok = r.status == 2 && strstr(r.err, msg) && strstr(r.err, "[usage]");
	if (!ok)
		show(&r);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, msg));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "[usage]"));
	CU_ASSERT_PTR_NULL(strstr(r.err, "[io]"));
	CU_ASSERT_EQUAL(entries(dir), 0);
	pd_run_release(&r);
}

static void view_should_refuse_a_gpu_the_plan_lacks_with_its_gpus(void)
{
	refused("gpu99", "png,report", "gpu=99", "gpu=99: the plan uses GPUs 0-1");
	refused("gpu99-svg", "svg", "gpu=99", "fix: pick one of them, e.g. --view gpu=0");
}

static void view_should_refuse_a_stage_the_plan_lacks_with_its_stages(void)
{
	refused("stage3", "png,dot,report", "stage=3",
	        "stage=3: replica 0 of the plan has stages 0");
}

static void view_should_refuse_a_layer_the_plan_lacks_with_its_layers(void)
{
	refused("layer500", "png", "layer=500", "layer=500: the plan has layers 0-1");
}

static void view_should_refuse_a_missing_gpu_for_the_dot_file_too(void)
{
	/* no picture: checked on the DAG after lowering, still before anything is written */
	refused("gpu7-dot", "dot,graphml,report", "gpu=7", "gpu=7: the plan uses GPUs 0-1");
}

/* The report that compile TINY writes with emit (and view, may be NULL) holds `want`
 * (and never `never`). */
static void report_has(const char *tag, const char *emit, const char *view,
                       const char *want, const char *never)
{
	const char *dir = pd_test_tmpdir(tag);
	pd_run_result r;
	if (view)
		pd_run_plandag(&r, "compile", TINY, "-o", dir, "-q", "--emit", emit, "--view", view,
		               NULL);
	else
		pd_run_plandag(&r, "compile", TINY, "-o", dir, "-q", "--emit", emit, NULL);
	if (r.status != 0)
		show(&r);
	CU_ASSERT_EQUAL(r.status, 0);
	char *md = pd_test_read_file(pd_test_join(dir, "tiny.md"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	if (!strstr(md, want) || (never && strstr(md, never)))
		fprintf(stderr, "\nwanted %s in:\n%.600s\n", want, md);
	CU_ASSERT_PTR_NOT_NULL(strstr(md, want));
	if (never)
		CU_ASSERT_PTR_NULL(strstr(md, never));
	free(md);
	pd_run_release(&r);
}

static void report_should_show_the_picture_of_this_run_under_its_views_name(void)
{
	report_has("cap-auto", "png,report", NULL, "![full DAG](tiny.png)", "overview");
	report_has("cap-ov", "png,report", "overview", "![overview](tiny-overview.png)", NULL);
	report_has("cap-stage", "png,svg,report", "stage=0",
	           "![stage 0 of replica 0](tiny-stage0.png)", "overview");
	report_has("cap-gpu", "svg,report", "gpu=1", "![GPU 1](tiny-gpu1.svg)", "overview");
	report_has("cap-layer", "pdf,report", "layer=1",
	           "Picture: [layer 1 (micro-batch 0)](tiny-layer1.pdf)", "![");
	report_has("cap-none", "dot,report", "layer=1", "**Verdict", "![");
}

static void render_should_turn_graphviz_scaling_into_a_warning_never_print_it_raw(void)
{
	const char *dir = pd_test_tmpdir("tall");
	pd_run_result r;
	pd_run_plandag(&r, "compile", TALL, "-o", dir, "-q", "--emit", "png", "--view", "full",
	               NULL);
	const char *w = strstr(r.err, "warning: Graphviz, png: graph is too large for "
	                              "cairo-renderer bitmaps. Scaling by");
	if (r.status != 0 || !w || strstr(r.err, "(null)"))
		show(&r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(w);
	CU_ASSERT_PTR_NOT_NULL(w ? strstr(w, "[io]") : NULL);
	CU_ASSERT_PTR_NULL(strstr(r.err, "(null)"));
	pd_run_release(&r);
}

static CU_TestInfo refusals[] = {
    {"view_should_refuse_a_gpu_the_plan_lacks_with_its_gpus",
     view_should_refuse_a_gpu_the_plan_lacks_with_its_gpus},
    {"view_should_refuse_a_stage_the_plan_lacks_with_its_stages",
     view_should_refuse_a_stage_the_plan_lacks_with_its_stages},
    {"view_should_refuse_a_layer_the_plan_lacks_with_its_layers",
     view_should_refuse_a_layer_the_plan_lacks_with_its_layers},
    {"view_should_refuse_a_missing_gpu_for_the_dot_file_too",
     view_should_refuse_a_missing_gpu_for_the_dot_file_too},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo reports[] = {
    {"report_should_show_the_picture_of_this_run_under_its_views_name",
     report_should_show_the_picture_of_this_run_under_its_views_name},
    {"render_should_turn_graphviz_scaling_into_a_warning_never_print_it_raw",
     render_should_turn_graphviz_scaling_into_a_warning_never_print_it_raw},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"view refusals", NULL, NULL, NULL, NULL, refusals},
    {"report and Graphviz messages", NULL, NULL, NULL, NULL, reports},
    CU_SUITE_INFO_NULL,
};

/* The 2400-node layout takes seconds natively, minutes under valgrind. */
static const pd_test_skip skips[] = {
    {"render_should_turn_graphviz_scaling_into_a_warning_never_print_it_raw",
     pd_test_wrapped, "the tall layout is too slow under valgrind"},
    {NULL, NULL, NULL},
};

PD_TEST_MAIN_SKIPPING(suites, skips)
