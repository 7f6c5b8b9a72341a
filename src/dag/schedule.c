/* schedule.c - the stream schedule of a DAG: the step time (docs/time-model.md).
 *
 * Two streams per GPU, compute and comm.  One pass over the contracted nodes in a
 * topological order (increasing id for a lowered DAG, Kahn's otherwise): a node starts
 * at the latest end of its predecessors and of the previous node on its stream.  A
 * collective instance is settled at its hub: it starts when every member is ready and
 * every member's comm stream is free, and all members end together.
 *
 * from[v] keeps what decided v's start (a predecessor or the stream predecessor), so
 * that the critical path (critical.c) walks back from the node ending last.  For a
 * hub, from[hub] is the member through which the instance was entered (the straggler)
 * and from[member] what decided it; or, when the hub's own in-edge decided, that
 * edge's source.
 */
#include <stdlib.h>
#include <string.h>

#include "dag/dag_internal.h"
#include "dag/ops.h"
#include "dag/schedule.h"

pd_stream pd_node_stream(const pd_dag *dag, uint32_t v)
{
	if (v >= dag->n_nodes || dag->nodes[v].kind >= PD_N__COUNT ||
	    pd_i_node_is_hub(&dag->nodes[v]))
		return PD_STREAM_NONE;
	return pd_i_ops[dag->nodes[v].kind].stream == PD_I_STREAM_COMM ? PD_STREAM_COMM
	                                                               : PD_STREAM_COMPUTE;
}

const char *pd_stream_name(pd_stream s)
{
	static const char *const names[] = {"compute", "comm", "none"};
	return (unsigned)s <= PD_STREAM_NONE ? names[s] : NULL;
}

typedef struct sched_work {
	const pd_dag *dag;
	const uint32_t *rep;
	pd_schedule *s;
	uint32_t *from;    /* what decided each start, UINT32_MAX for nothing */
	double *free_at;   /* per GPU and stream: end of its last node */
	uint32_t *last_on; /* per GPU and stream: its last node, UINT32_MAX for none */
} sched_work;

static double weight(const pd_dag *dag, uint32_t v)
{
	uint32_t c = dag->nodes[v].cost;
	return c < dag->n_costs ? dag->costs[c].us : 0;
}

/* Index of v's stream in free_at / last_on; UINT32_MAX when it has none (a hub, or a
 * GPU outside the cluster in a hand-written file). */
static uint32_t slot(const pd_dag *dag, uint32_t v)
{
	pd_stream st = pd_node_stream(dag, v);
	int32_t g = dag->nodes[v].gpu;
	if (st == PD_STREAM_NONE || g < 0 || g >= dag->n_gpus)
		return UINT32_MAX;
	return (uint32_t)g * 2 + (uint32_t)st;
}

/* Raises *t to the latest end among v's data/comm/control predecessors; *from gets
 * its source (the first edge of equals).  Returns whether anything was taken. */
static bool pull_preds(const sched_work *w, uint32_t v, double *t, uint32_t *from)
{
	const pd_dag *d = w->dag;
	bool took = false;
	for (uint32_t i = d->in_off[v]; i < d->in_off[v + 1]; i++) {
		const pd_edge *e = &d->edges[d->in_edge[i]];
		if (e->kind == PD_E_COLLECTIVE)
			continue;
		double f = w->s->end_us[w->rep[e->src]];
		if (*from == UINT32_MAX || f > *t) {
			*t = f;
			*from = e->src;
			took = true;
		}
	}
	return took;
}

/* Raises *t to the end of the previous node on stream k (only when later: a
 * predecessor wins ties). */
static bool pull_stream(const sched_work *w, uint32_t k, double *t, uint32_t *from)
{
	if (k == UINT32_MAX || w->last_on[k] == UINT32_MAX)
		return false;
	if (*from != UINT32_MAX && w->free_at[k] <= *t)
		return false;
	*t = w->free_at[k];
	*from = w->last_on[k];
	return true;
}

static void occupy(sched_work *w, uint32_t v, uint32_t k, double start, double end)
{
	w->s->start_us[v] = start;
	w->s->end_us[v] = end;
	if (k != UINT32_MAX) {
		w->free_at[k] = end;
		w->last_on[k] = v;
	}
}

static void settle_node(sched_work *w, uint32_t v)
{
	double t = 0;
	uint32_t from = UINT32_MAX, k = slot(w->dag, v);
	pull_preds(w, v, &t, &from);
	pull_stream(w, k, &t, &from);
	w->from[v] = from;
	occupy(w, v, k, t, t + weight(w->dag, v));
}

