/* emit.c - what `compile` writes: DIR/NAME[-VIEW].dot, NAME.graphml,
 * NAME[-VIEW].png/svg/pdf, NAME.md.  Only a view the user asked for adds -VIEW.
 *
 * All or nothing: every file is first written into a private staging directory inside
 * DIR (each through an atomic file), and only when all of them succeeded are they
 * renamed into DIR.  A failure removes the staging directory and leaves DIR as it was;
 * so does a signal (cleanup.c), and a SIGKILL's staging goes on the next run.
 * A picture that would be refused is refused before anything is written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_internal.h"
#include "plandag/report.h"

static const struct {
	const char *word;
	unsigned bit;
} EMIT_WORDS[] = {
    {"dot", PD_EMIT_DOT}, {"graphml", PD_EMIT_GRAPHML}, {"png", PD_EMIT_PNG},
    {"svg", PD_EMIT_SVG}, {"pdf", PD_EMIT_PDF},         {"report", PD_EMIT_REPORT},
};
#define N_WORDS (sizeof(EMIT_WORDS) / sizeof(EMIT_WORDS[0]))

static unsigned word_bit(const char *w, size_t n)
{
	for (size_t i = 0; i < N_WORDS; i++)
		if (strlen(EMIT_WORDS[i].word) == n && strncmp(EMIT_WORDS[i].word, w, n) == 0)
			return EMIT_WORDS[i].bit;
	return 0;
}

const char *pd_emit_word(size_t i)
{
	return i < N_WORDS ? EMIT_WORDS[i].word : NULL;
}

pd_status pd_emit_parse(const char *s, unsigned *mask)
{
	if (!s || !*s)
		return PD_USAGE;
	if (strcmp(s, "none") == 0) {
		*mask = 0;
		return PD_OK;
	}
	unsigned m = 0;
	for (const char *p = s;; p++) {
		size_t n = strcspn(p, ",");
		unsigned bit = word_bit(p, n);
		if (!bit)
			return PD_USAGE;
		m |= bit;
		p += n;
		if (!*p)
			break;
	}
	*mask = m;
	return PD_OK;
}

/* The plan name as a file name: no directory separators, no leading dot. */
static void file_stem(const pd_compilation *c, char *buf, size_t size)
{
	const char *name = c->plan && c->plan->name && *c->plan->name ? c->plan->name : "plan";
	snprintf(buf, size, "%s", name);
	for (char *p = buf; *p; p++)
		if (*p == '/' || *p == '\\' || (p == buf && *p == '.'))
			*p = '_';
}

#define MAX_FILES 8

typedef struct emit_ctx {
	const pd_compilation *c;
	const char *dir;
	unsigned mask; /* what was asked for */
	char staging[4096];
	char names[MAX_FILES][512]; /* file names written into staging */
	int slots[MAX_FILES];       /* their cleanup slots (pd_cleanup_add) */
	int dir_slot;               /* the staging directory's */
	int n;
	pd_diag_list *diags;
} emit_ctx;

/* Path of file `name` in the staging directory, remembered for the final rename. */
static const char *stage_file(emit_ctx *e, const char *stem, const char *suffix,
                              const char *ext)
{
	static char path[4096 + 600];
	snprintf(e->names[e->n], sizeof(e->names[0]), "%s%s.%s", stem, suffix, ext);
	snprintf(path, sizeof(path), "%s/%s", e->staging, e->names[e->n]);
	e->slots[e->n] = pd_cleanup_add(path, false); /* removed by a signal until moved */
	e->n++;
	return path;
}

static pd_status write_report(emit_ctx *e, const char *path, const char *png)
{
	pd_atomic_file af;
	pd_status s = pd_atomic_open(&af, path);
	if (s == PD_OK && pd_report_write(af.f, PD_REPORT_MD, e->c, png) != PD_OK) {
		pd_atomic_abort(&af);
		s = PD_IO;
	} else if (s == PD_OK) {
		s = pd_atomic_commit(&af);
	}
	if (s != PD_OK)
		pd_diag_add(e->diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write the report %s: %s",
		            path, strerror(errno ? errno : EIO));
	return s;
}

