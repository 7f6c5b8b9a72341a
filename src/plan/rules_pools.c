/* rules_pools.c - pooled plans (§13, docs/pools.md): validation through each pool's
 * view, the deployment's figures (hand-over, TTFT, TPOT, throughput) and the rules
 * that judge them: pool-balance and the pooled latency-target / throughput-target.
 *
 *   supply (prefill)   = replicas x batch / prefill step          sequences per second
 *   demand (decode)    = replicas x batch / (decode step x output-tokens)
 *   tokens_per_ms      = min(supply, demand) x output-tokens / 1000 (generated tokens)
 *   TTFT               = prefill step + hand-over time; TPOT = decode step
 *   hand-over per GPU  = group's prompt KV / pd_i_kv_send_ranks, over its link
 */
#include "plan/cost.h"
#include "plan/rules.h"

#include <math.h>
#include <string.h>

int pd_i_pool_of_phase(const pd_plan *plan, pd_phase phase)
{
	for (uint32_t p = 0; p < plan->strategy.n_pools; p++)
		if (plan->strategy.pools[p].phase == phase)
			return (int)p;
	return -1;
}

void pd_i_describe_replica(const pd_plan *plan, uint32_t r, char *buf, size_t size)
{
	const pd_strategy *st = &plan->strategy;
	const pd_pool *pool = &st->pools[st->replicas[r].pool];
	snprintf(buf, size, "the %s pool's replica %u", pd_phase_name(pool->phase),
	         r - pool->first_replica);
}

/* Every rule of §3 that lives inside one pool, on its view. */
static pd_status validate_pool(const pd_plan *plan, uint32_t p, pd_analysis *an,
                               pd_diag_list *diags)
{
	pd_plan v;
	pd_plan_pool_view(plan, p, &v);
	pd_i_ctx c = {.plan = &v, .an = an, .diags = diags, .pool = &plan->strategy.pools[p]};
	memset(an, 0, sizeof(*an));
	pd_i_params_compute(&v.model, an);
	pd_i_gpu_counts(&c);
	PD_CHECK(pd_i_memory_compute(&v, an));
	pd_i_roofline_compute(&v, an);
	pd_i_rule_layer_coverage(&c);
	pd_i_rule_tp_divides_heads(&c);
	pd_i_rule_sp_needs_tp(&c);
	PD_CHECK(pd_i_rule_ep_placement(&c));
	pd_i_rule_gpu_range(&c);
	pd_i_rule_replica_shape(&c);
	pd_i_rule_workload_split(&c);
	PD_CHECK(pd_i_rule_memory_capacity(&c));
	pd_i_rule_tp_crosses_node(&c);
	return PD_OK;
}

/* memory[] of the whole plan: the pools' entries one after the other, replica indices
 * of the whole strategy. */
static pd_status concat_memory(const pd_plan *plan, pd_analysis *an)
{
	size_t n = 0;
	for (uint32_t p = 0; p < an->n_pools; p++)
		n += an->pools[p].n_memory;
	an->memory = pd_arena_calloc(plan->arena, n + 1, sizeof(*an->memory));
	if (!an->memory)
		return PD_IO;
	an->n_memory = 0;
	for (uint32_t p = 0; p < an->n_pools; p++) {
		const pd_analysis *pa = &an->pools[p];
		for (uint32_t i = 0; i < pa->n_memory; i++) {
			pd_gpu_memory e = pa->memory[i];
			e.replica += (int32_t)plan->strategy.pools[p].first_replica;
			an->memory[an->n_memory++] = e;
		}
	}
	an->activation_formula = an->n_pools ? an->pools[0].activation_formula : NULL;
	return PD_OK;
}

/* The decode stage of replica `dec` serving layer l, or NULL. */
static const pd_stage *stage_of_layer(const pd_replica *dec, int64_t l)
{
	for (uint32_t s = 0; s < dec->n_stages; s++)
		if (dec->stages[s].first_layer <= l && l <= dec->stages[s].last_layer)
			return &dec->stages[s];
	return NULL;
}

/* Whether any GPU of prefill stage s sends over the network to decode stage d, under
 * the DAG's own pairing (pd_i_kv_dst_index; j = r / decode replicas); only the ranks
 * that send something count (a KV head replicated over TP is sent by one holder,
 * pd_i_kv_send_bytes). */
