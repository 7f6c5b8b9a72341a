/* test_dag.c - the graph API: add, intern, finalize (CSR), kind names, labels, dump. */
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dag/dag_internal.h"
#include "dag/ops.h"
#include "testutil.h"

static uint32_t add(pd_dag *d, pd_node_kind k, int gpu, int layer, int mb, int expert)
{
	pd_node n = {.gpu = gpu,
	             .layer = layer,
	             .micro_batch = mb,
	             .expert = expert,
	             .kind = (uint8_t)k};
	uint32_t id = UINT32_MAX;
	CU_ASSERT_EQUAL(pd_dag_add_node(d, &n, &id), PD_OK);
	return id;
}

static void add_node_should_number_nodes_in_order_and_grow(void)
{
	pd_dag *d = pd_dag_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(pd_dag_reserve(d, 2, 1), PD_OK);
	for (int i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL(add(d, PD_N_QKV, i, 0, 0, -1), (uint32_t)i);
	CU_ASSERT_EQUAL(d->n_nodes, 1000);
	CU_ASSERT_EQUAL(d->nodes[999].gpu, 999);
	CU_ASSERT_EQUAL(sizeof(pd_node), 32);
	pd_dag_destroy(d);
	pd_dag_destroy(NULL);
}

static void intern_cost_should_return_the_same_index_for_equal_records(void)
{
	pd_dag *d = pd_dag_create();
	uint32_t a, b, c;
	pd_cost x = {1, 2, 3, 4, 0}, y = {1, 2, 3, 5, 0};
	CU_ASSERT_EQUAL(pd_dag_intern_cost(d, &x, &a), PD_OK);
	CU_ASSERT_EQUAL(pd_dag_intern_cost(d, &y, &b), PD_OK);
	CU_ASSERT_EQUAL(pd_dag_intern_cost(d, &x, &c), PD_OK);
	CU_ASSERT_EQUAL(a, c);
	CU_ASSERT_NOT_EQUAL(a, b);
	/* many distinct records force the table to grow and keep every index */
	for (int i = 0; i < 500; i++) {
		pd_cost z = {i, 0, 0, 0, 0};
		uint32_t k, k2;
		pd_dag_intern_cost(d, &z, &k);
		pd_dag_intern_cost(d, &z, &k2);
		CU_ASSERT_EQUAL(k, k2);
		CU_ASSERT_EQUAL(d->costs[k].flops, (double)i);
	}
	CU_ASSERT_EQUAL(d->n_costs, 502);
	pd_dag_destroy(d);
}

static void intern_group_should_store_members_in_csr_form(void)
{
	pd_dag *d = pd_dag_create();
	int32_t g1[] = {0, 1, 2, 3}, g2[] = {4, 5}, g3[] = {0, 1, 2};
	uint32_t a, b, c, a2;
	pd_dag_intern_group(d, g1, 4, &a);
	pd_dag_intern_group(d, g2, 2, &b);
	pd_dag_intern_group(d, g3, 3, &c);
	pd_dag_intern_group(d, g1, 4, &a2);
	CU_ASSERT_EQUAL(a, a2);
	CU_ASSERT_EQUAL(d->groups.n, 3);
	CU_ASSERT_EQUAL(d->groups.off[b], 4);
	CU_ASSERT_EQUAL(d->groups.off[b + 1], 6);
	CU_ASSERT_EQUAL(d->groups.gpus[d->groups.off[c] + 2], 2);
	CU_ASSERT_EQUAL(d->groups.off[3], 9);
	for (int i = 0; i < 200; i++) {
		int32_t g[] = {i, i + 1};
		uint32_t k;
		pd_dag_intern_group(d, g, 2, &k);
		CU_ASSERT_EQUAL(d->groups.gpus[d->groups.off[k]], i);
	}
	pd_dag_destroy(d);
}

static void finalize_should_build_stable_out_and_in_csr(void)
{
	pd_dag *d = pd_dag_create();
	for (int i = 0; i < 4; i++)
		add(d, PD_N_QKV, 0, 0, 0, -1);
	/* insertion order deliberately not sorted by source */
	pd_dag_add_edge(d, 2, 3, PD_E_DATA);    /* e0 */
	pd_dag_add_edge(d, 0, 2, PD_E_DATA);    /* e1 */
	pd_dag_add_edge(d, 0, 1, PD_E_CONTROL); /* e2 */
	pd_dag_add_edge(d, 1, 3, PD_E_COMM);    /* e3 */
	pd_dag_add_edge(d, 0, 3, PD_E_DATA);    /* e4 */
	CU_ASSERT_EQUAL_FATAL(pd_dag_finalize(d), PD_OK);
	CU_ASSERT_TRUE(d->finalized);
	uint32_t out_off[] = {0, 3, 4, 5, 5}, out_edge[] = {1, 2, 4, 3, 0};
	uint32_t in_off[] = {0, 0, 1, 2, 5}, in_edge[] = {2, 1, 0, 3, 4};
	CU_ASSERT_EQUAL(memcmp(d->out_off, out_off, sizeof(out_off)), 0);
	CU_ASSERT_EQUAL(memcmp(d->out_edge, out_edge, sizeof(out_edge)), 0);
	CU_ASSERT_EQUAL(memcmp(d->in_off, in_off, sizeof(in_off)), 0);
	CU_ASSERT_EQUAL(memcmp(d->in_edge, in_edge, sizeof(in_edge)), 0);
	/* an edge to a missing node is refused */
	pd_dag_add_edge(d, 0, 9, PD_E_DATA);
	CU_ASSERT_EQUAL(pd_dag_finalize(d), PD_IO);
	pd_dag_destroy(d);
}

static void kind_names_should_round_trip(void)
{
	for (int k = 0; k < PD_N__COUNT; k++) {
		const char *s = pd_node_kind_name((pd_node_kind)k);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT_EQUAL(pd_node_kind_from_name(s), k);
	}
	for (int k = 0; k < PD_E__COUNT; k++)
		CU_ASSERT_EQUAL(pd_edge_kind_from_name(pd_edge_kind_name((pd_edge_kind)k)), k);
	CU_ASSERT_STRING_EQUAL(pd_node_kind_name(PD_N_TP_REDUCE_SCATTER), "tp_reduce_scatter");
	CU_ASSERT_STRING_EQUAL(pd_node_kind_name(PD_N_SHARED_EXPERT), "shared_expert");
	CU_ASSERT_STRING_EQUAL(pd_edge_kind_name(PD_E_COLLECTIVE), "collective");
	CU_ASSERT_PTR_NULL(pd_node_kind_name(PD_N__COUNT));
	CU_ASSERT_EQUAL(pd_node_kind_from_name("matmul"), -1);
	CU_ASSERT_EQUAL(pd_node_kind_from_name(NULL), -1);
	CU_ASSERT_TRUE(pd_node_kind_is_collective_member(PD_N_EP_COMBINE));
	CU_ASSERT_FALSE(pd_node_kind_is_collective_member(PD_N_COLLECTIVE));
	CU_ASSERT_FALSE(pd_node_kind_is_collective_member(PD_N_EXPERT));
}

/* The operator catalogue has a complete row for every kind: the exports, DOT and the
 * costs all read it. */
static void catalogue_should_describe_every_kind(void)
{
	for (int k = 0; k < PD_N__COUNT; k++) {
		const pd_i_op *op = &pd_i_ops[k];
		CU_ASSERT_PTR_NOT_NULL_FATAL(op->name);
		for (int j = 0; j < k; j++)
			CU_ASSERT_NOT_EQUAL(strcmp(op->name, pd_i_ops[j].name), 0);
		CU_ASSERT_TRUE(op->family < PD_I_F__COUNT);
		CU_ASSERT_PTR_NOT_NULL(pd_i_family_styles[op->family].fill);
		CU_ASSERT_PTR_NOT_NULL(pd_i_family_styles[op->family].legend);
		CU_ASSERT_EQUAL(op->stream == PD_I_STREAM_COMPUTE, op->family == PD_I_F_COMPUTE);
		CU_ASSERT_EQUAL(op->timing == PD_I_TIME_COMPUTE, op->family == PD_I_F_COMPUTE);
		CU_ASSERT_EQUAL(op->work == NULL, k == PD_N_COLLECTIVE);
		CU_ASSERT_EQUAL(pd_node_kind_is_collective_member((pd_node_kind)k),
		                op->family == PD_I_F_TP || op->family == PD_I_F_EP);
	}
	CU_ASSERT_EQUAL(pd_i_ops[PD_N_TP_ALLREDUCE].coll, PD_I_COLL_ALL_REDUCE);
	CU_ASSERT_EQUAL(pd_i_ops[PD_N_EP_DISPATCH].coll, PD_I_COLL_ALL_TO_ALL);
	CU_ASSERT_EQUAL(pd_i_ops[PD_N_PP_RECV].timing, PD_I_TIME_NONE);
}

/* A broken invariant aborts with its file and line, in this NDEBUG build too. */
static void assert_should_abort_with_file_and_line_in_every_build(void)
{
	int fd[2];
	CU_ASSERT_EQUAL_FATAL(pipe(fd), 0);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], 2);
		close(fd[0]);
		int one = 1;
		PD_ASSERT(one == 2);
		_exit(0);
	}
	close(fd[1]);
	char buf[512] = {0};
	size_t used = 0;
	for (ssize_t got; used + 1 < sizeof(buf) &&
	                  (got = read(fd[0], buf + used, sizeof(buf) - 1 - used)) > 0;)
		used += (size_t)got;
	close(fd[0]);
	int st = 0;
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "internal error"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "test_dag.c:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "one == 2"));
}

