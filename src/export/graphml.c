/* graphml.c - the DAG as GraphML through libxml2's xmlTextWriter (README: Exports).
 *
 * The header (keys, graph, deployment context) goes through the writer element by
 * element.  Nodes and edges, millions of them, are formatted by hand into a large
 * buffer and handed over with xmlTextWriterWriteRawLen: every piece of text in them is
 * a number, a kind name or an escaped label, so nothing needs the writer's escaping,
 * and the per-attribute calls would cost more than the formatting.
 *
 * Graph-level keys carry the deployment context so that `plandag verify` can check a
 * file alone (see README "GraphML deployment context"):
 *   plan, n_gpus, gpus_per_node, gpu_capacity, n_replicas, micro_batches, phase,
 *   step_tokens, and three compact lists
 *   gpus   = "R/S:MEM;R/S:MEM;..."  one record per cluster GPU in id order: replica and
 *            stage using it (-1/-1 when unused) and the bytes the plan needs on it
 *   stages = "R/S:G,G,...;..."       one record per (replica, stage): the GPU hosting
 *            expert e at position e (-1 when unplaced); empty after ':' when dense;
 *            the further copies of a redundant expert follow its GPU as "+G+G"
 *   pools  = "PHASE:FIRST-LAST:MB:TOKENS;..."  a pooled plan only (empty otherwise): per
 *            pool its phase, its replicas (numbered across the strategy), micro-batches
 *            and tokens of its step per replica
 * Every node carries its phase (prefill|decode: its pool's, or the plan's).
 * Every node carries its stream and, when the DAG can be scheduled, its start_us and
 * end_us on the stream schedule (docs/time-model.md).
 */
#include <errno.h>
#include <libxml/xmlwriter.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "graphml_keys.h"
#include "util/util.h"

#define BUF_SIZE (1u << 20)
#define BUF_SLACK 4096 /* the most one node or edge record can take */

size_t pd_i_fmt_int(char *p, int64_t v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		p[len++] = '-';
	while (n)
		p[len++] = tmp[--n];
	return len;
}

size_t pd_i_fmt_double(char *p, size_t size, double v)
{
	if (!isfinite(v))
		v = 0; /* GraphML doubles must parse; the DAG never holds NaN or inf */
	if (v == (double)(int64_t)v && fabs(v) < 1e15) {
		char tmp[24];
		size_t n = pd_i_fmt_int(tmp, (int64_t)v);
		snprintf(p, size, "%.*s", (int)n, tmp);
		return n < size ? n : size - 1;
	}
	int n = snprintf(p, size, "%.15g", v);
	if (strtod(p, NULL) != v)
		n = snprintf(p, size, "%.17g", v);
	return (size_t)n < size ? (size_t)n : size - 1;
}

/* The output: the writer plus our raw buffer in front of it. */
typedef struct out {
	xmlTextWriterPtr w;
	char *buf;
	size_t len;
	pd_status status; /* PD_IO once a write failed */
} out;

static void out_flush(out *o)
{
	if (o->len && xmlTextWriterWriteRawLen(o->w, BAD_CAST o->buf, (int)o->len) < 0)
		o->status = PD_IO;
	o->len = 0;
}

static void put(out *o, const char *s, size_t n)
{
	if (o->len + n > BUF_SIZE)
		out_flush(o);
	if (n > BUF_SIZE) {
		if (xmlTextWriterWriteRawLen(o->w, BAD_CAST s, (int)n) < 0)
			o->status = PD_IO;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

#define PUT_LIT(o, s) put((o), (s), sizeof(s) - 1)

static void put_int(out *o, int64_t v)
{
	char t[24];
	put(o, t, pd_i_fmt_int(t, v));
}

/* <data key="K">V</data> with an integer V */
static void put_data_int(out *o, const char *open, size_t open_len, int64_t v)
{
	put(o, open, open_len);
	put_int(o, v);
	PUT_LIT(o, "</data>");
}
#define DATA_INT(o, key, v)                                                                \
	put_data_int((o), "<data key=\"" key "\">", sizeof("<data key=\"" key "\">") - 1, (v))

/* Escapes the few characters XML cares about (labels are plain, but be safe). */
static void put_escaped(out *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			PUT_LIT(o, "&amp;");
			break;
		case '<':
			PUT_LIT(o, "&lt;");
			break;
		case '>':
			PUT_LIT(o, "&gt;");
			break;
		case '"':
			PUT_LIT(o, "&quot;");
			break;
		default:
			put(o, s, 1);
		}
	}
}

