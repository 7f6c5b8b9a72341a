/* timeline_draw.c - the timeline's picture: title, legend, a row per GPU group and
 * stream, the time axis.
 *
 * One drawing routine draws through a pen of three strokes (filled box, line, text): the
 * PNG pen draws with cairo on an image surface, the SVG pen writes the same strokes as SVG
 * elements, text as <text> so that the kinds and GPUs can be searched and read at any zoom
 * (cairo 1.16's SVG surface turns text into glyph paths). Text is measured with cairo for
 * both.  Sizes: 1800 px wide, 16 px per row, text at 11 px; at most PD_TIMELINE_MAX_ROWS
 * rows keep the picture under 8000 px high.
 */
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "export/export_internal.h"
#include "export/timeline.h"

#define TL_WIDTH 1800
#define TL_LABEL 210 /* the row labels' column */
#define TL_RIGHT 30
#define TL_ROW 16
#define TL_GROUP_GAP 4
#define TL_POOL_HEAD 18 /* a pooled plan: the heading above each pool's rows */
#define TL_TITLE 34
#define TL_LEGEND_LINE 20
#define TL_LEGEND_ITEM 170
#define TL_AXIS 46
#define TL_FONT 11.0

typedef struct rgb {
	double r, g, b;
} rgb;

/* Colours by kind: shades of the family colours of the operator catalogue (ops.c):
 * compute in blues and teals, TP in oranges, EP in greens, PP in purples, the KV
 * hand-over in ochres. */
static const unsigned kind_colour[PD_N__COUNT] = {
    [PD_N_EMBED] = 0x9fb8d6,         [PD_N_PP_RECV] = 0xc9a3dc,
    [PD_N_ATTN_NORM] = 0xb9d3ee,     [PD_N_QKV] = 0x6b9bd2,
    [PD_N_ATTENTION] = 0x2f5f9e,     [PD_N_O_PROJ] = 0x4f86c6,
    [PD_N_TP_ALLREDUCE] = 0xe8912d,  [PD_N_TP_REDUCE_SCATTER] = 0xf2b366,
    [PD_N_TP_ALL_GATHER] = 0xc77c02, [PD_N_FFN_NORM] = 0xa8dadc,
    [PD_N_ROUTER] = 0x7fb7be,        [PD_N_EP_DISPATCH] = 0x5cb85c,
    [PD_N_EXPERT] = 0x1f7a8c,        [PD_N_SHARED_EXPERT] = 0x3d9aa8,
    [PD_N_EP_COMBINE] = 0x2e7d32,    [PD_N_FFN] = 0x26828f,
    [PD_N_LM_HEAD] = 0x5a6e8c,       [PD_N_SAMPLE] = 0x8a9bb5,
    [PD_N_PP_SEND] = 0x7b3f98,       [PD_N_COLLECTIVE] = 0xb03030,
    [PD_N_KV_SEND] = 0xa07800,       [PD_N_KV_RECV] = 0xe0c050,
};

static rgb hex(unsigned c)
{
	return (rgb){((c >> 16) & 255) / 255.0, ((c >> 8) & 255) / 255.0, (c & 255) / 255.0};
}

/* ---- the pen ---- */

typedef struct pen {
	cairo_t *cr; /* PNG: draws; SVG: measures text only */
	FILE *svg;   /* SVG: the elements go here */
	cairo_t *measure;
} pen;

static void svg_colour(FILE *f, const char *attr, rgb c)
{
	fprintf(f, " %s=\"#%02x%02x%02x\"", attr, (int)lround(c.r * 255),
	        (int)lround(c.g * 255), (int)lround(c.b * 255));
}

static void pen_box(pen *p, double x, double y, double w, double h, rgb c)
{
	if (p->svg) {
		fprintf(p->svg, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"", x, y,
		        w, h);
		svg_colour(p->svg, "fill", c);
		fputs("/>\n", p->svg);
		return;
	}
	cairo_set_source_rgb(p->cr, c.r, c.g, c.b);
	cairo_rectangle(p->cr, x, y, w, h);
	cairo_fill(p->cr);
}

