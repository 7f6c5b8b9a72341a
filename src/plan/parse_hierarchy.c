/* parse_hierarchy.c - the `hierarchy` rule: DP outside PP, PP outside TP/EP, nothing
 * else nests.
 *
 *   plan > model | cluster | workload | strategy
 *   strategy > replica (DP)  > stage (PP) > attention (TP/SP) | moe (EP) > place
 *                                          | dense-ffn (TP of dense layers)
 *   strategy > pool (phase)  > replica ...  (a pooled plan, docs/pools.md)
 *
 * A strategy holds replicas or pools, not both; a pooled plan has one prefill and one
 * decode pool, each with replicas.
 *
 * Checked before the XSD so that a misplaced element gets one message that names the
 * levels; the element is then removed so that the XSD does not report it again.
 */
#include "plan/plan_internal.h"

#include <stdlib.h>
#include <string.h>

/* The parent each plandag element must have ("" = the document itself). */
static const struct level {
	const char *name, *parent;
} levels[] = {
    {"plan", ""},         {"model", "plan"},      {"cluster", "plan"},
    {"workload", "plan"}, {"strategy", "plan"},   {"replica", "strategy"},
    {"stage", "replica"}, {"attention", "stage"}, {"moe", "stage"},
    {"place", "moe"},     {"dense-ffn", "stage"}, {"pool", "strategy"},
};

static bool named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static const char *parent_of(const char *name)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(levels[i].name, name) == 0)
			return levels[i].parent;
	return NULL;
}

/* Depth of a known element in the hierarchy (plan 0 ... place 5). */
static int depth_of(const char *name)
{
	int d = 0;
	for (const char *p = parent_of(name); p && *p; p = parent_of(p))
		d++;
	return d;
}

static bool is_op_level(const char *name)
{
	return strcmp(name, "attention") == 0 || strcmp(name, "moe") == 0 ||
	       strcmp(name, "dense-ffn") == 0;
}

/* Why a child may not sit in that parent, and the fix. */
static void explain(const char *c, const char *p, char *why, char *fix, size_t cap)
{
	const char *want = parent_of(c);
	if (strcmp(c, "stage") == 0 && depth_of(p) > depth_of(c)) {
		snprintf(why, cap,
		         "a pipeline stage holds its attention and experts, not the "
		         "other way round");
		snprintf(fix, cap, "close <%s> first: <attention> and <moe> go inside a <stage>",
		         p);
	} else if (strcmp(c, "replica") == 0 && depth_of(p) > depth_of(c)) {
		snprintf(why, cap,
		         "a DP replica holds pipeline stages, not the other way round "
		         "(DP is outside PP)");
		snprintf(fix, cap,
		         "make <replica> a direct child of <strategy> and put the "
		         "<stage> elements inside it");
	} else if (strcmp(c, p) == 0) {
		snprintf(why, cap, "<%s> elements do not nest", c);
		snprintf(fix, cap, "make them siblings inside one <%s>", want);
	} else if (is_op_level(c) && is_op_level(p)) {
		snprintf(why, cap,
		         "attention (TP/SP) and experts (EP) share the stage's GPUs "
		         "side by side; nothing else nests");
		snprintf(fix, cap, "make <%s> a sibling of <%s> inside the <stage>", c, p);
	} else if (depth_of(p) < depth_of(c)) {
		snprintf(why, cap, "<%s> belongs in a <%s>%s", c, want,
		         strcmp(c, "stage") == 0 ? " (DP is outside PP)"
		         : is_op_level(c)        ? "; TP/SP and EP act inside one pipeline stage"
		                                 : "");
		snprintf(fix, cap, "wrap it in <%s>%s", want,
		         strcmp(want, "replica") == 0 ? " (e.g. <replica count=\"1\">)"
		         : strcmp(want, "stage") == 0 ? " (e.g. <stage layers=\"0-15\">)"
		                                      : "");
	} else {
		snprintf(why, cap, "<%s> belongs directly in <%s>", c, want);
		snprintf(fix, cap, "move it into <%s>", want);
	}
}

