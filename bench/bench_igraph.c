/* bench_igraph.c - the same DAG through igraph 0.10, side by side with plandag.
 *
 * Two igraph graphs are built from a pd_dag (directed, edges src -> dst):
 *  - raw: every edge, collective edges as member -> hub;
 *  - contracted: each collective member replaced by its hub, collective edges dropped,
 *    self loops dropped; this is the graph plandag's acyclic check reasons about.
 * igraph_is_dag is timed on both; igraph_write_graph_graphml on the raw graph, with the
 * node and edge attributes of plandag's GraphML set as igraph attributes (except the
 * hubs' `group`) unless attrs is 0; key ids are prefixed (v_kind, e_kind) so that node and
 * edge keys of the same name do not clash.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef PD_BENCH_HAVE_IGRAPH

void bench_igraph_compare(const pd_dag *dag, const char *tmpdir, const bench_repeat *rep,
                          int attrs, bench_igraph *r)
{
	(void)dag;
	(void)tmpdir;
	(void)rep;
	(void)attrs;
	r->available = 0;
}

const char *bench_igraph_version(void)
{
	return "igraph comparison skipped: libigraph-dev not found";
}

#else

#include <igraph.h>

const char *bench_igraph_version(void)
{
	static char buf[64];
	const char *s = NULL;
	int major = 0, minor = 0, patch = 0;
	igraph_version(&s, &major, &minor, &patch);
	snprintf(buf, sizeof(buf), "igraph %s", s ? s : "?");
	return buf;
}

/* rep[v] = the hub v is a member of, or v itself. */
static uint32_t *hub_of(const pd_dag *dag)
{
	uint32_t *rep = malloc((size_t)dag->n_nodes * sizeof(*rep) + 1);
	if (!rep)
		return NULL;
	for (uint32_t v = 0; v < dag->n_nodes; v++)
		rep[v] = v;
	for (uint32_t e = 0; e < dag->n_edges; e++)
		if (dag->edges[e].kind == PD_E_COLLECTIVE)
			rep[dag->edges[e].src] = dag->edges[e].dst;
	return rep;
}

/* Edge list src, dst, ... of the raw (contract = 0) or contracted graph. */
static int edge_list(const pd_dag *dag, int contract, igraph_vector_int_t *ev)
{
	uint32_t *rep = contract ? hub_of(dag) : NULL;
	if ((contract && !rep) ||
	    igraph_vector_int_init(ev, 2 * (igraph_integer_t)dag->n_edges)) {
		free(rep);
		return -1;
	}
	igraph_integer_t k = 0;
	for (uint32_t e = 0; e < dag->n_edges; e++) {
		const pd_edge *ed = &dag->edges[e];
		uint32_t a = ed->src, b = ed->dst;
		if (contract) {
			if (ed->kind == PD_E_COLLECTIVE)
				continue;
			a = rep[a];
			b = rep[b];
			if (a == b)
				continue;
		}
		VECTOR(*ev)[k++] = a;
		VECTOR(*ev)[k++] = b;
	}
	free(rep);
	return igraph_vector_int_resize(ev, k) ? -1 : 0;
}

static int build(const pd_dag *dag, int contract, igraph_t *g)
{
	igraph_vector_int_t ev;
	if (edge_list(dag, contract, &ev))
		return -1;
	igraph_error_t err = igraph_create(g, &ev, dag->n_nodes, IGRAPH_DIRECTED);
	igraph_vector_int_destroy(&ev);
	return err ? -1 : 0;
}

typedef struct is_dag_ctx {
	const igraph_t *g;
	igraph_bool_t res;
} is_dag_ctx;

static int run_is_dag(void *p)
{
	is_dag_ctx *c = p;
	return igraph_is_dag(c->g, &c->res) ? -1 : 0;
}

/* igraph 0.10 caches is_dag on the graph: forget it so that every run computes it. */
static int forget_is_dag(void *p)
{
	is_dag_ctx *c = p;
	igraph_invalidate_cache(c->g);
	return 0;
}

static int time_is_dag(const igraph_t *g, const bench_repeat *rep, bench_timing *t)
{
	is_dag_ctx c = {g, 0};
	bench_run(run_is_dag, forget_is_dag, &c, rep, t);
	return c.res ? 1 : 0;
}

enum { F_GPU, F_REPLICA, F_STAGE, F_LAYER, F_MB, F_EXPERT, F_FLOPS, F_BYTES, F_US, F__N };
static const char *const num_names[F__N] = {
    "gpu", "replica", "stage", "layer", "micro_batch", "expert", "flops", "bytes", "us"};

static double node_field(const pd_dag *dag, uint32_t v, int f)
{
	const pd_node *n = &dag->nodes[v];
	const pd_cost *c = &dag->costs[n->cost];
	switch (f) {
	case F_GPU:
		return n->gpu;
	case F_REPLICA:
		return n->replica;
	case F_STAGE:
		return n->stage;
	case F_LAYER:
		return n->layer;
	case F_MB:
		return n->micro_batch;
	case F_EXPERT:
		return n->kind == PD_N_COLLECTIVE ? -1 : n->expert;
	case F_FLOPS:
		return c->flops;
	case F_BYTES:
		return c->bytes;
	default:
		return c->us;
	}
}

