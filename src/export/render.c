/* render.c - pictures through gvc in-process (dot layout): png, svg, pdf.
 *
 * Renders to memory with gvRenderData and writes the bytes through an atomic file, so
 * a layout or renderer failure never leaves a half picture.  Pairs are released in
 * reverse order: gvFreeRenderData, gvFreeLayout, agclose.
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

#include "export_internal.h"

static int format_ok(const char *f)
{
	return strcmp(f, "png") == 0 || strcmp(f, "svg") == 0 || strcmp(f, "pdf") == 0;
}

static pd_status write_bytes(const char *path, const char *data, unsigned len)
{
	pd_atomic_file af;
	PD_CHECK(pd_atomic_open(&af, path));
	if (fwrite(data, 1, len, af.f) != len) {
		pd_atomic_abort(&af);
		return PD_IO;
	}
	return pd_atomic_commit(&af);
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

/* Lays out and renders g; *data is freed by the caller with gvFreeRenderData. */
static pd_status layout_and_render(GVC_t *gvc, Agraph_t *g, const char *format, char **data,
                                   unsigned *len)
{
	if (gvLayout(gvc, g, "dot") != 0)
		return PD_IO;
	int rc = gvRenderData(gvc, g, format, data, len);
	gvFreeLayout(gvc, g);
	return rc == 0 && *data ? PD_OK : PD_IO;
}

pd_status pd_export_render(const pd_dag *dag, const pd_view *view, const char *format,
                           const char *path, pd_diag_list *diags)
{
	pd_view v = pd_i_view_resolve(dag, view);
	if (!format_ok(format)) {
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "unknown picture format '%s'",
		            format);
		return PD_USAGE;
	}
	uint32_t size = pd_i_view_size(dag, &v);
	if (size > PD_VIEW_FULL_LIMIT) {
		pd_i_view_refuse(dag, &v, size, diags);
		return PD_USAGE;
	}
	pd_status s = PD_IO;
	int write_errno = 0;
	char *data = NULL;
	unsigned len = 0;
	Agraph_t *g = NULL;
	GVC_t *gvc = gvc_get();
	if (!gvc)
		goto cleanup;
	agseterr(AGERR); /* layout warnings are noise here; errors still show */
	g = pd_i_dot_build(dag, &v);
	if (!g)
		goto cleanup;
	s = layout_and_render(gvc, g, format, &data, &len);
	if (s == PD_OK && (s = write_bytes(path, data, len)) != PD_OK)
		write_errno = errno ? errno : EIO;
cleanup:
	if (data)
		gvFreeRenderData(data);
	if (g)
		agclose(g);
	if (s != PD_OK && write_errno)
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write %s: %s", path,
		            strerror(write_errno));
	else if (s != PD_OK)
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot render %s", path);
	return s;
}
