/* render.c - pictures through gvc in-process (dot layout): png, svg, pdf.
 *
 * A picture is laid out once (pd_i_layout_open: the cgraph graph of the view and one
 * gvLayout) and rendered from that layout in every format asked for, each straight into
 * an atomic file (gvRender), so a renderer failure never leaves a half picture; one
 * gvFreeLayout and one agclose end it.
 *
 * One gvContext serves the whole process and is freed at exit: Graphviz 2.43's pango
 * plugin caches the last font name in a static pointer into the context's font table,
 * so a second context after gvFreeContext reads freed memory (AddressSanitizer shows
 * it on the second picture of one compile).
 */
#include <errno.h>
#include <graphviz/gvc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/exporters.h"
#include "util/util.h"

struct pd_i_layout {
	GVC_t *gvc;
	Agraph_t *g;
	bool laid_out; /* gvLayout succeeded: gvFreeLayout is owed */
};

static bool format_ok(const char *f)
{
	return strcmp(f, "png") == 0 || strcmp(f, "svg") == 0 || strcmp(f, "pdf") == 0;
}

static GVC_t *shared_gvc;

/* Graphviz's own messages (agerr: layout warnings, "graph is too large for
 * cairo-renderer bitmaps. Scaling by ..."), never printed raw: cgraph hands each to
 * capture(), which keeps them until the layout or render that caused them turns them
 * into diagnostics (gv_messages). */
static char gv_buf[2048];
static size_t gv_len;

static int capture(char *msg)
{
	size_t n = strlen(msg);
	if (gv_len + n + 1 < sizeof(gv_buf)) {
		memcpy(gv_buf + gv_len, msg, n + 1);
		gv_len += n;
	}
	return 0;
}

static const char *skip(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0 ? s + strlen(prefix) : s;
}

/* Graphviz 2.42's cairo renderer prints "(null): graph is too large for cairo-renderer
 * bitmaps. Scaling by ..." with fprintf(stderr): file descriptor 2 goes to a temporary
 * file while gvc works, and what it received joins the captured messages. */
typedef struct fd_capture {
	FILE *tmp;
	int saved; /* the real stderr, -1 when not redirected */
} fd_capture;

static void fd_capture_begin(fd_capture *c)
{
	fflush(stderr);
	c->tmp = tmpfile();
	c->saved = c->tmp ? dup(STDERR_FILENO) : -1;
	if (c->saved >= 0 && dup2(fileno(c->tmp), STDERR_FILENO) < 0) {
		close(c->saved);
		c->saved = -1;
	}
}

static void fd_capture_end(fd_capture *c)
{
	if (c->saved >= 0) {
		fflush(stderr);
		dup2(c->saved, STDERR_FILENO);
		close(c->saved);
		rewind(c->tmp);
		size_t n = fread(gv_buf + gv_len, 1, sizeof(gv_buf) - 1 - gv_len, c->tmp);
		gv_len += n;
		gv_buf[gv_len] = '\0';
	}
	if (c->tmp)
		fclose(c->tmp);
}

/* One diagnostic per captured line: a downscaled bitmap is a warning (the picture's
 * text is smaller than drawn), anything else a note; `what` says when it came. */
static void gv_messages(pd_diag_list *diags, const char *what)
{
	for (char *line = gv_buf, *end; gv_len && *line; line = end) {
		end = line + strcspn(line, "\n");
		if (*end)
			*end++ = '\0';
		const char *text = skip(skip(skip(line, "Warning: "), "Error: "), "(null): ");
		if (!*text)
			continue;
		int scaled = strstr(text, "Scaling by") != NULL;
		pd_diag *d = pd_diag_add(diags, PD_RULE_IO, scaled ? PD_WARNING : PD_NOTE, 0, 0,
		                         "Graphviz, %s: %s", what, text);
		if (scaled)
			pd_diag_fix(d, "the picture was drawn smaller than its native scale: pick a "
			               "smaller view, or --emit svg");
	}
	gv_len = 0;
	gv_buf[0] = '\0';
}

static void free_shared_gvc(void)
{
	gvFreeContext(shared_gvc);
	shared_gvc = NULL;
}

