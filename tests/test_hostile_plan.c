/* test_hostile_plan.c - hostile input, round two: the plan reader's size and attribute
 * bounds, out of memory, signals during a compile, the Markdown report's escaping and
 * the edge values of physical quantities.  Everything goes through the real binary on
 * files generated into the build directory or kept in tests/plans/hostile/.
 *
 * Tests that cannot work in the current build (RLIMIT_AS under ASan or valgrind) are
 * made inactive before the run: CUnit lists them as "Inactive" in its summary and this
 * program prints SKIPPED with the reason. */
#include <CUnit/Basic.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define PD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PD_ASAN 1
#endif
#endif
#ifndef PD_ASAN
#define PD_ASAN 0
#endif

/* Generous bounds (not benchmarks), scaled under valgrind. */
#define SMALL_SECONDS 10.0

static bool wrapped(void)
{
	return pd_test_wrapped();
}

static double bound(double seconds)
{
	return wrapped() ? seconds * 20 : seconds;
}

static const char *hostile(const char *name)
{
	return pd_test_join(pd_test_path("tests/plans/hostile"), name);
}

static void show(const char *what, const pd_run_result *r)
{
	fprintf(stderr, "\n%s: exit %d in %.2f s\nstdout: %.600s\nstderr: %.1200s\n", what,
	        r->status, r->seconds, r->out ? r->out : "", r->err ? r->err : "");
}

/* Exit `status` within `seconds`, stderr containing `needle`. */
static void expect(const char *what, const pd_run_result *r, int status, double seconds,
                   const char *needle)
{
	bool good = r->status == status && r->seconds < bound(seconds) && r->err &&
	            (!needle || strstr(r->err, needle));
	if (!good)
		show(what, r);
	CU_ASSERT_EQUAL(r->status, status);
	CU_ASSERT_TRUE(r->seconds < bound(seconds));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->err);
	if (needle)
		CU_ASSERT_PTR_NOT_NULL(strstr(r->err, needle));
}

/* ---- item 13: the size limit, directories, no raw libxml2 lines ---- */

/* A valid header and then NULs up to `bytes` (a sparse file: no disk used). */
static const char *gen_sparse(const char *dir, off_t bytes)
{
	const char *path = pd_test_join(dir, "nuls.xml");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return NULL;
	static const char head[] = "<?xml version=\"1.0\"?>\n<plan name=\"nuls\">\n";
	bool ok = write(fd, head, sizeof(head) - 1) == (ssize_t)(sizeof(head) - 1) &&
	          ftruncate(fd, bytes) == 0;
	return close(fd) == 0 && ok ? path : NULL;
}

static void plan_over_512_mib_should_be_refused_before_it_is_read(void)
{
	const char *dir = pd_test_tmpdir("hp-size");
	const char *path = gen_sparse(dir, (off_t)2 << 30);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	const char *out = pd_test_join(dir, "out");
	pd_run_result r;
	pd_run_plandag(&r, "check", path, NULL);
	expect("check 2 GB of NULs", &r, 3, SMALL_SECONDS,
	       "is 2147 MB, over the 512 MiB limit");
	pd_run_release(&r);
	pd_run_plandag(&r, "compile", "-o", out, path, NULL);
	expect("compile 2 GB of NULs", &r, 3, SMALL_SECONDS, "over the 512 MiB limit");
	CU_ASSERT_EQUAL(pd_test_dir_entries(out), 0);
	pd_run_release(&r);
	pd_run_plandag(&r, "report", "--format", "json", path, NULL);
	expect("report 2 GB of NULs", &r, 3, SMALL_SECONDS, "over the 512 MiB limit");
	pd_run_release(&r);
	unlink(path);
}

static void endless_stream_should_stop_at_the_size_limit(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "check", "/dev/zero", NULL);
	expect("check /dev/zero", &r, 3, 30.0, "over the 512 MiB limit");
	pd_run_release(&r);
}