/* Per cost record, the pre-formatted node data (flops, bytes, us) and edge bytes:
 * a handful of records serve millions of nodes. */
typedef struct cost_text {
	char *pool;
	uint32_t *node_off, *edge_off; /* n_costs + 1 offsets each into pool */
} cost_text;

static size_t fmt_data_double(char *p, const char *key, double v)
{
	size_t n = (size_t)sprintf(p, "<data key=\"%s\">", key);
	n += pd_i_fmt_double(p + n, 40, v);
	memcpy(p + n, "</data>", 7);
	return n + 7;
}

static pd_status cost_text_build(const pd_dag *dag, cost_text *ct)
{
	uint32_t nc = dag->n_costs;
	ct->pool = malloc((size_t)nc * 320 + 1);
	ct->node_off = malloc(((size_t)nc + 1) * sizeof(uint32_t));
	ct->edge_off = malloc(((size_t)nc + 1) * sizeof(uint32_t));
	if (!ct->pool || !ct->node_off || !ct->edge_off)
		return PD_IO;
	size_t at = 0;
	for (uint32_t c = 0; c < nc; c++) {
		const pd_cost *k = &dag->costs[c];
		ct->node_off[c] = (uint32_t)at;
		at += fmt_data_double(ct->pool + at, "flops", k->flops);
		at += fmt_data_double(ct->pool + at, "bytes", k->bytes);
		at += fmt_data_double(ct->pool + at, "us", k->us);
		ct->edge_off[c] = (uint32_t)at;
		at += fmt_data_double(ct->pool + at, "e_bytes", k->out_bytes);
	}
	ct->node_off[nc] = ct->edge_off[nc] = (uint32_t)at;
	return PD_OK;
}

static void cost_text_release(cost_text *ct)
{
	free(ct->pool);
	free(ct->node_off);
	free(ct->edge_off);
}

static void put_group(out *o, const pd_dag *dag, int32_t g)
{
	PUT_LIT(o, "<data key=\"group\">");
	if (g >= 0 && (uint32_t)g < dag->groups.n) {
		for (uint32_t i = dag->groups.off[g]; i < dag->groups.off[g + 1]; i++) {
			if (i > dag->groups.off[g])
				PUT_LIT(o, ",");
			put_int(o, dag->groups.gpus[i]);
		}
	}
	PUT_LIT(o, "</data>");
}

static void put_double(out *o, double v)
{
	char t[40];
	put(o, t, pd_i_fmt_double(t, sizeof(t), v));
}

/* stream, and start_us / end_us when the DAG could be scheduled (s->start_us). */
static void put_schedule(out *o, const pd_dag *dag, const pd_schedule *s, uint32_t v)
{
	const char *stream = pd_stream_name(pd_node_stream(dag, v));
	PUT_LIT(o, "<data key=\"stream\">");
	put(o, stream, strlen(stream));
	PUT_LIT(o, "</data>");
	if (!s->start_us)
		return;
	PUT_LIT(o, "<data key=\"start_us\">");
	put_double(o, s->start_us[v]);
	PUT_LIT(o, "</data><data key=\"end_us\">");
	put_double(o, s->end_us[v]);
	PUT_LIT(o, "</data>");
}

static void put_node(out *o, const pd_dag *dag, const cost_text *ct, const pd_schedule *s,
                     uint32_t v)
{
	const pd_node *n = &dag->nodes[v];
	int hub = n->kind == PD_N_COLLECTIVE;
	const char *kind = pd_node_kind_name((pd_node_kind)n->kind);
	char label[160];
	PUT_LIT(o, "<node id=\"n");
	put_int(o, v);
	PD_ASSERT(kind); /* lowering and the reader make only known kinds */
	PUT_LIT(o, "\"><data key=\"kind\">");
	put(o, kind, strlen(kind));
	PUT_LIT(o, "</data>");
	DATA_INT(o, "gpu", n->gpu);
	DATA_INT(o, "replica", n->replica);
	DATA_INT(o, "stage", n->stage);
	DATA_INT(o, "layer", n->layer);
	DATA_INT(o, "micro_batch", n->micro_batch);
	DATA_INT(o, "expert", hub ? -1 : n->expert);
	if (n->cost < dag->n_costs)
		put(o, ct->pool + ct->node_off[n->cost],
		    ct->edge_off[n->cost] - ct->node_off[n->cost]);
	pd_node_label(dag, v, label, sizeof(label));
	PUT_LIT(o, "<data key=\"label\">");
	put_escaped(o, label);
	PUT_LIT(o, "</data>");
	if (hub)
		put_group(o, dag, n->group);
	put_schedule(o, dag, s, v);
	const char *ph = pd_phase_name((pd_phase)n->phase);
	PUT_LIT(o, "<data key=\"phase\">");
	put(o, ph, strlen(ph));
	PUT_LIT(o, "</data></node>\n");
}

