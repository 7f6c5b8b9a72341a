/* graph.c - the compact DAG: node and edge arrays, interned costs and GPU groups, CSR.
 *
 * Nodes (32 bytes) and edges (12 bytes) are appended to flat arrays that the lowering
 * reserves once with exact sizes; pd_dag_finalize() then builds out- and in-CSR by a
 * stable counting sort.  Costs and groups are interned through util's intern tables
 * (array.h) kept in a private tail of the pd_dag allocation, so the public struct stays
 * what dag.h says and the GraphML reader (which interns per node) is still cheap.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dag/dag_internal.h"
#include "util/array.h"

typedef struct dag_impl {
	pd_dag pub; /* first: a pd_dag * is a dag_impl * */
	pd_i_intern costs, groups;
	/* derived by pd_dag_finalize, dropped by the next one */
	uint32_t *rep;   /* see pd_i_contract */
	int8_t ids_topo; /* pd_i_prove_ids_topological: -1 not yet known */
} dag_impl;

static const char *const edge_kind_names[PD_E__COUNT] = {
    [PD_E_DATA] = "data",
    [PD_E_COMM] = "comm",
    [PD_E_CONTROL] = "control",
    [PD_E_COLLECTIVE] = "collective",
};

const char *pd_edge_kind_name(pd_edge_kind k)
{
	return (unsigned)k < PD_E__COUNT ? edge_kind_names[k] : NULL;
}

int pd_edge_kind_from_name(const char *s)
{
	for (int k = 0; s && k < PD_E__COUNT; k++)
		if (strcmp(s, edge_kind_names[k]) == 0)
			return k;
	return -1;
}

pd_dag *pd_dag_create(void)
{
	dag_impl *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->ids_topo = -1;
	d->pub.groups.off = calloc(1, sizeof(uint32_t));
	if (!d->pub.groups.off) {
		free(d);
		return NULL;
	}
	d->pub.groups.cap = 0;
	return &d->pub;
}

void pd_dag_destroy(pd_dag *dag)
{
	if (!dag)
		return;
	dag_impl *d = (dag_impl *)dag;
	pd_i_intern_release(&d->costs);
	pd_i_intern_release(&d->groups);
	free(d->rep);
	free(dag->nodes);
	free(dag->edges);
	free(dag->costs);
	free(dag->groups.off);
	free(dag->groups.gpus);
	free(dag->out_off);
	free(dag->out_edge);
	free(dag->in_off);
	free(dag->in_edge);
	for (uint32_t i = 0; i < dag->n_stages; i++) {
		free(dag->stages[i].expert_gpu);
		free(dag->stages[i].copy_off);
		free(dag->stages[i].copy_gpu);
	}
	free(dag->stages);
	free(dag->gpu);
	free(dag->pools);
	free(d);
}

/* Grows *arr to at least `want` elements of `size` bytes; never shrinks.  A first
 * allocation is a big one (pd_i_alloc_big): pd_dag_reserve sizes the lowering's
 * arrays exactly.  The public counts are uint32. */
static pd_status grow(void **arr, uint32_t *cap, uint64_t want, size_t size)
{
	if (want <= *cap)
		return PD_OK;
	if (want > UINT32_MAX - 1)
		return PD_IO;
	size_t c = *cap;
	PD_CHECK(pd_i_array_grow_exact_big(arr, &c, (size_t)want, size));
	*cap = (uint32_t)c;
	return PD_OK;
}

/* Doubling growth for one more element beyond n. */
static pd_status grow_one(void **arr, uint32_t *cap, uint32_t n, size_t size)
{
	if (n < *cap)
		return PD_OK;
	uint64_t want = *cap ? (uint64_t)*cap * 2 : 64;
	if (want > UINT32_MAX - 1)
		want = UINT32_MAX - 1;
	if (want <= n)
		return PD_IO;
	return grow(arr, cap, want, size);
}

pd_status pd_dag_reserve(pd_dag *dag, uint32_t nodes, uint32_t edges)
{
	PD_CHECK(grow((void **)&dag->nodes, &dag->cap_nodes, nodes, sizeof(pd_node)));
	return grow((void **)&dag->edges, &dag->cap_edges, edges, sizeof(pd_edge));
}