static void directory_as_plan_should_name_it_with_strerror(void)
{
	const char *dir = pd_test_tmpdir("hp-dir");
	const char *cmds[] = {"check", "report", "compile"};
	for (int i = 0; i < 3; i++) {
		pd_run_result r;
		if (i == 2)
			pd_run_plandag(&r, "compile", "-o", pd_test_join(dir, "out"), dir, NULL);
		else
			pd_run_plandag(&r, cmds[i], dir, NULL);
		expect(cmds[i], &r, 3, SMALL_SECONDS, "Is a directory");
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, dir));
		CU_ASSERT_PTR_NULL(strstr(r.err, "I/O error"));
		CU_ASSERT_PTR_NULL(strstr(r.out, "I/O error"));
		pd_run_release(&r);
	}
	CU_ASSERT_EQUAL(pd_test_dir_entries(pd_test_join(dir, "out")), 0);
}

/* ---- item 8: attribute floods ---- */

static const char *gen_attributes(const char *dir, long n)
{
	const char *path = pd_test_join(dir, "attributes.xml");
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	fputs("<?xml version=\"1.0\"?>\n<plan name=\"a\"", f);
	for (long i = 0; i < n; i++)
		fprintf(f, " a%ld=\"1\"", i);
	fputs(
	    ">\n<model name=\"m\" layers=\"1\" hidden=\"8\" heads=\"1\" vocab=\"8\"/></plan>\n",
	    f);
	return fclose(f) == 0 ? path : NULL;
}

static size_t count_lines(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void two_hundred_thousand_attributes_should_be_refused_in_bounded_time(void)
{
	const char *dir = pd_test_tmpdir("hp-attrs");
	const char *path = gen_attributes(dir, 200000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	const char *out = pd_test_join(dir, "out");
	pd_run_result r;
	pd_run_plandag(&r, "check", path, NULL);
	expect("check 200000 attributes", &r, 1, SMALL_SECONDS, "more than 64 attributes");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "attributes.xml:2:"));
	CU_ASSERT_TRUE(count_lines(r.err, ": error: ") <= 21);
	pd_run_release(&r);
	pd_run_plandag(&r, "compile", "-o", out, path, NULL);
	expect("compile 200000 attributes", &r, 1, SMALL_SECONDS, "more than 64 attributes");
	CU_ASSERT_EQUAL(pd_test_dir_entries(out), 0);
	pd_run_release(&r);
}

/* The same count in a comment and a CDATA section is text, not a start tag. */
static void attribute_like_text_in_comments_should_not_be_refused(void)
{
	const char *dir = pd_test_tmpdir("hp-comment");
	const char *path = pd_test_join(dir, "comment.xml");
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("<?xml version=\"1.0\"?>\n<!-- <x", f);
	for (int i = 0; i < 100; i++)
		fprintf(f, " a%d=\"1\"", i);
	fputs("> -->\n<plan name=\"c\"><![CDATA[", f);
	for (int i = 0; i < 100; i++)
		fputs(" b=1", f);
	fputs("]]></plan>\n", f);
	CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
	pd_run_result r;
	pd_run_plandag(&r, "check", path, NULL);
	expect("check comment", &r, 1, SMALL_SECONDS, "character content");
	CU_ASSERT_PTR_NULL(strstr(r.err, "attributes"));
	pd_run_release(&r);
}

/* 50 unknown attributes on each of 2000 elements: under the refusal threshold, so the
 * XSD reports them; the list keeps 20 and the column of an element is found once. */
static void many_unknown_attributes_should_give_a_capped_list_quickly(void)
{
	const char *dir = pd_test_tmpdir("hp-unknown");
	const char *path = pd_test_join(dir, "unknown.xml");
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("<?xml version=\"1.0\"?>\n<plan name=\"u\">\n<model name=\"m\" layers=\"1\" "
	      "hidden=\"8\" heads=\"1\" vocab=\"8\"",
	      f);
	for (int i = 0; i < 50; i++)
		fprintf(f, " x%d=\"1\"", i);
	fputs("/>\n<strategy>\n", f);
	for (int e = 0; e < 2000; e++) {
		fputs("<replica", f);
		for (int i = 0; i < 50; i++)
			fprintf(f, " y%d=\"1\"", i);
		fputs("/>\n", f);
	}
	fputs("</strategy>\n</plan>\n", f);
	CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
	pd_run_result r;
	pd_run_plandag(&r, "check", path, NULL);
	expect("check 100000 unknown attributes", &r, 1, SMALL_SECONDS, "has no attribute");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "more diagnostic(s) of this rule not shown"));
	CU_ASSERT_TRUE(count_lines(r.err, ": error: ") <= 21);
	pd_run_release(&r);
}