static void pen_line(pen *p, double x0, double y0, double x1, double y1, rgb c)
{
	if (p->svg) {
		fprintf(p->svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"", x0, y0, x1,
		        y1);
		svg_colour(p->svg, "stroke", c);
		fputs("/>\n", p->svg);
		return;
	}
	cairo_set_source_rgb(p->cr, c.r, c.g, c.b);
	cairo_set_line_width(p->cr, 1);
	cairo_move_to(p->cr, x0, y0);
	cairo_line_to(p->cr, x1, y1);
	cairo_stroke(p->cr);
}

static double text_width(const pen *p, const char *s)
{
	cairo_text_extents_t e;
	cairo_text_extents(p->measure, s, &e);
	return e.x_advance;
}

static void svg_escaped(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
}

/* Text with its baseline at y; align 0 left, 1 right, 0.5 centred at x. */
static void pen_text(pen *p, double x, double y, const char *s, double align)
{
	x -= align * text_width(p, s);
	if (p->svg) {
		fprintf(p->svg, "<text x=\"%.2f\" y=\"%.2f\">", x, y);
		svg_escaped(p->svg, s);
		fputs("</text>\n", p->svg);
		return;
	}
	cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
	cairo_move_to(p->cr, x, y);
	cairo_show_text(p->cr, s);
}

/* ---- layout ---- */

static int legend_lines(const pd_i_timeline *t)
{
	int items = 1 + __builtin_popcount(t->kinds),
	    per_line = (TL_WIDTH - 40) / TL_LEGEND_ITEM;
	return (items + per_line - 1) / per_line;
}

static double plot_top(const pd_i_timeline *t)
{
	return TL_TITLE + legend_lines(t) * TL_LEGEND_LINE + 10;
}

void pd_i_timeline_size(const pd_i_timeline *t, int *width, int *height)
{
	*width = TL_WIDTH;
	*height = (int)plot_top(t) + (int)t->n_rows * TL_ROW + (int)t->n_groups * TL_GROUP_GAP +
	          (int)t->pool_heads * TL_POOL_HEAD + TL_AXIS;
}

/* The time axis: unit, step between ticks (in that unit) and pixels per microsecond. */
typedef struct axis {
	double x0, x1, scale; /* scale: px per us */
	double unit_us;       /* 1 (us) or 1000 (ms) */
	const char *unit;
	double step; /* in the unit */
} axis;

static axis make_axis(const pd_i_timeline *t)
{
	axis a = {.x0 = TL_LABEL + 10, .x1 = TL_WIDTH - TL_RIGHT};
	double span = t->makespan_us > 0 ? t->makespan_us : 1;
	a.scale = (a.x1 - a.x0) / span;
	a.unit_us = span >= 2000 ? 1000 : 1;
	a.unit = span >= 2000 ? "ms" : "\u00b5s";
	a.step = pd_i_nice_step(span / a.unit_us, 10);
	return a;
}

static void draw_title(pen *p, const pd_i_timeline *t, const char *plan)
{
	char s[256];
	uint32_t gpus = 0;
	for (uint32_t i = 0; i < t->n_groups; i++)
		gpus += t->groups[i].count;
	snprintf(s, sizeof(s),
	         "%s: step %.4g %s on the stream schedule; %u GPUs in %u group(s) of identical "
	         "GPUs; blank = idle, red bar = critical path",
	         plan, t->makespan_us >= 2000 ? t->makespan_us / 1000 : t->makespan_us,
	         t->makespan_us >= 2000 ? "ms" : "\u00b5s", gpus, t->n_groups);
	pen_text(p, 20, 22, s, 0);
}

