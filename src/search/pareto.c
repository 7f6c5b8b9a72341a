/* pareto.c - suggest's chart (pd_search_pareto_png): every candidate as GPUs against
 * tokens/s per GPU, the Pareto frontier joined, the winner marked and labelled.
 *
 * Drawn with cairo on a W x H RGB image (docs/suggest.md says what each mark means):
 *
 *   title      the plan and how many strategies passed the rules
 *   legend     a row under the title naming every mark
 *   x axis     GPUs: logarithmic with ticks at powers of two when the largest count is
 *              more than 16 times the smallest, else linear; "GPUs"
 *   y axis     tokens/s per GPU from 0, linear; "tokens/s per GPU"
 *   marks      small blue dot: meets every target; small hollow grey-violet circle: misses
 * one; orange line and dots: the frontier in ascending GPUs, each point labelled with
 * its step latency (the frontier's third criterion; labels that would overlap are left
 * out); large red diamond: the winner (res->best), labelled with pd_choice_describe
 *
 * Candidates without a finite figure are left out; no candidate at all leaves the axes
 * and the words "no strategy passed the rules".  Ticks follow pd_i_nice_step, the tick
 * rule of the timeline too.  The file is written through pd_atomic_file.
 */
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plandag/atomic_file.h"
#include "plandag/search.h"
#include "util/util.h"

#define W 1000
#define H 680
#define LEFT 90
#define RIGHT 30
#define TOP 80
#define BOTTOM 70
#define FONT 12.0
#define DOT 3.0
#define FRONTIER_DOT 4.5
#define WINNER 11.0
#define PI 3.14159265358979323846

typedef struct rgb {
	double r, g, b;
} rgb;

static rgb hex(unsigned c)
{
	return (rgb){((c >> 16) & 255) / 255.0, ((c >> 8) & 255) / 255.0, (c & 255) / 255.0};
}

#define C_MEETS 0x2f6db5u
#define C_MISSES 0x8c8ca8u
#define C_FRONTIER 0xe8912du
#define C_WINNER 0xc0392bu
#define C_GRID 0xe6e6e6u
#define C_AXIS 0x606060u
#define C_TEXT 0x1a1a1au

static void colour(cairo_t *cr, unsigned c)
{
	rgb x = hex(c);
	cairo_set_source_rgb(cr, x.r, x.g, x.b);
}

/* ---- scales ---- */

typedef struct scale {
	double lo, hi; /* data range */
	bool log;      /* log2 */
	double p0, p1; /* pixels of lo and hi */
} scale;

static double px(const scale *s, double v)
{
	double t = s->log ? (log2(v) - log2(s->lo)) / (log2(s->hi) - log2(s->lo))
	                  : (v - s->lo) / (s->hi - s->lo);
	return s->p0 + t * (s->p1 - s->p0);
}

static bool drawable(const pd_candidate *k)
{
	return k->gpus > 0 && isfinite(k->tokens_per_s_per_gpu) && k->tokens_per_s_per_gpu >= 0;
}

static scale x_scale(const pd_search_result *res)
{
	double lo = INFINITY, hi = 0;
	for (uint32_t i = 0; i < res->n_candidates; i++)
		if (drawable(&res->candidates[i])) {
			lo = fmin(lo, (double)res->candidates[i].gpus);
			hi = fmax(hi, (double)res->candidates[i].gpus);
		}
	scale s = {.p0 = LEFT, .p1 = W - RIGHT};
	if (hi == 0)
		lo = 1, hi = 16;
	if (hi > 16 * lo) {
		s.log = true, s.lo = lo / 1.3, s.hi = hi * 1.3;
	} else if (hi == lo) {
		s.lo = lo - 1, s.hi = hi + 1;
	} else {
		double pad = (hi - lo) * 0.06;
		s.lo = fmax(0, lo - pad), s.hi = hi + pad;
	}
	return s;
}

static scale y_scale(const pd_search_result *res)
{
	double hi = 0;
	for (uint32_t i = 0; i < res->n_candidates; i++)
		if (drawable(&res->candidates[i]))
			hi = fmax(hi, res->candidates[i].tokens_per_s_per_gpu);
	return (scale){.lo = 0, .hi = hi > 0 ? hi * 1.12 : 1, .p0 = H - BOTTOM, .p1 = TOP};
}

