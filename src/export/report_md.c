/* report_md.c - the analysis report as Markdown (the default of `plandag report`). */
#include "export/report_i.h"
#include "util/util.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Every string from the plan, its path or a message quoting them goes through md_text
 * or md_code: nothing a user wrote can end a code block, open a link or an HTML tag, or
 * break a table. */

/* s as Markdown text: control characters become spaces, HTML metacharacters entities,
 * Markdown metacharacters backslash escapes. */
static void md_text(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fputc(' ', f);
		else if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '>')
			fputs("&gt;", f);
		else if (*p == '&')
			fputs("&amp;", f);
		else if (strchr("\\`*_[]#!|~", *p))
			fprintf(f, "\\%c", *p);
		else
			fputc(*p, f);
	}
}

/* Length of the longest run of backticks in s. */
static size_t backtick_run(const char *s)
{
	size_t best = 0, run = 0;
	for (; s && *s; s++) {
		run = *s == '`' ? run + 1 : 0;
		best = run > best ? run : best;
	}
	return best;
}

static void fence(FILE *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc('`', f);
}

/* s as a code span: fenced by more backticks than any run inside, control characters
 * as spaces, padded when it starts or ends with a backtick. */
static void md_code(FILE *f, const char *s)
{
	size_t n = backtick_run(s) + 1;
	size_t len = s ? strlen(s) : 0;
	bool pad = len && (s[0] == '`' || s[len - 1] == '`');
	fence(f, n);
	if (pad)
		fputc(' ', f);
	for (size_t i = 0; i < len; i++)
		fputc((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i], f);
	if (pad)
		fputc(' ', f);
	fence(f, n);
}

/* s as a link destination: every byte but [A-Za-z0-9._~/-] percent-encoded. */
static void md_url(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (isalnum(*p) || strchr("._~/-", *p))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
}

/* The picture of this run under its view's name: shown when PNG or SVG, linked (a PDF). */
static void md_picture(FILE *f, const char *picture, const char *caption)
{
	size_t n = strlen(picture);
	int shown = n < 4 || strcmp(picture + n - 4, ".pdf") != 0;
	fputs(shown ? "![" : "Picture: [", f);
	md_text(f, caption && *caption ? caption : "picture");
	fputs("](", f);
	md_url(f, picture);
	fputs(")\n\n", f);
}

static void md_header(FILE *f, const pd_compilation *c, const char *picture,
                      const char *caption)
{
	const char *name = c->plan && c->plan->name ? c->plan->name : NULL;
	fputs("# plandag report: ", f);
	md_text(f, name ? name : (c->path ? c->path : "(no plan)"));
	fputs("\n\n", f);
	if (c->path) {
		fputs("File: ", f);
		md_code(f, c->path);
		fputs("\n\n", f);
	}
	fprintf(f, "**Verdict: %s** (%zu error(s), %zu warning(s); stages reached: %s)\n\n",
	        c->status == PD_IO ? "not completed (I/O or resource error)"
	                           : pd_i_report_verdict(c),
	        c->diags.errors, c->diags.warnings, pd_i_report_stage_name(c->reached));
	if (picture)
		md_picture(f, picture, caption);
}

static void md_item(FILE *f, const char *lead, const char *text)
{
	fputs(lead, f);
	md_text(f, text);
	fputc('\n', f);
}

static void md_diagnostics(FILE *f, const pd_compilation *c)
{
	fputs("## Diagnostics\n\n", f);
	if (c->diags.n == 0) {
		fputs("No violations.\n\n", f);
		return;
	}
	for (size_t i = 0; i < c->diags.n; i++) {
		const pd_diag *d = &c->diags.items[i];
		char impact[256];
		fprintf(f, "- **%s** `[%s]`", pd_severity_name(d->severity), d->rule);
		if (d->line > 0)
			fprintf(f, " line %ld", d->line);
		if (d->line > 0 && d->column > 0)
			fprintf(f, ":%d", d->column);
		md_item(f, ": ", d->message ? d->message : "");
		if (d->fix)
			md_item(f, "  - fix: ", d->fix);
		if (pd_i_report_impact(c, d, impact, sizeof(impact)))
			md_item(f, "  - impact: ", impact);
	}
	for (size_t i = 0; i < c->diags.n_rules; i++)
		if (c->diags.rules[i].dropped > 0)
			fprintf(f, "- %zu more `[%s]` diagnostic(s) not shown\n",
			        c->diags.rules[i].dropped, c->diags.rules[i].rule);
	fputc('\n', f);
}

