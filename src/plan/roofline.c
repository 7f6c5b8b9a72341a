/* roofline.c - the analytic throughput estimate used before the plan is lowered.
 *
 * Each operator of DESIGN section 4 costs max(FLOPs / tflops, bytes / HBM bandwidth);
 * each communication 5 us + bytes / link bandwidth (NVLink when the group stays inside
 * a node, the network otherwise), all-reduce bytes by the ring formula 2·(n-1)/n·payload.
 * A stage's time per micro-batch is the sum of its operators on its busiest GPU (the one
 * hosting most experts); a replica's step latency is the pipeline formula
 * Σ stage times + (micro-batches - 1) · max stage time; throughput = step tokens /
 * latency summed over replicas.
 */
#include "plan/rules.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#define ALPHA_US 5.0

/* What one stage processes per micro-batch, on one GPU. */
typedef struct stage_load {
	const pd_model *m;
	const pd_cluster *c;
	double tp, kvpg, bytes;
	double seqs, tokens; /* per attention group per micro-batch */
	double stage_tokens; /* tokens of the micro-batch in the whole stage */
	double hosted;       /* most routed experts on one GPU */
	double ep, context;
	double tp_bw, ep_bw; /* link bandwidth of the TP group, of the whole stage */
	bool prefill, sp;
} stage_load;

static double compute_us(const stage_load *l, double flops, double bytes)
{
	return fmax(flops / l->c->gpu_flops, bytes / l->c->gpu_bandwidth) * 1e6;
}

static double comm_us(double bytes, double bw)
{
	return ALPHA_US + bytes / bw * 1e6;
}

static double allreduce_us(const stage_load *l)
{
	if (l->tp <= 1)
		return 0;
	double ring = 2.0 * (l->tp - 1) / l->tp * l->tokens * (double)l->m->hidden * l->bytes;
	return (l->sp ? ALPHA_US : 0) + comm_us(ring, l->tp_bw);
}

static double attention_us(const stage_load *l)
{
	const pd_model *m = l->m;
	double h = (double)m->hidden, hd = (double)m->head_dim;
	double q = (double)m->heads / l->tp, qkv = (q + 2.0 * l->kvpg) * hd;
	double kv = l->seqs * l->context * 2.0 * l->kvpg * hd * l->bytes;
	double attn_flops = l->prefill ? 2.0 * l->seqs * l->context * l->context * q * hd
	                               : 4.0 * l->seqs * l->context * q * hd;
	return compute_us(l, 2.0 * l->tokens * h * qkv, h * qkv * l->bytes) +
	       compute_us(l, attn_flops, kv) +
	       compute_us(l, 2.0 * l->tokens * q * hd * h, q * hd * h * l->bytes) +
	       allreduce_us(l);
}

static double moe_us(const stage_load *l)
{
	const pd_model *m = l->m;
	double h = (double)m->hidden, e = pd_i_expert_params(m);
	double routed = l->stage_tokens * (double)m->top_k;
	double per_expert = m->experts > 0 ? routed / (double)m->experts : 0;
	double us = compute_us(l, 2.0 * l->tokens * h * (double)m->experts,
	                       h * (double)m->experts * l->bytes);
	us += l->hosted * compute_us(l, 2.0 * per_expert * e, e * l->bytes);
	if (m->shared_experts > 0) {
		double sh = (double)m->shared_experts * e / l->tp;
		us += compute_us(l, 2.0 * l->tokens * sh, sh * l->bytes);
	}
	if (l->ep > 1) {
		double moved = routed / l->ep * (l->ep - 1) / l->ep * h * l->bytes;
		us += 2.0 * comm_us(moved, l->ep_bw);
	}
	return us;
}

static double dense_us(const stage_load *l)
{
	double w = 3.0 * (double)l->m->hidden * (double)l->m->dense_ffn / l->tp;
	return compute_us(l, 2.0 * l->tokens * w, w * l->bytes) + allreduce_us(l);
}

/* Embedding lookup on the first stage, LM head on the last, p2p receive otherwise. */
static double ends_us(const stage_load *l, uint32_t si, uint32_t n_stages, double pp_bw)
{
	double h = (double)l->m->hidden, head = (double)l->m->vocab * h / l->tp;
	double us = 0;
	if (si == 0)
		us += compute_us(l, 0, l->tokens * h * l->bytes);
	else
		us += comm_us(l->tokens * h * l->bytes, pp_bw);
	if (si + 1 == n_stages)
		us += compute_us(l, 2.0 * l->seqs * head, head * l->bytes);
	return us;
}

static double link_bandwidth(const pd_cluster *c, const int32_t *gpus, uint32_t n)
{
	int64_t per = c->gpus_per_node < 1 ? 1 : c->gpus_per_node;
	for (uint32_t i = 1; i < n; i++)
		if (gpus[i] / per != gpus[0] / per)
			return c->inter_bandwidth;
	return c->intra_bandwidth;
}

/* The last expert layout counted: stages of a big plan share one expert_host array
 * (expand.c), so counting it once per array keeps the estimate linear in the plan. */
typedef struct hosted_memo {
	const int32_t *host;
	uint32_t n_gpus;
	double best;
} hosted_memo;

