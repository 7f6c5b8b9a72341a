/* rules_resources.c - the numbers: workload-split, params-mismatch, memory-capacity,
 * over-provisioned, throughput-target. */
#include "plan/rules.h"

#include <math.h>
#include <stdlib.h>

/* Sizes in messages are GB (10^9 bytes), as in the report, whatever unit the plan used. */
#define GB 1e9
#define IDS_TEXT 160

static pd_loc workload_loc(const pd_plan *p)
{
	return p->workload.loc.line > 0 ? p->workload.loc : p->strategy.loc;
}

static void check_groups(pd_i_ctx *c, const pd_stage *s, int64_t mb)
{
	if (s->tp < 1 || s->n_gpus == 0 || s->n_gpus % (uint64_t)s->tp != 0)
		return; /* tp-divides-heads reports it */
	int64_t groups = (int64_t)s->n_gpus / s->tp;
	if (mb % groups == 0)
		return;
	pd_loc loc = c->plan->workload.loc.line > 0 ? c->plan->workload.loc : s->loc;
	pd_diag *d =
	    pd_i_report(c, PD_RULE_WORKLOAD_SPLIT, PD_WARNING, loc,
	                "a micro-batch of %lld sequences does not split evenly over the "
	                "%lld attention groups of a stage (%u GPUs / tp %lld): %s",
	                (long long)mb, (long long)groups, s->n_gpus, (long long)s->tp,
	                mb < groups ? "some groups stay idle" : "some groups wait for others");
	pd_diag_fix(d, "make batch / micro-batches a multiple of %lld", (long long)groups);
}

/* workload-split: micro-batches divides batch; a micro-batch splits evenly over the
 * attention groups of every stage (warning). */
void pd_i_rule_workload_split(pd_i_ctx *c)
{
	const pd_workload *w = &c->plan->workload;
	const pd_strategy *st = &c->plan->strategy;
	if (w->micro_batches < 1 || w->batch % w->micro_batches != 0) {
		int64_t m = w->micro_batches < 1 ? 1 : w->micro_batches;
		while (m > 1 && w->batch % m != 0)
			m--;
		pd_diag *d = pd_i_report(c, PD_RULE_WORKLOAD_SPLIT, PD_ERROR, workload_loc(c->plan),
		                         "micro-batches %lld does not divide batch %lld",
		                         (long long)w->micro_batches, (long long)w->batch);
		pd_diag_fix(d, "use a divisor of the batch, e.g. micro-batches=\"%lld\"",
		            (long long)m);
		return;
	}
	int64_t mb = w->batch / w->micro_batches;
	for (uint32_t r = 0; r < st->n_replicas; r++)
		for (uint32_t s = 0; s < st->replicas[r].n_stages; s++)
			if (st->replicas[r].copy == 0)
				check_groups(c, &st->replicas[r].stages[s], mb);
}

/* params-mismatch: the declared params is within 10 % of the count from the shape. */
void pd_i_rule_params_mismatch(pd_i_ctx *c)
{
	const pd_model *m = &c->plan->model;
	double computed = c->an->params_computed;
	if (!m->has_params || computed <= 0)
		return;
	double off = (m->params - computed) / computed;
	if (fabs(off) <= 0.10)
		return;
	pd_diag *d =
	    pd_i_report(c, PD_RULE_PARAMS_MISMATCH, PD_ERROR, m->loc,
	                "declared params %.4g B differs from the %.4g B computed from the "
	                "shape by %+.3g %% (more than 10 %%)",
	                m->params / 1e9, computed / 1e9, off * 100.0);
	pd_diag_fix(d,
	            "set params=\"%.4g\" or correct the shape attributes (layers, hidden, "
	            "heads, experts, expert-ffn, dense-ffn, vocab)",
	            computed);
}

static const char *memory_fix(const pd_gpu_memory *w)
{
	if (w->kv_cache >= w->weights && w->kv_cache >= w->activations)
		return "the KV cache dominates: serve fewer sequences per attention group (smaller "
		       "batch or context, more replicas, or larger stages)";
	if (w->weights >= w->activations)
		return "the weights dominate: spread them over more GPUs (more pipeline stages, a "
		       "larger tp, or a larger ep)";
	return "the activations dominate: use more micro-batches or a smaller batch";
}