pd_status pd_dag_add_node(pd_dag *dag, const pd_node *n, uint32_t *id)
{
	PD_CHECK(
	    grow_one((void **)&dag->nodes, &dag->cap_nodes, dag->n_nodes, sizeof(pd_node)));
	dag->nodes[dag->n_nodes] = *n;
	if (id)
		*id = dag->n_nodes;
	dag->n_nodes++;
	dag->finalized = 0;
	return PD_OK;
}

pd_status pd_dag_add_edge(pd_dag *dag, uint32_t src, uint32_t dst, pd_edge_kind kind)
{
	PD_CHECK(
	    grow_one((void **)&dag->edges, &dag->cap_edges, dag->n_edges, sizeof(pd_edge)));
	pd_edge *e = &dag->edges[dag->n_edges++];
	e->src = src;
	e->dst = dst;
	e->kind = (uint8_t)kind;
	memset(e->pad_, 0, sizeof(e->pad_));
	dag->finalized = 0;
	return PD_OK;
}

/* Costs and groups are plain data without padding holes: hashed and compared as bytes. */
static uint32_t cost_hash(const void *dag, uint32_t i)
{
	return pd_i_hash_bytes(&((const pd_dag *)dag)->costs[i], sizeof(pd_cost));
}

static bool cost_equal(const void *dag, uint32_t i, const void *key)
{
	return memcmp(&((const pd_dag *)dag)->costs[i], key, sizeof(pd_cost)) == 0;
}

pd_status pd_dag_intern_cost(pd_dag *dag, const pd_cost *c, uint32_t *idx)
{
	pd_i_intern *t = &((dag_impl *)dag)->costs;
	uint32_t where;
	PD_CHECK(pd_i_intern_reserve(t, dag->n_costs, 64, cost_hash, dag));
	*idx = pd_i_intern_find(t, pd_i_hash_bytes(c, sizeof(*c)), c, cost_equal, dag, &where);
	if (*idx != UINT32_MAX)
		return PD_OK;
	PD_CHECK(
	    grow_one((void **)&dag->costs, &dag->cap_costs, dag->n_costs, sizeof(pd_cost)));
	dag->costs[dag->n_costs] = *c;
	pd_i_intern_set(t, where, dag->n_costs);
	*idx = dag->n_costs++;
	return PD_OK;
}

static uint32_t group_hash(const void *dag, uint32_t i)
{
	const pd_groups *g = &((const pd_dag *)dag)->groups;
	return pd_i_hash_bytes(g->gpus + g->off[i],
	                       (g->off[i + 1] - g->off[i]) * sizeof(int32_t));
}

/* The key of a group lookup. */
typedef struct group_key {
	const int32_t *gpus;
	uint32_t n;
} group_key;

static bool group_equal(const void *dag, uint32_t i, const void *key)
{
	const pd_groups *g = &((const pd_dag *)dag)->groups;
	const group_key *k = key;
	return g->off[i + 1] - g->off[i] == k->n &&
	       memcmp(g->gpus + g->off[i], k->gpus, k->n * sizeof(int32_t)) == 0;
}

/* Appends a group after its slot was found free. */
static pd_status group_append(pd_groups *g, const int32_t *gpus, uint32_t n)
{
	PD_CHECK(
	    grow((void **)&g->gpus, &g->cap_gpus, (uint64_t)g->n_gpus + n, sizeof(int32_t)));
	if (g->n + 2 > g->cap) {
		uint64_t want = g->cap ? (uint64_t)g->cap * 2 : 64;
		PD_CHECK(grow((void **)&g->off, &g->cap, want, sizeof(uint32_t)));
	}
	memcpy(g->gpus + g->n_gpus, gpus, n * sizeof(int32_t));
	g->n_gpus += n;
	g->off[++g->n] = g->n_gpus;
	return PD_OK;
}

