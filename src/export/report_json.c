/* report_json.c - the analysis report as JSON, built and printed by cJSON.
 * Member names are those README.md lists under "Report"; absent values are null. */
#include "export/report_i.h"
#include "plan/gpus.h"
#include "util/util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Building state: one failed allocation anywhere makes the whole report PD_IO. */
typedef struct jb {
	pd_status status;
} jb;

/* Adds v under key k (v may be NULL after a failed allocation). */
static void put(jb *b, cJSON *o, const char *k, cJSON *v)
{
	if (!o || !v || !cJSON_AddItemToObject(o, k, v)) {
		cJSON_Delete(v);
		b->status = PD_IO;
	}
}

static void push(jb *b, cJSON *a, cJSON *v)
{
	if (!a || !v || !cJSON_AddItemToArray(a, v)) {
		cJSON_Delete(v);
		b->status = PD_IO;
	}
}

/* A number that reads back as the same double: cJSON prints 15 digits and takes a
 * value that rounds to infinity for equal (1.79769313486232e+308), so the text is made
 * here, with 17 digits when 15 do not survive.  Non-finite values are null. */
static cJSON *num(double v)
{
	char text[32];
	if (!isfinite(v))
		return cJSON_CreateNull();
	snprintf(text, sizeof(text), "%.15g", v);
	if (strtod(text, NULL) != v)
		snprintf(text, sizeof(text), "%.17g", v);
	return cJSON_CreateRaw(text);
}

static cJSON *num_or_null(bool has, double v)
{
	return has ? num(v) : cJSON_CreateNull();
}

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *j_diag(jb *b, const pd_compilation *c, const pd_diag *d)
{
	cJSON *o = cJSON_CreateObject();
	char impact[256];
	bool has_impact = pd_i_report_impact(c, d, impact, sizeof(impact));
	put(b, o, "rule", str_or_null(d->rule));
	put(b, o, "severity", cJSON_CreateString(pd_severity_name(d->severity)));
	put(b, o, "line", num_or_null(d->line > 0, (double)d->line));
	put(b, o, "column", num_or_null(d->column > 0, d->column));
	put(b, o, "message", str_or_null(d->message));
	put(b, o, "fix", str_or_null(d->fix));
	put(b, o, "impact", str_or_null(has_impact ? impact : NULL));
	return o;
}

static cJSON *j_diagnostics(jb *b, const pd_compilation *c)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < c->diags.n && a; i++)
		push(b, a, j_diag(b, c, &c->diags.items[i]));
	return a;
}

/* {rule: count} of the diagnostics counted but not kept (PD_DIAG_PER_RULE_MAX). */
static cJSON *j_diagnostics_omitted(jb *b, const pd_compilation *c)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < c->diags.n_rules && o; i++)
		if (c->diags.rules[i].dropped > 0)
			put(b, o, c->diags.rules[i].rule, num((double)c->diags.rules[i].dropped));
	return o;
}

static cJSON *j_gpus(jb *b, const pd_compilation *c)
{
	const pd_plan *p = c->plan;
	const pd_analysis *an = &c->analysis;
	cJSON *o = cJSON_CreateObject();
	char buf[512];
	int64_t dp, pp, size;
	put(b, o, "declared",
	    num_or_null(p->strategy.has_declared_gpus, (double)p->strategy.declared_gpus));
	put(b, o, "structural", num((double)an->gpus_structural));
	put(b, o, "product", num((double)an->gpus_product));
	put(b, o, "cluster", num((double)an->gpus_cluster));
	put(b, o, "formula", cJSON_CreateString(pd_i_report_gpu_sum(p, buf, sizeof(buf))));
	bool uni = pd_i_report_uniform(p, &dp, &pp, &size);
	if (uni)
		snprintf(buf, sizeof(buf), "DP x PP x stage_size = %lld x %lld x %lld = %lld",
		         (long long)dp, (long long)pp, (long long)size,
		         (long long)(dp * pp * size));
	put(b, o, "uniform_formula", str_or_null(uni ? buf : NULL));
	pd_i_report_product(an, buf, sizeof(buf));
	put(b, o, "product_formula", cJSON_CreateString(buf));
	return o;
}

