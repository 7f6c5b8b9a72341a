/* test_redundant.c - redundant experts (<moe redundant-experts="R">): the ep-placement
 * checks of the slots through the binary, the layout of a DeepSeek-V3-prefill-shaped
 * plan (256 experts + 32 redundant over EP 32, 9 slots per GPU), its memory, the
 * lowering's expert nodes with each copy's share of the tokens, and the GraphML record
 * of the copies read back by verify. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan/layout.h"
#include "testutil.h"

#define DSV3 "tests/plans/valid/dsv3-prefill-redundant.xml"
#define PLACED "tests/plans/valid/redundant-place.xml"
#define DSV3_EXAMPLE "examples/deepseek-v3-prefill-32-h800.xml"

typedef struct place_case {
	const char *file;    /* under tests/plans/invalid, without .xml */
	const char *marker;  /* text on the line the diagnostic points at */
	const char *message; /* part of the message */
	const char *fix;     /* part of the fix line */
} place_case;

static const place_case cases[] = {
    {"ep-placement-slots", "redundant-experts=\"30\"",
     "256 + 30 = 286 slots do not divide over EP 32",
     "fix: use redundant-experts 32 (9 slots per GPU) or 0 (8 slots per GPU)"},
    {"ep-placement-slots-twice", "redundant-experts=\"6\"",
     "are 5 per GPU, more than the 4 experts",
     "fix: use redundant-experts 4 or fewer (4 slots per GPU"},
    {"ep-placement-place-twice", "<place experts=\"1\" gpu=\"1\"/>\n        </moe>",
     "gpu 1 already holds experts 1 from an earlier <place>",
     "fix: place these copies on other GPUs of the stage"},
    {"ep-placement-place-uneven", "<moe ep=\"2\"",
     "every GPU holds 3 (more on gpus 0, fewer on gpus 1)",
     "fix: give every GPU of the stage exactly 3 expert slots"},
    {"ep-placement-place-overfull", "<moe ep=\"2\"",
     "name 8 expert slots but the stage has 4 + 2 = 6", "2 extra copies in all"},
    {"ep-placement-copy-without-redundant", "<place experts=\"0\" gpu=\"1\"/>",
     "experts 0 are already placed by an earlier <place>",
     "give <moe> redundant-experts=\"N\" for N extra copies"},
    {"ep-placement-redundant-dense", "redundant-experts=\"2\"",
     "redundant-experts 2 on a dense model", "fix: remove <moe> (and redundant-experts)"},
};

/* Line of the first occurrence of marker in the file (markers may span lines). */
static long line_of(const char *path, const char *marker)
{
	char *text = pd_test_read_file(path, NULL);
	const char *at = text ? strstr(text, marker) : NULL;
	long line = at ? 1 : 0;
	for (const char *p = text; at && p < at; p++)
		line += *p == '\n';
	free(text);
	return line;
}

static void check_should_report_every_slot_rule_at_its_line_with_its_fix(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rel[256], head[4300];
		snprintf(rel, sizeof(rel), "tests/plans/invalid/%s.xml", cases[i].file);
		const char *path = pd_test_path(rel);
		long line = line_of(path, cases[i].marker);
		CU_ASSERT_TRUE_FATAL(line > 0);
		snprintf(head, sizeof(head), "%s:%ld:", path, line);
		pd_run_result r;
		pd_run_plandag(&r, "check", path, NULL);
		CU_ASSERT_EQUAL(r.status, 1);
		const char *at = r.err ? strstr(r.err, head) : NULL;
		const char *eol = at ? strchr(at, '\n') : NULL;
		const char *fix_eol = eol ? strchr(eol + 1, '\n') : NULL;
		bool ok = at && eol && fix_eol && strstr(at, "[ep-placement]") < eol &&
		          strstr(at, cases[i].message) && strstr(at, cases[i].message) < eol &&
		          strstr(eol, cases[i].fix) && strstr(eol, cases[i].fix) < fix_eol;
		CU_ASSERT_TRUE(ok);
		if (!ok)
			fprintf(stderr, "\n  %s (line %ld): exit %d, stderr:\n%s\n", cases[i].file,
			        line, r.status, r.err ? r.err : "(none)");
		pd_run_release(&r);
	}
}

static pd_plan *load_ok(const char *rel, pd_analysis *an)
{
	pd_plan *p = NULL;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_status s = pd_test_load(rel, &p, an, &dl);
	if (s != PD_OK || dl.errors > 0)
		pd_test_dump_diags(&dl);
	CU_ASSERT_EQUAL(s, PD_OK);
	CU_ASSERT_EQUAL(dl.errors, 0);
	pd_diag_list_release(&dl);
	return p;
}

