/* test_dense_tp.c - dense FFN layers at their own TP (<dense-ffn tp="N">): the
 * re-sharding collectives the lowering puts between the attention's TP and the FFN's,
 * with the group each really runs in (DeepSeek-V3's prefill: attention TP 4 + SP, dense
 * TP 1; and the other A -> N cases of docs/models.md), the FFN's per-GPU work, memory,
 * the checks through the binary, and every export and verify accepting the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define DSV3 "tests/plans/valid/dsv3-prefill-redundant.xml"

static pd_plan *load_ok(const char *rel, pd_analysis *an)
{
	pd_plan *p = NULL;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_status s = pd_test_load(rel, &p, an, &dl);
	if (s != PD_OK || dl.errors > 0)
		pd_test_dump_diags(&dl);
	CU_ASSERT_EQUAL(s, PD_OK);
	pd_diag_list_release(&dl);
	return p;
}

/* The group size of member v's collective (its hub's group), 0 for a compute node. */
static uint32_t group_size(const pd_dag *d, uint32_t v)
{
	for (uint32_t i = d->out_off[v]; i < d->out_off[v + 1]; i++) {
		const pd_edge *e = &d->edges[d->out_edge[i]];
		if (e->kind == PD_E_COLLECTIVE) {
			int32_t g = d->nodes[e->dst].group;
			return d->groups.off[g + 1] - d->groups.off[g];
		}
	}
	return 0;
}

/* The nodes of GPU gpu, layer L, micro-batch 0 in id order: "kind" or "kind/GROUP". */
static void layer_sequence(const pd_dag *d, int32_t gpu, int32_t layer, char *out, size_t n)
{
	size_t k = 0;
	out[0] = '\0';
	for (uint32_t v = 0; v < d->n_nodes && k < n; v++) {
		const pd_node *x = &d->nodes[v];
		if (x->gpu != gpu || x->layer != layer || x->micro_batch != 0)
			continue;
		uint32_t g = group_size(d, v);
		k += (size_t)snprintf(out + k, n - k, g ? "%s%s/%u" : "%s%s", k ? " " : "",
		                      pd_node_kind_name((pd_node_kind)x->kind), g);
	}
}

typedef struct seq_case {
	const char *plan;
	int32_t gpu, layer;
	const char *want;
} seq_case;

static const seq_case seqs[] = {
    /* DeepSeek-V3 prefill: the attention's reduce-scatter leaves 1/4 of the tokens, the
     * TP-1 FFN runs on them with no collective, the all-gather restores them */
    {DSV3, 0, 0,
     "attn_norm qkv attention o_proj tp_reduce_scatter/4 ffn_norm ffn tp_all_gather/4"},
    {DSV3, 17, 2,
     "attn_norm qkv attention o_proj tp_reduce_scatter/4 ffn_norm ffn tp_all_gather/4"},
    /* a MoE layer of the same stage keeps the attention TP's pair; the shared expert
     * comes first on the compute stream (it runs during the dispatch) */
    {DSV3, 0, 3,
     "attn_norm qkv attention o_proj tp_reduce_scatter/4 tp_all_gather/4 ffn_norm router "
     "ep_dispatch/32 shared_expert expert expert expert expert expert expert expert expert "
     "expert ep_combine/32"},
    /* TP 2 -> 4 without SP: the FFN group of 4 gathers both attention groups' tokens */
    {"tests/plans/valid/dense-tp-up.xml", 2, 1,
     "attn_norm qkv attention o_proj tp_allreduce/2 tp_all_gather/4 ffn_norm ffn "
     "tp_reduce_scatter/4 tp_all_gather/2"},
    /* TP 4 + SP -> 2: each dense group of 2 gathers its half of the shards */
    {"tests/plans/valid/dense-tp-down-sp.xml", 3, 0,
     "attn_norm qkv attention o_proj tp_reduce_scatter/4 tp_all_gather/2 ffn_norm ffn "
     "tp_reduce_scatter/2 tp_all_gather/4"},
    /* TP 2 -> 1 without SP: the FFN takes its half of the replicated tokens */
    {"tests/plans/valid/dense-tp-one.xml", 1, 0,
     "attn_norm qkv attention o_proj tp_allreduce/2 ffn_norm ffn tp_all_gather/2"},
};

