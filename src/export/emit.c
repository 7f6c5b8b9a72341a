/* emit.c - what `compile` writes: one output per requested row of the exporter table
 * (exporters.c), named DIR/NAME[-VIEW]SUFFIX.  Only a view the user asked for adds -VIEW.
 *
 * All or nothing: every output is first written into a private staging directory inside
 * DIR (each file through an atomic file; a directory row gets a directory of its own),
 * and only when all of them succeeded are they renamed into DIR.  A failure removes the
 * staging directory and leaves DIR as it was; so does a signal (cleanup.c), and a
 * SIGKILL's staging goes on the next run.  A directory output replaces an earlier
 * directory of its name (moved aside into the staging, removed with it); a file never
 * replaces a directory, nor a directory a file.  Everything that can be refused (no
 * DAG, a picture too large) is refused before anything is written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export/exporters.h"
#include "util/util.h"

#define NAME_BYTES 512
#define PATH_BYTES (4096 + 2 * NAME_BYTES)

static const pd_i_exporter *row_of_word(const char *w, size_t n)
{
	for (size_t i = 0; i < pd_i_n_exporters; i++) {
		const char *word = pd_i_exporters[i].info.word;
		if (strlen(word) == n && strncmp(word, w, n) == 0)
			return &pd_i_exporters[i];
	}
	return NULL;
}

const pd_emit_info *pd_emit_info_at(size_t i)
{
	return i < pd_i_n_exporters ? &pd_i_exporters[i].info : NULL;
}

const char *pd_emit_word(size_t i)
{
	return i < pd_i_n_exporters ? pd_i_exporters[i].info.word : NULL;
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
		const pd_i_exporter *row = row_of_word(p, n);
		if (!row)
			return PD_USAGE;
		m |= row->info.bit;
		p += n;
		if (!*p)
			break;
	}
	*mask = m;
	return PD_OK;
}

const char *pd_i_emit_name(const pd_i_emit_job *job, unsigned bit)
{
	for (size_t i = 0; i < job->n_rows; i++)
		if (job->rows[i].info.bit == bit)
			return job->names[i];
	return NULL;
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

/* One row's output in the staging directory. */
typedef struct staged {
	char name[NAME_BYTES]; /* file or directory name, "" when not written */
	char also[NAME_BYTES]; /* the row's second file (info.also), "" when none */
	int slot, also_slot;   /* their cleanup slots (pd_cleanup_add), -1 when none */
} staged;

typedef struct emit_ctx {
	const char *dir;
	char staging[4096];
	char path[PATH_BYTES]; /* scratch: a path in staging or dir */
	staged *st;            /* one per row of the table */
	const char **names;    /* st[i].name or NULL, for the writers (job.names) */
	int dir_slot;          /* the staging directory's */
	pd_diag_list *diags;
} emit_ctx;

static const char *in_staging(emit_ctx *e, const char *name)
{
	snprintf(e->path, sizeof(e->path), "%s/%s", e->staging, name);
	return e->path;
}

/* Names row i's output, registers it for removal on a signal (a directory row's
 * directory is made here) and returns its path in the staging directory. */
static const char *stage(emit_ctx *e, const pd_i_emit_job *job, size_t i)
{
	const pd_emit_info *info = &job->rows[i].info;
	char stem[256], view[32] = "";
	file_stem(job->c, stem, sizeof(stem));
	if (info->view && job->explicit_view)
		pd_view_suffix(&job->pic, view, sizeof(view));
	int n = snprintf(e->st[i].name, NAME_BYTES, "%s%s%s", stem, view, info->suffix);
	PD_ASSERT(n > 0 && n < NAME_BYTES); /* stem, view and suffix are all bounded */
	e->names[i] = e->st[i].name;
	sigset_t saved;
	pd_cleanup_hold(true, &saved);
	if (info->also) {
		snprintf(e->st[i].also, NAME_BYTES, "%s%s%s", stem, view, info->also);
		e->st[i].also_slot = pd_cleanup_add(in_staging(e, e->st[i].also), false);
	}
	const char *path = in_staging(e, e->st[i].name);
	bool made = !info->directory || mkdir(path, 0777) == 0;
	e->st[i].slot = made ? pd_cleanup_add(path, info->directory) : -1;
	pd_cleanup_hold(false, &saved);
	if (!made) {
		pd_diag_add(e->diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot create directory %s: %s",
		            path, strerror(errno));
		return NULL;
	}
	return path;
}

