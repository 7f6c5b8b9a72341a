/* test_export.c - atomic files, views, DOT and pictures (README: Exports). */
#include <dirent.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export/export_internal.h"
#include "testutil.h"

/* ---- helpers ---- */

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* Compiles tests/plans/valid/tiny.xml; the DAG is what the goldens show. */
static pd_status compile_tiny(pd_compilation *c)
{
	pd_compile_options opt = {.lower = 1};
	pd_compile_file(pd_test_path("tests/plans/valid/tiny.xml"), &opt, c);
	return c->dag ? PD_OK : PD_IO;
}

/* A chain of n compute nodes on GPU 0: big enough to be refused as a picture. */
static pd_dag *chain_dag(uint32_t n)
{
	pd_dag *dag = pd_dag_create();
	pd_cost cost = {.flops = 1, .bytes = 2, .us = 3, .out_bytes = 4};
	pd_node node = {.gpu = 0, .layer = 0, .expert = -1};
	CU_ASSERT_EQUAL_FATAL(pd_dag_intern_cost(dag, &cost, &node.cost), PD_OK);
	node.kind = PD_N_QKV;
	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL_FATAL(pd_dag_add_node(dag, &node, NULL), PD_OK);
		if (i)
			pd_dag_add_edge(dag, i - 1, i, PD_E_DATA);
	}
	CU_ASSERT_EQUAL_FATAL(pd_dag_finalize(dag), PD_OK);
	return dag;
}

/* Compares `path` with tests/golden/NAME; PD_UPDATE_GOLDEN=1 rewrites the golden. */
static void assert_golden(const char *path, const char *name)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "tests/golden/%s", name);
	char *got = pd_test_read_file(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	if (getenv("PD_UPDATE_GOLDEN"))
		pd_test_write_file(pd_test_path(rel), got);
	char *want = pd_test_read_file(pd_test_path(rel), NULL);
	CU_ASSERT_PTR_NOT_NULL(want);
	if (want && strcmp(got, want) != 0) {
		fprintf(stderr, "\n%s differs from %s (PD_UPDATE_GOLDEN=1 to accept)\n", path, rel);
		CU_FAIL("output differs from the golden file");
	}
	free(got);
	free(want);
}

/* ---- atomic files ---- */

static void atomic_commit_should_replace_the_file_and_leave_no_temp(void)
{
	const char *dir = pd_test_tmpdir("atomic");
	const char *path = pd_test_join(dir, "a.txt");
	pd_test_write_file(path, "old");
	pd_atomic_file af;
	CU_ASSERT_EQUAL_FATAL(pd_atomic_open(&af, path), PD_OK);
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 1);
	fputs("new", af.f);
	CU_ASSERT_EQUAL(pd_atomic_commit(&af), PD_OK);
	char *text = pd_test_read_file(path, NULL);
	CU_ASSERT_STRING_EQUAL(text, "new");
	free(text);
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0);
}

static void atomic_abort_should_keep_the_old_file(void)
{
	const char *dir = pd_test_tmpdir("atomic");
	const char *path = pd_test_join(dir, "a.txt");
	pd_test_write_file(path, "old");
	pd_atomic_file af;
	CU_ASSERT_EQUAL_FATAL(pd_atomic_open(&af, path), PD_OK);
	fputs("half a fi", af.f);
	pd_atomic_abort(&af);
	pd_atomic_abort(&af); /* twice is harmless */
	char *text = pd_test_read_file(path, NULL);
	CU_ASSERT_STRING_EQUAL(text, "old");
	free(text);
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0);
}

static void atomic_open_should_fail_under_a_regular_file(void)
{
	const char *dir = pd_test_tmpdir("atomic");
	const char *file = pd_test_join(dir, "plain");
	pd_test_write_file(file, "x");
	pd_atomic_file af;
	CU_ASSERT_EQUAL(pd_atomic_open(&af, pd_test_join(file, "a.txt")), PD_IO);
	CU_ASSERT_PTR_NULL(af.f);
}

