/* test_search_pareto.c - pd_search_pareto_png: suggest's chart, read back with cairo.
 *
 * Results are built by hand (pd_search_result is a plain struct); the PNG is decoded
 * and its pixels counted by colour, in the plot area below the legend (y >= PLOT_TOP)
 * so that the legend's own marks do not count. */
#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plandag/search.h"
#include "testutil.h"

#define WIDTH 1000 /* docs/suggest.md */
#define HEIGHT 680
#define PLOT_TOP 75

#define FRONTIER 0xe8912du
#define WINNER 0xc0392bu
#define MEETS 0x2f6db5u
#define MISSES 0x8c8ca8u

typedef struct picture {
	int w, h;
	long frontier, winner, meets, misses, ink; /* pixels in the plot area */
	double winner_x, winner_y;                 /* centre of the winner's pixels */
} picture;

static picture look(const char *path)
{
	picture p = {0};
	cairo_surface_t *s = cairo_image_surface_create_from_png(path);
	CU_ASSERT_EQUAL_FATAL(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
	p.w = cairo_image_surface_get_width(s), p.h = cairo_image_surface_get_height(s);
	const unsigned char *d = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);
	for (int y = PLOT_TOP; y < p.h; y++)
		for (int x = 0; x < p.w; x++) {
			uint32_t px;
			memcpy(&px, d + (size_t)y * (size_t)stride + (size_t)x * 4, 4);
			px &= 0xffffff;
			p.frontier += px == FRONTIER, p.meets += px == MEETS, p.misses += px == MISSES;
			p.ink += px != 0xffffff;
			if (px == WINNER)
				p.winner++, p.winner_x += x, p.winner_y += y;
		}
	if (p.winner)
		p.winner_x /= (double)p.winner, p.winner_y /= (double)p.winner;
	cairo_surface_destroy(s);
	return p;
}

static pd_candidate cand(int64_t gpus, double per_gpu, bool meets)
{
	return (pd_candidate){
	    .choice =
	        {.dp = 1, .pp = 1, .tp = 1, .dense_tp = 1, .ep = gpus, .micro_batches = 1},
	    .gpus = gpus,
	    .tokens_per_ms = per_gpu * (double)gpus / 1000,
	    .tokens_per_s_per_gpu = per_gpu,
	    .step_latency_us = 1000,
	    .ttft_ms = NAN,
	    .tpot_ms = 1,
	    .peak_memory_fraction = 0.5,
	    .meets_targets = meets};
}

static const char *draw(const pd_search_result *res, const char *name)
{
	const char *path = pd_test_join(pd_test_tmpdir("search_pareto"), name);
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	CU_ASSERT_EQUAL(pd_search_pareto_png(res, "test-plan", path, &dl), PD_OK);
	CU_ASSERT_EQUAL(dl.errors, 0);
	pd_diag_list_release(&dl);
	return path;
}

static void pareto_should_draw_candidates_frontier_and_winner(void)
{
	pd_candidate c[40];
	uint32_t n = 0;
	for (int64_t g = 1; g <= 512; g *= 2) /* 10 GPU counts: a log axis */
		for (int k = 0; k < 4; k++)
			c[n++] = cand(g, 100.0 * (4 - k) / (double)(1 + g / 64), k != 3);
	uint32_t front[] = {0, 24};       /* 1 GPU at 400, 64 GPUs at 400: no, 64/64+1 -> 200 */
	c[24].tokens_per_s_per_gpu = 450; /* 64 GPUs, the best per GPU */
	pd_search_result res = {.candidates = c,
	                        .n_candidates = n,
	                        .frontier = front,
	                        .n_frontier = 2,
	                        .best = 0,
	                        .reachable = true};
	picture p = look(draw(&res, "full.png"));
	CU_ASSERT_EQUAL(p.w, WIDTH);
	CU_ASSERT_EQUAL(p.h, HEIGHT);
	CU_ASSERT(p.frontier > 100); /* the line and its dots */
	CU_ASSERT(p.winner > 100);   /* the diamond */
	CU_ASSERT(p.meets > 50);
	CU_ASSERT(p.misses > 10);
	CU_ASSERT(p.ink > WIDTH * HEIGHT / 100);
	/* the winner has the fewest GPUs: on the left, and high (400 of 450) */
	CU_ASSERT(p.winner_x < WIDTH / 4.0);
	CU_ASSERT(p.winner_y < HEIGHT / 3.0);
	/* without a winner no diamond, without a frontier no orange */
	res.best = -1;
	res.n_frontier = 0;
	p = look(draw(&res, "no-winner.png"));
	CU_ASSERT_EQUAL(p.winner, 0);
	CU_ASSERT_EQUAL(p.frontier, 0);
	CU_ASSERT(p.meets > 50);
	/* a candidate that misses a target changes colour */
	for (uint32_t i = 0; i < n; i++)
		c[i].meets_targets = false;
	picture q = look(draw(&res, "all-miss.png"));
	CU_ASSERT_EQUAL(q.meets, 0);
	CU_ASSERT(q.misses > p.misses);
}