static void md_gpus(FILE *f, const pd_compilation *c)
{
	const pd_plan *p = c->plan;
	const pd_analysis *an = &c->analysis;
	char buf[512];
	int64_t dp, pp, size;
	fputs("## GPU count\n\n", f);
	if (p->strategy.has_declared_gpus)
		fprintf(f, "- declared: %" PRId64 "\n", p->strategy.declared_gpus);
	else
		fputs("- declared: not given\n", f);
	fprintf(f, "- structural: %" PRId64 " = Σ replicas Σ stages |GPUs| = %s\n",
	        an->gpus_structural, pd_i_report_gpu_sum(p, buf, sizeof(buf)));
	if (pd_i_report_uniform(p, &dp, &pp, &size))
		fprintf(f,
		        "- uniform plan: DP x PP x stage_size = %" PRId64 " x %" PRId64
		        " x %" PRId64 " = %" PRId64 "\n",
		        dp, pp, size, dp * pp * size);
	pd_i_report_product(an, buf, sizeof(buf));
	fprintf(f, "- multiplicative product (not a GPU count): %s\n", buf);
	fprintf(f, "- cluster: %" PRId64 " GPUs (%" PRId64 " nodes x %" PRId64 ")\n\n",
	        an->gpus_cluster, p->cluster.nodes, p->cluster.gpus_per_node);
}

/* The dtypes that differ from the weights' (kv-dtype, expert-dtype, MLA). */
static void md_dtypes(FILE *f, const pd_model *m)
{
	pd_dtype e = pd_model_expert_dtype(m), kv = pd_model_kv_dtype(m);
	if (m->experts > 0 && e != m->dtype)
		fprintf(f, "- expert weights in %s\n", pd_dtype_name(e));
	if (kv != m->dtype)
		fprintf(f, "- KV cache in %s\n", pd_dtype_name(kv));
	if (pd_model_is_mla(m))
		fprintf(
		    f,
		    "- attention: multi-head latent (kv-lora-rank %lld + qk-rope-dim %lld cached "
		    "per token and layer)\n",
		    (long long)m->kv_lora, (long long)m->qk_rope);
}

static void md_params(FILE *f, const pd_compilation *c)
{
	const pd_plan *p = c->plan;
	const pd_analysis *an = &c->analysis;
	char w[32], kv[32];
	pd_i_format_bytes(an->weight_bytes, w, sizeof(w));
	pd_i_format_bytes(an->kv_bytes_per_token, kv, sizeof(kv));
	fputs("## Model\n\n", f);
	if (p->model.has_params)
		fprintf(f, "- parameters declared: %.4g\n", p->model.params);
	fprintf(f, "- parameters computed: %.4g (%s weights in %s)\n", an->params_computed, w,
	        pd_dtype_name(p->model.dtype));
	fprintf(
	    f,
	    "- parameters active per token: %.4g (every parameter one token multiplies, the "
	    "LM head included, the embedding lookup not)\n",
	    an->params_active_per_token);
	md_dtypes(f, &p->model);
	fprintf(f, "- KV cache per token (whole model): %s\n\n", kv);
}