/* The DOT file's view: the one asked for, else the whole graph while cgraph can hold
 * it. */
static pd_view dot_view(emit_ctx *e, const pd_view *pic, int explicit)
{
	const pd_dag *dag = e->c->dag;
	if (explicit)
		return *pic;
	if ((uint64_t)dag->n_nodes + dag->n_edges <= PD_DOT_FULL_LIMIT)
		return (pd_view){.kind = PD_VIEW_FULL};
	pd_diag_add(e->diags, PD_RULE_IO, PD_NOTE, 0, 0,
	            "the DOT file holds the overview: %u nodes + %u edges are beyond what "
	            "cgraph handles well (%d elements)",
	            dag->n_nodes, dag->n_edges, PD_DOT_FULL_LIMIT);
	if (e->mask & PD_EMIT_GRAPHML)
		pd_diag_fix(pd_diag_add(e->diags, PD_RULE_IO, PD_NOTE, 0, 0,
		                        "the GraphML file holds the whole DAG"),
		            "pick a part with --view stage=S, gpu=G or layer=L for DOT");
	else
		pd_diag_fix(pd_diag_add(e->diags, PD_RULE_IO, PD_NOTE, 0, 0,
		                        "no file holds the whole DAG: GraphML was not asked for"),
		            "add graphml to --emit for the whole DAG, or pick a part with --view "
		            "stage=S, gpu=G or layer=L for DOT");
	return (pd_view){.kind = PD_VIEW_OVERVIEW};
}

/* Writes every requested file into the staging directory. */
static pd_status write_all(emit_ctx *e, unsigned mask, const pd_view *pic, int explicit)
{
	static const struct {
		unsigned bit;
		const char *ext;
	} PICS[] = {
	    {PD_EMIT_PNG, "png"},
	    {PD_EMIT_SVG, "svg"},
	    {PD_EMIT_PDF, "pdf"},
	};
	const pd_dag *dag = e->c->dag;
	char stem[256], suffix[32] = "";
	const char *png = NULL;
	file_stem(e->c, stem, sizeof(stem));
	if (explicit)
		pd_view_suffix(pic, suffix, sizeof(suffix));
	if (mask & PD_EMIT_DOT) {
		pd_view dv = dot_view(e, pic, explicit);
		PD_CHECK(pd_export_dot(dag, &dv, stage_file(e, stem, suffix, "dot"), e->diags));
	}
	if (mask & PD_EMIT_GRAPHML)
		PD_CHECK(pd_export_graphml(dag, stage_file(e, stem, "", "graphml"), e->diags));
	for (size_t i = 0; i < sizeof(PICS) / sizeof(PICS[0]); i++) {
		if (!(mask & PICS[i].bit))
			continue;
		const char *path = stage_file(e, stem, suffix, PICS[i].ext);
		if (PICS[i].bit == PD_EMIT_PNG)
			png = e->names[e->n - 1];
		PD_CHECK(pd_export_render(dag, pic, PICS[i].ext, path, e->diags));
	}
	if (mask & PD_EMIT_REPORT)
		PD_CHECK(write_report(e, stage_file(e, stem, "", "md"), png));
	return PD_OK;
}

/* Moves the staged files into dir (or, on failure, removes them) and the staging
 * directory after them. */
