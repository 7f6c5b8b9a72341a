/* test_graphml.c - the GraphML writer and reader (README: Exports; `verify` input). */
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "testutil.h"

static pd_status compile_tiny(pd_compilation *c)
{
	pd_compile_options opt = {.lower = 1};
	pd_compile_file(pd_test_path("tests/plans/valid/tiny.xml"), &opt, c);
	return c->dag ? PD_OK : PD_IO;
}

/* Writes text to a fresh file and reads it back as a DAG. */
static pd_status read_text(const char *text, pd_dag **dag, pd_diag_list *d)
{
	const char *path = pd_test_join(pd_test_tmpdir("gml"), "x.graphml");
	pd_test_write_file(path, text);
	return pd_graphml_read(path, dag, d);
}

static void graphml_of_tiny_should_match_the_golden_and_the_schema(void)
{
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(compile_tiny(&c), PD_OK);
	const char *path = pd_test_join(pd_test_tmpdir("gml"), "tiny.graphml");
	CU_ASSERT_EQUAL_FATAL(pd_export_graphml(c.dag, path, &c.diags), PD_OK);
	char *got = pd_test_read_file(path, NULL);
	if (getenv("PD_UPDATE_GOLDEN"))
		pd_test_write_file(pd_test_path("tests/golden/tiny.graphml"), got);
	char *want = pd_test_read_file(pd_test_path("tests/golden/tiny.graphml"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	CU_ASSERT_TRUE(strcmp(got, want) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "edgedefault=\"directed\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "attr.name=\"micro_batch\" attr.type=\"int\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "<data key=\"group\">0,1</data>"));
	/* the schedule: a stream per node, times where it runs (the first node at 0) */
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "<data key=\"stream\">comm</data>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "<data key=\"stream\">none</data>"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(got, "<data key=\"start_us\">0</data><data key=\"end_us\">"));
	free(got);
	free(want);
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL(pd_i_graphml_validate(path, &d), PD_OK);
	CU_ASSERT_EQUAL(pd_i_graphml_validate(pd_test_path("tests/golden/tiny.graphml"), &d),
	                PD_OK);
	pd_test_dump_diags(&d);
	pd_diag_list_release(&d);
	pd_compilation_release(&c);
}

static int has_sized_out_edge(const pd_dag *dag, uint32_t v)
{
	for (uint32_t i = dag->out_off[v]; i < dag->out_off[v + 1]; i++)
		if (dag->edges[dag->out_edge[i]].kind != PD_E_CONTROL)
			return 1;
	return 0;
}

static void assert_same_dag(const pd_dag *a, const pd_dag *b)
{
	CU_ASSERT_EQUAL_FATAL(a->n_nodes, b->n_nodes);
	CU_ASSERT_EQUAL_FATAL(a->n_edges, b->n_edges);
	for (uint32_t v = 0; v < a->n_nodes; v++) {
		const pd_node *x = &a->nodes[v], *y = &b->nodes[v];
		CU_ASSERT_TRUE(x->kind == y->kind && x->gpu == y->gpu && x->replica == y->replica &&
		               x->stage == y->stage && x->layer == y->layer &&
		               x->micro_batch == y->micro_batch);
		const pd_cost *p = &a->costs[x->cost], *q = &b->costs[y->cost];
		CU_ASSERT_TRUE(p->flops == q->flops && p->bytes == q->bytes && p->us == q->us);
		/* out_bytes is read back from the out-edges: only nodes with some keep it */
		if (has_sized_out_edge(a, v))
			CU_ASSERT_EQUAL(p->out_bytes, q->out_bytes);
		if (x->kind == PD_N_COLLECTIVE) {
			CU_ASSERT_EQUAL(a->groups.off[x->group + 1] - a->groups.off[x->group],
			                b->groups.off[y->group + 1] - b->groups.off[y->group]);
		} else {
			CU_ASSERT_EQUAL(x->expert, y->expert);
		}
	}
	for (uint32_t e = 0; e < a->n_edges; e++)
		CU_ASSERT_EQUAL(memcmp(&a->edges[e], &b->edges[e], sizeof(pd_edge)), 0);
}

