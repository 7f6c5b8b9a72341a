/* test_hostile_graphml.c - `plandag verify` on crafted GraphML: graph keys in any order,
 * ids and counts at and beyond their bounds, huge tokens, NUL floods, FIFOs, directories,
 * DAGs without deployment context and millions of broken nodes.  Every input is
 * generated here into the build directory and goes through the real binary. */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* Generous bounds, as in test_hostile.c: scaled under valgrind; not a benchmark. */
#define SMALL_SECONDS 10.0
#define BIG_SECONDS 60.0

static const char *KEYS =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n"
    "<key id=\"kind\" for=\"node\" attr.name=\"kind\" attr.type=\"string\"/>\n"
    "<key id=\"gpu\" for=\"node\" attr.name=\"gpu\" attr.type=\"int\"/>\n"
    "<key id=\"replica\" for=\"node\" attr.name=\"replica\" attr.type=\"int\"/>\n"
    "<key id=\"stage\" for=\"node\" attr.name=\"stage\" attr.type=\"int\"/>\n"
    "<key id=\"mb\" for=\"node\" attr.name=\"micro_batch\" attr.type=\"int\"/>\n"
    "<key id=\"expert\" for=\"node\" attr.name=\"expert\" attr.type=\"int\"/>\n"
    "<key id=\"group\" for=\"node\" attr.name=\"group\" attr.type=\"string\"/>\n"
    "<key id=\"ek\" for=\"edge\" attr.name=\"kind\" attr.type=\"string\"/>\n"
    "<key id=\"n_gpus\" for=\"graph\" attr.name=\"n_gpus\" attr.type=\"int\"/>\n"
    "<key id=\"cap\" for=\"graph\" attr.name=\"gpu_capacity\" attr.type=\"double\"/>\n"
    "<key id=\"n_replicas\" for=\"graph\" attr.name=\"n_replicas\" attr.type=\"int\"/>\n"
    "<key id=\"gpus\" for=\"graph\" attr.name=\"gpus\" attr.type=\"string\"/>\n"
    "<key id=\"stages\" for=\"graph\" attr.name=\"stages\" attr.type=\"string\"/>\n"
    "<graph id=\"G\" edgedefault=\"directed\">\n";
static const char *TAIL = "</graph>\n</graphml>\n";

/* One node on GPU 0 of replica 0, stage 0. */
static const char *NODE0 = "<node id=\"a\"><data key=\"kind\">embed</data><data "
                           "key=\"gpu\">0</data><data key=\"replica\">0</data><data "
                           "key=\"stage\">0</data></node>\n";

static double scaled(double bound)
{
	return pd_test_wrapped() ? bound * 20 : bound; /* valgrind: 20-50 times slower */
}

/* A fresh file name in the build directory. */
static const char *gen_path(const char *name)
{
	static char path[8][4200];
	static int next;
	char *p = path[next++ % 8];
	snprintf(p, sizeof(path[0]), "%s/%s", pd_test_tmpdir("hostile-graphml"), name);
	return p;
}

/* KEYS + graph data + body + TAIL. */
static const char *gen(const char *name, const char *gdata, const char *body)
{
	const char *path = gen_path(name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	fprintf(f, "%s%s%s%s", KEYS, gdata, body, TAIL);
	return fclose(f) == 0 ? path : NULL;
}

static void report_run(const char *file, const pd_run_result *r)
{
	fprintf(stderr, "\nverify %s: exit %d in %.2f s\nstdout: %.400s\nstderr: %.1200s\n",
	        file, r->status, r->seconds, r->out ? r->out : "", r->err ? r->err : "");
}

/* Every line of stderr is a diagnostic of the file or its fix: no raw libxml2 line. */
static bool only_diagnostics(const char *err, const char *file)
{
	size_t n = strlen(file);
	for (const char *l = err; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
		if (strncmp(l, file, n) != 0 && strncmp(l, "    fix: ", 9) != 0)
			return false;
	return true;
}

static size_t count_of(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* Runs `verify file`; checks exit status, time bound, clean stderr and that `needle`
 * (may be NULL) is in stderr. */
static void expect_verify(const char *file, int status, double bound, const char *needle)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(file);
	pd_run_result r;
	pd_run_plandag(&r, "verify", file, NULL);
	bool good = r.status == status && r.seconds < scaled(bound) && r.err &&
	            only_diagnostics(r.err, file) && (!needle || strstr(r.err, needle));
	if (!good)
		report_run(file, &r);
	CU_ASSERT_EQUAL(r.status, status);
	CU_ASSERT_TRUE(r.seconds < scaled(bound));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.err);
	CU_ASSERT_TRUE(only_diagnostics(r.err, file));
	if (needle)
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, needle));
	pd_run_release(&r);
}

