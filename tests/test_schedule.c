/* test_schedule.c - the stream schedule (docs/time-model.md): makespan against an
 * independent longest path, the critical path read off it, streams, the breakdown. */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plandag/dag.h"
#include "plandag/pipeline.h"
#include "testutil.h"

/* Longest path of the DAG with collectives contracted (member -> hub), by Kahn's
 * algorithm written here from the edge list alone.  With `streams`, consecutive nodes
 * (in id order) of each GPU's stream also get an edge: the schedule's order. */
typedef struct ref_graph {
	uint32_t n, m, *rep, *src, *dst;
} ref_graph;

static void ref_add(ref_graph *g, uint32_t a, uint32_t b)
{
	if (a == b)
		return;
	g->src[g->m] = a;
	g->dst[g->m++] = b;
}

static void ref_stream_edges(const pd_dag *d, ref_graph *g)
{
	uint32_t *last = malloc((size_t)d->n_gpus * 2 * sizeof(uint32_t));
	memset(last, 0xff, (size_t)d->n_gpus * 2 * sizeof(uint32_t));
	for (uint32_t v = 0; v < d->n_nodes; v++) {
		pd_stream s = pd_node_stream(d, v);
		if (s == PD_STREAM_NONE)
			continue;
		uint32_t k = (uint32_t)d->nodes[v].gpu * 2 + (uint32_t)s;
		if (last[k] != UINT32_MAX)
			ref_add(g, g->rep[last[k]], g->rep[v]);
		last[k] = v;
	}
	free(last);
}

static double ref_longest(const pd_dag *d, int streams)
{
	ref_graph g = {.n = d->n_nodes};
	g.rep = malloc(g.n * sizeof(uint32_t));
	g.src = malloc((d->n_edges + 2 * (size_t)g.n) * sizeof(uint32_t));
	g.dst = malloc((d->n_edges + 2 * (size_t)g.n) * sizeof(uint32_t));
	for (uint32_t v = 0; v < g.n; v++)
		g.rep[v] = v;
	for (uint32_t e = 0; e < d->n_edges; e++)
		if (d->edges[e].kind == PD_E_COLLECTIVE)
			g.rep[d->edges[e].src] = d->edges[e].dst;
	for (uint32_t e = 0; e < d->n_edges; e++)
		if (d->edges[e].kind != PD_E_COLLECTIVE)
			ref_add(&g, g.rep[d->edges[e].src], g.rep[d->edges[e].dst]);
	if (streams)
		ref_stream_edges(d, &g);
	uint32_t *indeg = calloc(g.n, sizeof(uint32_t)),
	         *queue = malloc(g.n * sizeof(uint32_t));
	uint32_t *off = calloc(g.n + 1, sizeof(uint32_t)),
	         *adj = malloc((g.m + 1) * sizeof(uint32_t));
	double *fin = calloc(g.n, sizeof(double)), *start = calloc(g.n, sizeof(double)),
	       best = 0;
	for (uint32_t i = 0; i < g.m; i++) {
		off[g.src[i] + 1]++;
		indeg[g.dst[i]]++;
	}
	for (uint32_t v = 0; v < g.n; v++)
		off[v + 1] += off[v];
	uint32_t *pos = malloc((g.n + 1) * sizeof(uint32_t)), qh = 0, qt = 0;
	memcpy(pos, off, (g.n + 1) * sizeof(uint32_t));
	for (uint32_t i = 0; i < g.m; i++)
		adj[pos[g.src[i]]++] = g.dst[i];
	for (uint32_t v = 0; v < g.n; v++)
		if (g.rep[v] == v && indeg[v] == 0)
			queue[qt++] = v;
	while (qh < qt) {
		uint32_t v = queue[qh++];
		fin[v] = start[v] + d->costs[d->nodes[v].cost].us;
		best = fin[v] > best ? fin[v] : best;
		for (uint32_t i = off[v]; i < off[v + 1]; i++) {
			uint32_t w = adj[i];
			start[w] = fin[v] > start[w] ? fin[v] : start[w];
			if (--indeg[w] == 0)
				queue[qt++] = w;
		}
	}
	free(g.rep), free(g.src), free(g.dst), free(indeg), free(queue), free(off), free(adj);
	free(fin), free(start), free(pos);
	return best;
}

/* Fills plans[] with every plan of examples/ and tests/plans/valid/. */
static size_t list_plans(char plans[][288], size_t max)
{
	const char *dirs[] = {"examples", "tests/plans/valid"};
	size_t n = 0;
	for (size_t i = 0; i < 2; i++) {
		DIR *dir = opendir(pd_test_path(dirs[i]));
		CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
		for (struct dirent *e; n < max && (e = readdir(dir)) != NULL;) {
			size_t len = strlen(e->d_name);
			if (len > 4 && strcmp(e->d_name + len - 4, ".xml") == 0)
				snprintf(plans[n++], sizeof(plans[0]), "%s/%s", dirs[i], e->d_name);
		}
		closedir(dir);
	}
	return n;
}

/* Sum of the path's weights (a collective counts its hub): with every start decided by
 * the node before it on the path, the makespan. */
static double path_sum(const pd_dag *d, const pd_critical_path *cp)
{
	double t = 0;
	for (uint32_t i = 0; i < cp->n; i++) {
		uint32_t v = cp->nodes[i];
		for (uint32_t k = d->out_off[v]; k < d->out_off[v + 1]; k++)
			if (d->edges[d->out_edge[k]].kind == PD_E_COLLECTIVE)
				v = d->edges[d->out_edge[k]].dst;
		t += d->costs[d->nodes[v].cost].us;
	}
	return t;
}