static void graphml_round_trip_should_restore_nodes_costs_and_context(void)
{
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(compile_tiny(&c), PD_OK);
	const char *path = pd_test_join(pd_test_tmpdir("gml"), "tiny.graphml");
	CU_ASSERT_EQUAL_FATAL(pd_export_graphml(c.dag, path, &c.diags), PD_OK);
	pd_dag *back = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL_FATAL(pd_graphml_read(path, &back, &d), PD_OK);
	CU_ASSERT_EQUAL(d.n, 0);
	assert_same_dag(c.dag, back);
	CU_ASSERT_EQUAL(back->n_gpus, c.dag->n_gpus);
	CU_ASSERT_EQUAL(back->gpus_per_node, c.dag->gpus_per_node);
	CU_ASSERT_EQUAL(back->gpu_capacity, c.dag->gpu_capacity);
	CU_ASSERT_EQUAL(back->micro_batches, c.dag->micro_batches);
	CU_ASSERT_EQUAL_FATAL(back->n_stages, c.dag->n_stages);
	for (int32_t g = 0; g < back->n_gpus; g++) {
		CU_ASSERT_EQUAL(back->gpu[g].stage, c.dag->gpu[g].stage);
		CU_ASSERT_EQUAL(back->gpu[g].memory, c.dag->gpu[g].memory);
	}
	for (uint32_t s = 0; s < back->n_stages; s++) {
		CU_ASSERT_EQUAL_FATAL(back->stages[s].n_experts, c.dag->stages[s].n_experts);
		for (int32_t e = 0; e < back->stages[s].n_experts; e++)
			CU_ASSERT_EQUAL(back->stages[s].expert_gpu[e], c.dag->stages[s].expert_gpu[e]);
	}
	pd_dag_destroy(back);
	pd_diag_list_release(&d);
	pd_compilation_release(&c);
}

/* Keys in another order with other ids, string node ids, an edge before its nodes,
 * data left out, a key default, no context. */
static const char HAND_EDITED[] =
    "<?xml version='1.0'?>\n"
    "<graphml xmlns='http://graphml.graphdrawing.org/xmlns'>\n"
    "<key id='d9' for='edge' attr.name='kind' attr.type='string'/>\n"
    "<key id='d1' for='node' attr.name='gpu' attr.type='int'><default>3</default></key>\n"
    "<key id='d0' for='node' attr.name='kind' attr.type='string'/>\n"
    "<key id='x' for='node' attr.name='colour' attr.type='string'/>\n"
    "<graph edgedefault='directed'>\n"
    "<edge source='first' target='second'><data key='d9'>data</data></edge>\n"
    "<node id='first'><data key='d0'>qkv</data><data key='x'>red</data></node>\n"
    "<node id='second'><data key='d0'>attention</data><data key='d1'>5</data></node>\n"
    "</graph></graphml>\n";

static void reader_should_accept_hand_edited_files(void)
{
	pd_dag *dag = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL_FATAL(read_text(HAND_EDITED, &dag, &d), PD_OK);
	CU_ASSERT_EQUAL(dag->n_nodes, 2);
	CU_ASSERT_EQUAL(dag->n_edges, 1);
	CU_ASSERT_EQUAL(dag->nodes[0].kind, PD_N_QKV);
	CU_ASSERT_EQUAL(dag->nodes[0].gpu, 3); /* key default */
	CU_ASSERT_EQUAL(dag->nodes[1].gpu, 5);
	CU_ASSERT_EQUAL(dag->nodes[0].layer, -1); /* missing: -1 */
	CU_ASSERT_EQUAL(dag->edges[0].src, 0);
	CU_ASSERT_EQUAL(dag->edges[0].dst, 1);
	CU_ASSERT_TRUE(dag->finalized);
	CU_ASSERT_EQUAL(d.errors, 0);
	CU_ASSERT_TRUE(d.n == 1 && d.items[0].severity == PD_NOTE); /* no context */
	pd_dag_destroy(dag);
	pd_diag_list_release(&d);
}

static void expect_schema_error(const char *text, long line, const char *needle)
{
	pd_dag *dag = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL(read_text(text, &dag, &d), PD_INVALID);
	CU_ASSERT_PTR_NULL(dag);
	int i = pd_test_find_diag(&d, PD_RULE_SCHEMA, line);
	CU_ASSERT_TRUE(i >= 0);
	if (i >= 0 && needle)
		CU_ASSERT_PTR_NOT_NULL(strstr(d.items[i].message, needle));
	if (i < 0)
		pd_test_dump_diags(&d);
	pd_diag_list_release(&d);
}