static void put_edge(out *o, const pd_dag *dag, const cost_text *ct, uint32_t e)
{
	const pd_edge *ed = &dag->edges[e];
	const char *kind = pd_edge_kind_name((pd_edge_kind)ed->kind);
	uint32_t c = dag->nodes[ed->src].cost;
	PUT_LIT(o, "<edge id=\"e");
	put_int(o, e);
	PUT_LIT(o, "\" source=\"n");
	put_int(o, ed->src);
	PUT_LIT(o, "\" target=\"n");
	put_int(o, ed->dst);
	PD_ASSERT(kind);
	PUT_LIT(o, "\"><data key=\"e_kind\">");
	put(o, kind, strlen(kind));
	PUT_LIT(o, "</data>");
	if (ed->kind == PD_E_CONTROL || c >= dag->n_costs)
		PUT_LIT(o, "<data key=\"e_bytes\">0</data>");
	else
		put(o, ct->pool + ct->edge_off[c], ct->node_off[c + 1] - ct->edge_off[c]);
	PUT_LIT(o, "</edge>\n");
}

/* One <key> per row of the key table. */
static pd_status write_keys(xmlTextWriterPtr w)
{
	int bad = 0;
	for (size_t i = 0; i < GK__COUNT; i++) {
		const pd_i_graphml_key *k = &pd_i_graphml_keys[i];
		bad |= xmlTextWriterWriteRaw(w, BAD_CAST "\n  ") < 0;
		bad |= xmlTextWriterStartElement(w, BAD_CAST "key") < 0;
		bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "id", BAD_CAST k->id) < 0;
		bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "for", BAD_CAST k->domain) < 0;
		bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "attr.name", BAD_CAST k->name) < 0;
		bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "attr.type", BAD_CAST k->type) < 0;
		bad |= xmlTextWriterEndElement(w) < 0;
	}
	return bad ? PD_IO : PD_OK;
}

static void put_gpus(out *o, const pd_dag *dag)
{
	char num[48];
	PUT_LIT(o, "<data key=\"g_gpus\">");
	for (int32_t g = 0; dag->gpu && g < dag->n_gpus; g++) {
		if (g)
			PUT_LIT(o, ";");
		put_int(o, dag->gpu[g].replica);
		PUT_LIT(o, "/");
		put_int(o, dag->gpu[g].stage);
		PUT_LIT(o, ":");
		put(o, num, pd_i_fmt_double(num, sizeof(num), dag->gpu[g].memory));
	}
	PUT_LIT(o, "</data>\n");
}

static void put_stages(out *o, const pd_dag *dag)
{
	PUT_LIT(o, "<data key=\"g_stages\">");
	for (uint32_t i = 0; dag->stages && i < dag->n_stages; i++) {
		const pd_dag_stage *s = &dag->stages[i];
		if (i)
			PUT_LIT(o, ";");
		put_int(o, s->replica);
		PUT_LIT(o, "/");
		put_int(o, s->stage);
		PUT_LIT(o, ":");
		for (int32_t e = 0; s->expert_gpu && e < s->n_experts; e++) {
			if (e)
				PUT_LIT(o, ",");
			put_int(o, s->expert_gpu[e]);
			for (uint32_t k = s->copy_off ? s->copy_off[e] : 0;
			     s->copy_off && k < s->copy_off[e + 1]; k++) {
				PUT_LIT(o, "+");
				put_int(o, s->copy_gpu[k]);
			}
		}
	}
	PUT_LIT(o, "</data>\n");
}

static void put_pools(out *o, const pd_dag *dag)
{
	char num[48];
	PUT_LIT(o, "<data key=\"g_pools\">");
	for (uint32_t i = 0; i < dag->n_pools; i++) {
		const pd_dag_pool *p = &dag->pools[i];
		const char *ph = pd_phase_name(p->phase);
		if (i)
			PUT_LIT(o, ";");
		put(o, ph, strlen(ph));
		PUT_LIT(o, ":");
		put_int(o, p->first_replica);
		PUT_LIT(o, "-");
		put_int(o, p->first_replica + p->n_replicas - 1);
		PUT_LIT(o, ":");
		put_int(o, p->micro_batches);
		PUT_LIT(o, ":");
		put(o, num, pd_i_fmt_double(num, sizeof(num), p->step_tokens));
	}
	PUT_LIT(o, "</data>\n");
}

