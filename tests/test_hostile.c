/* test_hostile.c - hostile input never crashes, hangs, leaks a file's content or
 * destroys output.  Every file of the corpus (tests/plans/hostile/, big ones generated
 * here into the build directory, and the fuzzers' findings in tests/fuzz/regress/) goes
 * through the real binary: `check`, `compile -o DIR`, `report` and, for XML-level
 * attacks, `verify`. */
#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define SECRET "PLANDAG-XXE-SECRET"
/* Generous bounds: hostile input must be refused in a second or two, but the build may
 * run under sanitizers on a loaded machine.  A bound is not a benchmark. */
#define SMALL_SECONDS 10.0
#define BIG_SECONDS 60.0

static void report_run(const char *what, const char *file, const pd_run_result *r)
{
	fprintf(stderr, "\n%s %s: exit %d in %.2f s\nstdout: %.400s\nstderr: %.800s\n", what,
	        file, r->status, r->seconds, r->out ? r->out : "", r->err ? r->err : "");
}

/* Checks what every hostile run must satisfy; `ok_status` is a bit set of exits. */
static void expect_refused(const char *what, const char *file, pd_run_result *r,
                           unsigned ok_status, double bound)
{
	if (pd_test_wrapped())
		bound *= 20; /* valgrind runs some 20-50 times slower */
	bool good = r->status >= 0 && r->status < 32 && (ok_status >> r->status & 1u) &&
	            r->seconds < bound && r->out && r->err && !strstr(r->out, SECRET) &&
	            !strstr(r->err, SECRET) && !strstr(r->err, "root:x:0:0") &&
	            !strstr(r->out, "root:x:0:0");
	if (!good)
		report_run(what, file, r);
	CU_ASSERT_TRUE(r->status >= 0 && r->status < 32 && (ok_status >> r->status & 1u));
	CU_ASSERT_TRUE(r->seconds < bound);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->err);
	CU_ASSERT_PTR_NULL(strstr(r->out, SECRET));
	CU_ASSERT_PTR_NULL(strstr(r->err, SECRET));
	CU_ASSERT_PTR_NULL(strstr(r->out, "root:x:0:0"));
	CU_ASSERT_PTR_NULL(strstr(r->err, "root:x:0:0"));
}

#define EXIT_1_OR_2 ((1u << 1) | (1u << 2))

/* check, compile -o DIR, report: exit 1 (or 2), a message, nothing written. */
static void replay_plan(const char *file, double bound)
{
	pd_run_result r;
	pd_run_plandag(&r, "check", file, NULL);
	expect_refused("check", file, &r, EXIT_1_OR_2, bound);
	CU_ASSERT_TRUE(r.err && strstr(r.err, "error"));
	pd_run_release(&r);

	const char *dir = pd_test_tmpdir("hostile");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	pd_run_plandag(&r, "compile", "-o", dir, file, NULL);
	expect_refused("compile", file, &r, EXIT_1_OR_2, bound);
	CU_ASSERT_TRUE(r.err && strstr(r.err, "error"));
	CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 0);
	pd_run_release(&r);

	pd_run_plandag(&r, "report", "--format", "json", file, NULL);
	expect_refused("report", file, &r, EXIT_1_OR_2, bound);
	pd_run_release(&r);
}

/* The same file given to `verify` as a GraphML DAG. */
static void replay_graphml(const char *file, double bound)
{
	pd_run_result r;
	pd_run_plandag(&r, "verify", file, NULL);
	expect_refused("verify", file, &r, EXIT_1_OR_2, bound);
	CU_ASSERT_TRUE(r.err && strstr(r.err, "error"));
	pd_run_release(&r);
}

static const char *hostile(const char *name)
{
	return pd_test_join(pd_test_path("tests/plans/hostile"), name);
}

static void hostile_xml_attacks_should_be_refused_by_every_command(void)
{
	const char *files[] = {"malformed.xml",  "truncated.xml",      "empty.xml",
	                       "binary.xml",     "xxe-entity.xml",     "xxe-dtd.xml",
	                       "xxe-passwd.xml", "billion-laughs.xml", "non-utf8.xml"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		replay_plan(hostile(files[i]), SMALL_SECONDS);
		replay_graphml(hostile(files[i]), SMALL_SECONDS);
	}
}

