/* test_check.c - the DAG checks of docs/rules.md on DAGs built by hand, and the
 * critical path on a DAG with a known answer. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* A DAG of n_gpus GPUs, all in replica 0 stage 0, with one stage of 4 experts hosted
 * on GPU e % n_gpus; capacity 1 GB, every GPU using half. */
static pd_dag *hand_dag(int n_gpus)
{
	pd_dag *d = pd_dag_create();
	d->name = "hand";
	d->n_gpus = n_gpus;
	d->gpus_per_node = 8;
	d->gpu_capacity = 1e9;
	d->n_replicas = 1;
	d->micro_batches = 1;
	d->gpu = calloc((size_t)n_gpus, sizeof(pd_dag_gpu));
	for (int g = 0; g < n_gpus; g++)
		d->gpu[g] = (pd_dag_gpu){0, 0, 0.5e9, -1};
	d->stages = calloc(1, sizeof(pd_dag_stage));
	d->n_stages = 1;
	d->stages[0] = (pd_dag_stage){.n_experts = 4, .expert_gpu = calloc(4, sizeof(int32_t))};
	for (int e = 0; e < 4; e++)
		d->stages[0].expert_gpu[e] = e % n_gpus;
	return d;
}

static uint32_t add(pd_dag *d, pd_node_kind k, int gpu, int layer, int expert, double us)
{
	pd_cost c = {0, 0, us, 0, 0};
	pd_node n = {.gpu = gpu, .layer = layer, .expert = expert, .kind = (uint8_t)k};
	pd_dag_intern_cost(d, &c, &n.cost);
	uint32_t id;
	pd_dag_add_node(d, &n, &id);
	return id;
}

static uint32_t hub(pd_dag *d, int layer, const int32_t *gpus, uint32_t n, double us)
{
	uint32_t id = add(d, PD_N_COLLECTIVE, -1, layer, -1, us);
	uint32_t g;
	pd_dag_intern_group(d, gpus, n, &g);
	d->nodes[id].group = (int32_t)g;
	return id;
}

static pd_status check(pd_dag *d, pd_diag_list *l, int acyclic)
{
	CU_ASSERT_EQUAL_FATAL(pd_dag_finalize(d), PD_OK);
	return acyclic ? pd_dag_check_acyclic(d, l) : pd_dag_check_placement(d, l);
}

/* The message of the only diagnostic of `rule`, or "". */
static const char *message(const pd_diag_list *l, const char *rule)
{
	int i = pd_test_find_diag(l, rule, 0);
	CU_ASSERT_TRUE(i >= 0);
	return i >= 0 ? l->items[i].message : "";
}

static void acyclic_should_print_a_plain_cycle(void)
{
	pd_dag *d = hand_dag(1);
	uint32_t a = add(d, PD_N_ATTN_NORM, 0, 3, -1, 1);
	uint32_t b = add(d, PD_N_QKV, 0, 3, -1, 1);
	uint32_t c = add(d, PD_N_ATTENTION, 0, 3, -1, 1);
	uint32_t x = add(d, PD_N_EMBED, 0, -1, -1, 1);
	pd_dag_add_edge(d, x, a, PD_E_DATA);
	pd_dag_add_edge(d, a, b, PD_E_DATA);
	pd_dag_add_edge(d, b, c, PD_E_DATA);
	pd_dag_add_edge(d, c, a, PD_E_CONTROL);
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL(check(d, &l, 1), PD_INVALID);
	CU_ASSERT_EQUAL(l.errors, 1);
	const char *m = message(&l, PD_RULE_ACYCLIC);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "attn_norm gpu 0 L3 mb0 -> qkv gpu 0 L3 mb0 -> "
	                                 "attention gpu 0 L3 mb0 -> attn_norm gpu 0 L3 mb0"));
	CU_ASSERT_PTR_NULL(strstr(m, "embed"));
	pd_critical_path cp;
	CU_ASSERT_EQUAL(pd_dag_critical_path(d, &cp), PD_INVALID);
	pd_critical_path_release(&cp);
	pd_diag_list_release(&l);
	pd_dag_destroy(d);
}

