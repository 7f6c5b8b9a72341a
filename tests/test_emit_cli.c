/* test_emit_cli.c - `plandag compile` outputs the way a user meets them: networkx and
 * igraph load the GraphML, a failing compile leaves earlier outputs alone, a picture
 * too large is refused with a hint. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

/* Python one-liner printing "NODES EDGES kind:count ..." sorted by kind. */
static const char *NX_SCRIPT =
    "import sys, collections, networkx as nx\n"
    "g = nx.read_graphml(sys.argv[1])\n"
    "k = collections.Counter(d['kind'] for _, d in g.nodes(data=True))\n"
    "print(g.number_of_nodes(), g.number_of_edges(), ' '.join('%s:%d' % i for i in "
    "sorted(k.items())))\n";
static const char *IG_SCRIPT =
    "import sys, collections, igraph\n"
    "g = igraph.Graph.Read_GraphML(sys.argv[1])\n"
    "k = collections.Counter(g.vs['kind'])\n"
    "print(g.vcount(), g.ecount(), ' '.join('%s:%d' % i for i in sorted(k.items())))\n";

static char *python_summary(const char *script, const char *path)
{
	const char *argv[] = {"/usr/bin/python3", "-c", script, path, NULL};
	pd_run_result r;
	int st = pd_run(&r, argv);
	if (st != 0)
		fprintf(stderr, "\npython failed: %s\n", r.err);
	char *out = st == 0 ? strdup(r.out) : NULL;
	pd_run_release(&r);
	return out;
}

/* The same summary from plandag's own reader. */
static char *plandag_summary(const char *path)
{
	pd_dag *dag = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	if (pd_graphml_read(path, &dag, &d) != PD_OK)
		return NULL;
	pd_dag_stats st;
	pd_dag_stats_compute(dag, &st);
	char *buf = malloc(4096);
	int n = snprintf(buf, 4096, "%u %u", dag->n_nodes, dag->n_edges);
	/* python sorts kind names as strings */
	const char *names[PD_N__COUNT];
	int k = 0;
	for (int i = 0; i < PD_N__COUNT; i++)
		if (st.by_kind[i])
			names[k++] = pd_node_kind_name((pd_node_kind)i);
	for (int i = 0; i < k; i++)
		for (int j = i + 1; j < k; j++)
			if (strcmp(names[j], names[i]) < 0) {
				const char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	for (int i = 0; i < k; i++)
		n += snprintf(buf + n, 4096 - (size_t)n, "%s%s:%llu", i ? " " : " ", names[i],
		              (unsigned long long)st.by_kind[pd_node_kind_from_name(names[i])]);
	snprintf(buf + n, 4096 - (size_t)n, "\n");
	pd_dag_destroy(dag);
	pd_diag_list_release(&d);
	return buf;
}

static void compile_graphml_should_load_in_networkx_and_igraph(void)
{
	const char *plans[] = {"tests/plans/valid/tiny.xml", "tests/plans/valid/tiny-pp.xml",
	                       "examples/mixtral-8x7b-tp2-ep8.xml"};
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		const char *dir = pd_test_tmpdir("cli");
		pd_run_result r;
		CU_ASSERT_EQUAL_FATAL(pd_run_plandag(&r, "compile", pd_test_path(plans[i]), "-o",
		                                     dir, "--emit", "graphml", "-q", NULL),
		                      0);
		pd_run_release(&r);
		DIR *d = opendir(dir);
		char path[4096] = "";
		for (struct dirent *e; d && (e = readdir(d));)
			if (strstr(e->d_name, ".graphml"))
				snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		closedir(d);
		char *mine = plandag_summary(path);
		char *nx = python_summary(NX_SCRIPT, path);
		char *ig = python_summary(IG_SCRIPT, path);
		CU_ASSERT_PTR_NOT_NULL_FATAL(mine);
		CU_ASSERT_PTR_NOT_NULL(nx);
		CU_ASSERT_PTR_NOT_NULL(ig);
		CU_ASSERT_TRUE(nx && strcmp(mine, nx) == 0);
		CU_ASSERT_TRUE(ig && strcmp(mine, ig) == 0);
		if (nx && ig && (strcmp(mine, nx) || strcmp(mine, ig)))
			fprintf(stderr, "\nplandag %snetworkx %sigraph %s", mine, nx, ig);
		free(mine);
		free(nx);
		free(ig);
	}
}

static void compile_should_write_the_default_files_and_print_them(void)
{
	const char *dir = pd_test_tmpdir("cli");
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile",
	                               pd_test_path("tests/plans/valid/tiny.xml"), "-o", dir,
	                               NULL),
	                0);
	const char *names[] = {"tiny.dot", "tiny.graphml", "tiny.png", "tiny.md"};
	for (size_t i = 0; i < 4; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		struct stat st;
		CU_ASSERT_TRUE(stat(path, &st) == 0 && st.st_size > 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, path));
	}
	pd_run_release(&r);
}

