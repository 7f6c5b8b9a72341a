/* test_search_write.c - pd_search_plan_xml: the suggested plan `suggest` writes.
 *
 * Every written text goes through the real reader, expansion and rules; its expanded
 * strategy must be exactly the choice, stage by stage, and the rest of the original
 * must survive byte for byte up to the first edited element. */
#include <stdlib.h>
#include <string.h>

#include "plandag/search.h"
#include "testutil.h"

/* The choice's fields in order: dp pp tp sp dense_tp ep redundant micro_batches two_batch
 */
#define CHOICE(dp, pp, tp, sp, dtp, ep, r, mb, tb)                                         \
	((pd_choice){dp, pp, tp, sp, dtp, ep, r, mb, tb})

static pd_plan *load(const char *rel)
{
	pd_plan *p = NULL;
	pd_analysis an;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_test_load(rel, &p, &an, &dl); /* the original may break rules: it is searched */
	pd_diag_list_release(&dl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return p;
}

static char *write_for(const char *rel, const pd_plan *p, const pd_choice *c,
                       const char *why)
{
	size_t len, n = 0;
	char *orig = pd_test_read_file(pd_test_path(rel), &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
	char *text = pd_search_plan_xml(p, orig, len, c, why, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(n, strlen(text));
	free(orig);
	return text;
}

/* Stage k of replica r is stage k of choice c on the next free GPUs. */
static void assert_stage(const pd_plan *p, const pd_stage *g, uint32_t r, int64_t k,
                         const pd_choice *c)
{
	int64_t base = p->model.layers / c->pp, extra = p->model.layers % c->pp;
	int64_t first = k * base + (k < extra ? k : extra), n = base + (k < extra);
	int64_t size = c->tp > c->ep ? c->tp : c->ep;
	CU_ASSERT_EQUAL(g->first_layer, first);
	CU_ASSERT_EQUAL(g->last_layer, first + n - 1);
	CU_ASSERT_EQUAL(g->tp, c->tp);
	CU_ASSERT_EQUAL(g->sp, c->sp);
	CU_ASSERT_EQUAL(g->ep, c->ep);
	CU_ASSERT_EQUAL(g->redundant, c->redundant);
	CU_ASSERT_EQUAL(g->n_gpus, (uint32_t)size);
	CU_ASSERT_EQUAL(g->gpus[0], ((int64_t)r * c->pp + k) * size);
	if (!pd_model_layer_is_moe(&p->model, first))
		CU_ASSERT_EQUAL(pd_stage_dense_tp(g), c->dense_tp);
	CU_ASSERT_EQUAL(g->has_dense_ffn,
	                c->dense_tp != c->tp && !pd_model_layer_is_moe(&p->model, first));
}

/* text parses, expands and (sound: validates without an error to) exactly c. */
static pd_plan *assert_is_choice(const char *text, const pd_choice *c, bool sound)
{
	pd_plan *p = NULL;
	pd_analysis an;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_status s = pd_test_load_text(text, "suggested.xml", &p, &an, &dl);
	if (sound && (s != PD_OK || dl.errors > 0)) {
		fprintf(stderr, "%s\n", text);
		pd_test_dump_diags(&dl);
	}
	if (sound) {
		CU_ASSERT_EQUAL(s, PD_OK);
		CU_ASSERT_EQUAL(dl.errors, 0);
	}
	pd_diag_list_release(&dl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	const pd_strategy *st = &p->strategy;
	CU_ASSERT_EQUAL_FATAL(st->n_replicas, (uint32_t)c->dp);
	for (uint32_t r = 0; r < st->n_replicas; r++) {
		CU_ASSERT_EQUAL_FATAL(st->replicas[r].n_stages, (uint32_t)c->pp);
		for (int64_t k = 0; k < c->pp; k++)
			assert_stage(p, &st->replicas[r].stages[k], r, k, c);
	}
	CU_ASSERT_EQUAL(p->workload.micro_batches, c->micro_batches);
	CU_ASSERT_EQUAL(p->workload.overlap_two_batch, c->two_batch);
	CU_ASSERT(st->has_declared_gpus);
	CU_ASSERT_EQUAL(st->declared_gpus, c->dp * c->pp * (c->tp > c->ep ? c->tp : c->ep));
	return p;
}

/* Every comment of the original outside <strategy> is in text, and the original up to
 * its first <workload> or <strategy> is the text's beginning. */
static void assert_rest_kept(const char *rel, const char *text)
{
	char *orig = pd_test_read_file(pd_test_path(rel), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
	const char *st = strstr(orig, "<strategy"), *en = strstr(orig, "</strategy>");
	const char *wl = strstr(orig, "<workload");
	const char *first = wl && wl < st ? wl : st;
	/* back to the line start: a comment may be inserted before the element's line */
	while (first > orig && first[-1] != '\n')
		first--;
	CU_ASSERT_EQUAL(strncmp(orig, text, (size_t)(first - orig)), 0);
	for (const char *c = strstr(orig, "<!--"); c; c = strstr(c + 4, "<!--")) {
		if (c > st && (!en || c < en))
			continue;
		const char *e = strstr(c, "-->");
		CU_ASSERT_PTR_NOT_NULL_FATAL(e);
		char *comment = strndup(c, (size_t)(e + 3 - c));
		CU_ASSERT_PTR_NOT_NULL(strstr(text, comment));
		free(comment);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
	free(orig);
}

static int count(const char *text, const char *needle)
{
	int n = 0;
	for (const char *s = strstr(text, needle); s; s = strstr(s + 1, needle))
		n++;
	return n;
}

/* Writes c for rel, checks it all; returns the text (freed by the caller). */
static char *check_choice(const char *rel, pd_choice c, bool sound)
{
	pd_plan *orig = load(rel);
	char *text = write_for(rel, orig, &c, "the fewest GPUs that meet every target");
	pd_plan_destroy(assert_is_choice(text, &c, sound));
	assert_rest_kept(rel, text);
	bool wl = c.micro_batches != orig->workload.micro_batches ||
	          c.two_batch != orig->workload.overlap_two_batch;
	CU_ASSERT_EQUAL(count(text, "<!-- plandag suggest: micro-batches") +
	                    count(text, "<!-- plandag suggest: overlap"),
	                wl);
	CU_ASSERT_EQUAL(count(text, "<!-- plandag suggest: strategy was"), 1);
	pd_plan_destroy(orig);
	return text;
}

static void write_should_rewrite_the_seed_plans_shorthand(void)
{
	const char *rel = "examples/moe-10b-multiplicative.xml";
	char *t = check_choice(rel, CHOICE(1, 2, 1, false, 1, 16, 0, 1, false), true);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "<!-- plandag suggest: strategy was dp=1 pp=2 tp=4 "
	                                 "ep=16 (declared 128 GPUs, really 32); now 32 GPUs: "
	                                 "DP 1 x PP 2 x TP 1, EP 16 (the fewest GPUs"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t,
	                              "\n  <strategy gpus=\"32\">\n    <replica count=\"1\">\n"
	                              "      <stage layers=\"0-7\">\n"
	                              "        <attention tp=\"1\" sp=\"false\"/>\n"
	                              "        <moe ep=\"16\"/>\n      </stage>\n"
	                              "      <stage layers=\"8-15\">\n"));
	CU_ASSERT_PTR_NULL(strstr(t, "dp=\"1\" pp=\"2\"")); /* the shorthand is gone */
	free(t);
	t = check_choice(rel, CHOICE(1, 2, 1, false, 1, 16, 0, 4, false), true);
	/* the workload line as written, only its micro-batches changed */
	char *o = pd_test_read_file(pd_test_path(rel), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	const char *wl = strstr(o, "  <workload "), *mb = strstr(wl, "micro-batches=\"1\"/>\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	char want[512];
	snprintf(want, sizeof(want), "<!-- plandag suggest: micro-batches 1 -> 4 -->\n%.*s%s",
	         (int)(mb - wl), wl, "micro-batches=\"4\"/>\n  <!-- plandag suggest: strategy");
	CU_ASSERT_PTR_NOT_NULL(strstr(t, want));
	free(o);
	free(t);
	t = check_choice(rel, CHOICE(1, 2, 2, false, 2, 16, 0, 1, true), true);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "overlap none -> two-batch"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "micro-batches=\"1\" overlap=\"two-batch\"/>"));
	free(t);
}

static void write_should_rewrite_mixtral_and_dense_strategies(void)
{
	free(check_choice("examples/mixtral-8x7b-tp2-ep8.xml",
	                  CHOICE(1, 2, 1, false, 1, 4, 0, 2, false), true));
	free(check_choice("examples/mixtral-8x7b-tp2-ep8.xml",
	                  CHOICE(2, 1, 4, true, 4, 4, 0, 1, false), true));
	/* dense model: no <moe>, and <dense-ffn> only where its TP differs */
	char *t = check_choice("examples/dense-70b-pp2-tp8-sp.xml",
	                       CHOICE(1, 4, 4, false, 4, 1, 0, 2, false), true);
	CU_ASSERT_PTR_NULL(strstr(strstr(t, "<strategy"), "<moe"));
	CU_ASSERT_PTR_NULL(strstr(strstr(t, "<strategy"), "<dense-ffn"));
	CU_ASSERT_PTR_NULL(strstr(t, "plandag suggest: micro-batches")); /* 2 stays 2 */
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "<stage layers=\"60-79\">"));
	free(t);
	t = check_choice("examples/dense-70b-pp2-tp8-sp.xml",
	                 CHOICE(1, 3, 4, true, 2, 1, 0, 1, false), true);
	CU_ASSERT_EQUAL(count(t, "<dense-ffn tp=\"2\"/>"), 3); /* 80 over 3: 27, 27, 26 */
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "<stage layers=\"54-79\">"));
	free(t);
}

