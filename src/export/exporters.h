/* exporters.h - the exporter table (exporters.c) and the all-or-nothing staging that
 * writes its rows (emit.c); internal to src/export (and its tests).
 *
 * A row is one --emit word: what the command line knows of it (pd_emit_info), what it
 * needs, and its writer.  pd_emit_parse, pd_emit_word, --help, the man page, the bash
 * completion and the staging all read the table; adding an export is adding a row.
 */
#ifndef PLANDAG_EXPORTERS_H
#define PLANDAG_EXPORTERS_H

#include <stdbool.h>
#include <stddef.h>

#include "export/export_internal.h"
#include "plandag/emit.h"

/* ---- one layout, several pictures (render.c) ---- */
typedef struct pd_i_layout pd_i_layout;
/* Builds the cgraph graph of `view` (AUTO resolved here) and lays it out once.  PD_USAGE
 * with the hint above PD_VIEW_FULL_LIMIT nodes, PD_IO when the layout fails. */
pd_status pd_i_layout_open(const pd_dag *dag, const pd_view *view, pd_i_layout **out,
                           pd_diag_list *diags);
/* Renders the layout as format ("png", "svg", "pdf") into path through an atomic file. */
pd_status pd_i_layout_render(pd_i_layout *l, const char *format, const char *path,
                             pd_diag_list *diags);
/* gvFreeLayout + agclose; accepts NULL. */
void pd_i_layout_close(pd_i_layout *l);

/* ---- the table ---- */
enum {
	PD_I_NEEDS_DAG = 1u << 0, /* refused (before anything is written) without a DAG */
	PD_I_PICTURE = 1u << 1,   /* drawn through gvc: refused above PD_VIEW_FULL_LIMIT */
};

typedef struct pd_i_exporter pd_i_exporter;

/* What a writer gets besides its path; one per pd_emit call. */
typedef struct pd_i_emit_job {
	const pd_compilation *c;
	unsigned mask;      /* every row asked for */
	pd_view pic;        /* the pictures' view, resolved (AUTO when there is no DAG) */
	bool explicit_view; /* the user named a view: it goes into the names */
	const pd_i_exporter *rows;
	size_t n_rows;
	const char *const *names; /* names[i]: the file name row i wrote, NULL if none yet */
	pd_i_layout *layout;      /* the pictures' one layout, made by the first picture */
	pd_diag_list *diags;
} pd_i_emit_job;

/* Writes one output at path (inside the staging directory; a directory row finds the
 * directory made and empty).  Adds its own diagnostic on failure. */
typedef pd_status (*pd_i_export_fn)(pd_i_emit_job *job, const pd_i_exporter *row,
                                    const char *path);

/* Refuses (PD_USAGE, PD_IO with a diagnostic) before anything is written what the row
 * cannot write, e.g. a trace too large to open. */
typedef pd_status (*pd_i_export_check_fn)(const pd_i_emit_job *job, pd_diag_list *diags);

struct pd_i_exporter {
	pd_emit_info info; /* word, suffix, bit, directory, view, also */
	unsigned needs;    /* PD_I_NEEDS_DAG | PD_I_PICTURE */
	pd_i_export_fn write;
	pd_i_export_check_fn check; /* NULL: nothing to refuse beyond `needs` */
};

extern const pd_i_exporter pd_i_exporters[];
extern const size_t pd_i_n_exporters;

/* The path of the row's second file (info.also) next to `path`, its first, into buf. */
const char *pd_i_emit_also_path(const pd_i_exporter *row, const char *path, char *buf,
                                size_t size);

/* The file name already written for the row with `bit`, NULL when none. */
const char *pd_i_emit_name(const pd_i_emit_job *job, unsigned bit);

/* pd_emit over any table (tests give it rows of their own, e.g. a directory
 * exporter): n <= PD_EMIT_MAX rows with distinct bits, written in table order. */
pd_status pd_i_emit_table(const pd_i_exporter *rows, size_t n, const pd_compilation *c,
                          unsigned mask, const pd_view *view, const char *dir, FILE *log,
                          pd_diag_list *diags);

#endif
