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

static void free_shared_gvc(void)
{
	gvFreeContext(shared_gvc);
	shared_gvc = NULL;
}

static GVC_t *gvc_get(void)
{
	if (!shared_gvc && (shared_gvc = gvContext()) != NULL)
		atexit(free_shared_gvc);
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
	PD_CHECK(refuse_if_too_big(dag, &v, diags));
	pd_i_layout *l = calloc(1, sizeof(*l));
	if (l && (l->gvc = gvc_get()) != NULL) {
		agseterr(AGERR); /* layout warnings are noise here; errors still show */
		l->g = pd_i_dot_build(dag, &v);
	}
	if (l && l->g)
		l->laid_out = gvLayout(l->gvc, l->g, "dot") == 0;
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
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "unknown picture format '%s'",
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
	if (gvRender(l->gvc, l->g, format, af.f) != 0) {
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
			pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "unknown picture format '%s'",
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