static void mkdir_p_should_create_nested_dirs_and_refuse_files(void)
{
	const char *dir = pd_test_tmpdir("mkdir");
	struct stat st;
	CU_ASSERT_EQUAL(pd_mkdir_p(pd_test_join(dir, "a/b/c/")), PD_OK);
	CU_ASSERT_TRUE(stat(pd_test_join(dir, "a/b/c"), &st) == 0 && S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(pd_mkdir_p(pd_test_join(dir, "a/b")), PD_OK);
	pd_test_write_file(pd_test_join(dir, "f"), "x");
	CU_ASSERT_EQUAL(pd_mkdir_p(pd_test_join(dir, "f/sub")), PD_IO);
	CU_ASSERT_EQUAL(pd_mkdir_p(pd_test_join(dir, "f")), PD_IO);
}

/* ---- views and --emit ---- */

static void view_parse_should_accept_the_views_and_reject_the_rest(void)
{
	pd_view v;
	char s[32];
	CU_ASSERT_EQUAL(pd_view_parse("overview", &v), PD_OK);
	CU_ASSERT_EQUAL(v.kind, PD_VIEW_OVERVIEW);
	pd_view_suffix(&v, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "-overview");
	CU_ASSERT_EQUAL(pd_view_parse("full", &v), PD_OK);
	pd_view_suffix(&v, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "");
	CU_ASSERT_EQUAL(pd_view_parse("stage=1", &v), PD_OK);
	CU_ASSERT_TRUE(v.kind == PD_VIEW_STAGE && v.arg == 1);
	pd_view_suffix(&v, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "-stage1");
	CU_ASSERT_EQUAL(pd_view_parse("gpu=12", &v), PD_OK);
	CU_ASSERT_TRUE(v.kind == PD_VIEW_GPU && v.arg == 12);
	CU_ASSERT_EQUAL(pd_view_parse("layer=3", &v), PD_OK);
	CU_ASSERT_TRUE(v.kind == PD_VIEW_LAYER && v.arg == 3);
	const char *bad[] = {"", "stage=", "stage=-1", "gpu=x", "layer=1x", "Full", "stage"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(pd_view_parse(bad[i], &v), PD_USAGE);
}

static void emit_parse_should_accept_subsets_and_none(void)
{
	unsigned m = 99;
	CU_ASSERT_EQUAL(pd_emit_parse("none", &m), PD_OK);
	CU_ASSERT_EQUAL(m, 0);
	CU_ASSERT_EQUAL(pd_emit_parse("dot,graphml,png,svg,pdf,report", &m), PD_OK);
	CU_ASSERT_EQUAL(m, PD_EMIT_DOT | PD_EMIT_GRAPHML | PD_EMIT_PNG | PD_EMIT_SVG |
	                       PD_EMIT_PDF | PD_EMIT_REPORT);
	CU_ASSERT_EQUAL(pd_emit_parse("svg", &m), PD_OK);
	CU_ASSERT_EQUAL(m, PD_EMIT_SVG);
	const char *bad[] = {"", "jpg", "dot,", ",dot", "dot,,png", "none,dot", "DOT"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(pd_emit_parse(bad[i], &m), PD_USAGE);
}

/* ---- DOT ---- */

static void dot_of_tiny_should_match_the_golden_and_render_with_dot(void)
{
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(compile_tiny(&c), PD_OK);
	const char *dir = pd_test_tmpdir("dot");
	const char *path = pd_test_join(dir, "tiny.dot");
	pd_view full = {.kind = PD_VIEW_FULL};
	CU_ASSERT_EQUAL(pd_export_dot(c.dag, &full, path, &c.diags), PD_OK);
	assert_golden(path, "tiny.dot");
	char *text = pd_test_read_file(path, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "replica 0 / stage 0 / GPU 1 (node 0)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "cluster_legend"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "style=dashed") ? text : NULL);
	free(text);
	const char *argv[] = {"/usr/bin/dot", "-Tsvg", path, NULL};
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run(&r, argv), 0);
	CU_ASSERT_PTR_NOT_NULL(r.out && strstr(r.out, "<svg") ? r.out : NULL);
	pd_run_release(&r);
	pd_compilation_release(&c);
}

static void dot_should_put_hubs_in_stage_clusters_not_gpu_clusters(void)
{
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(compile_tiny(&c), PD_OK);
	pd_view full = {.kind = PD_VIEW_FULL};
	Agraph_t *g = pd_i_dot_build(c.dag, &full);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	Agraph_t *gpu0 = agsubg(agsubg(agsubg(g, "cluster_r0", 0), "cluster_r0_s0", 0),
	                        "cluster_r0_s0_g0", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gpu0);
	char name[32];
	for (uint32_t v = 0; v < c.dag->n_nodes; v++) {
		snprintf(name, sizeof(name), "n%u", v);
		int in_gpu0 = agnode(gpu0, name, 0) != NULL;
		CU_ASSERT_EQUAL(in_gpu0, c.dag->nodes[v].gpu == 0);
	}
	CU_ASSERT_EQUAL(agnnodes(g),
	                (int)c.dag->n_nodes + 5 + 1); /* + legend + the stage anchor */
	agclose(g);
	pd_compilation_release(&c);
}

/* The overview of moe-10b-ep16 (16 GPUs on 2 machines of 8, EP ring over all 16):
 * one rank=same cluster per machine, and only the ring edges between the two rows
 * leave the layout alone. */
static void overview_should_put_each_machine_in_one_row(void)
{
	pd_compile_options opt = {.lower = 1};
	pd_compilation c;
	pd_compile_file(pd_test_path("examples/moe-10b-ep16.xml"), &opt, &c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.dag);
	pd_view ov = {.kind = PD_VIEW_OVERVIEW};
	Agraph_t *g = pd_i_dot_build(c.dag, &ov);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	Agraph_t *st = agsubg(agsubg(g, "cluster_r0", 0), "cluster_r0_s0", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	for (int m = 0; m < 2; m++) {
		char name[32], gpu[16];
		snprintf(name, sizeof(name), "cluster_r0_s0_m%d", m);
		Agraph_t *row = agsubg(st, name, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(row);
		CU_ASSERT_STRING_EQUAL(agget(row, "rank"), "same");
		CU_ASSERT_EQUAL(agnnodes(row), 8);
		snprintf(gpu, sizeof(gpu), "gpu%d", 8 * m + 3);
		CU_ASSERT_PTR_NOT_NULL(agnode(row, gpu, 0));
	}
	/* only the EP hub's lines to its 16 GPUs leave the layout alone: no collective is
	 * drawn as a ring between GPUs any more */
	int loose = 0, hub = 0;
	for (Agnode_t *n = agfstnode(g); n; n = agnxtnode(g, n))
		for (Agedge_t *e = agfstout(g, n); e; e = agnxtout(g, e)) {
			int free_edge = strcmp(agget(e, "constraint"), "false") == 0;
			loose += free_edge;
			hub += free_edge && strncmp(agnameof(n), "ep", 2) == 0;
		}
	CU_ASSERT_EQUAL(loose, 16);
	CU_ASSERT_EQUAL(hub, 16);
	agclose(g);
	pd_compilation_release(&c);
}

/* ---- pictures ---- */

static unsigned be32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

static void assert_png(const char *path)
{
	size_t len = 0;
	unsigned char *b = (unsigned char *)pd_test_read_file(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_TRUE_FATAL(len > 33);
	CU_ASSERT_EQUAL(memcmp(b, "\x89PNG\r\n\x1a\n", 8), 0);
	CU_ASSERT_EQUAL(memcmp(b + 12, "IHDR", 4), 0);
	unsigned w = be32(b + 16), h = be32(b + 20);
	CU_ASSERT_TRUE(w > 50 && w < 40000);
	CU_ASSERT_TRUE(h > 50 && h < 40000);
	free(b);
}

static void assert_svg(const char *path)
{
	xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	CU_ASSERT_STRING_EQUAL(root->name, "svg");
	xmlChar *w = xmlGetProp(root, BAD_CAST "width"),
	        *h = xmlGetProp(root, BAD_CAST "height");
	CU_ASSERT_TRUE(w && atof((char *)w) > 10);
	CU_ASSERT_TRUE(h && atof((char *)h) > 10);
	xmlFree(w);
	xmlFree(h);
	xmlFreeDoc(doc);
}

/* The default picture is the full graph only while a person can read it unzoomed. */
static void auto_view_should_pick_full_up_to_the_limit_then_overview(void)
{
	pd_view autov = {.kind = PD_VIEW_AUTO};
	pd_dag *small = chain_dag(PD_VIEW_AUTO_FULL_LIMIT);
	pd_dag *big = chain_dag(PD_VIEW_AUTO_FULL_LIMIT + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(small);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	CU_ASSERT_EQUAL(pd_i_view_resolve(small, &autov).kind, PD_VIEW_FULL);
	CU_ASSERT_EQUAL(pd_i_view_resolve(big, &autov).kind, PD_VIEW_OVERVIEW);
	pd_view full = {.kind = PD_VIEW_FULL};
	CU_ASSERT_EQUAL(pd_i_view_resolve(big, &full).kind, PD_VIEW_FULL);
	pd_dag_destroy(small);
	pd_dag_destroy(big);
}

/* x of the cluster label "replica 0 / stage 0 / GPU g" in an SVG, or -1. */
static double svg_label_x(const char *svg, int gpu)
{
	char needle[64];
	snprintf(needle, sizeof(needle), ">replica 0 / stage 0 / GPU %d ", gpu);
	const char *hit = strstr(svg, needle);
	snprintf(needle, sizeof(needle), ">replica 0 / stage 0 / GPUs %d", gpu);
	if (!hit) /* a folded view: the first GPU of a kind names it */
		hit = strstr(svg, needle);
	if (!hit)
		return -1;
	const char *x = hit;
	while (x > svg && strncmp(x, " x=\"", 4) != 0)
		x--;
	return x > svg ? strtod(x + 4, NULL) : -1;
}

/* Renders `view` of a plan to SVG and asserts its GPU clusters run 0..gpus-1 from left
 * to right. */
static void assert_gpus_in_order(const char *plan, const char *view, int gpus, int folded)
{
	pd_compile_options opt = {.lower = 1};
	pd_compilation c;
	pd_compile_file(pd_test_path(plan), &opt, &c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.dag);
	const char *dir = pd_test_tmpdir("order");
	pd_view v;
	CU_ASSERT_EQUAL_FATAL(pd_view_parse(view, &v), PD_OK);
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL(pd_export_render(c.dag, &v, "svg", pd_test_join(dir, "o.svg"), &d),
	                PD_OK);
	char *svg = pd_test_read_file(pd_test_join(dir, "o.svg"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
	double prev = -1;
	int found = 0;
	for (int g = 0; g < gpus; g++) {
		double x = svg_label_x(svg, g);
		if (x < 0 && folded)
			continue;
		CU_ASSERT_TRUE(x > prev);
		prev = x;
		found++;
	}
	CU_ASSERT_TRUE(found >= 1);
	free(svg);
	pd_diag_list_release(&d);
	pd_compilation_release(&c);
}

/* dot reorders clusters to cut crossings; the stage anchors keep GPUs in id order, also
 * when TP hubs sit between pairs of GPUs (Mixtral: TP 2 inside EP 8). */
static void views_should_lay_gpus_out_left_to_right_in_id_order(void)
{
	assert_gpus_in_order("examples/moe-10b-ep16.xml", "full", 16, 0);
	/* a layer view folds identical GPUs: the kinds stand in order of their first GPU */
	assert_gpus_in_order("examples/mixtral-8x7b-tp2-ep8.xml", "layer=5", 8, 1);
	assert_gpus_in_order("examples/deepseek-v3-prefill-32-h800.xml", "layer=3", 32, 1);
}

static void render_should_write_png_and_svg_for_every_view(void)
{
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(compile_tiny(&c), PD_OK);
	const char *dir = pd_test_tmpdir("render");
	const char *views[] = {"full", "overview", "stage=0", "gpu=1", "layer=1"};
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		pd_view v;
		char suffix[32], name[64];
		CU_ASSERT_EQUAL_FATAL(pd_view_parse(views[i], &v), PD_OK);
		pd_view_suffix(&v, suffix, sizeof(suffix));
		snprintf(name, sizeof(name), "tiny%s.png", suffix);
		CU_ASSERT_EQUAL(
		    pd_export_render(c.dag, &v, "png", pd_test_join(dir, name), &c.diags), PD_OK);
		assert_png(pd_test_join(dir, name));
		snprintf(name, sizeof(name), "tiny%s.svg", suffix);
		CU_ASSERT_EQUAL(
		    pd_export_render(c.dag, &v, "svg", pd_test_join(dir, name), &c.diags), PD_OK);
		assert_svg(pd_test_join(dir, name));
	}
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0);
	pd_compilation_release(&c);
}

static void render_should_refuse_a_big_full_picture_with_a_hint(void)
{
	pd_dag *dag = chain_dag(PD_VIEW_FULL_LIMIT + 1);
	pd_diag_list d;
	pd_diag_list_init(&d);
	const char *dir = pd_test_tmpdir("refuse");
	pd_view full = {.kind = PD_VIEW_FULL}, gpu0 = {.kind = PD_VIEW_GPU, .arg = 0};
	CU_ASSERT_EQUAL(pd_export_render(dag, &full, "png", pd_test_join(dir, "x.png"), &d),
	                PD_USAGE);
	CU_ASSERT_EQUAL(pd_export_render(dag, &gpu0, "png", pd_test_join(dir, "x.png"), &d),
	                PD_USAGE);
	CU_ASSERT_EQUAL_FATAL(d.n, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.items[0].fix, "--view overview"));
	CU_ASSERT_EQUAL(count_entries(dir), 0);
	pd_view overview = {.kind = PD_VIEW_OVERVIEW}; /* one GPU: fine */
	CU_ASSERT_EQUAL(pd_export_render(dag, &overview, "svg", pd_test_join(dir, "o.svg"), &d),
	                PD_OK);
	pd_diag_list_release(&d);
	pd_dag_destroy(dag);
}

/* ---- pd_emit ---- */

static void emit_should_write_every_file_with_view_names(void)
{
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(compile_tiny(&c), PD_OK);
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/new/sub", pd_test_tmpdir("emit"));
	pd_view v = {.kind = PD_VIEW_AUTO};
	unsigned all = PD_EMIT_DOT | PD_EMIT_GRAPHML | PD_EMIT_PNG | PD_EMIT_SVG | PD_EMIT_PDF |
	               PD_EMIT_REPORT;
	char *log = NULL;
	size_t loglen = 0;
	FILE *f = open_memstream(&log, &loglen);
	CU_ASSERT_EQUAL(pd_emit(&c, all, &v, dir, f, &c.diags), PD_OK);
	fclose(f);
	const char *names[] = {"tiny.dot", "tiny.graphml", "tiny.png",
	                       "tiny.svg", "tiny.pdf",     "tiny.md"};
	for (size_t i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(access(pd_test_join(dir, names[i]), R_OK), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(log, names[i]));
	}
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0);
	pd_view_parse("overview", &v);
	CU_ASSERT_EQUAL(pd_emit(&c, PD_EMIT_PNG | PD_EMIT_REPORT, &v, dir, NULL, &c.diags),
	                PD_OK);
	assert_png(pd_test_join(dir, "tiny-overview.png"));
	char *md = pd_test_read_file(pd_test_join(dir, "tiny.md"), NULL);
	CU_ASSERT_PTR_NOT_NULL(md && strstr(md, "tiny-overview.png") ? md : NULL);
	free(md);
	free(log);
	pd_compilation_release(&c);
}

static void emit_failure_should_leave_earlier_files_untouched(void)
{
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(compile_tiny(&c), PD_OK);
	pd_dag *tiny = c.dag;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", pd_test_tmpdir("emitfail"));
	pd_test_write_file(pd_test_join(dir, "tiny.dot"), "precious\n");
	pd_view full = {.kind = PD_VIEW_FULL};
	pd_diag_list d;
	pd_diag_list_init(&d);
	/* a picture too large: refused before anything is written */
	c.dag = chain_dag(PD_VIEW_FULL_LIMIT + 10);
	CU_ASSERT_EQUAL(pd_emit(&c, PD_EMIT_DEFAULT, &full, dir, NULL, &d), PD_USAGE);
	pd_dag_destroy(c.dag);
	/* a failure after the DOT was written: a directory in the way of the report */
	c.dag = tiny;
	mkdir(pd_test_join(dir, "tiny.md"), 0777);
	pd_test_write_file(pd_test_join(pd_test_join(dir, "tiny.md"), "keep"), "x");
	CU_ASSERT_NOT_EQUAL(pd_emit(&c, PD_EMIT_DEFAULT, &full, dir, NULL, &d), PD_OK);
	char *text = pd_test_read_file(pd_test_join(dir, "tiny.dot"), NULL);
	CU_ASSERT_STRING_EQUAL(text, "precious\n");
	free(text);
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0);
	pd_diag_list_release(&d);
	pd_compilation_release(&c);
}

static CU_TestInfo atomic_tests[] = {
    {"atomic_commit_should_replace_the_file_and_leave_no_temp",
     atomic_commit_should_replace_the_file_and_leave_no_temp},
    {"atomic_abort_should_keep_the_old_file", atomic_abort_should_keep_the_old_file},
    {"atomic_open_should_fail_under_a_regular_file",
     atomic_open_should_fail_under_a_regular_file},
    {"mkdir_p_should_create_nested_dirs_and_refuse_files",
     mkdir_p_should_create_nested_dirs_and_refuse_files},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo export_tests[] = {
    {"view_parse_should_accept_the_views_and_reject_the_rest",
     view_parse_should_accept_the_views_and_reject_the_rest},
    {"emit_parse_should_accept_subsets_and_none",
     emit_parse_should_accept_subsets_and_none},
    {"dot_of_tiny_should_match_the_golden_and_render_with_dot",
     dot_of_tiny_should_match_the_golden_and_render_with_dot},
    {"overview_should_put_each_machine_in_one_row",
     overview_should_put_each_machine_in_one_row},
    {"dot_should_put_hubs_in_stage_clusters_not_gpu_clusters",
     dot_should_put_hubs_in_stage_clusters_not_gpu_clusters},
    {"auto_view_should_pick_full_up_to_the_limit_then_overview",
     auto_view_should_pick_full_up_to_the_limit_then_overview},
    {"views_should_lay_gpus_out_left_to_right_in_id_order",
     views_should_lay_gpus_out_left_to_right_in_id_order},
    {"render_should_write_png_and_svg_for_every_view",
     render_should_write_png_and_svg_for_every_view},
    {"render_should_refuse_a_big_full_picture_with_a_hint",
     render_should_refuse_a_big_full_picture_with_a_hint},
    {"emit_should_write_every_file_with_view_names",
     emit_should_write_every_file_with_view_names},
    {"emit_failure_should_leave_earlier_files_untouched",
     emit_failure_should_leave_earlier_files_untouched},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"atomic", NULL, NULL, NULL, NULL, atomic_tests},
    {"export", NULL, NULL, NULL, NULL, export_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