static void draw_legend(pen *p, const pd_i_timeline *t)
{
	int per_line = (TL_WIDTH - 40) / TL_LEGEND_ITEM, i = 0;
	for (int k = 0; k <= PD_N__COUNT; k++) {
		if (k < PD_N__COUNT && !(t->kinds & (1u << k)))
			continue;
		double x = 20 + (i % per_line) * TL_LEGEND_ITEM;
		double y = TL_TITLE + (i / per_line) * TL_LEGEND_LINE;
		if (k < PD_N__COUNT) {
			pen_box(p, x, y, 14, 12, hex(kind_colour[k]));
			pen_text(p, x + 20, y + 10, pd_node_kind_name((pd_node_kind)k), 0);
		} else {
			pen_box(p, x, y + 9, 14, 3, hex(0xd00000));
			pen_text(p, x + 20, y + 10, "critical path (bar under)", 0);
		}
		i++;
	}
}

static void draw_axis(pen *p, const pd_i_timeline *t, const axis *a, double top,
                      double bottom)
{
	char s[64];
	for (int i = 0;; i++) {
		double v = i * a->step, x = a->x0 + v * a->unit_us * a->scale;
		if (x > a->x1 + 0.5)
			break;
		pen_line(p, x, top, x, bottom, hex(0xe4e4e4));
		pen_line(p, x, bottom, x, bottom + 5, hex(0x606060));
		snprintf(s, sizeof(s), "%g", v);
		pen_text(p, x, bottom + 17, s, 0.5);
	}
	pen_line(p, a->x0, bottom, a->x1, bottom, hex(0x606060));
	snprintf(s, sizeof(s), "time (%s)", a->unit);
	pen_text(p, (a->x0 + a->x1) / 2, bottom + 34, s, 0.5);
	(void)t;
}

/* A run of boxes of one kind closer than half a pixel, drawn as one. */
typedef struct run {
	double xa, xb;
	int kind; /* -1: none pending */
} run;

static void flush(pen *p, run *r, double y)
{
	if (r->kind >= 0)
		pen_box(p, r->xa, y + 2, fmax(r->xb - r->xa, 0.6), TL_ROW - 4,
		        hex(kind_colour[r->kind]));
	r->kind = -1;
}

/* The nodes of one row; critical ones are outlined (and never merged into a run). */
static void draw_row(pen *p, const pd_i_timeline *t, const pd_i_tl_row *row, const axis *a,
                     double y)
{
	int32_t g = t->groups[row->group].rep;
	run r = {0, 0, -1};
	for (uint32_t i = t->gpu_off[g]; i < t->gpu_off[g + 1]; i++) {
		uint32_t v = t->gpu_nodes[i];
		if (pd_node_stream(t->dag, v) != row->stream)
			continue;
		int kind = t->dag->nodes[v].kind;
		double xa = a->x0 + t->s.start_us[v] * a->scale;
		double xb = a->x0 + t->s.end_us[v] * a->scale;
		if (r.kind == kind && !t->critical[v] && xa - r.xb < 0.5) {
			r.xb = fmax(r.xb, xb);
			continue;
		}
		flush(p, &r, y);
		r = (run){xa, xb, kind};
		if (t->critical[v]) {
			flush(p, &r, y);
			pen_box(p, xa, y + TL_ROW - 2.5, fmax(xb - xa, 1), 2.5, hex(0xd00000));
		}
	}
	flush(p, &r, y);
}

/* A pooled plan: "prefill pool (replica 0)" over the rows of its GPUs, and a line. */
static void draw_pool_head(pen *p, const pd_i_timeline *t, int32_t pool, const axis *a,
                           double y)
{
	const pd_dag_pool *pl = &t->dag->pools[pool];
	char head[96];
	int32_t last = pl->first_replica + pl->n_replicas - 1;
	if (last > pl->first_replica)
		snprintf(head, sizeof(head), "%s pool (replicas %d-%d)", pd_phase_name(pl->phase),
		         (int)pl->first_replica, (int)last);
	else
		snprintf(head, sizeof(head), "%s pool (replica %d)", pd_phase_name(pl->phase),
		         (int)pl->first_replica);
	pen_line(p, 10, y + 2, a->x1, y + 2, hex(0x888888));
	pen_text(p, 10, y + TL_POOL_HEAD - 3, head, 0);
}