/* A decode pool whose KV cache cannot hold its batch at input-tokens + output-tokens:
 * the arithmetic, and the largest batch that fits or the GPUs this many sequences need.
 * Returns false when the weights alone leave no room (the general message applies). */
static bool report_decode_pool(pd_i_ctx *c, const pd_stage *s, const char *text,
                               const pd_gpu_memory *w)
{
	const pd_workload *wl = &c->plan->workload;
	double groups = (double)pd_i_groups(s), seqs = ceil((double)wl->batch / groups);
	double per_seq = seqs > 0 ? w->kv_cache / seqs : 0;
	double room = w->capacity - w->reserve - w->weights - w->activations;
	double fit = per_seq > 0 ? floor(room / per_seq) : 0;
	if (per_seq <= 0 || fit < 1)
		return false;
	double rep_gpus = 0;
	for (uint32_t k = 0; k < c->plan->strategy.replicas[0].n_stages; k++)
		rep_gpus += c->plan->strategy.replicas[0].stages[k].n_gpus;
	double total = (double)wl->batch * (double)c->plan->strategy.n_replicas;
	double reps = ceil(total / (fit * groups));
	pd_diag *d = pd_i_report(
	    c, PD_RULE_MEMORY_CAPACITY, PD_ERROR, s->loc,
	    "the decode pool's KV cache does not fit: stage GPUs %s hold %.0f sequences x %lld "
	    "tokens (input-tokens + output-tokens) x %.4g KB per token = %.4g GB of KV + "
	    "weights %.4g + "
	    "activations %.4g + 10 %% reserve %.4g = %.4g GB, over %.4g GB",
	    text, seqs, (long long)wl->context, per_seq / (double)wl->context / 1e3,
	    w->kv_cache / GB, w->weights / GB, w->activations / GB, w->reserve / GB,
	    w->total / GB, w->capacity / GB);
	pd_diag_fix(
	    d,
	    "the largest decode batch that fits is %.0f per replica (%.0f per attention "
	    "group): set <pool phase=\"decode\" batch=\"%.0f\">, or serve these %.0f "
	    "sequences on %.0f replicas (%.0f GPUs)",
	    fit * groups, fit, fit * groups, total, reps, reps * rep_gpus);
	return true;
}

static void report_memory(pd_i_ctx *c, const pd_stage *s, const int32_t *ids, uint32_t n,
                          const pd_gpu_memory *w)
{
	char text[IDS_TEXT];
	pd_i_format_ids(text, sizeof(text), ids, n);
	if (c->pool && c->pool->phase == PD_DECODE && w->kv_cache > 0 &&
	    report_decode_pool(c, s, text, w))
		return;
	pd_diag *d =
	    pd_i_report(c, PD_RULE_MEMORY_CAPACITY, PD_ERROR, s->loc,
	                "stage GPUs %s need up to %.4g GB (weights %.4g + KV cache %.4g + "
	                "activations %.4g + 10 %% reserve %.4g) but have %.4g GB",
	                text, w->total / GB, w->weights / GB, w->kv_cache / GB,
	                w->activations / GB, w->reserve / GB, w->capacity / GB);
	pd_diag_fix(d, "%s", memory_fix(w));
}

/* Stage si over copies [r, end): one error naming every GPU over capacity; `offset` is
 * the index of the stage's first GPU within a replica's entries. */