pd_status pd_dag_intern_group(pd_dag *dag, const int32_t *gpus, uint32_t n, uint32_t *idx)
{
	pd_i_intern *t = &((dag_impl *)dag)->groups;
	pd_groups *g = &dag->groups;
	group_key k = {gpus, n};
	uint32_t where;
	PD_CHECK(pd_i_intern_reserve(t, g->n, 64, group_hash, dag));
	*idx = pd_i_intern_find(t, pd_i_hash_bytes(gpus, n * sizeof(int32_t)), &k, group_equal,
	                        dag, &where);
	if (*idx != UINT32_MAX)
		return PD_OK;
	PD_CHECK(group_append(g, gpus, n));
	pd_i_intern_set(t, where, g->n - 1);
	*idx = g->n - 1;
	return PD_OK;
}

/* What one pass over the edges learns: degrees (off[v + 1], not yet summed), whether
 * the edges already come sorted by source / destination, and the contraction. */
typedef struct edge_scan {
	uint32_t *out_off, *in_off, *rep;
	bool by_src, by_dst;
} edge_scan;

/* The lowering appends edges grouped by destination, so the in-CSR is usually the
 * identity; rep follows pd_i_contract's rule (first collective edge of a non-hub). */
static pd_status scan_edges(const pd_dag *dag, edge_scan *sc)
{
	uint32_t n = dag->n_nodes, last_src = 0, last_dst = 0;
	for (uint32_t v = 0; v < n; v++)
		sc->rep[v] = v;
	sc->by_src = sc->by_dst = true;
	for (uint32_t e = 0; e < dag->n_edges; e++) {
		const pd_edge *ed = &dag->edges[e];
		if (ed->src >= n || ed->dst >= n)
			return PD_IO;
		sc->out_off[ed->src + 1]++;
		sc->in_off[ed->dst + 1]++;
		sc->by_src &= ed->src >= last_src;
		sc->by_dst &= ed->dst >= last_dst;
		last_src = ed->src;
		last_dst = ed->dst;
		if (ed->kind == PD_E_COLLECTIVE && sc->rep[ed->src] == ed->src &&
		    ed->src != ed->dst && dag->nodes[ed->src].kind != PD_N_COLLECTIVE)
			sc->rep[ed->src] = ed->dst;
	}
	return PD_OK;
}

/* Turns the degrees in off[] into offsets and fills ed[] with the edge ids by key
 * (dst when by_dst, else src), by a counting sort that is stable because edges are
 * visited in id order; already sorted keys need no sort. */
static void place_edges(const pd_dag *dag, int by_dst, bool sorted, uint32_t *off,
                        uint32_t *ed)
{
	uint32_t n = dag->n_nodes, m = dag->n_edges;
	for (uint32_t v = 0; v < n; v++)
		off[v + 1] += off[v];
	if (sorted) {
		for (uint32_t e = 0; e < m; e++)
			ed[e] = e;
		return;
	}
	/* off[v] is used as the insertion cursor, then shifted back */
	for (uint32_t e = 0; e < m; e++)
		ed[off[by_dst ? dag->edges[e].dst : dag->edges[e].src]++] = e;
	for (uint32_t v = n; v > 0; v--)
		off[v] = off[v - 1];
	off[0] = 0;
}

static void drop_derived(pd_dag *dag)
{
	dag_impl *d = (dag_impl *)dag;
	free(dag->out_off);
	free(dag->out_edge);
	free(dag->in_off);
	free(dag->in_edge);
	free(d->rep);
	dag->out_off = dag->out_edge = dag->in_off = dag->in_edge = d->rep = NULL;
	d->ids_topo = -1;
	dag->finalized = 0;
}