static void lower_should_insert_the_resharding_collectives_in_their_groups(void)
{
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		pd_analysis an;
		pd_plan *p = load_ok(seqs[i].plan, &an);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		pd_dag *d = NULL;
		CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, &an, &d), PD_OK);
		char got[1024];
		layer_sequence(d, seqs[i].gpu, seqs[i].layer, got, sizeof(got));
		CU_ASSERT_STRING_EQUAL(got, seqs[i].want);
		if (strcmp(got, seqs[i].want) != 0)
			fprintf(stderr, "\n  %s gpu %d layer %d:\n  got  %s\n  want %s\n", seqs[i].plan,
			        seqs[i].gpu, seqs[i].layer, got, seqs[i].want);
		pd_dag_destroy(d);
		pd_plan_destroy(p);
	}
}

/* The same plan with <dense-ffn> removed (the dense layers back at the attention TP). */
static pd_plan *load_without_dense_tp(pd_analysis *an)
{
	char *text = pd_test_edit_file(DSV3, "\n        <dense-ffn tp=\"1\"/>", "");
	pd_plan *p = NULL;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	CU_ASSERT_EQUAL(pd_test_load_text(text, "tp4.xml", &p, an, &dl), PD_OK);
	pd_diag_list_release(&dl);
	free(text);
	return p;
}

/* TP 1 on a quarter of the tokens does a TP-4 GPU's FLOPs, but reads 4x the weights;
 * memory holds the whole dense FFN on every GPU. */
static void dense_tp_should_keep_ffn_flops_and_hold_all_its_weights(void)
{
	pd_analysis an, an4;
	pd_plan *p = load_ok(DSV3, &an);
	pd_plan *p4 = load_without_dense_tp(&an4);
	pd_dag *d = NULL, *d4 = NULL;
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, &an, &d), PD_OK);
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p4, &an4, &d4), PD_OK);
	const pd_cost *c = &d->costs[pd_test_first_node(d, PD_N_FFN)->cost];
	const pd_cost *c4 = &d4->costs[pd_test_first_node(d4, PD_N_FFN)->cost];
	double tokens = 8.0 * 4096 / 32; /* a GPU's quarter of its attention group's tokens */
	double weights = 3.0 * 7168 * 18432; /* fp8: one byte a parameter */
	CU_ASSERT_DOUBLE_EQUAL(c->flops, 2 * tokens * weights, 1.0);
	CU_ASSERT_DOUBLE_EQUAL(c->flops, c4->flops, 1.0);
	CU_ASSERT_DOUBLE_EQUAL(c->bytes, weights + 2 * tokens * 7168, 1.0);
	CU_ASSERT_DOUBLE_EQUAL(c4->bytes, weights / 4 + 2 * 4 * tokens * 7168, 1.0);
	/* 3 dense layers: the whole FFN instead of a quarter on every GPU */
	CU_ASSERT_DOUBLE_EQUAL(an.memory[5].weights - an4.memory[5].weights, 3 * weights * 0.75,
	                       1.0);
	pd_dag_destroy(d);
	pd_dag_destroy(d4);
	pd_plan_destroy(p);
	pd_plan_destroy(p4);
}

/* --dump lower shows the re-sharding pair of a dense layer in the attention's groups. */
static void dump_lower_should_show_the_resharding_collectives(void)
{
	pd_run_result r;
	CU_ASSERT_EQUAL_FATAL(pd_run_plandag(&r, "compile", pd_test_path(DSV3), "--dump",
	                                     "lower", "--emit", "none", "-q", NULL),
	                      0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.out);
	const char *rs = strstr(r.out, " tp_reduce_scatter gpu=0 r=0 s=0 L=0 ");
	const char *ffn = strstr(r.out, " ffn gpu=0 r=0 s=0 L=0 ");
	const char *ag = strstr(r.out, " tp_all_gather gpu=0 r=0 s=0 L=0 ");
	CU_ASSERT_TRUE(rs && ffn && ag && rs < ffn && ffn < ag);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(r.out, " collective gpu=-1 r=0 s=0 L=0 mb=0 group=28,29,30,31 "));
	pd_run_release(&r);
}

