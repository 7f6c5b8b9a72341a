/* parse.c - reading a plan: bytes -> libxml2 -> hierarchy -> XSD -> IR.
 *
 * Libxml2 runs with network access off, no entity substitution, no DTD loading and
 * big line numbers.  A DOCTYPE stops the parser in the SAX internalSubset callback,
 * before any entity declaration is read.  Every libxml2 message goes through
 * structured handlers into the diagnostic list: nothing is printed.
 */
#include "plan/plan_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlschemas.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Larger plans are refused: libxml2 takes an int length and no plan needs more. */
#define PD_MAX_PLAN_BYTES (512u * 1024u * 1024u)
/* No plan element has more than 15 attributes (<model>); far more is an attack on
 * libxml2's attribute lists (quadratic in 2.9), refused before the element is built. */
#define PD_MAX_ATTRIBUTES 64

/* SAX internalSubset hook: a DOCTYPE is refused before its subset is read. */
static void refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                           const xmlChar *sys_id)
{
	(void)name;
	(void)ext_id;
	(void)sys_id;
	xmlParserCtxt *ctxt = ctx;
	pd_i_reader *r = ctxt->_private;
	if (!r->doctype) {
		pd_loc at = {xmlSAX2GetLineNumber(ctxt), 1};
		pd_i_schema_error(r, at,
		                  "remove the <!DOCTYPE ...> declaration: plans use no DTD or "
		                  "entities",
		                  "a DOCTYPE is not allowed in a plan (DTDs and entities are "
		                  "refused)");
	}
	r->doctype = true;
	xmlStopParser(ctxt);
}

/* SAX startElementNs hook: an element with absurdly many attributes stops the parse. */
static void start_element(void *ctx, const xmlChar *name, const xmlChar *prefix,
                          const xmlChar *uri, int n_ns, const xmlChar **ns, int n_attrs,
                          int n_defaulted, const xmlChar **attrs)
{
	xmlParserCtxt *ctxt = ctx;
	pd_i_reader *r = ctxt->_private;
	if (n_attrs > PD_MAX_ATTRIBUTES) {
		pd_loc at = {xmlSAX2GetLineNumber(ctxt), 0};
		pd_i_schema_error(r, at, "remove the attributes that are not in the plan format",
		                  "<%.64s> has %d attributes; a plan element has at most %d", name,
		                  n_attrs, PD_MAX_ATTRIBUTES);
		r->stopped = true;
		xmlStopParser(ctxt);
		return;
	}
	xmlSAX2StartElementNs(ctx, name, prefix, uri, n_ns, ns, n_attrs, n_defaulted, attrs);
}

/* Structured handler of the XML parser: errors become `schema` diagnostics. */
static void on_xml_error(void *ctx, xmlError *err)
{
	xmlParserCtxt *ctxt = ctx;
	pd_i_reader *r = ctxt->_private;
	if (err->level < XML_ERR_ERROR || r->doctype || r->stopped)
		return;
	pd_loc at = {err->line, err->int2 > 0 ? err->int2 : 0};
	pd_i_message_add_xml(r, at, err->message);
}

/* Offset just past the first `end` at or after i, or len. */
static size_t skip_past(const char *buf, size_t len, size_t i, const char *end)
{
	size_t n = strlen(end);
	for (; i + n <= len; i++)
		if (memcmp(buf + i, end, n) == 0)
			return i + n;
	return len;
}

/* Offset past a comment, CDATA section, processing instruction or declaration at i
 * ('<' followed by '!' or '?'). */
static size_t skip_markup(const char *buf, size_t len, size_t i)
{
	if (len - i >= 4 && memcmp(buf + i, "<!--", 4) == 0)
		return skip_past(buf, len, i + 4, "-->");
	if (len - i >= 9 && memcmp(buf + i, "<![CDATA[", 9) == 0)
		return skip_past(buf, len, i + 9, "]]>");
	return skip_past(buf, len, i + 2, buf[i + 1] == '?' ? "?>" : ">");
}

/* Offset of the first start tag with more than PD_MAX_ATTRIBUTES '=' outside quotes, or
 * len.  libxml2 2.9 checks duplicate attributes pairwise before any callback can stop
 * it, so an absurd tag must be found in the raw text; one linear pass does. */
static size_t crowded_tag(const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (buf[i] != '<' || i + 1 == len) {
			i++;
			continue;
		}
		if (buf[i + 1] == '!' || buf[i + 1] == '?') {
			i = skip_markup(buf, len, i);
			continue;
		}
		size_t start = i++;
		int eq = 0;
		char quote = 0;
		for (; i < len && (quote || buf[i] != '>'); i++) {
			if (quote)
				quote = buf[i] == quote ? 0 : quote;
			else if (buf[i] == '"' || buf[i] == '\'')
				quote = buf[i];
			else if (buf[i] == '=' && ++eq > PD_MAX_ATTRIBUTES)
				return start;
		}
	}
	return len;
}

