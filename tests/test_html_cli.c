/* test_html_cli.c - `compile --emit html` the way a reviewer meets it: the page opened in
 * headless Chromium (its script runs, the views are there, a search finds nodes), no
 * URL of any kind in it, a plan too big to draw whole still gets the views that fit,
 * an invalid plan gets no page.
 *
 * Chromium runs through pd_run (never under PD_TEST_WRAPPER's valgrind), plandag
 * through pd_run_plandag. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define CHROMIUM "/usr/bin/chromium"
#define MOE_PLAN                                                                           \
	"tests/plans/valid/shared-dense-sp.xml" /* 2 stages, 8 GPUs, MoE + dense               \
	                                         */

static int no_chromium(void)
{
	return access(CHROMIUM, X_OK) != 0;
}

/* Compiles plan (a path) with --emit html into a fresh directory; returns the page's
 * text (malloc'd) and its path in *page, NULL when the compile failed. */
static char *compile_page(const char *plan, const char *tag, const char *name,
                          const char **page)
{
	const char *dir = pd_test_tmpdir(tag);
	pd_run_result r;
	int st = pd_run_plandag(&r, "compile", plan, "-o", dir, "--emit", "html", NULL);
	CU_ASSERT_EQUAL(st, 0);
	if (st != 0)
		fprintf(stderr, "\ncompile failed: %s\n", r.err);
	pd_run_release(&r);
	*page = pd_test_join(dir, name);
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0); /* no scratch picture left behind */
	return pd_test_read_file(*page, NULL);
}

/* Every "http://" and "https://" is the value of an xmlns attribute; no "//cdn". */
static int urls_only_in_xmlns(const char *text)
{
	if (strstr(text, "//cdn"))
		return 0;
	for (const char *p = text; (p = strstr(p, "http")) != NULL; p += 4) {
		if (strncmp(p, "http://", 7) != 0 && strncmp(p, "https://", 8) != 0)
			continue;
		size_t before = (size_t)(p - text);
		int ns = (before >= 7 && strncmp(p - 7, "xmlns=\"", 7) == 0) ||
		         (before >= 13 && strncmp(p - 13, "xmlns:xlink=\"", 13) == 0);
		if (!ns) {
			fprintf(stderr, "\nURL outside xmlns: %.60s\n", p);
			return 0;
		}
	}
	return 1;
}

/* The DOM Chromium dumps after loading file://page#fragment; NULL when it failed. */
static char *chromium_dom(const char *page, const char *fragment)
{
	char url[4200], profile[4200];
	snprintf(url, sizeof(url), "file://%s#%s", page, fragment);
	snprintf(profile, sizeof(profile), "--user-data-dir=%s",
	         pd_test_tmpdir("html-profile"));
	const char *argv[] = {
	    "/usr/bin/timeout", "120",   CHROMIUM,     "--headless", "--no-sandbox",
	    "--disable-gpu",    profile, "--dump-dom", url,          NULL};
	pd_run_result r;
	int st = pd_run(&r, argv);
	CU_ASSERT_EQUAL(st, 0);
	if (st != 0)
		fprintf(stderr, "\nchromium failed (%d): %.2000s\n", st, r.err);
	char *dom = st == 0 ? strdup(r.out) : NULL;
	pd_run_release(&r);
	return dom;
}

/* The hit count the page's search wrote into <span id="hits" data-count="N">, -1 if
 * none. */
static long hit_count(const char *dom)
{
	const char *p = strstr(dom, "id=\"hits\" data-count=\"");
	return p ? strtol(p + strlen("id=\"hits\" data-count=\""), NULL, 10) : -1;
}

/* Counts the drawn nodes whose label holds `word` (hit, or not hit) in the DOM. */
static void count_labelled(const char *dom, const char *word, long *hit, long *missed)
{
	*hit = *missed = 0;
	for (const char *p = strstr(dom, "<g id=\"node"); p;
	     p = strstr(p + 1, "<g id=\"node")) {
		const char *end = strstr(p, "</g>");
		const char *w = strstr(p, word);
		if (!end || !w || w > end)
			continue;
		const char *tag_end = strchr(p, '>');
		const char *h = strstr(p, "hit");
		if (h && h < tag_end)
			(*hit)++;
		else
			(*missed)++;
	}
}

