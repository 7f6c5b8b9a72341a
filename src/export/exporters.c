/* exporters.c - the exporter table: one row per --emit word, in the order of the help
 * and of writing, and the small writers that adapt each export to a row.
 *
 * To add an export format, add its PD_EMIT_* bit (include/plandag/emit.h), its writer
 * and its row here; see docs/architecture.md, "How to add an export format".
 */
#include <errno.h>
#include <string.h>

#include "export/exporters.h"
#include "export/html_internal.h"
#include "export/timeline.h"
#include "plandag/chakra.h"
#include "plandag/report.h"
#include "util/util.h"

/* The DOT file's view: the one asked for, else the whole graph while cgraph can hold
 * it, else the overview with notes saying where the whole DAG is. */
static pd_view dot_view(const pd_i_emit_job *job)
{
	const pd_dag *dag = job->c->dag;
	if (job->explicit_view)
		return job->pic;
	if ((uint64_t)dag->n_nodes + dag->n_edges <= PD_DOT_FULL_LIMIT)
		return (pd_view){.kind = PD_VIEW_FULL};
	pd_diag_add(job->diags, PD_RULE_IO, PD_NOTE, 0, 0,
	            "the DOT file holds the overview: %u nodes + %u edges are beyond what "
	            "cgraph handles well (%d elements)",
	            dag->n_nodes, dag->n_edges, PD_DOT_FULL_LIMIT);
	if (job->mask & PD_EMIT_GRAPHML)
		pd_diag_fix(pd_diag_add(job->diags, PD_RULE_IO, PD_NOTE, 0, 0,
		                        "the GraphML file holds the whole DAG"),
		            "pick a part with --view stage=S, gpu=G or layer=L for DOT");
	else
		pd_diag_fix(pd_diag_add(job->diags, PD_RULE_IO, PD_NOTE, 0, 0,
		                        "no file holds the whole DAG: GraphML was not asked for"),
		            "add graphml to --emit for the whole DAG, or pick a part with --view "
		            "stage=S, gpu=G or layer=L for DOT");
	return (pd_view){.kind = PD_VIEW_OVERVIEW};
}

static pd_status write_dot(pd_i_emit_job *job, const pd_i_exporter *row, const char *path)
{
	(void)row;
	pd_view v = dot_view(job);
	return pd_export_dot(job->c->dag, &v, path, job->diags);
}

static pd_status write_graphml(pd_i_emit_job *job, const pd_i_exporter *row,
                               const char *path)
{
	(void)row;
	return pd_export_graphml(job->c->dag, path, job->diags);
}

/* PNG, SVG, PDF: the first picture lays the view out, every picture renders that one
 * layout (pd_i_emit_table closes it).  The row's word is the gvc format. */
static pd_status write_picture(pd_i_emit_job *job, const pd_i_exporter *row,
                               const char *path)
{
	if (!job->layout)
		PD_CHECK(pd_i_layout_open(job->c->dag, &job->pic, &job->layout, job->diags));
	return pd_i_layout_render(job->layout, row->info.word, path, job->diags);
}

/* The picture the report shows: the PNG written in this run, else its SVG, else its
 * PDF (linked); NULL when the run draws none (written before the report: table order). */
static const char *report_picture(const pd_i_emit_job *job)
{
	const char *p = pd_i_emit_name(job, PD_EMIT_PNG);
	if (!p)
		p = pd_i_emit_name(job, PD_EMIT_SVG);
	return p ? p : pd_i_emit_name(job, PD_EMIT_PDF);
}

/* The Markdown report; it shows the picture written in the same run under the name of
 * its view. */
static pd_status write_report(pd_i_emit_job *job, const pd_i_exporter *row,
                              const char *path)
{
	(void)row;
	char caption[64];
	pd_i_view_caption(&job->pic, caption, sizeof(caption));
	pd_atomic_file af;
	pd_status s = pd_atomic_open(&af, path);
	if (s == PD_OK && (s = pd_report_write_picture(af.f, PD_REPORT_MD, job->c,
	                                               report_picture(job), caption)) != PD_OK)
		pd_atomic_abort(&af);
	else if (s == PD_OK)
		s = pd_atomic_commit(&af);
	if (s != PD_OK)
		pd_diag_add(job->diags, PD_RULE_IO, PD_ERROR, 0, 0,
		            "cannot write the report %s: %s", path, strerror(errno ? errno : EIO));
	return s;
}

/* The Chakra trace set: the directory is NAME.chakra, its files NAME.<rank>.et. */
static pd_status write_chakra(pd_i_emit_job *job, const pd_i_exporter *row,
                              const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char name[512];
	snprintf(name, sizeof(name), "%.*s", (int)(strlen(base) - strlen(row->info.suffix)),
	         base);
	return pd_export_chakra(job->c->dag, &job->c->plan->cluster, name, path, job->diags);
}

/* The trace follows a stage, GPU or layer view; any other is the whole DAG. */
static pd_status check_trace(const pd_i_emit_job *job, pd_diag_list *diags)
{
	return pd_i_trace_check(job->c->dag, &job->pic, diags);
}