/* The DeepSeek-V3-shaped plan with redundant-experts removed, parsed from memory. */
static pd_plan *load_without_copies(pd_analysis *an)
{
	char *text = pd_test_edit_file(DSV3, " redundant-experts=\"32\"", "");
	pd_plan *p = NULL;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	CU_ASSERT_EQUAL(pd_test_load_text(text, "no-copies.xml", &p, an, &dl), PD_OK);
	CU_ASSERT_EQUAL(dl.errors, 0);
	pd_diag_list_release(&dl);
	free(text);
	return p;
}

static void expand_should_lay_out_nine_slots_on_each_of_32_gpus(void)
{
	pd_analysis an;
	pd_plan *p = load_ok(DSV3, &an);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	const pd_i_expert_layout *l = p->strategy.replicas[0].stages[0].layout;
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l->ids);
	CU_ASSERT_EQUAL(l->n_gpus, 32);
	CU_ASSERT_EQUAL(l->slots, 288);
	for (uint32_t g = 0; g < 32; g++) {
		CU_ASSERT_EQUAL(pd_i_layout_slots(l, g), 9);
		for (uint64_t i = l->off[g] + 1; i < l->off[g + 1]; i++)
			CU_ASSERT_TRUE(l->ids[i] > l->ids[i - 1]); /* ascending, no expert twice */
	}
	/* slot s holds expert s mod 256: experts 0-31 have a second slot on GPUs 28-31 */
	for (uint32_t e = 0; e < 256; e++)
		CU_ASSERT_EQUAL(l->copies[e], e < 32 ? 2u : 1u);
	static const uint32_t gpu28[] = {0, 1, 2, 3, 4, 252, 253, 254, 255};
	CU_ASSERT_EQUAL(memcmp(l->ids + l->off[28], gpu28, sizeof(gpu28)), 0);
	CU_ASSERT_EQUAL(l->max_copies, 2);
	pd_plan_destroy(p);
}

static void memory_should_count_every_slot_of_a_gpu(void)
{
	pd_analysis an, an0;
	pd_plan *p = load_ok(DSV3, &an);
	pd_plan *p0 = load_without_copies(&an0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL_FATAL(an.n_memory, 32);
	CU_ASSERT_EQUAL_FATAL(an0.n_memory, 32);
	/* one more expert per GPU in each of the 58 MoE layers, fp8: 1 byte a parameter */
	double expert = 3.0 * 7168 * 2048;
	for (uint32_t g = 0; g < 32; g++) {
		CU_ASSERT_EQUAL(an.memory[g].experts, 9);
		CU_ASSERT_EQUAL(an0.memory[g].experts, 8);
		CU_ASSERT_DOUBLE_EQUAL(an.memory[g].weights - an0.memory[g].weights, 58 * expert,
		                       1.0);
	}
	pd_plan_destroy(p);
	pd_plan_destroy(p0);
}

/* Sum of the FLOPs of the nodes of `kind` in layer L, and of those of expert e. */
static double layer_flops(const pd_dag *d, pd_node_kind kind, int32_t layer, int32_t expert,
                          uint32_t *n)
{
	double f = 0;
	*n = 0;
	for (uint32_t v = 0; v < d->n_nodes; v++) {
		const pd_node *x = &d->nodes[v];
		if (x->kind == kind && x->layer == layer && (expert < 0 || x->expert == expert)) {
			f += d->costs[x->cost].flops;
			(*n)++;
		}
	}
	return f;
}

static void lower_should_split_an_experts_tokens_over_its_copies(void)
{
	pd_analysis an, an0;
	pd_plan *p = load_ok(DSV3, &an);
	pd_plan *p0 = load_without_copies(&an0);
	pd_dag *d = NULL, *d0 = NULL;
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, &an, &d), PD_OK);
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p0, &an0, &d0), PD_OK);
	uint32_t n, n0, nc, ns;
	double all = layer_flops(d, PD_N_EXPERT, 3, -1, &n);
	double all0 = layer_flops(d0, PD_N_EXPERT, 3, -1, &n0);
	CU_ASSERT_EQUAL(n, 288); /* one node per slot */
	CU_ASSERT_EQUAL(n0, 256);
	CU_ASSERT_DOUBLE_EQUAL(all, all0, all0 * 1e-12); /* the layer's work is unchanged */
	/* expert 7 has two copies (GPUs 0 and 28), expert 100 one: half the FLOPs each */
	double copied = layer_flops(d, PD_N_EXPERT, 3, 7, &nc);
	double single = layer_flops(d, PD_N_EXPERT, 3, 100, &ns);
	CU_ASSERT_EQUAL(nc, 2);
	CU_ASSERT_EQUAL(ns, 1);
	CU_ASSERT_DOUBLE_EQUAL(copied, single, single * 1e-12);
	double tokens = 8.0 * 4096 * 8 / 256; /* per expert: step tokens x top-k / experts */
	CU_ASSERT_DOUBLE_EQUAL(single, 6 * tokens * 7168 * 2048, 1.0);
	/* tokens still go out once per chosen expert: the all-to-all carries the same bytes */
	const pd_node *x = pd_test_first_node(d, PD_N_EP_DISPATCH),
	              *x0 = pd_test_first_node(d0, PD_N_EP_DISPATCH);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x0);
	CU_ASSERT_EQUAL(d->costs[x->cost].bytes, d0->costs[x0->cost].bytes);
	pd_dag_destroy(d);
	pd_dag_destroy(d0);
	pd_plan_destroy(p);
	pd_plan_destroy(p0);
}