/* Every export takes the result and verify (acyclic, placement) accepts it. */
static void exports_and_verify_should_accept_every_dense_tp_plan(void)
{
	static const char *const plans[] = {"tests/plans/valid/dense-tp-up.xml",
	                                    "tests/plans/valid/dense-tp-down-sp.xml",
	                                    "tests/plans/valid/dense-tp-one.xml"};
	static const char *const names[] = {"dense-tp-up", "dense-tp-down-sp", "dense-tp-one"};
	for (size_t i = 0; i < 3; i++) {
		const char *dir = pd_test_tmpdir("dense-tp");
		pd_run_result r;
		CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", pd_test_path(plans[i]), "-o", dir,
		                               "--emit", "dot,graphml,svg,report", "-q", NULL),
		                0);
		pd_run_release(&r);
		char file[256];
		snprintf(file, sizeof(file), "%s.graphml", names[i]);
		CU_ASSERT_EQUAL(pd_run_plandag(&r, "verify", pd_test_join(dir, file), NULL), 0);
		pd_run_release(&r);
		snprintf(file, sizeof(file), "%s.svg", names[i]);
		char *svg = pd_test_read_file(pd_test_join(dir, file), NULL);
		CU_ASSERT_PTR_NOT_NULL(svg ? strstr(svg, "tp_all_gather") : NULL);
		free(svg);
	}
}

typedef struct rule_case {
	const char *file, *marker, *message, *fix;
	int status;
} rule_case;

static const rule_case rules[] = {
    {"tp-divides-heads-dense-stage", "<dense-ffn tp=\"3\"/>",
     "dense-ffn tp 3 does not divide the stage's 4 GPUs",
     "fix: use a dense-ffn tp that divides 4, e.g. tp=\"2\"", 1},
    {"tp-divides-heads-dense-width", "<dense-ffn tp=\"4\"/>",
     "dense-ffn tp 4 does not divide the model's dense-ffn width 1026",
     "fix: use a dense-ffn tp that divides 1026, e.g. tp=\"2\"", 1},
    {"tp-divides-heads-dense-nest", "<dense-ffn tp=\"6\"/>",
     "dense-ffn tp 6 and attention tp 4 do not nest",
     "fix: use a dense-ffn tp that divides 4 (e.g. tp=\"4\") or a multiple of it", 1},
    {"tp-divides-heads-dense-unused", "<dense-ffn tp=\"1\"/>",
     "on a stage without dense layers (layers 1-2 are all MoE layers)",
     "fix: remove <dense-ffn>, or put it on the stage that holds the first 1", 0},
};

static void check_should_report_dense_tp_at_its_line_with_its_fix(void)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		char rel[256], head[4300];
		snprintf(rel, sizeof(rel), "tests/plans/invalid/%s.xml", rules[i].file);
		const char *path = pd_test_path(rel);
		long line = pd_test_line_of(path, rules[i].marker);
		CU_ASSERT_TRUE_FATAL(line > 0);
		snprintf(head, sizeof(head), "%s:%ld:", path, line);
		pd_run_result r;
		pd_run_plandag(&r, "check", path, NULL);
		CU_ASSERT_EQUAL(r.status, rules[i].status);
		const char *at = r.err ? strstr(r.err, head) : NULL;
		while (at && !strstr(at, rules[i].message))
			at = strstr(at + 1, head);
		const char *eol = at ? strchr(at, '\n') : NULL;
		bool ok = eol && strstr(at, rules[i].message) < eol &&
		          strstr(at, "[tp-divides-heads]") < eol &&
		          strncmp(eol + 1, "    ", 4) == 0 && strstr(eol, rules[i].fix) &&
		          strstr(eol, rules[i].fix) < strchr(eol + 1, '\n');
		CU_ASSERT_TRUE(ok);
		if (!ok)
			fprintf(stderr, "\n  %s: exit %d, stderr:\n%s\n", rules[i].file, r.status,
			        r.err ? r.err : "(none)");
		pd_run_release(&r);
	}
}

static CU_TestInfo tests[] = {
    {"lower_should_insert_the_resharding_collectives_in_their_groups",
     lower_should_insert_the_resharding_collectives_in_their_groups},
    {"dense_tp_should_keep_ffn_flops_and_hold_all_its_weights",
     dense_tp_should_keep_ffn_flops_and_hold_all_its_weights},
    {"dump_lower_should_show_the_resharding_collectives",
     dump_lower_should_show_the_resharding_collectives},
    {"exports_and_verify_should_accept_every_dense_tp_plan",
     exports_and_verify_should_accept_every_dense_tp_plan},
    {"check_should_report_dense_tp_at_its_line_with_its_fix",
     check_should_report_dense_tp_at_its_line_with_its_fix},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"dense_tp", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
