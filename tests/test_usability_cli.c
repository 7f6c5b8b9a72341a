/* test_usability_cli.c - the binary as a new user meets it: global options anywhere,
 * '-' for standard input and output, "did you mean", the other kind of file, messages
 * whose numbers, units, paths and fixes fit the plan, I/O errors with their reason,
 * progress.  Each case is a defect that was reported and fixed. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "testutil.h"

#define EXAMPLE pd_test_path("examples/moe-10b-ep16.xml")
#define TWO_REPLICAS pd_test_path("tests/plans/usability/two-replicas-too-big.xml")

static void show(const pd_run_result *r)
{
	fprintf(stderr, "\nexit %d\nstdout:\n%.3000s\nstderr:\n%.3000s\n", r->status,
	        r->out ? r->out : "", r->err ? r->err : "");
}

static void expect(pd_run_result *r, int status, const char *out, const char *err)
{
	int ok = r->status == status && (!out || strstr(r->out, out)) &&
	         (!err || strstr(r->err, err));
	if (!ok)
		show(r);
	CU_ASSERT_EQUAL(r->status, status);
	if (out)
		CU_ASSERT_PTR_NOT_NULL(strstr(r->out, out));
	if (err)
		CU_ASSERT_PTR_NOT_NULL(strstr(r->err, err));
}

/* Runs a shell command line in which every "PLANDAG" is the binary (under
 * PD_TEST_WRAPPER when set), so that redirections can be tested. */
static int run_sh(pd_run_result *r, const char *fmt, ...)
{
	char line[8192], cmd[9000] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	const char *w = getenv("PD_TEST_WRAPPER");
	char bin[4200];
	snprintf(bin, sizeof(bin), "%s%s%s", w ? w : "", w ? " " : "", PD_BINARY);
	size_t used = 0;
	for (const char *p = line; *p && used < sizeof(cmd) - 1;) {
		const char *at = strstr(p, "PLANDAG");
		int n = at ? (int)(at - p) : (int)strlen(p);
		used +=
		    (size_t)snprintf(cmd + used, sizeof(cmd) - used, "%.*s%s", n, p, at ? bin : "");
		if (!at)
			break;
		p = at + 7;
	}
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	return pd_run(r, argv);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The example with `from` replaced by `to`, written into a fresh directory. */
static const char *variant(const char *src, const char *from, const char *to,
                           const char *name)
{
	static char paths[4][4200];
	static int next;
	char *path = paths[next++ % 4];
	char *text = pd_test_read_file(src, NULL);
	char *at = text ? strstr(text, from) : NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	size_t head = (size_t)(at - text), nf = strlen(from), nt = strlen(to);
	char *out = malloc(strlen(text) + nt + 1);
	memcpy(out, text, head);
	memcpy(out + head, to, nt);
	strcpy(out + head + nt, at + nf);
	snprintf(path, sizeof(paths[0]), "%s/%s", pd_test_tmpdir("usability"), name);
	pd_test_write_file(path, out);
	free(out);
	free(text);
	return path;
}

static void global_options_should_be_accepted_before_the_command(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "-q", "check", EXAMPLE, NULL);
	expect(&r, 0, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	pd_run_release(&r);
	pd_run_plandag(&r, "--no-progress", "-q", "report", "--format", "json", EXAMPLE, NULL);
	expect(&r, 0, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	pd_run_release(&r);
	pd_run_plandag(&r, "--format", "json", "check", EXAMPLE, NULL);
	expect(&r, 2, NULL, "--format does not apply to 'check'");
	pd_run_release(&r);
	pd_run_plandag(&r, "check", "--quiet=1", EXAMPLE, NULL);
	expect(&r, 2, NULL, "option takes no value: --quiet=1");
	pd_run_release(&r);
	pd_run_plandag(&r, "help", "compile", NULL);
	expect(&r, 0, "usage: plandag compile", NULL);
	pd_run_release(&r);
}

static void a_dash_should_read_the_plan_from_standard_input(void)
{
	pd_run_result r;
	run_sh(&r, "PLANDAG check - < '%s'", EXAMPLE);
	expect(&r, 0, "<stdin>: valid", NULL);
	pd_run_release(&r);
	const char *bad =
	    variant(EXAMPLE, "<strategy gpus=\"16\">", "<strategy gpus=\"64\">", "bad.xml");
	run_sh(&r, "PLANDAG report --format json - < '%s'", bad);
	expect(&r, 1, "\"multiplicative-gpu-count\"", NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"<stdin>\""));
	pd_run_release(&r);
	run_sh(&r, "PLANDAG check - < '%s'", bad);
	expect(&r, 1, NULL, "<stdin>:");
	pd_run_release(&r);
}

static void dash_o_dash_should_write_one_file_to_standard_output(void)
{
	pd_run_result r;
	run_sh(&r, "PLANDAG compile --emit graphml -o - '%s' | PLANDAG verify -", EXAMPLE);
	expect(&r, 0, "<stdin>: DAG passes acyclic and placement (2384 nodes", NULL);
	pd_run_release(&r);
	pd_run_plandag(&r, "compile", "--emit", "dot", "-o", "-", EXAMPLE, NULL);
	expect(&r, 0, "digraph", NULL);
	CU_ASSERT_PTR_NULL(strstr(r.out, "wrote"));
	pd_run_release(&r);
	pd_run_plandag(&r, "compile", "-o", "-", EXAMPLE, NULL);
	expect(&r, 2, NULL, "exactly one format");
	CU_ASSERT_STRING_EQUAL(r.out, "");
	pd_run_release(&r);
}

static void verify_on_a_plan_should_say_it_is_a_plan_once(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "verify", EXAMPLE, NULL);
	expect(&r, 1, NULL, "this is a deployment plan");
	CU_ASSERT_EQUAL(count(r.err, "error:"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "plandag check"));
	pd_run_release(&r);
}