/* Two GPUs, two all-reduces (layers 1 and 2); GPU 1 meets them in `swapped` order. */
static pd_dag *two_allreduces(int swapped)
{
	pd_dag *d = hand_dag(2);
	int32_t g[] = {0, 1};
	uint32_t h1 = hub(d, 1, g, 2, 5), h2 = hub(d, 2, g, 2, 5);
	for (int gpu = 0; gpu < 2; gpu++) {
		uint32_t first = add(d, PD_N_O_PROJ, gpu, 1, -1, 1);
		uint32_t m1 = add(d, PD_N_TP_ALLREDUCE, gpu, 1, -1, 5);
		uint32_t m2 = add(d, PD_N_TP_ALLREDUCE, gpu, 2, -1, 5);
		pd_dag_add_edge(d, m1, h1, PD_E_COLLECTIVE);
		pd_dag_add_edge(d, m2, h2, PD_E_COLLECTIVE);
		if (gpu == 1 && swapped) {
			pd_dag_add_edge(d, first, m2, PD_E_DATA);
			pd_dag_add_edge(d, m2, m1, PD_E_DATA);
		} else {
			pd_dag_add_edge(d, first, m1, PD_E_DATA);
			pd_dag_add_edge(d, m1, m2, PD_E_DATA);
		}
	}
	return d;
}

static void acyclic_should_reject_collectives_met_in_different_orders(void)
{
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_dag *ok = two_allreduces(0);
	CU_ASSERT_EQUAL(check(ok, &l, 1), PD_OK);
	CU_ASSERT_EQUAL(check(ok, &l, 0), PD_OK);
	CU_ASSERT_EQUAL(l.n, 0);
	pd_dag_destroy(ok);

	pd_dag *bad = two_allreduces(1);
	CU_ASSERT_EQUAL(check(bad, &l, 1), PD_INVALID);
	const char *m = message(&l, PD_RULE_ACYCLIC);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(m, "tp_allreduce gpu 0 L1 mb0 -> tp_allreduce gpu 0 L2 mb0"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(m, "tp_allreduce gpu 1 L2 mb0 -> tp_allreduce gpu 1 L1 mb0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, " ~ "));
	CU_ASSERT_PTR_NOT_NULL(strstr(l.items[0].fix, "different orders"));
	/* the placement of that DAG is fine: only the order is wrong */
	CU_ASSERT_EQUAL(pd_dag_check_placement(bad, &l), PD_OK);
	pd_dag_destroy(bad);
	pd_diag_list_release(&l);
}

static void placement_should_reject_an_expert_on_the_wrong_gpu(void)
{
	pd_dag *d = hand_dag(2);
	add(d, PD_N_EXPERT, 0, 4, 2, 1); /* expert 2 lives on gpu 0: fine */
	add(d, PD_N_EXPERT, 0, 4, 3, 1); /* expert 3 lives on gpu 1 */
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL(check(d, &l, 0), PD_INVALID);
	CU_ASSERT_EQUAL(l.errors, 1);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(message(&l, PD_RULE_PLACEMENT),
	           "expert 3 of layer 4 (node n1) runs on gpu 0 but is hosted "
	           "on gpu 1"));
	pd_diag_list_release(&l);
	pd_dag_destroy(d);
}

static void placement_should_reject_an_unmatched_pp_send(void)
{
	pd_dag *d = hand_dag(2);
	uint32_t s0 = add(d, PD_N_PP_SEND, 0, -1, -1, 1);
	uint32_t r1 = add(d, PD_N_PP_RECV, 1, -1, -1, 1);
	add(d, PD_N_PP_SEND, 0, -1, -1, 1); /* n2: nobody receives it */
	pd_dag_add_edge(d, s0, r1, PD_E_COMM);
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL(check(d, &l, 0), PD_INVALID);
	CU_ASSERT_EQUAL(l.errors, 1);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(message(&l, PD_RULE_PLACEMENT),
	           "pp_send n2 (pp_send gpu 0 mb0) has 0 comm edges to a pp_recv"));
	pd_diag_list_release(&l);
	pd_dag_destroy(d);
}