/* Parses the buffer into a DOM; NULL (with diagnostics) when not well-formed. */
static xmlDoc *parse_xml(pd_i_reader *r, const char *buf, size_t len)
{
	size_t crowded = crowded_tag(buf, len);
	if (crowded < len) {
		pd_loc at = {pd_i_text_line(&r->text, crowded), 0};
		pd_i_schema_error(r, at, "remove the attributes that are not in the plan format",
		                  "a start tag has more than %d attributes (no plan element has "
		                  "that many)",
		                  PD_MAX_ATTRIBUTES);
		return NULL;
	}
	xmlParserCtxt *ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
	if (!ctxt) {
		pd_i_schema_error(r, (pd_loc){0, 0}, NULL, "cannot start the XML parser");
		return NULL;
	}
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_BIG_LINES);
	ctxt->_private = r;
	ctxt->sax->internalSubset = refuse_doctype;
	ctxt->sax->serror = on_xml_error;
	ctxt->sax->startElementNs = start_element;
	xmlParseDocument(ctxt);
	xmlDoc *doc = ctxt->myDoc;
	bool ok = ctxt->wellFormed && !r->doctype && !r->stopped && r->errors == 0;
	if (ok == false && r->errors == 0)
		pd_i_schema_error(r, (pd_loc){0, 0}, "check that the file is a complete plan",
		                  "the file is not well-formed XML");
	xmlFreeParserCtxt(ctxt);
	if (!ok) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* Structured handler of XSD validation: skips consequences of hierarchy errors. */
static void on_xsd_error(void *ctx, xmlError *err)
{
	pd_i_reader *r = ctx;
	if (err->level < XML_ERR_ERROR)
		return;
	const xmlNode *n = err->node;
	bool missing_child = err->message && strstr(err->message, "Missing child");
	for (size_t i = 0; missing_child && i < r->quiet.n; i++)
		if (r->quiet.v[i] == n)
			return;
	pd_loc at = {err->line, 0};
	if (n && n->type == XML_ELEMENT_NODE && n == r->loc_node) {
		at = r->loc_at; /* many messages on one element: find its column once */
	} else if (n && n->type == XML_ELEMENT_NODE) {
		at = r->loc_at = pd_i_text_loc(&r->text, n, false);
		r->loc_node = n;
	}
	pd_i_message_add_xsd(r, at, err->message);
}

static void ignore_error(void *ctx, xmlError *err)
{
	(void)ctx;
	(void)err;
}

/* libxml2's generic handler prints to stderr; every message of ours has a structured
 * handler already, so what would reach it is silenced. */
static void ignore_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* Validates doc against the embedded plan.xsd; PD_IO when the schema cannot load. */
static pd_status validate_xsd(pd_i_reader *r, xmlDoc *doc)
{
	pd_status s = PD_IO;
	xmlSchemaParserCtxt *pc = xmlSchemaNewMemParserCtxt((const char *)pd_i_schema_plan_xsd,
	                                                    (int)pd_i_schema_plan_xsd_len);
	xmlSchema *schema = NULL;
	xmlSchemaValidCtxt *vc = NULL;
	if (!pc)
		goto out;
	xmlSchemaSetParserStructuredErrors(pc, ignore_error, NULL);
	schema = xmlSchemaParse(pc);
	if (!schema)
		goto out;
	vc = xmlSchemaNewValidCtxt(schema);
	if (!vc)
		goto out;
	xmlSchemaSetValidStructuredErrors(vc, on_xsd_error, r);
	size_t before = r->errors;
	int rc = xmlSchemaValidateDoc(vc, doc);
	s = rc < 0 ? PD_IO : PD_OK;
	if (rc > 0 && r->errors == before)
		pd_i_schema_error(r, (pd_loc){0, 0}, "see schemas/plan.xsd for the plan format",
		                  "the plan does not follow the schema");
out:
	if (s == PD_IO)
		pd_diag_add(r->diags, PD_RULE_IO, PD_ERROR, 0, 0,
		            "internal error: the embedded plan schema cannot be used");
	xmlSchemaFreeValidCtxt(vc);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pc);
	return s;
}

/* The root must be <plan>: the schema's global elements would accept any of them.
 * Another root gets one error and nothing else (the other checks would be noise). */
static bool check_root(pd_i_reader *r, xmlDoc *doc)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!root || xmlStrcmp(root->name, (const xmlChar *)"plan") == 0)
		return true;
	if (xmlStrcmp(root->name, (const xmlChar *)"graphml") == 0)
		pd_i_schema_error(r, pd_i_text_loc(&r->text, root, false),
		                  "verify a DAG file with 'plandag verify FILE'; 'check' reads "
		                  "deployment plans",
		                  "this is a GraphML DAG, not a deployment plan (<plan>)");
	else
		pd_i_schema_error(r, pd_i_text_loc(&r->text, root, false),
		                  "wrap the plan in <plan name=\"...\">...</plan>",
		                  "the document element is <%.64s>, not <plan>", root->name);
	return false;
}

static pd_status new_plan(const char *name, pd_plan **out)
{
	pd_arena *a = pd_arena_create();
	pd_plan *p = a ? pd_arena_calloc(a, 1, sizeof(*p)) : NULL;
	if (!p) {
		pd_arena_destroy(a);
		return PD_IO;
	}
	p->arena = a;
	p->path = pd_arena_strdup(a, name ? name : "<memory>");
	*out = p;
	return p->path ? PD_OK : PD_IO;
}

