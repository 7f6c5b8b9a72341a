/* plan_write.c - the suggested plan as text (pd_search_plan_xml).
 *
 * The original file is edited by splicing text, not by re-serialising a tree: a libxml2
 * SAX parse of the original (network off, DOCTYPE refused) finds the byte range of
 * <workload> and <strategy>, the children of <plan> (xmlByteConsumed at the end of each
 * start and end tag); the new text replaces exactly those ranges.  Everything else (the
 * XML declaration, comments, indentation, attribute order and quoting, the line breaks
 * inside <model>) stays byte for byte, so `suggest --diff` shows only what changed.
 *
 *   <strategy>  rewritten whole in the structural form of choice c: one <replica
 *               count=dp> of pp stages (layers split by pd_i_pp_split, as the shorthand
 *               expansion splits them), no gpus (expand hands out the next free ones);
 *               <moe> on every stage of a MoE model (the stage size is max(tp, ep) on
 *               stages of dense layers too), <dense-ffn> where its TP differs from the
 *               attention TP and the stage holds dense layers
 *   <workload>  only its micro-batches and overlap attributes are set (the other
 *               attributes untouched); created before <strategy> when absent
 *
 * A changed element gets one comment right before it, saying what it was and what it
 * is now; an unchanged one is left as it was.  Comments inside the old <strategy> go
 * with it.  Inserted text is ASCII, so the original must be in an ASCII-compatible
 * encoding (a NUL byte, as UTF-16 has, gives NULL).
 */
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlstring.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan_internal.h"
#include "plandag/search.h"
#include "util/array.h"

/* ---- finding the two elements ---- */

typedef struct span {
	size_t start, tag_end, end; /* '<', the '>' or "/>" of the start tag, past the end */
	bool found, closed;
} span;

typedef struct finder {
	xmlParserCtxtPtr ctxt;
	const char *buf;
	int depth;
	bool plan_root, bad;
	span workload, strategy;
} finder;

static span *span_of(finder *f, const xmlChar *name)
{
	if (f->depth != 2)
		return NULL;
	if (xmlStrEqual(name, BAD_CAST "workload"))
		return &f->workload;
	if (xmlStrEqual(name, BAD_CAST "strategy"))
		return &f->strategy;
	return NULL;
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar *prefix,
                     const xmlChar *uri, int nns, const xmlChar **ns, int nattr, int ndef,
                     const xmlChar **attrs)
{
	(void)prefix, (void)uri, (void)nns, (void)ns, (void)nattr, (void)ndef, (void)attrs;
	finder *f = ctx;
	f->depth++;
	if (f->depth == 1)
		f->plan_root = xmlStrEqual(name, BAD_CAST "plan");
	span *s = span_of(f, name);
	if (!s)
		return;
	long at = xmlByteConsumed(f->ctxt);
	if (s->found || at <= 0) {
		f->bad = true; /* twice: the schema refuses it; no position: cannot splice */
		return;
	}
	/* the start tag ends here; '<' cannot occur inside it, so the last one before is
	 * where it begins */
	size_t end = (size_t)at, start = end;
	while (start > 0 && f->buf[start - 1] != '<')
		start--;
	*s = (span){.start = start ? start - 1 : 0, .tag_end = end, .found = start > 0};
	f->bad |= !s->found;
}

static void on_end(void *ctx, const xmlChar *name, const xmlChar *prefix,
                   const xmlChar *uri)
{
	(void)prefix, (void)uri;
	finder *f = ctx;
	span *s = span_of(f, name);
	long at = xmlByteConsumed(f->ctxt);
	if (s && at > 0) {
		s->end = (size_t)at;
		s->closed = true;
	}
	f->depth--;
}

static void on_dtd(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
	(void)name, (void)ext, (void)sys;
	finder *f = ctx;
	f->bad = true; /* the plan reader refuses a DOCTYPE: so does the writer */
	xmlStopParser(f->ctxt);
}

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

static void quiet_structured(void *ctx, xmlErrorPtr e)
{
	(void)ctx, (void)e;
}