static void html_page_should_load_in_chromium_with_its_views_and_find_searched_nodes(void)
{
	const char *page;
	char *text =
	    compile_page(pd_test_path(MOE_PLAN), "html-moe", "shared-dense-sp.html", &page);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_TRUE(urls_only_in_xmlns(text));
	CU_ASSERT_PTR_NULL(strstr(text, "<!DOCTYPE svg")); /* the SVG prolog is dropped */
	free(text);
	char *dom = chromium_dom(page, "search=ep_dispatch");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "<div id=\"status\">ok</div>"));
	static const char *const ids[] = {"view-overview", "view-stage-0", "view-stage-1",
	                                  "view-gpu-0",    "view-gpu-4",   "view-layer-0",
	                                  "view-layer-1"};
	char want[64];
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(want, sizeof(want), "id=\"%s\"", ids[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(dom, want));
	}
	/* every drawn ep_dispatch node is highlighted, and the count says how many */
	long hit, missed;
	count_labelled(dom, "ep_dispatch", &hit, &missed);
	CU_ASSERT_TRUE(hit > 0);
	CU_ASSERT_EQUAL(missed, 0);
	CU_ASSERT_EQUAL(hit_count(dom), hit);
	free(dom);
}

static void html_search_for_no_kind_should_find_nothing_and_open_the_named_view(void)
{
	const char *page;
	char *text =
	    compile_page(pd_test_path(MOE_PLAN), "html-none", "shared-dense-sp.html", &page);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	free(text);
	char *dom = chromium_dom(page, "search=nosuchkind&view=view-gpu-4");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	CU_ASSERT_PTR_NOT_NULL(strstr(dom, "<div id=\"status\">ok</div>"));
	CU_ASSERT_EQUAL(hit_count(dom), 0);
	/* the named view is shown, the overview hidden */
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(dom, "id=\"view-gpu-4\" data-title=\"GPU 4 (like 4 GPUs)\">"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(dom, "id=\"view-overview\" data-title=\"overview\" hidden"));
	free(dom);
}

/* One GPU, 700 dense layers: 4203 nodes, above the picture limit for an unfolded stage
 * or GPU picture; every layer is of one kind, so the folded views draw it once. */
static const char *DEEP_PLAN =
    "<plan name=\"deep-dense\">\n"
    "  <model name=\"deep\" layers=\"700\" hidden=\"256\" heads=\"4\" vocab=\"1000\" "
    "dense-ffn=\"512\"/>\n"
    "  <cluster nodes=\"1\" gpus-per-node=\"1\" gpu-memory=\"16GiB\"/>\n"
    "  <workload phase=\"decode\" batch=\"4\" context=\"128\" micro-batches=\"1\"/>\n"
    "  <strategy gpus=\"1\"><replica count=\"1\"><stage layers=\"0-699\" gpus=\"0\"/>"
    "</replica></strategy>\n"
    "</plan>\n";

static void html_page_of_a_plan_too_big_to_draw_whole_should_hold_its_folded_views(void)
{
	const char *dir = pd_test_tmpdir("html-deep");
	const char *plan = pd_test_join(dir, "deep.xml");
	CU_ASSERT_EQUAL_FATAL(pd_test_write_file(plan, DEEP_PLAN), 0);
	const char *page;
	char *text = compile_page(plan, "html-deep-out", "deep-dense.html", &page);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "id=\"view-overview\""));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, "id=\"view-layer-0\" data-title=\"layer 0 (like 700 layers)\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "id=\"view-stage-0\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "id=\"view-gpu-0\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "layers 0&#45;699 ×700"));
	CU_ASSERT_PTR_NULL(strstr(text, "above the picture limit"));
	CU_ASSERT_TRUE(urls_only_in_xmlns(text));
	free(text);
}

