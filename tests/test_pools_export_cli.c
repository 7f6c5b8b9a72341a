/* test_pools_export_cli.c - every export of a pooled plan through the real binary
 * (docs/pools.md, "How each export shows the pools"): `compile --emit
 * dot,graphml,png,trace,timeline,chakra,html` on the Mixtral pooled pair (the DeepSeek
 * example's 569 264 nodes would take minutes under valgrind and ASan: its DAG is tested
 * through the library in test_pools_dag.c), `verify` of the
 * GraphML and of the Chakra set, the pool clusters, the `phase` key on every node, pool
 * names in the trace and the timeline; and GraphML files broken by hand in the hand-over
 * (an unpaired kv_send, a kv_recv of other bytes, a node of the wrong phase) refused by
 * `verify`. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define ALL "dot,graphml,png,trace,timeline,chakra,html"

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0, len = strlen(needle);
	for (const char *p = text; p && (p = strstr(p, needle)) != NULL; p += len)
		n++;
	return n;
}

static const char *out_path(const char *dir, const char *name, const char *suffix)
{
	char file[160];
	snprintf(file, sizeof(file), "%s%s", name, suffix);
	return pd_test_join(dir, file);
}

static char *read_out(const char *dir, const char *name, const char *suffix)
{
	char *text = pd_test_read_file(out_path(dir, name, suffix), NULL);
	CU_ASSERT_PTR_NOT_NULL(text);
	return text;
}

/* plandag verify PATH: exit status `code`, and `needle` in its output (may be NULL). */
static void expect_verify(const char *path, int code, const char *needle)
{
	pd_run_result r;
	int st = pd_run_plandag(&r, "verify", path, NULL);
	if (st != code || (needle && !strstr(r.err, needle) && !strstr(r.out, needle)))
		fprintf(stderr, "verify %s: exit %d\n%s%s", path, st, r.out, r.err);
	CU_ASSERT_EQUAL(st, code);
	if (needle)
		CU_ASSERT_TRUE(strstr(r.err, needle) || strstr(r.out, needle));
	pd_run_release(&r);
}

/* Compiles examples/NAME.xml with every export into a fresh directory (returned). */
static const char *compile_all(const char *name)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "examples/%s.xml", name);
	const char *dir = pd_test_tmpdir("pools-export");
	pd_run_result r;
	int st = pd_run_plandag(&r, "compile", pd_test_path(rel), "-o", dir, "--emit", ALL,
	                        "-q", NULL);
	if (st != 0)
		fprintf(stderr, "%s", r.err);
	pd_run_release(&r);
	CU_ASSERT_EQUAL_FATAL(st, 0);
	return dir;
}

static void graphml_should_give_every_node_its_phase(const char *dir, const char *name)
{
	char *g = read_out(dir, name, ".graphml");
	size_t nodes = count_of(g, "<node id=");
	CU_ASSERT_TRUE(nodes > 0);
	CU_ASSERT_EQUAL(count_of(g, "<data key=\"phase\">prefill</data>") +
	                    count_of(g, "<data key=\"phase\">decode</data>"),
	                nodes);
	CU_ASSERT_TRUE(count_of(g, "<data key=\"phase\">prefill</data>") > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(g, "<data key=\"g_pools\">prefill:0-"));
	CU_ASSERT_TRUE(count_of(g, "<data key=\"kind\">kv_send</data>") > 0);
	CU_ASSERT_EQUAL(count_of(g, "<data key=\"kind\">kv_send</data>"),
	                count_of(g, "<data key=\"kind\">kv_recv</data>"));
	free(g);
}