/* ---- text ---- */

static double text_width(cairo_t *cr, const char *s)
{
	cairo_text_extents_t e;
	cairo_text_extents(cr, s, &e);
	return e.x_advance;
}

/* Text with its baseline at y; align 0 left, 0.5 centred, 1 right of x. */
static void text(cairo_t *cr, double x, double y, const char *s, double align)
{
	colour(cr, C_TEXT);
	cairo_move_to(cr, x - align * text_width(cr, s), y);
	cairo_show_text(cr, s);
}

/* ---- axes ---- */

static void grid_line(cairo_t *cr, double x0, double y0, double x1, double y1, unsigned c)
{
	colour(cr, c);
	cairo_set_line_width(cr, 1);
	cairo_move_to(cr, x0, y0);
	cairo_line_to(cr, x1, y1);
	cairo_stroke(cr);
}

static void x_tick(cairo_t *cr, const scale *y, double x, double v)
{
	char s[32];
	grid_line(cr, x, y->p1, x, y->p0, C_GRID);
	grid_line(cr, x, y->p0, x, y->p0 + 5, C_AXIS);
	snprintf(s, sizeof(s), "%.0f", v);
	text(cr, x, y->p0 + 19, s, 0.5);
}

/* Powers of two on a log axis (every other one, or sparser, beyond 12 ticks); 1-2-5
 * steps of whole GPUs on a linear one. */
static void x_axis(cairo_t *cr, const scale *x, const scale *y)
{
	if (x->log) {
		int first = (int)ceil(log2(x->lo)), last = (int)floor(log2(x->hi)), every = 1;
		while ((last - first) / every > 12)
			every *= 2;
		for (int e = first; e <= last; e += every)
			x_tick(cr, y, px(x, ldexp(1, e)), ldexp(1, e));
	} else {
		double step = fmax(1, pd_i_nice_step(x->hi - x->lo, 10));
		for (double v = ceil(x->lo / step) * step; v <= x->hi; v += step)
			x_tick(cr, y, px(x, v), v);
	}
	grid_line(cr, x->p0, y->p0, x->p1, y->p0, C_AXIS);
	text(cr, (x->p0 + x->p1) / 2, H - 22, x->log ? "GPUs (log scale)" : "GPUs", 0.5);
}

static void y_axis(cairo_t *cr, const scale *x, const scale *y)
{
	char s[32];
	double step = pd_i_nice_step(y->hi, 8);
	for (double v = 0; v <= y->hi; v += step) {
		double p = px(y, v);
		grid_line(cr, x->p0, p, x->p1, p, C_GRID);
		grid_line(cr, x->p0 - 5, p, x->p0, p, C_AXIS);
		snprintf(s, sizeof(s), "%g", v);
		text(cr, x->p0 - 8, p + 4, s, 1);
	}
	grid_line(cr, x->p0, y->p0, x->p0, y->p1, C_AXIS);
	cairo_save(cr);
	cairo_move_to(cr, 24, (y->p0 + y->p1) / 2 + text_width(cr, "tokens/s per GPU") / 2);
	cairo_rotate(cr, -PI / 2);
	colour(cr, C_TEXT);
	cairo_show_text(cr, "tokens/s per GPU");
	cairo_restore(cr);
}

/* ---- marks ---- */

static void dot(cairo_t *cr, double x, double y, double r, unsigned c, bool hollow)
{
	cairo_new_sub_path(cr);
	cairo_arc(cr, x, y, r, 0, 2 * PI);
	colour(cr, c);
	if (hollow) {
		cairo_set_line_width(cr, 1.6);
		cairo_stroke(cr);
	} else {
		cairo_fill(cr);
	}
}

static void diamond(cairo_t *cr, double x, double y, double r)
{
	cairo_move_to(cr, x, y - r);
	cairo_line_to(cr, x + r, y);
	cairo_line_to(cr, x, y + r);
	cairo_line_to(cr, x - r, y);
	cairo_close_path(cr);
	colour(cr, C_WINNER);
	cairo_fill_preserve(cr);
	colour(cr, 0x5a1a12);
	cairo_set_line_width(cr, 1);
	cairo_stroke(cr);
}