/* ---- item 4: out of memory and sizes that cannot be lowered ---- */

/* huge-lowering.xml spread over 62 500 replicas: some 10^13 nodes. */
static const char *gen_unrepresentable(const char *dir)
{
	const char *path = pd_test_join(dir, "giant.xml");
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	fputs(
	    "<?xml version=\"1.0\"?>\n<plan name=\"giant\">\n"
	    "  <model name=\"moe\" layers=\"16\" hidden=\"4096\" heads=\"32\" vocab=\"32000\" "
	    "experts=\"16\" top-k=\"2\" expert-ffn=\"2816\"/>\n"
	    "  <cluster nodes=\"125000\" gpus-per-node=\"8\" gpu-memory=\"64GiB\"/>\n"
	    "  <workload phase=\"decode\" batch=\"65536\" context=\"16\" "
	    "micro-batches=\"65536\"/>\n"
	    "  <strategy>\n    <replica count=\"62500\">\n      <stage layers=\"0-15\">\n"
	    "        <attention tp=\"1\"/>\n        <moe ep=\"16\"/>\n      </stage>\n"
	    "    </replica>\n  </strategy>\n</plan>\n",
	    f);
	return fclose(f) == 0 ? path : NULL;
}

static void dag_beyond_32_bit_ids_should_be_refused_before_lowering(void)
{
	const char *dir = pd_test_tmpdir("hp-giant");
	const char *path = gen_unrepresentable(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	const char *out = pd_test_join(dir, "out");
	pd_run_result r;
	pd_run_plandag(&r, "compile", "--allow-large", "-o", out, path, NULL);
	expect("compile --allow-large giant", &r, 3, 30.0, "32-bit ids");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "9764864000000 nodes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "fix: use fewer GPUs"));
	CU_ASSERT_PTR_NULL(strstr(r.out, "exceed the limit"));
	CU_ASSERT_PTR_NULL(strstr(r.out, "invalid, 0 error"));
	CU_ASSERT_EQUAL(pd_test_dir_entries(out), 0);
	pd_run_release(&r);
	pd_run_plandag(&r, "report", "--allow-large", path, NULL);
	expect("report --allow-large giant", &r, 3, 30.0, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "32-bit ids"));
	CU_ASSERT_PTR_NULL(strstr(r.out, "invalid** (0 error"));
	CU_ASSERT_PTR_NULL(strstr(r.out, "above the limit"));
	pd_run_release(&r);
}

/* `sh -c 'ulimit -v 400000; exec plandag ARGS'`: 400 MB of address space. */
static void run_limited(pd_run_result *r, const char *args)
{
	char cmd[8192 + 4200];
	snprintf(cmd, sizeof(cmd), "ulimit -v 400000; exec '%s' %s", PD_BINARY, args);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	pd_run(r, argv);
}

static void out_of_memory_should_say_so_and_write_nothing(void)
{
	const char *dir = pd_test_tmpdir("hp-oom");
	const char *out = pd_test_join(dir, "out");
	char args[8192];
	snprintf(args, sizeof(args), "compile --allow-large -o '%s' '%s'", out,
	         hostile("huge-lowering.xml"));
	pd_run_result r;
	run_limited(&r, args);
	expect("compile under ulimit -v", &r, 3, 60.0,
	       "out of memory while lowering 156237824 nodes");
	CU_ASSERT_PTR_NULL(strstr(r.out, "exceed the limit"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "not compiled"));
	CU_ASSERT_EQUAL(pd_test_dir_entries(out), 0);
	pd_run_release(&r);
	snprintf(args, sizeof(args), "report --allow-large '%s'", hostile("huge-lowering.xml"));
	run_limited(&r, args);
	expect("report under ulimit -v", &r, 3, 60.0, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "out of memory while lowering"));
	CU_ASSERT_PTR_NULL(strstr(r.out, "(0 error"));
	CU_ASSERT_PTR_NULL(strstr(r.out, "above the limit"));
	pd_run_release(&r);
}

