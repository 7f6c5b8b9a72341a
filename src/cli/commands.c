/* commands.c - one function per command: a call into libplandag, then printing. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "plandag/plandag.h"

/* Steps of a DAG this large take about a second or more (lowering, checks, export at
 * roughly 0.5 us per element on the bench machine), so they are announced. */
#define PROGRESS_ELEMENTS 2000000ull

typedef struct progress_state {
	const cli *c;
	struct timespec start;
} progress_state;

static double elapsed(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static void on_progress(void *arg, const char *step, uint64_t elements)
{
	progress_state *ps = arg;
	if (elements < PROGRESS_ELEMENTS && elapsed(&ps->start) < 1.0)
		return;
	fprintf(stderr, "plandag: %s: %s (%.2f M nodes + edges, %.1f s so far)\n", ps->c->shown,
	        step, (double)elements / 1e6, elapsed(&ps->start));
}

/* What compile will draw, checked against the plan before lowering. */
typedef struct picture_req {
	unsigned mask;
	const pd_view *view;
} picture_req;

static pd_status picture_precheck(pd_compilation *comp, void *ctx)
{
	const picture_req *p = ctx;
	if (!(p->mask & (PD_EMIT_PNG | PD_EMIT_SVG | PD_EMIT_PDF)))
		return PD_OK;
	return pd_view_precheck(comp->plan, comp->est_nodes, p->view, &comp->diags);
}

/* max_elements 0 = the library default (PD_DEFAULT_MAX_ELEMENTS); pic NULL: no
 * pictures to check before lowering. */
static void run_pipeline(const cli *c, uint64_t max_elements, picture_req *pic,
                         progress_state *ps, pd_compilation *comp)
{
	pd_compile_options opt = {.lower = 1,
	                          .max_elements = c->allow_large ? UINT64_MAX : max_elements,
	                          .before_lower = pic ? picture_precheck : NULL,
	                          .before_lower_ctx = pic};
	ps->c = c;
	clock_gettime(CLOCK_MONOTONIC, &ps->start);
	if (c->progress) {
		opt.progress = on_progress;
		opt.progress_arg = ps;
	}
	pd_compile_file(c->input, &opt, comp);
	comp->path = c->shown; /* reports name standard input "<stdin>", not "-" */
	pd_diag_list_sort(&comp->diags);
}

int pd_cli_check(const cli *c)
{
	pd_compilation comp;
	progress_state ps;
	run_pipeline(c, PD_CHECK_MAX_ELEMENTS, NULL, &ps, &comp);
	pd_diag_list_print(stderr, c->shown, &comp.diags);
	int rc = comp.status;
	if (!c->quiet && comp.plan && rc != PD_IO) {
		printf("%s: %s (%zu error(s), %zu warning(s))\n", c->shown,
		       comp.diags.errors ? "invalid" : "valid", comp.diags.errors,
		       comp.diags.warnings);
		if (comp.reached == PD_STAGE_VALIDATE && comp.est_nodes)
			printf("note: throughput judged on the analytic estimate: the DAG would have "
			       "%llu nodes + %llu edges; 'plandag report' and 'compile' use its "
			       "critical path (or pass --allow-large)\n",
			       (unsigned long long)comp.est_nodes, (unsigned long long)comp.est_edges);
	}
	pd_compilation_release(&comp);
	return rc;
}

int pd_cli_report(const cli *c)
{
	pd_compilation comp;
	progress_state ps;
	run_pipeline(c, 0, NULL, &ps, &comp);
	pd_report_format fmt =
	    c->format && strcmp(c->format, "json") == 0 ? PD_REPORT_JSON : PD_REPORT_MD;
	int rc = comp.status;
	if (rc == PD_IO && !comp.plan) {
		pd_diag_list_print(stderr, c->shown, &comp.diags);
	} else if (!c->quiet && pd_report_write(stdout, fmt, &comp, NULL) != PD_OK) {
		fprintf(stderr, "plandag: cannot write the report to standard output: %s\n",
		        strerror(errno ? errno : EIO));
		rc = PD_IO;
	}
	pd_compilation_release(&comp);
	return rc;
}

static int compile_refused(const cli *c, const pd_compilation *comp)
{
	fprintf(stderr,
	        "%s: error: lowering would build %llu nodes and %llu edges (about %.1f GB of "
	        "IR), above the limit of %llu elements\n    fix: compile a smaller plan, or "
	        "pass --allow-large if the machine has the memory\n",
	        c->shown, (unsigned long long)comp->est_nodes,
	        (unsigned long long)comp->est_edges,
	        (double)(comp->est_nodes * 32 + comp->est_edges * 24) / 1e9,
	        (unsigned long long)PD_DEFAULT_MAX_ELEMENTS);
	return PD_INVALID;
}

/* "--emit" with the nearest known word for each unknown one. */
static int bad_emit(const char *list)
{
	const char *names[PD_EMIT_MAX + 1];
	size_t n = 0;
	for (const char *w; n < PD_EMIT_MAX && (w = pd_emit_word(n)); n++)
		names[n] = w;
	names[n++] = "none";
	char words[256], msg[320], word[64];
	snprintf(msg, sizeof(msg), "--emit takes a comma list of %s or none",
	         pd_cli_emit_words(words, sizeof(words), ", ", ~0u));
	size_t plain = strlen(msg);
	for (const char *s = list; *s;) {
		size_t len = strcspn(s, ",");
		snprintf(word, sizeof(word), "%.*s", (int)(len < 63 ? len : 63), s);
		unsigned m;
		snprintf(msg + plain, sizeof(msg) - plain, "; unknown word");
		if (pd_emit_parse(word, &m) != PD_OK)
			return pd_cli_usage_error(msg, word, pd_suggest(word, names, n));
		s += len + (s[len] == ',');
	}
	msg[plain] = '\0';
	return pd_cli_usage_error(msg, list, NULL);
}

/* "--view" with the nearest view name when the word before '=' is misspelt. */
static int bad_view(const char *v)
{
	static const char *const names[] = {"overview", "full", "stage", "gpu", "layer"};
	char word[32], hint[48];
	size_t len = strcspn(v, "=");
	snprintf(word, sizeof(word), "%.*s", (int)(len < 31 ? len : 31), v);
	const char *near = pd_suggest(word, names, sizeof(names) / sizeof(names[0]));
	bool whole = near && (strcmp(near, "overview") == 0 || strcmp(near, "full") == 0);
	if (near)
		snprintf(hint, sizeof(hint), "%s%s", near, whole ? "" : "=N");
	return pd_cli_usage_error("--view takes overview, full, stage=S, gpu=G or layer=L", v,
	                          near && strcmp(near, word) != 0 ? hint : NULL);
}

static int parse_compile_options(const cli *c, unsigned *mask, pd_view *view)
{
	*mask = PD_EMIT_DEFAULT;
	*view = (pd_view){.kind = PD_VIEW_AUTO};
	if (c->emit && pd_emit_parse(c->emit, mask) != PD_OK)
		return bad_emit(c->emit);
	if (c->view && pd_view_parse(c->view, view) != PD_OK)
		return bad_view(c->view);
	int to_stdout = c->out_dir && strcmp(c->out_dir, "-") == 0;
	if (to_stdout && (*mask == 0 || (*mask & (*mask - 1)) != 0))
		return pd_cli_usage_error("'-o -' writes one file to standard output: name exactly "
		                          "one format with --emit (for example --emit graphml)",
		                          NULL, NULL);
	for (size_t i = 0; to_stdout && pd_emit_info_at(i); i++)
		if ((pd_emit_info_at(i)->directory || pd_emit_info_at(i)->also) &&
		    (pd_emit_info_at(i)->bit & *mask))
			return pd_cli_usage_error("'-o -' writes one file to standard output, and this "
			                          "export writes a directory or two files",
			                          pd_emit_info_at(i)->word, NULL);
	if (to_stdout && c->dump)
		return pd_cli_usage_error("--dump and '-o -' would both write to standard output",
		                          NULL, NULL);
	return -1;
}

/* Copies the one file that pd_emit left in dir to stdout and removes dir. */
static int drain_to_stdout(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = PD_OK;
	char path[4200];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		char buf[65536];
		size_t n;
		while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0)
			if (fwrite(buf, 1, n, stdout) != n)
				break;
		if (!f || ferror(f) || fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "plandag: cannot copy %s to standard output: %s\n", path,
			        strerror(errno ? errno : EIO));
			rc = PD_IO;
		}
		if (f)
			fclose(f);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	return rc;
}

