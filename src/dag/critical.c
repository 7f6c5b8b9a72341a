/* critical.c - the longest path of the contracted DAG: the step latency.
 *
 * Nodes weigh their estimated microseconds.  A collective instance (hub + members) is
 * one node weighing the hub's time once: it starts when its last member is ready.  The
 * path lists, for a collective, the member through which the path entered it (the
 * straggler), so contributors name a GPU.
 */
#include <stdlib.h>
#include <string.h>

#include "dag/dag_internal.h"

typedef struct cp_work {
	const pd_dag *dag;
	const uint32_t *rep;
	double *finish; /* finish time of each contracted node */
	uint32_t *pred; /* edge that set start, UINT32_MAX for none */
} cp_work;

static double weight(const pd_dag *dag, uint32_t r)
{
	uint32_t c = dag->nodes[r].cost;
	return c < dag->n_costs ? dag->costs[c].us : 0;
}

/* Latest finish among v's data/comm/control predecessors; *pred gets that edge. */
static void pull_in(const cp_work *w, uint32_t v, double *best, uint32_t *pred)
{
	const pd_dag *d = w->dag;
	for (uint32_t i = d->in_off[v]; i < d->in_off[v + 1]; i++) {
		uint32_t e = d->in_edge[i];
		if (d->edges[e].kind == PD_E_COLLECTIVE)
			continue;
		double f = w->finish[w->rep[d->edges[e].src]];
		if (*pred == UINT32_MAX || f > *best) {
			*best = f;
			*pred = e;
		}
	}
}

/* Finish time of contracted node r from its predecessors' (a collective waits for the
 * predecessors of all its members). */
static double settle(cp_work *w, uint32_t r)
{
	const pd_dag *d = w->dag;
	uint32_t pred = UINT32_MAX;
	double start = 0;
	pull_in(w, r, &start, &pred);
	for (uint32_t i = d->in_off[r];
	     d->nodes[r].kind == PD_N_COLLECTIVE && i < d->in_off[r + 1]; i++) {
		const pd_edge *ed = &d->edges[d->in_edge[i]];
		if (ed->kind == PD_E_COLLECTIVE && w->rep[ed->src] == r)
			pull_in(w, ed->src, &start, &pred);
	}
	w->pred[r] = pred;
	return w->finish[r] = start + weight(d, r);
}

/* Pull pass in topological order: order[] when given, else increasing id (the
 * contracted nodes of a lowered DAG, with no order array to fill); returns the node
 * finishing last (the first of equals). */
static uint32_t forward(cp_work *w, const uint32_t *order, uint32_t n_order)
{
	uint32_t best = UINT32_MAX, n = order ? n_order : w->dag->n_nodes;
	double best_finish = -1;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t r = order ? order[k] : k;
		if (!order && w->rep[r] != r)
			continue;
		double f = settle(w, r);
		if (f > best_finish) {
			best_finish = f;
			best = r;
		}
	}
	return best;
}

/* The node standing for contracted node r on the path: the node its critical in-edge
 * entered by, else a hub's first member, else r. */
static uint32_t entry_node(const cp_work *w, uint32_t r)
{
	const pd_dag *d = w->dag;
	if (w->pred[r] != UINT32_MAX)
		return d->edges[w->pred[r]].dst;
	for (uint32_t i = d->in_off[r];
	     d->nodes[r].kind == PD_N_COLLECTIVE && i < d->in_off[r + 1]; i++)
		if (d->edges[d->in_edge[i]].kind == PD_E_COLLECTIVE)
			return d->edges[d->in_edge[i]].src;
	return r;
}

static pd_status build_path(const cp_work *w, uint32_t last, pd_critical_path *cp)
{
	uint32_t n = 0;
	for (uint32_t r = last; r != UINT32_MAX;
	     r = w->pred[r] == UINT32_MAX ? UINT32_MAX : w->rep[w->dag->edges[w->pred[r]].src])
		n++;
	cp->nodes = malloc((n ? n : 1) * sizeof(uint32_t));
	if (!cp->nodes)
		return PD_IO;
	cp->n = n;
	uint32_t k = n;
	for (uint32_t r = last; r != UINT32_MAX;
	     r = w->pred[r] == UINT32_MAX ? UINT32_MAX : w->rep[w->dag->edges[w->pred[r]].src])
		cp->nodes[--k] = entry_node(w, r);
	return PD_OK;
}