/* A DAG that lowers within the limit but whose DOT graph does not fit: cgraph cannot
 * report a failed allocation, so its allocator ends the process cleanly.  Whatever
 * the export needs in the end, the run never dies of a signal: exit 0 with every
 * file, or exit 3 with the reason and nothing written. */
static const char *gen_big_plan(const char *dir);

static void out_of_memory_in_an_export_should_exit_3_and_leave_nothing(void)
{
	const char *dir = pd_test_tmpdir("hp-oom-export");
	const char *plan = gen_big_plan(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	const char *out = pd_test_join(dir, "out");
	char args[8192];
	snprintf(args, sizeof(args), "compile -o '%s' '%s'", out, plan);
	pd_run_result r;
	run_limited(&r, args);
	if (r.status != 0 && r.status != 3)
		show("compile big plan under ulimit -v", &r);
	CU_ASSERT_TRUE(r.status == 0 || r.status == 3);
	if (r.status == 3) {
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "out of memory while"));
		CU_ASSERT_EQUAL(pd_test_dir_entries(out), 0);
	} else {
		CU_ASSERT_EQUAL(pd_test_dir_entries(out), 4);
	}
	pd_run_release(&r);
	unlink(plan);
}

/* ---- item 14: the Markdown report escapes user strings ---- */

/* Checks a Markdown report: `<img` only inside fenced code, every fence line one of the
 * report's own (an opening with "text", or the same fence closing it). */
static void expect_inert_markdown(const char *md)
{
	bool in_code = false;
	size_t fence_len = 0, fences = 0;
	for (const char *line = md; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		size_t ticks = strspn(line, "`");
		if (ticks >= 3 && ticks <= len) {
			bool opening =
			    !in_code && len == ticks + 4 && !strncmp(line + ticks, "text", 4);
			bool closing = in_code && ticks == fence_len && len == ticks;
			if (!opening && !closing)
				fprintf(stderr, "\nstray fence line: %.*s\n", (int)len, line);
			CU_ASSERT_TRUE(opening || closing);
			in_code = opening;
			fence_len = ticks;
			fences++;
		}
		char *copy = strndup(line, len);
		bool img = copy && strstr(copy, "<img");
		free(copy);
		if (img && !in_code)
			fprintf(stderr, "\nraw <img outside code: %.*s\n", (int)len, line);
		CU_ASSERT_TRUE(!img || in_code);
		line += len + (end ? 1 : 0);
	}
	CU_ASSERT_FALSE(in_code);
	CU_ASSERT_TRUE(fences % 2 == 0);
}

static void markdown_report_should_keep_a_nasty_model_name_inert(void)
{
	const char *dir = pd_test_tmpdir("hp-nasty");
	pd_run_result r;
	pd_run_plandag(&r, "compile", "--emit", "report", "-o", dir, hostile("nasty-names.xml"),
	               NULL);
	expect("compile nasty-names", &r, 0, SMALL_SECONDS, NULL);
	pd_run_release(&r);
	char *md = pd_test_read_file(pd_test_join(dir, "nasty-names.md"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	expect_inert_markdown(md);
	/* the name stays on the tree's first line: its newlines are written as \x0a */
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "model m\\x0a```\\x0a<img src=x"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "````text\n"));
	free(md);
}

static void markdown_report_should_escape_quoted_values_in_diagnostics(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "report", hostile("nasty-values.xml"), NULL);
	expect("report nasty-values", &r, 1, SMALL_SECONDS, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.out);
	expect_inert_markdown(r.out);
	CU_ASSERT_PTR_NULL(strstr(r.out, "<img"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "&lt;img src=x onerror=alert(1)&gt;\\|a\\|b\\|"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "&lt;model&gt; dtype="));
	pd_run_release(&r);
	/* the terminal gets the value on one line too */
	pd_run_plandag(&r, "check", hostile("nasty-values.xml"), NULL);
	expect("check nasty-values", &r, 1, SMALL_SECONDS, "gpu-memory=\"\\x0a```\\x0a<img");
	pd_run_release(&r);
}

