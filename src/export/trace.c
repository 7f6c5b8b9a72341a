/* trace.c - `--emit trace`: the schedule as a Chrome Trace Event file that Perfetto and
 * chrome://tracing open.
 *
 *   {"traceEvents":[
 *     {"ph":"M","pid":G,"tid":0,"name":"process_name","args":{"name":"GPU G (replica R,
 *      stage S)"}}, ... thread_name "compute" (tid 0) and "comm" (tid 1) ...
 *     (a pooled plan names the pool: "GPU G (prefill pool, replica R, stage S)"; its
 *      kv_send / kv_recv events are on the comm thread, cat "kv")
 *     {"ph":"X","pid":G,"tid":T,"ts":START,"dur":END-START,"name":"qkv L3","cat":"compute",
 *      "args":{"layer":3,"micro_batch":0,"expert":null,"flops":...,"bytes":...}}, ...
 *   ],"displayTimeUnit":"ms"}
 *
 * One process per GPU, one thread per stream, one complete event per node; hubs are no
 * events (their members are).  Streamed: the events go out one by one through a fixed
 * buffer, so that the only memory besides the DAG is its schedule (and a byte per node
 * for a view), never a tree of the events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dag/ops.h"
#include "export/export_internal.h"
#include "export/timeline.h"

#define TW_BUF 65536

/* The buffered writer. */
typedef struct tw {
	FILE *f;
	size_t len;
	uint64_t items; /* written into traceEvents */
	pd_status status;
	char buf[TW_BUF];
} tw;

static void tw_flush(tw *w)
{
	if (w->len && fwrite(w->buf, 1, w->len, w->f) != w->len)
		w->status = PD_IO;
	w->len = 0;
}

static void tw_put(tw *w, const char *s, size_t n)
{
	if (w->len + n > TW_BUF)
		tw_flush(w);
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}
#define TW_LIT(w, s) tw_put(w, s, sizeof(s) - 1)

/* Starts the next item of traceEvents. */
static void tw_item(tw *w, const char *open, size_t n)
{
	if (w->items++)
		tw_put(w, ",\n", 2);
	tw_put(w, open, n);
}
#define TW_ITEM(w, s) tw_item(w, s, sizeof(s) - 1)

static void tw_int(tw *w, int64_t v)
{
	char t[24];
	tw_put(w, t, pd_i_fmt_int(t, v));
}

static void tw_double(tw *w, double v)
{
	char t[32];
	tw_put(w, t, pd_i_fmt_double(t, sizeof(t), v));
}

/* ---- what the trace holds ---- */

/* The family names of `cat` (ops.h pd_i_family). */
static const char *const family_cat[PD_I_F__COUNT] = {
    [PD_I_F_COMPUTE] = "compute", [PD_I_F_TP] = "tp",   [PD_I_F_EP] = "ep",
    [PD_I_F_PP] = "pp",           [PD_I_F_HUB] = "hub", [PD_I_F_KV] = "kv",
};

int pd_i_view_selects(const pd_view *view)
{
	return view && (view->kind == PD_VIEW_STAGE || view->kind == PD_VIEW_GPU ||
	                view->kind == PD_VIEW_LAYER);
}

pd_status pd_i_schedule_select(const pd_dag *dag, const pd_view *view, uint8_t **keep)
{
	*keep = NULL;
	if (!pd_i_view_selects(view))
		return PD_OK;
	*keep = malloc(dag->n_nodes ? dag->n_nodes : 1);
	if (!*keep)
		return PD_IO;
	pd_i_view_select(dag, view, *keep);
	return PD_OK;
}

uint64_t pd_i_trace_events(const pd_dag *dag, const pd_view *view)
{
	uint8_t *keep;
	if (pd_i_schedule_select(dag, view, &keep) != PD_OK)
		return UINT64_MAX;
	uint64_t n = 0;
	for (uint32_t v = 0; v < dag->n_nodes; v++)
		n += dag->nodes[v].kind != PD_N_COLLECTIVE && (!keep || keep[v]);
	free(keep);
	return n;
}

/* "--view stage=0 or --view gpu=G or --view layer=0" for the views whose trace fits. */
static void fitting_views(const pd_dag *dag, char *buf, size_t size)
{
	int32_t g0 = 0;
	while (g0 < dag->n_gpus && dag->gpu[g0].replica < 0)
		g0++;
	const pd_view c[] = {{PD_VIEW_STAGE, 0}, {PD_VIEW_GPU, g0}, {PD_VIEW_LAYER, 0}};
	const char *const word[] = {"stage", "gpu", "layer"};
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]) && len + 40 < size; i++)
		if (pd_i_trace_events(dag, &c[i]) <= PD_TRACE_MAX_EVENTS)
			len += (size_t)snprintf(buf + len, size - len, "%s--view %s=%d",
			                        len ? " or " : "", word[i], (int)c[i].arg);
	snprintf(buf + len, size - len, "%s",
	         len ? " (or --emit without trace)" : "--emit without trace");
}

pd_status pd_i_trace_check(const pd_dag *dag, const pd_view *view, pd_diag_list *diags)
{
	uint64_t n = pd_i_trace_events(dag, view);
	if (n == UINT64_MAX)
		return PD_IO;
	if (n <= PD_TRACE_MAX_EVENTS)
		return PD_OK;
	char suffix[32] = "", hint[256];
	if (pd_i_view_selects(view))
		pd_view_suffix(view, suffix, sizeof(suffix));
	fitting_views(dag, hint, sizeof(hint));
	pd_diag *d = pd_diag_add(
	    diags, PD_RULE_USAGE, PD_ERROR, 0, 0,
	    "trace of view '%s' would hold %llu events, above the limit of "
	    "%u that Perfetto and chrome://tracing open",
	    suffix[0] ? suffix + 1 : "full", (unsigned long long)n, PD_TRACE_MAX_EVENTS);
	pd_diag_fix(d, "pick a view that fits this plan: %s", hint);
	return PD_USAGE;
}