static void check_on_graphml_should_say_it_is_a_dag(void)
{
	const char *dir = pd_test_tmpdir("usability-graphml");
	pd_run_result r;
	pd_run_plandag(&r, "compile", "-q", "--emit", "graphml", "-o", dir, EXAMPLE, NULL);
	expect(&r, 0, NULL, NULL);
	pd_run_release(&r);
	char path[4200];
	snprintf(path, sizeof(path), "%s/moe-10b-ep16.graphml", dir);
	pd_run_plandag(&r, "check", path, NULL);
	expect(&r, 1, NULL, "this is a GraphML DAG");
	CU_ASSERT_EQUAL(count(r.err, "error:"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "plandag verify"));
	CU_ASSERT_PTR_NULL(strstr(r.err, "wrap the plan"));
	pd_run_release(&r);
}

static void misspelt_names_should_get_a_did_you_mean(void)
{
	pd_run_result r;
	const char *kv = variant(EXAMPLE, "kv-heads=", "kv_heads=", "kv.xml");
	pd_run_plandag(&r, "check", kv, NULL);
	expect(&r, 1, NULL, "no attribute kv_heads");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "did you mean kv-heads?"));
	pd_run_release(&r);
	const char *meo = variant(EXAMPLE, "<moe ep=\"16\"/>", "<meo ep=\"16\"/>", "meo.xml");
	pd_run_plandag(&r, "check", meo, NULL);
	expect(&r, 1, NULL, "did you mean <moe>?");
	pd_run_release(&r);
	pd_run_plandag(&r, "chek", EXAMPLE, NULL);
	expect(&r, 2, NULL, "unknown command: chek (did you mean 'check'?)");
	pd_run_release(&r);
	pd_run_plandag(&r, "compile", "--emit", "dot,pgn", EXAMPLE, NULL);
	expect(&r, 2, NULL, "unknown word: pgn (did you mean 'png'?)");
	pd_run_release(&r);
	pd_run_plandag(&r, "check", "--quite", EXAMPLE, NULL);
	expect(&r, 2, NULL, "(did you mean '--quiet'?)");
	pd_run_release(&r);
	pd_run_plandag(&r, "compile", "--view", "overveiw", EXAMPLE, NULL);
	expect(&r, 2, NULL, "overveiw (did you mean 'overview'?)");
	pd_run_release(&r);
	pd_run_plandag(&r, "compile", "--view", "stag=1", EXAMPLE, NULL);
	expect(&r, 2, NULL, "stag=1 (did you mean 'stage=N'?)");
	pd_run_release(&r);
}