/* --dump lower through the binary: 9 expert nodes per GPU and layer. */
static void dump_lower_should_show_nine_expert_slots_per_gpu(void)
{
	pd_run_result r;
	CU_ASSERT_EQUAL_FATAL(pd_run_plandag(&r, "compile", pd_test_path(DSV3), "--dump",
	                                     "lower", "--emit", "none", "-q", NULL),
	                      0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.out);
	for (int g = 0; g < 32; g++) {
		char pat[64];
		snprintf(pat, sizeof(pat), " expert gpu=%d r=0 s=0 L=40 ", g);
		int n = 0;
		for (const char *q = strstr(r.out, pat); q; q = strstr(q + 1, pat))
			n++;
		CU_ASSERT_EQUAL(n, 9);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, " expert gpu=28 r=0 s=0 L=40 mb=0 expert=255 "));
	pd_run_release(&r);
}

static void layer_view_should_render_the_slots(void)
{
	const char *dir = pd_test_tmpdir("redundant");
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", pd_test_path(DSV3), "-o", dir, "--emit",
	                               "svg", "--view", "layer=3", "-q", NULL),
	                0);
	pd_run_release(&r);
	char *svg =
	    pd_test_read_file(pd_test_join(dir, "dsv3-prefill-redundant-layer3.svg"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, "<svg"));
	free(svg);
}

static int count_of(const char *text, const char *pat)
{
	int n = 0;
	for (const char *q = text ? strstr(text, pat) : NULL; q; q = strstr(q + 1, pat))
		n++;
	return n;
}

/* The shipped DeepSeek-V3 prefill example (MLA, TP 4 + SP, dense TP 1, EP 32, 32
 * redundant): --dump lower has 9 expert slots on every GPU in a MoE layer and, in a dense
 * layer, reduce-scatter -> ffn -> all-gather in the TP-4 group; the layer views draw the
 * 288 slots and the re-sharding pair of every GPU. */
/* GPUs the GPU clusters of a folded view stand for: N for "GPUs ... (×N)", 1 for
 * "GPU g". */
static int folded_gpus(const char *svg)
{
	int n = 0;
	for (const char *p = svg; (p = strstr(p, "stage 0 / GPU")) != NULL; p++) {
		const char *end = strchr(p, '<'), *x = strstr(p, "(\u00d7");
		n += x && end && x < end ? atoi(x + strlen("(\u00d7")) : 1;
	}
	return n;
}