static void hostile_numbers_should_give_diagnostics_not_crashes(void)
{
	const char *files[] = {"overflow-32.xml",   "overflow-64.xml", "int64-max.xml",
	                       "tp-zero.xml",       "ep-negative.xml", "layers-zero.xml",
	                       "shorthand-zero.xml"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		replay_plan(hostile(files[i]), SMALL_SECONDS);
}

static void hostile_plan_name_should_not_escape_the_output_directory(void)
{
	const char *file = hostile("name-traversal.xml");
	replay_plan(file, SMALL_SECONDS);
	const char *dir = pd_test_tmpdir("hostile-name");
	char probe[4200];
	snprintf(probe, sizeof(probe), "%s/sub", dir);
	pd_run_result r;
	pd_run_plandag(&r, "compile", "--emit", "dot,report", "-o", probe, file, NULL);
	pd_run_release(&r);
	snprintf(probe, sizeof(probe), "%s/escaped.dot", dir);
	CU_ASSERT_EQUAL(access(probe, F_OK), -1);
	snprintf(probe, sizeof(probe), "%s/escaped.md", dir);
	CU_ASSERT_EQUAL(access(probe, F_OK), -1);
}

/* INT64 max in sizes and counts, and every number at the schema's limits: a clean
 * diagnostic with a rule id, no nan/inf in the messages. */
static void hostile_arithmetic_extremes_should_give_a_clean_diagnostic(void)
{
	const char *files[] = {"int64-max.xml", "schema-max.xml"};
	for (size_t i = 0; i < 2; i++) {
		pd_run_result r;
		pd_run_plandag(&r, "check", hostile(files[i]), NULL);
		expect_refused("check", files[i], &r, 1u << 1, BIG_SECONDS);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, ": error: "));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "]\n"));
		CU_ASSERT_PTR_NULL(strstr(r.err, "nan"));
		CU_ASSERT_PTR_NULL(strstr(r.err, " inf"));
		pd_run_release(&r);
	}
	pd_run_result r;
	pd_run_plandag(&r, "check", hostile("int64-max.xml"), NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "[schema]"));
	pd_run_release(&r);
}

static void hostile_huge_lowering_should_be_refused_with_its_size_and_the_flag(void)
{
	const char *file = hostile("huge-lowering.xml");
	const char *dir = pd_test_tmpdir("hostile-huge");
	pd_run_result r;
	pd_run_plandag(&r, "compile", "-o", dir, file, NULL);
	expect_refused("compile", file, &r, 1u << 1, SMALL_SECONDS);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--allow-large"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "nodes"));
	CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 0);
	pd_run_release(&r);
	/* check falls back to the roofline estimate instead of lowering */
	pd_run_plandag(&r, "check", file, NULL);
	expect_refused("check", file, &r, (1u << 0) | (1u << 1), SMALL_SECONDS);
	pd_run_release(&r);
}

/* ---- big inputs, generated into the build directory and removed afterwards ---- */

static const char *HEAD =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plan name=\"big\">\n"
    "  <model name=\"dense\" layers=\"16\" hidden=\"64\" heads=\"2\" vocab=\"100\" "
    "dense-ffn=\"128\"/>\n"
    "  <cluster nodes=\"125000\" gpus-per-node=\"8\" gpu-memory=\"80GB\"/>\n";

static const char *gen_path(const char *name)
{
	static char path[4200];
	snprintf(path, sizeof(path), "%s/%s", pd_test_tmpdir("hostile-gen"), name);
	return path;
}

/* `<plan name="AAAA...">` with an attribute of `mb` megabytes. */
static const char *gen_big_attribute(int mb)
{
	const char *path = gen_path("big-attribute.xml");
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	static char chunk[1 << 20];
	memset(chunk, 'A', sizeof(chunk));
	fputs("<?xml version=\"1.0\"?>\n<plan name=\"", f);
	for (int i = 0; i < mb; i++)
		fwrite(chunk, 1, sizeof(chunk), f);
	fputs("\"><model layers=\"1\" hidden=\"8\" heads=\"1\" vocab=\"8\"/></plan>\n", f);
	return fclose(f) == 0 ? path : NULL;
}

/* One replica of n one-layer stages (the layers cannot cover them: invalid). */
static const char *gen_many_stages(long n)
{
	const char *path = gen_path("many-stages.xml");
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	fputs(HEAD, f);
	fputs("  <strategy>\n    <replica count=\"1\">\n", f);
	for (long i = 0; i < n; i++)
		fprintf(f, "<stage layers=\"%ld-%ld\"/>\n", i % 16, i % 16);
	fputs("    </replica>\n  </strategy>\n</plan>\n", f);
	return fclose(f) == 0 ? path : NULL;
}

/* n nested <replica> elements inside <strategy>. */
static const char *gen_deep_nesting(long n)
{
	const char *path = gen_path("deep-nesting.xml");
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	fputs(HEAD, f);
	fputs("  <strategy>", f);
	for (long i = 0; i < n; i++)
		fputs("<replica>", f);
	for (long i = 0; i < n; i++)
		fputs("</replica>", f);
	fputs("</strategy>\n</plan>\n", f);
	return fclose(f) == 0 ? path : NULL;
}