static void check_stage_memory(pd_i_ctx *c, const size_t *start, uint32_t r, uint32_t end,
                               uint32_t si, size_t offset, int32_t *ids)
{
	const pd_strategy *st = &c->plan->strategy;
	const pd_gpu_memory *worst = NULL;
	uint32_t n = 0;
	for (uint32_t k = r; k < end && si < st->replicas[k].n_stages; k++) {
		if (start[k] + offset + st->replicas[k].stages[si].n_gpus > start[k + 1])
			break; /* not a faithful copy: nothing to compare */
		const pd_gpu_memory *e = c->an->memory + start[k] + offset;
		for (uint32_t g = 0; g < st->replicas[k].stages[si].n_gpus; g++, e++) {
			if (e->total <= e->capacity)
				continue;
			ids[n++] = e->gpu;
			if (!worst || e->total > worst->total)
				worst = e;
		}
	}
	if (worst)
		report_memory(c, &st->replicas[r].stages[si], ids, n, worst);
}

/* memory-capacity: weights + KV cache + activations + 10 % reserve <= gpu-memory. */
pd_status pd_i_rule_memory_capacity(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	size_t *start = malloc((st->n_replicas + 1) * sizeof(*start));
	int32_t *ids = malloc((c->an->n_memory + 1) * sizeof(*ids));
	if (!start || !ids) {
		free(start);
		free(ids);
		return PD_IO;
	}
	start[0] = 0;
	for (uint32_t r = 0; r < st->n_replicas; r++) {
		start[r + 1] = start[r];
		for (uint32_t s = 0; s < st->replicas[r].n_stages; s++)
			start[r + 1] += st->replicas[r].stages[s].n_gpus;
	}
	for (uint32_t r = 0; r < st->n_replicas;) {
		uint32_t end = pd_i_copies_end(st, r);
		size_t offset = 0;
		for (uint32_t si = 0; si < st->replicas[r].n_stages; si++) {
			check_stage_memory(c, start, r, end, si, offset, ids);
			offset += st->replicas[r].stages[si].n_gpus;
		}
		r = end;
	}
	free(start);
	free(ids);
	return PD_OK;
}

static void check_low_memory(pd_i_ctx *c)
{
	const pd_analysis *an = c->an;
	double peak = 0, capacity = c->plan->cluster.gpu_memory;
	if (an->n_memory == 0 || capacity <= 0)
		return;
	for (uint32_t i = 0; i < an->n_memory; i++) {
		const pd_gpu_memory *e = &an->memory[i];
		peak = fmax(peak, e->weights + e->kv_cache + e->activations);
	}
	if (peak >= 0.25 * capacity)
		return;
	pd_diag *d = pd_i_report(c, PD_RULE_OVER_PROVISIONED, PD_WARNING, c->plan->strategy.loc,
	                         "peak memory use is %.4g GB, %.2g %% of the %.4g GB of every "
	                         "GPU (under 25 %%)",
	                         peak / GB, 100.0 * peak / capacity, capacity / GB);
	pd_diag_fix(d, "use fewer GPUs (fewer stages or replicas, smaller tp or ep) or serve a "
	               "larger batch or context on these");
}

static void check_idle_gpus(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	const pd_analysis *an = c->an;
	if (!st->has_declared_gpus || st->declared_gpus != an->gpus_product ||
	    an->gpus_product <= an->gpus_structural || an->gpus_structural >= an->gpus_cluster)
		return;
	int64_t per_replica = st->n_replicas ? an->gpus_structural / st->n_replicas : 0;
	int64_t idle = an->gpus_cluster - an->gpus_structural;
	pd_diag *d =
	    pd_i_report(c, PD_RULE_OVER_PROVISIONED, PD_WARNING, st->loc,
	                "the plan uses %lld of the cluster's %lld GPUs: %lld stay idle "
	                "although the declared %lld = DP×TP×PP×EP×SP counts them",
	                (long long)an->gpus_structural, (long long)an->gpus_cluster,
	                (long long)idle, (long long)st->declared_gpus);
	pd_diag_fix(d,
	            "add replicas to use the idle GPUs (%lld more fit) or book a cluster of "
	            "%lld GPUs",
	            (long long)(per_replica > 0 ? idle / per_replica : 0),
	            (long long)an->gpus_structural);
}

/* over-provisioned (warning): peak memory under 25 % of capacity on every GPU, or
 * cluster GPUs left idle while the plan was counted multiplicatively. */