static int cmp_contrib_key(const void *a, const void *b)
{
	const struct pd_cp_contrib *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return (x->gpu > y->gpu) - (x->gpu < y->gpu);
}

static int cmp_contrib_us(const void *a, const void *b)
{
	const struct pd_cp_contrib *x = a, *y = b;
	if (x->us != y->us)
		return x->us > y->us ? -1 : 1;
	return cmp_contrib_key(a, b);
}

/* Time on the path per (kind, gpu), largest first; a collective counts the hub's us. */
static pd_status contributors(const cp_work *w, pd_critical_path *cp)
{
	const pd_dag *d = w->dag;
	struct pd_cp_contrib *t = malloc((cp->n ? cp->n : 1) * sizeof(*t));
	if (!t)
		return PD_IO;
	for (uint32_t i = 0; i < cp->n; i++) {
		uint32_t v = cp->nodes[i];
		t[i] = (struct pd_cp_contrib){d->nodes[v].kind, d->nodes[v].gpu,
		                              weight(d, w->rep[v]), 1};
	}
	qsort(t, cp->n, sizeof(*t), cmp_contrib_key);
	uint32_t m = 0;
	for (uint32_t i = 0; i < cp->n; i++) {
		if (m && cmp_contrib_key(&t[m - 1], &t[i]) == 0) {
			t[m - 1].us += t[i].us;
			t[m - 1].count++;
		} else {
			t[m++] = t[i];
		}
	}
	qsort(t, m, sizeof(*t), cmp_contrib_us);
	cp->top = t;
	cp->n_top = m;
	return PD_OK;
}

/* A topological order of the contracted nodes into order[] by Kahn's algorithm (tmp:
 * scratch); PD_INVALID on a cycle. */
static pd_status kahn_order(const pd_dag *dag, uint32_t *tmp, uint32_t *order,
                            uint32_t *n_order)
{
	uint32_t reps;
	pd_i_kahn(dag, pd_i_contract(dag), tmp, order, n_order, &reps);
	return *n_order == reps ? PD_OK : PD_INVALID;
}

/* order == NULL: ids are a topological order. */
static pd_status longest(cp_work *w, const uint32_t *order, uint32_t n_order,
                         pd_critical_path *cp)
{
	uint32_t last = forward(w, order, n_order);
	if (last == UINT32_MAX)
		return PD_OK;
	cp->latency_us = w->finish[last];
	PD_CHECK(build_path(w, last, cp));
	return contributors(w, cp);
}

pd_status pd_dag_critical_path(const pd_dag *dag, pd_critical_path *cp)
{
	memset(cp, 0, sizeof(*cp));
	PD_ASSERT(dag->finalized); /* callers time finalized DAGs only */
	size_t n = dag->n_nodes ? dag->n_nodes : 1;
	bool by_id = pd_i_ids_topological(dag);
	cp_work w = {.dag = dag, .rep = pd_i_contract(dag)};
	w.finish = pd_i_alloc_big(n * sizeof(double));
	w.pred = pd_i_alloc_big(n * sizeof(uint32_t));
	uint32_t *order = by_id ? NULL : pd_i_alloc_big(n * sizeof(uint32_t)), n_order = 0;
	pd_status s = w.finish && w.pred && (by_id || order) ? PD_OK : PD_IO;
	if (s == PD_OK && !by_id)
		s = kahn_order(dag, w.pred, order, &n_order); /* pred: Kahn's scratch first */
	if (s == PD_OK)
		s = longest(&w, order, n_order, cp);
	free(w.finish);
	free(w.pred);
	free(order);
	if (s != PD_OK)
		pd_critical_path_release(cp);
	return s;
}

void pd_critical_path_release(pd_critical_path *cp)
{
	if (!cp)
		return;
	free(cp->nodes);
	free(cp->top);
	memset(cp, 0, sizeof(*cp));
}
