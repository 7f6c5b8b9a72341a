/* html.c - --emit html: NAME.html, one self-contained interactive page.
 *
 * The page embeds SVG pictures drawn by pd_export_render (the overview, every stage of
 * replica 0, one GPU of each GPU kind, one layer of each layer kind; html_views.c),
 * each followed by the node table of the nodes it draws (html_json.c), and the
 * project's own script and style sheet (src/export/html/, embedded at build time).  No
 * URL is fetched: the SVGs' prolog (XML declaration, DOCTYPE) is dropped and only the
 * namespace attributes of the <svg> element name one.
 *
 * Bounded: a view above PD_VIEW_FULL_LIMIT nodes is never drawn, at most
 * PD_HTML_MAX_VIEWS views and PD_HTML_MAX_BYTES bytes of views go in, and what is left
 * out is listed in the page and in one note.  Each picture is rendered into a scratch
 * file next to the page, copied in and removed, so one picture is in memory at a time.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/html_internal.h"

#define LEFT_MAX 24

typedef struct page {
	const pd_dag *dag;
	FILE *f;
	char tmp[4200]; /* the scratch picture */
	uint8_t *seen;  /* nodes, then GPUs, already in a node table */
	size_t bytes;   /* bytes of views written */
	int n_views;
	char left[LEFT_MAX][192]; /* what was left out, and why */
	int n_left;
	unsigned more_left; /* left out beyond LEFT_MAX lines */
	pd_diag_list *diags;
} page;

