/* suggest.c - `plandag suggest`: the plan as written judged like check, the search
 * (pd_search), what it prints and the files it writes, all of them or none. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "plandag/plandag.h"

enum { EMIT_PLAN = 1u << 0, EMIT_PNG = 1u << 1, EMIT_REPORT = 1u << 2 };
#define MAX_TOP 64

/* Bit of word w in PD_CLI_SUGGEST_EMIT_WORDS (its order: plan png report), 0 if none. */
static unsigned emit_bit(const char *w, size_t len)
{
	const char *s = PD_CLI_SUGGEST_EMIT_WORDS;
	for (unsigned bit = 1; *s; bit <<= 1) {
		size_t n = strcspn(s, " ");
		if (n == len && strncmp(s, w, len) == 0)
			return bit;
		s += n + (s[n] == ' ');
	}
	return 0;
}

static int parse_emit(const char *list, unsigned *mask)
{
	*mask = list ? 0 : EMIT_PLAN | EMIT_PNG | EMIT_REPORT;
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");
		unsigned bit = emit_bit(p, n);
		if (!bit) {
			char word[64];
			snprintf(word, sizeof(word), "%.*s", (int)(n < 63 ? n : 63), p);
			const char *names[] = {"plan", "png", "report"};
			return pd_cli_usage_error(
			    "suggest --emit takes a comma list of " PD_CLI_SUGGEST_EMIT_WORDS, word,
			    pd_suggest(word, names, 3));
		}
		*mask |= bit;
		p += n + (p[n] == ',');
	}
	return -1;
}

/* A whole number lo..hi written as the value of --NAME. */
static int parse_count(const char *name, const char *v, long long lo, long long hi,
                       long long *out)
{
	char *end;
	errno = 0;
	long long x = v ? strtoll(v, &end, 10) : lo;
	if (v && (errno || end == v || *end || x < lo || x > hi)) {
		char msg[128];
		snprintf(msg, sizeof(msg), "--%s takes a whole number from %lld to %lld", name, lo,
		         hi);
		return pd_cli_usage_error(msg, v, NULL);
	}
	*out = x;
	return -1;
}

static int parse_options(const cli *c, pd_search_options *o, unsigned *mask)
{
	memset(o, 0, sizeof(*o));
	int obj = c->objective ? pd_objective_from_name(c->objective) : PD_OBJECTIVE_GPUS;
	if (obj < 0) {
		const char *names[] = {"gpus", "throughput", "per-gpu", "latency"};
		return pd_cli_usage_error("--objective takes gpus, throughput, per-gpu or latency",
		                          c->objective, pd_suggest(c->objective, names, 4));
	}
	o->objective = (pd_objective)obj;
	long long max = 0, top = 0;
	int rc;
	if ((rc = parse_count("max-gpus", c->max_gpus, 1, PD_MAX_GPUS, &max)) >= 0 ||
	    (rc = parse_count("top", c->top, 1, MAX_TOP, &top)) >= 0)
		return rc;
	o->max_gpus = c->max_gpus ? max : 0;
	o->top_k = c->top ? (int)top : 0;
	if (c->out_dir && strcmp(c->out_dir, "-") == 0)
		return pd_cli_usage_error("suggest writes three files: -o takes a directory", "-",
		                          NULL);
	return parse_emit(c->emit, mask);
}

/* The plan file as text (the suggested plan is the original with two elements
 * rewritten); "-" is standard input. */