static cJSON *j_params(jb *b, const pd_compilation *c)
{
	const pd_analysis *an = &c->analysis;
	cJSON *o = cJSON_CreateObject();
	put(b, o, "declared", num_or_null(c->plan->model.has_params, c->plan->model.params));
	put(b, o, "computed", num(an->params_computed));
	put(b, o, "active_per_token", num(an->params_active_per_token));
	put(b, o, "weight_bytes", num(an->weight_bytes));
	const pd_model *m = &c->plan->model;
	put(b, o, "dtype", cJSON_CreateString(pd_dtype_name(m->dtype)));
	put(b, o, "expert_dtype",
	    str_or_null(m->experts > 0 ? pd_dtype_name(pd_model_expert_dtype(m)) : NULL));
	put(b, o, "kv_dtype", cJSON_CreateString(pd_dtype_name(pd_model_kv_dtype(m))));
	put(b, o, "attention", cJSON_CreateString(pd_model_is_mla(m) ? "mla" : "gqa"));
	return o;
}

static cJSON *j_memory_row(jb *b, const pd_analysis *an, const pd_gpu_memory *m)
{
	cJSON *o = cJSON_CreateObject();
	put(b, o, "gpu", num(m->gpu));
	/* false for a GPU id the cluster does not have (a gpu-range error) */
	put(b, o, "in_cluster", cJSON_CreateBool(!pd_i_report_gpu_outside(an, m)));
	put(b, o, "replica", num(m->replica));
	put(b, o, "stage", num(m->stage));
	put(b, o, "experts", num(m->experts));
	put(b, o, "weights", num(m->weights));
	put(b, o, "kv_cache", num(m->kv_cache));
	put(b, o, "activations", num(m->activations));
	put(b, o, "reserve", num(m->reserve));
	put(b, o, "total", num(m->total));
	put(b, o, "capacity", num(m->capacity));
	return o;
}

static cJSON *j_memory(jb *b, const pd_analysis *an)
{
	cJSON *a = cJSON_CreateArray();
	for (uint32_t i = 0; i < an->n_memory && an->memory && a && b->status == PD_OK; i++)
		push(b, a, j_memory_row(b, an, &an->memory[i]));
	return a;
}

static cJSON *j_throughput(jb *b, const pd_compilation *c)
{
	const pd_analysis *an = &c->analysis;
	const pd_workload *w = &c->plan->workload;
	bool has = an->throughput_source != PD_THROUGHPUT_NONE;
	cJSON *o = cJSON_CreateObject();
	put(b, o, "tokens_per_ms", num_or_null(has, an->tokens_per_ms));
	put(b, o, "target", num_or_null(w->has_target, w->target));
	put(b, o, "step_latency_us", num_or_null(has, an->step_latency_us));
	put(b, o, "step_tokens", num_or_null(has, an->step_tokens));
	put(b, o, "source", str_or_null(pd_i_report_source_name(an->throughput_source)));
	put(b, o, "phase",
	    cJSON_CreateString(pd_plan_is_pooled(c->plan) ? "pooled"
	                                                  : pd_phase_name(w->phase)));
	double per_gpu = 0, ttft, tpot;
	bool has_gpu = pd_i_report_tokens_per_gpu(c, &per_gpu), has_ttft, has_tpot;
	pd_i_report_latency(c, &ttft, &has_ttft, &tpot, &has_tpot);
	put(b, o, "tokens_per_s_per_gpu", num_or_null(has_gpu, per_gpu));
	put(b, o, "ttft_ms", num_or_null(has_ttft, ttft));
	put(b, o, "tpot_ms", num_or_null(has_tpot, tpot));
	put(b, o, "target_ttft_ms", num_or_null(w->has_target_ttft, w->target_ttft_ms));
	put(b, o, "target_tpot_ms", num_or_null(w->has_target_tpot, w->target_tpot_ms));
	return o;
}