/* Parse, hierarchy, schema, then build; *out only when everything passed. */
static pd_status read_document(pd_i_reader *r, const char *buf, size_t len,
                               const char *name, pd_plan **out)
{
	xmlDoc *doc = parse_xml(r, buf, len);
	if (!doc)
		return PD_INVALID;
	if (!check_root(r, doc)) {
		xmlFreeDoc(doc);
		return PD_INVALID;
	}
	pd_i_check_hierarchy(r, doc);
	pd_status s = validate_xsd(r, doc);
	if (s == PD_OK && r->errors > 0)
		s = PD_INVALID;
	pd_plan *plan = NULL;
	if (s == PD_OK)
		s = new_plan(name, &plan);
	if (s == PD_OK)
		s = pd_i_build_plan(r, doc, plan);
	if (s == PD_OK && r->errors > 0)
		s = PD_INVALID;
	xmlFreeDoc(doc);
	if (s != PD_OK)
		pd_plan_destroy(plan);
	else
		*out = plan;
	return s;
}

static bool is_blank(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", buf[i]) || buf[i] == '\0')
			return false;
	return true;
}

pd_status pd_plan_parse_memory(const char *buf, size_t len, const char *name, pd_plan **out,
                               pd_diag_list *diags)
{
	*out = NULL;
	pd_i_reader r = {.diags = diags};
	if (is_blank(buf, len)) {
		pd_i_schema_error(&r, (pd_loc){1, 0}, "write a <plan> element (see examples/)",
		                  "the file is empty");
		return PD_INVALID;
	}
	if (len > PD_MAX_PLAN_BYTES) {
		pd_i_schema_error(&r, (pd_loc){0, 0}, "split the plan or use the shorthand",
		                  "the file is larger than %u bytes", PD_MAX_PLAN_BYTES);
		return PD_INVALID;
	}
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, ignore_generic);
	if (!pd_i_text_init(&r.text, buf, len))
		return PD_IO;
	pd_status s = read_document(&r, buf, len, name, out);
	pd_i_text_release(&r.text);
	free(r.quiet.v);
	return s;
}

/* At most PD_MAX_PLAN_BYTES + 1 bytes of fd (hint: its size when known) into a malloc'd
 * NUL-terminated buffer; NULL with errno on failure.  Streams stop past the limit. */
static char *read_fd(int fd, size_t hint, size_t *len)
{
	const size_t most = PD_MAX_PLAN_BYTES + 1u;
	size_t cap = hint < 65536 ? 65536 : hint < most ? hint + 1 : most, n = 0;
	char *buf = malloc(cap + 1);
	int err = buf ? 0 : ENOMEM;
	while (!err && n < most) {
		if (n == cap) {
			size_t more = cap * 2 < most ? cap * 2 : most;
			char *bigger = realloc(buf, more + 1);
			err = bigger ? 0 : ENOMEM;
			buf = bigger ? bigger : buf;
			cap = bigger ? more : cap;
			continue;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno != EINTR)
			err = errno ? errno : EIO;
		if (got == 0)
			break;
		n += got > 0 ? (size_t)got : 0;
	}
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void refuse_io(pd_diag_list *diags, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse_io(pd_diag_list *diags, const char *fix, const char *fmt, ...)
{
	char msg[4200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pd_diag_fix(pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "%s", msg), "%s", fix);
}

#define READ_FIX "check the path and that the file is readable"
#define SIZE_FIX "split the plan, or describe it with the <strategy> shorthand"

/* The file's bytes, or NULL after a diagnostic: unreadable, a directory, too large.
 * The size of a regular file is checked before reading; a stream stops at the limit.
 * The path "-" is standard input. */
static char *read_plan_file(const char *path, size_t *len, pd_diag_list *diags)
{
	struct stat st;
	int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	int err = fd < 0 || fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
	char *buf = NULL;
	if (!err && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > PD_MAX_PLAN_BYTES)
		refuse_io(diags, SIZE_FIX, "%s is %.0f MB, over the 512 MiB limit of a plan", path,
		          (double)st.st_size / 1e6);
	else if (!err &&
	         !(buf = read_fd(fd, S_ISREG(st.st_mode) ? (size_t)st.st_size : 0, len)))
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err)
		refuse_io(diags, READ_FIX, "cannot read %s: %s", path, strerror(err));
	if (buf && *len > PD_MAX_PLAN_BYTES) {
		refuse_io(diags, SIZE_FIX,
		          "%s is over the 512 MiB limit of a plan (reading stopped there)", path);
		free(buf);
		buf = NULL;
	}
	return buf;
}

pd_status pd_plan_parse_file(const char *path, pd_plan **out, pd_diag_list *diags)
{
	*out = NULL;
	size_t len = 0;
	char *buf = read_plan_file(path, &len, diags);
	if (!buf)
		return PD_IO;
	pd_status s = pd_plan_parse_memory(buf, len, path, out, diags);
	free(buf);
	return s;
}
