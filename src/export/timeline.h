/* timeline.h - the schedule's exports (docs/architecture.md, "Timeline exports"):
 * the Chrome Trace Event file of `--emit trace` (trace.c) and the cairo Gantt chart of
 * `--emit timeline` (timeline.c, timeline_draw.c).  Internal to src/export.
 */
#ifndef PLANDAG_EXPORT_TIMELINE_H
#define PLANDAG_EXPORT_TIMELINE_H

#include <stdint.h>
#include <stdio.h>

#include "plandag/dag.h"
#include "plandag/diag.h"
#include "plandag/export.h"

/* A trace above this many events is refused: Perfetto's UI and chrome://tracing load
 * a JSON trace into the browser's memory, and beyond a few million events it neither
 * opens in reasonable time nor can a person find anything in it. */
#define PD_TRACE_MAX_EVENTS 2000000u

/* The events of the trace of `view`: the nodes (no hubs) of a stage, GPU or layer view,
 * every node but the hubs for full, auto and overview. */
uint64_t pd_i_trace_events(const pd_dag *dag, const pd_view *view);
/* PD_USAGE with a diagnostic naming the views that fit when the trace of view has more
 * than PD_TRACE_MAX_EVENTS events, else PD_OK; PD_IO when out of memory. */
pd_status pd_i_trace_check(const pd_dag *dag, const pd_view *view, pd_diag_list *diags);
/* Writes the Chrome Trace Event JSON of the schedule of dag, restricted to view, to f:
 * streamed event by event through a fixed buffer.  PD_IO when a write fails or the
 * schedule runs out of memory. */
pd_status pd_i_trace_write(const pd_dag *dag, const pd_view *view, FILE *f);

/* The nodes a trace or timeline of `view` shows: a stage, GPU or layer view selects
 * (*keep: a byte per node, malloc'd), any other view is every node (*keep = NULL).
 * PD_IO when out of memory. */
pd_status pd_i_schedule_select(const pd_dag *dag, const pd_view *view, uint8_t **keep);
/* True for the views that select nodes (stage, GPU, layer). */
int pd_i_view_selects(const pd_view *view);

/* ---- the timeline (timeline.c: rows and folding; timeline_draw.c: cairo) ---- */
/* Rows a timeline draws at most (two per distinct GPU at most, one per stream used);
 * with the pixel sizes of timeline_draw.c the picture stays under 8000 px high. */
#define PD_TIMELINE_MAX_ROWS 400u

/* One row: a stream of a group of identical GPUs (the same sequence of kind, stream,
 * start and end), drawn from its first GPU. */
typedef struct pd_i_tl_row {
	uint32_t group;
	uint8_t stream; /* PD_STREAM_COMPUTE or PD_STREAM_COMM */
} pd_i_tl_row;

typedef struct pd_i_tl_group {
	int32_t rep;    /* the first GPU, whose nodes are drawn */
	uint32_t count; /* identical GPUs */
	int32_t pool;   /* a pooled plan: the pool of its GPUs (dag->pools), else -1 */
	char label[64]; /* "GPU 3", "GPU 0-7 (×8)", "GPU 0-2, 29-31 (×6)" */
} pd_i_tl_group;

typedef struct pd_i_timeline {
	const pd_dag *dag;
	pd_schedule s;
	uint32_t *gpu_off;   /* n_gpus + 1: the nodes of GPU g are gpu_nodes[gpu_off[g]..) */
	uint32_t *gpu_nodes; /* shown nodes (no hubs) by GPU, in id order */
	uint8_t *critical;   /* per node: drawn marked (on the critical path, or at its place
	                      * on the group's first GPU) */
	pd_i_tl_group *groups;
	uint32_t n_groups;
	pd_i_tl_row *rows;
	uint32_t n_rows;
	uint32_t kinds;      /* bit k: kind k is drawn (the legend) */
	uint32_t pool_heads; /* a pooled plan: headings ("prefill pool"), one per pool drawn */
	double makespan_us;
} pd_i_timeline;

/* Schedules the DAG, folds identical GPUs and marks the critical path (cp may be NULL).
 * PD_IO when out of memory, PD_INVALID when the DAG cannot be scheduled. */
pd_status pd_i_timeline_build(const pd_dag *dag, const pd_view *view,
                              const pd_critical_path *cp, pd_i_timeline *t);
void pd_i_timeline_release(pd_i_timeline *t);
/* PD_USAGE with a diagnostic naming views that fit when the timeline of view has more
 * than PD_TIMELINE_MAX_ROWS rows; PD_OK, or PD_IO/PD_INVALID from the build. */
pd_status pd_i_timeline_check(const pd_dag *dag, const pd_view *view, pd_diag_list *diags);
/* Draws t into a PNG (png != NULL) or SVG file at path through an atomic file; PD_IO
 * with a diagnostic when it cannot be written. */
pd_status pd_i_timeline_draw(const pd_i_timeline *t, const char *plan, int png,
                             const char *path, pd_diag_list *diags);
/* The picture's size in pixels for t (bounded: at most 8000 x 8000). */
void pd_i_timeline_size(const pd_i_timeline *t, int *width, int *height);

#endif