static int emit_files(const cli *c, const pd_compilation *comp, unsigned mask,
                      const pd_view *view)
{
	int to_stdout = c->out_dir && strcmp(c->out_dir, "-") == 0;
	char tmp[4096];
	const char *dir = c->out_dir ? c->out_dir : "out";
	if (to_stdout) {
		const char *t = getenv("TMPDIR");
		snprintf(tmp, sizeof(tmp), "%s/plandag-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmp)) {
			fprintf(stderr, "plandag: cannot create a temporary directory %s: %s\n", tmp,
			        strerror(errno));
			return PD_IO;
		}
		dir = tmp;
	}
	if (c->progress && comp->stats.nodes + comp->stats.edges >= PROGRESS_ELEMENTS)
		fprintf(stderr, "plandag: %s: writing the files into %s\n", c->shown, dir);
	pd_diag_list diags;
	pd_diag_list_init(&diags);
	int rc = pd_emit(comp, mask, view, dir, c->quiet || to_stdout ? NULL : stdout, &diags);
	pd_diag_list_print(stderr, c->shown, &diags);
	pd_diag_list_release(&diags);
	if (to_stdout) {
		int drained = drain_to_stdout(dir);
		rc = rc == PD_OK ? drained : rc;
	}
	return rc;
}

int pd_cli_compile(const cli *c)
{
	unsigned mask;
	pd_view view;
	int rc = parse_compile_options(c, &mask, &view);
	if (rc >= 0)
		return rc;
	pd_compilation comp;
	progress_state ps;
	picture_req pic = {mask, &view};
	run_pipeline(c, 0, &pic, &ps, &comp);
	pd_diag_list_print(stderr, c->shown, &comp.diags);
	rc = comp.status;
	if (rc == PD_OK && comp.reached < PD_STAGE_LOWER)
		rc = compile_refused(c, &comp);
	if (c->dump && comp.plan && comp.reached >= PD_STAGE_EXPAND &&
	    strcmp(c->dump, "expand") == 0)
		pd_plan_print_tree(comp.plan, stdout);
	if (c->dump && comp.dag && strcmp(c->dump, "lower") == 0)
		pd_dag_dump(comp.dag, stdout);
	if (rc == PD_OK)
		rc = emit_files(c, &comp, mask, &view);
	int to_stdout = c->out_dir && strcmp(c->out_dir, "-") == 0;
	if (!c->quiet && !c->dump && !to_stdout && comp.plan)
		pd_compilation_print_summary(&comp, stdout);
	pd_compilation_release(&comp);
	return rc;
}