/* A pipeline of 40 one-GPU stages: 1 + 40 stage views + GPU and layer kinds. */
static char *pp40_plan(void)
{
	static char buf[8192];
	int n = snprintf(buf, sizeof(buf),
	                 "<plan name=\"pp40\">\n"
	                 "  <model name=\"pp\" layers=\"40\" hidden=\"256\" heads=\"4\" "
	                 "vocab=\"1000\" dense-ffn=\"512\"/>\n"
	                 "  <cluster nodes=\"5\" gpus-per-node=\"8\" gpu-memory=\"16GiB\"/>\n"
	                 "  <workload phase=\"decode\" batch=\"4\" context=\"128\" "
	                 "micro-batches=\"1\"/>\n"
	                 "  <strategy gpus=\"40\"><replica count=\"1\">\n");
	for (int i = 0; i < 40; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
		              "    <stage layers=\"%d-%d\" gpus=\"%d\"/>\n", i, i, i);
	snprintf(buf + n, sizeof(buf) - (size_t)n, "  </replica></strategy>\n</plan>\n");
	return buf;
}

static int count_of(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void html_page_should_hold_at_most_32_views_and_list_the_rest(void)
{
	const char *dir = pd_test_tmpdir("html-pp40");
	const char *plan = pd_test_join(dir, "pp40.xml");
	CU_ASSERT_EQUAL_FATAL(pd_test_write_file(plan, pp40_plan()), 0);
	const char *page;
	char *text = compile_page(plan, "html-pp40-out", "pp40.html", &page);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(count_of(text, "<section class=\"view\""), 32);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "id=\"view-stage-30\""));
	CU_ASSERT_PTR_NULL(strstr(text, "id=\"view-stage-31\""));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, "<li>stage 31: the page holds at most 32 views</li>"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, "<li>stage 39: the page holds at most 32 views</li>"));
	free(text);
}

/* With the timeline emitted in the same run the page embeds it as a view of its own;
 * without it there is none. */
static void html_should_embed_the_timeline_emitted_in_the_same_run(void)
{
	for (int with = 0; with < 2; with++) {
		const char *dir = pd_test_tmpdir("html-timeline");
		pd_run_result r;
		int st =
		    pd_run_plandag(&r, "compile", pd_test_path("examples/moe-10b-ep16.xml"), "-o",
		                   dir, "--emit", with ? "timeline,html" : "html", "-q", NULL);
		CU_ASSERT_EQUAL(st, 0);
		pd_run_release(&r);
		char *text = pd_test_read_file(pd_test_join(dir, "moe-10b-ep16.html"), NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		CU_ASSERT_EQUAL(strstr(text, "id=\"view-timeline\"") != NULL, with);
		free(text);
	}
}

static void html_should_not_be_written_for_an_invalid_plan(void)
{
	const char *dir = pd_test_tmpdir("html-invalid");
	pd_run_result r;
	int st = pd_run_plandag(&r, "compile",
	                        pd_test_path("tests/plans/invalid/ep-placement-divides.xml"),
	                        "-o", dir, "--emit", "html", NULL);
	CU_ASSERT_EQUAL(st, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "ep-placement-divides.xml"));
	CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 0);
	pd_run_release(&r);
}

static CU_TestInfo html_tests[] = {
    {"html_page_should_load_in_chromium_with_its_views_and_find_searched_nodes",
     html_page_should_load_in_chromium_with_its_views_and_find_searched_nodes},
    {"html_search_for_no_kind_should_find_nothing_and_open_the_named_view",
     html_search_for_no_kind_should_find_nothing_and_open_the_named_view},
    {"html_page_of_a_plan_too_big_to_draw_whole_should_hold_its_folded_views",
     html_page_of_a_plan_too_big_to_draw_whole_should_hold_its_folded_views},
    {"html_page_should_hold_at_most_32_views_and_list_the_rest",
     html_page_should_hold_at_most_32_views_and_list_the_rest},
    {"html_should_embed_the_timeline_emitted_in_the_same_run",
     html_should_embed_the_timeline_emitted_in_the_same_run},
    {"html_should_not_be_written_for_an_invalid_plan",
     html_should_not_be_written_for_an_invalid_plan},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"html", NULL, NULL, NULL, NULL, html_tests},
    CU_SUITE_INFO_NULL,
};

static const pd_test_skip skips[] = {
    {"html_page_should_load_in_chromium_with_its_views_and_find_searched_nodes",
     no_chromium, "no " CHROMIUM " (Debian package chromium, installed by .ci/deps)"},
    {"html_search_for_no_kind_should_find_nothing_and_open_the_named_view", no_chromium,
     "no " CHROMIUM " (Debian package chromium, installed by .ci/deps)"},
    {NULL, NULL, NULL},
};

PD_TEST_MAIN_SKIPPING(suites, skips)