/* ---- item 1: graph data in any order ---- */

static void verify_should_refuse_gpus_before_a_larger_n_gpus(void)
{
	const char *orders[] = {
	    "<data key=\"gpus\">0/0:1</data><data key=\"n_gpus\">100000</data>"
	    "<data key=\"cap\">0.5</data>",
	    "<data key=\"n_gpus\">100000</data><data key=\"cap\">0.5</data>"
	    "<data key=\"gpus\">0/0:1</data>",
	    "<data key=\"gpus\">0/0:1;0/0:1</data><data key=\"n_gpus\">1</data>"};
	for (size_t i = 0; i < 3; i++)
		expect_verify(gen("n-gpus-mismatch.graphml", orders[i], NODE0), 1, SMALL_SECONDS,
		              "n_gpus");
}

static void verify_should_accept_valid_graph_data_in_every_order(void)
{
	const char *items[] = {
	    "<data key=\"n_gpus\">1</data>", "<data key=\"gpus\">0/0:100</data>",
	    "<data key=\"n_replicas\">1</data>", "<data key=\"stages\">0/0:</data>"};
	int perm[4] = {0, 1, 2, 3}, runs = 0;
	for (int p = 0; p < 24; p++) { /* the p-th permutation by factorial digits */
		int avail[4] = {0, 1, 2, 3}, n = 4, k = p;
		char gdata[512] = "";
		for (int i = 0; i < 4; i++, n--) {
			int f = i == 0 ? 6 : i == 1 ? 2 : 1, j = k / f;
			k %= f;
			perm[i] = avail[j];
			memmove(avail + j, avail + j + 1, (size_t)(n - j - 1) * sizeof(int));
			strcat(gdata, items[perm[i]]);
		}
		expect_verify(gen("order.graphml", gdata, NODE0), 0, SMALL_SECONDS, NULL);
		runs++;
	}
	CU_ASSERT_EQUAL(runs, 24);
}

/* ---- item 2: counts bounded by the data present, ids by the schema ---- */

static void verify_should_bound_replicas_and_stages_by_the_data(void)
{
	expect_verify(gen("replicas-max.graphml",
	                  "<data key=\"n_replicas\">2147483647</data>"
	                  "<data key=\"stages\">0/0:</data>",
	                  NODE0),
	              1, SMALL_SECONDS, "n_replicas");
	expect_verify(gen("replicas-over-gpus.graphml",
	                  "<data key=\"n_gpus\">1</data><data key=\"n_replicas\">2</data>",
	                  NODE0),
	              1, SMALL_SECONDS, "n_replicas");
	/* a sparse stage id costs one record, not a table of 40000 x 40000 */
	expect_verify(
	    gen("stage-sparse.graphml", "<data key=\"stages\">40000/40000:</data>", NODE0), 0,
	    SMALL_SECONDS, NULL);
	expect_verify(gen("stage-sparse-2.graphml",
	                  "<data key=\"stages\">999999/0:;0/999999:</data>", NODE0),
	              0, SMALL_SECONDS, NULL);
	expect_verify(
	    gen("stage-int-max.graphml", "<data key=\"stages\">0/2147483647:</data>", NODE0), 1,
	    SMALL_SECONDS, "stages");
	expect_verify(gen("n-gpus-over.graphml", "<data key=\"n_gpus\">1000001</data>", NODE0),
	              1, SMALL_SECONDS, "n_gpus");
}

/* ---- item 3: node ids at INT32_MAX ---- */

