/* testutil.c - see testutil.h */
#include "testutil.h"

#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int pd_test_wrapped(void)
{
	const char *w = getenv("PD_TEST_WRAPPER");
	return w && *w;
}

static CU_pTest find_test(CU_SuiteInfo *suites, const char *name)
{
	for (CU_SuiteInfo *s = suites; s->pName; s++) {
		CU_pTest t = CU_get_test(CU_get_suite(s->pName), name);
		if (t)
			return t;
	}
	return NULL;
}

/* Deactivates the tests to skip here; -1 when one of them does not exist. */
static int deactivate(CU_SuiteInfo *suites, const pd_test_skip *skips, unsigned *n)
{
	*n = 0;
	for (const pd_test_skip *k = skips; k && k->test; k++) {
		CU_pTest t = find_test(suites, k->test);
		if (!t) {
			fprintf(stderr, "pd_test_run: no test named %s to skip\n", k->test);
			return -1;
		}
		if (k->when && k->when()) {
			CU_set_test_active(t, CU_FALSE);
			printf("SKIPPED %s: %s\n", k->test, k->why);
			(*n)++;
		}
	}
	return 0;
}

int pd_test_run(CU_SuiteInfo *suites, const pd_test_skip *skips)
{
	unsigned skipped;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (CU_register_suites(suites) != CUE_SUCCESS ||
	    deactivate(suites, skips, &skipped) != 0) {
		fprintf(stderr, "cannot set up the suites: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_set_fail_on_inactive(CU_FALSE);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed() +
	                  CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	if (skipped)
		printf("\n%u test(s) SKIPPED: inactive in the summary, reasons above\n", skipped);
	return failed > 100 ? 100 : (int)failed;
}

const char *pd_test_path(const char *rel)
{
	static char bufs[16][4096];
	static int next;
	char *b = bufs[next++ % 16];
	snprintf(b, sizeof(bufs[0]), "%s/%s", PD_SOURCE_DIR, rel);
	return b;
}

const char *pd_test_join(const char *dir, const char *name)
{
	static char bufs[16][4400];
	static int next;
	char joined[sizeof(bufs[0])];
	int n = snprintf(joined, sizeof(joined), "%s/%s", dir, name); /* dir may be a buf */
	CU_ASSERT_FATAL(n > 0 && (size_t)n < sizeof(joined));
	char *b = bufs[next++ % 16];
	memcpy(b, joined, (size_t)n + 1);
	return b;
}

char *pd_test_report(const pd_compilation *c, pd_report_format fmt, const char *png)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	pd_status s = pd_report_write(f, fmt, c, png);
	fclose(f);
	CU_ASSERT_EQUAL(s, PD_OK);
	if (s != PD_OK) {
		free(buf);
		return NULL;
	}
	return buf;
}

const char *pd_test_tmpdir(const char *tag)
{
	static char bufs[8][4096];
	static int next;
	char *b = bufs[next++ % 8];
	mkdir(PD_BUILD_DIR "/test-tmp", 0777);
	snprintf(b, sizeof(bufs[0]), "%s/test-tmp/%s-XXXXXX", PD_BUILD_DIR, tag);
	if (!mkdtemp(b))
		return NULL;
	return b;
}

char *pd_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *bigger = realloc(buf, cap * 2 + 1);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int pd_test_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = strlen(text);
	int ok = fwrite(text, 1, n, f) == n;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

static char *slurp_fd(int fd)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	ssize_t got;
	lseek(fd, 0, SEEK_SET);
	while (buf && (got = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t)got;
		if (n == cap) {
			char *bigger = realloc(buf, cap * 2 + 1);
			if (!bigger) {
				free(buf);
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (buf)
		buf[n] = '\0';
	return buf;
}

static int tmpfd(void)
{
	char name[] = "/tmp/pdtest-XXXXXX";
	int fd = mkstemp(name);
	if (fd >= 0)
		unlink(name);
	return fd;
}

int pd_run(pd_run_result *r, const char *const argv[])
{
	memset(r, 0, sizeof(*r));
	r->status = -1;
	int out = tmpfd(), err = tmpfd();
	if (out < 0 || err < 0)
		return -1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st = 0;
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	r->out = slurp_fd(out);
	r->err = slurp_fd(err);
	close(out);
	close(err);
	if (pid < 0)
		return -1;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r->status;
}

int pd_run_plandag(pd_run_result *r, ...)
{
	const char *argv[128];
	int n = 0;
	const char *wrap = getenv("PD_TEST_WRAPPER");
	char wrapbuf[1024];
	if (wrap && *wrap) {
		snprintf(wrapbuf, sizeof(wrapbuf), "%s", wrap);
		for (char *tok = strtok(wrapbuf, " "); tok && n < 32; tok = strtok(NULL, " "))
			argv[n++] = tok;
		/* execv needs a path: resolve the wrapper through /usr/bin */
		static char first[1100];
		if (argv[0][0] != '/') {
			snprintf(first, sizeof(first), "/usr/bin/%s", argv[0]);
			argv[0] = first;
		}
	}
	argv[n++] = PD_BINARY;
	va_list ap;
	va_start(ap, r);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && n < 126)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return pd_run(r, argv);
}

void pd_run_release(pd_run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* Expands and validates a parsed plan: the stages after parsing, status of the last. */
static pd_status expand_validate(pd_status s, pd_plan *plan, pd_analysis *an,
                                 pd_diag_list *diags)
{
	if (s == PD_OK)
		s = pd_plan_expand(plan, diags);
	if (s == PD_OK)
		s = pd_plan_validate(plan, an, diags);
	return s;
}

pd_status pd_test_load(const char *rel, pd_plan **plan, pd_analysis *an,
                       pd_diag_list *diags)
{
	*plan = NULL;
	memset(an, 0, sizeof(*an));
	pd_status s = pd_plan_parse_file(pd_test_path(rel), plan, diags);
	return expand_validate(s, *plan, an, diags);
}

pd_status pd_test_load_text(const char *text, const char *name, pd_plan **plan,
                            pd_analysis *an, pd_diag_list *diags)
{
	*plan = NULL;
	memset(an, 0, sizeof(*an));
	pd_status s = pd_plan_parse_memory(text, strlen(text), name, plan, diags);
	return expand_validate(s, *plan, an, diags);
}

char *pd_test_edit_file(const char *rel, const char *from, const char *to)
{
	char *text = pd_test_read_file(pd_test_path(rel), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	char *at = strstr(text, from);
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	size_t n = strlen(text) + strlen(to) + 1;
	char *out = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	free(text);
	return out;
}

int pd_test_find_diag(const pd_diag_list *l, const char *rule, long line)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].rule, rule) == 0 && (line == 0 || l->items[i].line == line))
			return (int)i;
	return -1;
}

