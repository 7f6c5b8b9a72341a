/* report_suggest.c - what `plandag suggest` prints (Markdown) and its JSON (DESIGN §12):
 * the plan as written and why it falls short, the frontier, the winner. */
#include "export/report_i.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define MAX_ORIGINAL_ERRORS 6

/* "12.5" or "-" for an absent figure. */
static const char *fig(char *buf, size_t n, const char *fmt, double v)
{
	if (!isfinite(v))
		return "-";
	snprintf(buf, n, fmt, v);
	return buf;
}

static const pd_candidate *best_of(const pd_suggest_report *r)
{
	const pd_search_result *res = r->res;
	return res->best >= 0 ? &res->candidates[res->best] : NULL;
}

static void md_row(FILE *f, const pd_candidate *k, const char *mark)
{
	char a[32], b[32], c[32], d[32], e[32], g[32], s[420];
	fprintf(f, "| %s | %lld | %s | %s | %s | %s | %s | %s | %s | %s |\n", mark,
	        (long long)k->gpus, fig(a, sizeof(a), "%.2f", k->tokens_per_ms),
	        fig(b, sizeof(b), "%.1f", k->tokens_per_s_per_gpu),
	        fig(c, sizeof(c), "%.1f", k->step_latency_us),
	        fig(d, sizeof(d), "%.3f", k->ttft_ms), fig(e, sizeof(e), "%.3f", k->tpot_ms),
	        fig(g, sizeof(g), "%.0f %%", 100.0 * k->peak_memory_fraction),
	        pd_candidate_describe(k, s, sizeof(s)), k->scheduled ? "scheduled" : "estimate");
}

static void md_table(FILE *f, const pd_suggest_report *r)
{
	const pd_search_result *res = r->res;
	fputs("Pareto frontier (fewer GPUs, more tokens/s per GPU, shorter step: no candidate "
	      "is as good on all three and better on one):\n\n| | GPUs | tokens/ms | tokens/s "
	      "per GPU | step (us) | TTFT (ms) | TPOT (ms) | peak memory | strategy | figures "
	      "|\n|---|---|---|---|---|---|---|---|---|---|\n",
	      f);
	bool best_shown = false;
	for (uint32_t i = 0; i < res->n_frontier; i++) {
		bool is_best = (int64_t)res->frontier[i] == res->best;
		best_shown |= is_best;
		md_row(f, &res->candidates[res->frontier[i]], is_best ? "**best**" : "");
	}
	if (!best_shown && best_of(r))
		md_row(f, best_of(r), "**best**");
	fputc('\n', f);
}

static void md_targets(FILE *f, const pd_workload *w)
{
	int n = 0;
	if (w->has_target)
		fprintf(f, "%starget-throughput %.4g tokens/ms", n++ ? ", " : "", w->target);
	if (w->has_target_ttft)
		fprintf(f, "%starget-ttft %.4g ms", n++ ? ", " : "", w->target_ttft_ms);
	if (w->has_target_tpot)
		fprintf(f, "%starget-tpot %.4g ms", n++ ? ", " : "", w->target_tpot_ms);
	if (!n)
		fputs("none (every candidate meets them)", f);
}

static void md_original(FILE *f, const pd_suggest_report *r)
{
	const pd_compilation *o = r->orig;
	const pd_analysis *an = &o->analysis;
	bool valid = o->diags.errors == 0 && o->status == PD_OK;
	fprintf(f, "The plan as written: **%s**", valid ? "valid" : "invalid");
	if (o->reached >= PD_STAGE_VALIDATE)
		fprintf(f, ", %lld GPUs (structural), %.2f tokens/ms",
		        (long long)an->gpus_structural, an->tokens_per_ms);
	fputs(".\n", f);
	size_t shown = 0;
	for (size_t i = 0; i < o->diags.n && shown < MAX_ORIGINAL_ERRORS; i++) {
		const pd_diag *d = &o->diags.items[i];
		if (d->severity != PD_ERROR)
			continue;
		fprintf(f, "- line %ld: %s [%s]\n", d->line, d->message, d->rule);
		shown++;
	}
	if (o->diags.errors > shown)
		fprintf(f, "- and %zu more error(s): run `plandag check`\n",
		        o->diags.errors - shown);
}