static void verify_should_refuse_node_ids_beyond_the_schema_bounds(void)
{
	const char *fields[] = {"mb", "gpu", "replica", "stage", "expert"};
	for (size_t i = 0; i < 5; i++) {
		char body[512];
		snprintf(body, sizeof(body),
		         "<node id=\"a\"><data key=\"kind\">expert</data><data "
		         "key=\"%s\">2147483647</data></node>\n",
		         fields[i]);
		expect_verify(gen("id-max.graphml", "", body), 1, SMALL_SECONDS,
		              i == 0 ? "micro_batch" : fields[i]);
	}
}

/* ---- item 8: huge tokens and NUL floods, without XML_PARSE_HUGE ---- */

static const char *gen_big_token(const char *name, bool in_attribute)
{
	const char *path = gen_path(name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	static char chunk[1 << 20];
	memset(chunk, 'A', sizeof(chunk));
	fputs(KEYS, f);
	fputs(in_attribute ? "<node id=\"" : "<node id=\"a\"><data key=\"kind\">", f);
	for (int i = 0; i < 11; i++)
		fwrite(chunk, 1, sizeof(chunk), f);
	fputs(in_attribute ? "\"/>" : "</data></node>", f);
	fputs(TAIL, f);
	return fclose(f) == 0 ? path : NULL;
}

static void verify_should_refuse_an_11mb_token_quickly(void)
{
	for (int attribute = 0; attribute < 2; attribute++) {
		const char *path = gen_big_token("big-token.graphml", attribute);
		expect_verify(path, 1, SMALL_SECONDS, "token too long");
		unlink(path);
	}
}

static void verify_should_stop_at_the_first_nul_of_2gb(void)
{
	const char *path = gen_path("nuls.graphml");
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "%s<node id=\"a\">", KEYS);
	CU_ASSERT_EQUAL(fclose(f), 0);
	/* a sparse file: 2 GB of NULs that take no disk space */
	CU_ASSERT_EQUAL_FATAL(truncate(path, 2147483647L), 0);
	expect_verify(path, 1, SMALL_SECONDS, "0x0");
	unlink(path);
}

/* ---- item 9: a FIFO is opened and read once ---- */