static int read_text(const cli *c, char **buf, size_t *len)
{
	FILE *f = strcmp(c->input, "-") == 0 ? stdin : fopen(c->input, "rb");
	size_t cap = 65536, n = 0;
	char *b = f ? malloc(cap) : NULL;
	while (b) {
		n += fread(b + n, 1, cap - n - 1, f);
		if (n + 1 < cap || cap > 64u << 20)
			break;
		char *nb = realloc(b, cap *= 2);
		if (!nb)
			free(b);
		b = nb;
	}
	int err = f ? ferror(f) : 1;
	if (f && f != stdin)
		fclose(f);
	if (!b || err) {
		fprintf(stderr, "%s: error: cannot read the plan: %s [io]\n", c->shown,
		        strerror(errno ? errno : EIO));
		free(b);
		return PD_IO;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return -1;
}

typedef struct outputs {
	char xml[4096], png[4096], md[4096];
	char *text; /* the suggested plan */
	size_t len;
} outputs;

static pd_status write_text(pd_atomic_file *af, const char *path, const char *s, size_t n)
{
	PD_CHECK(pd_atomic_open(af, path));
	if (fwrite(s, 1, n, af->f) != n) {
		pd_atomic_abort(af);
		return PD_IO;
	}
	return PD_OK;
}

static pd_status write_report(pd_atomic_file *af, const char *path,
                              const pd_suggest_report *r)
{
	PD_CHECK(pd_atomic_open(af, path));
	if (pd_suggest_report_write(af->f, PD_REPORT_MD, r) != PD_OK) {
		pd_atomic_abort(af);
		return PD_IO;
	}
	return PD_OK;
}

/* Every file staged, then the picture, then every rename: all or none (a file already
 * in place when a later one fails is removed again). */
static int write_files(const char *dir, unsigned mask, const outputs *o,
                       const pd_suggest_report *r)
{
	pd_atomic_file xml = {0}, md = {0};
	pd_diag_list diags;
	pd_diag_list_init(&diags);
	bool png_done = false, xml_done = false;
	pd_status s = pd_mkdir_p(dir);
	if (s == PD_OK && (mask & EMIT_PLAN))
		s = write_text(&xml, o->xml, o->text, o->len);
	if (s == PD_OK && (mask & EMIT_REPORT))
		s = write_report(&md, o->md, r);
	if (s == PD_OK && (mask & EMIT_PNG))
		png_done = (s = pd_search_pareto_png(r->res, r->plan, o->png, &diags)) == PD_OK;
	if (s == PD_OK && (mask & EMIT_PLAN))
		xml_done = (s = pd_atomic_commit(&xml)) == PD_OK;
	if (s == PD_OK && (mask & EMIT_REPORT))
		s = pd_atomic_commit(&md);
	if (s != PD_OK) {
		pd_atomic_abort(&xml);
		pd_atomic_abort(&md);
		if (png_done)
			unlink(o->png);
		if (xml_done)
			unlink(o->xml);
		if (diags.n == 0)
			fprintf(stderr, "plandag: error: cannot write the files into %s: %s [io]\n",
			        dir, strerror(errno ? errno : EIO));
	}
	pd_diag_list_print(stderr, dir, &diags);
	pd_diag_list_release(&diags);
	return s;
}

/* The plan as written, judged like `plandag check` (lowered when small). */
static void judge(const cli *c, const char *text, size_t len, pd_compilation *comp)
{
	pd_compile_options opt = {.lower = 1, .max_elements = PD_CHECK_MAX_ELEMENTS};
	pd_compile_memory(text, len, c->shown, &opt, comp);
	pd_diag_list_sort(&comp->diags);
}

static void print_written(const cli *c, unsigned mask, const outputs *o)
{
	if (c->quiet)
		return;
	printf("\nwrote");
	if (mask & EMIT_PLAN)
		printf(" %s", o->xml);
	if (mask & EMIT_PNG)
		printf(" %s", o->png);
	if (mask & EMIT_REPORT)
		printf(" %s", o->md);
	printf("\n");
}

/* The outputs of the best candidate: the suggested plan's text and the file names. */
static int prepare(const cli *c, const pd_compilation *comp, const char *text, size_t len,
                   const pd_search_options *opt, const pd_candidate *best, outputs *o)
{
	const char *dir = c->out_dir ? c->out_dir : "out";
	const char *name = comp->plan->name;
	snprintf(o->xml, sizeof(o->xml), "%s/%s-suggested.xml", dir, name);
	snprintf(o->png, sizeof(o->png), "%s/%s-pareto.png", dir, name);
	snprintf(o->md, sizeof(o->md), "%s/%s-suggest.md", dir, name);
	const char *why = pd_search_why(opt->objective);
	o->text = best->prefill.dp > 0
	              ? pd_search_pooled_plan_xml(comp->plan, text, len, &best->prefill,
	                                          &best->choice, why, &o->len)
	              : pd_search_plan_xml(comp->plan, text, len, &best->choice, why, &o->len);
	if (!o->text) {
		fprintf(stderr, "%s: error: cannot write the suggested plan: out of memory [io]\n",
		        c->shown);
		return PD_IO;
	}
	return -1;
}

/* The search on the judged plan, its output on stdout, the files and the diff. */
static int search_and_write(const cli *c, const pd_compilation *comp, const char *text,
                            size_t len, pd_search_options *opt, unsigned mask)
{
	opt->text = text;
	opt->text_len = len;
	pd_search_result res;
	pd_diag_list diags;
	pd_diag_list_init(&diags);
	pd_status s = pd_search(comp->plan, opt, &res, &diags);
	pd_diag_list_print(stderr, c->shown, &diags);
	pd_diag_list_release(&diags);
	if (s != PD_OK) {
		fprintf(stderr, "%s: error: the search ran out of memory [io]\n", c->shown);
		pd_search_result_release(&res);
		return PD_IO;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	pd_suggest_report r = {.plan = comp->plan->name,
	                       .orig = comp,
	                       .opt = opt,
	                       .res = &res,
	                       .threads = opt->threads > 0 ? opt->threads
	                                                   : (int)(cores > 0 ? cores : 1)};
	pd_report_format fmt =
	    c->format && strcmp(c->format, "json") == 0 ? PD_REPORT_JSON : PD_REPORT_MD;
	int rc = res.reachable ? PD_OK : PD_INVALID;
	outputs o = {0};
	if (res.best >= 0) {
		int p = prepare(c, comp, text, len, opt, &res.candidates[res.best], &o);
		if (p >= 0)
			rc = p;
	}
	if (rc != PD_IO && !c->quiet && pd_suggest_report_write(stdout, fmt, &r) != PD_OK)
		rc = PD_IO;
	if (rc != PD_IO && o.text && c->diff &&
	    pd_text_unified_diff(text, len, o.text, o.len, c->shown, o.xml, stdout) < 0)
		rc = PD_IO;
	if (rc != PD_IO && o.text && mask) {
		if (write_files(c->out_dir ? c->out_dir : "out", mask, &o, &r) != PD_OK)
			rc = PD_IO;
		else if (fmt == PD_REPORT_MD)
			print_written(c, mask, &o);
	}
	free(o.text);
	pd_search_result_release(&res);
	return rc;
}

int pd_cli_suggest(const cli *c)
{
	pd_search_options opt;
	unsigned mask = 0;
	int rc = parse_options(c, &opt, &mask);
	if (rc >= 0)
		return rc;
	char *text;
	size_t len;
	if ((rc = read_text(c, &text, &len)) >= 0)
		return rc;
	pd_compilation comp;
	judge(c, text, len, &comp);
	if (!comp.plan || comp.reached < PD_STAGE_EXPAND) {
		pd_diag_list_print(stderr, c->shown, &comp.diags);
		rc = comp.status == PD_OK ? PD_INVALID : comp.status;
	} else {
		rc = search_and_write(c, &comp, text, len, &opt, mask);
	}
	pd_compilation_release(&comp);
	free(text);
	return rc;
}