static void candidates(cairo_t *cr, const pd_search_result *res, const scale *x,
                       const scale *y)
{
	for (int meets = 0; meets <= 1; meets++) /* the misses underneath */
		for (uint32_t i = 0; i < res->n_candidates; i++) {
			const pd_candidate *k = &res->candidates[i];
			if (drawable(k) && k->meets_targets == meets)
				dot(cr, px(x, (double)k->gpus), px(y, k->tokens_per_s_per_gpu), DOT,
				    meets ? C_MEETS : C_MISSES, !meets);
		}
}

static void frontier(cairo_t *cr, const pd_search_result *res, const scale *x,
                     const scale *y)
{
	bool started = false;
	for (uint32_t i = 0; i < res->n_frontier; i++) {
		uint32_t f = res->frontier[i];
		if (f >= res->n_candidates || !drawable(&res->candidates[f]))
			continue;
		const pd_candidate *k = &res->candidates[f];
		double a = px(x, (double)k->gpus), b = px(y, k->tokens_per_s_per_gpu);
		started ? cairo_line_to(cr, a, b) : cairo_move_to(cr, a, b);
		started = true;
	}
	colour(cr, C_FRONTIER);
	cairo_set_line_width(cr, 2.5);
	cairo_stroke(cr);
	for (uint32_t i = 0; i < res->n_frontier; i++) {
		uint32_t f = res->frontier[i];
		if (f < res->n_candidates && drawable(&res->candidates[f]))
			dot(cr, px(x, (double)res->candidates[f].gpus),
			    px(y, res->candidates[f].tokens_per_s_per_gpu), FRONTIER_DOT, C_FRONTIER,
			    false);
	}
}

#define MAX_LABELS 64

typedef struct box {
	double x0, y0, x1, y1;
} box;

static bool overlaps(const box *a, const box *b)
{
	return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/* Each frontier point labelled with its step (TPOT in decode, TTFT in prefill: the
 * frontier's third criterion), above it; a label that would overlap one already drawn
 * is left out. */
static void frontier_labels(cairo_t *cr, const pd_search_result *res, const scale *x,
                            const scale *y)
{
	box drawn[MAX_LABELS];
	int n = 0;
	cairo_set_font_size(cr, FONT - 2);
	for (uint32_t i = 0; i < res->n_frontier && n < MAX_LABELS; i++) {
		uint32_t f = res->frontier[i];
		if (f >= res->n_candidates || (int64_t)f == res->best ||
		    !drawable(&res->candidates[f]) || !isfinite(res->candidates[f].step_latency_us))
			continue; /* the winner's own label says its step */
		const pd_candidate *k = &res->candidates[f];
		char s[32];
		snprintf(s, sizeof(s), "%.3g ms", k->step_latency_us / 1000.0);
		double w = text_width(cr, s), a = px(x, (double)k->gpus) - w / 2,
		       b = px(y, k->tokens_per_s_per_gpu) - FRONTIER_DOT - 4;
		box bx = {a - 2, b - (FONT - 2), a + w + 2, b + 2};
		bool free = bx.x0 > 0 && bx.x1 < W && bx.y0 > TOP;
		for (int j = 0; j < n && free; j++)
			free = !overlaps(&bx, &drawn[j]);
		if (!free)
			continue;
		drawn[n++] = bx;
		text(cr, a, b, s, 0);
	}
	cairo_set_font_size(cr, FONT);
}

/* The winner's diamond and its label on a pale box, right of it or, near the right
 * edge, left of it. */
static void winner(cairo_t *cr, const pd_search_result *res, const scale *x, const scale *y)
{
	if (res->best < 0 || (uint64_t)res->best >= res->n_candidates ||
	    !drawable(&res->candidates[res->best]))
		return;
	const pd_candidate *k = &res->candidates[res->best];
	double a = px(x, (double)k->gpus), b = px(y, k->tokens_per_s_per_gpu);
	diamond(cr, a, b, WINNER);
	char d[200], s[240];
	snprintf(s, sizeof(s), "suggested: %s, step %.3g ms",
	         pd_choice_describe(&k->choice, d, sizeof(d)), k->step_latency_us / 1000.0);
	double w = text_width(cr, s), tx = a + WINNER + 6, ty = fmax(b - WINNER - 4, TOP + 14);
	if (tx + w > W - 4)
		tx = fmax(4, a - WINNER - 6 - w);
	cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
	cairo_rectangle(cr, tx - 3, ty - FONT, w + 6, FONT + 5);
	cairo_fill(cr);
	text(cr, tx, ty, s, 0);
}

/* ---- title and legend ---- */

static void title(cairo_t *cr, const pd_search_result *res, const char *name)
{
	char s[320];
	snprintf(s, sizeof(s),
	         "%s: %u strateg%s that pass the rules, tokens/s per GPU against GPUs",
	         name && *name ? name : "plandag suggest", res->n_candidates,
	         res->n_candidates == 1 ? "y" : "ies");
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	                       CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, 15);
	text(cr, 20, 28, s, 0);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	                       CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, FONT);
}