static bool pair_network(const pd_model *m, const pd_cluster *cl, const pd_stage *s,
                         const pd_stage *d, uint32_t j)
{
	int64_t tp = pd_i_tp(s);
	for (uint32_t i = 0; i < s->n_gpus; i++) {
		if (pd_i_kv_send_bytes(m, tp, (int64_t)i % tp, 1, tp, 1) <= 0)
			continue; /* tokens = tp: every MLA rank has one */
		int64_t to = pd_i_kv_dst_index(m, s, i, j, d);
		if (to < d->n_gpus && pd_i_pair_uses_network(cl, s->gpus[i], d->gpus[to]))
			return true;
	}
	return false;
}

/* Hand-over of one prefill stage of replica r: bytes its busiest GPU sends in one step
 * and whether a send crosses the network (to any decode stage serving its layers). */
static double stage_handover(const pd_plan *plan, const pd_stage *s, uint32_t r,
                             bool *network)
{
	const pd_model *m = &plan->model;
	const pd_strategy *st = &plan->strategy;
	const pd_pool *pre = &st->pools[pd_i_pool_of_phase(plan, PD_PREFILL)];
	const pd_pool *dp = &st->pools[pd_i_pool_of_phase(plan, PD_DECODE)];
	int64_t moe, dense;
	pd_i_stage_layers(m, s, &moe, &dense);
	double seqs = ceil((double)pre->batch / (double)pd_i_groups(s));
	double tokens = seqs * (double)pd_plan_pool_context(plan, PD_PREFILL);
	double bytes = pd_i_kv_bytes(m, (double)(moe + dense), tokens) /
	               (double)pd_i_kv_send_ranks(m, pd_i_tp(s));
	if (dp->n_replicas == 0 || !s->gpus)
		return bytes;
	const pd_replica *dec = &st->replicas[dp->first_replica + r % dp->n_replicas];
	/* one step per decode stage met (a layer no decode stage serves is layer-coverage's) */
	for (int64_t l = s->first_layer; l <= s->last_layer; l++) {
		const pd_stage *d = stage_of_layer(dec, l);
		if (!d)
			break;
		if (d->gpus && d->n_gpus)
			*network |= pair_network(m, &plan->cluster, s, d, r / dp->n_replicas);
		l = d->last_layer;
	}
	return bytes;
}

/* handover_* of the deployment: per request, per step, the busiest GPU and its time. */
static void handover(const pd_plan *plan, pd_analysis *an)
{
	const pd_strategy *st = &plan->strategy;
	const pd_pool *pre = &st->pools[pd_i_pool_of_phase(plan, PD_PREFILL)];
	double input = (double)pd_plan_pool_context(plan, PD_PREFILL);
	an->handover_bytes_per_request =
	    pd_i_kv_bytes(&plan->model, (double)plan->model.layers, input);
	an->handover_bytes_per_step =
	    (double)pre->n_replicas * (double)pre->batch * an->handover_bytes_per_request;
	an->handover_bytes_per_gpu = 0;
	an->handover_network = false;
	for (uint32_t r = 0; r < pre->n_replicas; r++) {
		const pd_replica *rep = &st->replicas[pre->first_replica + r];
		for (uint32_t s = 0; s < rep->n_stages; s++) {
			bool net = false;
			double b = stage_handover(plan, &rep->stages[s], r, &net);
			if (b > an->handover_bytes_per_gpu)
				an->handover_bytes_per_gpu = b;
			an->handover_network |= net;
		}
	}
	an->handover_us =
	    an->handover_bytes_per_gpu > 0
	        ? pd_i_comm_us(&plan->cluster, an->handover_bytes_per_gpu, an->handover_network)
	        : 0;
}

/* Sequences per second a pool moves: supply of prefill, demand of decode. */
static double pool_sequences(const pd_plan *plan, uint32_t p, const pd_analysis *pa)
{
	const pd_pool *pool = &plan->strategy.pools[p];
	double step_s = pa->step_latency_us / 1e6;
	double out =
	    (double)(plan->workload.output_tokens > 0 ? plan->workload.output_tokens : 1);
	if (step_s <= 0)
		return 0;
	double seqs = (double)pool->n_replicas * (double)pool->batch / step_s;
	return pool->phase == PD_DECODE ? seqs / out : seqs;
}

