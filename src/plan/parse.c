/* parse.c - reading a plan: bytes -> libxml2 -> hierarchy -> XSD -> IR.
 *
 * Libxml2 runs with network access off, no entity substitution, no DTD loading and
 * big line numbers.  A DOCTYPE stops the parser in the SAX internalSubset callback,
 * before any entity declaration is read.  Every libxml2 message goes through
 * structured handlers into the diagnostic list: nothing is printed.
 */
#include "plan/plan_internal.h"

#include <errno.h>
#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlschemas.h>
#include <stdlib.h>
#include <string.h>

/* Larger plans are refused: libxml2 takes an int length and no plan needs more. */
#define PD_MAX_PLAN_BYTES (512u * 1024u * 1024u)

void pd_i_schema_error(pd_i_reader *r, pd_loc at, const char *fix, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pd_diag *d =
	    pd_diag_add(r->diags, PD_RULE_SCHEMA, PD_ERROR, at.line, at.column, "%s", msg);
	if (fix)
		pd_diag_fix(d, "%s", fix);
	r->errors++;
}

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

/* Structured handler of the XML parser: errors become `schema` diagnostics. */
static void on_xml_error(void *ctx, xmlError *err)
{
	xmlParserCtxt *ctxt = ctx;
	pd_i_reader *r = ctxt->_private;
	if (err->level < XML_ERR_ERROR || r->doctype)
		return;
	pd_loc at = {err->line, err->int2 > 0 ? err->int2 : 0};
	pd_i_message_add_xml(r, at, err->message);
}

/* Parses the buffer into a DOM; NULL (with diagnostics) when not well-formed. */
static xmlDoc *parse_xml(pd_i_reader *r, const char *buf, size_t len)
{
	xmlParserCtxt *ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
	if (!ctxt) {
		pd_i_schema_error(r, (pd_loc){0, 0}, NULL, "cannot start the XML parser");
		return NULL;
	}
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_BIG_LINES);
	ctxt->_private = r;
	ctxt->sax->internalSubset = refuse_doctype;
	ctxt->sax->serror = on_xml_error;
	xmlParseDocument(ctxt);
	xmlDoc *doc = ctxt->myDoc;
	bool ok = ctxt->wellFormed && !r->doctype && r->errors == 0;
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
	for (size_t i = 0; missing_child && i < r->n_quiet; i++)
		if (r->quiet[i] == n)
			return;
	pd_loc at = {err->line, 0};
	if (n && n->type == XML_ELEMENT_NODE)
		at = pd_i_text_loc(&r->text, n, false);
	pd_i_message_add_xsd(r, at, err->message);
}

static void ignore_error(void *ctx, xmlError *err)
{
	(void)ctx;
	(void)err;
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
	if (!pd_i_text_init(&r.text, buf, len))
		return PD_IO;
	pd_status s = read_document(&r, buf, len, name, out);
	pd_i_text_release(&r.text);
	free(r.quiet);
	return s;
}

/* Whole file into a malloc'd NUL-terminated buffer; NULL with errno on failure.  The
 * path "-" is standard input. */
static char *slurp(const char *path, size_t *len)
{
	int is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap || n > PD_MAX_PLAN_BYTES)
			break;
		char *bigger = realloc(buf, cap * 2 + 1);
		if (!bigger) {
			free(buf);
			buf = NULL;
		}
		buf = bigger;
		cap *= 2;
	}
	int failed = ferror(f);
	int saved = failed ? (errno ? errno : EIO) : 0;
	if (!is_stdin)
		fclose(f);
	if (failed) {
		free(buf);
		errno = saved;
		return NULL;
	}
	if (!buf)
		errno = ENOMEM;
	else
		buf[n] = '\0';
	*len = n;
	return buf;
}

pd_status pd_plan_parse_file(const char *path, pd_plan **out, pd_diag_list *diags)
{
	*out = NULL;
	size_t len = 0;
	char *buf = slurp(path, &len);
	if (!buf) {
		pd_diag *d = pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot read %s: %s",
		                         path, strerror(errno));
		pd_diag_fix(d, "check the path and that the file is readable");
		return PD_IO;
	}
	pd_status s = pd_plan_parse_memory(buf, len, path, out, diags);
	free(buf);
	return s;
}