void pd_i_rule_over_provisioned(pd_i_ctx *c)
{
	check_low_memory(c);
	check_idle_gpus(c);
}

/* latency-target for one of target-ttft (prefill) and target-tpot (decode): an error
 * when the step misses it, a warning when the plan is of the other phase. */
static void check_latency(const pd_plan *plan, const pd_analysis *an, pd_diag_list *diags,
                          pd_phase phase, double target_ms)
{
	const char *attr = phase == PD_PREFILL ? "target-ttft" : "target-tpot";
	const char *what = phase == PD_PREFILL ? "TTFT" : "TPOT";
	pd_loc at = workload_loc(plan);
	if (plan->workload.phase != phase) {
		pd_diag_fix(
		    pd_diag_add(diags, PD_RULE_LATENCY_TARGET, PD_WARNING, at.line, at.column,
		                "%s applies to the %s step, but this plan is %s: not checked", attr,
		                pd_phase_name(phase), pd_phase_name(plan->workload.phase)),
		    "remove %s, or check it on a plan with phase=\"%s\"", attr,
		    pd_phase_name(phase));
		return;
	}
	double ms = an->step_latency_us / 1000.0;
	if (an->throughput_source == PD_THROUGHPUT_NONE || ms <= target_ms)
		return;
	pd_diag *d = pd_diag_add(
	    diags, PD_RULE_LATENCY_TARGET, PD_ERROR, at.line, at.column,
	    "estimated %s %.4g ms (%s: one step of %lld sequences of %lld tokens) misses "
	    "%s=\"%.4g\"",
	    what, ms, an->throughput_source == PD_THROUGHPUT_DAG ? "DAG" : "roofline",
	    (long long)plan->workload.batch, (long long)plan->workload.context, attr,
	    target_ms);
	pd_diag_fix(d,
	            "serve fewer sequences per step (smaller batch, more replicas for the "
	            "same throughput)%s, spread a step over more GPUs (larger tp or ep), or "
	            "raise %s",
	            phase == PD_PREFILL ? " or shorter prompts" : " or a shorter context",
	            attr);
}

/* latency-target: the step meets target-ttft / target-tpot. */
static void validate_latency(const pd_plan *plan, const pd_analysis *an,
                             pd_diag_list *diags)
{
	const pd_workload *w = &plan->workload;
	if (w->has_target_ttft)
		check_latency(plan, an, diags, PD_PREFILL, w->target_ttft_ms);
	if (w->has_target_tpot)
		check_latency(plan, an, diags, PD_DECODE, w->target_tpot_ms);
}

/* throughput-target: the estimated throughput reaches target-throughput; and
 * latency-target on the same estimate. */
void pd_validate_throughput(const pd_plan *plan, const pd_analysis *an, pd_diag_list *diags)
{
	const pd_workload *w = &plan->workload;
	if (pd_plan_is_pooled(plan)) {
		pd_i_validate_pooled_targets(plan, an, diags);
		return;
	}
	validate_latency(plan, an, diags);
	if (!w->has_target || an->throughput_source == PD_THROUGHPUT_NONE ||
	    an->tokens_per_ms >= w->target)
		return;
	uint32_t n = plan->strategy.n_replicas ? plan->strategy.n_replicas : 1;
	pd_diag *d = pd_diag_add(
	    diags, PD_RULE_THROUGHPUT_TARGET, PD_ERROR, workload_loc(plan).line,
	    workload_loc(plan).column,
	    "estimated throughput %.4g tokens/ms (%s: %.4g tokens per replica every %.4g us, "
	    "%u "
	    "replica(s)) is below the target %.4g tokens/ms",
	    an->tokens_per_ms,
	    an->throughput_source == PD_THROUGHPUT_DAG ? "DAG critical path" : "roofline",
	    an->step_tokens, an->step_latency_us, n, w->target);
	pd_diag_fix(d,
	            "add replicas (each adds about %.4g tokens/ms), use a smaller tp or more "
	            "micro-batches, or lower target-throughput",
	            an->tokens_per_ms / n);
}