static void verify_should_read_a_fifo_once(void)
{
	const char *src = gen("fifo-src.graphml", "", NODE0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(src);
	char *text = pd_test_read_file(src, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	const char *fifo = gen_path("dag.fifo");
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
	pid_t writer = fork();
	if (writer == 0) { /* writes the DAG once and closes, as a shell pipe would */
		alarm((unsigned)scaled(SMALL_SECONDS) * 2);
		int fd = open(fifo, O_WRONLY);
		size_t n = strlen(text);
		_exit(fd >= 0 && write(fd, text, n) == (ssize_t)n ? 0 : 1);
	}
	CU_ASSERT_TRUE_FATAL(writer > 0);
	expect_verify(fifo, 0, SMALL_SECONDS, NULL);
	int st = 0;
	kill(writer, SIGKILL); /* no-op when it finished */
	waitpid(writer, &st, 0);
	CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(text);
	unlink(fifo);
}

/* ---- item 11: no deployment context ---- */

/* embed -> pp_send ~> pp_recv, two tp_allreduce members of one hub, an expert node. */
static const char *NO_CONTEXT_BODY =
    "<node id=\"e\"><data key=\"kind\">embed</data><data key=\"gpu\">0</data></node>\n"
    "<node id=\"s\"><data key=\"kind\">pp_send</data><data key=\"gpu\">0</data></node>\n"
    "<node id=\"r\"><data key=\"kind\">pp_recv</data><data key=\"gpu\">1</data></node>\n"
    "<node id=\"m0\"><data key=\"kind\">tp_allreduce</data><data "
    "key=\"gpu\">0</data></node>\n"
    "<node id=\"m1\"><data key=\"kind\">tp_allreduce</data><data "
    "key=\"gpu\">1</data></node>\n"
    "<node id=\"h\"><data key=\"kind\">collective</data><data "
    "key=\"group\">0,1</data></node>\n"
    "<node id=\"x\"><data key=\"kind\">expert</data><data key=\"gpu\">7</data>"
    "<data key=\"expert\">3</data></node>\n"
    "<edge source=\"e\" target=\"s\"/>\n"
    "<edge source=\"s\" target=\"r\"><data key=\"ek\">comm</data></edge>\n"
    "<edge source=\"r\" target=\"m1\"/>\n"
    "<edge source=\"m0\" target=\"h\"><data key=\"ek\">collective</data></edge>\n"
    "<edge source=\"m1\" target=\"h\"><data key=\"ek\">collective</data></edge>\n";

static void verify_without_context_should_skip_only_the_checks_that_need_it(void)
{
	const char *file = gen("no-context.graphml", "", NO_CONTEXT_BODY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(file);
	pd_run_result r;
	pd_run_plandag(&r, "verify", file, NULL);
	if (r.status != 0)
		report_run(file, &r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.err);
	CU_ASSERT_EQUAL(count_of(r.err, "skipped"), 1);
	CU_ASSERT_PTR_NULL(strstr(r.err, "does not exist"));
	CU_ASSERT_PTR_NULL(strstr(r.err, "error"));
	pd_run_release(&r);
}

static void verify_without_context_should_still_check_pairs_groups_and_cycles(void)
{
	char body[4096];
	/* the comm edge removed: pp_send and pp_recv lose their partner */
	snprintf(body, sizeof(body), "%s", NO_CONTEXT_BODY);
	char *comm = strstr(body, "<edge source=\"s\" target=\"r\">");
	CU_ASSERT_PTR_NOT_NULL_FATAL(comm);
	memset(comm, ' ',
	       strlen("<edge source=\"s\" target=\"r\"><data key=\"ek\">comm</data></edge>"));
	expect_verify(gen("no-context-pp.graphml", "", body), 1, SMALL_SECONDS, "pp_send");
	/* one member too few for its group */
	snprintf(body, sizeof(body), "%s", NO_CONTEXT_BODY);
	char *group = strstr(body, "0,1<");
	CU_ASSERT_PTR_NOT_NULL_FATAL(group);
	memcpy(group, "0,2", 3);
	expect_verify(gen("no-context-group.graphml", "", body), 1, SMALL_SECONDS, "members");
	/* a cycle */
	snprintf(body, sizeof(body), "%s<edge source=\"r\" target=\"e\"/>\n", NO_CONTEXT_BODY);
	expect_verify(gen("no-context-cycle.graphml", "", body), 1, SMALL_SECONDS, "cycle");
}

/* ---- item 12: millions of broken nodes cost counts, not messages ---- */

static const char *gen_kindless(long n)
{
	const char *path = gen_path("kindless.graphml");
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	fputs(KEYS, f);
	for (long i = 0; i < n; i++)
		fprintf(f, "<node id=\"n%ld\"/>\n", i);
	fputs(TAIL, f);
	return fclose(f) == 0 ? path : NULL;
}

static void expect_capped(const char *file, double bound)
{
	pd_run_result r;
	pd_run_plandag(&r, "verify", file, NULL);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_TRUE(r.seconds < scaled(bound));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.err);
	/* PD_DIAG_PER_RULE_MAX messages, then one note with the count of the rest */
	CU_ASSERT_TRUE(count_of(r.err, ": error: ") <= PD_DIAG_PER_RULE_MAX);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "more diagnostic(s)"));
	if (r.status != 1 || count_of(r.err, ": error: ") > PD_DIAG_PER_RULE_MAX)
		report_run(file, &r);
	pd_run_release(&r);
}