/* A failing compile must not touch what an earlier one wrote. */
static void failing_compile_should_leave_earlier_outputs_byte_for_byte(void)
{
	const char *dir = pd_test_tmpdir("cli");
	pd_run_result r;
	CU_ASSERT_EQUAL_FATAL(pd_run_plandag(&r, "compile",
	                                     pd_test_path("tests/plans/valid/tiny.xml"), "-o",
	                                     dir, "-q", NULL),
	                      0);
	pd_run_release(&r);
	char path[4096], blocker[4096], inside[4200];
	snprintf(path, sizeof(path), "%s/tiny.graphml", dir);
	size_t len0 = 0;
	char *before = pd_test_read_file(path, &len0);
	/* an invalid plan */
	char bad[4096];
	snprintf(bad, sizeof(bad), "%s/bad.xml", dir);
	char *plan = pd_test_read_file(pd_test_path("tests/plans/valid/tiny.xml"), NULL);
	char *at = strstr(plan, "tp=\"2\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	at[4] = '3'; /* tp 3 does not divide 4 heads */
	pd_test_write_file(bad, plan);
	free(plan);
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", bad, "-o", dir, "-q", NULL), 1);
	pd_run_release(&r);
	/* an output directory that cannot exist: below a regular file */
	snprintf(blocker, sizeof(blocker), "%s/plain", dir);
	pd_test_write_file(blocker, "x");
	snprintf(inside, sizeof(inside), "%s/out", blocker);
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile",
	                               pd_test_path("tests/plans/valid/tiny.xml"), "-o", inside,
	                               "-q", NULL),
	                3);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "[io]"));
	pd_run_release(&r);
	size_t len1 = 0;
	char *after = pd_test_read_file(path, &len1);
	CU_ASSERT_TRUE(before && after && len0 == len1 && memcmp(before, after, len0) == 0);
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0);
	free(before);
	free(after);
}

static void full_view_of_a_large_plan_should_be_refused_with_a_hint(void)
{
	const char *dir = pd_test_tmpdir("cli");
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile",
	                               pd_test_path("examples/dense-70b-pp2-tp8-sp.xml"), "-o",
	                               dir, "--view", "full", "-q", NULL),
	                2);
	/* refused before lowering, tagged like its exit code, naming views that fit this
	 * plan and never the one refused */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--view overview"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "[usage]"));
	CU_ASSERT_PTR_NULL(strstr(r.err, "--view full"));
	pd_run_release(&r);
	DIR *d = opendir(dir);
	int files = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		files += e->d_name[0] != '.';
	closedir(d);
	CU_ASSERT_EQUAL(files, 0);
	/* without --view the picture keeps its plain name and falls back to the overview:
	 * byte for byte what --view overview draws under its own name */
	const char *plan = pd_test_path("examples/dense-70b-pp2-tp8-sp.xml");
	CU_ASSERT_EQUAL(
	    pd_run_plandag(&r, "compile", plan, "-o", dir, "--emit", "png,dot", "-q", NULL), 0);
	pd_run_release(&r);
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", plan, "-o", dir, "--emit", "png,dot",
	                               "--view", "overview", "-q", NULL),
	                0);
	pd_run_release(&r);
	char path[4096], viewed[4096];
	size_t n1 = 0, n2 = 0;
	snprintf(path, sizeof(path), "%s/dense-70b-pp2-tp8-sp.png", dir);
	snprintf(viewed, sizeof(viewed), "%s/dense-70b-pp2-tp8-sp-overview.png", dir);
	char *a = pd_test_read_file(path, &n1), *b = pd_test_read_file(viewed, &n2);
	CU_ASSERT_TRUE(a && b && n1 == n2 && memcmp(a, b, n1) == 0);
	free(a);
	free(b);
	/* the DOT file follows an explicit view; without one it is the whole graph */
	snprintf(path, sizeof(path), "%s/dense-70b-pp2-tp8-sp.dot", dir);
	snprintf(viewed, sizeof(viewed), "%s/dense-70b-pp2-tp8-sp-overview.dot", dir);
	a = pd_test_read_file(path, &n1);
	b = pd_test_read_file(viewed, &n2);
	CU_ASSERT_TRUE(a && b && n1 > 10 * n2);
	CU_ASSERT_PTR_NOT_NULL(a && strstr(a, "tp_reduce_scatter") ? a : NULL);
	CU_ASSERT_PTR_NOT_NULL(b && strstr(b, "GPU 15") ? b : NULL);
	free(a);
	free(b);
}

static CU_TestInfo cli_tests[] = {
    {"compile_graphml_should_load_in_networkx_and_igraph",
     compile_graphml_should_load_in_networkx_and_igraph},
    {"compile_should_write_the_default_files_and_print_them",
     compile_should_write_the_default_files_and_print_them},
    {"failing_compile_should_leave_earlier_outputs_byte_for_byte",
     failing_compile_should_leave_earlier_outputs_byte_for_byte},
    {"full_view_of_a_large_plan_should_be_refused_with_a_hint",
     full_view_of_a_large_plan_should_be_refused_with_a_hint},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"emit_cli", NULL, NULL, NULL, NULL, cli_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