static void placement_should_reject_a_collective_with_a_missing_member(void)
{
	pd_dag *d = hand_dag(4);
	int32_t g[] = {0, 1, 2, 3};
	uint32_t h = hub(d, 0, g, 4, 5);
	for (int gpu = 0; gpu < 4; gpu++) {
		if (gpu == 2)
			continue;
		uint32_t m = add(d, PD_N_EP_DISPATCH, gpu, 0, -1, 5);
		pd_dag_add_edge(d, m, h, PD_E_COLLECTIVE);
	}
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL(check(d, &l, 0), PD_INVALID);
	CU_ASSERT_EQUAL(l.errors, 1);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(message(&l, PD_RULE_PLACEMENT), "over 4 GPUs has 3 members: gpu 2 missing"));
	pd_diag_list_release(&l);
	pd_dag_destroy(d);
}

static void placement_should_reject_memory_over_capacity_and_foreign_gpus(void)
{
	pd_dag *d = hand_dag(3);
	d->gpu[1].memory = 2.5e9;
	d->gpu[2] = (pd_dag_gpu){-1, -1, 0, -1}; /* unused by the plan */
	add(d, PD_N_QKV, 2, 0, -1, 1);       /* ... but a node runs there */
	add(d, PD_N_QKV, 7, 0, -1, 1);       /* GPU that does not exist */
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL(check(d, &l, 0), PD_INVALID);
	CU_ASSERT_EQUAL(l.errors, 3);
	int found = 0;
	for (size_t i = 0; i < l.n; i++) {
		found += strstr(l.items[i].message, "gpu 1 needs 2.50 GB but has 1.00 GB") != NULL;
		found += strstr(l.items[i].message, "gpu 2 serves replica -1 stage -1") != NULL;
		found += strstr(l.items[i].message, "gpu 7, which does not exist") != NULL;
	}
	CU_ASSERT_EQUAL(found, 3);
	pd_diag_list_release(&l);
	pd_dag_destroy(d);
}

static void placement_should_group_many_findings(void)
{
	pd_dag *d = hand_dag(1);
	for (int i = 0; i < 1000; i++)
		add(d, PD_N_QKV, 5, 0, -1, 1);
	pd_diag_list l;
	pd_diag_list_init(&l);
	CU_ASSERT_EQUAL(check(d, &l, 0), PD_INVALID);
	CU_ASSERT_EQUAL(l.n, PD_DIAG_PER_RULE_MAX);
	CU_ASSERT_EQUAL(l.errors, 1000);
	CU_ASSERT_EQUAL(pd_diag_list_dropped(&l, PD_RULE_PLACEMENT),
	                1000 - PD_DIAG_PER_RULE_MAX);
	pd_diag_list_release(&l);
	pd_dag_destroy(d);
}

/* gpu 0: a(1) -> b(2) -> m0;  gpu 1: c(4) -> m1;  hub(5);  m0 -> d(1);  m1 -> e(3).
 * The collective starts when the slower member is ready (4), ends at 9; e ends at 12. */