static void hostile_100mb_attribute_should_be_refused_quickly(void)
{
	const char *path = gen_big_attribute(100);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	replay_plan(path, BIG_SECONDS);
	unlink(path);
}

static void hostile_million_stages_should_be_refused_without_hanging(void)
{
	const char *path = gen_many_stages(1000000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	replay_plan(path, BIG_SECONDS);
	unlink(path);
}

static void hostile_deep_nesting_should_be_refused_without_stack_overflow(void)
{
	const char *path = gen_deep_nesting(100000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	replay_plan(path, BIG_SECONDS);
	replay_graphml(path, BIG_SECONDS);
	unlink(path);
}

/* ---- the fuzzers' findings: each input once crashed or hung a fuzz target ---- */

#define EXIT_0_1_2 ((1u << 0) | (1u << 1) | (1u << 2))

static void replay_regress_file(const char *path, const char *name)
{
	pd_run_result r;
	if (strncmp(name, "graphml-", 8) != 0) {
		const char *dir = pd_test_tmpdir("regress");
		pd_run_plandag(&r, "check", path, NULL);
		expect_refused("check", path, &r, EXIT_0_1_2, SMALL_SECONDS);
		pd_run_release(&r);
		pd_run_plandag(&r, "compile", "--emit", "none", "-o", dir, path, NULL);
		expect_refused("compile", path, &r, EXIT_0_1_2, SMALL_SECONDS);
		CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 0);
		pd_run_release(&r);
	}
	if (strncmp(name, "plan-", 5) != 0) {
		pd_run_plandag(&r, "verify", path, NULL);
		expect_refused("verify", path, &r, EXIT_0_1_2, SMALL_SECONDS);
		pd_run_release(&r);
	}
}

static void hostile_fuzz_regressions_should_stay_fixed(void)
{
	const char *dir = pd_test_path("tests/fuzz/regress");
	DIR *d = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d); /* a missing directory would pass silently */
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
			continue;
		char path[4400];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		replay_regress_file(path, e->d_name);
		n++;
	}
	closedir(d);
	fprintf(stderr, "(%d regression inputs) ", n);
	CU_ASSERT_TRUE(n > 0); /* and so would an empty one */
}

static CU_TestInfo hostile_tests[] = {
    {"hostile_xml_attacks_should_be_refused_by_every_command",
     hostile_xml_attacks_should_be_refused_by_every_command},
    {"hostile_numbers_should_give_diagnostics_not_crashes",
     hostile_numbers_should_give_diagnostics_not_crashes},
    {"hostile_plan_name_should_not_escape_the_output_directory",
     hostile_plan_name_should_not_escape_the_output_directory},
    {"hostile_arithmetic_extremes_should_give_a_clean_diagnostic",
     hostile_arithmetic_extremes_should_give_a_clean_diagnostic},
    {"hostile_huge_lowering_should_be_refused_with_its_size_and_the_flag",
     hostile_huge_lowering_should_be_refused_with_its_size_and_the_flag},
    {"hostile_100mb_attribute_should_be_refused_quickly",
     hostile_100mb_attribute_should_be_refused_quickly},
    {"hostile_million_stages_should_be_refused_without_hanging",
     hostile_million_stages_should_be_refused_without_hanging},
    {"hostile_deep_nesting_should_be_refused_without_stack_overflow",
     hostile_deep_nesting_should_be_refused_without_stack_overflow},
    {"hostile_fuzz_regressions_should_stay_fixed",
     hostile_fuzz_regressions_should_stay_fixed},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"hostile", NULL, NULL, NULL, NULL, hostile_tests},
    CU_SUITE_INFO_NULL,
};

/* Too slow under valgrind (minutes each); the sanitizer build runs them. */
static const pd_test_skip skips[] = {
    {"hostile_100mb_attribute_should_be_refused_quickly", pd_test_wrapped,
     "a 100 MB plan takes minutes under valgrind; the sanitizer build runs it"},
    {"hostile_million_stages_should_be_refused_without_hanging", pd_test_wrapped,
     "a million stages take minutes under valgrind; the sanitizer build runs it"},
    {"hostile_deep_nesting_should_be_refused_without_stack_overflow", pd_test_wrapped,
     "100000 nested elements take minutes under valgrind; the sanitizer build runs it"},
    {NULL, NULL, NULL},
};

PD_TEST_MAIN_SKIPPING(suites, skips)