/* ---- item 15: edge values ---- */

static void zero_tiny_and_absurd_quantities_should_be_schema_errors_with_the_range(void)
{
	const char *file = hostile("edge-values.xml");
	long line = pd_test_line_of(file, "<cluster");
	char at[64];
	snprintf(at, sizeof(at), "edge-values.xml:%ld:", line);
	pd_run_result r;
	pd_run_plandag(&r, "check", file, NULL);
	expect("check edge-values", &r, 1, SMALL_SECONDS, at);
	const char *want[] = {
	    "gpu-memory=\"1.7976931348623157e308\" is out of range [schema]",
	    "(from 1MB to 100TB)",
	    "gpu-tflops=\"0\" is out of range",
	    "(from 0.001 TFLOP/s to 1e+06 TFLOP/s)",
	    "gpu-bandwidth=\"0GB/s\" is out of range",
	    "intra-node-bandwidth=\"1e-400GB/s\" is out of range",
	    "inter-node-bandwidth=\"4.9e-324B/s\" is out of range",
	    "(from 1MB/s to 100TB/s)",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(r.err, want[i])) {
			fprintf(stderr, "\nmissing '%s' in:\n%s\n", want[i], r.err);
			CU_FAIL("diagnostic missing");
		}
	CU_ASSERT_PTR_NULL(strstr(r.err, "inf"));
	pd_run_release(&r);
}

/* Every number of a cJSON tree is finite. */
static bool all_finite(const cJSON *j)
{
	if (cJSON_IsNumber(j) && !isfinite(j->valuedouble))
		return false;
	for (const cJSON *c = j ? j->child : NULL; c; c = c->next)
		if (!all_finite(c))
			return false;
	return true;
}

static void json_numbers_should_read_back_exactly(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "report", "--format", "json", hostile("edge-small.xml"), NULL);
	expect("report edge-small", &r, 0, SMALL_SECONDS, NULL);
	cJSON *j = cJSON_Parse(r.out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_TRUE(all_finite(j));
	const cJSON *mem = cJSON_GetObjectItem(j, "memory");
	const cJSON *gpus = cJSON_IsArray(mem) ? mem : cJSON_GetObjectItem(mem, "gpus");
	const cJSON *cap = cJSON_GetObjectItem(cJSON_GetArrayItem(gpus, 0), "capacity");
	if (!cJSON_IsNumber(cap))
		fprintf(stderr, "\nno memory[0].capacity in:\n%.2000s\n", r.out);
	CU_ASSERT_TRUE_FATAL(cJSON_IsNumber(cap));
	/* the reader's arithmetic: the number times the unit */
	CU_ASSERT_EQUAL(cap->valuedouble, strtod("33.333333333333333", NULL) * 1e9);
	cJSON_Delete(j);
	pd_run_release(&r);
	pd_run_plandag(&r, "report", hostile("edge-small.xml"), NULL);
	expect("report md edge-small", &r, 0, SMALL_SECONDS, NULL);
	CU_ASSERT_PTR_NULL(strstr(r.out, "inf"));
	CU_ASSERT_PTR_NULL(strstr(r.out, "nan"));
	pd_run_release(&r);
}

/* ---- item 10: signals during a compile ---- */

/* 16 GPUs x 256 micro-batches: about 1.3 M elements, a GraphML of some 300 MB. */
static const char *gen_big_plan(const char *dir)
{
	static const char from[] = "batch=\"65536\" context=\"16\" micro-batches=\"65536\"";
	const char *path = pd_test_join(dir, "big.xml");
	char *text = pd_test_read_file(hostile("huge-lowering.xml"), NULL);
	char *at = text ? strstr(text, from) : NULL;
	FILE *f = at ? fopen(path, "wb") : NULL;
	if (f) {
		fprintf(f, "%.*s", (int)(at - text), text);
		fprintf(f, "batch=\"256\" context=\"16\" micro-batches=\"256\"%s",
		        at + sizeof(from) - 1);
	}
	free(text);
	return f && fclose(f) == 0 ? path : NULL;
}