/* verify DIR.chakra: a Chakra trace set (chakra.h). */
static int verify_chakra(const cli *c)
{
	pd_diag_list diags;
	pd_diag_list_init(&diags);
	pd_chakra_summary sum;
	int rc = pd_chakra_verify(c->input, &sum, &diags);
	pd_diag_list_print(stderr, c->shown, &diags);
	if (!c->quiet && rc != PD_IO)
		printf("%s: %s (%u ranks, %llu nodes, %u groups)\n", c->shown,
		       rc == PD_OK ? "trace set passes" : "trace set invalid", sum.ranks,
		       (unsigned long long)sum.nodes, sum.groups);
	pd_diag_list_release(&diags);
	return rc;
}

/* A directory named *.chakra, or holding a .et file, is a trace set; any other path
 * goes to the GraphML reader (which calls a directory a directory). */
static bool is_trace_set(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return false;
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= 7 && strncmp(path + n - 7, ".chakra", 7) == 0)
		return true;
	DIR *d = opendir(path);
	struct dirent *e;
	bool et = false;
	while (d && !et && (e = readdir(d)) != NULL) {
		size_t k = strlen(e->d_name);
		et = k > 3 && strcmp(e->d_name + k - 3, ".et") == 0;
	}
	if (d)
		closedir(d);
	return et;
}

int pd_cli_verify(const cli *c)
{
	if (is_trace_set(c->input))
		return verify_chakra(c);
	pd_diag_list diags;
	pd_diag_list_init(&diags);
	pd_dag *dag = NULL;
	int rc = pd_graphml_read(c->input, &dag, &diags);
	if (rc == PD_OK) {
		pd_status a = pd_dag_check_acyclic(dag, &diags);
		pd_status p = pd_dag_check_placement(dag, &diags);
		rc = (a == PD_IO || p == PD_IO)   ? PD_IO
		     : (a != PD_OK || p != PD_OK) ? PD_INVALID
		                                  : PD_OK;
	}
	pd_diag_list_print(stderr, c->shown, &diags);
	if (!c->quiet && dag && rc != PD_IO)
		printf("%s: %s (%u nodes, %u edges)\n", c->shown,
		       rc == PD_OK ? "DAG passes acyclic and placement" : "DAG invalid",
		       dag->n_nodes, dag->n_edges);
	pd_dag_destroy(dag);
	pd_diag_list_release(&diags);
	return rc;
}

int pd_cli_help(const cli *c)
{
	if (!c->topic) {
		pd_cli_usage(stdout);
		return PD_OK;
	}
	const cli_command *cmd = pd_cli_find_command(c->topic);
	if (!cmd)
		return pd_cli_usage_error("no such command", c->topic, NULL);
	pd_cli_command_help(stdout, cmd);
	return PD_OK;
}
