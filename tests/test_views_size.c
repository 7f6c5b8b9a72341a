/* test_views_size.c - every view of the DeepSeek-V3 examples and of the 1024-GPU bench
 * plan renders without refusal, within 8000 x 8000 px, at the renderer's native scale
 * (no Graphviz downscaling message; PNG pixels = SVG points x 96/72) with text of at
 * least 10 px (SVG font sizes of at least 7.5 pt).  One lowering per plan. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define MAX_PX 8000

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Width and height from the PNG's IHDR; 0 when unreadable. */
static int png_size(const char *path, uint32_t *w, uint32_t *h)
{
	size_t len = 0;
	char *d = pd_test_read_file(path, &len);
	int ok = d && len >= 24 && memcmp(d + 12, "IHDR", 4) == 0;
	if (ok) {
		*w = be32((const unsigned char *)d + 16);
		*h = be32((const unsigned char *)d + 20);
	}
	free(d);
	return ok;
}

/* The SVG's width in points and its smallest font size (pt). */
static void svg_facts(const char *path, double *width_pt, double *min_font)
{
	char *s = pd_test_read_file(path, NULL);
	*width_pt = 0;
	*min_font = 1e9;
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	const char *w = strstr(s, "<svg width=\"");
	if (w)
		*width_pt = atof(w + 12);
	for (const char *p = s; (p = strstr(p, "font-size=\"")) != NULL; p += 11) {
		double f = atof(p + 11);
		if (f < *min_font)
			*min_font = f;
	}
	free(s);
}

static void no_graphviz_message(const pd_diag_list *d, const char *view)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->items[i].message, "Graphviz") ||
		    strstr(d->items[i].message, "Scaling")) {
			fprintf(stderr, "\n%s: %s\n", view, d->items[i].message);
			CU_FAIL("Graphviz said something");
		}
}

/* Renders `view` of dag as PNG and SVG and checks the limits. */
static void check_view(const pd_dag *dag, const char *dir, const char *text)
{
	pd_view v;
	CU_ASSERT_EQUAL_FATAL(pd_view_parse(text, &v), PD_OK);
	char png[4096], svg[4096];
	snprintf(png, sizeof(png), "%s/%s.png", dir, text);
	snprintf(svg, sizeof(svg), "%s/%s.svg", dir, text);
	const char *formats[] = {"png", "svg"}, *paths[] = {png, svg};
	pd_diag_list d;
	pd_diag_list_init(&d);
	pd_status s = pd_export_render_many(dag, &v, 2, formats, paths, &d);
	if (s != PD_OK)
		pd_test_dump_diags(&d);
	CU_ASSERT_EQUAL(s, PD_OK);
	no_graphviz_message(&d, text);
	pd_diag_list_release(&d);
	uint32_t w = 0, h = 0;
	double pt = 0, font = 0;
	CU_ASSERT_TRUE(png_size(png, &w, &h));
	svg_facts(svg, &pt, &font);
	if (w > MAX_PX || h > MAX_PX || fabs(w - pt * 96 / 72) > 2 || font < 7.5)
		fprintf(stderr, "\n%s: %u x %u px, %.0f pt wide, smallest font %.1f pt\n", text, w,
		        h, pt, font);
	CU_ASSERT(w > 0 && w <= MAX_PX);
	CU_ASSERT(h > 0 && h <= MAX_PX);
	CU_ASSERT(fabs(w - pt * 96 / 72) <= 2); /* native scale */
	CU_ASSERT(font >= 7.5);                 /* 10 px at 96 dpi */
}

/* What every overview's legend explains: the marks the picture uses (SVG text, '-'
 * written &#45;). */
static const char *const LEGEND[] = {"a GPU (×N: N identical)",
                                     "memory used / capacity",
                                     "TP group (box): its GPUs",
                                     "EP all&#45;to&#45;all (one per stage",
                                     "pipeline p2p / KV hand&#45;over:",
                                     "bytes this link carries per step",
                                     NULL};

static void svg_has(const char *dir, const char *file, const char *const want[])
{
	char *svg = pd_test_read_file(pd_test_join(dir, file), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
	for (size_t i = 0; want[i]; i++) {
		if (!strstr(svg, want[i]))
			fprintf(stderr, "\n%s lacks '%s'\n", file, want[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(svg, want[i]));
	}
	CU_ASSERT_PTR_NULL(strstr(svg, "ring"));
	CU_ASSERT_PTR_NULL(strstr(svg, "too many to label"));
	free(svg);
}

/* Renders every view; the overview's SVG holds LEGEND and `overview` (NULL-ended). */
static void check_plan(const char *rel, const char *tag, const char *const views[],
                       const char *const overview[])
{
	pd_compile_options opt = {.lower = 1};
	pd_compilation c;
	pd_compile_file(pd_test_path(rel), &opt, &c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.dag);
	const char *dir = pd_test_tmpdir(tag);
	for (size_t i = 0; views[i]; i++)
		check_view(c.dag, dir, views[i]);
	svg_has(dir, "overview.svg", LEGEND);
	svg_has(dir, "overview.svg", overview);
	pd_compilation_release(&c);
}

static void views_of_deepseek_prefill_should_fit_at_native_scale(void)
{
	static const char *const v[] = {"overview", "stage=0", "gpu=0",    "gpu=31",
	                                "layer=0",  "layer=3", "layer=60", NULL};
	/* EP 32 as one hub joined to its GPUs, TP 4 as boxes, memory against capacity */
	static const char *const ov[] = {"EP all&#45;to&#45;all: 32 GPUs",
	                                 "per GPU per step",
	                                 "TP 4: GPUs 0&#45;3",
	                                 "TP 4: GPUs 28&#45;31",
	                                 "GPU 31",
	                                 "/ 80.00 GB",
	                                 NULL};
	check_plan("examples/deepseek-v3-prefill-32-h800.xml", "size-prefill", v, ov);
}

static void views_of_deepseek_decode_320_should_fit_at_native_scale(void)
{
	static const char *const v[] = {"overview", "stage=0", "gpu=0",    "gpu=319",
	                                "layer=0",  "layer=3", "layer=60", NULL};
	static const char *const ov[] = {"EP all&#45;to&#45;all: all 320 GPUs of this stage",
	                                 "(×40)", "/ 80.00 GB", NULL};
	check_plan("examples/deepseek-v3-decode-320-h800.xml", "size-decode", v, ov);
}

static void views_of_the_1024_gpu_bench_plan_should_fit_at_native_scale(void)
{
	static const char *const v[] = {"overview", "stage=0", "gpu=0", "gpu=1023",
	                                "layer=0",  "layer=3", NULL};
	/* four identical replicas drawn once, every GPU of it labelled */
	static const char *const ov[] = {"replicas 0&#45;3 (×4)",
	                                 "EP all&#45;to&#45;all: all 256 GPUs of this stage",
	                                 "GPU 255", "TP 4: GPUs 252&#45;255", NULL};
	check_plan("bench/plans/large.xml", "size-large", v, ov);
}

static CU_TestInfo tests[] = {
    {"views_of_deepseek_prefill_should_fit_at_native_scale",
     views_of_deepseek_prefill_should_fit_at_native_scale},
    {"views_of_deepseek_decode_320_should_fit_at_native_scale",
     views_of_deepseek_decode_320_should_fit_at_native_scale},
    {"views_of_the_1024_gpu_bench_plan_should_fit_at_native_scale",
     views_of_the_1024_gpu_bench_plan_should_fit_at_native_scale},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"view sizes", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