static void check_plan(const char *rel, size_t *compared)
{
	pd_compile_options opt = {.lower = 1};
	pd_compilation c;
	pd_compile_file(pd_test_path(rel), &opt, &c);
	/* a pooled plan's pools may overlap (two-batch), and its kv_sends wait on their comm
	 * stream for the step's collectives: its steps are tested in test_pools_dag */
	if (c.reached == PD_STAGE_CHECK && !pd_plan_is_pooled(c.plan)) {
		pd_schedule s;
		CU_ASSERT_EQUAL_FATAL(pd_dag_schedule(c.dag, &s), PD_OK);
		double ref = ref_longest(c.dag, 1), plain = ref_longest(c.dag, 0);
		if (getenv("PD_TEST_VERBOSE"))
			printf("\n  %s: makespan %.3f us, longest path %.3f us (no streams %.3f)", rel,
			       s.makespan_us, ref, plain);
		CU_ASSERT_DOUBLE_EQUAL(s.makespan_us, ref, 1e-9 * ref);
		CU_ASSERT_DOUBLE_EQUAL(s.makespan_us, plain, 1e-9 * ref); /* nothing overlaps */
		CU_ASSERT_DOUBLE_EQUAL(c.cp.latency_us, s.makespan_us, 1e-12 * ref);
		CU_ASSERT_DOUBLE_EQUAL(path_sum(c.dag, &c.cp), s.makespan_us, 1e-9 * ref);
		CU_ASSERT_TRUE(s.makespan_us > 0);
		pd_schedule_release(&s);
		(*compared)++;
	}
	pd_compilation_release(&c);
}

static void makespan_should_equal_the_longest_path_on_every_example_and_valid_plan(void)
{
	char plans[64][288];
	size_t n = list_plans(plans, 64), compared = 0;
	for (size_t i = 0; i < n; i++)
		check_plan(plans[i], &compared);
	CU_ASSERT_TRUE(compared >= 12);
}

/* gpu 0: a(2) and b(3), both fed by nothing, on its compute stream; c(4) on its comm
 * stream fed by a.  b waits for a's stream, c for a: both start at 2. */
static void schedule_should_serialise_one_stream_and_overlap_two(void)
{
	pd_dag *d = pd_dag_create();
	d->n_gpus = 1;
	uint32_t ids[3];
	const pd_node_kind kinds[3] = {PD_N_QKV, PD_N_O_PROJ, PD_N_PP_SEND};
	const double us[3] = {2, 3, 4};
	for (int i = 0; i < 3; i++) {
		pd_cost cost = {0, 0, us[i], 0, 0};
		pd_node n = {.gpu = 0, .layer = 0, .expert = -1, .kind = (uint8_t)kinds[i]};
		CU_ASSERT_EQUAL_FATAL(pd_dag_intern_cost(d, &cost, &n.cost), PD_OK);
		CU_ASSERT_EQUAL_FATAL(pd_dag_add_node(d, &n, &ids[i]), PD_OK);
	}
	CU_ASSERT_EQUAL_FATAL(pd_dag_add_edge(d, ids[0], ids[2], PD_E_DATA), PD_OK);
	CU_ASSERT_EQUAL_FATAL(pd_dag_finalize(d), PD_OK);
	CU_ASSERT_EQUAL(pd_node_stream(d, ids[1]), PD_STREAM_COMPUTE);
	CU_ASSERT_EQUAL(pd_node_stream(d, ids[2]), PD_STREAM_COMM);
	CU_ASSERT_STRING_EQUAL(pd_stream_name(pd_node_stream(d, ids[2])), "comm");
	pd_schedule s;
	CU_ASSERT_EQUAL_FATAL(pd_dag_schedule(d, &s), PD_OK);
	CU_ASSERT_DOUBLE_EQUAL(s.start_us[ids[1]], 2, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.start_us[ids[2]], 2, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.makespan_us, 6, 1e-12);
	pd_time_breakdown b;
	CU_ASSERT_EQUAL_FATAL(pd_schedule_breakdown(d, &s, &b), PD_OK);
	CU_ASSERT_EQUAL(b.gpu, 0);
	CU_ASSERT_DOUBLE_EQUAL(b.compute_us, 5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(b.comm_hidden_us, 3, 1e-12);  /* 2..5 under b */
	CU_ASSERT_DOUBLE_EQUAL(b.comm_exposed_us, 1, 1e-12); /* 5..6 */
	pd_critical_path cp;
	CU_ASSERT_EQUAL_FATAL(pd_dag_critical_path(d, &cp), PD_OK);
	CU_ASSERT_EQUAL_FATAL(cp.n, 2); /* a -> c */
	CU_ASSERT_EQUAL(cp.nodes[0], ids[0]);
	CU_ASSERT_EQUAL(cp.nodes[1], ids[2]);
	pd_critical_path_release(&cp);
	pd_schedule_release(&s);
	CU_ASSERT_PTR_NULL(s.start_us);
	pd_dag_destroy(d);
}

static CU_TestInfo schedule_tests[] = {
    {"makespan_should_equal_the_longest_path_on_every_example_and_valid_plan",
     makespan_should_equal_the_longest_path_on_every_example_and_valid_plan},
    {"schedule_should_serialise_one_stream_and_overlap_two",
     schedule_should_serialise_one_stream_and_overlap_two},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"schedule", NULL, NULL, NULL, NULL, schedule_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