static void deepseek_prefill_example_should_show_nine_slots_and_the_resharding(void)
{
	pd_run_result r;
	CU_ASSERT_EQUAL_FATAL(pd_run_plandag(&r, "compile", pd_test_path(DSV3_EXAMPLE),
	                                     "--dump", "lower", "--emit", "none", "-q", NULL),
	                      0);
	for (int g = 0; g < 32; g++) {
		char pat[64];
		snprintf(pat, sizeof(pat), " expert gpu=%d r=0 s=0 L=3 ", g);
		CU_ASSERT_EQUAL(count_of(r.out, pat), 9);
	}
	const char *rs = strstr(r.out, " tp_reduce_scatter gpu=0 r=0 s=0 L=0 ");
	const char *ffn = strstr(r.out, " ffn gpu=0 r=0 s=0 L=0 ");
	const char *ag = strstr(r.out, " tp_all_gather gpu=0 r=0 s=0 L=0 ");
	CU_ASSERT_TRUE(rs && ffn && ag && rs < ffn && ffn < ag);
	CU_ASSERT_EQUAL(count_of(r.out, " tp_allreduce "), 0);
	pd_run_release(&r);
	const char *dir = pd_test_tmpdir("redundant");
	for (int layer = 0; layer <= 3; layer += 3) {
		char view[16], file[64];
		snprintf(view, sizeof(view), "layer=%d", layer);
		CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", pd_test_path(DSV3_EXAMPLE), "-o", dir,
		                               "--emit", "svg", "--view", view, "-q", NULL),
		                0);
		pd_run_release(&r);
		snprintf(file, sizeof(file), "deepseek-v3-prefill-32-h800-layer%d.svg", layer);
		char *svg = pd_test_read_file(pd_test_join(dir, file), NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
		/* the view folds identical GPUs: each kind drawn once, "GPUs 4-27 (×24)" */
		int kinds = count_of(svg, "stage 0 / GPU"), gpus = folded_gpus(svg);
		CU_ASSERT_EQUAL(gpus, 32);
		CU_ASSERT_TRUE(kinds >= 1 && kinds < 32);
		int want_slots = layer == 3 ? 9 * kinds : 0, want_ffn = layer == 3 ? 0 : kinds;
		CU_ASSERT_EQUAL(count_of(svg, ">L3 expert "), want_slots);
		CU_ASSERT_EQUAL(count_of(svg, ">L0 ffn<"), want_ffn);
		CU_ASSERT_EQUAL(count_of(svg, ">L0 tp_reduce_scatter<") +
		                    count_of(svg, ">L3 tp_reduce_scatter<"),
		                kinds);
		CU_ASSERT_EQUAL(count_of(svg, ">L0 tp_all_gather<") +
		                    count_of(svg, ">L3 tp_all_gather<"),
		                kinds);
		free(svg);
	}
}

/* A hand placement with copies is valid, lowers, and its GraphML says where the copies
 * are: verify accepts it, and refuses it once a copy's GPU is changed. */
static void verify_should_accept_copies_and_refuse_a_moved_one(void)
{
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "check", pd_test_path(PLACED), NULL), 0);
	pd_run_release(&r);
	const char *dir = pd_test_tmpdir("redundant");
	CU_ASSERT_EQUAL_FATAL(pd_run_plandag(&r, "compile", pd_test_path(PLACED), "-o", dir,
	                                     "--emit", "graphml", "-q", NULL),
	                      0);
	pd_run_release(&r);
	const char *path = pd_test_join(dir, "redundant-place.graphml");
	char *text = pd_test_read_file(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	char *rec = strstr(text, "<data key=\"g_stages\">0/0:0+1,0+1,0,1</data>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "verify", path, NULL), 0);
	pd_run_release(&r);
	memcpy(rec + strlen("<data key=\"g_stages\">0/0:0+"), "0", 1); /* copy of 0 on gpu 0 */
	const char *moved = pd_test_join(dir, "moved.graphml");
	CU_ASSERT_EQUAL_FATAL(pd_test_write_file(moved, text), 0);
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "verify", moved, NULL), 1);
	CU_ASSERT_PTR_NOT_NULL(r.err ? strstr(r.err, "expert 0 of layer") : NULL);
	pd_run_release(&r);
	free(text);
}

static CU_TestInfo tests[] = {
    {"check_should_report_every_slot_rule_at_its_line_with_its_fix",
     check_should_report_every_slot_rule_at_its_line_with_its_fix},
    {"expand_should_lay_out_nine_slots_on_each_of_32_gpus",
     expand_should_lay_out_nine_slots_on_each_of_32_gpus},
    {"memory_should_count_every_slot_of_a_gpu", memory_should_count_every_slot_of_a_gpu},
    {"lower_should_split_an_experts_tokens_over_its_copies",
     lower_should_split_an_experts_tokens_over_its_copies},
    {"dump_lower_should_show_nine_expert_slots_per_gpu",
     dump_lower_should_show_nine_expert_slots_per_gpu},
    {"layer_view_should_render_the_slots", layer_view_should_render_the_slots},
    {"deepseek_prefill_example_should_show_nine_slots_and_the_resharding",
     deepseek_prefill_example_should_show_nine_slots_and_the_resharding},
    {"verify_should_accept_copies_and_refuse_a_moved_one",
     verify_should_accept_copies_and_refuse_a_moved_one},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"redundant", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