static void write_should_keep_deepseek_dense_tp_sp_and_redundant_experts(void)
{
	const char *pre = "examples/deepseek-v3-prefill-32-h800.xml";
	/* the plan's own strategy at 2 micro-batches: only <workload> changes */
	pd_plan *orig = load(pre);
	pd_choice same = CHOICE(1, 1, 4, true, 1, 32, 32, 2, false);
	char *t = write_for(pre, orig, &same, "why");
	pd_plan_destroy(assert_is_choice(t, &same, true));
	CU_ASSERT_PTR_NULL(strstr(t, "strategy was"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "<stage layers=\"0-60\" gpus=\"0-31\">"));
	CU_ASSERT_EQUAL(count(t, "plandag suggest:"), 1);
	free(t);
	/* unchanged altogether: the text is the original */
	same.micro_batches = 1;
	t = write_for(pre, orig, &same, "why");
	char *o = pd_test_read_file(pd_test_path(pre), NULL);
	CU_ASSERT_STRING_EQUAL(t, o);
	free(o);
	free(t);
	pd_plan_destroy(orig);
	/* 2 stages: only the first holds the 3 dense layers, so only it gets <dense-ffn> */
	t = check_choice(pre, CHOICE(1, 2, 4, true, 1, 16, 32, 1, false), true);
	CU_ASSERT_EQUAL(count(strstr(t, "<strategy"), "<dense-ffn tp=\"1\"/>"), 1);
	CU_ASSERT_EQUAL(count(strstr(t, "<strategy"), "redundant-experts=\"32\""), 2);
	free(t);
	/* decode on 320 GPUs without SP, the dense layers at TP 1, two-batch overlap */
	pd_choice dec = CHOICE(1, 1, 4, false, 1, 320, 64, 1, true);
	t = check_choice("examples/deepseek-v3-decode-320-h800.xml", dec, true);
	char want[400], desc[200];
	snprintf(want, sizeof(want),
	         "<!-- plandag suggest: strategy was dp=1 pp=1 tp=4 ep=320 sp redundant=64 "
	         "(320 GPUs); now 320 GPUs: %s (the fewest",
	         pd_choice_describe(&dec, desc, sizeof(desc)));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(desc, "dense TP 1"));
	free(t);
}