static void pareto_should_draw_degenerate_results(void)
{
	/* nothing passed: axes and the words, no marks */
	pd_search_result none = {.best = -1};
	picture p = look(draw(&none, "none.png"));
	CU_ASSERT_EQUAL(p.w, WIDTH);
	CU_ASSERT(p.ink > 2000); /* axes, ticks, labels, the message */
	CU_ASSERT_EQUAL(p.meets + p.winner + p.frontier + p.misses, 0);
	/* one candidate, the frontier and the winner */
	pd_candidate one = cand(8, 120, true);
	uint32_t f0 = 0;
	pd_search_result single = {.candidates = &one,
	                           .n_candidates = 1,
	                           .frontier = &f0,
	                           .n_frontier = 1,
	                           .best = 0,
	                           .reachable = true};
	p = look(draw(&single, "one.png"));
	CU_ASSERT(p.winner > 100);
	CU_ASSERT(p.winner_x > WIDTH / 4.0 && p.winner_x < WIDTH * 3 / 4.0); /* centred */
	/* every candidate on the same GPU count, one without figures, a bad index */
	pd_candidate same[5] = {cand(16, 10, true), cand(16, 20, true), cand(16, 30, false),
	                        cand(16, NAN, true), cand(16, 5, true)};
	uint32_t f[] = {2, 1, 99};
	pd_search_result col = {
	    .candidates = same, .n_candidates = 5, .frontier = f, .n_frontier = 3, .best = 1};
	p = look(draw(&col, "same-gpus.png"));
	CU_ASSERT(p.winner > 100);
	CU_ASSERT(p.frontier > 50);
	CU_ASSERT(p.meets > 10);
	/* a winner index past the candidates draws no winner (and does not crash) */
	col.best = 12;
	p = look(draw(&col, "bad-best.png"));
	CU_ASSERT_EQUAL(p.winner, 0);
}

static void pareto_should_report_an_unwritable_path_and_leave_nothing(void)
{
	pd_candidate one = cand(8, 120, true);
	pd_search_result res = {.candidates = &one, .n_candidates = 1, .best = 0};
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	/* a directory that does not exist */
	CU_ASSERT_EQUAL(pd_search_pareto_png(&res, "t", "/nonexistent-plandag-dir/x.png", &dl),
	                PD_IO);
	CU_ASSERT(pd_test_find_diag(&dl, "io", 0) >= 0);
	CU_ASSERT(dl.errors == 1);
	/* a name taken by a directory: the drawing is done, the rename fails, the
	 * temporary file goes */
	const char *dir = pd_test_tmpdir("search_pareto_unwritable");
	const char *taken = pd_test_join(dir, "x.png");
	CU_ASSERT_EQUAL_FATAL(mkdir(taken, 0755), 0);
	CU_ASSERT_EQUAL(pd_search_pareto_png(&res, "t", taken, &dl), PD_IO);
	CU_ASSERT(dl.errors == 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(dl.items[dl.n - 1].message, "x.png"));
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0);
	CU_ASSERT_EQUAL(pd_test_dir_entries(dir), 1); /* only the directory */
	struct stat st;
	CU_ASSERT(stat(taken, &st) == 0 && S_ISDIR(st.st_mode));
	pd_diag_list_release(&dl);
}

static CU_TestInfo tests[] = {
    {"pareto_should_draw_candidates_frontier_and_winner",
     pareto_should_draw_candidates_frontier_and_winner},
    {"pareto_should_draw_degenerate_results", pareto_should_draw_degenerate_results},
    {"pareto_should_report_an_unwritable_path_and_leave_nothing",
     pareto_should_report_an_unwritable_path_and_leave_nothing},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"search_pareto", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
