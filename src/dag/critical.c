/* critical.c - the critical path of the stream schedule (schedule.c): the step latency.
 *
 * From the node ending last, back through whatever decided each start: a predecessor
 * or the previous node on its stream.  A collective instance (hub + members) weighs
 * the hub's time once; the path lists the member through which it was entered (the
 * straggler), so contributors name a GPU.  Without contention on a stream this is the
 * longest path of the contracted DAG.
 */
#include <stdlib.h>
#include <string.h>

#include "dag/dag_internal.h"
#include "dag/schedule.h"

typedef struct cp_work {
	const pd_dag *dag;
	const uint32_t *rep;
	const uint32_t *from; /* what decided each start (schedule.c) */
} cp_work;

static double weight(const pd_dag *dag, uint32_t r)
{
	uint32_t c = dag->nodes[r].cost;
	return c < dag->n_costs ? dag->costs[c].us : 0;
}

/* The node standing for contracted node r on the path (the member through which a
 * collective was entered, else r) and, in *next, the contracted node before it. */
static uint32_t step_back(const cp_work *w, uint32_t r, uint32_t *next)
{
	uint32_t v = r, f = w->from[r];
	if (f != UINT32_MAX && f != r && w->rep[f] == r) { /* entered by member f */
		v = f;
		f = w->from[f];
	}
	*next = f == UINT32_MAX ? UINT32_MAX : w->rep[f];
	return v;
}

static pd_status build_path(const cp_work *w, uint32_t last, pd_critical_path *cp)
{
	uint32_t n = 0, next;
	for (uint32_t r = last; r != UINT32_MAX; r = next, n++)
		step_back(w, r, &next);
	cp->nodes = malloc((n ? n : 1) * sizeof(uint32_t));
	if (!cp->nodes)
		return PD_IO;
	cp->n = n;
	uint32_t k = n;
	for (uint32_t r = last; r != UINT32_MAX; r = next)
		cp->nodes[--k] = step_back(w, r, &next);
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

pd_status pd_dag_critical_path(const pd_dag *dag, pd_critical_path *cp)
{
	memset(cp, 0, sizeof(*cp));
	pd_schedule s;
	uint32_t *from, last;
	PD_CHECK(pd_i_schedule(dag, &s, &from, &last));
	cp_work w = {.dag = dag, .rep = pd_i_contract(dag), .from = from};
	pd_status st = PD_OK;
	if (last != UINT32_MAX) {
		cp->latency_us = s.makespan_us;
		st = build_path(&w, last, cp);
		if (st == PD_OK)
			st = contributors(&w, cp);
	}
	free(from);
	pd_schedule_release(&s);
	if (st != PD_OK)
		pd_critical_path_release(cp);
	return st;
}

void pd_critical_path_release(pd_critical_path *cp)
{
	if (!cp)
		return;
	free(cp->nodes);
	free(cp->top);
	memset(cp, 0, sizeof(*cp));
}