static void draw_rows(pen *p, const pd_i_timeline *t, const axis *a, double top)
{
	double y = top;
	for (uint32_t i = 0; i < t->n_rows; i++) {
		const pd_i_tl_row *row = &t->rows[i];
		int first = i == 0 || t->rows[i - 1].group != row->group;
		int32_t pool = t->groups[row->group].pool;
		if (pool >= 0 && (i == 0 || t->groups[t->rows[i - 1].group].pool != pool)) {
			draw_pool_head(p, t, pool, a, y);
			y += TL_POOL_HEAD;
		}
		y += first ? TL_GROUP_GAP : 0;
		if (first)
			pen_line(p, 10, y - TL_GROUP_GAP / 2.0, a->x1, y - TL_GROUP_GAP / 2.0,
			         hex(0xd8d8d8));
		char label[96];
		snprintf(label, sizeof(label), "%s%s%s", first ? t->groups[row->group].label : "",
		         first ? " " : "", pd_stream_name((pd_stream)row->stream));
		pen_text(p, TL_LABEL, y + TL_ROW - 4, label, 1);
		draw_row(p, t, row, a, y);
		y += TL_ROW;
	}
}

static void draw(pen *p, const pd_i_timeline *t, const char *plan)
{
	int w, h;
	pd_i_timeline_size(t, &w, &h);
	pen_box(p, 0, 0, w, h, hex(0xffffff));
	axis a = make_axis(t);
	double top = plot_top(t);
	double bottom = h - TL_AXIS;
	draw_title(p, t, plan);
	draw_legend(p, t);
	draw_axis(p, t, &a, top, bottom);
	draw_rows(p, t, &a, top);
}

/* ---- files ---- */

static cairo_status_t to_file(void *closure, const unsigned char *data, unsigned int n)
{
	return fwrite(data, 1, n, closure) == n ? CAIRO_STATUS_SUCCESS
	                                        : CAIRO_STATUS_WRITE_ERROR;
}

static cairo_t *font(cairo_t *cr)
{
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
	                       CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, TL_FONT);
	return cr;
}

static pd_status write_png(const pd_i_timeline *t, const char *plan, FILE *f)
{
	int w, h;
	pd_i_timeline_size(t, &w, &h);
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	cairo_t *cr = font(cairo_create(s));
	pen p = {.cr = cr, .measure = cr};
	draw(&p, t, plan);
	cairo_status_t st = cairo_status(cr);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_write_to_png_stream(s, to_file, f);
	cairo_destroy(cr);
	cairo_surface_destroy(s);
	return st == CAIRO_STATUS_SUCCESS ? PD_OK : PD_IO;
}

static pd_status write_svg(const pd_i_timeline *t, const char *plan, FILE *f)
{
	int w, h;
	pd_i_timeline_size(t, &w, &h);
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
	cairo_t *cr = font(cairo_create(s));
	pen p = {.svg = f, .measure = cr};
	fprintf(f,
	        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	        "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"%g\">\n",
	        w, h, w, h, TL_FONT);
	draw(&p, t, plan);
	fputs("</svg>\n", f);
	cairo_status_t st = cairo_status(cr);
	cairo_destroy(cr);
	cairo_surface_destroy(s);
	return st == CAIRO_STATUS_SUCCESS && !ferror(f) ? PD_OK : PD_IO;
}

pd_status pd_i_timeline_draw(const pd_i_timeline *t, const char *plan, int png,
                             const char *path, pd_diag_list *diags)
{
	pd_atomic_file af;
	pd_status s = pd_atomic_open(&af, path);
	if (s == PD_OK)
		s = png ? write_png(t, plan, af.f) : write_svg(t, plan, af.f);
	if (s == PD_OK)
		s = pd_atomic_commit(&af);
	else
		pd_atomic_abort(&af);
	if (s != PD_OK)
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write the timeline %s: %s",
		            path, strerror(errno ? errno : EIO));
	return s;
}