static void md_tree(FILE *f, const pd_compilation *c)
{
	char *tree = pd_i_report_tree(c->plan);
	size_t n = backtick_run(tree) < 3 ? 3 : backtick_run(tree) + 1;
	fputs("## Hierarchy (expanded)\n\n", f);
	fence(f, n);
	fputs("text\n", f);
	if (tree)
		fputs(tree, f); /* names on one line each: pd_plan_print_tree escapes them */
	if (!tree || !*tree || tree[strlen(tree) - 1] != '\n')
		fputc('\n', f);
	fence(f, n);
	fputs("\n\n", f);
	free(tree);
}

static void md_memory_row(FILE *f, const pd_analysis *an, uint32_t i, uint32_t end)
{
	const pd_gpu_memory *m = &an->memory[i];
	const double v[6] = {m->weights, m->kv_cache, m->activations,
	                     m->reserve, m->total,    m->capacity};
	char gpus[96], b[32];
	pd_i_report_gpu_list(an, i, end, gpus, sizeof(gpus));
	fprintf(f, "| %s%s%s | %d | %d |", gpus, end - i > 1 ? " (identical)" : "",
	        pd_i_report_gpu_outside(an, m) ? " (not in the cluster)" : "", (int)m->stage,
	        (int)m->experts);
	for (int k = 0; k < 6; k++) {
		pd_i_format_bytes(v[k], b, sizeof(b));
		fprintf(f, " %s |", b);
	}
	fprintf(f, " %s |\n", pd_i_report_percent(m->total, m->capacity, 1, b, sizeof(b)));
}

static void md_memory(FILE *f, const pd_compilation *c)
{
	const pd_analysis *an = &c->analysis;
	fputs("## Memory per GPU\n\n", f);
	if (an->n_memory == 0 || !an->memory) {
		fputs("No GPU could be assigned memory.\n\n", f);
		return;
	}
	fputs("| GPUs | stage | experts | weights | KV cache | activations | reserve (10 %) "
	      "| total | capacity | use |\n"
	      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
	      f);
	uint32_t rows = 0, i = 0;
	while (i < an->n_memory && rows < PD_I_REPORT_MD_ROWS) {
		uint32_t end = pd_i_report_memory_run(an, i);
		md_memory_row(f, an, i, end);
		rows++;
		i = end;
	}
	if (i < an->n_memory)
		fprintf(f, "\n%u more GPUs not shown (see `--format json`).\n", an->n_memory - i);
	if (an->activation_formula)
		fprintf(f, "\nActivations: %s\n", an->activation_formula);
	fputc('\n', f);
}

static void md_pool_row(FILE *f, const pd_compilation *c, uint32_t p)
{
	pd_i_report_pool r;
	pd_i_report_pool_row(c, p, &r);
	char pc[32];
	fprintf(f, "| %s | %lld | %lld | %lld | %lld | %s |", r.phase, (long long)r.gpus,
	        (long long)r.replicas, (long long)r.batch, (long long)r.context,
	        pd_i_report_percent(r.peak_memory_fraction, 1, 1, pc, sizeof(pc)));
	if (r.has_step)
		fprintf(f, " %.1f | %.1f | %.2f |\n", r.step_us / 1000.0, r.tokens_per_s_per_gpu,
		        r.sequences_per_s);
	else
		fputs(" n/a | n/a | n/a |\n", f);
}

