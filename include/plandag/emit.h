/* emit.h - what `compile` writes for a compilation: the exporter table behind --emit.
 *
 * Above the driver (pipeline.h): pd_emit takes a whole pd_compilation, the writers of
 * export.h only a DAG.  Every export format is one row of the table in
 * src/export/exporters.c; the words, the help, the completion and the staging all come
 * from it.
 */
#ifndef PLANDAG_EMIT_H
#define PLANDAG_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "plandag/export.h"
#include "plandag/pipeline.h"

/* One bit per exporter in a mask of unsigned int, so at most PD_EMIT_MAX of them. */
enum {
	PD_EMIT_DOT = 1u << 0,
	PD_EMIT_GRAPHML = 1u << 1,
	PD_EMIT_PNG = 1u << 2,
	PD_EMIT_SVG = 1u << 3,
	PD_EMIT_PDF = 1u << 4,
	PD_EMIT_REPORT = 1u << 5,
	PD_EMIT_CHAKRA = 1u << 6, /* NAME.chakra/: Chakra traces per rank (chakra.h) */
	PD_EMIT_TRACE = 1u << 7,    /* NAME.trace.json: Chrome Trace Event (Perfetto) */
	PD_EMIT_TIMELINE = 1u << 8, /* NAME-timeline.png and NAME-timeline.svg (cairo) */
	PD_EMIT_HTML = 1u << 9,     /* NAME.html: the interactive page */
	PD_EMIT_DEFAULT = PD_EMIT_DOT | PD_EMIT_GRAPHML | PD_EMIT_PNG | PD_EMIT_REPORT,
};
#define PD_EMIT_MAX 32

/* What the command line and the documentation know of an exporter. */
typedef struct pd_emit_info {
	const char *word;   /* the --emit word: "dot", "graphml", ... */
	const char *suffix; /* appended to NAME[-VIEW]: ".dot", ".md", ... */
	unsigned bit;       /* PD_EMIT_* */
	bool directory;     /* writes a directory of files, not one file */
	bool view;          /* draws the --view: its name gets -VIEW */
	const char *also;   /* suffix of a second file written with the first, or NULL */
} pd_emit_info;

/* The i-th exporter, in the order of --emit's help and of writing; NULL past the last. */
const pd_emit_info *pd_emit_info_at(size_t i);
/* Parses a comma list of the exporters' words, or "none"; PD_USAGE when malformed. */
pd_status pd_emit_parse(const char *s, unsigned *mask);
/* The i-th word pd_emit_parse knows ("dot", "graphml", ...), NULL past the last. */
const char *pd_emit_word(size_t i);
/* Writes the requested files of a checked compilation into dir (created if missing)
 * as DIR/NAME[-VIEW]SUFFIX; prints each written path to `log` unless NULL.  view NULL or
 * AUTO: NAME.dot is the whole graph (the overview above PD_DOT_FULL_LIMIT elements) and
 * the pictures NAME.png/svg/pdf show the automatic view; an explicit view applies to
 * the DOT file and the pictures, whose names get -VIEW (NAME-overview.png).
 * All or nothing: nothing in dir changes unless every requested output was written. */
pd_status pd_emit(const pd_compilation *c, unsigned mask, const pd_view *view,
                  const char *dir, FILE *log, pd_diag_list *diags);

#endif