void pd_i_pooled_figures(const pd_plan *plan, pd_analysis *an)
{
	int pi = pd_i_pool_of_phase(plan, PD_PREFILL), di = pd_i_pool_of_phase(plan, PD_DECODE);
	if (pi < 0 || di < 0 || an->n_pools < plan->strategy.n_pools)
		return;
	pd_analysis *pre = &an->pools[pi], *dec = &an->pools[di];
	for (uint32_t p = 0; p < an->n_pools; p++)
		an->pools[p].sequences_per_s = pool_sequences(plan, p, &an->pools[p]);
	handover(plan, an);
	an->ttft_ms = (pre->step_latency_us + an->handover_us) / 1000.0;
	an->tpot_ms = dec->step_latency_us / 1000.0;
	bool none = pre->throughput_source == PD_THROUGHPUT_NONE ||
	            dec->throughput_source == PD_THROUGHPUT_NONE;
	an->throughput_source = none ? PD_THROUGHPUT_NONE
	                        : pre->throughput_source == PD_THROUGHPUT_DAG &&
	                                dec->throughput_source == PD_THROUGHPUT_DAG
	                            ? PD_THROUGHPUT_DAG
	                            : PD_THROUGHPUT_ROOFLINE;
	double served = fmin(pre->sequences_per_s, dec->sequences_per_s);
	an->step_latency_us = dec->step_latency_us;
	an->step_tokens = dec->step_tokens;
	an->tokens_per_ms = none ? 0 : served * (double)plan->workload.output_tokens / 1000.0;
}

void pd_analysis_set_pool_steps(const pd_plan *plan, pd_analysis *an, const double *step_us)
{
	if (!pd_plan_is_pooled(plan) || an->n_pools < plan->strategy.n_pools)
		return;
	for (uint32_t p = 0; p < an->n_pools; p++) {
		pd_plan v;
		pd_plan_pool_view(plan, p, &v);
		pd_analysis_set_throughput(&v, &an->pools[p], step_us[p]);
	}
	pd_i_pooled_figures(plan, an);
}

pd_status pd_i_validate_pooled(const pd_plan *plan, pd_analysis *an, pd_diag_list *diags)
{
	pd_i_ctx c = {.plan = plan, .an = an, .diags = diags};
	uint32_t n = plan->strategy.n_pools;
	an->pools = pd_arena_calloc(plan->arena, n, sizeof(*an->pools));
	if (!an->pools)
		return PD_IO;
	an->n_pools = n;
	for (uint32_t p = 0; p < n; p++)
		PD_CHECK(validate_pool(plan, p, &an->pools[p], diags));
	pd_i_params_compute(&plan->model, an);
	pd_i_gpu_counts(&c);
	PD_CHECK(concat_memory(plan, an));
	pd_i_pooled_figures(plan, an);
	pd_i_rule_multiplicative(&c);
	PD_CHECK(pd_i_rule_gpu_overlap(&c));
	pd_i_rule_params_mismatch(&c);
	pd_validate_throughput(plan, an, diags);
	pd_i_rule_over_provisioned(&c);
	return PD_OK;
}

static pd_loc workload_loc(const pd_plan *p)
{
	return p->workload.loc.line > 0 ? p->workload.loc : p->strategy.loc;
}

static const char *source_name(const pd_analysis *an)
{
	return an->throughput_source == PD_THROUGHPUT_DAG ? "DAG" : "roofline";
}

/* The hand-over alone misses target-ttft: the link and the bandwidth it would need. */
static void handover_too_slow(const pd_plan *plan, const pd_analysis *an,
                              pd_diag_list *diags, double target_ms)
{
	const pd_cluster *cl = &plan->cluster;
	pd_loc at = workload_loc(plan);
	double bw = an->handover_network ? cl->inter_bandwidth : cl->intra_bandwidth;
	double latency_us = pd_i_comm_us(cl, 0, an->handover_network);
	double eff =
	    an->handover_us > latency_us
	        ? an->handover_bytes_per_gpu / ((an->handover_us - latency_us) / 1e6) / bw
	        : 1;
	double window_s = (target_ms * 1000.0 - latency_us) / 1e6;
	double need = window_s > 0 ? an->handover_bytes_per_gpu / window_s / eff : INFINITY;
	pd_diag *d = pd_diag_add(
	    diags, PD_RULE_LATENCY_TARGET, PD_ERROR, at.line, at.column,
	    "the KV hand-over alone takes %.4g ms (%.4g GB from the busiest prefill GPU over "
	    "%s at %.4g GB/s) and misses target-ttft=\"%.4g\"",
	    an->handover_us / 1000.0, an->handover_bytes_per_gpu / 1e9,
	    an->handover_network ? "the scale-out network" : "NVLink", bw / 1e9, target_ms);
	pd_diag_fix(
	    d,
	    "the link would need at least %.4g GB/s per GPU (%s): raise it, spread the "
	    "hand-over over more prefill GPUs (more attention groups, a smaller prefill "
	    "batch), or raise target-ttft",
	    need / 1e9, an->handover_network ? "inter-node-bandwidth" : "intra-node-bandwidth");
}