/* Writes every requested row into the staging directory, in table order. */
static pd_status write_all(emit_ctx *e, pd_i_emit_job *job)
{
	for (size_t i = 0; i < job->n_rows; i++) {
		if (!(job->mask & job->rows[i].info.bit))
			continue;
		const char *path = stage(e, job, i);
		if (!path)
			return PD_IO;
		PD_CHECK(job->rows[i].write(job, &job->rows[i], path));
	}
	return PD_OK;
}

/* rename() puts neither a file over a directory nor a directory over a file: find out
 * before the first output moves. */
static pd_status check_in_the_way(emit_ctx *e, const pd_i_emit_job *job)
{
	struct stat st;
	for (size_t i = 0; i < 2 * job->n_rows; i++) {
		bool dir = i < job->n_rows && job->rows[i].info.directory;
		const char *name = i < job->n_rows ? e->st[i].name : e->st[i - job->n_rows].also;
		if (!name[0])
			continue;
		snprintf(e->path, sizeof(e->path), "%s/%s", e->dir, name);
		if (lstat(e->path, &st) == 0 && (S_ISDIR(st.st_mode) != 0) != dir) {
			pd_diag_add(e->diags, PD_RULE_IO, PD_ERROR, 0, 0,
			            "cannot write %s: a %s is in the way", e->path,
			            dir ? "file" : "directory");
			return PD_IO;
		}
	}
	return PD_OK;
}

/* Renames one staged output into dir.  A directory first moves an earlier directory of
 * its name aside into the staging (put back when the rename fails), signals held so
 * that no signal falls between the two renames. */
static pd_status move_one(emit_ctx *e, const char *name, bool dir, FILE *log)
{
	char from[PATH_BYTES], to[PATH_BYTES], old[PATH_BYTES];
	snprintf(from, sizeof(from), "%s/%s", e->staging, name);
	snprintf(to, sizeof(to), "%s/%s", e->dir, name);
	snprintf(old, sizeof(old), "%s/.old-%s", e->staging, name);
	sigset_t saved;
	pd_cleanup_hold(true, &saved);
	bool aside = dir && rename(to, old) == 0;
	bool moved = rename(from, to) == 0;
	int err = errno;
	if (!moved && aside)
		rename(old, to);
	pd_cleanup_hold(false, &saved);
	if (!moved) {
		pd_diag_add(e->diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot move %s to %s: %s", from,
		            to, strerror(err));
		return PD_IO;
	}
	if (log)
		fprintf(log, "wrote %s\n", to);
	return PD_OK;
}

/* Moves the staged outputs into dir when everything was written, then removes the
 * staging directory with whatever is left in it (everything, on a failure). */
static pd_status finish(emit_ctx *e, const pd_i_emit_job *job, pd_status s, FILE *log)
{
	if (s == PD_OK)
		s = check_in_the_way(e, job);
	for (size_t i = 0; i < job->n_rows && s == PD_OK; i++) {
		if (e->st[i].name[0])
			s = move_one(e, e->st[i].name, job->rows[i].info.directory, log);
		if (s == PD_OK && e->st[i].also[0])
			s = move_one(e, e->st[i].also, false, log);
	}
	pd_remove_tree(e->staging);
	for (size_t i = 0; i < job->n_rows; i++) {
		pd_cleanup_forget(e->st[i].slot);
		pd_cleanup_forget(e->st[i].also_slot);
	}
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
		pd_diag_add(e->diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write into %s: %s",
		            e->dir, strerror(err));
		return PD_IO;
	}
	return PD_OK;
}