/* Why the plan as written falls short of the winner. */
static void md_short(FILE *f, const pd_suggest_report *r)
{
	const pd_candidate *b = best_of(r);
	const pd_compilation *o = r->orig;
	if (!b || o->reached < PD_STAGE_VALIDATE)
		return;
	const pd_analysis *an = &o->analysis;
	if (o->diags.errors > 0)
		fputs("It falls short because it breaks the rules above; ", f);
	else
		fputs("It is valid; ", f);
	const char *what = r->res->reachable ? "the suggestion" : "the best reachable strategy";
	if (b->gpus == an->gpus_structural)
		fprintf(f, "%s uses the same %lld GPUs", what, (long long)b->gpus);
	else
		fprintf(f, "%s uses %lld GPUs instead of %lld", what, (long long)b->gpus,
		        (long long)an->gpus_structural);
	fprintf(f, " and gives %.2f tokens/ms instead of %.2f", b->tokens_per_ms,
	        an->tokens_per_ms);
	if (an->gpus_structural > 0 && an->tokens_per_ms > 0)
		fprintf(f, " (%.1f tokens/s per GPU instead of %.1f)", b->tokens_per_s_per_gpu,
		        an->tokens_per_ms * 1000.0 / (double)an->gpus_structural);
	fputs(".\n\n", f);
}

static void md_winner(FILE *f, const pd_suggest_report *r)
{
	const pd_search_result *res = r->res;
	const pd_candidate *b = best_of(r);
	char s[420];
	if (!b) {
		fputs("No strategy passes every rule on this cluster: nothing to suggest.\n", f);
		return;
	}
	fprintf(f,
	        "%s: **%s** on %lld GPUs: %.2f tokens/ms, %.1f tokens/s per GPU, step %.1f "
	        "us, peak memory %.0f %% (%s).\n",
	        res->reachable ? "Suggested" : "Best reachable", pd_candidate_describe(b, s, sizeof(s)),
	        (long long)b->gpus, b->tokens_per_ms, b->tokens_per_s_per_gpu,
	        b->step_latency_us, 100.0 * b->peak_memory_fraction,
	        b->scheduled ? "figures of the lowered, scheduled DAG, as `plandag compile` of "
	                       "the written plan reports them"
	                     : "roofline estimate: too large to lower here");
	if (b->prefill.dp > 0)
		fprintf(
		    f,
		    "TTFT %.1f ms, TPOT %.2f ms: prefill pool %lld GPUs, decode pool %lld GPUs.\n",
		    b->ttft_ms, b->tpot_ms, (long long)pd_choice_gpus(&b->prefill),
		    (long long)pd_choice_gpus(&b->choice));
	if (res->reachable)
		return;
	fputs("\n**No strategy meets every target** (", f);
	md_targets(f, &r->orig->plan->workload);
	fputs("). ", f);
	if (res->gpus_needed > 0)
		fprintf(f, "The target would need about %lld GPUs of this kind.\n",
		        (long long)res->gpus_needed);
	else
		fputs(
		    "Adding GPUs of this kind does not reach it (searched clusters up to 16 times "
		    "the nodes).\n",
		    f);
}

static void md_search(FILE *f, const pd_suggest_report *r)
{
	const pd_search_result *res = r->res;
	fprintf(f, "Objective: %s. Targets: ", pd_objective_name(r->opt->objective));
	md_targets(f, &r->orig->plan->workload);
	fprintf(f,
	        ".\nSearched %llu strategies in %.2f s on %d thread(s); %u pass every rule "
	        "of `check`.\n",
	        (unsigned long long)res->evaluated, res->seconds, r->threads,
	        res->n_candidates);
	if (res->pruned_why)
		fprintf(f, "Pruned %llu without evaluating them: %s.\n",
		        (unsigned long long)res->pruned, res->pruned_why);
	fputc('\n', f);
}

static pd_status write_md(FILE *f, const pd_suggest_report *r)
{
	fprintf(f, "# plandag suggest: %s\n\n", r->plan);
	md_search(f, r);
	md_original(f, r);
	fputc('\n', f);
	md_short(f, r);
	if (r->res->n_candidates > 0)
		md_table(f, r);
	md_winner(f, r);
	return ferror(f) ? PD_IO : PD_OK;
}

pd_status pd_suggest_report_write(FILE *f, pd_report_format fmt, const pd_suggest_report *r)
{
	errno = 0;
	return fmt == PD_REPORT_JSON ? pd_i_suggest_json(f, r) : write_md(f, r);
}
