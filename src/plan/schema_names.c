/* schema_names.c - the names plan.xsd allows, read from the embedded schema itself so
 * that "did you mean" can never suggest a name the format does not have.  Only error
 * paths call it, so the schema (a few kB) is parsed on each call. */
#include <libxml/parser.h>
#include <string.h>

#include "plan/plan_internal.h"
#include "plandag/suggest.h"

#define XS_NS "http://www.w3.org/2001/XMLSchema"
#define MAX_NAMES 64

typedef struct names {
	char text[MAX_NAMES][64];
	const char *ptr[MAX_NAMES];
	size_t n;
} names;

static int is_xs(const xmlNode *n, const char *local)
{
	return n->type == XML_ELEMENT_NODE && n->ns &&
	       xmlStrcmp(n->ns->href, (const xmlChar *)XS_NS) == 0 &&
	       xmlStrcmp(n->name, (const xmlChar *)local) == 0;
}

static void add_name(names *out, const xmlChar *v)
{
	if (!v || out->n == MAX_NAMES)
		return;
	snprintf(out->text[out->n], sizeof(out->text[0]), "%s", (const char *)v);
	out->ptr[out->n] = out->text[out->n];
	out->n++;
}

/* Every xs:attribute/@name (attrs) or xs:element/@ref (children) below n. */
static void collect(const xmlNode *n, int attrs, names *out)
{
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (attrs && is_xs(c, "attribute")) {
			xmlChar *v = xmlGetProp(c, (const xmlChar *)"name");
			add_name(out, v);
			xmlFree(v);
		} else if (!attrs && is_xs(c, "element")) {
			xmlChar *v = xmlGetProp(c, (const xmlChar *)"ref");
			add_name(out, v);
			xmlFree(v);
		}
		if (!is_xs(c, "element") || !attrs)
			collect(c, attrs, out);
	}
}

/* The global xs:element of that name; element NULL = every global element's name. */
static void schema_names(const char *element, int attrs, names *out)
{
	xmlDoc *doc =
	    xmlReadMemory((const char *)pd_i_schema_plan_xsd, (int)pd_i_schema_plan_xsd_len,
	                  "plan.xsd", NULL, XML_PARSE_NONET);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	for (xmlNode *c = root ? root->children : NULL; c; c = c->next) {
		if (!is_xs(c, "element"))
			continue;
		xmlChar *v = xmlGetProp(c, (const xmlChar *)"name");
		if (!element)
			add_name(out, v);
		else if (v && strcmp((const char *)v, element) == 0)
			collect(c, attrs, out);
		xmlFree(v);
	}
	xmlFreeDoc(doc);
}

bool pd_i_schema_suggest(const char *element, const char *word, bool attribute, char *out,
                         size_t cap)
{
	names n = {.n = 0};
	schema_names(attribute ? element : NULL, attribute, &n);
	const char *best = pd_suggest(word, n.ptr, n.n);
	if (best)
		snprintf(out, cap, "%s", best);
	return best != NULL;
}