/* latency-target of a pooled plan: TTFT = prefill step + hand-over, TPOT = decode step
 * (at input-tokens + output-tokens of context, the slowest step). */
static void pooled_latency(const pd_plan *plan, const pd_analysis *an, pd_diag_list *diags)
{
	const pd_workload *w = &plan->workload;
	pd_loc at = workload_loc(plan);
	int pi = pd_i_pool_of_phase(plan, PD_PREFILL), di = pd_i_pool_of_phase(plan, PD_DECODE);
	if (an->throughput_source == PD_THROUGHPUT_NONE || pi < 0 || di < 0)
		return;
	const pd_pool *pre = &plan->strategy.pools[pi], *dec = &plan->strategy.pools[di];
	if (w->has_target_ttft && an->handover_us / 1000.0 > w->target_ttft_ms)
		handover_too_slow(plan, an, diags, w->target_ttft_ms);
	else if (w->has_target_ttft && an->ttft_ms > w->target_ttft_ms)
		pd_diag_fix(
		    pd_diag_add(
		        diags, PD_RULE_LATENCY_TARGET, PD_ERROR, at.line, at.column,
		        "estimated TTFT %.4g ms (%s: prefill step of %lld prompts of %lld "
		        "tokens %.4g ms + KV hand-over %.4g ms) misses target-ttft=\"%.4g\"",
		        an->ttft_ms, source_name(an), (long long)pre->batch,
		        (long long)pd_plan_pool_context(plan, PD_PREFILL),
		        an->pools[pi].step_latency_us / 1000.0, an->handover_us / 1000.0,
		        w->target_ttft_ms),
		    "give the prefill pool a smaller batch (and more replicas for the same "
		    "supply) or larger stages (larger tp or ep), or raise target-ttft");
	if (w->has_target_tpot && an->tpot_ms > w->target_tpot_ms)
		pd_diag_fix(
		    pd_diag_add(diags, PD_RULE_LATENCY_TARGET, PD_ERROR, at.line, at.column,
		                "estimated TPOT %.4g ms (%s: decode step of %lld sequences at %lld "
		                "tokens of context, the last step of generation) misses "
		                "target-tpot=\"%.4g\"",
		                an->tpot_ms, source_name(an), (long long)dec->batch,
		                (long long)pd_plan_pool_context(plan, PD_DECODE),
		                w->target_tpot_ms),
		    "give the decode pool a smaller batch (and more replicas for the same "
		    "demand) or larger stages, or raise target-tpot");
}

/* throughput-target of a pooled plan: the generated tokens the slower pool sustains. */
static void pooled_throughput(const pd_plan *plan, const pd_analysis *an,
                              pd_diag_list *diags)
{
	const pd_workload *w = &plan->workload;
	int pi = pd_i_pool_of_phase(plan, PD_PREFILL), di = pd_i_pool_of_phase(plan, PD_DECODE);
	if (!w->has_target || an->throughput_source == PD_THROUGHPUT_NONE || pi < 0 || di < 0 ||
	    an->tokens_per_ms >= w->target)
		return;
	pd_loc at = workload_loc(plan);
	double s = an->pools[pi].sequences_per_s, dm = an->pools[di].sequences_per_s;
	pd_diag *d = pd_diag_add(
	    diags, PD_RULE_THROUGHPUT_TARGET, PD_ERROR, at.line, at.column,
	    "estimated throughput %.4g tokens/ms (%s: the prefill pool supplies %.4g "
	    "sequences/s, the decode pool serves %.4g, each of %lld output tokens) is below "
	    "the target %.4g tokens/ms",
	    an->tokens_per_ms, source_name(an), s, dm, (long long)w->output_tokens, w->target);
	pd_diag_fix(d,
	            "add replicas to the %s pool (the slower one), or lower "
	            "target-throughput",
	            s < dm ? "prefill" : "decode");
}