static cJSON *j_pool(jb *b, const pd_compilation *c, uint32_t p)
{
	pd_i_report_pool r;
	pd_i_report_pool_row(c, p, &r);
	cJSON *o = cJSON_CreateObject();
	put(b, o, "phase", cJSON_CreateString(r.phase));
	put(b, o, "gpus", num((double)r.gpus));
	put(b, o, "replicas", num((double)r.replicas));
	put(b, o, "batch", num((double)r.batch));
	put(b, o, "context", num((double)r.context));
	put(b, o, "step_latency_us", num_or_null(r.has_step, r.step_us));
	put(b, o, "tokens_per_s_per_gpu", num_or_null(r.has_step, r.tokens_per_s_per_gpu));
	put(b, o, "peak_memory_fraction", num(r.peak_memory_fraction));
	put(b, o, "sequences_per_s", num_or_null(r.has_step, r.sequences_per_s));
	return o;
}

/* pools [{phase, gpus, replicas, batch, context, ...}] and handover {...}: only in the
 * report of a pooled plan (docs/pools.md), so that other reports keep their bytes. */
static void j_pooled(jb *b, cJSON *root, const pd_compilation *c)
{
	const pd_analysis *an = &c->analysis;
	if (!pd_i_report_has_analysis(c) || !pd_plan_is_pooled(c->plan) ||
	    an->n_pools < c->plan->strategy.n_pools)
		return;
	cJSON *a = cJSON_CreateArray();
	for (uint32_t p = 0; p < an->n_pools && a; p++)
		push(b, a, j_pool(b, c, p));
	put(b, root, "pools", a);
	cJSON *h = cJSON_CreateObject();
	put(b, h, "bytes_per_request", num(an->handover_bytes_per_request));
	put(b, h, "bytes_per_step", num(an->handover_bytes_per_step));
	put(b, h, "bytes_per_gpu", num(an->handover_bytes_per_gpu));
	put(b, h, "time_us", num(an->handover_us));
	put(b, h, "link", cJSON_CreateString(pd_i_report_handover_link(an)));
	put(b, root, "handover", h);
}

static cJSON *j_time_numbers(jb *b, const double *t)
{
	cJSON *o = cJSON_CreateObject();
	put(b, o, "compute_us", num(t[PD_I_T_COMPUTE]));
	put(b, o, "memory_us", num(t[PD_I_T_MEMORY]));
	put(b, o, "comm_exposed_us", num(t[PD_I_T_EXPOSED]));
	put(b, o, "comm_hidden_us", num(t[PD_I_T_HIDDEN]));
	return o;
}

/* time_breakdown: the totals on the GPU where the step ends, idle time and the
 * phases; null before the DAG was scheduled. */
static cJSON *j_time_breakdown(jb *b, const pd_compilation *c)
{
	pd_i_report_time t;
	if (pd_i_report_time_compute(c, &t) != PD_OK)
		b->status = PD_IO;
	if (!t.has)
		return cJSON_CreateNull();
	const pd_time_breakdown *x = &t.total;
	double totals[PD_I_T__COUNT] = {x->compute_us, x->memory_us, x->comm_exposed_us,
	                                x->comm_hidden_us};
	cJSON *o = j_time_numbers(b, totals), *phases = cJSON_CreateArray();
	put(b, o, "idle_us", num(x->idle_us));
	put(b, o, "gpu", num(x->gpu));
	put(b, o, "step_us", num(t.makespan_us));
	for (int i = 0; i < PD_I_PHASES && phases; i++) {
		cJSON *p = j_time_numbers(b, t.phase[i]);
		put(b, p, "phase", cJSON_CreateString(pd_i_report_phase_name(i)));
		push(b, phases, p);
	}
	put(b, o, "phases", phases);
	return o;
}