/* The GPU number after "impact: GPU " following the diagnostic at `line`. */
static long impact_gpu(const char *report, const char *line)
{
	const char *d = strstr(report, line);
	const char *imp = d ? strstr(d, "impact: GPU ") : NULL;
	return imp ? strtol(imp + 12, NULL, 10) : -1;
}

static void memory_impact_should_name_a_gpu_of_the_failing_stage(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "report", TWO_REPLICAS, NULL);
	expect(&r, 1, "stage GPUs 16-31,48-63 need", NULL);
	long first = impact_gpu(r.out, "[memory-capacity]` line 14:");
	long second = impact_gpu(r.out, "[memory-capacity]` line 18:");
	CU_ASSERT_TRUE(first >= 0 && first <= 15);
	CU_ASSERT_TRUE((second >= 16 && second <= 31) || (second >= 48 && second <= 63));
	if (!(second >= 16 && second <= 31))
		show(&r);
	pd_run_release(&r);
}

static void memory_rows_outside_the_cluster_should_say_so(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "report", TWO_REPLICAS, NULL);
	expect(&r, 1, "| GPUs 32-47 (identical) (not in the cluster) |", NULL);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(r.out, "| GPUs 48-63 (identical) (not in the cluster) |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "| GPUs 16-31 (identical) | 1 |"));
	pd_run_release(&r);
	pd_run_plandag(&r, "report", "--format", "json", TWO_REPLICAS, NULL);
	expect(&r, 1, "\"in_cluster\"", NULL);
	cJSON *doc = r.out ? cJSON_Parse(r.out) : NULL;
	cJSON *rows = cJSON_GetObjectItemCaseSensitive(doc, "memory");
	int outside = 0, inside = 0;
	for (cJSON *m = rows ? rows->child : NULL; m; m = m->next) {
		int gpu = cJSON_GetObjectItemCaseSensitive(m, "gpu")->valueint;
		int in = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "in_cluster"));
		CU_ASSERT_EQUAL(in, gpu < 32); /* the cluster has GPUs 0-31 */
		outside += !in;
		inside += in;
	}
	CU_ASSERT_EQUAL(outside, 32);
	CU_ASSERT_EQUAL(inside, 32);
	cJSON_Delete(doc);
	pd_run_release(&r);
}

static void memory_messages_should_use_one_unit_family(void)
{
	pd_run_result r;
	const char *plan = pd_test_path("tests/plans/invalid/memory-capacity.xml");
	pd_run_plandag(&r, "report", plan, NULL);
	expect(&r, 1, "need up to", NULL);
	CU_ASSERT_PTR_NULL(strstr(r.out, "GiB"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "but have 17.18 GB"));
	pd_run_release(&r);
	pd_run_plandag(&r, "check", plan, NULL);
	expect(&r, 1, NULL, "but have 17.18 GB");
	CU_ASSERT_PTR_NULL(strstr(r.err, "GiB"));
	pd_run_release(&r);
}

