/* bench_plan.c - measuring one plan: every stage of the pipeline, its output, its memory.
 *
 * Stages, each repeated (best and median reported):
 *   parse+validate  pd_plan_parse_file + pd_plan_expand + pd_plan_validate
 *   lower           pd_dag_lower
 *   check           pd_dag_check_acyclic, pd_dag_check_placement, pd_dag_critical_path
 *   DOT             pd_export_dot, full view (skipped above --dot-max-elements)
 *   GraphML         pd_export_graphml
 *   trace           the Chrome Trace Event file of --emit trace, whole DAG (events/s)
 *   PNG overview    pd_export_render, view overview
 *   Chakra          pd_export_chakra against a naive writer (bench_chakra.c)
 *   check command   pd_compile_file as `plandag check` runs it (lowering only DAGs up to
 *                   PD_CHECK_MAX_ELEMENTS), and as `check --allow-large` (always lowering)
 * then the igraph comparison on the same DAG.
 */
#define _GNU_SOURCE
#include "bench.h"
#include "export/timeline.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct plan_run {
	const bench_opts *o;
	const char *path, *label;
	char dir[4096], out[4200]; /* output directory, current output file */
	pd_plan *plan;
	pd_analysis an;
	pd_diag_list diags;  /* of parse+validate */
	pd_diag_list cdiags; /* scratch for the checks and exports */
	pd_dag *dag;
	pd_critical_path cp;
	pd_schedule sched;
	pd_compilation comp;
	int comp_live, compile_lower;
	pd_view view;
	const char *format; /* "png" for renders */
	int (*export_fn)(struct plan_run *r);
	double elements;
	double rss_start, rss_lowered, ir_bytes, dag_nodes;
	FILE *results;

	/* what was measured */
	bench_timing parse, lower, acyclic, placement, cpath, check, dot, graphml, png;
	bench_timing schedule; /* pd_dag_schedule alone (inside the critical path too) */
	bench_timing trace;    /* pd_i_trace_write of the whole DAG (events/s) */
	double trace_bytes, trace_events;
	bench_timing pics3, pics1; /* PNG+SVG+PDF: three layouts / one layout */
	bench_timing compile1, compile0;
	double dot_bytes, graphml_bytes, png_bytes, pics_bytes;
	char dot_note[256];
	int full_tested, full_refused, full_hint;
	char full_msg[512];
	bench_igraph ig;
	bench_chakra_result chakra;
} plan_run;

/* ---- stage bodies (bench_fn) and their resets ---- */

static int run_parse(void *p)
{
	plan_run *r = p;
	if (pd_plan_parse_file(r->path, &r->plan, &r->diags) != PD_OK)
		return -1;
	if (pd_plan_expand(r->plan, &r->diags) != PD_OK)
		return -1;
	return pd_plan_validate(r->plan, &r->an, &r->diags) == PD_IO ? -1 : 0;
}

static int reset_parse(void *p)
{
	plan_run *r = p;
	pd_plan_destroy(r->plan);
	r->plan = NULL;
	pd_diag_list_release(&r->diags);
	pd_diag_list_init(&r->diags);
	memset(&r->an, 0, sizeof(r->an));
	return 0;
}

static int run_lower(void *p)
{
	plan_run *r = p;
	return pd_dag_lower(r->plan, &r->an, &r->dag) != PD_OK;
}

static int reset_lower(void *p)
{
	plan_run *r = p;
	pd_dag_destroy(r->dag);
	r->dag = NULL;
	return 0;
}

static int reset_cdiags(void *p)
{
	plan_run *r = p;
	pd_diag_list_release(&r->cdiags);
	pd_diag_list_init(&r->cdiags);
	pd_critical_path_release(&r->cp);
	memset(&r->cp, 0, sizeof(r->cp));
	return 0;
}

static int run_acyclic(void *p)
{
	plan_run *r = p;
	return pd_dag_check_acyclic(r->dag, &r->cdiags) != PD_OK;
}