static cJSON *j_critical_path(jb *b, const pd_compilation *c)
{
	const pd_critical_path *cp = &c->cp;
	if (c->reached < PD_STAGE_CHECK)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject(), *top = cJSON_CreateArray();
	put(b, o, "latency_us", num(cp->latency_us));
	put(b, o, "nodes", num(cp->n));
	for (uint32_t i = 0; i < cp->n_top && i < 10 && top; i++) {
		cJSON *t = cJSON_CreateObject();
		put(b, t, "kind", str_or_null(pd_node_kind_name((pd_node_kind)cp->top[i].kind)));
		put(b, t, "gpu", num(cp->top[i].gpu));
		put(b, t, "us", num(cp->top[i].us));
		put(b, t, "count", num(cp->top[i].count));
		push(b, top, t);
	}
	put(b, o, "top", top);
	return o;
}

static cJSON *j_counts(jb *b, const uint64_t *counts, int n, const char *(*name)(int))
{
	cJSON *o = cJSON_CreateObject();
	for (int k = 0; k < n && o; k++) {
		const char *s = name(k);
		if (s)
			put(b, o, s, num((double)counts[k]));
	}
	return o;
}

static const char *node_kind(int k)
{
	return pd_node_kind_name((pd_node_kind)k);
}

static const char *edge_kind(int k)
{
	return pd_edge_kind_name((pd_edge_kind)k);
}

static cJSON *j_dag(jb *b, const pd_compilation *c)
{
	const pd_dag_stats *st = &c->stats;
	if (c->reached < PD_STAGE_LOWER)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	put(b, o, "nodes", num((double)st->nodes));
	put(b, o, "edges", num((double)st->edges));
	put(b, o, "hubs", num((double)st->hubs));
	put(b, o, "gpus_used", num(st->gpus_used));
	put(b, o, "by_kind", j_counts(b, st->by_kind, PD_N__COUNT, node_kind));
	put(b, o, "edges_by_kind", j_counts(b, st->edges_by_kind, PD_E__COUNT, edge_kind));
	return o;
}

static cJSON *j_estimate(jb *b, const pd_compilation *c)
{
	if (c->est_nodes + c->est_edges == 0)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	put(b, o, "nodes", num((double)c->est_nodes));
	put(b, o, "edges", num((double)c->est_edges));
	put(b, o, "lowered", cJSON_CreateBool(c->reached >= PD_STAGE_LOWER));
	return o;
}

static cJSON *j_assumptions(jb *b, const pd_plan *p)
{
	char texts[PD_I_REPORT_MAX_ASSUMED][PD_I_REPORT_LINE];
	size_t n = pd_i_report_assumptions(p, texts, PD_I_REPORT_MAX_ASSUMED);
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n && a; i++)
		push(b, a, cJSON_CreateString(texts[i]));
	return a;
}

/* {"preset": "h800", "values": [{"attribute", "value", "unit", "source"}]}: only for a
 * plan with <cluster gpu>, so that other reports stay as they were. */
static cJSON *j_cluster(jb *b, const pd_cluster *c)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
	put(b, o, "preset", cJSON_CreateString(c->gpu));
	for (int k = 0; k < PD_I_N_GPU_VALUES; k++) {
		const char *src = pd_i_gpu_value_source(c, (pd_i_gpu_value)k);
		const pd_i_gpu_field *f = &pd_i_gpu_fields[k];
		if (!src)
			continue;
		cJSON *v = cJSON_CreateObject();
		put(b, v, "attribute", cJSON_CreateString(f->attribute));
		put(b, v, "value", num(pd_i_gpu_cluster_value(c, k) / f->unit_scale));
		put(b, v, "unit", cJSON_CreateString(f->unit));
		put(b, v, "source", cJSON_CreateString(src));
		push(b, a, v);
	}
	put(b, o, "values", a);
	return o;
}

static cJSON *j_hierarchy(const pd_compilation *c)
{
	if (!c->plan || c->reached < PD_STAGE_EXPAND)
		return cJSON_CreateNull();
	char *tree = pd_i_report_tree(c->plan);
	cJSON *s = tree ? cJSON_CreateString(tree) : NULL;
	free(tree);
	return s;
}

/* Members that need the rules' analysis; null before the rules ran.  The memory array
 * is added here only when small (see print_streamed). */