static void verify_should_cap_the_messages_of_5000_kindless_nodes(void)
{
	const char *path = gen_kindless(5000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	expect_capped(path, SMALL_SECONDS);
	unlink(path);
}

static void verify_should_refuse_5m_kindless_nodes_in_bounded_time(void)
{
	const char *path = gen_kindless(5000000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	expect_capped(path, BIG_SECONDS);
	unlink(path);
}

/* Placement findings on many nodes: counted once the rule is full. */
static void verify_should_cap_placement_findings(void)
{
	size_t n = 20000, cap = n * 160 + 1;
	char *body = malloc(cap), *p = body;
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	for (size_t i = 0; i < n; i++)
		p += snprintf(p, cap - (size_t)(p - body),
		              "<node id=\"n%zu\"><data key=\"kind\">embed</data><data "
		              "key=\"gpu\">5</data></node>\n",
		              i);
	const char *path = gen("bad-gpus.graphml", "<data key=\"n_gpus\">1</data>", body);
	free(body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	expect_capped(path, SMALL_SECONDS);
}

/* ---- item 13: I/O errors ---- */

static void verify_should_report_io_errors_with_strerror_and_exit_3(void)
{
	const char *dir = pd_test_tmpdir("hostile-graphml-dir");
	expect_verify(dir, 3, SMALL_SECONDS, "Is a directory");
	expect_verify(gen_path("missing.graphml"), 3, SMALL_SECONDS, "No such file");
	pd_run_result r;
	pd_run_plandag(&r, "verify", dir, NULL);
	CU_ASSERT_PTR_NULL(strstr(r.err, "I/O error"));
	pd_run_release(&r);
}

/* ---- limits on keys ---- */

static void verify_should_refuse_thousands_of_keys(void)
{
	size_t cap = 300 * 80 + 1;
	char *keys = malloc(cap), *p = keys;
	CU_ASSERT_PTR_NOT_NULL_FATAL(keys);
	for (int i = 0; i < 300; i++)
		p += snprintf(p, cap - (size_t)(p - keys), "<key id=\"x%d\" for=\"node\"/>\n", i);
	const char *path = gen_path("many-keys.graphml");
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f,
	        "<?xml version=\"1.0\"?>\n<graphml "
	        "xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n%s%s",
	        keys, "<graph edgedefault=\"directed\"/></graphml>\n");
	free(keys);
	CU_ASSERT_EQUAL(fclose(f), 0);
	expect_verify(path, 3, SMALL_SECONDS, "<key> elements");
}

static CU_TestInfo tests[] = {
    {"verify_should_refuse_gpus_before_a_larger_n_gpus",
     verify_should_refuse_gpus_before_a_larger_n_gpus},
    {"verify_should_accept_valid_graph_data_in_every_order",
     verify_should_accept_valid_graph_data_in_every_order},
    {"verify_should_bound_replicas_and_stages_by_the_data",
     verify_should_bound_replicas_and_stages_by_the_data},
    {"verify_should_refuse_node_ids_beyond_the_schema_bounds",
     verify_should_refuse_node_ids_beyond_the_schema_bounds},
    {"verify_should_refuse_an_11mb_token_quickly",
     verify_should_refuse_an_11mb_token_quickly},
    {"verify_should_stop_at_the_first_nul_of_2gb",
     verify_should_stop_at_the_first_nul_of_2gb},
    {"verify_should_read_a_fifo_once", verify_should_read_a_fifo_once},
    {"verify_without_context_should_skip_only_the_checks_that_need_it",
     verify_without_context_should_skip_only_the_checks_that_need_it},
    {"verify_without_context_should_still_check_pairs_groups_and_cycles",
     verify_without_context_should_still_check_pairs_groups_and_cycles},
    {"verify_should_cap_the_messages_of_5000_kindless_nodes",
     verify_should_cap_the_messages_of_5000_kindless_nodes},
    {"verify_should_refuse_5m_kindless_nodes_in_bounded_time",
     verify_should_refuse_5m_kindless_nodes_in_bounded_time},
    {"verify_should_cap_placement_findings", verify_should_cap_placement_findings},
    {"verify_should_report_io_errors_with_strerror_and_exit_3",
     verify_should_report_io_errors_with_strerror_and_exit_3},
    {"verify_should_refuse_thousands_of_keys", verify_should_refuse_thousands_of_keys},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"hostile_graphml", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

static const pd_test_skip skips[] = {
    {"verify_should_refuse_5m_kindless_nodes_in_bounded_time", pd_test_wrapped,
     "5 M nodes take minutes under valgrind (the 5000-node test runs)"},
    {NULL, NULL, NULL},
};

PD_TEST_MAIN_SKIPPING(suites, skips)