/* True when orig is a well-formed <plan> with a <strategy>; *f holds the ranges. */
static bool find_elements(const char *orig, size_t len, finder *f)
{
	memset(f, 0, sizeof(*f));
	f->buf = orig;
	if (len == 0 || len > (size_t)INT_MAX || memchr(orig, 0, len))
		return false;
	xmlInitParser();
	xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(orig, (int)len);
	if (!ctxt)
		return false;
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlSAXHandler sax = {.initialized = XML_SAX2_MAGIC,
	                     .startElementNs = on_start,
	                     .endElementNs = on_end,
	                     .internalSubset = on_dtd,
	                     .warning = quiet,
	                     .error = quiet,
	                     .fatalError = quiet,
	                     .serror = quiet_structured};
	memcpy(ctxt->sax, &sax, sizeof(sax));
	ctxt->userData = f;
	f->ctxt = ctxt;
	xmlParseDocument(ctxt);
	bool ok = ctxt->wellFormed && !f->bad && f->plan_root && f->strategy.closed &&
	          (!f->workload.found || f->workload.closed);
	xmlFreeParserCtxt(ctxt);
	f->ctxt = NULL;
	return ok;
}

/* ---- text out ---- */

typedef struct out {
	pd_i_strbuf b;
	const char *nl;   /* "\n", or "\r\n" when the original uses it */
	char indent[64];  /* of the <strategy> line */
	const char *unit; /* one level more */
	bool failed;
} out;

static void put(out *o, const char *s, size_t n)
{
	if (!o->failed && pd_i_strbuf_append(&o->b, s, n) != PD_OK)
		o->failed = true;
}

