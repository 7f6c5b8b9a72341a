/* export_internal.h - helpers shared by the writers in src/export (not public API). */
#ifndef PLANDAG_EXPORT_INTERNAL_H
#define PLANDAG_EXPORT_INTERNAL_H

#include <graphviz/cgraph.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "plandag/atomic_file.h"
#include "plandag/export.h"
#include "util/util.h" /* pd_i_format_bytes, PD_ASSERT */

/* schemas/graphml.xsd, embedded by CMake (NUL-terminated). */
extern const unsigned char pd_i_schema_graphml_xsd[];
extern const size_t pd_i_schema_graphml_xsd_len;

/* ---- views (view.c) ---- */
/* The view a picture actually uses: AUTO becomes FULL up to PD_VIEW_AUTO_FULL_LIMIT nodes
 * and OVERVIEW above. */
pd_view pd_i_view_resolve(const pd_dag *dag, const pd_view *view);
/* Fills keep[v] (n_nodes entries) with 1 for the nodes of a FULL/STAGE/GPU/LAYER view;
 * returns how many are kept.  Hubs are kept when one of their members is. */
uint32_t pd_i_view_select(const pd_dag *dag, const pd_view *view, uint8_t *keep);
/* Number of nodes the picture of `view` would draw (GPUs for the overview). */
uint32_t pd_i_view_size(const pd_dag *dag, const pd_view *view);
/* The view's name for people: "overview", "full DAG", "stage 1 of replica 0", "GPU 3",
 * "layer 5 (micro-batch 0)". */
void pd_i_view_caption(const pd_view *v, char *buf, size_t size);
/* Appends the refusal diagnostic naming the views (PD_USAGE follows). */
void pd_i_view_refuse(const pd_dag *dag, const pd_view *view, uint32_t n,
                      pd_diag_list *diags);

/* A stage=S, gpu=G or layer=L view naming a part the plan (or the DAG) lacks: PD_USAGE
 * with a `usage` diagnostic naming the valid range (view_range.c); PD_OK otherwise. */
pd_status pd_i_view_range_plan(const struct pd_plan *plan, const pd_view *view,
                               pd_diag_list *diags);
pd_status pd_i_view_range_dag(const pd_dag *dag, const pd_view *view, pd_diag_list *diags);

/* cgraph's memory discipline: zeroed memory, exit 3 with a message when it runs out
 * (cgraph_mem.c). */
extern Agmemdisc_t pd_i_cgraph_mem;

/* ---- cgraph graphs (dot.c) ---- */
/* Builds the cgraph graph of a view (OVERVIEW or a node selection; AUTO must be
 * resolved first).  The caller closes it with agclose().  NULL when out of memory. */
Agraph_t *pd_i_dot_build(const pd_dag *dag, const pd_view *view);
/* Writes a graph of pd_i_dot_build as agwrite would, in time linear in its size
 * (dot_write.c).  PD_IO when out of memory or the write fails. */
pd_status pd_i_dot_write(Agraph_t *g, FILE *f);

/* Largest GPU id of a node (at least n_gpus - 1; overview_links.c). */
int32_t pd_i_max_gpu(const pd_dag *dag);

/* Traffic between two GPUs in the overview: what a comm edge (pipeline p2p, KV
 * hand-over) carries from a to b over the step.  `collective` is 0: collectives are
 * groups (pd_i_overview_groups), drawn as TP boxes and EP hubs, not links. */
typedef struct pd_i_link {
	int32_t a, b;
	int collective;
	double bytes;
} pd_i_link;
typedef struct pd_i_links {
	pd_i_link *v;
	size_t n, cap;
} pd_i_links;
/* Every link of the overview (overview_links.c), sorted, duplicates summed; l->v is
 * malloc'd.  PD_IO when out of memory. */
pd_status pd_i_overview_links(const pd_dag *dag, pd_i_links *l);