/* Starts plandag (under PD_TEST_WRAPPER when set) with output to /dev/null. */
static pid_t spawn_plandag(const char *const args[])
{
	const char *argv[64];
	int n = 0;
	char wrap[1024] = "", first[1100];
	if (wrapped())
		snprintf(wrap, sizeof(wrap), "%s", getenv("PD_TEST_WRAPPER"));
	for (char *t = strtok(wrap, " "); t && n < 32; t = strtok(NULL, " "))
		argv[n++] = t;
	if (n > 0 && argv[0][0] != '/') {
		snprintf(first, sizeof(first), "/usr/bin/%s", argv[0]);
		argv[0] = first;
	}
	argv[n++] = PD_BINARY;
	for (int i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Path of the staging directory in dir once a file in it has data, else NULL. */
static const char *staging_with_data(const char *dir)
{
	static char found[4400];
	DIR *d = opendir(dir);
	struct dirent *e;
	const char *result = NULL;
	while (d && !result && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, ".plandag-", 9) != 0)
			continue;
		snprintf(found, sizeof(found), "%s/%s", dir, e->d_name);
		DIR *s = opendir(found);
		struct dirent *f;
		while (s && !result && (f = readdir(s)) != NULL) {
			struct stat st;
			char file[4700];
			snprintf(file, sizeof(file), "%s/%s", found, f->d_name);
			if (f->d_name[0] != '.' || strlen(f->d_name) > 2)
				if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
					result = found;
		}
		if (s)
			closedir(s);
	}
	if (d)
		closedir(d);
	return result;
}

/* Starts a compile of a big plan into out, waits until it is writing into staging,
 * then sends sig; returns the wait status, -1 when staging never appeared. */
static int compile_and_signal(const char *plan, const char *out, int sig)
{
	const char *args[] = {"compile", "--emit", "graphml", "-o", out, plan, NULL};
	pid_t pid = spawn_plandag(args);
	if (pid < 0)
		return -1;
	struct timespec nap = {0, 10 * 1000 * 1000};
	double waited = 0;
	while (!staging_with_data(out) && waited < bound(60.0)) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1; /* finished before we could signal it */
		nanosleep(&nap, NULL);
		waited += 0.01;
	}
	bool seen = staging_with_data(out) != NULL;
	kill(pid, seen ? sig : SIGKILL);
	int st = 0;
	waitpid(pid, &st, 0);
	return seen ? st : -1;
}

static bool died_of(int st, int sig)
{
	return (WIFSIGNALED(st) && WTERMSIG(st) == sig) ||
	       (WIFEXITED(st) && WEXITSTATUS(st) == 128 + sig);
}

static int count_staging(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, ".plandag-", 9) == 0;
	if (d)
		closedir(d);
	return n;
}