static GVC_t *gvc_get(void)
{
	if (!shared_gvc && (shared_gvc = gvContext()) != NULL) {
		atexit(free_shared_gvc);
		agseterrf(capture);
		agseterr(AGWARN);
	}
	return shared_gvc;
}

/* The refusal of a picture too large to draw (PD_USAGE with the hint), else PD_OK. */
static pd_status refuse_if_too_big(const pd_dag *dag, const pd_view *v, pd_diag_list *diags)
{
	uint32_t size = pd_i_view_size(dag, v);
	if (size <= PD_VIEW_FULL_LIMIT)
		return PD_OK;
	pd_i_view_refuse(dag, v, size, diags);
	return PD_USAGE;
}

pd_status pd_i_layout_open(const pd_dag *dag, const pd_view *view, pd_i_layout **out,
                           pd_diag_list *diags)
{
	pd_view v = pd_i_view_resolve(dag, view);
	*out = NULL;
	PD_CHECK(pd_i_view_range_dag(dag, &v, diags));
	PD_CHECK(refuse_if_too_big(dag, &v, diags));
	pd_i_layout *l = calloc(1, sizeof(*l));
	if (l && (l->gvc = gvc_get()) != NULL) {
		l->g = pd_i_dot_build(dag, &v);
	}
	fd_capture cap;
	fd_capture_begin(&cap);
	if (l && l->g)
		l->laid_out = gvLayout(l->gvc, l->g, "dot") == 0;
	fd_capture_end(&cap);
	gv_messages(diags, "laying the picture out");
	if (!l || !l->laid_out) {
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot lay the picture out: %s",
		            l && l->g ? "the dot layout failed" : strerror(ENOMEM));
		pd_i_layout_close(l);
		return PD_IO;
	}
	*out = l;
	return PD_OK;
}

pd_status pd_i_layout_render(pd_i_layout *l, const char *format, const char *path,
                             pd_diag_list *diags)
{
	PD_ASSERT(l && l->laid_out);
	if (!format_ok(format)) {
		pd_diag_add(diags, PD_RULE_USAGE, PD_ERROR, 0, 0, "unknown picture format '%s'",
		            format);
		return PD_USAGE;
	}
	pd_atomic_file af;
	pd_status s = pd_atomic_open(&af, path);
	if (s != PD_OK) {
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write %s: %s", path,
		            strerror(errno ? errno : EIO));
		return s;
	}
	fd_capture cap;
	fd_capture_begin(&cap);
	int failed = gvRender(l->gvc, l->g, format, af.f) != 0;
	fd_capture_end(&cap);
	gv_messages(diags, format);
	if (failed) {
		pd_atomic_abort(&af);
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot render %s", path);
		return PD_IO;
	}
	if ((s = pd_atomic_commit(&af)) != PD_OK)
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write %s: %s", path,
		            strerror(errno ? errno : EIO));
	return s;
}

void pd_i_layout_close(pd_i_layout *l)
{
	if (!l)
		return;
	if (l->laid_out)
		gvFreeLayout(l->gvc, l->g);
	if (l->g)
		agclose(l->g);
	free(l);
}

pd_status pd_export_render_many(const pd_dag *dag, const pd_view *view, size_t n,
                                const char *const formats[], const char *const paths[],
                                pd_diag_list *diags)
{
	for (size_t i = 0; i < n; i++)
		if (!format_ok(formats[i])) {
			pd_diag_add(diags, PD_RULE_USAGE, PD_ERROR, 0, 0, "unknown picture format '%s'",
			            formats[i]);
			return PD_USAGE;
		}
	pd_i_layout *l;
	PD_CHECK(pd_i_layout_open(dag, view, &l, diags));
	pd_status s = PD_OK;
	for (size_t i = 0; i < n && s == PD_OK; i++)
		s = pd_i_layout_render(l, formats[i], paths[i], diags);
	pd_i_layout_close(l);
	return s;
}

pd_status pd_export_render(const pd_dag *dag, const pd_view *view, const char *format,
                           const char *path, pd_diag_list *diags)
{
	return pd_export_render_many(dag, view, 1, &format, &path, diags);
}
