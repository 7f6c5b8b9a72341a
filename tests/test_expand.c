/* test_expand.c - shorthand, replica copies, GPU assignment, expert placement, tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/layout.h"
#include "testutil.h"

/* The stage GPU index holding expert e (the first when it has copies), -1 when none. */
static int32_t host_of(const pd_stage *st, uint32_t e)
{
	const pd_i_expert_layout *l = st->layout;
	for (uint32_t g = 0; l && l->ids && g < l->n_gpus; g++)
		for (uint64_t i = l->off[g]; i < l->off[g + 1]; i++)
			if (l->ids[i] == e)
				return (int32_t)g;
	return -1;
}

/* Whether expert e lives at want[e] for every e < n. */
static bool hosts_are(const pd_stage *st, const int32_t *want, uint32_t n)
{
	for (uint32_t e = 0; e < n; e++)
		if (host_of(st, e) != want[e])
			return false;
	return true;
}

/* A plan with the given <model> attributes and <strategy> element, parsed and expanded. */
static pd_plan *load(const char *model, const char *strategy)
{
	char xml[4096];
	snprintf(xml, sizeof(xml),
	         "<?xml version=\"1.0\"?>\n"
	         "<plan name=\"t\">\n"
	         "  <model %s/>\n"
	         "  <cluster nodes=\"8\" gpus-per-node=\"8\" gpu-memory=\"80GB\"/>\n"
	         "%s\n"
	         "</plan>\n",
	         model, strategy);
	pd_diag_list d;
	pd_diag_list_init(&d);
	pd_plan *p = NULL;
	pd_status s = pd_plan_parse_memory(xml, strlen(xml), "t.xml", &p, &d);
	if (s == PD_OK)
		s = pd_plan_expand(p, &d);
	if (s != PD_OK || d.errors > 0)
		pd_test_dump_diags(&d);
	pd_diag_list_release(&d);
	return p;
}

#define MOE8                                                                               \
	"layers=\"61\" hidden=\"1024\" heads=\"8\" vocab=\"1000\" experts=\"8\" "              \
	"expert-ffn=\"512\""
#define MOE4                                                                               \
	"layers=\"4\" hidden=\"1024\" heads=\"8\" vocab=\"1000\" experts=\"4\" "               \
	"expert-ffn=\"512\""
#define DENSE "layers=\"4\" hidden=\"1024\" heads=\"8\" vocab=\"1000\" dense-ffn=\"4096\""

