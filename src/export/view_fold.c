/* view_fold.c - a stage, GPU or layer view draws repeated structure once.
 *
 * A GPU of DeepSeek-V3 runs 61 layers, 58 of them the same MoE layer; a stage of 32 or
 * 320 GPUs holds a few kinds of GPU, each many times.  The picture draws each run of
 * identical consecutive layers once ("layers 3-60 ×58") and each kind of GPU once
 * ("GPUs 0-31 (×32)"):
 *
 * - layers (stage and GPU views): the signature of a layer is a sum over its nodes in
 *   the view, in id order, of a hash of (position, kind, GPU, micro-batch, cost); a
 *   layer equal (signature and node count) to the lead of the current run joins it.
 * - micro-batches (stage and GPU views) likewise, before the layers: a decode step of 8
 *   identical micro-batches draws micro-batch 0 ("micro-batches 0-7 ×8" in the title).
 * - GPUs (stage and layer views): the signature of a GPU is the same over its drawn
 *   nodes with the layer instead of the GPU; GPUs with equal signatures fold into the
 *   first of them, wherever they stand.
 *
 * A hidden node has a representative: the node at its position in the lead layer or
 * GPU, so an edge leaving a run (the last layer of 3-60 into layer 61's nodes, or the
 * lm_head) is drawn from the lead.  A hub stays when a drawn node touches it.
 */
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9u;
	return h ^ (h >> 29);
}

/* What a unit is: a layer, a GPU or a micro-batch. */
enum { BY_LAYER, BY_GPU, BY_MB };

static int32_t unit_of(const pd_node *n, int by)
{
	return by == BY_GPU ? n->gpu : by == BY_LAYER ? n->layer : n->micro_batch;
}

/* A node at `pos` in its unit: its kind, cost and the two coordinates that are not the
 * unit's. */
static uint64_t node_hash(const pd_dag *dag, uint32_t v, uint32_t pos, int by)
{
	const pd_node *n = &dag->nodes[v];
	uint64_t us;
	memcpy(&us, &dag->costs[n->cost].us, sizeof(us));
	uint64_t h = mix(mix(7, pos), n->kind);
	h = mix(h, by == BY_GPU ? 0 : (uint64_t)(int64_t)n->gpu);
	h = mix(h, by == BY_LAYER ? 0 : (uint64_t)(int64_t)n->layer);
	h = mix(h, by == BY_MB ? 0 : (uint64_t)(int64_t)n->micro_batch);
	return mix(h, us);
}

/* Units (layers or GPUs) of the drawn nodes: per unit its node count, signature and
 * the offset of its nodes in `pos` (id order). */
typedef struct units {
	int32_t n;
	uint32_t *cnt, *off, *pos, *ord; /* ord: by node, its position in its unit */
	uint64_t *sig;
} units;

static void units_free(units *u)
{
	free(u->cnt);
	free(u->off);
	free(u->pos);
	free(u->ord);
	free(u->sig);
}

/* unit_of: the unit of drawn node v (-1: none, e.g. a hub in the GPU fold). */
static pd_status units_make(const pd_dag *dag, const uint8_t *keep, int by, units *u)
{
	memset(u, 0, sizeof(*u));
	int32_t m = -1;
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		int32_t k = unit_of(&dag->nodes[v], by);
		if (keep[v] && k > m)
			m = k;
	}
	u->n = m + 1;
	size_t nu = (size_t)u->n + 1, nn = dag->n_nodes ? dag->n_nodes : 1;
	u->cnt = calloc(nu, sizeof(uint32_t));
	u->off = calloc(nu, sizeof(uint32_t));
	u->sig = calloc(nu, sizeof(uint64_t));
	u->ord = calloc(nn, sizeof(uint32_t));
	u->pos = calloc(nn, sizeof(uint32_t));
	if (!u->cnt || !u->off || !u->sig || !u->ord || !u->pos)
		return PD_IO;
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		const pd_node *n = &dag->nodes[v];
		int32_t k = unit_of(n, by);
		if (!keep[v] || k < 0)
			continue;
		u->ord[v] = u->cnt[k]++;
		u->sig[k] += node_hash(dag, v, u->ord[v], by);
	}
	for (int32_t k = 0; k < u->n; k++)
		u->off[k + 1] = u->off[k] + u->cnt[k];
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		int32_t k = unit_of(&dag->nodes[v], by);
		if (keep[v] && k >= 0)
			u->pos[u->off[k] + u->ord[v]] = v;
	}
	return PD_OK;
}

/* Hides the nodes of every unit whose lead[k] != k, pointing them at the lead's node
 * at their position. */
static void hide_units(pd_i_view_fold *f, const pd_dag *dag, const units *u, int by,
                       const int32_t *lead)
{
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		int32_t k = unit_of(&dag->nodes[v], by);
		if (!f->keep[v] || k < 0 || lead[k] == k)
			continue;
		f->keep[v] = 0;
		f->rep[v] = u->pos[u->off[lead[k]] + u->ord[v]];
	}
}

/* Runs of identical consecutive layers (by BY_LAYER) or micro-batches (BY_MB): *n
 * units, lead[k] the first of unit k's run, last[lead] the run's last. */