static void legend(cairo_t *cr)
{
	static const char *const label[] = {"meets every target", "misses a target",
	                                    "Pareto frontier (labelled with its step)",
	                                    "suggested plan"};
	double x = 24, y = 54;
	for (int i = 0; i < 4; i++) {
		if (i == 0 || i == 1)
			dot(cr, x, y - 4, DOT + 1, i == 0 ? C_MEETS : C_MISSES, i == 1);
		if (i == 2) {
			grid_line(cr, x - 10, y - 4, x + 10, y - 4, C_FRONTIER);
			dot(cr, x, y - 4, FRONTIER_DOT, C_FRONTIER, false);
		}
		if (i == 3)
			diamond(cr, x, y - 4, WINNER - 2);
		text(cr, x + 16, y, label[i], 0);
		x += 16 + text_width(cr, label[i]) + 36;
	}
}

static void draw(cairo_t *cr, const pd_search_result *res, const char *name)
{
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	title(cr, res, name);
	legend(cr);
	scale x = x_scale(res), y = y_scale(res);
	y_axis(cr, &x, &y);
	x_axis(cr, &x, &y);
	if (res->n_candidates == 0)
		text(cr, (x.p0 + x.p1) / 2, (y.p0 + y.p1) / 2, "no strategy passed the rules", 0.5);
	candidates(cr, res, &x, &y);
	frontier(cr, res, &x, &y);
	frontier_labels(cr, res, &x, &y);
	winner(cr, res, &x, &y);
}

/* ---- the file ---- */

static cairo_status_t to_file(void *closure, const unsigned char *data, unsigned int n)
{
	return fwrite(data, 1, n, closure) == n ? CAIRO_STATUS_SUCCESS
	                                        : CAIRO_STATUS_WRITE_ERROR;
}

static pd_status write_png(const pd_search_result *res, const char *name, FILE *f)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
	cairo_t *cr = cairo_create(s);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	                       CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, FONT);
	draw(cr, res, name);
	cairo_status_t st = cairo_status(cr);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_write_to_png_stream(s, to_file, f);
	cairo_destroy(cr);
	cairo_surface_destroy(s);
	return st == CAIRO_STATUS_SUCCESS ? PD_OK : PD_IO;
}

pd_status pd_search_pareto_png(const pd_search_result *res, const char *title_,
                               const char *path, pd_diag_list *diags)
{
	static const pd_search_result none = {.best = -1};
	if (!res)
		res = &none;
	pd_atomic_file af;
	errno = 0;
	pd_status s = pd_atomic_open(&af, path);
	if (s == PD_OK)
		s = write_png(res, title_, af.f);
	if (s == PD_OK)
		s = pd_atomic_commit(&af);
	else
		pd_atomic_abort(&af);
	if (s != PD_OK)
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0,
		            "cannot write the Pareto chart %s: %s", path,
		            strerror(errno ? errno : EIO));
	return s;
}
