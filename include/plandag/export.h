/* export.h - the writers of one DAG (DOT, GraphML, PNG/SVG/PDF) and the GraphML reader.
 * What `compile` writes for a whole compilation (pd_emit) is in emit.h, above the
 * driver; this header stays below it.
 *
 * Every writer goes through pd_atomic_file (atomic_file.h): the output appears complete
 * under its name or not at all, and a previous file of that name survives any failure.
 */
#ifndef PLANDAG_EXPORT_H
#define PLANDAG_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "plandag/dag.h"

/* ---- views (src/export/view.c) ---- */
typedef enum pd_view_kind {
	PD_VIEW_AUTO, /* full up to PD_VIEW_AUTO_FULL_LIMIT nodes, else overview */
	PD_VIEW_FULL,
	PD_VIEW_OVERVIEW, /* one node per GPU, edges weighted by bytes */
	PD_VIEW_STAGE,    /* stage=S (of every replica? of replica 0) */
	PD_VIEW_GPU,      /* gpu=G */
	PD_VIEW_LAYER,    /* layer=L: all GPUs, one layer, micro-batch 0 */
} pd_view_kind;
typedef struct pd_view {
	pd_view_kind kind;
	int32_t arg;
} pd_view;
/* Nodes above which a picture is refused (the hint names the views). */
#define PD_VIEW_FULL_LIMIT 4000
/* Nodes + edges up to which the DOT file of a compile without --view holds the whole
 * graph; beyond it cgraph (about 300 bytes per element) is impractical and NAME.dot
 * holds the overview, with a note (the GraphML always holds the whole DAG). */
#define PD_DOT_FULL_LIMIT 2000000
/* Nodes up to which the automatic view is the full graph: beyond it a full picture is
 * too big to read without zooming, so the default picture is the overview. */
#define PD_VIEW_AUTO_FULL_LIMIT 1000
/* Parses "overview", "full", "stage=S", "gpu=G", "layer=L"; PD_USAGE when malformed. */
pd_status pd_view_parse(const char *s, pd_view *v);
/* Suffix for file names: "" for auto/full, "-overview", "-stage1", ... */
void pd_view_suffix(const pd_view *v, char *buf, size_t size);

/* ---- writers ---- */
/* DOT through cgraph: clusters replica > stage > GPU, colours by kind, legend. */
pd_status pd_export_dot(const pd_dag *dag, const pd_view *view, const char *path,
                        pd_diag_list *diags);
/* GraphML through xmlTextWriter (keys listed in README.md, "Exports"). */
pd_status pd_export_graphml(const pd_dag *dag, const char *path, pd_diag_list *diags);
/* PNG / SVG / PDF through gvc with the dot layout; format is "png", "svg" or "pdf".
 * Refuses (PD_USAGE, with a hint in diags) a picture above PD_VIEW_FULL_LIMIT nodes. */
pd_status pd_export_render(const pd_dag *dag, const pd_view *view, const char *format,
                           const char *path, pd_diag_list *diags);

/* ---- reader behind `plandag verify` ---- */
/* Reads a GraphML file written by plandag or edited by hand into a finalized DAG.
 * Bad files give `schema` diagnostics and PD_INVALID; a deployment plan (root <plan>)
 * gets one diagnostic saying so.  The path "-" reads standard input. */
pd_status pd_graphml_read(const char *path, pd_dag **out, pd_diag_list *diags);

/* Before lowering: refuses (PD_USAGE, a `usage` diagnostic naming views that fit) a
 * picture of `view` that the plan alone shows to be above PD_VIEW_FULL_LIMIT nodes
 * (est_nodes: pd_dag_count's).  Views it cannot size from the plan pass; pd_emit
 * checks them on the DAG before writing anything. */
pd_status pd_view_precheck(const pd_plan *plan, uint64_t est_nodes, const pd_view *view,
                           pd_diag_list *diags);

/* ---- several pictures of one view from one layout ---- */
/* Lays the picture of `view` out once and renders it in formats[i] ("png", "svg",
 * "pdf") into paths[i], i < n: the same files as n pd_export_render calls. */
pd_status pd_export_render_many(const pd_dag *dag, const pd_view *view, size_t n,
                                const char *const formats[], const char *const paths[],
                                pd_diag_list *diags);

#endif