static void left_out(page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void left_out(page *p, const char *fmt, ...)
{
	if (p->n_left == LEFT_MAX) {
		p->more_left++;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->left[p->n_left++], sizeof(p->left[0]), fmt, ap);
	va_end(ap);
}

/* The whole file when it fits in `budget` bytes; NULL with *too_big or errno set. */
static char *read_bounded(const char *path, size_t budget, size_t *len, int *too_big)
{
	*too_big = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	char *buf = NULL;
	if (n >= 0 && (size_t)n > budget)
		*too_big = 1;
	else if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	         (buf = malloc((size_t)n + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	if (buf && *len != (size_t)n) {
		free(buf);
		buf = NULL;
		errno = EIO;
	}
	fclose(f);
	return buf;
}

/* One <section> with the picture from its <svg> element on, then its node table. */
static pd_status write_section(page *p, const char *svg, const char *id, const char *title)
{
	const char *start = strstr(svg, "<svg");
	if (!start) {
		pd_diag_add(p->diags, PD_RULE_IO, PD_ERROR, 0, 0,
		            "cannot embed the %s picture: the renderer wrote no <svg> element",
		            title);
		return PD_IO;
	}
	fprintf(p->f, "<section class=\"view\" id=\"%s\" data-title=\"", id);
	pd_i_html_text(p->f, title);
	fputs("\" hidden>\n<div class=\"pan\">\n", p->f);
	fputs(start, p->f);
	fputs("</div>\n</section>\n<script type=\"application/json\" class=\"pd-nodes\">",
	      p->f);
	size_t table = pd_i_html_node_table(p->f, p->dag, start, p->seen);
	fputs("</script>\n", p->f);
	p->bytes += strlen(start) + table;
	p->n_views++;
	return PD_OK;
}

/* Copies the picture at path into the page when it fits the byte cap. */
static pd_status embed_file(page *p, const char *path, const char *id, const char *title,
                            uint32_t n_nodes)
{
	size_t table = (size_t)n_nodes * PD_HTML_NODE_BYTES, len = 0;
	size_t room =
	    p->bytes + table < PD_HTML_MAX_BYTES ? PD_HTML_MAX_BYTES - p->bytes - table : 0;
	int too_big;
	char *svg = read_bounded(path, room, &len, &too_big);
	if (!svg && too_big) {
		left_out(p, "%s: the views would pass %u MB", title, PD_HTML_MAX_BYTES >> 20);
		return PD_OK;
	}
	if (!svg) {
		pd_diag_add(p->diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot read %s: %s", path,
		            strerror(errno ? errno : ENOMEM));
		return PD_IO;
	}
	pd_status s = write_section(p, svg, id, title);
	free(svg);
	return s;
}

/* Draws one view into the scratch file and embeds it, or says why it is left out. */
static pd_status add_view(page *p, pd_view v, const char *id, const char *title)
{
	if (p->n_views >= PD_HTML_MAX_VIEWS) {
		left_out(p, "%s: the page holds at most %d views", title, PD_HTML_MAX_VIEWS);
		return PD_OK;
	}
	uint32_t size = pd_i_view_size(p->dag, &v);
	if (size > PD_VIEW_FULL_LIMIT) {
		left_out(p, "%s: %u nodes, above the picture limit of %d", title, size,
		         PD_VIEW_FULL_LIMIT);
		return PD_OK;
	}
	PD_CHECK(pd_export_render(p->dag, &v, "svg", p->tmp, p->diags));
	pd_status s = embed_file(p, p->tmp, id, title, size);
	unlink(p->tmp);
	return s;
}

static pd_status add_stages(page *p)
{
	char id[48], title[48];
	for (uint32_t i = 0; i < p->dag->n_stages; i++) {
		const pd_dag_stage *st = &p->dag->stages[i];
		if (st->replica != 0)
			continue;
		snprintf(id, sizeof(id), "view-stage-%d", (int)st->stage);
		snprintf(title, sizeof(title), "stage %d", (int)st->stage);
		PD_CHECK(add_view(p, (pd_view){PD_VIEW_STAGE, st->stage}, id, title));
	}
	return PD_OK;
}

/* One view per kind of GPU or layer, titled with how many units it stands for. */
static pd_status add_kinds(page *p, const pd_i_html_kinds *k, int by_layer)
{
	const char *word = by_layer ? "layer" : "GPU";
	char id[48], title[96];
	for (int i = 0; i < k->n_kinds; i++) {
		snprintf(id, sizeof(id), "view-%s-%d", by_layer ? "layer" : "gpu", (int)k->rep[i]);
		int n = snprintf(title, sizeof(title), "%s %d", word, (int)k->rep[i]);
		if (k->members[i] > 1)
			snprintf(title + n, sizeof(title) - (size_t)n, " (like %u %ss)", k->members[i],
			         word);
		pd_view v = {by_layer ? PD_VIEW_LAYER : PD_VIEW_GPU, k->rep[i]};
		PD_CHECK(add_view(p, v, id, title));
	}
	if (k->unclassified)
		left_out(p, "%u %ss of further kinds: the page draws at most %d kinds",
		         k->unclassified, word, PD_HTML_MAX_KINDS);
	return PD_OK;
}

/* Runs of units of one kind as [first, last, drawn unit] (the drill-down map). */
static void write_runs(FILE *f, const pd_i_html_kinds *k)
{
	int first = 1;
	fputc('[', f);
	for (int32_t u = 0; u < k->n_units;) {
		int32_t kind = k->kind_of[u], end = u;
		while (end + 1 < k->n_units && k->kind_of[end + 1] == kind)
			end++;
		if (kind >= 0)
			fprintf(f, "%s[%d,%d,%d]", first ? "" : ",", (int)u, (int)end,
			        (int)k->rep[kind]);
		first = first && kind < 0;
		u = end + 1;
	}
	fputc(']', f);
}

static void write_head(page *p)
{
	const char *name = p->dag->name && *p->dag->name ? p->dag->name : "plan";
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
	      p->f);
	pd_i_html_text(p->f, name);
	fputs(" \xc2\xb7 plandag</title>\n<style>\n", p->f);
	fwrite(pd_i_html_page_css, 1, pd_i_html_page_css_len, p->f);
	fputs("</style>\n</head>\n<body>\n<header>\n<h1>", p->f);
	pd_i_html_text(p->f, name);
	fputs(
	    "</h1>\n<nav id=\"views\"></nav>\n<input id=\"search\" type=\"search\" "
	    "placeholder=\"search: kind, layer=L, gpu=G, stage=S\" aria-label=\"search\">\n"
	    "<span id=\"hits\" data-count=\"\"></span>\n<button id=\"fit\" type=\"button\">fit"
	    "</button>\n<div id=\"status\">loading</div>\n</header>\n<main>\n<div "
	    "id=\"area\">\n",
	    p->f);
}

static void write_left_out(page *p)
{
	fputs("<section id=\"left-out\">\n<h2>Not in this page</h2>\n<ul>\n", p->f);
	for (int i = 0; i < p->n_left; i++) {
		fputs("<li>", p->f);
		pd_i_html_text(p->f, p->left[i]);
		fputs("</li>\n", p->f);
	}
	if (p->more_left)
		fprintf(p->f, "<li>and %u more views</li>\n", p->more_left);
	if (!p->n_left)
		fputs("<li>nothing: every view of the page's set fits</li>\n", p->f);
	fprintf(
	    p->f,
	    "</ul>\n<p>The page holds the overview, every stage of replica 0, one GPU of each "
	    "GPU kind and one layer of each layer kind (at most %d kinds each): at most %d "
	    "views of at most %d nodes, %u MB in all.  Other views: plandag compile "
	    "--view.</p>\n</section>\n",
	    PD_HTML_MAX_KINDS, PD_HTML_MAX_VIEWS, PD_VIEW_FULL_LIMIT, PD_HTML_MAX_BYTES >> 20);
}

static void write_tail(page *p, const pd_i_html_kinds *gpus, const pd_i_html_kinds *layers)
{
	fputs(
	    "</div>\n<aside id=\"details\">\n<h2>Details</h2>\n<p>Click a node.</p>\n</aside>\n"
	    "</main>\n",
	    p->f);
	write_left_out(p);
	fputs("<script type=\"application/json\" id=\"pd-map\">{\"gpu\":", p->f);
	write_runs(p->f, gpus);
	fputs(",\"layer\":", p->f);
	write_runs(p->f, layers);
	fputs("}</script>\n<script>\n", p->f);
	fwrite(pd_i_html_page_js, 1, pd_i_html_page_js_len, p->f);
	fputs("</script>\n</body>\n</html>\n", p->f);
}

/* Every view of the page, in the order of its menu. */
static pd_status write_views(page *p, const pd_i_html_kinds *gpus,
                             const pd_i_html_kinds *layers, const char *timeline)
{
	PD_CHECK(add_view(p, (pd_view){PD_VIEW_OVERVIEW, 0}, "view-overview", "overview"));
	PD_CHECK(add_stages(p));
	PD_CHECK(add_kinds(p, gpus, 0));
	PD_CHECK(add_kinds(p, layers, 1));
	if (timeline && p->n_views < PD_HTML_MAX_VIEWS)
		return embed_file(p, timeline, "view-timeline", "timeline", 0);
	if (timeline)
		left_out(p, "timeline: the page holds at most %d views", PD_HTML_MAX_VIEWS);
	return PD_OK;
}

static pd_status write_page(page *p, const char *timeline)
{
	pd_i_html_kinds gpus, layers = {0};
	pd_status s = pd_i_html_kinds_compute(p->dag, 0, &gpus);
	if (s == PD_OK)
		s = pd_i_html_kinds_compute(p->dag, 1, &layers);
	if (s != PD_OK)
		pd_diag_add(p->diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write the page: %s",
		            strerror(ENOMEM));
	if (s == PD_OK) {
		write_head(p);
		s = write_views(p, &gpus, &layers, timeline);
	}
	if (s == PD_OK)
		write_tail(p, &gpus, &layers);
	pd_i_html_kinds_release(&gpus);
	pd_i_html_kinds_release(&layers);
	return s;
}

static void note_left_out(const page *p, const char *path)
{
	if (!p->n_left)
		return;
	const char *base = strrchr(path, '/');
	pd_diag_fix(pd_diag_add(p->diags, PD_RULE_IO, PD_NOTE, 0, 0,
	                        "%s leaves out %u view(s) (listed in the page), first %s",
	                        base ? base + 1 : path, (unsigned)p->n_left + p->more_left,
	                        p->left[0]),
	            "a view left out only by the caps draws with --view V --emit svg");
}

pd_status pd_i_html_write(const pd_dag *dag, const char *path, const char *timeline_svg,
                          pd_diag_list *diags)
{
	page *p = calloc(1, sizeof(*p));
	pd_atomic_file af;
	pd_status s = p ? pd_atomic_open(&af, path) : PD_IO;
	if (s != PD_OK) {
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write %s: %s", path,
		            strerror(errno ? errno : ENOMEM));
		free(p);
		return s;
	}
	*p = (page){.dag = dag, .f = af.f, .diags = diags};
	snprintf(p->tmp, sizeof(p->tmp), "%s.view.svg", path);
	p->seen =
	    calloc((size_t)dag->n_nodes + (size_t)(dag->n_gpus > 0 ? dag->n_gpus : 0) + 1, 1);
	s = p->seen ? write_page(p, timeline_svg) : PD_IO;
	if (!p->seen)
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write %s: %s", path,
		            strerror(ENOMEM));
	if (s == PD_OK && (s = pd_atomic_commit(&af)) != PD_OK)
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write %s: %s", path,
		            strerror(errno ? errno : EIO));
	if (s != PD_OK)
		pd_atomic_abort(&af);
	else
		note_left_out(p, path);
	free(p->seen);
	free(p);
	return s;
}