/* Zeroed offsets, then both CSR directions and the contraction from one scan. */
pd_status pd_dag_finalize(pd_dag *dag)
{
	dag_impl *d = (dag_impl *)dag;
	size_t n = dag->n_nodes, m = dag->n_edges ? dag->n_edges : 1;
	drop_derived(dag);
	dag->out_off = pd_i_alloc_big((n + 1) * sizeof(uint32_t));
	dag->in_off = pd_i_alloc_big((n + 1) * sizeof(uint32_t));
	dag->out_edge = pd_i_alloc_big(m * sizeof(uint32_t));
	dag->in_edge = pd_i_alloc_big(m * sizeof(uint32_t));
	d->rep = pd_i_alloc_big((n ? n : 1) * sizeof(uint32_t));
	edge_scan sc = {dag->out_off, dag->in_off, d->rep, true, true};
	if (!dag->out_off || !dag->in_off || !dag->out_edge || !dag->in_edge || !d->rep) {
		drop_derived(dag);
		return PD_IO;
	}
	memset(dag->out_off, 0, (n + 1) * sizeof(uint32_t));
	memset(dag->in_off, 0, (n + 1) * sizeof(uint32_t));
	if (scan_edges(dag, &sc) != PD_OK) {
		drop_derived(dag);
		return PD_IO;
	}
	place_edges(dag, 0, sc.by_src, dag->out_off, dag->out_edge);
	place_edges(dag, 1, sc.by_dst, dag->in_off, dag->in_edge);
	dag->finalized = 1;
	return PD_OK;
}

const uint32_t *pd_i_contract(const pd_dag *dag)
{
	return ((const dag_impl *)dag)->rep;
}

/* The answer is remembered on the DAG: a cache of a finalized graph, not a change to
 * it, hence the cast of a const pd_dag. */
bool pd_i_prove_ids_topological(const pd_dag *dag)
{
	dag_impl *d = (dag_impl *)dag;
	const pd_edge *ed = dag->edges;
	const uint32_t *rep = d->rep;
	bool topo = true;
	for (uint32_t e = 0; e < dag->n_edges && topo; e++)
		topo = ed[e].kind == PD_E_COLLECTIVE || rep[ed[e].src] < rep[ed[e].dst];
	d->ids_topo = topo;
	return topo;
}

bool pd_i_ids_topological(const pd_dag *dag)
{
	int8_t t = ((const dag_impl *)dag)->ids_topo;
	return t < 0 ? pd_i_prove_ids_topological(dag) : t;
}