static void label_should_name_layer_kind_expert_and_micro_batch(void)
{
	pd_dag *d = pd_dag_create();
	char buf[64];
	uint32_t a = add(d, PD_N_QKV, 0, 3, 0, -1);
	uint32_t b = add(d, PD_N_EXPERT, 0, 3, 1, 5);
	uint32_t c = add(d, PD_N_EMBED, 0, -1, 1, -1);
	int32_t g[] = {0, 1};
	uint32_t gi;
	pd_dag_intern_group(d, g, 2, &gi);
	pd_node hub = {.gpu = -1, .layer = 1, .group = (int32_t)gi, .kind = PD_N_COLLECTIVE};
	uint32_t h;
	pd_dag_add_node(d, &hub, &h);
	d->micro_batches = 1;
	pd_node_label(d, a, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "L3 qkv");
	pd_node_label(d, b, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "L3 expert 5");
	pd_node_label(d, h, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "L1 collective 0,1");
	d->micro_batches = 2;
	pd_node_label(d, c, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "mb1 embed");
	pd_node_label(d, a, buf, 4);
	CU_ASSERT_STRING_EQUAL(buf, "mb0");
	pd_dag_destroy(d);
}

static void stats_should_count_by_kind_and_gpu(void)
{
	pd_dag *d = pd_dag_create();
	d->n_gpus = 4;
	add(d, PD_N_QKV, 0, 0, 0, -1);
	add(d, PD_N_QKV, 2, 0, 0, -1);
	add(d, PD_N_EXPERT, 2, 0, 0, 1);
	pd_dag_add_edge(d, 0, 1, PD_E_COMM);
	pd_dag_stats st;
	pd_dag_stats_compute(d, &st);
	CU_ASSERT_EQUAL(st.nodes, 3);
	CU_ASSERT_EQUAL(st.by_kind[PD_N_QKV], 2);
	CU_ASSERT_EQUAL(st.by_kind[PD_N_EXPERT], 1);
	CU_ASSERT_EQUAL(st.edges_by_kind[PD_E_COMM], 1);
	CU_ASSERT_EQUAL(st.gpus_used, 2);
	pd_dag_destroy(d);
}