/* A pooled plan: each pool and the KV hand-over between them (docs/pools.md). */
static void md_pools(FILE *f, const pd_compilation *c)
{
	const pd_analysis *an = &c->analysis;
	if (!pd_plan_is_pooled(c->plan) || an->n_pools < c->plan->strategy.n_pools)
		return;
	fputs("## Pools\n\n"
	      "| pool | GPUs | replicas | batch | context (tokens) | peak memory | step (ms) | "
	      "tokens/s per GPU | sequences/s |\n"
	      "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
	      f);
	for (uint32_t p = 0; p < an->n_pools; p++)
		md_pool_row(f, c, p);
	fputs("\nContext: the prefill pool's is input-tokens, the decode pool's input-tokens + "
	      "output-tokens (its KV at the end of generation). Tokens/s per GPU: prompt "
	      "tokens (prefill), generated tokens (decode). Sequences/s: what the prefill "
	      "pool supplies and the decode pool serves (batch / (step x output-tokens)).\n\n",
	      f);
	char req[32], step[32], gpu[32];
	pd_i_format_bytes(an->handover_bytes_per_request, req, sizeof(req));
	pd_i_format_bytes(an->handover_bytes_per_step, step, sizeof(step));
	pd_i_format_bytes(an->handover_bytes_per_gpu, gpu, sizeof(gpu));
	fprintf(f,
	        "### KV hand-over\n\n- per request: %s (the prompt's KV cache, every layer)\n"
	        "- per prefill step: %s (%u replica(s) x %lld prompts)\n"
	        "- busiest prefill GPU: %s in %.3f ms over %s\n\n",
	        req, step, c->plan->strategy.pools[0].n_replicas,
	        (long long)c->plan->strategy.pools[0].batch, gpu, an->handover_us / 1000.0,
	        an->handover_network ? "the scale-out network" : "NVLink");
}

/* The deployment's throughput of a pooled plan: the slower pool's sequences. */
static void md_pooled_throughput(FILE *f, const pd_compilation *c)
{
	const pd_analysis *an = &c->analysis;
	const pd_workload *w = &c->plan->workload;
	fprintf(f,
	        "- estimate: %.2f tokens/ms generated (source: %s): the slower pool's "
	        "sequences/s x %lld output tokens\n",
	        an->tokens_per_ms,
	        an->throughput_source == PD_THROUGHPUT_DAG ? "DAG schedule per pool"
	                                                   : "roofline estimate",
	        (long long)w->output_tokens);
	if (an->n_pools == 2)
		fprintf(f,
		        "- balance: the prefill pool supplies %.2f sequences/s, the decode pool "
		        "serves %.2f\n",
		        an->pools[0].sequences_per_s, an->pools[1].sequences_per_s);
	if (w->has_target)
		fprintf(f, "- target: %.2f tokens/ms (%s)\n", w->target,
		        an->tokens_per_ms >= w->target ? "met" : "missed");
	else
		fputs("- target: none given\n", f);
	double per_gpu;
	if (pd_i_report_tokens_per_gpu(c, &per_gpu))
		fprintf(f, "- per GPU: %.1f generated tokens/s over all %lld GPUs\n", per_gpu,
		        (long long)an->gpus_structural);
	fprintf(f, "- TTFT: %.3f ms (prefill step %.3f ms + KV hand-over %.3f ms)", an->ttft_ms,
	        an->ttft_ms - an->handover_us / 1000.0, an->handover_us / 1000.0);
	if (w->has_target_ttft)
		fprintf(f, ", target %.3f ms (%s)", w->target_ttft_ms,
		        an->ttft_ms <= w->target_ttft_ms ? "met" : "missed");
	fprintf(f, "\n- TPOT: %.3f ms (the decode step at %lld tokens of context)", an->tpot_ms,
	        (long long)pd_plan_pool_context(c->plan, PD_DECODE));
	if (w->has_target_tpot)
		fprintf(f, ", target %.3f ms (%s)", w->target_tpot_ms,
		        an->tpot_ms <= w->target_tpot_ms ? "met" : "missed");
	fputs("\n\n", f);
}

static void md_latency(FILE *f, const pd_compilation *c);