static pd_status fold_runs(pd_i_view_fold *f, const pd_dag *dag, int by, int32_t *n,
                           int32_t **lead_out, int32_t **last_out)
{
	units u;
	pd_status s = units_make(dag, f->keep, by, &u);
	*n = u.n;
	int32_t *lead_of = *lead_out =
	    s == PD_OK ? malloc(((size_t)u.n + 1) * sizeof(int32_t)) : NULL;
	int32_t *last = *last_out =
	    s == PD_OK ? malloc(((size_t)u.n + 1) * sizeof(int32_t)) : NULL;
	if (!lead_of || !last)
		s = PD_IO;
	for (int32_t k = 0, lead = -1; s == PD_OK && k < u.n; k++) {
		int same =
		    lead >= 0 && u.cnt[k] && u.cnt[k] == u.cnt[lead] && u.sig[k] == u.sig[lead];
		if (!same && u.cnt[k])
			lead = k;
		lead_of[k] = u.cnt[k] ? lead : k;
		last[k] = k;
		if (u.cnt[k])
			last[lead] = k;
	}
	if (s == PD_OK)
		hide_units(f, dag, &u, by, lead_of);
	units_free(&u);
	return s;
}

typedef struct gpu_sig {
	uint64_t sig;
	uint32_t cnt;
	int32_t gpu;
} gpu_sig;

static int gpu_sig_cmp(const void *x, const void *y)
{
	const gpu_sig *a = x, *b = y;
	if (a->sig != b->sig)
		return (a->sig > b->sig) - (a->sig < b->sig);
	if (a->cnt != b->cnt)
		return (a->cnt > b->cnt) - (a->cnt < b->cnt);
	return (a->gpu > b->gpu) - (a->gpu < b->gpu);
}

/* GPUs with the same drawn nodes fold into the first of them. */
static pd_status fold_gpus(pd_i_view_fold *f, const pd_dag *dag)
{
	units u;
	pd_status s = units_make(dag, f->keep, BY_GPU, &u);
	f->n_gpus = u.n;
	f->gpu_lead = s == PD_OK ? malloc(((size_t)u.n + 1) * sizeof(int32_t)) : NULL;
	gpu_sig *g = s == PD_OK ? malloc(((size_t)u.n + 1) * sizeof(gpu_sig)) : NULL;
	if (!f->gpu_lead || !g)
		s = PD_IO;
	int32_t n = 0;
	for (int32_t k = 0; s == PD_OK && k < u.n; k++) {
		f->gpu_lead[k] = k;
		if (u.cnt[k])
			g[n++] = (gpu_sig){u.sig[k], u.cnt[k], k};
	}
	if (s == PD_OK)
		qsort(g, (size_t)n, sizeof(gpu_sig), gpu_sig_cmp);
	for (int32_t i = 1; s == PD_OK && i < n; i++)
		if (g[i].sig == g[i - 1].sig && g[i].cnt == g[i - 1].cnt)
			f->gpu_lead[g[i].gpu] = f->gpu_lead[g[i - 1].gpu];
	if (s == PD_OK)
		hide_units(f, dag, &u, BY_GPU, f->gpu_lead);
	free(g);
	units_free(&u);
	return s;
}

/* A hub stays when a drawn GPU node touches it. */
static void prune_hubs(pd_i_view_fold *f, const pd_dag *dag)
{
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		if (!f->keep[v] || dag->nodes[v].gpu >= 0)
			continue;
		int used = 0;
		for (uint32_t i = dag->in_off[v]; i < dag->in_off[v + 1] && !used; i++)
			used = f->keep[dag->edges[dag->in_edge[i]].src];
		for (uint32_t i = dag->out_off[v]; i < dag->out_off[v + 1] && !used; i++)
			used = f->keep[dag->edges[dag->out_edge[i]].dst];
		f->keep[v] = (uint8_t)used;
	}
}

pd_status pd_i_view_fold_compute(const pd_dag *dag, const pd_view *view, pd_i_view_fold *f)
{
	memset(f, 0, sizeof(*f));
	size_t nn = dag->n_nodes ? dag->n_nodes : 1;
	f->keep = malloc(nn);
	f->rep = malloc(nn * sizeof(uint32_t));
	pd_status s = f->keep && f->rep ? PD_OK : PD_IO;
	if (s == PD_OK) {
		pd_i_view_select(dag, view, f->keep);
		memset(f->rep, 0xff, nn * sizeof(uint32_t));
	}
	int parts = view->kind != PD_VIEW_LAYER && view->kind != PD_VIEW_FULL;
	if (s == PD_OK && parts)
		s = fold_runs(f, dag, BY_MB, &f->n_mbs, &f->mb_lead, &f->mb_last);
	if (s == PD_OK && parts)
		s = fold_runs(f, dag, BY_LAYER, &f->n_layers, &f->layer_lead, &f->layer_last);
	if (s == PD_OK && view->kind != PD_VIEW_GPU && view->kind != PD_VIEW_FULL)
		s = fold_gpus(f, dag);
	if (s == PD_OK && view->kind != PD_VIEW_FULL)
		prune_hubs(f, dag);
	for (uint32_t v = 0; s == PD_OK && v < dag->n_nodes; v++)
		f->n_drawn += f->keep[v];
	if (s != PD_OK)
		pd_i_view_fold_release(f);
	return s;
}

uint32_t pd_i_view_fold_draw(const pd_i_view_fold *f, uint32_t v)
{
	for (int i = 0; i < 4 && v != UINT32_MAX; i++) {
		if (f->keep[v])
			return v;
		v = f->rep[v];
	}
	return UINT32_MAX;
}

void pd_i_view_fold_release(pd_i_view_fold *f)
{
	free(f->keep);
	free(f->rep);
	free(f->layer_lead);
	free(f->layer_last);
	free(f->gpu_lead);
	free(f->mb_lead);
	free(f->mb_last);
	memset(f, 0, sizeof(*f));
}