/* The later of the two pools in the document (the one whose size the fix changes). */
static pd_loc second_pool_loc(const pd_plan *plan)
{
	const pd_strategy *st = &plan->strategy;
	pd_loc at = st->loc;
	for (uint32_t p = 0; p < st->n_pools; p++)
		if (st->pools[p].loc.line >= at.line)
			at = st->pools[p].loc;
	return at;
}

/* The fix of pool-balance: replicas of the slower pool (index slow) that match the
 * faster one, or fewer replicas of the faster one when it has several. */
static void balance_fix(pd_diag *g, const pd_plan *plan, const pd_analysis *an, int slow,
                        int fast)
{
	const pd_pool *ps = &plan->strategy.pools[slow], *pf = &plan->strategy.pools[fast];
	double ratio = an->pools[fast].sequences_per_s / an->pools[slow].sequences_per_s;
	double ns = ceil((double)ps->n_replicas * ratio - 1e-9);
	double nf = floor((double)pf->n_replicas / ratio + 1e-9);
	double gs =
	    (double)an->pools[slow].gpus_structural / (ps->n_replicas ? ps->n_replicas : 1);
	double gf =
	    (double)an->pools[fast].gpus_structural / (pf->n_replicas ? pf->n_replicas : 1);
	if (nf >= 1 && nf < (double)pf->n_replicas)
		pd_diag_fix(
		    g,
		    "balance them: %.0f %s replica(s) (%.0f GPUs) for this %s pool, or %.0f "
		    "%s replica(s) (%.0f GPUs) for this %s pool",
		    ns, pd_phase_name(ps->phase), ns * gs, pd_phase_name(pf->phase), nf,
		    pd_phase_name(pf->phase), nf * gf, pd_phase_name(ps->phase));
	else
		pd_diag_fix(g,
		            "balance them: %.0f %s replica(s) (%.0f GPUs) for this %s pool, or a "
		            "%s pool that serves %.0f %% fewer sequences per step",
		            ns, pd_phase_name(ps->phase), ns * gs, pd_phase_name(pf->phase),
		            pd_phase_name(pf->phase), 100.0 * (1.0 - 1.0 / ratio));
}

/* pool-balance (warning): supply and demand within 25 % of each other. */
static void pool_balance(const pd_plan *plan, const pd_analysis *an, pd_diag_list *diags)
{
	int pi = pd_i_pool_of_phase(plan, PD_PREFILL), di = pd_i_pool_of_phase(plan, PD_DECODE);
	if (an->throughput_source == PD_THROUGHPUT_NONE || pi < 0 || di < 0)
		return;
	const pd_pool *pre = &plan->strategy.pools[pi], *dec = &plan->strategy.pools[di];
	double s = an->pools[pi].sequences_per_s, d = an->pools[di].sequences_per_s;
	if (s <= 0 || d <= 0 || fmax(s, d) <= 1.25 * fmin(s, d))
		return;
	pd_loc at = second_pool_loc(plan);
	pd_diag *g = pd_diag_add(
	    diags, PD_RULE_POOL_BALANCE, PD_WARNING, at.line, at.column,
	    "the prefill pool supplies %.4g sequences/s (%u replica(s) x %lld prompts every "
	    "%.4g ms) but the decode pool serves %.4g (%u replica(s) x %lld sequences over "
	    "%lld steps of %.4g ms): the %s pool idles %.0f %% of the time",
	    s, pre->n_replicas, (long long)pre->batch, an->pools[pi].step_latency_us / 1000.0,
	    d, dec->n_replicas, (long long)dec->batch, (long long)plan->workload.output_tokens,
	    an->pools[di].step_latency_us / 1000.0, s < d ? "decode" : "prefill",
	    100.0 * (1.0 - fmin(s, d) / fmax(s, d)));
	balance_fix(g, plan, an, s < d ? pi : di, s < d ? di : pi);
}

void pd_i_validate_pooled_targets(const pd_plan *plan, const pd_analysis *an,
                                  pd_diag_list *diags)
{
	pd_diag_list_remove_rule(diags, PD_RULE_POOL_BALANCE);
	pooled_latency(plan, an, diags);
	pooled_throughput(plan, an, diags);
	pool_balance(plan, an, diags);
}