/* What the requested rows need, checked before anything is written. */
static pd_status preflight(const pd_i_emit_job *job)
{
	unsigned needs = 0;
	for (size_t i = 0; i < job->n_rows; i++)
		if (job->mask & job->rows[i].info.bit)
			needs |= job->rows[i].needs;
	if ((needs & PD_I_NEEDS_DAG) && !job->c->dag) {
		pd_diag_add(job->diags, PD_RULE_IO, PD_ERROR, 0, 0,
		            "no DAG to export: the plan was not lowered");
		return PD_IO;
	}
	if ((needs & PD_I_NEEDS_DAG) && job->explicit_view)
		PD_CHECK(pd_i_view_range_dag(job->c->dag, &job->pic, job->diags));
	if (needs & PD_I_PICTURE) {
		uint32_t size = pd_i_view_size(job->c->dag, &job->pic);
		if (size > PD_VIEW_FULL_LIMIT) {
			pd_i_view_refuse(job->c->dag, &job->pic, size, job->diags);
			return PD_USAGE;
		}
	}
	for (size_t i = 0; i < job->n_rows; i++)
		if ((job->mask & job->rows[i].info.bit) && job->rows[i].check)
			PD_CHECK(job->rows[i].check(job, job->diags));
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

/* Stages and commits the job's rows into dir (which exists). */
static pd_status run(pd_i_emit_job *job, const char *dir, FILE *log)
{
	char clean[4096 - 32];
	emit_ctx e = {.dir = without_trailing_slash(dir, clean, sizeof(clean)),
	              .st = calloc(job->n_rows, sizeof(staged)),
	              .names = calloc(job->n_rows, sizeof(const char *)),
	              .dir_slot = -1,
	              .diags = job->diags};
	pd_status s = e.st && e.names ? PD_OK : PD_IO;
	if (s != PD_OK)
		pd_diag_add(job->diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write into %s: %s", dir,
		            strerror(ENOMEM));
	for (size_t i = 0; e.st && i < job->n_rows; i++)
		e.st[i].slot = e.st[i].also_slot = -1;
	job->names = e.names;
	if (s == PD_OK && (s = make_staging(&e)) == PD_OK)
		s = finish(&e, job, write_all(&e, job), log);
	pd_i_layout_close(job->layout);
	job->layout = NULL;
	job->names = NULL;
	free(e.st);
	free(e.names);
	return s;
}

pd_status pd_i_emit_table(const pd_i_exporter *rows, size_t n, const pd_compilation *c,
                          unsigned mask, const pd_view *view, const char *dir, FILE *log,
                          pd_diag_list *diags)
{
	PD_ASSERT(rows && n > 0 && n <= PD_EMIT_MAX);
	if (!mask)
		return PD_OK;
	pd_i_emit_job job = {.c = c,
	                     .mask = mask,
	                     .pic = {.kind = PD_VIEW_AUTO},
	                     .explicit_view = view && view->kind != PD_VIEW_AUTO,
	                     .rows = rows,
	                     .n_rows = n,
	                     .diags = diags};
	if (c->dag)
		job.pic = pd_i_view_resolve(c->dag, view);
	PD_CHECK(preflight(&job));
	if (pd_mkdir_p(dir) != PD_OK) {
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot create directory %s: %s",
		            dir, strerror(errno ? errno : EIO));
		return PD_IO;
	}
	return run(&job, dir, log);
}

pd_status pd_emit(const pd_compilation *c, unsigned mask, const pd_view *view,
                  const char *dir, FILE *log, pd_diag_list *diags)
{
	return pd_i_emit_table(pd_i_exporters, pd_i_n_exporters, c, mask, view, dir, log,
	                       diags);
}
