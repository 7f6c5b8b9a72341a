/* report.h - the analysis report (Markdown or JSON through cJSON). */
#ifndef PLANDAG_REPORT_H
#define PLANDAG_REPORT_H

#include <stdio.h>

#include "plandag/pipeline.h"
#include "plandag/search.h"

typedef enum pd_report_format { PD_REPORT_MD, PD_REPORT_JSON } pd_report_format;

/* Writes the report of a compilation at any stage it reached (a plan that failed the
 * schema still gets a report with its diagnostics).  overview_png, when not NULL, is
 * the file name the Markdown report links as the overview picture.  f and c must not
 * be NULL (an internal error).  PD_IO when writing f fails or memory runs out. */
pd_status pd_report_write(FILE *f, pd_report_format fmt, const pd_compilation *c,
                          const char *overview_png);
/* The same, the Markdown report showing `picture` (a PNG or SVG file name; a PDF is
 * linked, not shown) under `caption` (the view's name: "overview", "stage 0 of replica
 * 0", ...); pd_report_write is this with the caption "overview". */
pd_status pd_report_write_picture(FILE *f, pd_report_format fmt, const pd_compilation *c,
                                  const char *picture, const char *caption);

/* What `plandag suggest` prints and writes to NAME-suggest.md: the search, the plan as
 * written (orig: its compilation, as `check` judges it) and the result. */
typedef struct pd_suggest_report {
	const char *plan; /* plan/@name */
	const pd_compilation *orig;
	const pd_search_options *opt;
	const pd_search_result *res;
	int threads; /* workers used */
} pd_suggest_report;

/* Markdown: the verdict on the plan as written and why it falls short, the frontier as
 * a table (the winner marked), the winner, what was pruned, the unreachable target.
 * JSON: the object docs/suggest.md describes (section JSON).  PD_IO on a write error. */
pd_status pd_suggest_report_write(FILE *f, pd_report_format fmt,
                                  const pd_suggest_report *r);

#endif
