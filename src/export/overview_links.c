/* overview_links.c - what the overview draws between GPUs, shared by the DOT overview
 * (dot.c) and its folding (fold.c): the traffic of one step per pair of GPUs. */
#include <stdlib.h>

#include "dag/ops.h"
#include "export_internal.h"
#include "util/array.h"

int32_t pd_i_max_gpu(const pd_dag *dag)
{
	int32_t m = dag->n_gpus - 1;
	for (uint32_t v = 0; v < dag->n_nodes; v++)
		if (dag->nodes[v].gpu > m)
			m = dag->nodes[v].gpu;
	return m;
}

static pd_status links_add(pd_i_links *l, int32_t a, int32_t b, int collective,
                           double bytes)
{
	if (collective && a > b) {
		int32_t t = a;
		a = b;
		b = t;
	}
	return PD_VEC_PUSH(l, ((pd_i_link){a, b, collective, bytes}));
}

static int link_cmp(const void *x, const void *y)
{
	const pd_i_link *p = x, *q = y;
	if (p->collective != q->collective)
		return p->collective - q->collective;
	if (p->a != q->a)
		return (p->a > q->a) - (p->a < q->a);
	return (p->b > q->b) - (p->b < q->b);
}

/* Sorts and sums duplicates in place. */
static void links_merge(pd_i_links *l)
{
	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(pd_i_link), link_cmp);
	size_t out = 0;
	for (size_t i = 1; i < l->n; i++) {
		if (link_cmp(&l->v[out], &l->v[i]) == 0)
			l->v[out].bytes += l->v[i].bytes;
		else
			l->v[++out] = l->v[i];
	}
	l->n = out + 1;
}

/* The collectives of the step by member group: TP or EP, and the bytes each member
 * GPU moves over the step (the sum of its member nodes' bytes over the group's GPUs). */
pd_status pd_i_overview_groups(const pd_dag *dag, pd_i_group_traffic **out)
{
	pd_i_group_traffic *t = calloc(dag->groups.n ? dag->groups.n : 1, sizeof(*t));
	if (!(*out = t))
		return PD_IO;
	for (uint32_t e = 0; e < dag->n_edges; e++) {
		const pd_edge *ed = &dag->edges[e];
		const pd_node *m = &dag->nodes[ed->src], *h = &dag->nodes[ed->dst];
		if (ed->kind != PD_E_COLLECTIVE || h->kind != PD_N_COLLECTIVE || h->group < 0 ||
		    (uint32_t)h->group >= dag->groups.n || m->kind >= PD_N__COUNT)
			continue;
		pd_i_group_traffic *g = &t[h->group];
		g->ep = g->ep || pd_i_ops[m->kind].family == PD_I_F_EP;
		g->used = 1;
		g->bytes += dag->costs[m->cost].bytes;
	}
	for (uint32_t k = 0; k < dag->groups.n; k++) {
		uint32_t n = dag->groups.off[k + 1] - dag->groups.off[k];
		t[k].n = n;
		t[k].bytes_per_gpu = n ? t[k].bytes / n : 0;
	}
	return PD_OK;
}

/* Every comm edge (pipeline p2p, KV hand-over): what each ordered pair of GPUs carries
 * over the step.  Collectives are not links: pd_i_overview_groups. */
pd_status pd_i_overview_links(const pd_dag *dag, pd_i_links *l)
{
	for (uint32_t e = 0; e < dag->n_edges; e++) {
		const pd_edge *ed = &dag->edges[e];
		const pd_node *s = &dag->nodes[ed->src], *d = &dag->nodes[ed->dst];
		if (ed->kind == PD_E_COMM && s->gpu >= 0 && d->gpu >= 0 && s->gpu != d->gpu)
			PD_CHECK(links_add(l, s->gpu, d->gpu, 0, dag->costs[s->cost].out_bytes));
	}
	links_merge(l);
	return PD_OK;
}