/* ---- writing ---- */

static void put_meta(tw *w, int32_t pid, int tid, const char *what, const char *name)
{
	TW_ITEM(w, "{\"ph\":\"M\",\"pid\":");
	tw_int(w, pid);
	TW_LIT(w, ",\"tid\":");
	tw_int(w, tid);
	TW_LIT(w, ",\"name\":\"");
	tw_put(w, what, strlen(what));
	TW_LIT(w, "\",\"args\":{\"name\":\"");
	tw_put(w, name, strlen(name));
	TW_LIT(w, "\"}}");
}

/* The process and thread names of every GPU that has a node in the trace. */
static pd_status put_gpus(tw *w, const pd_dag *dag, const uint8_t *keep)
{
	uint8_t *seen = calloc(dag->n_gpus ? (size_t)dag->n_gpus : 1, 1);
	if (!seen)
		return PD_IO;
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		int32_t g = dag->nodes[v].gpu;
		if (g >= 0 && g < dag->n_gpus && (!keep || keep[v]))
			seen[g] = 1;
	}
	for (int32_t g = 0; g < dag->n_gpus; g++) {
		if (!seen[g])
			continue;
		char name[128], pool[32] = "";
		int32_t p = pd_dag_gpu_pool(dag, g);
		if (p >= 0) /* a pooled plan: "GPU 3 (prefill pool, replica 0, stage 0)" */
			snprintf(pool, sizeof(pool), "%s pool, ", pd_phase_name(dag->pools[p].phase));
		snprintf(name, sizeof(name), "GPU %d (%sreplica %d, stage %d)", (int)g, pool,
		         (int)dag->gpu[g].replica, (int)dag->gpu[g].stage);
		put_meta(w, g, 0, "process_name", name);
		put_meta(w, g, 0, "thread_name", pd_stream_name(PD_STREAM_COMPUTE));
		put_meta(w, g, 1, "thread_name", pd_stream_name(PD_STREAM_COMM));
	}
	free(seen);
	return PD_OK;
}

static void put_int_or_null(tw *w, int32_t v)
{
	if (v < 0)
		TW_LIT(w, "null");
	else
		tw_int(w, v);
}

/* One complete event. */
static void put_event(tw *w, const pd_dag *dag, const pd_schedule *s, uint32_t v)
{
	const pd_node *n = &dag->nodes[v];
	const pd_cost *c = n->cost < dag->n_costs ? &dag->costs[n->cost] : NULL;
	const char *kind = pd_node_kind_name((pd_node_kind)n->kind);
	TW_ITEM(w, "{\"ph\":\"X\",\"pid\":");
	tw_int(w, n->gpu);
	TW_LIT(w, ",\"tid\":");
	tw_int(w, pd_node_stream(dag, v) == PD_STREAM_COMM);
	TW_LIT(w, ",\"ts\":");
	tw_double(w, s->start_us[v]);
	TW_LIT(w, ",\"dur\":");
	tw_double(w, s->end_us[v] - s->start_us[v]);
	TW_LIT(w, ",\"name\":\"");
	tw_put(w, kind, strlen(kind));
	if (n->layer >= 0) {
		TW_LIT(w, " L");
		tw_int(w, n->layer);
	}
	TW_LIT(w, "\",\"cat\":\"");
	const char *cat = family_cat[pd_i_ops[n->kind].family];
	tw_put(w, cat, strlen(cat));
	TW_LIT(w, "\",\"args\":{\"layer\":");
	put_int_or_null(w, n->layer);
	TW_LIT(w, ",\"micro_batch\":");
	tw_int(w, n->micro_batch);
	TW_LIT(w, ",\"expert\":");
	put_int_or_null(w, n->kind == PD_N_EXPERT ? n->expert : -1);
	TW_LIT(w, ",\"flops\":");
	tw_double(w, c ? c->flops : 0);
	TW_LIT(w, ",\"bytes\":");
	tw_double(w, c ? c->bytes : 0);
	TW_LIT(w, "}}");
}

static pd_status write_events(tw *w, const pd_dag *dag, const uint8_t *keep)
{
	pd_schedule s;
	PD_CHECK(pd_dag_schedule(dag, &s));
	pd_status st = put_gpus(w, dag, keep);
	for (uint32_t v = 0; st == PD_OK && v < dag->n_nodes; v++) {
		if (dag->nodes[v].kind == PD_N_COLLECTIVE || (keep && !keep[v]))
			continue;
		put_event(w, dag, &s, v);
	}
	pd_schedule_release(&s);
	return st;
}

pd_status pd_i_trace_write(const pd_dag *dag, const pd_view *view, FILE *f)
{
	tw *w = malloc(sizeof(*w));
	uint8_t *keep = NULL;
	if (!w || pd_i_schedule_select(dag, view, &keep) != PD_OK) {
		free(w);
		return PD_IO;
	}
	w->f = f;
	w->len = 0;
	w->items = 0;
	w->status = PD_OK;
	TW_LIT(w, "{\"traceEvents\":[\n");
	pd_status s = write_events(w, dag, keep);
	TW_LIT(w, "\n],\"displayTimeUnit\":\"ms\"}\n");
	tw_flush(w);
	if (s == PD_OK)
		s = w->status;
	free(keep);
	free(w);
	return s;
}
