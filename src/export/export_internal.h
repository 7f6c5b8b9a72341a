/* export_internal.h - helpers shared by the writers in src/export (not public API). */
#ifndef PLANDAG_EXPORT_INTERNAL_H
#define PLANDAG_EXPORT_INTERNAL_H

#include <graphviz/cgraph.h>
#include <stddef.h>
#include <stdint.h>

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
/* Appends the refusal diagnostic naming the views (PD_USAGE follows). */
void pd_i_view_refuse(const pd_dag *dag, const pd_view *view, uint32_t n,
                      pd_diag_list *diags);

/* cgraph's memory discipline: zeroed memory, exit 3 with a message when it runs out
 * (cgraph_mem.c). */
extern Agmemdisc_t pd_i_cgraph_mem;

/* ---- cgraph graphs (dot.c) ---- */
/* Builds the cgraph graph of a view (OVERVIEW or a node selection; AUTO must be
 * resolved first).  The caller closes it with agclose().  NULL when out of memory. */
Agraph_t *pd_i_dot_build(const pd_dag *dag, const pd_view *view);

/* ---- numbers (graphml.c) ---- */
/* Writes v in decimal at p, returns the number of characters (no NUL). */
size_t pd_i_fmt_int(char *p, int64_t v);
/* Shortest "%.15g"/"%.17g" text that reads back as v; returns its length. */
size_t pd_i_fmt_double(char *p, size_t size, double v);
/* "1.5 MB", "320 KB", "12 B" (decimal units). */
void pd_i_fmt_bytes(char *p, size_t size, double bytes);

/* ---- GraphML schema (graphml_read.c) ---- */
/* Validates a file against the embedded schemas/graphml.xsd; `schema` diagnostics
 * with lines and PD_INVALID when it does not conform. */
pd_status pd_i_graphml_validate(const char *path, pd_diag_list *diags);

#endif