static void puts_(out *o, const char *s)
{
	put(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(out *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		o->failed = true;
	else
		put(o, buf, (size_t)n);
}

/* A new line at nesting depth `level` below the <strategy> line's indentation. */
static void line(out *o, int level)
{
	puts_(o, o->nl);
	puts_(o, o->indent);
	for (int i = 0; i < level; i++)
		puts_(o, o->unit);
}

/* Text that cannot end or break a comment: "--" becomes "- -", control characters
 * spaces, bytes of malformed UTF-8 '?', and it never ends in '-'. */
static void put_comment_text(out *o, const char *s)
{
	bool utf8 = xmlCheckUTF8(BAD_CAST s) != 0;
	char prev = 0;
	for (; *s; s++) {
		char ch = *s;
		if ((unsigned char)ch < 0x20 || ch == 0x7f)
			ch = ' ';
		else if ((unsigned char)ch >= 0x80 && !utf8)
			ch = '?';
		if (ch == '-' && prev == '-')
			put(o, " ", 1);
		put(o, &ch, 1);
		prev = ch;
	}
	if (prev == '-')
		put(o, " ", 1);
}

/* ---- what the plan said and what c says ---- */

/* The strategy as written, summarised by its first stage (DP = replicas). */
typedef struct summary {
	int64_t dp, pp, tp, ep, dense_tp, redundant, gpus;
	bool sp;
} summary;

static int64_t stage_size(const pd_stage *s, bool expanded)
{
	if (expanded || s->gpus_given)
		return s->n_gpus;
	return s->tp > s->ep ? s->tp : s->ep;
}

static summary summarise(const pd_plan *p)
{
	const pd_strategy *st = &p->strategy;
	if (st->shorthand && !p->expanded) {
		int64_t size = st->tp > st->ep ? st->tp : st->ep;
		return (summary){st->dp, st->pp, st->tp, st->ep, st->tp, 0, st->dp * st->pp * size,
		                 st->sp};
	}
	summary s = {0};
	for (uint32_t r = 0; r < st->n_replicas; r++) {
		const pd_replica *rep = &st->replicas[r];
		s.dp += rep->count;
		for (uint32_t k = 0; k < rep->n_stages; k++)
			s.gpus += rep->count * stage_size(&rep->stages[k], p->expanded);
	}
	if (st->n_replicas > 0 && st->replicas[0].n_stages > 0) {
		const pd_stage *g = &st->replicas[0].stages[0];
		s.pp = st->replicas[0].n_stages;
		s = (summary){s.dp,         s.pp,   g->tp, g->ep, pd_stage_dense_tp(g),
		              g->redundant, s.gpus, g->sp};
	}
	return s;
}

static int64_t choice_size(const pd_choice *c)
{
	return c->tp > c->ep ? c->tp : c->ep;
}

/* True when stage k of replica r is what the written strategy would expand to. */
static bool stage_is(const pd_plan *p, const pd_stage *g, int64_t r, int64_t k,
                     const pd_choice *c)
{
	int64_t first, n, size = choice_size(c);
	pd_i_pp_split(p->model.layers, c->pp, k, &first, &n);
	if (g->first_layer != first || g->last_layer != first + n - 1 || g->tp != c->tp ||
	    g->sp != c->sp || g->ep != c->ep || g->redundant != c->redundant ||
	    g->n_places > 0 || g->n_gpus != (uint32_t)size)
		return false;
	if (n > 0 && !pd_model_layer_is_moe(&p->model, first) &&
	    pd_stage_dense_tp(g) != c->dense_tp)
		return false;
	for (int64_t j = 0; j < size; j++)
		if (g->gpus[j] != (r * c->pp + k) * size + j)
			return false;
	return true;
}

/* True when the (expanded) strategy already is choice c, GPU for GPU. */
static bool strategy_unchanged(const pd_plan *p, const pd_choice *c)
{
	const pd_strategy *st = &p->strategy;
	if (!p->expanded || st->n_replicas != (uint32_t)c->dp ||
	    (st->has_declared_gpus && st->declared_gpus != pd_choice_gpus(c)))
		return false;
	for (uint32_t r = 0; r < st->n_replicas; r++) {
		if (st->replicas[r].n_stages != (uint32_t)c->pp)
			return false;
		for (uint32_t k = 0; k < st->replicas[r].n_stages; k++)
			if (!stage_is(p, &st->replicas[r].stages[k], r, k, c))
				return false;
	}
	return true;
}

static void strategy_comment(out *o, const pd_plan *p, const pd_choice *c, const char *why)
{
	summary s = summarise(p);
	putf(o, "<!-- plandag suggest: strategy was dp=%lld pp=%lld tp=%lld", (long long)s.dp,
	     (long long)s.pp, (long long)s.tp);
	if (p->model.experts > 0 || s.ep > 1)
		putf(o, " ep=%lld", (long long)s.ep);
	if (s.sp)
		puts_(o, " sp");
	if (s.redundant > 0)
		putf(o, " redundant=%lld", (long long)s.redundant);
	if (s.dense_tp != s.tp)
		putf(o, " dense-tp=%lld", (long long)s.dense_tp);
	if (p->strategy.has_declared_gpus && p->strategy.declared_gpus != s.gpus)
		putf(o, " (declared %lld GPUs, really %lld)", (long long)p->strategy.declared_gpus,
		     (long long)s.gpus);
	else
		putf(o, " (%lld GPUs)", (long long)s.gpus);
	char desc[200];
	putf(o, "; now %lld GPUs: %s", (long long)pd_choice_gpus(c),
	     pd_choice_describe(c, desc, sizeof(desc)));
	if (why && *why) {
		puts_(o, " (");
		put_comment_text(o, why);
		puts_(o, ")");
	}
	puts_(o, " -->");
}

/* ---- the new <strategy> ---- */

/* Stage k of c, `base` levels deeper than a plain strategy's (1 inside a <pool>). */
static void write_stage(out *o, const pd_model *m, const pd_choice *c, int64_t k, int base)
{
	int64_t first, n;
	pd_i_pp_split(m->layers, c->pp, k, &first, &n);
	line(o, base + 2);
	putf(o, "<stage layers=\"%lld-%lld\">", (long long)first, (long long)(first + n - 1));
	line(o, base + 3);
	putf(o, "<attention tp=\"%lld\" sp=\"%s\"/>", (long long)c->tp,
	     c->sp ? "true" : "false");
	if (m->experts > 0) {
		line(o, base + 3);
		putf(o, "<moe ep=\"%lld\"", (long long)c->ep);
		if (c->redundant > 0)
			putf(o, " redundant-experts=\"%lld\"", (long long)c->redundant);
		puts_(o, "/>");
	}
	if (c->dense_tp != c->tp && !pd_model_layer_is_moe(m, first)) {
		line(o, base + 3);
		putf(o, "<dense-ffn tp=\"%lld\"/>", (long long)c->dense_tp);
	}
	line(o, base + 2);
	puts_(o, "</stage>");
}

/* <replica count=dp> with c's stages, `base` levels deeper than a plain strategy's. */
static void write_replica(out *o, const pd_plan *p, const pd_choice *c, int base)
{
	line(o, base + 1);
	putf(o, "<replica count=\"%lld\">", (long long)c->dp);
	for (int64_t k = 0; k < c->pp; k++)
		write_stage(o, &p->model, c, k, base);
	line(o, base + 1);
	puts_(o, "</replica>");
}

static void write_strategy(out *o, const pd_plan *p, const pd_choice *c)
{
	putf(o, "<strategy gpus=\"%lld\">", (long long)pd_choice_gpus(c));
	write_replica(o, p, c, 0);
	line(o, 0);
	puts_(o, "</strategy>");
}

/* ---- the edits ---- */

#define MAX_EDITS 8

typedef struct edit {
	size_t from, to; /* orig[from, to) becomes text */
	pd_i_strbuf text;
} edit;

typedef struct editor {
	const char *buf;
	const char *nl, *unit;
	edit e[MAX_EDITS];
	int n;
	bool failed;
} editor;

/* An out for the next edit, indented like the line holding orig[at]. */
static out begin(const editor *ed, size_t at)
{
	out o = {.nl = ed->nl, .unit = ed->unit};
	size_t s = at;
	while (s > 0 && ed->buf[s - 1] != '\n')
		s--;
	bool blank = true;
	for (size_t i = s; i < at; i++)
		blank &= ed->buf[i] == ' ' || ed->buf[i] == '\t';
	size_t n = blank ? at - s : 0;
	if (n < sizeof(o.indent))
		memcpy(o.indent, ed->buf + s, n);
	return o;
}

static void end(editor *ed, out *o, size_t from, size_t to)
{
	if (o->failed || ed->n == MAX_EDITS) {
		ed->failed = true;
		pd_i_strbuf_release(&o->b);
		return;
	}
	ed->e[ed->n++] = (edit){from, to, o->b};
}

/* The value of attribute `name` in the start tag buf[from, to): true and its range. */
static bool find_attr(const char *buf, size_t from, size_t to, const char *name, size_t *vs,
                      size_t *ve)
{
	size_t i = from, len = strlen(name);
	while (i < to) {
		while (i < to && strchr(" \t\r\n", buf[i]))
			i++;
		size_t ns = i;
		while (i < to && buf[i] != '=' && !strchr(" \t\r\n", buf[i]))
			i++;
		size_t ne = i;
		while (i < to && buf[i] != '\'' && buf[i] != '"')
			i++;
		if (i >= to)
			return false;
		char q = buf[i++];
		*vs = i;
		while (i < to && buf[i] != q)
			i++;
		*ve = i++;
		if (ne - ns == len && memcmp(buf + ns, name, len) == 0)
			return true;
	}
	return false;
}

/* Sets attribute name of the <workload> start tag to value (added only when it is not
 * the default dflt). */
static void set_attr(editor *ed, const span *w, const char *name, const char *value,
                     const char *dflt)
{
	size_t vs, ve, at = w->tag_end;
	out o = begin(ed, w->start);
	if (find_attr(ed->buf, w->start + sizeof("<workload") - 1, w->tag_end, name, &vs,
	              &ve)) {
		puts_(&o, value);
		end(ed, &o, vs, ve);
		return;
	}
	if (strcmp(value, dflt) == 0) {
		pd_i_strbuf_release(&o.b);
		return;
	}
	while (at > w->start && strchr(" \t\r\n", ed->buf[at - 1]))
		at--;
	putf(&o, " %s=\"%s\"", name, value);
	end(ed, &o, at, at);
}

static void workload_comment(out *o, const pd_workload *w, const pd_choice *c)
{
	puts_(o, "<!-- plandag suggest:");
	const char *sep = " ";
	if (c->micro_batches != w->micro_batches) {
		putf(o, " micro-batches %lld -> %lld", (long long)w->micro_batches,
		     (long long)c->micro_batches);
		sep = ", ";
	}
	if (c->two_batch != w->overlap_two_batch)
		putf(o, "%soverlap %s -> %s", sep, w->overlap_two_batch ? "two-batch" : "none",
		     c->two_batch ? "two-batch" : "none");
	puts_(o, " -->");
}

/* micro-batches and overlap of c on the <workload> element, or a new one before
 * <strategy>. */
static void edit_workload(editor *ed, const finder *f, const pd_workload *w,
                          const pd_choice *c)
{
	size_t at = f->workload.found ? f->workload.start : f->strategy.start;
	out o = begin(ed, at);
	workload_comment(&o, w, c);
	line(&o, 0);
	char mb[32];
	snprintf(mb, sizeof(mb), "%lld", (long long)c->micro_batches);
	const char *ov = c->two_batch ? "two-batch" : "none";
	if (!f->workload.found) {
		puts_(&o, "<workload");
		if (c->micro_batches != 1)
			putf(&o, " micro-batches=\"%s\"", mb);
		if (c->two_batch)
			putf(&o, " overlap=\"%s\"", ov);
		puts_(&o, "/>");
		line(&o, 0);
	}
	end(ed, &o, at, at);
	if (f->workload.found) {
		set_attr(ed, &f->workload, "micro-batches", mb, "1");
		set_attr(ed, &f->workload, "overlap", ov, "none");
	}
}

static void edit_strategy(editor *ed, const finder *f, const pd_plan *p, const pd_choice *c,
                          const char *why)
{
	out o = begin(ed, f->strategy.start);
	strategy_comment(&o, p, c, why);
	line(&o, 0);
	write_strategy(&o, p, c);
	end(ed, &o, f->strategy.start, f->strategy.end);
}

/* orig with the edits applied (in order of position; equal positions in the order
 * made). */
static char *apply(editor *ed, const char *orig, size_t len, size_t *out_len)
{
	for (int i = 1; i < ed->n; i++)
		for (int j = i; j > 0 && ed->e[j - 1].from > ed->e[j].from; j--) {
			edit t = ed->e[j];
			ed->e[j] = ed->e[j - 1];
			ed->e[j - 1] = t;
		}
	out o = {0};
	size_t at = 0;
	for (int i = 0; i < ed->n; i++) {
		put(&o, orig + at, ed->e[i].from - at);
		put(&o, ed->e[i].text.s ? ed->e[i].text.s : "", ed->e[i].text.n);
		at = ed->e[i].to;
	}
	put(&o, orig + at, len - at);
	if (o.failed || !o.b.s) {
		pd_i_strbuf_release(&o.b);
		return NULL;
	}
	if (out_len)
		*out_len = o.b.n;
	return o.b.s;
}

/* A strategy the model can hold at all: every degree >= 1, a layer per stage. */
static bool choice_sane(const pd_plan *p, const pd_choice *c)
{
	return c->dp >= 1 && c->pp >= 1 && c->pp <= p->model.layers && c->tp >= 1 &&
	       c->ep >= 1 && c->dense_tp >= 1 && c->redundant >= 0 && c->micro_batches >= 1 &&
	       c->dp <= PD_MAX_GPUS && c->tp <= PD_MAX_GPUS && c->ep <= PD_MAX_GPUS;
}

char *pd_search_plan_xml(const pd_plan *plan, const char *orig, size_t len,
                         const pd_choice *c, const char *why, size_t *out_len)
{
	finder f;
	if (!plan || !orig || !c || pd_plan_is_pooled(plan) || !choice_sane(plan, c) ||
	    !find_elements(orig, len, &f))
		return NULL;
	const char *lf = memchr(orig, '\n', len);
	editor ed = {.buf = orig, .nl = lf && lf > orig && lf[-1] == '\r' ? "\r\n" : "\n"};
	out top = begin(&ed, f.strategy.start); /* one level: <strategy>'s indentation */
	ed.unit = top.indent[0] ? top.indent : "  ";
	const pd_workload *w = &plan->workload;
	if (c->micro_batches != w->micro_batches || c->two_batch != w->overlap_two_batch)
		edit_workload(&ed, &f, w, c);
	if (!strategy_unchanged(plan, c))
		edit_strategy(&ed, &f, plan, c, why);
	char *text = ed.failed ? NULL : apply(&ed, orig, len, out_len);
	for (int i = 0; i < ed.n; i++)
		pd_i_strbuf_release(&ed.e[i].text);
	return text;
}

/* ---- a pooled plan (docs/suggest.md, "Pooled plans") ---- */

/* <pool phase batch [micro-batches]> holding c's replicas; batch: the pool's. */
static void write_pool(out *o, const pd_plan *p, const pd_pool *pool, const pd_choice *c)
{
	line(o, 1);
	putf(o, "<pool phase=\"%s\" batch=\"%lld\"", pd_phase_name(pool->phase),
	     (long long)(pool->has_batch ? pool->batch : p->workload.batch));
	if (c->micro_batches != 1)
		putf(o, " micro-batches=\"%lld\"", (long long)c->micro_batches);
	puts_(o, ">");
	write_replica(o, p, c, 1);
	line(o, 1);
	puts_(o, "</pool>");
}

static void pooled_comment(out *o, const pd_choice *pre, const pd_choice *dec,
                           const char *why)
{
	char a[200], b[200];
	putf(o,
	     "<!-- plandag suggest: strategy rewritten; now %lld GPUs: prefill pool %lld GPUs "
	     "(%s), decode pool %lld GPUs (%s)",
	     (long long)(pd_choice_gpus(pre) + pd_choice_gpus(dec)),
	     (long long)pd_choice_gpus(pre), pd_choice_describe(pre, a, sizeof(a)),
	     (long long)pd_choice_gpus(dec), pd_choice_describe(dec, b, sizeof(b)));
	if (why && *why) {
		puts_(o, " (");
		put_comment_text(o, why);
		puts_(o, ")");
	}
	puts_(o, " -->");
}

static void edit_pooled_strategy(editor *ed, const finder *f, const pd_plan *p,
                                 const pd_choice *pre, const pd_choice *dec,
                                 const char *why)
{
	const pd_pool *pools = p->strategy.pools, *pp = &pools[0], *dp = &pools[1];
	if (pp->phase != PD_PREFILL) {
		pp = &pools[1];
		dp = &pools[0];
	}
	out o = begin(ed, f->strategy.start);
	pooled_comment(&o, pre, dec, why);
	line(&o, 0);
	putf(&o, "<strategy gpus=\"%lld\">",
	     (long long)(pd_choice_gpus(pre) + pd_choice_gpus(dec)));
	write_pool(&o, p, pp, pre);
	write_pool(&o, p, dp, dec);
	line(&o, 0);
	puts_(&o, "</strategy>");
	end(ed, &o, f->strategy.start, f->strategy.end);
}

char *pd_search_pooled_plan_xml(const pd_plan *plan, const char *orig, size_t len,
                                const pd_choice *prefill, const pd_choice *decode,
                                const char *why, size_t *out_len)
{
	finder f;
	if (!plan || !orig || !prefill || !decode || !pd_plan_is_pooled(plan) ||
	    plan->strategy.n_pools != 2 || !choice_sane(plan, prefill) ||
	    !choice_sane(plan, decode) || prefill->two_batch != decode->two_batch ||
	    prefill->two_batch != plan->workload.overlap_two_batch ||
	    !find_elements(orig, len, &f))
		return NULL;
	const char *lf = memchr(orig, '\n', len);
	editor ed = {.buf = orig, .nl = lf && lf > orig && lf[-1] == '\r' ? "\r\n" : "\n"};
	out top = begin(&ed, f.strategy.start);
	ed.unit = top.indent[0] ? top.indent : "  ";
	edit_pooled_strategy(&ed, &f, plan, prefill, decode, why);
	char *text = ed.failed ? NULL : apply(&ed, orig, len, out_len);
	for (int i = 0; i < ed.n; i++)
		pd_i_strbuf_release(&ed.e[i].text);
	return text;
}