static void md_throughput(FILE *f, const pd_compilation *c)
{
	const pd_plan *p = c->plan;
	const pd_analysis *an = &c->analysis;
	fputs("## Throughput\n\n", f);
	if (an->throughput_source == PD_THROUGHPUT_NONE) {
		fputs("Not estimated (the plan is too broken to estimate).\n\n", f);
		return;
	}
	if (pd_plan_is_pooled(p)) {
		md_pooled_throughput(f, c);
		return;
	}
	fprintf(f, "- estimate: %.2f tokens/ms (source: %s)\n", an->tokens_per_ms,
	        an->throughput_source == PD_THROUGHPUT_DAG ? "DAG critical path"
	                                                   : "roofline estimate");
	fprintf(f, "- step latency: %.1f us for %.0f tokens per replica (%s)\n",
	        an->step_latency_us, an->step_tokens, pd_phase_name(p->workload.phase));
	if (p->workload.has_target)
		fprintf(f, "- target: %.2f tokens/ms (%s)\n", p->workload.target,
		        an->tokens_per_ms >= p->workload.target ? "met" : "missed");
	else
		fputs("- target: none given\n", f);
	md_latency(f, c);
	fputc('\n', f);
}

/* "- TTFT: 1.9 ms (target 2 ms: met)" for the plan's phase; tokens/s per GPU. */
static void md_latency(FILE *f, const pd_compilation *c)
{
	const pd_workload *w = &c->plan->workload;
	double per_gpu, ttft, tpot;
	bool has_ttft, has_tpot;
	if (pd_i_report_tokens_per_gpu(c, &per_gpu))
		fprintf(f, "- per GPU: %.1f tokens/s\n", per_gpu);
	pd_i_report_latency(c, &ttft, &has_ttft, &tpot, &has_tpot);
	bool prefill = w->phase == PD_PREFILL;
	double ms = prefill ? ttft : tpot,
	       target = prefill ? w->target_ttft_ms : w->target_tpot_ms;
	bool has_target = prefill ? w->has_target_ttft : w->has_target_tpot;
	fprintf(f, "- %s: %.3f ms (%s)", prefill ? "TTFT" : "TPOT", ms,
	        prefill ? "the prefill step" : "the decode step, per output token");
	if (has_target)
		fprintf(f, ", target %.3f ms (%s)", target, ms <= target ? "met" : "missed");
	fprintf(f, "; %s: not applicable to a %s plan\n", prefill ? "TPOT" : "TTFT",
	        pd_phase_name(w->phase));
}

static void md_time_row(FILE *f, const char *name, const double *t, double step)
{
	char pc[4][32];
	for (int i = 0; i < PD_I_T__COUNT; i++)
		pd_i_report_percent(t[i], step, 0, pc[i], sizeof(pc[i]));
	fprintf(f, "| %s | %.1f (%s) | %.1f (%s) | %.1f (%s) | %.1f (%s) |\n", name,
	        t[PD_I_T_COMPUTE], pc[0], t[PD_I_T_MEMORY], pc[1], t[PD_I_T_EXPOSED], pc[2],
	        t[PD_I_T_HIDDEN], pc[3]);
}

/* Where the step goes on the GPU where it ends, by phase of a layer. */
static void md_time(FILE *f, const pd_compilation *c)
{
	pd_i_report_time t;
	if (pd_i_report_time_compute(c, &t) != PD_OK || !t.has)
		return;
	const pd_time_breakdown *x = &t.total;
	fprintf(f,
	        "## Where the step goes\n\nOn GPU %d, where the %.1f us step ends (stream "
	        "schedule): compute-bound %.1f us, memory-bound %.1f us, exposed communication "
	        "%.1f us, communication hidden behind compute %.1f us, idle %.1f us (waiting "
	        "for other GPUs).\n\n",
	        (int)x->gpu, t.makespan_us, x->compute_us, x->memory_us, x->comm_exposed_us,
	        x->comm_hidden_us, x->idle_us);
	fputs("| phase | compute us | memory us | exposed comm us | hidden comm us |\n"
	      "|---|---:|---:|---:|---:|\n",
	      f);
	for (int i = 0; i < PD_I_PHASES; i++)
		md_time_row(f, pd_i_report_phase_name(i), t.phase[i], t.makespan_us);
	fputc('\n', f);
}