/* Group g as "0,1,2,3" into buf. */
static void group_string(const pd_dag *dag, uint32_t g, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = 0;
	if (g >= dag->groups.n)
		return;
	for (uint32_t i = dag->groups.off[g]; i < dag->groups.off[g + 1] && used < size; i++) {
		int w = snprintf(buf + used, size - used, "%s%d", used ? "," : "",
		                 (int)dag->groups.gpus[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

void pd_node_label(const pd_dag *dag, uint32_t v, char *buf, size_t size)
{
	if (!size)
		return;
	const pd_node *n = &dag->nodes[v];
	char lay[24] = "", mb[24] = "", tail[64] = "";
	if (n->layer >= 0)
		snprintf(lay, sizeof(lay), "L%d ", (int)n->layer);
	if (dag->micro_batches > 1)
		snprintf(mb, sizeof(mb), "mb%d ", (int)n->micro_batch);
	if (n->kind == PD_N_EXPERT)
		snprintf(tail, sizeof(tail), " %d", (int)n->expert);
	else if (pd_i_node_is_hub(n)) {
		tail[0] = ' ';
		group_string(dag, (uint32_t)n->group, tail + 1, sizeof(tail) - 1);
	}
	const char *kn = pd_node_kind_name((pd_node_kind)n->kind);
	snprintf(buf, size, "%s%s%s%s", mb, lay, kn ? kn : "?", tail);
}

void pd_i_node_describe(const pd_dag *dag, uint32_t v, char *buf, size_t size)
{
	const pd_node *n = &dag->nodes[v];
	const char *kn = pd_node_kind_name((pd_node_kind)n->kind);
	char extra[32] = "", lay[24] = "";
	if (n->kind == PD_N_EXPERT)
		snprintf(extra, sizeof(extra), " %d", (int)n->expert);
	if (n->layer >= 0)
		snprintf(lay, sizeof(lay), " L%d", (int)n->layer);
	if (pd_i_node_is_hub(n))
		snprintf(buf, size, "%s%s mb%d", kn ? kn : "?", lay, (int)n->micro_batch);
	else
		snprintf(buf, size, "%s%s gpu %d%s mb%d", kn ? kn : "?", extra, (int)n->gpu, lay,
		         (int)n->micro_batch);
}

void pd_dag_stats_compute(const pd_dag *dag, pd_dag_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->nodes = dag->n_nodes;
	st->edges = dag->n_edges;
	uint8_t *seen = dag->n_gpus > 0 ? calloc((size_t)dag->n_gpus, 1) : NULL;
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		const pd_node *n = &dag->nodes[v];
		if (n->kind < PD_N__COUNT)
			st->by_kind[n->kind]++;
		if (seen && n->gpu >= 0 && n->gpu < dag->n_gpus && !seen[n->gpu]) {
			seen[n->gpu] = 1;
			st->gpus_used++;
		}
	}
	st->hubs = st->by_kind[PD_N_COLLECTIVE];
	for (uint32_t e = 0; e < dag->n_edges; e++)
		if (dag->edges[e].kind < PD_E__COUNT)
			st->edges_by_kind[dag->edges[e].kind]++;
	free(seen);
}

static void dump_node(const pd_dag *dag, uint32_t v, FILE *f)
{
	const pd_node *n = &dag->nodes[v];
	const char *kn = pd_node_kind_name((pd_node_kind)n->kind);
	fprintf(f, "n%" PRIu32 " %s gpu=%d r=%d s=%d L=%d mb=%d", v, kn ? kn : "?", (int)n->gpu,
	        (int)n->replica, (int)n->stage, (int)n->layer, (int)n->micro_batch);
	if (pd_i_node_is_hub(n)) {
		char g[256];
		group_string(dag, (uint32_t)n->group, g, sizeof(g));
		fprintf(f, " group=%s", g);
	} else {
		fprintf(f, " expert=%d", (int)n->expert);
	}
	if (dag->n_pools)
		fprintf(f, " phase=%s", pd_phase_name((pd_phase)n->phase));
	if (n->cost < dag->n_costs) {
		const pd_cost *c = &dag->costs[n->cost];
		fprintf(f, " flops=%.6g bytes=%.6g us=%.4f", c->flops, c->bytes, c->us);
	}
	fputc('\n', f);
}

void pd_dag_dump(const pd_dag *dag, FILE *f)
{
	fprintf(f,
	        "dag %s: %" PRIu32 " nodes, %" PRIu32 " edges, %" PRIu32 " costs, %" PRIu32
	        " groups\n",
	        dag->name ? dag->name : "?", dag->n_nodes, dag->n_edges, dag->n_costs,
	        dag->groups.n);
	for (uint32_t v = 0; v < dag->n_nodes; v++)
		dump_node(dag, v, f);
	for (uint32_t e = 0; e < dag->n_edges; e++) {
		const pd_edge *ed = &dag->edges[e];
		const char *kn = pd_edge_kind_name((pd_edge_kind)ed->kind);
		fprintf(f, "e%" PRIu32 " n%" PRIu32 " -> n%" PRIu32 " %s\n", e, ed->src, ed->dst,
		        kn ? kn : "?");
	}
}

int32_t pd_dag_replica_pool(const pd_dag *dag, int32_t replica)
{
	for (uint32_t p = 0; p < dag->n_pools; p++)
		if (replica >= dag->pools[p].first_replica &&
		    replica - dag->pools[p].first_replica < dag->pools[p].n_replicas)
			return (int32_t)p;
	return -1;
}

int32_t pd_dag_gpu_pool(const pd_dag *dag, int32_t gpu)
{
	if (!dag->gpu || gpu < 0 || gpu >= dag->n_gpus)
		return -1;
	return dag->gpu[gpu].pool;
}

void pd_dag_stage_sort_copies(pd_dag_stage *st)
{
	for (int32_t e = 0; st->copy_off && e < st->n_experts; e++)
		qsort(st->copy_gpu + st->copy_off[e], st->copy_off[e + 1] - st->copy_off[e],
		      sizeof(int32_t), pd_i_cmp_i32);
}