static void write_should_give_a_stage_of_dense_layers_its_moe(void)
{
	/* 61 layers over 21 stages: stage 0 holds layers 0-2 = the 3 dense layers only, and
	 * keeps <moe> so that it too has max(tp, ep) GPUs; `check` accepts it */
	const char *pre = "examples/deepseek-v3-prefill-32-h800.xml";
	pd_choice c = CHOICE(1, 21, 1, false, 1, 1, 0, 1, false);
	char *t = check_choice(pre, c, true);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "<stage layers=\"0-2\">\n        <attention tp=\"1\" "
	                                 "sp=\"false\"/>\n        <moe ep=\"1\"/>\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "<stage layers=\"3-5\">"));
	free(t);
	c = CHOICE(1, 21, 1, false, 1, 2, 0, 1, false); /* 42 GPUs: too many, but exact */
	t = check_choice(pre, c, false);
	CU_ASSERT_EQUAL(count(t, "<moe ep=\"2\"/>"), 21);
	free(t);
}

static void write_should_keep_a_hostile_why_inside_its_comment(void)
{
	const char *rel = "examples/moe-10b-multiplicative.xml";
	pd_plan *orig = load(rel);
	pd_choice c = CHOICE(1, 2, 1, false, 1, 16, 0, 1, false);
	const char *whys[] = {"a -- b --> <plan>&amp; <&> -->", "ends in -", "---",
	                      "line\nbreak\x01", "\xff\xfe not utf-8"};
	for (size_t i = 0; i < sizeof(whys) / sizeof(whys[0]); i++) {
		char *t = write_for(rel, orig, &c, whys[i]);
		pd_plan_destroy(assert_is_choice(t, &c, true));
		const char *cm = strstr(t, "<!-- plandag suggest: strategy");
		CU_ASSERT_PTR_NOT_NULL_FATAL(cm);
		const char *e = strstr(cm, "-->");
		CU_ASSERT_PTR_NOT_NULL_FATAL(e);
		CU_ASSERT_PTR_NULL(memchr(cm + 4, '\n', (size_t)(e - cm - 4))); /* one line */
		const char *dd = strstr(cm + 4, "--");
		CU_ASSERT_PTR_EQUAL(dd, e); /* no "--" before the end */
		CU_ASSERT(e[-1] != '-');
		free(t);
	}
	char *t = write_for(rel, orig, &c, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "EP 16 -->"));
	free(t);
	pd_plan_destroy(orig);
}