static void md_critical_path(FILE *f, const pd_compilation *c)
{
	const pd_critical_path *cp = &c->cp;
	if (c->reached < PD_STAGE_CHECK || cp->n_top == 0)
		return;
	fprintf(f, "## Critical path\n\n%.1f us over %u nodes; top contributors:\n\n",
	        cp->latency_us, cp->n);
	fputs("| kind | GPU | us | nodes | share |\n|---|---:|---:|---:|---:|\n", f);
	for (uint32_t i = 0; i < cp->n_top && i < 10; i++) {
		const struct pd_cp_contrib *t = &cp->top[i];
		const char *kind = pd_node_kind_name((pd_node_kind)t->kind);
		char share[32];
		fprintf(f, "| %s | %d | %.1f | %u | %s |\n", kind ? kind : "?", (int)t->gpu, t->us,
		        t->count,
		        pd_i_report_percent(t->us, cp->latency_us, 0, share, sizeof(share)));
	}
	fputc('\n', f);
}

static void md_dag(FILE *f, const pd_compilation *c)
{
	const pd_dag_stats *st = &c->stats;
	fputs("## DAG statistics\n\n", f);
	if (c->reached < PD_STAGE_LOWER) {
		if (c->status == PD_IO)
			fputs("Not lowered: see the `[io]` error above.\n\n", f);
		else if (c->over_limit)
			fprintf(f,
			        "Not lowered: it would have %llu nodes and %llu edges, above the "
			        "limit (pass `--allow-large` to lower it anyway).\n\n",
			        (unsigned long long)c->est_nodes, (unsigned long long)c->est_edges);
		else
			fputs("Not lowered (the plan has errors).\n\n", f);
		return;
	}
	fprintf(f, "%llu nodes (%llu collective hubs), %llu edges, %d GPUs.\n\n",
	        (unsigned long long)st->nodes, (unsigned long long)st->hubs,
	        (unsigned long long)st->edges, (int)st->gpus_used);
	fputs("| node kind | count |\n|---|---:|\n", f);
	for (int k = 0; k < PD_N__COUNT; k++)
		if (st->by_kind[k])
			fprintf(f, "| %s | %llu |\n", pd_node_kind_name((pd_node_kind)k),
			        (unsigned long long)st->by_kind[k]);
	fputs("\n| edge kind | count |\n|---|---:|\n", f);
	for (int k = 0; k < PD_E__COUNT; k++)
		if (st->edges_by_kind[k])
			fprintf(f, "| %s | %llu |\n", pd_edge_kind_name((pd_edge_kind)k),
			        (unsigned long long)st->edges_by_kind[k]);
	fputc('\n', f);
}

static void md_assumptions(FILE *f, const pd_compilation *c)
{
	char texts[PD_I_REPORT_MAX_ASSUMED][PD_I_REPORT_LINE];
	size_t n = pd_i_report_assumptions(c->plan, texts, PD_I_REPORT_MAX_ASSUMED);
	fputs("## Assumptions\n\n", f);
	if (n == 0)
		fputs("- none: every performance and workload attribute was given\n", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "- %s\n", texts[i]);
	fputs("- memory: 10 % reserve on top of weights, KV cache and activations\n", f);
	if (c->analysis.activation_formula)
		fprintf(f, "- activations: %s\n", c->analysis.activation_formula);
	fputc('\n', f);
}

pd_status pd_i_report_md(FILE *f, const pd_compilation *c, const char *picture,
                         const char *caption)
{
	md_header(f, c, picture, caption);
	md_diagnostics(f, c);
	if (!c->plan)
		return PD_OK;
	bool has = pd_i_report_has_analysis(c);
	if (has) {
		md_gpus(f, c);
		md_params(f, c);
	}
	if (c->reached >= PD_STAGE_EXPAND)
		md_tree(f, c);
	if (!has)
		return PD_OK;
	md_memory(f, c);
	md_pools(f, c);
	md_throughput(f, c);
	md_time(f, c);
	md_critical_path(f, c);
	md_dag(f, c);
	md_assumptions(f, c);
	return PD_OK;
}