/* Blank text left behind in an element of empty content would be an XSD error. */
static void drop_blank_text(xmlNode *parent)
{
	for (xmlNode *c = parent->children, *next; c; c = next) {
		next = c->next;
		if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
}

static void quiet_parent(pd_i_reader *r, const xmlNode *parent)
{
	/* out of memory only costs an extra XSD message */
	(void)PD_VEC_PUSH(&r->quiet, parent);
}

/* A known element under a known element that is not its parent. */
static bool misplaced(const xmlNode *n)
{
	const xmlNode *p = n->parent;
	if (!p || p->type != XML_ELEMENT_NODE)
		return false;
	const char *want = parent_of((const char *)n->name);
	if (named(n, "replica") && named(p, "pool"))
		return false; /* a pool's replicas */
	return want && parent_of((const char *)p->name) &&
	       strcmp(want, (const char *)p->name) != 0;
}

static void report(pd_i_reader *r, pd_loc at, const char *c, const char *p)
{
	char why[256], fix[256];
	explain(c, p, why, fix, sizeof(why));
	bool direct = depth_of(p) < depth_of(c) && strcmp(c, p) != 0;
	pd_diag *d =
	    pd_diag_add(r->diags, PD_RULE_HIERARCHY, PD_ERROR, at.line, at.column,
	                "<%s> %s <%s>: %s", c, direct ? "directly in" : "inside", p, why);
	pd_diag_fix(d, "%s", fix);
	r->errors++;
}

/* Shorthand degrees and <replica> children on one <strategy> mix two forms. */
static void check_shorthand(pd_i_reader *r, const xmlNode *n, pd_loc at)
{
	static const char *const attrs[] = {"dp", "pp", "tp", "ep", "sp"};
	const char *given = NULL;
	for (size_t i = 0; i < 5 && !given; i++)
		if (xmlHasProp(n, (const xmlChar *)attrs[i]))
			given = attrs[i];
	bool replicas = false;
	for (const xmlNode *c = n->children; c && !replicas; c = c->next)
		replicas = named(c, "replica") || named(c, "pool");
	if (!given || !replicas)
		return;
	pd_diag *d = pd_diag_add(r->diags, PD_RULE_HIERARCHY, PD_ERROR, at.line, at.column,
	                         "<strategy> has shorthand degrees (%s=) and <replica> or "
	                         "<pool> children: the shorthand is expanded into replicas "
	                         "itself",
	                         given);
	pd_diag_fix(d, "remove dp/pp/tp/ep/sp from <strategy> or remove its <replica> "
	               "elements");
	r->errors++;
}

static void pool_error(pd_i_reader *r, const xmlNode *n, const char *fix, const char *msg)
{
	pd_loc at = pd_i_text_loc(&r->text, n, false);
	pd_diag_fix(
	    pd_diag_add(r->diags, PD_RULE_HIERARCHY, PD_ERROR, at.line, at.column, "%s", msg),
	    "%s", fix);
	r->errors++;
}

static bool has_replica(const xmlNode *pool)
{
	for (const xmlNode *c = pool->children; c; c = c->next)
		if (named(c, "replica"))
			return true;
	return false;
}

/* The pool `n` (phase `ph`, "prefill" or "decode"): no replicas, or a second pool of
 * its phase (`seen` counts the pools of each phase so far). */
static void check_pool(pd_i_reader *r, const xmlNode *n, int seen[2])
{
	xmlChar *ph = xmlGetNoNsProp(n, (const xmlChar *)"phase");
	int k = ph && xmlStrcmp(ph, (const xmlChar *)"prefill") == 0;
	if (ph && ++seen[k] == 2) {
		char msg[160];
		snprintf(msg, sizeof(msg),
		         "a second <pool phase=\"%s\">: a strategy has at most one pool per phase",
		         (const char *)ph);
		pool_error(r, n, "merge the two pools into one (put every replica in the first)",
		           msg);
	}
	xmlFree(ph);
	if (!has_replica(n))
		pool_error(
		    r, n,
		    "add the pool's <replica> elements (e.g. <replica count=\"1\"><stage "
		    "layers=\"0-...\">...</stage></replica>) or remove the pool",
		    "<pool> without replicas: a pool serves its phase on its replicas' GPUs");
}

/* A pooled strategy: only pools (a bare <replica> is an error at its line), one
 * prefill and one decode pool, each with replicas. */
static void check_pools(pd_i_reader *r, const xmlNode *strategy, pd_loc at)
{
	int seen[2] = {0, 0}, pools = 0;
	for (const xmlNode *c = strategy->children; c; c = c->next)
		if (named(c, "pool")) {
			check_pool(r, c, seen);
			pools++;
		}
	if (pools == 0)
		return;
	for (const xmlNode *c = strategy->children; c; c = c->next)
		if (named(c, "replica"))
			pool_error(r, c,
			           "move this <replica> into the <pool> of its phase: a strategy holds "
			           "either replicas or pools",
			           "<replica> directly in a <strategy> that has <pool> elements");
	if (seen[0] == 0 || seen[1] == 0) {
		pd_diag_fix(pd_diag_add(r->diags, PD_RULE_HIERARCHY, PD_ERROR, at.line, at.column,
		                        "a pooled strategy needs a prefill and a decode pool; "
		                        "this one has no %s pool",
		                        seen[1] == 0 ? "prefill" : "decode"),
		            "add <pool phase=\"%s\"> with its replicas, or write the replicas "
		            "directly in <strategy> with <workload phase=\"%s\">",
		            seen[1] == 0 ? "prefill" : "decode",
		            seen[1] == 0 ? "decode" : "prefill");
		r->errors++;
	}
}

static void walk(pd_i_reader *r, xmlNode *n)
{
	for (xmlNode *next; n; n = next) {
		next = n->next;
		if (n->type != XML_ELEMENT_NODE)
			continue;
		pd_loc at = pd_i_text_loc(&r->text, n, true);
		if (misplaced(n)) {
			report(r, at, (const char *)n->name, (const char *)n->parent->name);
			xmlNode *parent = n->parent;
			xmlUnlinkNode(n);
			xmlFreeNode(n);
			quiet_parent(r, parent);
			continue;
		}
		if (xmlStrcmp(n->name, (const xmlChar *)"strategy") == 0) {
			check_shorthand(r, n, at);
			check_pools(r, n, at);
		}
		walk(r, n->children);
	}
}

void pd_i_check_hierarchy(pd_i_reader *r, xmlDoc *doc)
{
	r->text.cursor = 0;
	walk(r, doc->children);
	for (size_t i = 0; i < r->quiet.n; i++) /* after the walk: it holds pointers */
		drop_blank_text((xmlNode *)r->quiet.v[i]);
}