static void write_should_refuse_what_is_not_a_plan(void)
{
	pd_plan *p = load("examples/moe-10b-multiplicative.xml");
	pd_choice c = CHOICE(1, 1, 1, false, 1, 16, 0, 1, false);
	const char *bad[] = {
	    "",
	    "not xml at all",
	    "<?xml version=\"1.0\"?><notaplan><strategy/></notaplan>",
	    "<plan name=\"x\"><model/><cluster/></plan>",                  /* no strategy */
	    "<plan name=\"x\"><strategy></plan>",                          /* not well-formed */
	    "<!DOCTYPE plan [<!ENTITY e \"x\">]><plan><strategy/></plan>", /* DOCTYPE */
	    "<plan><strategy/><strategy/></plan>",                         /* two strategies */
	    "<plan><x><strategy/></x></plan>", /* not a child of plan */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = 7;
		CU_ASSERT_PTR_NULL(pd_search_plan_xml(p, bad[i], strlen(bad[i]), &c, "w", &n));
	}
	const char utf16[] = "<\0p\0l\0a\0n\0>\0";
	CU_ASSERT_PTR_NULL(pd_search_plan_xml(p, utf16, sizeof(utf16) - 1, &c, "w", NULL));
	const char *ok = "<plan><strategy/></plan>";
	CU_ASSERT_PTR_NULL(pd_search_plan_xml(NULL, ok, strlen(ok), &c, "w", NULL));
	CU_ASSERT_PTR_NULL(pd_search_plan_xml(p, NULL, 0, &c, "w", NULL));
	CU_ASSERT_PTR_NULL(pd_search_plan_xml(p, ok, strlen(ok), NULL, "w", NULL));
	pd_choice zero = c, deep = c;
	zero.tp = 0;
	deep.pp = 17; /* more stages than the 16 layers */
	CU_ASSERT_PTR_NULL(pd_search_plan_xml(p, ok, strlen(ok), &zero, "w", NULL));
	CU_ASSERT_PTR_NULL(pd_search_plan_xml(p, ok, strlen(ok), &deep, "w", NULL));
	/* a minimal document is a plan to the writer (the reader judges the rest) */
	char *t = pd_search_plan_xml(p, ok, strlen(ok), &c, "w", NULL);
	CU_ASSERT_PTR_NOT_NULL(t);
	CU_ASSERT_PTR_NOT_NULL(t ? strstr(t, "<plan><!-- plandag suggest: strategy") : NULL);
	free(t);
	pd_plan_destroy(p);
}

/* A plan of its own formatting: CRLF, tabs, single quotes, the strategy before the
 * workload, attributes over lines. */
