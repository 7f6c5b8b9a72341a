/* parse_messages.c - libxml2's messages, rephrased for plan authors.
 *
 * XSD messages look like "Element 'model', attribute 'layers': MESSAGE.\n"; they become
 * "<model> layers=...: message" in plandag's style (lower case, no full stop) with a
 * fix line that says what the attribute accepts.  pd_i_schema_error, the one way a
 * reader stage adds a `schema` error, lives here too: parse.c and parse_build.c call
 * down into this file, never the other way.
 */
#include "plan/bounds.h"
#include "plan/plan_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Control characters of a quoted value (a newline, a terminal escape) as \xNN: a
 * message stays on its line. */
static void escape_controls(const char *in, char *out, size_t size)
{
	size_t n = 0;
	for (const unsigned char *c = (const unsigned char *)in; *c && n + 5 < size; c++)
		if (*c < 0x20 || *c == 0x7f)
			n += (size_t)snprintf(out + n, size - n, "\\x%02x", *c);
		else
			out[n++] = (char)*c;
	out[n] = '\0';
}

void pd_i_schema_error(pd_i_reader *r, pd_loc at, const char *fix, const char *fmt, ...)
{
	char raw[512], msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	escape_controls(raw, msg, sizeof(msg));
	pd_diag *d =
	    pd_diag_add(r->diags, PD_RULE_SCHEMA, PD_ERROR, at.line, at.column, "%s", msg);
	if (fix)
		pd_diag_fix(d, "%s", fix);
	r->errors++;
}

/* What each simple type of plan.xsd accepts, for the fix line; the integer types are
 * in bounds.h. */
static const struct type_hint {
	const char *type, *hint;
} type_hints[] = {
    {"file-name", "a name of letters, digits, '.', '_' and '-' (at most 128)"},
    {"label", "text of at most 128 characters"},
    {"number", "a non-negative decimal number such as 989 or 10.2e9"},
    {"size", "a size such as 80GB, 64GiB or 1024 (bytes)"},
    {"bandwidth", "a bandwidth such as 3.35TB/s or 450GB/s"},
    {"dtype", "one of fp32, fp16, bf16, fp8"},
    {"phase", "prefill or decode"},
    {"layer-range", "an inclusive layer range such as 0-15"},
    {"expert-range", "an inclusive expert range such as 0-3"},
    {"gpu-list", "GPU ids such as 0-7,16-23"},
    {"xs:boolean", "true or false"},
    {"xs:integer", "a whole number"},
};

static const char *hint_of(const char *type)
{
	for (size_t i = 0; i < sizeof(type_hints) / sizeof(type_hints[0]); i++)
		if (strcmp(type_hints[i].type, type) == 0)
			return type_hints[i].hint;
	return NULL;
}

/* The hint of any simple type: the integer types from their bounds. */
static const char *type_hint(const char *type, char *buf, size_t size)
{
	const pd_i_int_bound *b = pd_i_int_bound_of(type);
	return b ? pd_i_int_bound_hint(b, buf, size) : hint_of(type);
}

/* Copies msg without its trailing newline and full stop, first letter lower case. */
static void tidy(char *out, size_t cap, const char *msg)
{
	snprintf(out, cap, "%s", msg ? msg : "unknown error");
	size_t n = strlen(out);
	while (n > 0 && strchr("\n. !", out[n - 1]))
		out[--n] = '\0';
	if (isupper((unsigned char)out[0]) && !isupper((unsigned char)out[1]))
		out[0] = (char)tolower((unsigned char)out[0]);
}

/* Extracts the text between the quotes that follow `after` in s into out. */
static bool quoted(const char *s, const char *after, char *out, size_t cap)
{
	const char *p = after ? strstr(s, after) : s;
	if (!p)
		return false;
	p = strchr(p + (after ? strlen(after) : 0), '\'');
	const char *q = p ? strchr(p + 1, '\'') : NULL;
	if (!q)
		return false;
	size_t n = (size_t)(q - p - 1);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p + 1, n);
	out[n] = '\0';
	if ((size_t)(q - p - 1) >= cap && cap > 4)
		memcpy(out + cap - 4, "...", 4);
	return true;
}