static void fixes_should_fit_the_cluster(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "check", TWO_REPLICAS, NULL);
	expect(&r, 1, NULL, "[multiplicative-gpu-count]");
	CU_ASSERT_PTR_NULL(strstr(r.err, "set gpus=\"64\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "needs 64 GPUs but the cluster has 32"));
	pd_run_release(&r);
}

static void output_paths_should_have_single_slashes(void)
{
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s//", pd_test_tmpdir("usability-slash"));
	pd_run_result r;
	pd_run_plandag(&r, "compile", "--emit", "dot", "-o", dir, EXAMPLE, NULL);
	expect(&r, 0, "moe-10b-ep16.dot", NULL);
	CU_ASSERT_PTR_NULL(strstr(r.out, "//"));
	pd_run_release(&r);
}

static void io_errors_should_give_the_reason(void)
{
	char file[4200], sub[4300];
	snprintf(file, sizeof(file), "%s/a-file", pd_test_tmpdir("usability-io"));
	pd_test_write_file(file, "not a directory\n");
	snprintf(sub, sizeof(sub), "%s/out", file);
	pd_run_result r;
	pd_run_plandag(&r, "compile", "-o", sub, EXAMPLE, NULL);
	expect(&r, 3, NULL, "Not a directory");
	pd_run_release(&r);
	run_sh(&r, "PLANDAG report '%s' > /dev/full", EXAMPLE);
	expect(&r, 3, NULL, "No space left on device");
	pd_run_release(&r);
	run_sh(&r, "PLANDAG compile --emit dot -o - '%s' > /dev/full", EXAMPLE);
	expect(&r, 3, NULL, "No space left on device");
	pd_run_release(&r);
	pd_run_plandag(&r, "verify", "/nonexistent/x.graphml", NULL);
	expect(&r, 3, NULL, "No such file or directory");
	pd_run_release(&r);
}

/* A plan of about 3.2 M nodes + edges: the medium bench plan with 8 micro-batches. */
static const char *big_plan(void)
{
	return variant(pd_test_path("bench/plans/medium.xml"), "micro-batches=\"1\"",
	               "micro-batches=\"8\"", "big.xml");
}

static void large_compiles_should_report_progress_and_name_only_written_files(void)
{
	const char *plan = big_plan();
	const char *dir = pd_test_tmpdir("usability-big");
	pd_run_result r;
	pd_run_plandag(&r, "compile", "--progress", "-q", "--emit", "dot", "-o", dir, plan,
	               NULL);
	expect(&r, 0, NULL, "the DOT file holds the overview");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, ": lowering ("));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, ": writing the files"));
	CU_ASSERT_PTR_NULL(strstr(r.err, "the GraphML file holds the whole DAG"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "GraphML was not asked for"));
	pd_run_release(&r);
	/* stderr is a pipe here: no progress unless asked for */
	pd_run_plandag(&r, "compile", "-q", "--emit", "none", "-o", dir, plan, NULL);
	expect(&r, 0, NULL, NULL);
	CU_ASSERT_PTR_NULL(strstr(r.err, "lowering"));
	pd_run_release(&r);
}

static CU_TestInfo tests[] = {
    {"global_options_should_be_accepted_before_the_command",
     global_options_should_be_accepted_before_the_command},
    {"a_dash_should_read_the_plan_from_standard_input",
     a_dash_should_read_the_plan_from_standard_input},
    {"dash_o_dash_should_write_one_file_to_standard_output",
     dash_o_dash_should_write_one_file_to_standard_output},
    {"verify_on_a_plan_should_say_it_is_a_plan_once",
     verify_on_a_plan_should_say_it_is_a_plan_once},
    {"check_on_graphml_should_say_it_is_a_dag", check_on_graphml_should_say_it_is_a_dag},
    {"misspelt_names_should_get_a_did_you_mean", misspelt_names_should_get_a_did_you_mean},
    {"memory_impact_should_name_a_gpu_of_the_failing_stage",
     memory_impact_should_name_a_gpu_of_the_failing_stage},
    {"memory_rows_outside_the_cluster_should_say_so",
     memory_rows_outside_the_cluster_should_say_so},
    {"memory_messages_should_use_one_unit_family",
     memory_messages_should_use_one_unit_family},
    {"fixes_should_fit_the_cluster", fixes_should_fit_the_cluster},
    {"output_paths_should_have_single_slashes", output_paths_should_have_single_slashes},
    {"io_errors_should_give_the_reason", io_errors_should_give_the_reason},
    {"large_compiles_should_report_progress_and_name_only_written_files",
     large_compiles_should_report_progress_and_name_only_written_files},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"usability_cli", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