static pd_status write_trace(pd_i_emit_job *job, const pd_i_exporter *row, const char *path)
{
	(void)row;
	pd_atomic_file af;
	pd_status s = pd_atomic_open(&af, path);
	if (s == PD_OK && (s = pd_i_trace_write(job->c->dag, &job->pic, af.f)) != PD_OK)
		pd_atomic_abort(&af);
	else if (s == PD_OK)
		s = pd_atomic_commit(&af);
	if (s != PD_OK)
		pd_diag_add(job->diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write the trace %s: %s",
		            path, strerror(errno ? errno : EIO));
	return s;
}

static pd_status check_timeline(const pd_i_emit_job *job, pd_diag_list *diags)
{
	return pd_i_timeline_check(job->c->dag, &job->pic, diags);
}

/* NAME-timeline.png at path, NAME-timeline.svg next to it: one schedule, two pictures. */
static pd_status write_timeline(pd_i_emit_job *job, const pd_i_exporter *row,
                                const char *path)
{
	const pd_compilation *c = job->c;
	pd_i_timeline t;
	char svg[4096 + 1024];
	pd_status s = pd_i_timeline_build(c->dag, &job->pic,
	                                  c->reached == PD_STAGE_CHECK ? &c->cp : NULL, &t);
	if (s != PD_OK) {
		pd_diag_add(job->diags, PD_RULE_IO, PD_ERROR, 0, 0,
		            "cannot draw the timeline %s: %s", path,
		            s == PD_IO ? strerror(ENOMEM) : "the DAG cannot be scheduled");
		return s;
	}
	const char *name = c->dag->name ? c->dag->name : "plan";
	s = pd_i_timeline_draw(&t, name, 1, path, job->diags);
	if (s == PD_OK)
		s = pd_i_timeline_draw(
		    &t, name, 0, pd_i_emit_also_path(row, path, svg, sizeof(svg)), job->diags);
	pd_i_timeline_release(&t);
	return s;
}

const char *pd_i_emit_also_path(const pd_i_exporter *row, const char *path, char *buf,
                                size_t size)
{
	size_t n = strlen(path), k = strlen(row->info.suffix);
	PD_ASSERT(row->info.also && n >= k);
	snprintf(buf, size, "%.*s%s", (int)(n - k), path, row->info.also);
	return buf;
}

/* word, suffix, bit, directory, named by the view(, second file); needs; writer(; check) */
/* The interactive page; it embeds the timeline picture when the "timeline" row wrote its
 * PNG and SVG earlier in the same run (that row precedes this one). */
static pd_status write_html(pd_i_emit_job *job, const pd_i_exporter *row, const char *path)
{
	(void)row;
	char timeline[4096 + 512];
	const char *svg = NULL;
	for (size_t i = 0; i < job->n_rows && !svg; i++) {
		const char *name = job->names[i];
		size_t n = name ? strlen(name) : 0;
		if (strcmp(job->rows[i].info.word, "timeline") == 0 && n > 0 &&
		    job->rows[i].info.also) {
			char png[4096 + 512];
			const char *slash = strrchr(path, '/');
			int dir = slash ? (int)(slash - path) : 1;
			snprintf(png, sizeof(png), "%.*s/%s", dir, slash ? path : ".", name);
			svg = pd_i_emit_also_path(&job->rows[i], png, timeline, sizeof(timeline));
		}
	}
	return pd_i_html_write(job->c->dag, path, svg, job->diags);
}

const pd_i_exporter pd_i_exporters[] = {
    {{"dot", ".dot", PD_EMIT_DOT, false, true, NULL}, PD_I_NEEDS_DAG, write_dot, NULL},
    {{"graphml", ".graphml", PD_EMIT_GRAPHML, false, false, NULL},
     PD_I_NEEDS_DAG,
     write_graphml,
     NULL},
    {{"png", ".png", PD_EMIT_PNG, false, true, NULL},
     PD_I_NEEDS_DAG | PD_I_PICTURE,
     write_picture,
     NULL},
    {{"svg", ".svg", PD_EMIT_SVG, false, true, NULL},
     PD_I_NEEDS_DAG | PD_I_PICTURE,
     write_picture,
     NULL},
    {{"pdf", ".pdf", PD_EMIT_PDF, false, true, NULL},
     PD_I_NEEDS_DAG | PD_I_PICTURE,
     write_picture,
     NULL},
    {{"report", ".md", PD_EMIT_REPORT, false, false, NULL}, 0, write_report, NULL},
    {{"trace", ".trace.json", PD_EMIT_TRACE, false, true, NULL},
     PD_I_NEEDS_DAG,
     write_trace,
     check_trace},
    {{"timeline", "-timeline.png", PD_EMIT_TIMELINE, false, true, "-timeline.svg"},
     PD_I_NEEDS_DAG,
     write_timeline,
     check_timeline},
    {{"chakra", ".chakra", PD_EMIT_CHAKRA, true, false, NULL},
     PD_I_NEEDS_DAG,
     write_chakra,
     NULL},
    {{"html", ".html", PD_EMIT_HTML, false, false, NULL}, PD_I_NEEDS_DAG, write_html, NULL},
};
const size_t pd_i_n_exporters = sizeof(pd_i_exporters) / sizeof(pd_i_exporters[0]);
_Static_assert(sizeof(pd_i_exporters) / sizeof(pd_i_exporters[0]) <= PD_EMIT_MAX,
               "one bit of the emit mask per exporter");