static void expand_should_split_61_layers_over_4_stages_earlier_first(void)
{
	pd_plan *p =
	    load(MOE8, "  <strategy gpus=\"32\" dp=\"2\" pp=\"4\" tp=\"2\" ep=\"4\"/>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_TRUE(p->expanded);
	CU_ASSERT_EQUAL_FATAL(p->strategy.n_replicas, 2);
	static const int64_t first[] = {0, 16, 31, 46}, last[] = {15, 30, 45, 60};
	for (uint32_t r = 0; r < 2; r++) {
		const pd_replica *rep = &p->strategy.replicas[r];
		CU_ASSERT_EQUAL(rep->copy, r);
		CU_ASSERT_EQUAL(rep->count, 1);
		CU_ASSERT_EQUAL_FATAL(rep->n_stages, 4);
		for (uint32_t s = 0; s < 4; s++) {
			const pd_stage *st = &rep->stages[s];
			CU_ASSERT_EQUAL(st->first_layer, first[s]);
			CU_ASSERT_EQUAL(st->last_layer, last[s]);
			CU_ASSERT_TRUE(st->has_attention && st->has_moe);
			CU_ASSERT_EQUAL(st->tp, 2);
			CU_ASSERT_EQUAL(st->ep, 4);
			CU_ASSERT_EQUAL_FATAL(st->n_gpus, 4);
			CU_ASSERT_EQUAL(st->gpus[0], (int32_t)(16 * r + 4 * s));
			CU_ASSERT_EQUAL(st->loc.line, 5); /* the <strategy> element */
		}
	}
	pd_plan_destroy(p);
}

static void expand_should_hand_out_gpus_not_named_explicitly(void)
{
	pd_plan *p =
	    load(MOE4, "  <strategy>\n"
	               "    <replica><stage layers=\"0-1\"><moe ep=\"4\"/></stage>\n"
	               "      <stage layers=\"2-3\" gpus=\"0-3\"><moe ep=\"4\"/></stage>\n"
	               "    </replica>\n"
	               "  </strategy>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	const pd_stage *a = &p->strategy.replicas[0].stages[0];
	CU_ASSERT_FALSE(a->gpus_given);
	CU_ASSERT_EQUAL_FATAL(a->n_gpus, 4);
	CU_ASSERT_EQUAL(a->gpus[0], 4);
	CU_ASSERT_EQUAL(a->gpus[3], 7);
	pd_plan_destroy(p);
}

static void expand_should_copy_a_replica_count_times(void)
{
	pd_plan *p =
	    load(DENSE, "  <strategy>\n"
	                "    <replica count=\"3\"><stage layers=\"0-3\">"
	                "<attention tp=\"2\"/></stage></replica>\n"
	                "    <replica count=\"2\"><stage layers=\"0-3\" gpus=\"40-41\">"
	                "<attention tp=\"2\"/></stage></replica>\n"
	                "  </strategy>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL_FATAL(p->strategy.n_replicas, 5);
	for (uint32_t r = 0; r < 3; r++) {
		const pd_replica *rep = &p->strategy.replicas[r];
		CU_ASSERT_EQUAL(rep->source, 0);
		CU_ASSERT_EQUAL(rep->copy, r);
		CU_ASSERT_EQUAL(rep->stages[0].gpus[0], (int32_t)(2 * r));
		CU_ASSERT_PTR_NULL(rep->stages[0].layout); /* dense model */
	}
	/* explicit gpus are copied as written: the rules report the overlap */
	CU_ASSERT_EQUAL(p->strategy.replicas[3].source, 1);
	CU_ASSERT_EQUAL(p->strategy.replicas[4].copy, 1);
	CU_ASSERT_EQUAL(p->strategy.replicas[3].stages[0].gpus[0], 40);
	CU_ASSERT_EQUAL(p->strategy.replicas[4].stages[0].gpus[0], 40);
	pd_plan_destroy(p);
}

static void expand_should_place_experts_in_contiguous_blocks(void)
{
	pd_plan *p = load(MOE8, "  <strategy pp=\"1\" ep=\"4\"/>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	const pd_stage *st = &p->strategy.replicas[0].stages[0];
	CU_ASSERT_PTR_NOT_NULL_FATAL(st->layout);
	static const int32_t want[] = {0, 0, 1, 1, 2, 2, 3, 3};
	CU_ASSERT_TRUE(hosts_are(st, want, sizeof(want) / sizeof(want[0])));
	pd_plan_destroy(p);
}

static void expand_should_spread_experts_when_ep_does_not_divide(void)
{
	/* 6 experts over 4 GPUs: best effort e * 4 / 6 */
	pd_plan *p =
	    load("layers=\"2\" hidden=\"1024\" heads=\"8\" vocab=\"1000\" experts=\"6\" "
	         "expert-ffn=\"512\"",
	         "  <strategy ep=\"4\"/>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	const pd_stage *st = &p->strategy.replicas[0].stages[0];
	static const int32_t want[] = {0, 0, 1, 2, 2, 3};
	CU_ASSERT_TRUE(hosts_are(st, want, sizeof(want) / sizeof(want[0])));
	pd_plan_destroy(p);
}

static void expand_should_follow_explicit_places_only(void)
{
	pd_plan *p =
	    load(MOE4, "  <strategy>\n"
	               "    <replica><stage layers=\"0-3\" gpus=\"4-5\"><moe ep=\"2\">\n"
	               "      <place experts=\"0-1\" gpu=\"5\"/>\n"
	               "      <place experts=\"2\" gpu=\"4\"/>\n"
	               "      <place experts=\"3\" gpu=\"9\"/>\n"
	               "    </moe></stage></replica>\n"
	               "  </strategy>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	const pd_stage *st = &p->strategy.replicas[0].stages[0];
	CU_ASSERT_EQUAL_FATAL(st->n_places, 3);
	CU_ASSERT_EQUAL(st->places[0].gpu, 5);
	CU_ASSERT_EQUAL(st->places[1].first, 2);
	CU_ASSERT_EQUAL(st->places[1].last, 2);
	static const int32_t want[] = {1, 1, 0, -1}; /* gpu 9 is not in the stage */
	CU_ASSERT_TRUE(hosts_are(st, want, sizeof(want) / sizeof(want[0])));
	pd_plan_destroy(p);
}

static void expand_should_leave_unplaced_experts_at_minus_one(void)
{
	pd_plan *p = load(MOE4, "  <strategy><replica><stage layers=\"0-3\" gpus=\"0-1\">"
	                        "<moe ep=\"2\"><place experts=\"0\" gpu=\"1\"/></moe>"
	                        "</stage></replica></strategy>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	const pd_stage *st = &p->strategy.replicas[0].stages[0];
	CU_ASSERT_EQUAL(host_of(st, 0), 1);
	CU_ASSERT_EQUAL(host_of(st, 1), -1);
	CU_ASSERT_EQUAL(host_of(st, 3), -1);
	CU_ASSERT_EQUAL(st->layout->copies[1], 0);
	pd_plan_destroy(p);
}

static char *tree_of(const pd_plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	pd_plan_print_tree(p, f);
	fclose(f);
	return buf;
}

static void print_tree_should_show_the_expanded_hierarchy(void)
{
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	pd_plan_parse_file(pd_test_path("examples/moe-10b-ep16.xml"), &p, &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	pd_plan_expand(p, &d);
	char *t = tree_of(p);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "strategy: 16 GPUs (declared 16)\n  replica 0\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(t, "    stage 0: layers 0-15, GPUs 0-15 (16), TP 1, EP 16\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "      GPU 0: experts 0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "      GPU 4..15: one expert each\n"));
	free(t);
	pd_plan_destroy(p);
	pd_diag_list_release(&d);
}

static void print_tree_should_stay_short_for_big_plans(void)
{
	pd_plan *p = load(MOE8, "  <strategy dp=\"64\" pp=\"16\" tp=\"1\" ep=\"4\"/>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->strategy.n_replicas, 64);
	char *t = tree_of(p);
	int lines = 0;
	for (const char *c = t; *c; c++)
		lines += *c == '\n';
	CU_ASSERT_TRUE(lines < 60);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "replicas 2..63: 62 more"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "experts 0-1")); /* ranges, not lists */
	free(t);
	pd_plan_destroy(p);
}

static CU_TestInfo expand_tests[] = {
    {"expand_should_split_61_layers_over_4_stages_earlier_first",
     expand_should_split_61_layers_over_4_stages_earlier_first},
    {"expand_should_hand_out_gpus_not_named_explicitly",
     expand_should_hand_out_gpus_not_named_explicitly},
    {"expand_should_copy_a_replica_count_times", expand_should_copy_a_replica_count_times},
    {"expand_should_place_experts_in_contiguous_blocks",
     expand_should_place_experts_in_contiguous_blocks},
    {"expand_should_spread_experts_when_ep_does_not_divide",
     expand_should_spread_experts_when_ep_does_not_divide},
    {"expand_should_follow_explicit_places_only",
     expand_should_follow_explicit_places_only},
    {"expand_should_leave_unplaced_experts_at_minus_one",
     expand_should_leave_unplaced_experts_at_minus_one},
    {"print_tree_should_show_the_expanded_hierarchy",
     print_tree_should_show_the_expanded_hierarchy},
    {"print_tree_should_stay_short_for_big_plans",
     print_tree_should_stay_short_for_big_plans},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"expand", NULL, NULL, NULL, NULL, expand_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