static void put_context(out *o, const pd_dag *dag)
{
	char num[48];
	PUT_LIT(o, "\n<data key=\"g_plan\">");
	put_escaped(o, dag->name ? dag->name : "");
	PUT_LIT(o, "</data>\n");
	DATA_INT(o, "g_n_gpus", dag->n_gpus);
	DATA_INT(o, "g_gpus_per_node", dag->gpus_per_node);
	PUT_LIT(o, "<data key=\"g_gpu_capacity\">");
	put(o, num, pd_i_fmt_double(num, sizeof(num), dag->gpu_capacity));
	PUT_LIT(o, "</data>");
	DATA_INT(o, "g_n_replicas", dag->n_replicas);
	DATA_INT(o, "g_micro_batches", dag->micro_batches);
	PUT_LIT(o, "<data key=\"g_phase\">");
	const char *ph = pd_phase_name(dag->phase);
	put(o, ph, strlen(ph));
	PUT_LIT(o, "</data><data key=\"g_step_tokens\">");
	put(o, num, pd_i_fmt_double(num, sizeof(num), dag->step_tokens));
	PUT_LIT(o, "</data>\n");
	put_gpus(o, dag);
	put_stages(o, dag);
	put_pools(o, dag);
}

/* A DAG that cannot be scheduled (a cycle, in a file being verified) has no times. */
static pd_status write_body(out *o, const pd_dag *dag)
{
	cost_text ct = {0};
	pd_schedule s = {0};
	pd_status st = dag->finalized ? pd_dag_schedule(dag, &s) : PD_INVALID;
	if (st == PD_IO || cost_text_build(dag, &ct) != PD_OK) {
		cost_text_release(&ct);
		pd_schedule_release(&s);
		return PD_IO;
	}
	put_context(o, dag);
	for (uint32_t v = 0; v < dag->n_nodes; v++)
		put_node(o, dag, &ct, &s, v);
	for (uint32_t e = 0; e < dag->n_edges; e++)
		put_edge(o, dag, &ct, e);
	out_flush(o);
	cost_text_release(&ct);
	pd_schedule_release(&s);
	return o->status;
}

static pd_status write_document(out *o, const pd_dag *dag)
{
	xmlTextWriterPtr w = o->w;
	if (xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "graphml") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns",
	                                BAD_CAST "http://graphml.graphdrawing.org/xmlns") < 0 ||
	    write_keys(w) != PD_OK || xmlTextWriterWriteRaw(w, BAD_CAST "\n  ") < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "graph") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "id", BAD_CAST "G") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "edgedefault", BAD_CAST "directed") < 0)
		return PD_IO;
	PD_CHECK(write_body(o, dag));
	if (xmlTextWriterEndElement(w) < 0 || xmlTextWriterWriteRaw(w, BAD_CAST "\n") < 0 ||
	    xmlTextWriterEndDocument(w) < 0 || xmlTextWriterFlush(w) < 0)
		return PD_IO;
	return PD_OK;
}

pd_status pd_export_graphml(const pd_dag *dag, const char *path, pd_diag_list *diags)
{
	pd_atomic_file af;
	out o = {0};
	pd_status s = PD_IO;
	if (pd_atomic_open(&af, path) != PD_OK) {
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot create %s", path);
		return PD_IO;
	}
	setvbuf(af.f, NULL, _IOFBF, BUF_SIZE);
	xmlOutputBufferPtr ob = xmlOutputBufferCreateFile(af.f, NULL);
	o.w = ob ? xmlNewTextWriter(ob) : NULL; /* the writer owns ob from here */
	o.buf = malloc(BUF_SIZE);
	if (!o.w || !o.buf) {
		if (!o.w && ob)
			xmlOutputBufferClose(ob);
		goto done;
	}
	s = write_document(&o, dag);
done:
	if (o.w)
		xmlFreeTextWriter(o.w); /* closes ob; ob does not close af.f */
	free(o.buf);
	if (s == PD_OK)
		s = pd_atomic_commit(&af);
	else
		pd_atomic_abort(&af);
	if (s != PD_OK)
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write %s: %s", path,
		            strerror(errno ? errno : EIO));
	return s;
}