static void critical_path_should_count_a_collective_once_after_its_last_member(void)
{
	pd_dag *d = hand_dag(2);
	int32_t g[] = {0, 1};
	uint32_t h = hub(d, 0, g, 2, 5);
	uint32_t a = add(d, PD_N_ATTN_NORM, 0, 0, -1, 1);
	uint32_t b = add(d, PD_N_O_PROJ, 0, 0, -1, 2);
	uint32_t m0 = add(d, PD_N_TP_ALLREDUCE, 0, 0, -1, 5);
	uint32_t c = add(d, PD_N_O_PROJ, 1, 0, -1, 4);
	uint32_t m1 = add(d, PD_N_TP_ALLREDUCE, 1, 0, -1, 5);
	uint32_t dd = add(d, PD_N_FFN_NORM, 0, 0, -1, 1);
	uint32_t e = add(d, PD_N_FFN, 1, 0, -1, 3);
	pd_dag_add_edge(d, a, b, PD_E_DATA);
	pd_dag_add_edge(d, b, m0, PD_E_DATA);
	pd_dag_add_edge(d, c, m1, PD_E_DATA);
	pd_dag_add_edge(d, m0, h, PD_E_COLLECTIVE);
	pd_dag_add_edge(d, m1, h, PD_E_COLLECTIVE);
	pd_dag_add_edge(d, m0, dd, PD_E_DATA);
	pd_dag_add_edge(d, m1, e, PD_E_DATA);
	CU_ASSERT_EQUAL_FATAL(pd_dag_finalize(d), PD_OK);
	pd_critical_path cp;
	CU_ASSERT_EQUAL_FATAL(pd_dag_critical_path(d, &cp), PD_OK);
	CU_ASSERT_DOUBLE_EQUAL(cp.latency_us, 12.0, 1e-9);
	CU_ASSERT_EQUAL_FATAL(cp.n, 3);
	CU_ASSERT_EQUAL(cp.nodes[0], c);
	CU_ASSERT_EQUAL(cp.nodes[1], m1); /* the straggler enters the collective */
	CU_ASSERT_EQUAL(cp.nodes[2], e);
	CU_ASSERT_EQUAL_FATAL(cp.n_top, 3);
	CU_ASSERT_EQUAL(cp.top[0].kind, PD_N_TP_ALLREDUCE);
	CU_ASSERT_EQUAL(cp.top[0].gpu, 1);
	CU_ASSERT_DOUBLE_EQUAL(cp.top[0].us, 5.0, 1e-9);
	CU_ASSERT_EQUAL(cp.top[1].kind, PD_N_O_PROJ);
	CU_ASSERT_DOUBLE_EQUAL(cp.top[2].us, 3.0, 1e-9);
	pd_critical_path_release(&cp);
	CU_ASSERT_PTR_NULL(cp.nodes);
	pd_dag_destroy(d);
}

/* Every valid plan lowers into a DAG that passes both checks. */
static void checks_should_pass_on_lowered_plans(void)
{
	const char *plans[] = {"tests/plans/valid/tiny.xml", "tests/plans/valid/tiny-pp.xml",
	                       "examples/moe-10b-ep16.xml"};
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		pd_plan *p = NULL;
		pd_analysis an;
		pd_diag_list l;
		pd_diag_list_init(&l);
		CU_ASSERT_EQUAL_FATAL(pd_test_load(plans[i], &p, &an, &l), PD_OK);
		size_t before = l.n;
		pd_dag *d = NULL;
		CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, &an, &d), PD_OK);
		CU_ASSERT_EQUAL(pd_dag_check_acyclic(d, &l), PD_OK);
		CU_ASSERT_EQUAL(pd_dag_check_placement(d, &l), PD_OK);
		CU_ASSERT_EQUAL(l.n, before);
		pd_critical_path cp;
		CU_ASSERT_EQUAL(pd_dag_critical_path(d, &cp), PD_OK);
		CU_ASSERT_TRUE(cp.latency_us > 0);
		pd_critical_path_release(&cp);
		pd_dag_destroy(d);
		pd_plan_destroy(p);
		pd_diag_list_release(&l);
	}
}

/* The analytic estimate of src/plan/roofline.c (stage sums, pipeline fill) against
 * the longest path of the lowered DAG, which decides throughput once a plan is
 * lowered: a large gap would make `check` (roofline above PD_CHECK_MAX_ELEMENTS) and
 * `compile` disagree on the same plan. */
#define ROOFLINE_TOLERANCE 0.05 /* measured: within 1.4 % on every plan below */