static pd_status finish(emit_ctx *e, pd_status s, FILE *log)
{
	char from[4096 + 600], to[4096 + 600];
	struct stat st;
	/* rename() cannot replace a directory: find out before the first file moves */
	for (int i = 0; i < e->n && s == PD_OK; i++) {
		snprintf(to, sizeof(to), "%s/%s", e->dir, e->names[i]);
		if (lstat(to, &st) == 0 && S_ISDIR(st.st_mode)) {
			pd_diag_add(e->diags, PD_RULE_IO, PD_ERROR, 0, 0,
			            "cannot write %s: a directory is in the way", to);
			s = PD_IO;
		}
	}
	for (int i = 0; i < e->n; i++) {
		snprintf(from, sizeof(from), "%s/%s", e->staging, e->names[i]);
		snprintf(to, sizeof(to), "%s/%s", e->dir, e->names[i]);
		if (s != PD_OK) {
			unlink(from);
		} else if (rename(from, to) != 0) {
			pd_diag_add(e->diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot move %s to %s: %s",
			            from, to, strerror(errno));
			unlink(from);
			s = PD_IO;
		} else if (log) {
			fprintf(log, "wrote %s\n", to);
		}
	}
	rmdir(e->staging);
	for (int i = 0; i < e->n; i++)
		pd_cleanup_forget(e->slots[i]);
	pd_cleanup_forget(e->dir_slot);
	return s;
}

/* DIR/.plandag-PID-XXXXXX, registered for removal on a signal; stale staging of killed
 * runs goes first. */
static pd_status make_staging(emit_ctx *e)
{
	pd_cleanup_stale_staging(e->dir);
	snprintf(e->staging, sizeof(e->staging), "%s/" PD_STAGING_PREFIX "%ld-XXXXXX", e->dir,
	         (long)getpid());
	sigset_t saved;
	pd_cleanup_hold(true, &saved);
	bool made = mkdtemp(e->staging) != NULL;
	int err = errno;
	e->dir_slot = made ? pd_cleanup_add(e->staging, true) : -1;
	pd_cleanup_hold(false, &saved);
	if (!made) {
		pd_diag_add(e->diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write into %s: %s", e->dir,
		            strerror(err));
		return PD_IO;
	}
	return PD_OK;
}

static pd_status preflight(const pd_compilation *c, unsigned mask, const pd_view *pic,
                           pd_diag_list *diags)
{
	if ((mask & ~(unsigned)PD_EMIT_REPORT) && !c->dag) {
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0,
		            "no DAG to export: the plan was not lowered");
		return PD_IO;
	}
	if (mask & (PD_EMIT_PNG | PD_EMIT_SVG | PD_EMIT_PDF)) {
		uint32_t size = pd_i_view_size(c->dag, pic);
		if (size > PD_VIEW_FULL_LIMIT) {
			pd_i_view_refuse(c->dag, pic, size, diags);
			return PD_USAGE;
		}
	}
	return PD_OK;
}

/* "out/" and "out//" name the files "out/NAME.dot", not "out//NAME.dot"; "/" stays. */
static const char *without_trailing_slash(const char *dir, char *buf, size_t size)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	snprintf(buf, size, "%.*s", (int)n, dir);
	return buf;
}

pd_status pd_emit(const pd_compilation *c, unsigned mask, const pd_view *view,
                  const char *dir, FILE *log, pd_diag_list *diags)
{
	if (!mask)
		return PD_OK;
	pd_view pic = {.kind = PD_VIEW_AUTO};
	if (c->dag)
		pic = pd_i_view_resolve(c->dag, view);
	PD_CHECK(preflight(c, mask, &pic, diags));
	if (pd_mkdir_p(dir) != PD_OK) {
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot create directory %s: %s",
		            dir, strerror(errno ? errno : EIO));
		return PD_IO;
	}
	char clean[sizeof(((emit_ctx *)0)->staging) - 32];
	emit_ctx e = {.c = c,
	              .dir = without_trailing_slash(dir, clean, sizeof(clean)),
	              .mask = mask,
	              .diags = diags};
	PD_CHECK(make_staging(&e));
	int explicit = view && view->kind != PD_VIEW_AUTO;
	return finish(&e, write_all(&e, mask, &pic, explicit), log);
}
