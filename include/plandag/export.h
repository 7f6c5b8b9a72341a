/* export.h - files people use: DOT, GraphML, PNG/SVG/PDF, the report; GraphML reading.
 *
 * Every writer goes through pd_atomic_file: the output appears complete under its
 * name or not at all, and a previous file of that name survives any failure.
 */
#ifndef PLANDAG_EXPORT_H
#define PLANDAG_EXPORT_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "plandag/dag.h"
#include "plandag/pipeline.h"

/* ---- atomic output files (src/util/atomic_file.c) ---- */
typedef struct pd_atomic_file {
	char *path; /* final name */
	char *tmp;  /* temporary name in the same directory */
	FILE *f;    /* open on tmp */
	int slot;   /* tmp's cleanup slot (pd_cleanup_add) */
} pd_atomic_file;
/* Creates DIR/.NAME.XXXXXX next to path and opens it for writing. */
pd_status pd_atomic_open(pd_atomic_file *af, const char *path);
/* Flushes, syncs, closes and renames tmp onto path.  On failure the tmp is removed. */
pd_status pd_atomic_commit(pd_atomic_file *af);
/* Closes and removes tmp; accepts an already committed/aborted file. */
void pd_atomic_abort(pd_atomic_file *af);
/* mkdir -p */
pd_status pd_mkdir_p(const char *dir);

/* ---- cleanup on signals and after killed runs (src/util/cleanup.c) ---- */
/* SIGINT, SIGTERM, SIGHUP and SIGPIPE remove every registered path (files first, then
 * directories) and end the process as the signal would.  Call once, early in main. */
void pd_install_signal_cleanup(void);
/* Registers a path to remove on a signal; returns its slot, -1 when the table is full
 * (the path is then not removed on a signal: nothing else changes). */
int pd_cleanup_add(const char *path, bool is_dir);
void pd_cleanup_forget(int slot);
/* Blocks (hold) or restores (from *saved) those signals around creating and
 * registering a path, so that no signal finds it created but unregistered. */
void pd_cleanup_hold(bool hold, sigset_t *saved);
/* Staging directories in an output directory are named PD_STAGING_PREFIX "PID-XXXXXX".
 * Removes those of processes that are gone (a SIGKILL); nothing else in dir. */
#define PD_STAGING_PREFIX ".plandag-"
void pd_cleanup_stale_staging(const char *dir);
/* For libraries that cannot report a failed allocation (cgraph dereferences it):
 * prints "out of memory while DOING", removes the registered paths, exits 3. */
_Noreturn void pd_die_out_of_memory(const char *doing);

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

/* ---- what `compile` writes ---- */
enum {
	PD_EMIT_DOT = 1u << 0,
	PD_EMIT_GRAPHML = 1u << 1,
	PD_EMIT_PNG = 1u << 2,
	PD_EMIT_SVG = 1u << 3,
	PD_EMIT_PDF = 1u << 4,
	PD_EMIT_REPORT = 1u << 5,
	PD_EMIT_DEFAULT = PD_EMIT_DOT | PD_EMIT_GRAPHML | PD_EMIT_PNG | PD_EMIT_REPORT,
};
/* Parses "dot,graphml,png,svg,pdf,report" or "none"; PD_USAGE when malformed. */
pd_status pd_emit_parse(const char *s, unsigned *mask);
/* The i-th word pd_emit_parse knows ("dot", "graphml", ...), NULL past the last. */
const char *pd_emit_word(size_t i);
/* Writes the requested files of a checked compilation into dir (created if missing)
 * as DIR/NAME[-VIEW].EXT; prints each written path to `log` unless NULL.  view NULL or
 * AUTO: NAME.dot is the whole graph (the overview above PD_DOT_FULL_LIMIT elements) and
 * the pictures NAME.png/svg/pdf show the automatic view; an explicit view applies to
 * the DOT file and the pictures, whose names get -VIEW (NAME-overview.png). */
/* Before lowering: refuses (PD_USAGE, a `usage` diagnostic naming views that fit) a
 * picture of `view` that the plan alone shows to be above PD_VIEW_FULL_LIMIT nodes
 * (est_nodes: pd_dag_count's).  Views it cannot size from the plan pass; pd_emit
 * checks them on the DAG before writing anything. */
pd_status pd_view_precheck(const pd_plan *plan, uint64_t est_nodes, const pd_view *view,
                           pd_diag_list *diags);
pd_status pd_emit(const pd_compilation *c, unsigned mask, const pd_view *view,
                  const char *dir, FILE *log, pd_diag_list *diags);

#endif