void pd_i_message_add_xml(pd_i_reader *r, pd_loc at, const char *msg)
{
	char text[256];
	if (r->errors > 0)
		return; /* after the first, libxml2's messages are consequences */
	tidy(text, sizeof(text), msg);
	text[strcspn(text, "\n")] = '\0';
	const char *fix = "fix the XML syntax here: every element closed, every attribute "
	                  "quoted, nothing after </plan>";
	if (strstr(text, "ntity"))
		fix = "plans use no entities: write the text itself (&lt; &gt; &amp; &quot; "
		      "&apos; are allowed)";
	else if (strstr(text, "not proper UTF-8") || strstr(text, "out of allowed range"))
		fix = "save the plan as UTF-8 text; binary data is not a plan";
	pd_i_schema_error(r, at, fix, "not well-formed XML: %s", text);
}

/* "Element 'E', attribute 'A': rest" split into its parts. */
typedef struct xsd_msg {
	char element[64], attribute[64];
	const char *rest;
} xsd_msg;

static void split(const char *msg, xsd_msg *m)
{
	m->element[0] = m->attribute[0] = '\0';
	m->rest = msg;
	if (strncmp(msg, "Element '", 9) != 0)
		return;
	quoted(msg, NULL, m->element, sizeof(m->element));
	const char *colon = strstr(msg, "': ");
	const char *attr = strstr(msg, "', attribute '");
	if (attr && (!colon || attr < colon)) {
		quoted(attr + 2, NULL, m->attribute, sizeof(m->attribute));
		colon = strstr(attr + 14, "': ");
	}
	if (colon)
		m->rest = colon + 3;
}

/* What an attribute checked by a pattern accepts (the pattern message names no type). */
static const char *pattern_hint(const xsd_msg *m)
{
	static const struct {
		const char *element, *attribute, *type;
	} by_attr[] = {
	    {"plan", "name", "file-name"},         {"stage", "layers", "layer-range"},
	    {"stage", "gpus", "gpu-list"},         {"place", "experts", "expert-range"},
	    {"cluster", "gpu-memory", "size"},     {"cluster", "gpu-tflops", "number"},
	    {"model", "params", "number"},         {"workload", "target-throughput", "number"},
	    {"workload", "target-ttft", "number"}, {"workload", "target-tpot", "number"},
	};
	for (size_t i = 0; i < sizeof(by_attr) / sizeof(by_attr[0]); i++)
		if (strcmp(by_attr[i].element, m->element) == 0 &&
		    strcmp(by_attr[i].attribute, m->attribute) == 0)
			return hint_of(by_attr[i].type);
	if (strstr(m->attribute, "bandwidth"))
		return hint_of("bandwidth");
	return NULL;
}

/* The fix line for a value out of bounds or of the wrong form. */
static void value_fix(const xsd_msg *m, char *fix, size_t cap)
{
	char bound[48], type[64], set[96], want[96];
	const char *hint = NULL;
	if (strstr(m->rest, "greater than the maximum") &&
	    quoted(m->rest, "allowed (", bound, sizeof(bound)))
		snprintf(fix, cap, "use a value of at most %s", bound);
	else if (strstr(m->rest, "less than the minimum") &&
	         quoted(m->rest, "allowed (", bound, sizeof(bound)))
		snprintf(fix, cap, "use a value of at least %s", bound);
	else if (strstr(m->rest, "[facet 'enumeration']") && strchr(m->rest, '{')) {
		tidy(set, sizeof(set), strchr(m->rest, '{'));
		snprintf(fix, cap, "write one of %s", set);
	} else {
		if (strstr(m->rest, "[facet 'pattern']"))
			hint = pattern_hint(m);
		else if (quoted(m->rest, "atomic type ", type, sizeof(type)))
			hint = type_hint(type, want, sizeof(want));
		snprintf(fix, cap, "write %s", hint ? hint : "a value the schema accepts");
	}
}

