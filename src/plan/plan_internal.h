/* plan_internal.h - what the parts of the plan reader share (parse*.c, expand.c).
 *
 * The reader runs: read the bytes -> libxml2 parse (DOCTYPE refused) -> hierarchy
 * rule -> XSD validation -> build the IR.  Libxml2 types appear only here and in
 * parse*.c.
 */
#ifndef PD_PLAN_INTERNAL_H
#define PD_PLAN_INTERNAL_H

#include <libxml/tree.h>

#include "plandag/plan.h"
#include "util/array.h"

/* schemas/plan.xsd, embedded by cmake/embed.cmake (NUL-terminated). */
extern const unsigned char pd_i_schema_plan_xsd[];
extern const size_t pd_i_schema_plan_xsd_len;
/* The allowed name nearest to a misspelt one, read from the embedded plan.xsd:
 * an attribute of `element` (attribute true) or an element of the format. */
bool pd_i_schema_suggest(const char *element, const char *word, bool attribute, char *out,
                         size_t cap);

/* The source text, for element columns (libxml2 records only lines). */
typedef struct pd_i_text {
	const char *buf;
	size_t len;
	size_t *line_start; /* offset of line l (1-based) at line_start[l - 1] */
	long n_lines;
	size_t cursor; /* offset after the last element found in order */
} pd_i_text;

/* Builds the line table (malloc'd); false when out of memory. */
bool pd_i_text_init(pd_i_text *t, const char *buf, size_t len);
void pd_i_text_release(pd_i_text *t);
/* Location of element n.  In document order (in_order) the search resumes after the
 * previous element so that several elements on one line get their own columns;
 * otherwise the first `<name` on the line is taken.  Column 0 when not found. */
pd_loc pd_i_text_loc(pd_i_text *t, const xmlNode *n, bool in_order);
/* Location of attribute `name` in the start tag of the element at `element` (as
 * pd_i_text_loc found it); the element's location when it is not found. */
pd_loc pd_i_text_attr_loc(const pd_i_text *t, pd_loc element, const char *name);
/* Line (1-based) of a byte offset of the text. */
long pd_i_text_line(const pd_i_text *t, size_t offset);

/* The state of one read. */
typedef struct pd_i_reader {
	pd_i_text text;
	pd_diag_list *diags;
	size_t errors; /* schema and hierarchy errors found */
	bool doctype;  /* a DOCTYPE was seen: the parse was stopped */
	/* parents of misplaced elements: their "missing child" XSD errors are
	 * consequences, not news */
	PD_VEC(const xmlNode *) quiet;
	char last_key[160];      /* element/attribute of the last XSD message, so */
	long last_line;          /* that one bad value gives one diagnostic */
	bool stopped;            /* the parse was stopped on an absurd element */
	const xmlNode *loc_node; /* the element of the last XSD message and its */
	pd_loc loc_at;           /* location, found once however many messages */
} pd_i_reader;

/* Adds a `schema` error at (line, column) with a fix; NULL fix = none. */
void pd_i_schema_error(pd_i_reader *r, pd_loc at, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Rephrases a libxml2 parser (xml) or XSD validation (xsd) message into a `schema`
 * diagnostic with a fix line. */
void pd_i_message_add_xml(pd_i_reader *r, pd_loc at, const char *msg);
void pd_i_message_add_xsd(pd_i_reader *r, pd_loc at, const char *msg);

/* The `hierarchy` rule: reports every known plandag element under the wrong parent and
 * shorthand attributes on a <strategy> with <replica> children; misplaced elements
 * are unlinked and freed so that the XSD does not report them again. */
void pd_i_check_hierarchy(pd_i_reader *r, xmlDoc *doc);

/* Layers of stage i of a pipeline of pp stages over `layers` layers: as even as
 * possible, earlier stages take the remainder (61 over 4 is 16, 15, 15, 15).  The
 * shorthand expansion and the plan `suggest` writes (src/search/plan_write.c) share it.
 * *first is the stage's first layer, *count its number of layers. */
void pd_i_pp_split(int64_t layers, int64_t pp, int64_t i, int64_t *first, int64_t *count);

/* Builds the plan IR from a document that passed the schema.  Adds `schema`
 * diagnostics for values the XSD cannot check.  PD_IO only when out of memory. */
pd_status pd_i_build_plan(pd_i_reader *r, xmlDoc *doc, pd_plan *plan);

/* After expand: each pool's first_replica / n_replicas from replica.pool (pools.c). */
void pd_i_pools_reindex(pd_plan *plan);

#endif
