/* html_internal.h - the interactive page of --emit html (html.c, html_views.c,
 * html_json.c); internal to src/export. */
#ifndef PLANDAG_HTML_INTERNAL_H
#define PLANDAG_HTML_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "export/export_internal.h"

/* The caps of one page: at most this many embedded views, and the views (SVG and their
 * node table) stop at this many bytes; what does not fit is listed in the page. */
#define PD_HTML_MAX_VIEWS 32
#define PD_HTML_MAX_BYTES (20u << 20)
/* Kinds of GPU and of layer at most drawn (one view each). */
#define PD_HTML_MAX_KINDS 16

/* The page's script and style sheet (src/export/html/), embedded by CMake. */
extern const unsigned char pd_i_html_page_js[];
extern const size_t pd_i_html_page_js_len;
extern const unsigned char pd_i_html_page_css[];
extern const size_t pd_i_html_page_css_len;

/* Units (GPUs, or layers at micro-batch 0) grouped by what they hold: two units are of
 * one kind when they hold the same number of nodes of every node kind. */
typedef struct pd_i_html_kinds {
	int32_t n_units;  /* GPUs of the cluster, or layers */
	int32_t *kind_of; /* by unit: its kind, -1 for an empty or unclassified unit */
	int32_t rep[PD_HTML_MAX_KINDS];      /* the first unit of each kind: the one drawn */
	uint32_t members[PD_HTML_MAX_KINDS]; /* units of each kind */
	int n_kinds;
	uint32_t unclassified; /* non-empty units beyond PD_HTML_MAX_KINDS kinds */
} pd_i_html_kinds;
/* Groups the DAG's GPUs (by_layer false) or layers; PD_IO when out of memory. */
pd_status pd_i_html_kinds_compute(const pd_dag *dag, int by_layer, pd_i_html_kinds *k);
void pd_i_html_kinds_release(pd_i_html_kinds *k);

/* Writes the compact node table of the nodes an SVG picture of dag draws (the titles
 * of its <g class="node"> elements: "n<ID>" for a DAG node, "gpu<G>" for a GPU) as one
 * JSON object keyed by those titles; seen (one byte per node, then one per GPU) skips
 * nodes an earlier view already listed.  Returns the bytes written. */
size_t pd_i_html_node_table(FILE *f, const pd_dag *dag, const char *svg, uint8_t *seen);
/* Upper bound of the bytes pd_i_html_node_table writes per node. */
#define PD_HTML_NODE_BYTES 320

/* Text for HTML (escapes & < > " ') and for JSON strings (quotes included). */
void pd_i_html_text(FILE *f, const char *s);
void pd_i_html_json_str(FILE *f, const char *s);

/* Writes NAME.html at path: the views of dag, their node tables, the page's script;
 * timeline_svg (may be NULL) is a picture written in the same run to embed as well.
 * Through an atomic file; scratch pictures go next to path and are removed. */
pd_status pd_i_html_write(const pd_dag *dag, const char *path, const char *timeline_svg,
                          pd_diag_list *diags);

#endif