static void write_should_follow_the_originals_formatting(void)
{
	const char *rel = "examples/moe-10b-multiplicative.xml";
	char *text = pd_test_read_file(pd_test_path(rel), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	const char *m = strstr(text, "<model"), *me = strstr(m, "/>") + 2;
	const char *cl = strstr(text, "<cluster"), *ce = strstr(cl, "/>") + 2;
	char lf[4096], doc[4096];
	snprintf(lf, sizeof(lf),
	         "<plan name='tabs'>\n\t<!-- mine -->\n\t<strategy gpus='32' dp='1' pp='2' "
	         "tp='4' ep='16'/>\n\t%.*s\n\t%.*s\n\t<workload\n\t\tbatch='256' "
	         "phase='decode'\n\t\toverlap='none' />\n</plan>\n",
	         (int)(me - m), m, (int)(ce - cl), cl);
	free(text);
	size_t k = 0;
	for (const char *s = lf; *s && k < sizeof(doc) - 2; s++) {
		if (*s == '\n')
			doc[k++] = '\r';
		doc[k++] = *s;
	}
	doc[k] = 0;
	pd_plan *p = NULL;
	pd_analysis an;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_test_load_text(doc, "tabs.xml", &p, &an, &dl);
	pd_diag_list_release(&dl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	pd_choice c = CHOICE(1, 2, 2, false, 2, 16, 0, 2, false);
	char *t = pd_search_plan_xml(p, doc, strlen(doc), &c, "w", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	pd_plan_destroy(assert_is_choice(t, &c, true));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(t, "<plan name='tabs'>\r\n\t<!-- mine -->\r\n\t<!-- plandag"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(t, "-->\r\n\t<strategy gpus=\"32\">\r\n\t\t<replica count="));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(t, "\t\t\t</stage>\r\n\t\t</replica>\r\n\t</strategy>\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t,
	                              "\t<!-- plandag suggest: micro-batches 1 -> 2 -->\r\n\t"
	                              "<workload\r\n\t\tbatch='256' phase='decode'\r\n\t\t"
	                              "overlap='none' micro-batches=\"2\" />"));
	CU_ASSERT_PTR_NULL(strstr(t, "\n\n")); /* no bare LF crept in */
	for (const char *s = strchr(t, '\n'); s; s = strchr(s + 1, '\n'))
		CU_ASSERT_EQUAL(s[-1], '\r');
	free(t);
	pd_plan_destroy(p);
}

/* No <workload>: one is made before <strategy>, with only what differs from the
 * defaults, so batch and context keep their defaults. */
static void write_should_add_a_workload_when_there_is_none(void)
{
	char *doc = pd_test_read_file(pd_test_path("examples/moe-10b-multiplicative.xml"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	char *wl = strstr(doc, "  <workload "), *end = wl ? strstr(wl, "/>\n") : NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(end);
	memmove(wl, end + 3, strlen(end + 3) + 1);
	pd_plan *p = NULL;
	pd_analysis an;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_test_load_text(doc, "no-workload.xml", &p, &an, &dl);
	pd_diag_list_release(&dl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	pd_choice c = CHOICE(1, 1, 1, false, 1, 16, 0, 1, true);
	char *t = pd_search_plan_xml(p, doc, strlen(doc), &c, "w", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	pd_plan *q = assert_is_choice(t, &c, false);
	CU_ASSERT_EQUAL(q->workload.batch, p->workload.batch);
	CU_ASSERT_EQUAL(q->workload.context, p->workload.context);
	pd_plan_destroy(q);
	CU_ASSERT_PTR_NOT_NULL(strstr(t,
	                              "  <!-- plandag suggest: overlap none -> two-batch -->\n"
	                              "  <workload overlap=\"two-batch\"/>\n"
	                              "  <!-- plandag suggest: strategy was"));
	free(t);
	pd_plan_destroy(p);
	free(doc);
}

static CU_TestInfo tests[] = {
    {"write_should_rewrite_the_seed_plans_shorthand",
     write_should_rewrite_the_seed_plans_shorthand},
    {"write_should_rewrite_mixtral_and_dense_strategies",
     write_should_rewrite_mixtral_and_dense_strategies},
    {"write_should_keep_deepseek_dense_tp_sp_and_redundant_experts",
     write_should_keep_deepseek_dense_tp_sp_and_redundant_experts},
    {"write_should_give_a_stage_of_dense_layers_its_moe",
     write_should_give_a_stage_of_dense_layers_its_moe},
    {"write_should_keep_a_hostile_why_inside_its_comment",
     write_should_keep_a_hostile_why_inside_its_comment},
    {"write_should_refuse_what_is_not_a_plan", write_should_refuse_what_is_not_a_plan},
    {"write_should_follow_the_originals_formatting",
     write_should_follow_the_originals_formatting},
    {"write_should_add_a_workload_when_there_is_none",
     write_should_add_a_workload_when_there_is_none},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"search_write", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