static int set_node_numbers(igraph_t *g, const pd_dag *dag)
{
	igraph_vector_t v;
	if (igraph_vector_init(&v, dag->n_nodes))
		return -1;
	int err = 0;
	for (int f = 0; f < F__N && !err; f++) {
		for (uint32_t i = 0; i < dag->n_nodes; i++)
			VECTOR(v)[i] = node_field(dag, i, f);
		err = igraph_cattribute_VAN_setv(g, num_names[f], &v) ? -1 : 0;
	}
	igraph_vector_destroy(&v);
	return err;
}

static int set_node_strings(igraph_t *g, const pd_dag *dag)
{
	igraph_strvector_t kind, label;
	if (igraph_strvector_init(&kind, dag->n_nodes))
		return -1;
	if (igraph_strvector_init(&label, dag->n_nodes)) {
		igraph_strvector_destroy(&kind);
		return -1;
	}
	int err = 0;
	char buf[128];
	for (uint32_t i = 0; i < dag->n_nodes && !err; i++) {
		pd_node_label(dag, i, buf, sizeof(buf));
		err = igraph_strvector_set(&kind, i, pd_node_kind_name(dag->nodes[i].kind)) ||
		      igraph_strvector_set(&label, i, buf);
	}
	if (!err)
		err = igraph_cattribute_VAS_setv(g, "kind", &kind) ||
		      igraph_cattribute_VAS_setv(g, "label", &label);
	igraph_strvector_destroy(&label);
	igraph_strvector_destroy(&kind);
	return err ? -1 : 0;
}

static int set_edge_attrs(igraph_t *g, const pd_dag *dag)
{
	igraph_strvector_t kind;
	igraph_vector_t bytes;
	if (igraph_strvector_init(&kind, dag->n_edges))
		return -1;
	if (igraph_vector_init(&bytes, dag->n_edges)) {
		igraph_strvector_destroy(&kind);
		return -1;
	}
	int err = 0;
	for (uint32_t e = 0; e < dag->n_edges && !err; e++) {
		const pd_edge *ed = &dag->edges[e];
		VECTOR(bytes)[e] = dag->costs[dag->nodes[ed->src].cost].out_bytes;
		err = igraph_strvector_set(&kind, e, pd_edge_kind_name(ed->kind)) != 0;
	}
	if (!err)
		err = igraph_cattribute_EAS_setv(g, "kind", &kind) ||
		      igraph_cattribute_EAN_setv(g, "bytes", &bytes);
	igraph_vector_destroy(&bytes);
	igraph_strvector_destroy(&kind);
	return err ? -1 : 0;
}

typedef struct graphml_ctx {
	const igraph_t *g;
	const char *path;
} graphml_ctx;

/* Writes, flushes and syncs the file, as plandag's atomic writer does. */
static int run_graphml(void *p)
{
	graphml_ctx *c = p;
	FILE *f = fopen(c->path, "w");
	if (!f)
		return -1;
	int err = igraph_write_graph_graphml(c->g, f, 1) != IGRAPH_SUCCESS;
	err |= fflush(f) != 0 || fsync(fileno(f)) != 0;
	return (fclose(f) != 0 || err) ? -1 : 0;
}

static void time_graphml(igraph_t *g, const pd_dag *dag, const char *tmpdir,
                         const bench_repeat *rep, bench_igraph *r)
{
	if (r->attrs &&
	    (set_node_numbers(g, dag) || set_node_strings(g, dag) || set_edge_attrs(g, dag))) {
		fprintf(stderr, "igraph: cannot set attributes; writing without them\n");
		igraph_cattribute_remove_all(g, 1, 1, 1);
		r->attrs = 0;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/igraph.graphml", tmpdir);
	graphml_ctx c = {g, path};
	bench_run(run_graphml, NULL, &c, rep, &r->graphml);
	r->graphml_bytes = bench_file_size(path);
	unlink(path);
}

void bench_igraph_compare(const pd_dag *dag, const char *tmpdir, const bench_repeat *rep,
                          int attrs, bench_igraph *r)
{
	igraph_set_error_handler(igraph_error_handler_printignore);
	igraph_set_attribute_table(&igraph_cattribute_table);
	r->available = 1;
	r->attrs = attrs;
	igraph_t g;
	if (build(dag, 1, &g) == 0) {
		r->contracted_is_dag = time_is_dag(&g, rep, &r->is_dag_contracted);
		igraph_destroy(&g);
	}
	double t0 = bench_now();
	if (build(dag, 0, &g) != 0) {
		fprintf(stderr, "igraph: cannot build the graph\n");
		return;
	}
	r->build_s = bench_now() - t0;
	r->raw_is_dag = time_is_dag(&g, rep, &r->is_dag_raw);
	time_graphml(&g, dag, tmpdir, rep, r);
	igraph_destroy(&g);
}

#endif