static void dot_trace_and_timeline_should_name_the_pools(const char *dir, const char *name)
{
	char *dot = read_out(dir, name, ".dot");
	CU_ASSERT_PTR_NOT_NULL(strstr(dot, "cluster_pool_prefill"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dot, "cluster_pool_decode"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dot, "\"prefill pool: replica 0\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(dot, "\"decode pool: replica 1\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(dot, "KV hand-over"));
	free(dot);
	char *tr = read_out(dir, name, ".trace.json");
	CU_ASSERT_PTR_NOT_NULL(strstr(tr, "(prefill pool, replica 0, stage 0)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(tr, "(decode pool, replica 1, stage 0)"));
	CU_ASSERT_TRUE(count_of(tr, "\"cat\":\"kv\"") > 0);
	free(tr);
	char *svg = read_out(dir, name, "-timeline.svg");
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, "prefill pool (replica 0)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, "decode pool (replica 1)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, "kv_send"));
	free(svg);
	char *html = read_out(dir, name, ".html");
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "kv_send"));
	free(html);
	size_t len = 0;
	char *png = pd_test_read_file(out_path(dir, name, ".png"), &len);
	CU_ASSERT_TRUE(png && len > 8 && memcmp(png, "\x89PNG", 4) == 0);
	free(png);
}

static void check_example(const char *name)
{
	const char *dir = compile_all(name);
	graphml_should_give_every_node_its_phase(dir, name);
	dot_trace_and_timeline_should_name_the_pools(dir, name);
	expect_verify(out_path(dir, name, ".graphml"), 0, "passes");
	expect_verify(out_path(dir, name, ".chakra"), 0, "passes");
}

static void mixtral_pair_should_export_everything_and_verify(void)
{
	check_example("mixtral-pd-pair");
}

/* The GraphML of the Mixtral pair with its first line holding `line_has` edited: its
 * first `from` replaced by `to`; written next to the original as NAME.graphml. */
static const char *edited(const char *dir, const char *line_has, const char *from,
                          const char *to, const char *name)
{
	char *g = read_out(dir, "mixtral-pd-pair", ".graphml");
	char *at = g ? strstr(g, line_has) : NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	while (at > g && at[-1] != '\n')
		at--;
	char *end = strchr(at, '\n'), *hit = strstr(at, from);
	CU_ASSERT_TRUE_FATAL(hit && end && hit < end);
	size_t n = strlen(g) + strlen(to) + 1;
	char *out = malloc(n);
	snprintf(out, n, "%.*s%s%s", (int)(hit - g), g, to, hit + strlen(from));
	char file[64];
	snprintf(file, sizeof(file), "%s.graphml", name);
	const char *path = pd_test_join(dir, file);
	CU_ASSERT_EQUAL_FATAL(pd_test_write_file(path, out), 0);
	free(out);
	free(g);
	return path;
}

static void verify_should_refuse_a_broken_hand_over(void)
{
	const char *dir = compile_all("mixtral-pd-pair");
	/* the first kv_recv turned into a pp_recv: its kv_send is paired with no kv_recv */
	expect_verify(
	    edited(dir, "<data key=\"kind\">kv_recv</data>", "kv_recv", "pp_recv", "unpaired"),
	    1, "is not paired with exactly one kv_recv [placement]");
	/* the first kv_recv receives a byte less than its kv_send sends */
	const char *p = edited(dir, "<data key=\"kind\">kv_recv</data>", "<data key=\"bytes\">",
	                       "<data key=\"bytes\">1", "bytes");
	expect_verify(p, 1, "but kv_recv");
	/* a kv_recv of another layer than its send */
	expect_verify(edited(dir, "<data key=\"kind\">kv_recv</data>", "<data key=\"layer\">0<",
	                     "<data key=\"layer\">1<", "layer"),
	              1, "same bytes, same layer");
	/* a prefill node claiming the decode phase */
	expect_verify(edited(dir, "<data key=\"kind\">qkv</data>", "phase\">prefill",
	                     "phase\">decode", "phase"),
	              1, "has phase decode but gpu 0 runs the prefill step");
	/* a malformed pools record is a schema error */
	expect_verify(
	    edited(dir, "<data key=\"g_pools\">", "prefill:0-0", "prefill:0-x", "pools"), 1,
	    "[schema]");
}

static CU_TestInfo tests[] = {
    {"mixtral_pair_should_export_everything_and_verify",
     mixtral_pair_should_export_everything_and_verify},
    {"verify_should_refuse_a_broken_hand_over", verify_should_refuse_a_broken_hand_over},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"pools_export_cli", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