void pd_test_dump_diags(const pd_diag_list *l)
{
	pd_diag_list_print(stderr, "  diag", l);
}

long pd_test_line_of(const char *path, const char *needle)
{
	char *text = pd_test_read_file(path, NULL);
	if (!text)
		return 0;
	char *hit = strstr(text, needle);
	long line = 0;
	if (hit) {
		line = 1;
		for (char *p = text; p < hit; p++)
			line += *p == '\n';
	}
	free(text);
	return line;
}

int pd_test_count_hidden(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 &&
		     strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

int pd_test_dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

const pd_node *pd_test_first_node(const pd_dag *d, pd_node_kind kind)
{
	for (uint32_t v = 0; v < d->n_nodes; v++)
		if (d->nodes[v].kind == kind)
			return &d->nodes[v];
	return NULL;
}

bool pd_test_has_diagnostic(const char *err, const char *path, long line, const char *rule)
{
	char head[4200], tag[128];
	snprintf(head, sizeof(head), "%s:%ld:", path, line);
	snprintf(tag, sizeof(tag), "[%s]\n", rule);
	for (const char *p = strstr(err, head); p; p = strstr(p + 1, head)) {
		const char *eol = strchr(p, '\n');
		const char *t = strstr(p, tag);
		if (eol && t && t + strlen(tag) - 1 == eol && strncmp(eol + 1, "    fix: ", 9) == 0)
			return true;
	}
	return false;
}