static void j_analysis(jb *b, cJSON *root, const pd_compilation *c, bool with_memory)
{
	bool has = pd_i_report_has_analysis(c);
	const pd_analysis *an = &c->analysis;
	put(b, root, "gpus", has ? j_gpus(b, c) : cJSON_CreateNull());
	put(b, root, "params", has ? j_params(b, c) : cJSON_CreateNull());
	put(b, root, "kv_bytes_per_token", num_or_null(has, an->kv_bytes_per_token));
	put(b, root, "activation_formula", str_or_null(has ? an->activation_formula : NULL));
	put(b, root, "throughput", has ? j_throughput(b, c) : cJSON_CreateNull());
	j_pooled(b, root, c);
	put(b, root, "time_breakdown", j_time_breakdown(b, c));
	put(b, root, "critical_path", j_critical_path(b, c));
	put(b, root, "dag", j_dag(b, c));
	put(b, root, "dag_estimate", j_estimate(b, c));
	if (with_memory)
		put(b, root, "memory", has ? j_memory(b, an) : cJSON_CreateNull());
}

static cJSON *j_root(jb *b, const pd_compilation *c, bool with_memory)
{
	const pd_plan *p = c->plan;
	cJSON *root = cJSON_CreateObject();
	put(b, root, "plan", str_or_null(p ? p->name : NULL));
	put(b, root, "file", str_or_null(c->path));
	put(b, root, "verdict", cJSON_CreateString(pd_i_report_verdict(c)));
	put(b, root, "errors", num((double)c->diags.errors));
	put(b, root, "warnings", num((double)c->diags.warnings));
	put(b, root, "stage_reached", cJSON_CreateString(pd_i_report_stage_name(c->reached)));
	put(b, root, "diagnostics", j_diagnostics(b, c));
	put(b, root, "diagnostics_omitted", j_diagnostics_omitted(b, c));
	j_analysis(b, root, c, with_memory);
	put(b, root, "assumptions", p ? j_assumptions(b, p) : cJSON_CreateNull());
	if (p && p->cluster.gpu)
		put(b, root, "cluster", j_cluster(b, &p->cluster));
	put(b, root, "hierarchy", j_hierarchy(c));
	return root;
}

/* Big plans: every member but `memory` printed by cJSON in one piece, then the memory
 * rows printed by cJSON one at a time, so that a million rows never live as cJSON
 * trees at once.  `memory` is the last member. */
static pd_status print_streamed(FILE *f, jb *b, cJSON *root, const pd_analysis *an)
{
	char *head = cJSON_PrintUnformatted(root);
	size_t n = head ? strlen(head) : 0;
	if (n < 2 || head[n - 1] != '}') {
		free(head);
		return PD_IO;
	}
	fwrite(head, 1, n - 1, f);
	free(head);
	fputs(",\"memory\":[", f);
	char row[1024];
	for (uint32_t i = 0; i < an->n_memory && b->status == PD_OK; i++) {
		cJSON *r = j_memory_row(b, an, &an->memory[i]);
		if (!r || !cJSON_PrintPreallocated(r, row, (int)sizeof(row), 0))
			b->status = PD_IO;
		else
			fprintf(f, "%s%s", i ? "," : "", row);
		cJSON_Delete(r);
	}
	fputs("]}\n", f);
	return b->status;
}

pd_status pd_i_report_json(FILE *f, const pd_compilation *c)
{
	jb b = {.status = PD_OK};
	bool big = pd_i_report_has_analysis(c) && c->analysis.n_memory > PD_I_REPORT_BIG;
	cJSON *root = j_root(&b, c, !big);
	pd_status s = PD_IO;
	if (root && b.status == PD_OK && big) {
		s = print_streamed(f, &b, root, &c->analysis);
	} else if (root && b.status == PD_OK) {
		char *text = cJSON_Print(root);
		if (text && fputs(text, f) >= 0 && fputc('\n', f) != EOF)
			s = PD_OK;
		free(text);
	}
	cJSON_Delete(root);
	return s;
}