static double count_most_hosted(const pd_model *m, const pd_stage *s)
{
	uint32_t *counts = calloc(s->n_gpus, sizeof(*counts));
	if (!counts)
		return ceil((double)m->experts / (double)s->n_gpus);
	uint32_t best = 0;
	for (int64_t e = 0; e < m->experts; e++) {
		int32_t g = s->expert_host[e];
		if (g >= 0 && (uint32_t)g < s->n_gpus && ++counts[g] > best)
			best = counts[g];
	}
	free(counts);
	return (double)best;
}

static double most_hosted(const pd_model *m, const pd_stage *s, hosted_memo *memo)
{
	if (!s->expert_host || s->n_gpus == 0)
		return 0;
	if (memo->host != s->expert_host || memo->n_gpus != s->n_gpus)
		*memo = (hosted_memo){s->expert_host, s->n_gpus, count_most_hosted(m, s)};
	return memo->best;
}

static void load_init(const pd_plan *p, const pd_stage *s, stage_load *l, hosted_memo *memo)
{
	const pd_workload *w = &p->workload;
	*l = (stage_load){.m = &p->model, .c = &p->cluster};
	l->tp = (double)pd_i_tp(s);
	l->kvpg = pd_i_kv_heads_per_gpu(&p->model, s->tp);
	l->bytes = pd_dtype_bytes(p->model.dtype);
	l->prefill = w->phase == PD_PREFILL;
	l->sp = s->sp;
	l->context = (double)w->context;
	double mb =
	    ceil((double)w->batch / (double)(w->micro_batches < 1 ? 1 : w->micro_batches));
	l->seqs = ceil(mb / (double)pd_i_groups(s));
	l->tokens = l->seqs * (l->prefill ? l->context : 1.0);
	l->stage_tokens = mb * (l->prefill ? l->context : 1.0);
	l->ep = (double)(s->ep < 1 ? 1 : s->ep);
	l->hosted = most_hosted(&p->model, s, memo);
	uint32_t tpn = (uint32_t)fmin(l->tp, (double)s->n_gpus);
	l->tp_bw = link_bandwidth(l->c, s->gpus, tpn);
	l->ep_bw = link_bandwidth(l->c, s->gpus, s->n_gpus);
}

static double stage_us(const pd_plan *p, const pd_replica *r, uint32_t si,
                       hosted_memo *memo)
{
	const pd_stage *s = &r->stages[si];
	stage_load l;
	load_init(p, s, &l, memo);
	int64_t moe, dense;
	pd_i_stage_layers(&p->model, s, &moe, &dense);
	double pp_bw = p->cluster.intra_bandwidth;
	if (si > 0 && r->stages[si - 1].n_gpus > 0) {
		int32_t pair[2] = {r->stages[si - 1].gpus[0], s->gpus[0]};
		pp_bw = link_bandwidth(&p->cluster, pair, 2);
	}
	return (double)(moe + dense) * attention_us(&l) + (double)moe * moe_us(&l) +
	       (double)dense * dense_us(&l) + ends_us(&l, si, r->n_stages, pp_bw);
}

/* Degenerate clusters (a bandwidth of 1e-300 B/s) overflow: say "too slow to count". */
static double finite_us(double us)
{
	return isfinite(us) ? us : DBL_MAX;
}

/* Step latency of one replica (pipeline formula), or -1 when it has nothing to time. */
static double replica_us(const pd_plan *p, const pd_replica *r, hosted_memo *memo)
{
	double sum = 0, worst = 0;
	for (uint32_t s = 0; s < r->n_stages; s++) {
		if (r->stages[s].n_gpus == 0 || !r->stages[s].gpus)
			return -1;
		double t = stage_us(p, r, s, memo);
		sum += t;
		worst = fmax(worst, t);
	}
	if (r->n_stages == 0)
		return -1;
	int64_t mb = p->workload.micro_batches < 1 ? 1 : p->workload.micro_batches;
	return finite_us(sum + (double)(mb - 1) * worst);
}

double pd_i_step_tokens(const pd_workload *w)
{
	double b = (double)w->batch;
	return w->phase == PD_PREFILL ? b * (double)w->context : b;
}

void pd_i_roofline_compute(const pd_plan *p, pd_analysis *an)
{
	const pd_strategy *st = &p->strategy;
	an->throughput_source = PD_THROUGHPUT_NONE;
	an->step_tokens = pd_i_step_tokens(&p->workload);
	an->step_latency_us = an->tokens_per_ms = 0;
	if (st->n_replicas == 0 || p->cluster.gpu_flops <= 0 || p->cluster.gpu_bandwidth <= 0)
		return;
	hosted_memo memo = {0};
	for (uint32_t r = 0; r < st->n_replicas; r++) {
		double us = replica_us(p, &st->replicas[r], &memo);
		if (us <= 0)
			return;
		an->step_latency_us = fmax(an->step_latency_us, us);
		an->tokens_per_ms += an->step_tokens / (us / 1000.0);
	}
	an->throughput_source = PD_THROUGHPUT_ROOFLINE;
}

void pd_analysis_set_throughput(const pd_plan *plan, pd_analysis *an,
                                double step_latency_us)
{
	an->step_tokens = pd_i_step_tokens(&plan->workload);
	an->step_latency_us = step_latency_us = finite_us(step_latency_us);
	an->tokens_per_ms = step_latency_us > 0
	                        ? (double)plan->strategy.n_replicas * an->step_tokens /
	                              (step_latency_us / 1000.0)
	                        : 0;
	an->throughput_source = PD_THROUGHPUT_DAG;
}