static int run_placement(void *p)
{
	plan_run *r = p;
	return pd_dag_check_placement(r->dag, &r->cdiags) != PD_OK;
}

static int run_critical_path(void *p)
{
	plan_run *r = p;
	return pd_dag_critical_path(r->dag, &r->cp) != PD_OK;
}

static int run_schedule(void *p)
{
	plan_run *r = p;
	return pd_dag_schedule(r->dag, &r->sched) != PD_OK;
}

static int reset_schedule(void *p)
{
	pd_schedule_release(&((plan_run *)p)->sched);
	return 0;
}

static int export_dot(plan_run *r)
{
	return pd_export_dot(r->dag, &r->view, r->out, &r->cdiags) != PD_OK;
}

static int export_graphml(plan_run *r)
{
	return pd_export_graphml(r->dag, r->out, &r->cdiags) != PD_OK;
}

/* The trace writer alone, without the refusal above PD_TRACE_MAX_EVENTS (the large
 * plan's whole DAG is above it: this measures the writer, not what compile writes). */
static int export_trace(plan_run *r)
{
	FILE *f = fopen(r->out, "w");
	pd_view all = {PD_VIEW_FULL, 0};
	int bad = !f || pd_i_trace_write(r->dag, &all, f) != PD_OK;
	if (f && fclose(f) != 0)
		bad = 1;
	return bad;
}

static int export_render(plan_run *r)
{
	return pd_export_render(r->dag, &r->view, r->format, r->out, &r->cdiags) != PD_OK;
}

/* PNG, SVG and PDF of the overview, next to r->out (which names the PNG). */
static const char *const PIC_FORMATS[] = {"png", "svg", "pdf"};
#define PIC_PATH (sizeof(((plan_run *)0)->out) + 8)

static void picture_paths(const plan_run *r, char paths[3][PIC_PATH])
{
	for (int i = 0; i < 3; i++)
		snprintf(paths[i], sizeof(paths[i]), "%s.%s", r->out, PIC_FORMATS[i]);
}

static int export_pictures_three_layouts(plan_run *r)
{
	char paths[3][PIC_PATH];
	picture_paths(r, paths);
	for (int i = 0; i < 3; i++)
		if (pd_export_render(r->dag, &r->view, PIC_FORMATS[i], paths[i], &r->cdiags) !=
		    PD_OK)
			return 1;
	return 0;
}

static int export_pictures_one_layout(plan_run *r)
{
	char paths[3][PIC_PATH];
	const char *p[3];
	picture_paths(r, paths);
	for (int i = 0; i < 3; i++)
		p[i] = paths[i];
	return pd_export_render_many(r->dag, &r->view, 3, PIC_FORMATS, p, &r->cdiags) != PD_OK;
}

static int run_export(void *p)
{
	plan_run *r = p;
	return r->export_fn(r);
}

static int run_compile(void *p)
{
	plan_run *r = p;
	/* compile_lower 1: `plandag check`; 2: `plandag check --allow-large` */
	pd_compile_options opt = {.lower = 1,
	                          .max_elements = r->compile_lower == 1 ? PD_CHECK_MAX_ELEMENTS
	                                                                : UINT64_MAX};
	r->comp_live = 1;
	return pd_compile_file(r->path, &opt, &r->comp) == PD_IO;
}

static int reset_compile(void *p)
{
	plan_run *r = p;
	if (r->comp_live)
		pd_compilation_release(&r->comp);
	r->comp_live = 0;
	return 0;
}

/* ---- printing ---- */

static void print_head(void)
{
	printf("%-34s %11s %11s %11s %4s %12s %11s %10s\n", "stage", "best", "median", "cpu",
	       "runs", "elements/s", "output", "out MB/s");
}

static void print_time(double s)
{
	if (s < 1.0)
		printf(" %8.3f ms", s * 1e3);
	else
		printf(" %8.3f s ", s);
}

