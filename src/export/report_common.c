/* report_common.c - what both report writers (report_md.c, report_json.c) need: the
 * arithmetic and the texts of the analysis.  It calls neither writer: report.c ->
 * report_md.c / report_json.c -> report_common.c. */
#include "export/report_i.h"
#include "plan/defaults.h"
#include "plan/gpus.h"
#include "plan/rules.h" /* pd_i_strategy_uniform */
#include "util/util.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *pd_i_report_verdict(const pd_compilation *c)
{
	return (c->diags.errors > 0 || c->status != PD_OK) ? "invalid" : "valid";
}

const char *pd_i_report_stage_name(pd_stage_id s)
{
	static const char *const names[] = {"none",     "parse", "expand",
	                                    "validate", "lower", "check"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "none";
}

const char *pd_i_report_source_name(pd_throughput_source s)
{
	if (s == PD_THROUGHPUT_ROOFLINE)
		return "analytic";
	if (s == PD_THROUGHPUT_DAG)
		return "schedule";
	return NULL;
}

bool pd_i_report_tokens_per_gpu(const pd_compilation *c, double *out)
{
	const pd_analysis *an = &c->analysis;
	if (an->throughput_source == PD_THROUGHPUT_NONE || an->gpus_structural <= 0)
		return false;
	*out = an->tokens_per_ms * 1000.0 / (double)an->gpus_structural;
	return true;
}

bool pd_i_report_latency(const pd_compilation *c, double *ttft, bool *has_ttft,
                         double *tpot, bool *has_tpot)
{
	const pd_analysis *an = &c->analysis;
	bool has = an->throughput_source != PD_THROUGHPUT_NONE;
	if (pd_plan_is_pooled(c->plan)) {
		*has_ttft = *has_tpot = has;
		*ttft = has ? an->ttft_ms : 0;
		*tpot = has ? an->tpot_ms : 0;
		return has;
	}
	bool prefill = c->plan->workload.phase == PD_PREFILL;
	*has_ttft = has && prefill;
	*has_tpot = has && !prefill;
	*ttft = *has_ttft ? an->step_latency_us / 1000.0 : 0;
	*tpot = *has_tpot ? an->step_latency_us / 1000.0 : 0;
	return has;
}

bool pd_i_report_has_analysis(const pd_compilation *c)
{
	return c->plan && c->reached >= PD_STAGE_VALIDATE;
}

bool pd_i_report_uniform(const pd_plan *p, int64_t *dp, int64_t *pp, int64_t *size)
{
	uint32_t d, n, z;
	if (!pd_i_strategy_uniform(&p->strategy, &d, &n, &z))
		return false;
	*dp = d;
	*pp = n;
	*size = z;
	return true;
}

/* Appends to buf at *used without overflowing; keeps the text NUL-terminated. */
static void append(char *buf, size_t size, size_t *used, const char *fmt, int64_t v)
{
	if (*used >= size)
		return;
	int n = snprintf(buf + *used, size - *used, fmt, v);
	if (n > 0)
		*used += (size_t)n < size - *used ? (size_t)n : size - *used - 1;
}

char *pd_i_report_gpu_sum(const pd_plan *p, char *buf, size_t size)
{
	const pd_strategy *s = &p->strategy;
	size_t used = 0, terms = 0;
	int64_t total = 0;
	buf[0] = '\0';
	for (uint32_t r = 0; r < s->n_replicas; r++)
		for (uint32_t i = 0; i < s->replicas[r].n_stages; i++) {
			int64_t n = s->replicas[r].stages[i].n_gpus;
			total += n;
			if (terms < 8)
				append(buf, size, &used, terms ? " + %" PRId64 : "%" PRId64, n);
			else if (terms == 8)
				append(buf, size, &used, " + ...", 0);
			terms++;
		}
	if (terms == 0)
		append(buf, size, &used, "0", 0);
	if (terms > 8)
		append(buf, size, &used, " (%" PRId64 " stages)", (int64_t)terms);
	if (terms > 1)
		append(buf, size, &used, " = %" PRId64, total);
	return buf;
}

void pd_i_report_product(const pd_analysis *an, char *buf, size_t size)
{
	snprintf(buf, size,
	         "DP x TP x PP x EP x SP = %" PRId64 " x %" PRId64 " x %" PRId64 " x %" PRId64
	         " x %" PRId64 " = %" PRId64,
	         an->dp, an->tp, an->pp, an->ep, an->sp, an->gpus_product);
}

/* Cuts text after max_lines lines, noting how many were left out. */
static char *cut_lines(char *text, size_t len, size_t max_lines)
{
	size_t lines = 0, i = 0;
	while (i < len && lines < max_lines)
		if (text[i++] == '\n')
			lines++;
	if (i >= len)
		return text;
	size_t rest = 0;
	for (size_t j = i; j < len; j++)
		rest += text[j] == '\n';
	char note[96];
	int n = snprintf(note, sizeof(note),
	                 "... %zu more lines (plandag compile --dump expand)\n", rest);
	if (n > 0 && (size_t)n < len - i)
		memcpy(text + i, note, (size_t)n + 1);
	return text;
}

char *pd_i_report_tree(const pd_plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	pd_plan_print_tree(p, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return cut_lines(buf, len, PD_I_REPORT_TREE_LINES);
}

const char *pd_i_report_percent(double part, double whole, int decimals, char *buf,
                                size_t size)
{
	double p = whole > 0 ? 100.0 * part / whole : 0.0;
	if (!isfinite(p))
		snprintf(buf, size, "n/a");
	else
		snprintf(buf, size, "%.*f %%", decimals, p);
	return buf;
}

/* Line of the stage a GPU's memory entry belongs to (0 when unknown). */
static long stage_line(const pd_plan *p, const pd_gpu_memory *m)
{
	const pd_strategy *st = &p->strategy;
	if (m->replica < 0 || (uint32_t)m->replica >= st->n_replicas)
		return 0;
	const pd_replica *r = &st->replicas[m->replica];
	return m->stage >= 0 && (uint32_t)m->stage < r->n_stages ? r->stages[m->stage].loc.line
	                                                         : 0;
}

/* The GPU with the highest total / capacity among those of the stage at `line` (every
 * GPU when line is 0 or no stage is there): a memory-capacity error is about one
 * stage, and its impact must name a GPU of that stage. */
static const pd_gpu_memory *worst_gpu(const pd_plan *p, const pd_analysis *an, long line)
{
	const pd_gpu_memory *w = NULL;
	for (int pass = 0; pass < 2 && !w; pass++) {
		for (uint32_t i = 0; i < an->n_memory; i++) {
			const pd_gpu_memory *a = &an->memory[i];
			if (pass == 0 && (line == 0 || stage_line(p, a) != line))
				continue;
			if (!w || a->total * w->capacity > w->total * a->capacity)
				w = a;
		}
	}
	return w;
}

static bool impact_memory(const pd_plan *p, const pd_analysis *an, long line, char *buf,
                          size_t size)
{
	if (an->n_memory == 0)
		return false;
	const pd_gpu_memory *m = worst_gpu(p, an, line);
	char need[32], cap[32], use[32];
	pd_i_format_bytes(m->total, need, sizeof(need));
	pd_i_format_bytes(m->capacity, cap, sizeof(cap));
	snprintf(buf, size, "GPU %d needs %s of %s (%s)", (int)m->gpu, need, cap,
	         pd_i_report_percent(m->total, m->capacity, 0, use, sizeof(use)));
	return true;
}

static bool impact_throughput(const pd_plan *p, const pd_analysis *an, char *buf,
                              size_t size)
{
	if (an->throughput_source == PD_THROUGHPUT_NONE || !p->workload.has_target ||
	    p->workload.target <= 0)
		return false;
	char share[32];
	snprintf(
	    buf, size, "%.2f tokens/ms is %s of the target %.2f (%s, step %.1f us)",
	    an->tokens_per_ms,
	    pd_i_report_percent(an->tokens_per_ms, p->workload.target, 0, share, sizeof(share)),
	    p->workload.target,
	    an->throughput_source == PD_THROUGHPUT_DAG ? "DAG critical path" : "roofline",
	    an->step_latency_us);
	return true;
}

static bool impact_gpus(const pd_plan *p, const pd_analysis *an, char *buf, size_t size)
{
	if (!p->strategy.has_declared_gpus)
		return false;
	int64_t d = p->strategy.declared_gpus;
	snprintf(buf, size,
	         "declared %" PRId64 " vs structural %" PRId64 " (%+" PRId64
	         " GPUs); DP x TP x PP x EP x SP = %" PRId64,
	         d, an->gpus_structural, d - an->gpus_structural, an->gpus_product);
	return true;
}

bool pd_i_report_impact(const pd_compilation *c, const pd_diag *d, char *buf, size_t size)
{
	if (!pd_i_report_has_analysis(c) || !d->rule)
		return false;
	const pd_plan *p = c->plan;
	const pd_analysis *an = &c->analysis;
	if (strcmp(d->rule, PD_RULE_MEMORY_CAPACITY) == 0)
		return impact_memory(p, an, d->line, buf, size);
	if (strcmp(d->rule, PD_RULE_OVER_PROVISIONED) == 0)
		return impact_memory(p, an, 0, buf, size);
	if (strcmp(d->rule, PD_RULE_THROUGHPUT_TARGET) == 0)
		return impact_throughput(p, an, buf, size);
	if (strcmp(d->rule, PD_RULE_MULTIPLICATIVE) == 0)
		return impact_gpus(p, an, buf, size);
	if (strcmp(d->rule, PD_RULE_POOL_BALANCE) == 0 && an->n_pools == 2 &&
	    an->pools[1].sequences_per_s > 0) {
		snprintf(buf, size,
		         "prefill supplies %.4g vs decode serves %.4g sequences/s (ratio %.3g)",
		         an->pools[0].sequences_per_s, an->pools[1].sequences_per_s,
		         an->pools[0].sequences_per_s / an->pools[1].sequences_per_s);
		return true;
	}
	if (strcmp(d->rule, PD_RULE_PARAMS_MISMATCH) == 0 && p->model.has_params &&
	    an->params_computed > 0) {
		snprintf(buf, size, "declared %.4g vs computed %.4g parameters (%+.1f %%)",
		         p->model.params, an->params_computed,
		         100.0 * (p->model.params - an->params_computed) / an->params_computed);
		return true;
	}
	return false;
}

/* The preset of <cluster gpu>, then one line per value: taken from it, or written in
 * the plan over it. */
static size_t preset_lines(const pd_cluster *c, char (*out)[PD_I_REPORT_LINE], size_t max)
{
	const pd_i_gpu_preset *g = pd_i_gpu_preset_of(c->gpu);
	size_t n = 0;
	if (!g || max == 0)
		return 0;
	snprintf(out[n++], PD_I_REPORT_LINE, "gpu: %s preset (%s, docs/gpus.md)", g->name,
	         g->what);
	for (int k = 0; k < PD_I_N_GPU_VALUES && n < max; k++) {
		const char *src = pd_i_gpu_value_source(c, (pd_i_gpu_value)k);
		char v[48], was[48];
		if (!src)
			continue;
		pd_i_gpu_value_text(k, pd_i_gpu_cluster_value(c, k), v, sizeof(v));
		if (strcmp(src, "preset") == 0)
			snprintf(out[n++], PD_I_REPORT_LINE, "%s: %s (%s preset)",
			         pd_i_gpu_fields[k].attribute, v, g->name);
		else if (g->value[k] > 0)
			snprintf(out[n++], PD_I_REPORT_LINE,
			         "%s: %s (written in the plan; the %s preset has %s)",
			         pd_i_gpu_fields[k].attribute, v, g->name,
			         pd_i_gpu_value_text(k, g->value[k], was, sizeof(was)));
		else
			snprintf(out[n++], PD_I_REPORT_LINE, "%s: %s (written in the plan)",
			         pd_i_gpu_fields[k].attribute, v);
	}
	return n;
}

/* Every value of the time model (docs/time-model.md) and where it came from. */
static size_t time_model_lines(const pd_cluster *c, char (*out)[PD_I_REPORT_LINE],
                               size_t max)
{
	size_t n = 0;
	for (int i = 0; i < PD_I_N_TIME_DEFAULTS && n < max; i++) {
		const pd_i_time_default *d = &pd_i_time_defaults[i];
		double v = pd_i_time_value(c, i);
		if (c->eff_written & (1u << i))
			snprintf(out[n++], PD_I_REPORT_LINE, "%s: %g%s%s (written in the plan)",
			         d->attribute, v, d->unit[0] ? " " : "", d->unit);
		else
			snprintf(out[n++], PD_I_REPORT_LINE, "%s: %g%s%s (default; %s)", d->attribute,
			         v, d->unit[0] ? " " : "", d->unit, d->source);
	}
	return n;
}

size_t pd_i_report_assumptions(const pd_plan *p, char (*out)[PD_I_REPORT_LINE], size_t max)
{
	static const struct {
		unsigned bit;
		const char *text;
	} workload[] = {
	    {PD_ASSUMED_WORKLOAD, "no <workload>: every workload default below"},
	    {PD_ASSUMED_PHASE, "phase: decode (default)"},
	    {PD_ASSUMED_BATCH, "batch: 1 sequence per replica (default)"},
	    {PD_ASSUMED_CONTEXT, "context: 2048 tokens (default)"},
	    {PD_ASSUMED_MICRO_BATCHES, "micro-batches: 1 (default)"},
	};
	size_t n = preset_lines(&p->cluster, out, max);
	for (size_t i = 0; i < PD_I_N_CLUSTER_DEFAULTS && n < max; i++)
		if (p->cluster.assumed & pd_i_cluster_defaults[i].bit)
			pd_i_cluster_default_text(&pd_i_cluster_defaults[i], out[n++],
			                          PD_I_REPORT_LINE);
	for (size_t i = 0; i < sizeof(workload) / sizeof(workload[0]) && n < max; i++)
		if (p->workload.assumed & workload[i].bit)
			snprintf(out[n++], PD_I_REPORT_LINE, "%s", workload[i].text);
	return n + time_model_lines(&p->cluster, out + n, max - n);
}

static bool same_memory(const pd_gpu_memory *a, const pd_gpu_memory *b)
{
	return a->stage == b->stage && a->experts == b->experts && a->weights == b->weights &&
	       a->kv_cache == b->kv_cache && a->activations == b->activations &&
	       a->reserve == b->reserve && a->total == b->total && a->capacity == b->capacity;
}

bool pd_i_report_gpu_outside(const pd_analysis *an, const pd_gpu_memory *m)
{
	return m->gpu < 0 || m->gpu >= an->gpus_cluster;
}

/* A run never mixes GPUs of the cluster with ids it does not have (gpu-range). */
uint32_t pd_i_report_memory_run(const pd_analysis *an, uint32_t i)
{
	uint32_t j = i + 1;
	const pd_gpu_memory *m = &an->memory[i];
	while (j < an->n_memory && same_memory(m, &an->memory[j]) &&
	       pd_i_report_gpu_outside(an, m) == pd_i_report_gpu_outside(an, &an->memory[j]))
		j++;
	return j;
}

void pd_i_report_gpu_list(const pd_analysis *an, uint32_t first, uint32_t end, char *buf,
                          size_t size)
{
	size_t used = 0;
	append(buf, size, &used, end - first > 1 ? "GPUs " : "GPU ", 0);
	int32_t *ids = malloc((size_t)(end - first + 1) * sizeof(int32_t));
	if (!ids) { /* out of memory: name the first GPU of the run */
		append(buf, size, &used, "%" PRId64 ",...", an->memory[first].gpu);
		return;
	}
	for (uint32_t i = first; i < end; i++)
		ids[i - first] = an->memory[i].gpu;
	if (used < size)
		pd_i_format_ids(buf + used, size - used, ids, end - first);
	free(ids);
}

void pd_i_report_pool_row(const pd_compilation *c, uint32_t p, pd_i_report_pool *out)
{
	const pd_pool *pool = &c->plan->strategy.pools[p];
	const pd_analysis *pa = &c->analysis.pools[p];
	*out = (pd_i_report_pool){.phase = pd_phase_name(pool->phase),
	                          .gpus = pa->gpus_structural,
	                          .replicas = pool->n_replicas,
	                          .batch = pool->batch,
	                          .context = pd_plan_pool_context(c->plan, pool->phase),
	                          .has_step = pa->throughput_source != PD_THROUGHPUT_NONE,
	                          .step_us = pa->step_latency_us,
	                          .sequences_per_s = pa->sequences_per_s};
	if (out->has_step && pa->gpus_structural > 0)
		out->tokens_per_s_per_gpu =
		    pa->tokens_per_ms * 1000.0 / (double)pa->gpus_structural;
	for (uint32_t i = 0; i < pa->n_memory; i++) {
		const pd_gpu_memory *m = &pa->memory[i];
		if (m->capacity > 0 && m->total / m->capacity > out->peak_memory_fraction)
			out->peak_memory_fraction = m->total / m->capacity;
	}
}

const char *pd_i_report_handover_link(const pd_analysis *an)
{
	return an->handover_network ? "network" : "nvlink";
}