/* One member group of collectives over the step (by index in dag->groups). */
typedef struct pd_i_group_traffic {
	int used, ep;         /* collectives use it; they are EP (all-to-all), else TP */
	uint32_t n;           /* member GPUs */
	double bytes;         /* bytes its members move over the step, summed */
	double bytes_per_gpu; /* bytes / n */
} pd_i_group_traffic;
/* One entry per dag->groups (malloc'd, *out); PD_IO when out of memory. */
pd_status pd_i_overview_groups(const pd_dag *dag, pd_i_group_traffic **out);

/* ---- the folded overview (fold.c) ---- */
#define PD_FOLD_LEVELS 4 /* replica, stage, machine, GPU */
/* GPUs above which the overview folds: 256 labelled GPUs in rows of a machine stay
 * within 8000 x 8000 px at native scale; 1024 (four replicas side by side) do not. */
#define PD_I_OVERVIEW_GPUS 256
/* Members up to which the overview joins an EP hub to each of its GPUs; a larger group
 * is the whole stage, and the hub in the stage's box says so. */
#define PD_I_EP_EDGES_MAX 32
/* A run of identical consecutive units drawn once: its last unit (replica, stage,
 * machine or GPU number) and length. */
typedef struct pd_i_fold_run {
	int32_t last;
	uint32_t count;
} pd_i_fold_run;
typedef struct pd_i_fold {
	int32_t n_gpus;
	uint8_t *drawn;                /* by GPU id: drawn in the overview */
	uint32_t n_drawn;              /* GPUs drawn */
	int levels;                    /* levels folded, 0 = none (the picture fits as it is) */
	int32_t *unit[PD_FOLD_LEVELS]; /* by GPU id: index of its run in runs[] */
	pd_i_fold_run *runs[PD_FOLD_LEVELS];
} pd_i_fold;
/* Folds the overview level by level while it draws more than `limit` GPUs. */
pd_status pd_i_fold_compute(const pd_dag *dag, uint32_t limit, pd_i_fold *f);
/* The run GPU g's unit at `level` leads, NULL when that level is not folded or the
 * run is a single unit. */
const pd_i_fold_run *pd_i_fold_run_of(const pd_i_fold *f, int level, int32_t g);
void pd_i_fold_release(pd_i_fold *f);

/* ---- stage, GPU and layer views folded (view_fold.c) ---- */
typedef struct pd_i_view_fold {
	uint8_t *keep;       /* by node: drawn */
	uint32_t *rep;       /* by node: a hidden node's stand-in (UINT32_MAX: none) */
	uint32_t n_drawn;    /* nodes drawn */
	int32_t n_layers;    /* entries of layer_lead / layer_last (0: layers not folded) */
	int32_t *layer_lead; /* by layer: the first layer of its run */
	int32_t *layer_last; /* by lead layer: the last layer of its run */
	int32_t n_gpus;      /* entries of gpu_lead (0: GPUs not folded) */
	int32_t *gpu_lead;   /* by GPU: the GPU drawn for it */
	int32_t n_mbs;       /* entries of mb_lead / mb_last (0: micro-batches not folded) */
	int32_t *mb_lead, *mb_last; /* as for layers */
} pd_i_view_fold;
/* The drawn nodes of a STAGE, GPU or LAYER view (FULL: the selection, unfolded). */
pd_status pd_i_view_fold_compute(const pd_dag *dag, const pd_view *view, pd_i_view_fold *f);
/* The node drawn for node v: v, its stand-in, or UINT32_MAX. */
uint32_t pd_i_view_fold_draw(const pd_i_view_fold *f, uint32_t v);
void pd_i_view_fold_release(pd_i_view_fold *f);

/* ---- numbers (graphml.c) ---- */
/* Writes v in decimal at p, returns the number of characters (no NUL). */
size_t pd_i_fmt_int(char *p, int64_t v);
/* Shortest "%.15g"/"%.17g" text that reads back as v; returns its length. */
size_t pd_i_fmt_double(char *p, size_t size, double v);

/* ---- GraphML schema (graphml_read.c) ---- */
/* Validates a file against the embedded schemas/graphml.xsd; `schema` diagnostics
 * with lines and PD_INVALID when it does not conform. */
pd_status pd_i_graphml_validate(const char *path, pd_diag_list *diags);

#endif