static void sigterm_during_compile_should_leave_nothing_and_keep_earlier_outputs(void)
{
	const char *dir = pd_test_tmpdir("hp-sigterm");
	const char *plan = gen_big_plan(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	const char *out = pd_test_join(dir, "out");
	mkdir(out, 0777);
	const char *earlier = pd_test_join(out, "huge-lowering.graphml");
	CU_ASSERT_EQUAL_FATAL(pd_test_write_file(earlier, "earlier output\n"), 0);
	int st = compile_and_signal(plan, out, SIGTERM);
	CU_ASSERT_NOT_EQUAL(st, -1);
	CU_ASSERT_TRUE(died_of(st, SIGTERM));
	CU_ASSERT_EQUAL(count_staging(out), 0);
	CU_ASSERT_EQUAL(pd_test_dir_entries(out), 1);
	char *text = pd_test_read_file(earlier, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "earlier output\n");
	free(text);
	unlink(plan);
}

static void staging_of_a_killed_compile_should_be_removed_by_the_next_run(void)
{
	const char *dir = pd_test_tmpdir("hp-sigkill");
	const char *plan = gen_big_plan(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	const char *out = pd_test_join(dir, "out");
	mkdir(out, 0777);
	int st = compile_and_signal(plan, out, SIGKILL);
	CU_ASSERT_TRUE(st != -1 && died_of(st, SIGKILL));
	CU_ASSERT_EQUAL(count_staging(out), 1); /* SIGKILL cannot be caught */
	/* not ours to remove: a live process's staging (pid 1) and other hidden names */
	CU_ASSERT_EQUAL(mkdir(pd_test_join(out, ".plandag-1-Keep00"), 0777), 0);
	CU_ASSERT_EQUAL(pd_test_write_file(pd_test_join(out, ".plandag-notes"), "mine\n"), 0);
	pd_run_result r;
	pd_run_plandag(&r, "compile", "-q", "--emit", "report", "-o", out,
	               pd_test_path("examples/moe-10b-ep16.xml"), NULL);
	expect("compile after SIGKILL", &r, 0, 60.0, NULL);
	pd_run_release(&r);
	CU_ASSERT_EQUAL(count_staging(out), 2);
	CU_ASSERT_EQUAL(access(pd_test_join(out, ".plandag-1-Keep00"), F_OK), 0);
	CU_ASSERT_EQUAL(access(pd_test_join(out, ".plandag-notes"), F_OK), 0);
	CU_ASSERT_EQUAL(access(pd_test_join(out, "moe-10b-ep16.md"), F_OK), 0);
	unlink(plan);
}

static CU_TestInfo tests[] = {
    {"plan_over_512_mib_should_be_refused_before_it_is_read",
     plan_over_512_mib_should_be_refused_before_it_is_read},
    {"endless_stream_should_stop_at_the_size_limit",
     endless_stream_should_stop_at_the_size_limit},
    {"directory_as_plan_should_name_it_with_strerror",
     directory_as_plan_should_name_it_with_strerror},
    {"two_hundred_thousand_attributes_should_be_refused_in_bounded_time",
     two_hundred_thousand_attributes_should_be_refused_in_bounded_time},
    {"attribute_like_text_in_comments_should_not_be_refused",
     attribute_like_text_in_comments_should_not_be_refused},
    {"many_unknown_attributes_should_give_a_capped_list_quickly",
     many_unknown_attributes_should_give_a_capped_list_quickly},
    {"dag_beyond_32_bit_ids_should_be_refused_before_lowering",
     dag_beyond_32_bit_ids_should_be_refused_before_lowering},
    {"out_of_memory_should_say_so_and_write_nothing",
     out_of_memory_should_say_so_and_write_nothing},
    {"out_of_memory_in_an_export_should_exit_3_and_leave_nothing",
     out_of_memory_in_an_export_should_exit_3_and_leave_nothing},
    {"markdown_report_should_keep_a_nasty_model_name_inert",
     markdown_report_should_keep_a_nasty_model_name_inert},
    {"markdown_report_should_escape_quoted_values_in_diagnostics",
     markdown_report_should_escape_quoted_values_in_diagnostics},
    {"zero_tiny_and_absurd_quantities_should_be_schema_errors_with_the_range",
     zero_tiny_and_absurd_quantities_should_be_schema_errors_with_the_range},
    {"json_numbers_should_read_back_exactly", json_numbers_should_read_back_exactly},
    {"sigterm_during_compile_should_leave_nothing_and_keep_earlier_outputs",
     sigterm_during_compile_should_leave_nothing_and_keep_earlier_outputs},
    {"staging_of_a_killed_compile_should_be_removed_by_the_next_run",
     staging_of_a_killed_compile_should_be_removed_by_the_next_run},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"hostile_plan", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

/* RLIMIT_AS limits the address space, which ASan's shadow memory and valgrind fill. */
static int no_address_space_limit(void)
{
	return PD_ASAN || wrapped();
}

static const pd_test_skip skips[] = {
    {"out_of_memory_should_say_so_and_write_nothing", no_address_space_limit,
     "RLIMIT_AS cannot work under ASan's shadow memory or valgrind"},
    {"out_of_memory_in_an_export_should_exit_3_and_leave_nothing", no_address_space_limit,
     "RLIMIT_AS cannot work under ASan's shadow memory or valgrind"},
    {NULL, NULL, NULL},
};

PD_TEST_MAIN_SKIPPING(suites, skips)