/* A bad value: one diagnostic per element/attribute/line, facet or type message. */
static void add_bad_value(pd_i_reader *r, pd_loc at, const xsd_msg *m)
{
	char key[160], value[48], fix[200];
	snprintf(key, sizeof(key), "%s/%s", m->element, m->attribute);
	if (r->last_line == at.line && strcmp(r->last_key, key) == 0)
		return;
	snprintf(r->last_key, sizeof(r->last_key), "%s", key);
	r->last_line = at.line;
	if (!quoted(m->rest, strstr(m->rest, "The value ") ? "The value " : NULL, value,
	            sizeof(value)))
		value[0] = '\0';
	value_fix(m, fix, sizeof(fix));
	const char *what = strstr(m->rest, "greater than the maximum") ? "is too large"
	                   : strstr(m->rest, "less than the minimum")  ? "is too small"
	                                                               : "is not a valid value";
	pd_i_schema_error(r, at, fix, "<%s> %s=\"%s\" %s", m->element, m->attribute, value,
	                  what);
}

#define FORMAT_DOC "docs/plan-format.md lists every element and attribute"

static void unknown_attribute(pd_i_reader *r, pd_loc at, const xsd_msg *m)
{
	char near[64], fix[200];
	/* the suggestion parses the schema: only for messages that will be shown */
	if (pd_diag_list_keeps(r->diags, PD_RULE_SCHEMA) &&
	    pd_i_schema_suggest(m->element, m->attribute, true, near, sizeof(near)))
		snprintf(fix, sizeof(fix), "did you mean %s? (%s)", near, FORMAT_DOC);
	else
		snprintf(fix, sizeof(fix), "remove it or check its spelling (%s)", FORMAT_DOC);
	pd_i_schema_error(r, at, fix, "<%s> has no attribute %s", m->element, m->attribute);
}

/* expected: libxml2's "expected is ( a, b )" or NULL. */
static void unexpected_element(pd_i_reader *r, pd_loc at, const xsd_msg *m,
                               const char *expected)
{
	char near[64], fix[200];
	if (pd_diag_list_keeps(r->diags, PD_RULE_SCHEMA) &&
	    pd_i_schema_suggest(NULL, m->element, false, near, sizeof(near)))
		snprintf(fix, sizeof(fix), "did you mean <%s>? (%s)", near, FORMAT_DOC);
	else
		snprintf(fix, sizeof(fix), "remove it or check its spelling and its place (%s)",
		         FORMAT_DOC);
	pd_i_schema_error(r, at, fix, "<%s> is not allowed here%s%s", m->element,
	                  expected ? "; " : "", expected ? expected : "");
}

void pd_i_message_add_xsd(pd_i_reader *r, pd_loc at, const char *msg)
{
	xsd_msg m;
	char list[160], text[256];
	split(msg ? msg : "", &m);
	if (m.attribute[0] && strstr(m.rest, "is not allowed")) {
		unknown_attribute(r, at, &m);
	} else if (m.attribute[0]) {
		add_bad_value(r, at, &m);
	} else if (strstr(m.rest, "is required but missing") &&
	           quoted(m.rest, "attribute ", list, sizeof(list))) {
		char fix[256];
		snprintf(fix, sizeof(fix), "add %s=\"...\" to <%s>", list, m.element);
		pd_i_schema_error(r, at, fix, "<%s> is missing the required attribute %s",
		                  m.element, list);
	} else if (strstr(m.rest, "This element is not expected")) {
		const char *exp = strstr(m.rest, "Expected is");
		tidy(list, sizeof(list), exp ? exp : "");
		unexpected_element(r, at, &m, exp ? list : NULL);
	} else {
		tidy(text, sizeof(text), m.rest);
		pd_i_schema_error(r, at, "see schemas/plan.xsd for the plan format",
		                  m.element[0] ? "<%s>: %s" : "%s%s", m.element, text);
	}
}