static void dump_should_print_every_node_and_edge(void)
{
	pd_dag *d = pd_dag_create();
	add(d, PD_N_EMBED, 0, -1, 0, -1);
	add(d, PD_N_ATTN_NORM, 0, 0, 0, -1);
	pd_dag_add_edge(d, 0, 1, PD_E_DATA);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	pd_dag_dump(d, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "n1 attn_norm gpu=0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "e0 n0 -> n1 data\n"));
	free(buf);
	pd_dag_destroy(d);
}

/* n0 -> m1 -> hub3, n2 -> m4 -> hub3 (members of one collective), hub3's successors
 * are fed by the members: m1 -> n5.  Finalize contracts m1 and m4 into the hub. */
static void finalize_should_contract_members_and_prove_the_id_order(void)
{
	pd_dag *d = pd_dag_create();
	add(d, PD_N_O_PROJ, 0, 0, 0, -1);
	add(d, PD_N_TP_ALLREDUCE, 0, 0, 0, -1);
	add(d, PD_N_O_PROJ, 1, 0, 0, -1);
	add(d, PD_N_COLLECTIVE, -1, 0, 0, -1);
	add(d, PD_N_TP_ALLREDUCE, 1, 0, 0, -1);
	add(d, PD_N_FFN_NORM, 0, 0, 0, -1);
	pd_dag_add_edge(d, 0, 1, PD_E_DATA);
	pd_dag_add_edge(d, 2, 4, PD_E_DATA);
	pd_dag_add_edge(d, 1, 3, PD_E_COLLECTIVE);
	pd_dag_add_edge(d, 4, 3, PD_E_COLLECTIVE);
	pd_dag_add_edge(d, 1, 5, PD_E_DATA);
	CU_ASSERT_EQUAL_FATAL(pd_dag_finalize(d), PD_OK);
	const uint32_t want[] = {0, 3, 2, 3, 3, 5};
	CU_ASSERT_EQUAL(memcmp(pd_i_contract(d), want, sizeof(want)), 0);
	/* 2 -> 4 goes from 2 to 3 once 4 is contracted: still forward */
	CU_ASSERT_TRUE(pd_i_prove_ids_topological(d));
	CU_ASSERT_TRUE(pd_i_ids_topological(d));
	/* a backward edge, seen after the next finalize (the answer is not kept) */
	pd_dag_add_edge(d, 5, 2, PD_E_CONTROL);
	CU_ASSERT_EQUAL_FATAL(pd_dag_finalize(d), PD_OK);
	CU_ASSERT_FALSE(pd_i_ids_topological(d));
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL(pd_dag_check_acyclic(d, &l), PD_INVALID);
	pd_diag_list_release(&l);
	pd_dag_destroy(d);
}

static CU_TestInfo dag_tests[] = {
    {"add_node_should_number_nodes_in_order_and_grow",
     add_node_should_number_nodes_in_order_and_grow},
    {"intern_cost_should_return_the_same_index_for_equal_records",
     intern_cost_should_return_the_same_index_for_equal_records},
    {"intern_group_should_store_members_in_csr_form",
     intern_group_should_store_members_in_csr_form},
    {"finalize_should_build_stable_out_and_in_csr",
     finalize_should_build_stable_out_and_in_csr},
    {"finalize_should_contract_members_and_prove_the_id_order",
     finalize_should_contract_members_and_prove_the_id_order},
    {"kind_names_should_round_trip", kind_names_should_round_trip},
    {"catalogue_should_describe_every_kind", catalogue_should_describe_every_kind},
    {"assert_should_abort_with_file_and_line_in_every_build",
     assert_should_abort_with_file_and_line_in_every_build},
    {"label_should_name_layer_kind_expert_and_micro_batch",
     label_should_name_layer_kind_expert_and_micro_batch},
    {"stats_should_count_by_kind_and_gpu", stats_should_count_by_kind_and_gpu},
    {"dump_should_print_every_node_and_edge", dump_should_print_every_node_and_edge},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"dag", NULL, NULL, NULL, NULL, dag_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
