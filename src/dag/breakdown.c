/* breakdown.c - where the step goes on the GPU where the schedule ends (dag.h,
 * pd_schedule_breakdown; docs/time-model.md). */
#include <stdlib.h>
#include <string.h>

#include "dag/dag_internal.h"

typedef struct span {
	double start, end;
} span;

static int cmp_span(const void *a, const void *b)
{
	const span *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

/* The GPU of the non-hub node ending last (the first of equals); -1 when none. */
static int32_t last_gpu(const pd_dag *dag, const pd_schedule *s)
{
	int32_t g = -1;
	double best = -1;
	for (uint32_t v = 0; v < dag->n_nodes && v < s->n; v++)
		if (!pd_i_node_is_hub(&dag->nodes[v]) && s->end_us[v] > best) {
			best = s->end_us[v];
			g = dag->nodes[v].gpu;
		}
	return g;
}

/* Time of the sorted, disjoint spans a[] during which one of b[] runs (both sorted). */
static double overlap(const span *a, uint32_t na, const span *b, uint32_t nb)
{
	double t = 0;
	for (uint32_t i = 0, j = 0; i < na && j < nb;) {
		double lo = a[i].start > b[j].start ? a[i].start : b[j].start;
		double hi = a[i].end < b[j].end ? a[i].end : b[j].end;
		if (hi > lo)
			t += hi - lo;
		if (a[i].end < b[j].end)
			i++;
		else
			j++;
	}
	return t;
}

/* Sums the compute stream of gpu g into b and gathers both streams' spans. */
static void gather(const pd_dag *dag, const pd_schedule *s, int32_t g, pd_time_breakdown *b,
                   span *comp, uint32_t *nc, span *comm, uint32_t *nm)
{
	for (uint32_t v = 0; v < dag->n_nodes && v < s->n; v++) {
		if (dag->nodes[v].gpu != g || pd_i_node_is_hub(&dag->nodes[v]))
			continue;
		span sp = {s->start_us[v], s->end_us[v]};
		if (pd_node_stream(dag, v) == PD_STREAM_COMM) {
			comm[(*nm)++] = sp;
			continue;
		}
		const pd_cost *c =
		    dag->nodes[v].cost < dag->n_costs ? &dag->costs[dag->nodes[v].cost] : NULL;
		double d = sp.end - sp.start;
		if (c && c->mem_us > 0 && c->mem_us >= c->us)
			b->memory_us += d;
		else
			b->compute_us += d;
		comp[(*nc)++] = sp;
	}
}

pd_status pd_schedule_breakdown(const pd_dag *dag, const pd_schedule *s,
                                pd_time_breakdown *b)
{
	memset(b, 0, sizeof(*b));
	b->gpu = last_gpu(dag, s);
	if (b->gpu < 0)
		return PD_OK;
	uint32_t n = 0;
	for (uint32_t v = 0; v < dag->n_nodes && v < s->n; v++)
		n += dag->nodes[v].gpu == b->gpu;
	span *comp = malloc((n ? n : 1) * sizeof(span)),
	     *comm = malloc((n ? n : 1) * sizeof(span));
	if (!comp || !comm) {
		free(comp);
		free(comm);
		return PD_IO;
	}
	uint32_t nc = 0, nm = 0;
	gather(dag, s, b->gpu, b, comp, &nc, comm, &nm);
	qsort(comp, nc, sizeof(span), cmp_span);
	qsort(comm, nm, sizeof(span), cmp_span);
	double busy = 0;
	for (uint32_t i = 0; i < nm; i++)
		busy += comm[i].end - comm[i].start;
	b->comm_hidden_us = overlap(comm, nm, comp, nc);
	b->comm_exposed_us = busy - b->comm_hidden_us;
	b->idle_us = s->makespan_us - b->compute_us - b->memory_us - b->comm_exposed_us;
	if (b->idle_us < 0)
		b->idle_us = 0;
	free(comp);
	free(comm);
	return PD_OK;
}