/* Step latency of plan `rel`: the roofline's (lower = 0) or the DAG's critical path
 * (lower = 1); -1 when the plan has errors (examples/ shows mistakes on purpose). */
static double step_latency(const char *rel, int lower)
{
	pd_compile_options opt = {.lower = lower};
	pd_compilation c;
	pd_compile_file(pd_test_path(rel), &opt, &c);
	double us = -1;
	if (c.diags.errors == 0) {
		CU_ASSERT_EQUAL(c.reached, lower ? PD_STAGE_CHECK : PD_STAGE_VALIDATE);
		us = lower ? c.cp.latency_us : c.analysis.step_latency_us;
	}
	pd_compilation_release(&c);
	return us;
}

/* Fills plans[] with examples/NAME.xml (sorted) and the small and medium bench plans. */
static size_t roofline_plans(char plans[][288], size_t max)
{
	size_t n = 0;
	DIR *dir = opendir(pd_test_path("examples"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	for (struct dirent *e; n + 2 < max && (e = readdir(dir)) != NULL;) {
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".xml") == 0)
			snprintf(plans[n++], sizeof(plans[0]), "examples/%s", e->d_name);
	}
	closedir(dir);
	qsort(plans, n, sizeof(plans[0]), (int (*)(const void *, const void *))strcmp);
	snprintf(plans[n++], sizeof(plans[0]), "bench/plans/small.xml");
	snprintf(plans[n++], sizeof(plans[0]), "bench/plans/medium.xml");
	return n;
}

static void roofline_should_agree_with_the_dag_critical_path(void)
{
	char plans[32][288];
	size_t n = roofline_plans(plans, 32), compared = 0;
	for (size_t i = 0; i < n; i++) {
		/* a pooled plan has a step per pool (docs/pools.md), compared in test_pools_dag */
		char *text = pd_test_read_file(pd_test_path(plans[i]), NULL);
		bool pooled = text && strstr(text, "<pool ");
		free(text);
		if (pooled)
			continue;
		double roof = step_latency(plans[i], 0);
		if (roof < 0)
			continue;
		double dag = step_latency(plans[i], 1), gap = dag > 0 ? (roof - dag) / dag : 1;
		if (getenv("PD_TEST_VERBOSE"))
			printf("\n  %s: roofline %.3f us, DAG %.3f us (%+.2f %%)", plans[i], roof, dag,
			       gap * 100);
		CU_ASSERT_TRUE(dag > 0);
		CU_ASSERT_TRUE(fabs(gap) <= ROOFLINE_TOLERANCE);
		compared++;
	}
	CU_ASSERT_TRUE(compared >= 6); /* 4 valid examples + 2 bench plans at least */
}

static CU_TestInfo check_tests[] = {
    {"acyclic_should_print_a_plain_cycle", acyclic_should_print_a_plain_cycle},
    {"acyclic_should_reject_collectives_met_in_different_orders",
     acyclic_should_reject_collectives_met_in_different_orders},
    {"placement_should_reject_an_expert_on_the_wrong_gpu",
     placement_should_reject_an_expert_on_the_wrong_gpu},
    {"placement_should_reject_an_unmatched_pp_send",
     placement_should_reject_an_unmatched_pp_send},
    {"placement_should_reject_a_collective_with_a_missing_member",
     placement_should_reject_a_collective_with_a_missing_member},
    {"placement_should_reject_memory_over_capacity_and_foreign_gpus",
     placement_should_reject_memory_over_capacity_and_foreign_gpus},
    {"placement_should_group_many_findings", placement_should_group_many_findings},
    {"critical_path_should_count_a_collective_once_after_its_last_member",
     critical_path_should_count_a_collective_once_after_its_last_member},
    {"checks_should_pass_on_lowered_plans", checks_should_pass_on_lowered_plans},
    {"roofline_should_agree_with_the_dag_critical_path",
     roofline_should_agree_with_the_dag_critical_path},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"check", NULL, NULL, NULL, NULL, check_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