/* The instance of hub r: ready when every member is (its predecessors, its stream). */
static void settle_hub(sched_work *w, uint32_t r)
{
	const pd_dag *d = w->dag;
	double t = 0;
	uint32_t from = UINT32_MAX;
	pull_preds(w, r, &t, &from);
	uint32_t entry = from;
	for (uint32_t i = d->in_off[r]; i < d->in_off[r + 1]; i++) {
		const pd_edge *e = &d->edges[d->in_edge[i]];
		if (e->kind != PD_E_COLLECTIVE || w->rep[e->src] != r)
			continue;
		uint32_t m = e->src, mfrom = UINT32_MAX;
		double mt = 0;
		pull_preds(w, m, &mt, &mfrom);
		pull_stream(w, slot(d, m), &mt, &mfrom);
		w->from[m] = mfrom;
		if (entry == UINT32_MAX || mt > t) {
			t = mt;
			entry = m;
		}
	}
	double end = t + weight(d, r);
	for (uint32_t i = d->in_off[r]; i < d->in_off[r + 1]; i++) {
		const pd_edge *e = &d->edges[d->in_edge[i]];
		if (e->kind == PD_E_COLLECTIVE && w->rep[e->src] == r)
			occupy(w, e->src, slot(d, e->src), t, end);
	}
	w->from[r] = entry;
	occupy(w, r, UINT32_MAX, t, end);
}

/* Settles the contracted nodes in order[] (or increasing id when NULL); *last gets the
 * node ending last (the first of equals). */
static void forward(sched_work *w, const uint32_t *order, uint32_t n_order, uint32_t *last)
{
	const pd_dag *d = w->dag;
	uint32_t n = order ? n_order : d->n_nodes;
	double best = -1;
	*last = UINT32_MAX;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t r = order ? order[k] : k;
		if (w->rep[r] != r)
			continue; /* a member: settled with its hub */
		if (pd_i_node_is_hub(&d->nodes[r]))
			settle_hub(w, r);
		else
			settle_node(w, r);
		if (w->s->end_us[r] > best) {
			best = w->s->end_us[r];
			*last = r;
		}
	}
	w->s->makespan_us = best > 0 ? best : 0;
}

static pd_status alloc_work(const pd_dag *dag, sched_work *w, pd_schedule *s)
{
	size_t n = dag->n_nodes ? dag->n_nodes : 1;
	size_t slots = dag->n_gpus > 0 ? (size_t)dag->n_gpus * 2 : 1;
	s->start_us = pd_i_alloc_big(n * sizeof(double));
	s->end_us = pd_i_alloc_big(n * sizeof(double));
	s->n = dag->n_nodes;
	w->from = pd_i_alloc_big(n * sizeof(uint32_t));
	w->free_at = calloc(slots, sizeof(double));
	w->last_on = malloc(slots * sizeof(uint32_t));
	if (!s->start_us || !s->end_us || !w->from || !w->free_at || !w->last_on)
		return PD_IO;
	memset(w->last_on, 0xff, slots * sizeof(uint32_t));
	memset(s->end_us, 0, n * sizeof(double)); /* hubs of a broken file may be read early */
	return PD_OK;
}

/* A topological order of the contracted nodes (Kahn); PD_INVALID on a cycle. */
static pd_status kahn_order(const pd_dag *dag, uint32_t *tmp, uint32_t **order,
                            uint32_t *n_order)
{
	*order = pd_i_alloc_big((dag->n_nodes ? dag->n_nodes : 1) * sizeof(uint32_t));
	if (!*order)
		return PD_IO;
	uint32_t reps;
	pd_i_kahn(dag, pd_i_contract(dag), tmp, *order, n_order, &reps);
	return *n_order == reps ? PD_OK : PD_INVALID;
}

pd_status pd_i_schedule(const pd_dag *dag, pd_schedule *s, uint32_t **from, uint32_t *last)
{
	memset(s, 0, sizeof(*s));
	*from = NULL;
	*last = UINT32_MAX;
	PD_ASSERT(dag->finalized);
	sched_work w = {.dag = dag, .rep = pd_i_contract(dag), .s = s};
	uint32_t *order = NULL, n_order = 0;
	pd_status st = alloc_work(dag, &w, s);
	if (st == PD_OK && !pd_i_ids_topological(dag))
		st = kahn_order(dag, w.from, &order, &n_order); /* from: Kahn's scratch first */
	if (st == PD_OK)
		forward(&w, order, n_order, last);
	free(order);
	free(w.free_at);
	free(w.last_on);
	if (st != PD_OK) {
		free(w.from);
		pd_schedule_release(s);
		*last = UINT32_MAX;
		return st;
	}
	*from = w.from;
	return PD_OK;
}

pd_status pd_dag_schedule(const pd_dag *dag, pd_schedule *out)
{
	uint32_t *from, last;
	pd_status st = pd_i_schedule(dag, out, &from, &last);
	free(from);
	return st;
}

void pd_schedule_release(pd_schedule *s)
{
	if (!s)
		return;
	free(s->start_us);
	free(s->end_us);
	memset(s, 0, sizeof(*s));
}

void pd_dag_pool_steps(const pd_dag *dag, const pd_schedule *s, double *step_us)
{
	for (uint32_t p = 0; p < dag->n_pools; p++)
		step_us[p] = 0;
	for (uint32_t v = 0; v < dag->n_nodes && v < s->n; v++) {
		const pd_node *n = &dag->nodes[v];
		int32_t p = pd_dag_gpu_pool(dag, n->gpu);
		if (p < 0 || n->kind == PD_N_KV_SEND || n->kind == PD_N_KV_RECV)
			continue;
		if (s->end_us[v] > step_us[p])
			step_us[p] = s->end_us[v];
	}
}