static void reader_should_report_bad_files_with_lines(void)
{
	expect_schema_error("<?xml version='1.0'?>\n<graphml>\n<graph edgedefault='directed'>\n"
	                    "<node id='a'>\n</graph>\n",
	                    0, NULL);
	expect_schema_error("<?xml version='1.0'?>\n<!DOCTYPE graphml [<!ENTITY x 'y'>]>\n"
	                    "<graphml/>\n",
	                    0, "DOCTYPE");
	expect_schema_error("<graphml>\n<key id='k' for='node' attr.name='kind'/>\n"
	                    "<graph edgedefault='directed'>\n<node id='a'>"
	                    "<data key='k'>teleport</data></node>\n</graph></graphml>\n",
	                    4, "teleport");
	expect_schema_error(
	    "<graphml>\n<graph edgedefault='directed'>\n"
	    "<node id='a'><data key='nokey'>1</data></node>\n</graph></graphml>\n",
	    3, "nokey");
	expect_schema_error(
	    "<graphml>\n<key id='k' for='node' attr.name='kind'/>\n"
	    "<graph edgedefault='directed'>\n<node id='a'><data key='k'>qkv</data>"
	    "</node>\n<edge source='a' target='ghost'/>\n</graph></graphml>\n",
	    5, "ghost");
	expect_schema_error("<graphml>\n<graph edgedefault='undirected'>\n</graph></graphml>\n",
	                    2, "undirected");
	expect_schema_error("<html/>", 1, "graphml");
}

/* A one-node file with the schedule keys: kind, stream, start_us, end_us as given. */
static const char *schedule_file(const char *kind, const char *stream, const char *start,
                                 const char *end)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf),
	         "<graphml>\n<key id='k' for='node' attr.name='kind'/>\n"
	         "<key id='s' for='node' attr.name='stream'/>\n"
	         "<key id='a' for='node' attr.name='start_us'/>\n"
	         "<key id='b' for='node' attr.name='end_us'/>\n"
	         "<graph edgedefault='directed'>\n"
	         "<node id='x'><data key='k'>%s</data><data key='s'>%s</data>"
	         "<data key='a'>%s</data><data key='b'>%s</data></node>\n</graph></graphml>\n",
	         kind, stream, start, end);
	return buf;
}

static void reader_should_check_the_schedule_keys_and_tolerate_their_absence(void)
{
	pd_dag *dag = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL(read_text(schedule_file("ep_dispatch", "comm", "1.5", "2"), &dag, &d),
	                PD_OK);
	CU_ASSERT_EQUAL(dag ? dag->n_nodes : 0, 1);
	pd_dag_destroy(dag);
	pd_diag_list_release(&d);
	expect_schema_error(schedule_file("qkv", "comm", "0", "1"), 7, "stream");
	expect_schema_error(schedule_file("qkv", "warp", "0", "1"), 7, "warp");
	expect_schema_error(schedule_file("qkv", "compute", "-1", "1"), 7, "-1");
	expect_schema_error(schedule_file("qkv", "compute", "0", "inf"), 7, "inf");
	expect_schema_error(schedule_file("qkv", "compute", "5", "1"), 7, "before it starts");
	expect_schema_error(schedule_file("collective", "compute", "0", "1"), 7, NULL);
	/* the files plandag wrote before these keys existed still read (HAND_EDITED has
	 * none of them, the round trip above has all) */
}

static CU_TestInfo graphml_tests[] = {
    {"reader_should_check_the_schedule_keys_and_tolerate_their_absence",
     reader_should_check_the_schedule_keys_and_tolerate_their_absence},
    {"graphml_of_tiny_should_match_the_golden_and_the_schema",
     graphml_of_tiny_should_match_the_golden_and_the_schema},
    {"graphml_round_trip_should_restore_nodes_costs_and_context",
     graphml_round_trip_should_restore_nodes_costs_and_context},
    {"reader_should_accept_hand_edited_files", reader_should_accept_hand_edited_files},
    {"reader_should_report_bad_files_with_lines",
     reader_should_report_bad_files_with_lines},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"graphml", NULL, NULL, NULL, NULL, graphml_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