/* One row; bytes = 0 for stages without an output file. */
static void print_row(const char *stage, const bench_timing *t, double elements,
                      double bytes)
{
	printf("%-34s", stage);
	if (t->runs == 0) {
		printf(" %11s\n", t->failed ? "FAILED" : "skipped");
		return;
	}
	print_time(t->best);
	print_time(t->median);
	print_time(t->cpu_best);
	printf(" %4d %10.2f M", t->runs, elements / t->best / 1e6);
	if (bytes > 0)
		printf(" %8.2f MB %10.1f", bytes / 1e6, bytes / t->best / 1e6);
	putchar('\n');
}

/* Prints a target and appends it to the results file.  pass: 1 PASS, 0 MISS, -1 info
 * (the target is not measured on this plan), -2 n/a (could not be measured). */
static void target(plan_run *r, const char *name, const char *goal, int pass,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void target(plan_run *r, const char *name, const char *goal, int pass,
                   const char *fmt, ...)
{
	char value[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	const char *verdict = pass == 1    ? "PASS"
	                      : pass == 0  ? "MISS"
	                      : pass == -1 ? "info"
	                                   : "n/a";
	printf("  %-44s %-28s %-12s %s\n", name, value, goal, verdict);
	if (r->results && pass != -1)
		fprintf(r->results, "%s|%s|%s|%s|%s\n", r->label, name, value, goal, verdict);
}

/* ---- measurements ---- */

/* Bytes of the DAG's own arrays (capacities, not lengths: what is allocated). */
static double ir_bytes(const pd_dag *d)
{
	double n = d->n_nodes, m = d->n_edges;
	double b =
	    (double)(d->cap_nodes > d->n_nodes ? d->cap_nodes : d->n_nodes) * sizeof(pd_node);
	b += (double)(d->cap_edges > d->n_edges ? d->cap_edges : d->n_edges) * sizeof(pd_edge);
	b += (double)(d->cap_costs > d->n_costs ? d->cap_costs : d->n_costs) * sizeof(pd_cost);
	b += ((double)d->groups.cap + 1) * sizeof(uint32_t) + (double)d->groups.cap_gpus * 4;
	if (d->out_off)
		b += (n + 1) * 4 + m * 4;
	if (d->in_off)
		b += (n + 1) * 4 + m * 4;
	if (d->finalized)
		b += n * 4; /* the contraction (member -> hub) pd_dag_finalize keeps */
	b +=
	    (double)d->n_gpus * sizeof(pd_dag_gpu) + (double)d->n_stages * sizeof(pd_dag_stage);
	for (uint32_t s = 0; s < d->n_stages; s++)
		b += (double)d->stages[s].n_experts * sizeof(int32_t);
	return b;
}

static void print_first_diag(const char *what, const pd_diag_list *l)
{
	if (l->n > 0)
		printf("  %s: %s [%s]\n", what, l->items[0].message, l->items[0].rule);
}

/* parse+validate, then lower; 0 when a DAG was built. */
static int measure_front(plan_run *r)
{
	bench_run(run_parse, reset_parse, r, &r->o->rep, &r->parse);
	if (r->parse.failed || !r->plan || r->diags.errors > 0) {
		printf("  %s (%zu error(s)); stopping here\n",
		       r->parse.failed ? "parse+expand+validate failed" : "plan not valid",
		       r->diags.errors);
		pd_diag_list_print(stdout, r->path, &r->diags);
		return -1;
	}
	uint64_t n = 0, m = 0;
	if (pd_dag_count(r->plan, &n, &m) == PD_OK)
		printf("  pd_dag_count: %llu nodes, %llu edges\n", (unsigned long long)n,
		       (unsigned long long)m);
	bench_run(run_lower, reset_lower, r, &r->o->rep, &r->lower);
	if (r->lower.failed || !r->dag) {
		printf("  pd_dag_lower failed\n");
		return -1;
	}
	r->elements = (double)r->dag->n_nodes + r->dag->n_edges;
	printf("  DAG: %u nodes, %u edges, %.0f elements\n", r->dag->n_nodes, r->dag->n_edges,
	       r->elements);
	return 0;
}

static void measure_checks(plan_run *r)
{
	bench_run(run_acyclic, reset_cdiags, r, &r->o->rep, &r->acyclic);
	print_first_diag("acyclic", &r->cdiags);
	bench_run(run_placement, reset_cdiags, r, &r->o->rep, &r->placement);
	print_first_diag("placement", &r->cdiags);
	bench_run(run_critical_path, reset_cdiags, r, &r->o->rep, &r->cpath);
	reset_cdiags(r);
	bench_run(run_schedule, reset_schedule, r, &r->o->rep, &r->schedule);
	reset_schedule(r);
	bench_timing *c = &r->check;
	c->best = r->acyclic.best + r->placement.best + r->cpath.best;
	c->median = r->acyclic.median + r->placement.median + r->cpath.median;
	c->cpu_best = r->acyclic.cpu_best + r->placement.cpu_best + r->cpath.cpu_best;
	c->runs = r->acyclic.runs < r->placement.runs ? r->acyclic.runs : r->placement.runs;
	c->runs = c->runs < r->cpath.runs ? c->runs : r->cpath.runs;
	c->failed = r->acyclic.failed || r->placement.failed || r->cpath.failed;
	if (c->failed)
		c->runs = 0;
}

static void measure_export(plan_run *r, const char *file, int (*fn)(plan_run *),
                           bench_timing *t, double *bytes)
{
	snprintf(r->out, sizeof(r->out), "%s/%s", r->dir, file);
	r->export_fn = fn;
	bench_run(run_export, reset_cdiags, r, &r->o->rep, t);
	*bytes = bench_file_size(r->out);
	if (t->failed)
		print_first_diag(file, &r->cdiags);
	reset_cdiags(r);
	unlink(r->out);
}

/* PNG+SVG+PDF of the overview: three pd_export_render calls (a layout each) against one
 * pd_export_render_many (one layout, what `compile --emit png,svg,pdf` runs). */
static void measure_pictures(plan_run *r)
{
	char paths[3][PIC_PATH];
	snprintf(r->out, sizeof(r->out), "%s/plan-overview", r->dir);
	r->view = (pd_view){PD_VIEW_OVERVIEW, 0};
	int (*fns[2])(plan_run *) = {export_pictures_three_layouts, export_pictures_one_layout};
	bench_timing *t[2] = {&r->pics3, &r->pics1};
	for (int k = 0; k < 2; k++) {
		r->export_fn = fns[k];
		bench_run(run_export, reset_cdiags, r, &r->o->rep, t[k]);
		if (t[k]->failed)
			print_first_diag("plan-overview.png/svg/pdf", &r->cdiags);
		reset_cdiags(r);
	}
	picture_paths(r, paths);
	r->pics_bytes = 0;
	for (int i = 0; i < 3; i++) {
		r->pics_bytes += bench_file_size(paths[i]);
		unlink(paths[i]);
	}
}

static void measure_dot(plan_run *r)
{
	if (r->elements > (double)r->o->dot_max_elements) {
		snprintf(r->dot_note, sizeof(r->dot_note),
		         "DOT skipped: %.0f elements > --dot-max-elements %llu (cgraph holds about "
		         "300 B per element: ~%.1f GB)",
		         r->elements, (unsigned long long)r->o->dot_max_elements,
		         r->elements * 300 / 1e9);
		return;
	}
	r->view = (pd_view){PD_VIEW_FULL, 0};
	measure_export(r, "plan.dot", export_dot, &r->dot, &r->dot_bytes);
}

/* A full-view picture of a DAG above PD_VIEW_FULL_LIMIT nodes must be refused
 * (PD_USAGE) with a hint naming the views. */
static void measure_full_refusal(plan_run *r)
{
	if (r->dag->n_nodes <= PD_VIEW_FULL_LIMIT)
		return;
	r->full_tested = 1;
	r->view = (pd_view){PD_VIEW_FULL, 0};
	snprintf(r->out, sizeof(r->out), "%s/full.png", r->dir);
	reset_cdiags(r);
	pd_status s = pd_export_render(r->dag, &r->view, "png", r->out, &r->cdiags);
	r->full_refused = s == PD_USAGE;
	if (r->cdiags.n > 0) {
		const pd_diag *d = &r->cdiags.items[0];
		r->full_hint = (d->fix && strstr(d->fix, "view")) || strstr(d->message, "view");
		snprintf(r->full_msg, sizeof(r->full_msg), "%s; fix: %s", d->message,
		         d->fix ? d->fix : "(none)");
	}
	reset_cdiags(r);
	unlink(r->out);
}

static void measure_exports(plan_run *r)
{
	measure_dot(r);
	measure_export(r, "plan.graphml", export_graphml, &r->graphml, &r->graphml_bytes);
	pd_view all = {PD_VIEW_FULL, 0};
	r->trace_events = (double)pd_i_trace_events(r->dag, &all);
	measure_export(r, "plan.trace.json", export_trace, &r->trace, &r->trace_bytes);
	r->view = (pd_view){PD_VIEW_OVERVIEW, 0};
	r->format = "png";
	measure_export(r, "plan-overview.png", export_render, &r->png, &r->png_bytes);
	measure_pictures(r);
	measure_full_refusal(r);
}

static void measure_compile(plan_run *r)
{
	r->compile_lower = 1;
	bench_run(run_compile, reset_compile, r, &r->o->rep, &r->compile1);
	reset_compile(r);
	r->compile_lower = 2;
	bench_run(run_compile, reset_compile, r, &r->o->rep, &r->compile0);
	reset_compile(r);
}

/* ---- the report of one plan ---- */

static void print_table(const plan_run *r)
{
	double e = r->elements;
	bench_timing lc = r->check;
	lc.best += r->lower.best;
	lc.median += r->lower.median;
	lc.cpu_best += r->lower.cpu_best;
	print_head();
	print_row("parse+expand+validate", &r->parse, e, 0);
	print_row("lower (pd_dag_lower)", &r->lower, e, 0);
	print_row("check: acyclic", &r->acyclic, e, 0);
	print_row("check: placement", &r->placement, e, 0);
	print_row("check: critical path", &r->cpath, e, 0);
	print_row("check (all three)", &r->check, e, 0);
	print_row("schedule (per node: nodes/s)", &r->schedule, r->dag_nodes, 0);
	print_row("lower+check", &lc, e, 0);
	print_row("DOT (cgraph, full view)", &r->dot, e, r->dot_bytes);
	print_row("GraphML (xmlTextWriter)", &r->graphml, e, r->graphml_bytes);
	print_row("trace JSON (per event: events/s)", &r->trace, r->trace_events,
	          r->trace_bytes);
	print_row("PNG overview (gvc dot)", &r->png, e, r->png_bytes);
	print_row("PNG+SVG+PDF overview, 3 layouts", &r->pics3, e, r->pics_bytes);
	print_row("PNG+SVG+PDF overview, 1 layout", &r->pics1, e, r->pics_bytes);
	print_row("Chakra --emit chakra (buffered)", &r->chakra.buffered, e, r->chakra.bytes);
	print_row("Chakra naive (malloc+fwrite/node)", &r->chakra.naive, e,
	          r->chakra.naive_bytes);
	print_row("check command", &r->compile1, e, 0);
	print_row("check --allow-large (lowers)", &r->compile0, e, 0);
	printf("  best/median: wall clock; cpu: least CPU time of the process in one run (far "
	       "below best: waiting for the disk or for a core)\n");
	if (r->dot_note[0])
		printf("  %s\n", r->dot_note);
}

static void print_igraph(const plan_run *r)
{
	const bench_igraph *g = &r->ig;
	double e = r->elements;
	if (!g->available) {
		printf("  %s\n", bench_igraph_version());
		return;
	}
	printf("  %s: graph built from the pd_dag in %.3f ms (raw edges)\n",
	       bench_igraph_version(), g->build_s * 1e3);
	print_row("igraph_is_dag (contracted)", &g->is_dag_contracted, e, 0);
	print_row("igraph_is_dag (raw edges)", &g->is_dag_raw, e, 0);
	print_row(g->attrs ? "igraph GraphML (with attributes)"
	                   : "igraph GraphML (no attributes)",
	          &g->graphml, e, g->graphml_bytes);
	printf("  is_dag: contracted %s, raw %s; contracted = collective members merged into "
	       "their hub as plandag's check does\n",
	       g->contracted_is_dag ? "yes" : "no", g->raw_is_dag ? "yes" : "no");
	printf("  both GraphML writers include fflush + fsync; igraph's %s\n",
	       g->attrs ? "carries every node/edge key of plandag's except the hubs' group"
	                : "has no attributes");
}

static void print_memory(const plan_run *r)
{
	double e = r->elements;
	printf("  memory: IR %.1f MB = %.1f B/element (sizeof pd_node %zu, pd_edge %zu, "
	       "CSR 8 B/node + 8 B/edge, contraction 4 B/node)\n",
	       r->ir_bytes / 1e6, r->ir_bytes / e, sizeof(pd_node), sizeof(pd_edge));
	printf("  peak RSS after lower+check %.1f MB (%.1f MB before parsing): %.1f B/element; "
	       "peak RSS of the whole run %.1f MB\n",
	       r->rss_lowered / 1e6, r->rss_start / 1e6, (r->rss_lowered - r->rss_start) / e,
	       bench_peak_rss() / 1e6);
}

/* pass/miss on the plan a target is about, info elsewhere */
static int on(const plan_run *r, const char *label, int pass)
{
	return strcmp(r->label, label) == 0 ? pass : -1;
}

static void igraph_targets(plan_run *r)
{
	const bench_igraph *g = &r->ig;
	if (!g->available || g->is_dag_contracted.runs == 0 || r->acyclic.runs == 0) {
		target(r, "acyclic time plandag / igraph_is_dag", "<= 0.50", -2, "%s",
		       g->available ? "not measured" : "igraph not found");
	} else {
		double q = r->acyclic.best / g->is_dag_contracted.best;
		target(r, "acyclic time plandag / igraph_is_dag", "<= 0.50", q <= 0.5,
		       "%.2f (%.3g / %.3g ms)", q, r->acyclic.best * 1e3,
		       g->is_dag_contracted.best * 1e3);
	}
	if (!g->available || g->graphml.runs == 0 || r->graphml.runs == 0) {
		target(r, "GraphML bytes/s plandag / igraph", ">= 1.00", -2, "not measured");
		return;
	}
	double p = r->graphml_bytes / r->graphml.best, i = g->graphml_bytes / g->graphml.best;
	target(r, "GraphML bytes/s plandag / igraph", ">= 1.00", p / i >= 1.0,
	       "%.2f (%.0f / %.0f MB/s)", p / i, p / 1e6, i / 1e6);
	double pe = r->elements / r->graphml.best, ie = r->elements / g->graphml.best;
	target(r, "GraphML elements/s plandag / igraph", "(info)", -1, "%.2f", pe / ie);
}

/* The trace writer: nodes/s on the large plan, and against the naive writer. */
static void chakra_targets(plan_run *r)
{
	const bench_chakra_result *c = &r->chakra;
	if (c->buffered.runs == 0 || c->naive.runs == 0)
		return;
	double rate = c->nodes / c->buffered.best;
	target(r, "Chakra write nodes/s", ">= 2 M/s", on(r, "large", rate >= 2e6),
	       "%.2f M/s (%.0f nodes)", rate / 1e6, c->nodes);
	target(r, "Chakra buffered / naive writer", "(info)", -1, "%.2f (%.3f / %.3f s)",
	       c->naive.best / c->buffered.best, c->buffered.best, c->naive.best);
	target(r, "Chakra write peak RSS growth", "(info)", -1, "%.1f MB on %d ranks",
	       c->rss_growth / 1e6, (int)c->ranks);
}

static void targets(plan_run *r)
{
	printf("ratios and targets (%s):\n", r->label);
	igraph_targets(r);
	double lc = r->lower.best + r->check.best;
	if (r->check.runs > 0)
		target(r, "lower+check elements/s", ">= 20 M/s",
		       on(r, "large", r->elements / lc >= 20e6), "%.1f M/s",
		       r->elements / lc / 1e6);
	if (r->schedule.runs > 0)
		target(r, "schedule nodes/s", ">= 20 M/s",
		       on(r, "large", r->dag_nodes / r->schedule.best >= 20e6), "%.1f M/s",
		       r->dag_nodes / r->schedule.best / 1e6);
	target(r, "IR bytes per element", "<= 48", r->ir_bytes / r->elements <= 48, "%.1f",
	       r->ir_bytes / r->elements);
	if (r->compile1.runs > 0)
		target(r, "check command (as plandag check runs)", "<= 10 ms",
		       r->compile1.best <= 0.010, "%.3f ms", r->compile1.best * 1e3);
	if (r->png.runs > 0)
		target(r, "overview PNG time", "<= 5 s", on(r, "large", r->png.best <= 5.0),
		       "%.3f s", r->png.best);
	if (r->full_tested)
		target(r, "full-view PNG refused with a hint", "PD_USAGE",
		       on(r, "large", r->full_refused && r->full_hint), "%s%s",
		       r->full_refused ? "refused" : "NOT refused",
		       r->full_hint ? ", hint" : ", no hint");
	chakra_targets(r);
	if (strcmp(r->label, "large") == 0)
		target(r, "large plan has >= 5 M nodes", ">= 5 M", r->dag_nodes >= 5000000,
		       "%.2f M", r->dag_nodes / 1e6);
	if (r->full_msg[0])
		printf("  full-view refusal says: %s\n", r->full_msg);
}

static int open_run(plan_run *r, const bench_opts *o, const char *path, const char *label)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->path = path;
	r->label = label;
	pd_diag_list_init(&r->diags);
	pd_diag_list_init(&r->cdiags);
	snprintf(r->dir, sizeof(r->dir), "%s/%s.XXXXXX", o->tmp_root, label);
	if (!mkdtemp(r->dir))
		return fprintf(stderr, "plandag-bench: cannot create %s\n", r->dir), -1;
	r->results = o->results ? fopen(o->results, "a") : NULL;
	r->rss_start = bench_peak_rss();
	return 0;
}

static void close_run(plan_run *r)
{
	reset_cdiags(r);
	reset_lower(r);
	reset_parse(r);
	pd_diag_list_release(&r->diags);
	if (r->results)
		fclose(r->results);
	rmdir(r->dir);
}

int bench_plan(const bench_opts *o, const char *path, const char *label)
{
	plan_run r;
	if (open_run(&r, o, path, label) != 0)
		return 3;
	printf("\n== %s: %s ==\n", label, path);
	/* first, while the heap is fresh: later stages (igraph) leave freed memory that
	 * malloc would hand back without page faults, which a real `plandag check` pays */
	measure_compile(&r);
	if (bench_reset_peak_rss() != 0)
		printf("  (cannot reset the peak RSS: it includes the check command's)\n");
	r.rss_start = bench_peak_rss();
	int rc = measure_front(&r);
	if (rc == 0) {
		measure_checks(&r);
		r.rss_lowered = bench_peak_rss();
		r.ir_bytes = ir_bytes(r.dag);
		r.dag_nodes = r.dag->n_nodes;
		measure_exports(&r);
		bench_chakra(r.dag, &r.plan->cluster, r.dir, &o->rep, &r.chakra);
		bench_igraph_compare(r.dag, r.dir, &o->rep, o->igraph_attrs, &r.ig);
		print_table(&r);
		print_igraph(&r);
		print_memory(&r);
		targets(&r);
	}
	fflush(stdout);
	close_run(&r);
	return rc == 0 ? 0 : 1;
}
