/* roofline.c - the analytic throughput estimate used before the plan is lowered.
 *
 * Every operator and communication is timed by the cost module (src/plan/cost.h), the
 * same work functions, compute time, comm time (efficiencies and comm-latency of
 * docs/time-model.md), ring all-reduce bytes, all-to-all split and link choice the
 * lowering's node costs use, so the estimate and the DAG's critical path sum the same
 * numbers.  expert-imbalance stretches the busiest GPU's experts (the lowering puts
 * it on GPU 0 of the stage, which the default layout makes one of the busiest).
 * A stage's time per micro-batch is the sum of its operators on its busiest GPU (the one
 * whose expert slots take longest, each copy of a redundant expert its share of the
 * tokens); a replica's step latency is the pipeline formula
 * Σ stage times + (micro-batches - 1) · max stage time; throughput = step tokens /
 * latency summed over replicas.
 */
#include "plan/cost.h"
#include "plan/layout.h"
#include "plan/rules.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

/* What one stage processes per micro-batch, on its busiest GPU. */
typedef struct stage_load {
	pd_i_shape x; /* the cost module's view of the stage */
	const pd_cluster *c;
	double experts_us; /* routed experts of the busiest GPU */
	bool ep_coll;      /* EP > 1: dispatch and combine */
	bool tp_net;       /* the TP group spans NVLink domains (uses the network) */
	pd_i_shape dense;  /* the stage at the TP of its dense FFN layers */
	bool dense_net;    /* a dense FFN TP group spans NVLink domains */
	bool no_comm;      /* count computation only (two-batch overlap, stage_us) */
} stage_load;

static double compute_us(const stage_load *l, pd_i_work_fn op)
{
	return pd_i_work_us(&l->x, op(&l->x));
}

static double link_us(const stage_load *l, double bytes, bool net)
{
	return l->no_comm ? 0 : pd_i_comm_us(l->c, bytes, net);
}

static double comm_us(const stage_load *l, pd_i_work_fn op, bool net)
{
	return link_us(l, op(&l->x).bytes, net);
}

/* tp_allreduce, or tp_reduce_scatter + tp_all_gather with SP, after a block. */
static double tp_us(const stage_load *l)
{
	if (l->x.t <= 1)
		return 0;
	if (l->x.sp)
		return comm_us(l, pd_i_work_tp_reduce_scatter, l->tp_net) +
		       comm_us(l, pd_i_work_tp_all_gather, l->tp_net);
	return comm_us(l, pd_i_work_tp_allreduce, l->tp_net);
}

static double attention_us(const stage_load *l)
{
	return compute_us(l, pd_i_work_norm) + compute_us(l, pd_i_work_qkv) +
	       compute_us(l, pd_i_work_attention) + compute_us(l, pd_i_work_o_proj) + tp_us(l);
}

static double moe_us(const stage_load *l)
{
	double us = compute_us(l, pd_i_work_norm) + compute_us(l, pd_i_work_router);
	us += l->experts_us;
	if (l->x.m->shared_experts > 0)
		us += compute_us(l, pd_i_work_shared_expert);
	if (l->ep_coll)
		us += l->no_comm ? 0 : 2.0 * pd_i_all_to_all_us(&l->x);
	return us;
}

/* Dense layers at their own TP N (docs/models.md, "Dense layers at their own TP"): the
 * re-sharding collectives of the lowering, the norm and FFN on the shape at TP N. */
static double dense_own_us(const stage_load *l)
{
	double A = l->x.t, N = l->dense.t, us = 0;
	bool sp = l->x.sp && A > 1;
	if (sp)
		us += comm_us(l, pd_i_work_tp_reduce_scatter, l->tp_net);
	else if (A > 1)
		us += comm_us(l, pd_i_work_tp_allreduce, l->tp_net);
	if (N > 1 && (sp || N > A))
		us += link_us(l, pd_i_work_tp_all_gather(&l->dense).bytes, l->dense_net);
	us += pd_i_work_us(&l->dense, pd_i_work_norm(&l->dense)) +
	      pd_i_work_us(&l->dense, pd_i_work_ffn(&l->dense));
	if (N > 1)
		us += link_us(l, pd_i_work_tp_reduce_scatter(&l->dense).bytes, l->dense_net);
	if (A > 1)
		us += comm_us(l, pd_i_work_tp_all_gather, l->tp_net);
	return us;
}

static double dense_us(const stage_load *l)
{
	if (l->dense.t != l->x.t)
		return dense_own_us(l);
	return compute_us(l, pd_i_work_norm) + compute_us(l, pd_i_work_ffn) + tp_us(l);
}

/* Embedding lookup on the first stage, the pp receive otherwise (timed on this, the
 * receiving, stage); LM head (and sampling in decode) on the last. */
static double ends_us(const stage_load *l, uint32_t si, uint32_t n_stages, bool pp_net)
{
	double us = si == 0 ? compute_us(l, pd_i_work_embed) : comm_us(l, pd_i_work_pp, pp_net);
	if (si + 1 == n_stages) {
		us += compute_us(l, pd_i_work_lm_head);
		if (!l->x.prefill)
			us += compute_us(l, pd_i_work_sample);
	}
	return us;
}

/* Routed-expert time of the busiest GPU: per profile of the layout (GPUs whose slots
 * hold experts of the same copy counts), the sum of its slots, each copy taking its
 * share of the expert's tokens. */
static double busiest_experts_us(const stage_load *l, const pd_i_expert_layout *lay)
{
	if (!lay || lay->n_gpus == 0)
		return 0;
	if (!lay->ids) /* more slots named than the stage has: the rules report it */
		return (double)lay->max_slots * compute_us(l, pd_i_work_expert) *
		       l->x.imbalance_recv;
	double best = 0;
	pd_i_shape x = l->x;
	x.imbalance = x.imbalance_recv; /* the busiest GPU's experts */
	for (uint32_t p = 0; p < lay->n_profiles; p++) {
		double us = 0;
		for (uint32_t k = lay->poff[p]; k < lay->poff[p + 1]; k++) {
			x.copies = lay->pair[k].copies;
			us += (double)lay->pair[k].n * pd_i_work_us(&x, pd_i_work_expert(&x));
		}
		best = fmax(best, us);
	}
	return best;
}

static void load_init(const pd_plan *p, const pd_stage *s, stage_load *l)
{
	*l = (stage_load){.c = &p->cluster};
	pd_i_shape_init(&l->x, p, s->n_gpus, s->tp, s->sp);
	pd_i_shape_set_gpus(&l->x, s->gpus, s->n_gpus);
	l->ep_coll = s->ep > 1;
	l->experts_us = busiest_experts_us(l, s->layout);
	uint32_t tpn = (uint32_t)fmin(l->x.t, (double)s->n_gpus);
	l->tp_net = pd_i_group_spans_nodes(l->c, s->gpus, tpn);
	pd_i_shape_init(&l->dense, p, s->n_gpus, pd_stage_dense_tp(s), s->sp);
	uint32_t dtpn = (uint32_t)fmin(l->dense.t, (double)s->n_gpus);
	l->dense_net = pd_i_group_spans_nodes(l->c, s->gpus, dtpn);
}

static double stage_part_us(const pd_plan *p, const pd_replica *r, uint32_t si,
                            bool no_comm)
{
	const pd_stage *s = &r->stages[si];
	stage_load l;
	load_init(p, s, &l);
	l.no_comm = no_comm;
	int64_t moe, dense;
	pd_i_stage_layers(&p->model, s, &moe, &dense);
	bool pp_net = false;
	if (si > 0 && r->stages[si - 1].n_gpus > 0) {
		int32_t pair[2] = {r->stages[si - 1].gpus[0], s->gpus[0]};
		pp_net = pd_i_group_spans_nodes(&p->cluster, pair, 2);
	}
	return (double)(moe + dense) * attention_us(&l) + (double)moe * moe_us(&l) +
	       (double)dense * dense_us(&l) + ends_us(&l, si, r->n_stages, pp_net);
}

/* Time of stage si per micro-batch.  With two-batch overlap the shape is one half:
 * both halves take 2 x max(computation, communication) of a half, each half's
 * communication hidden behind the other's computation (the schedule of the lowered
 * DAG says how much really is). */
static double stage_us(const pd_plan *p, const pd_replica *r, uint32_t si)
{
	double all = stage_part_us(p, r, si, false);
	if (!p->workload.overlap_two_batch)
		return all;
	double compute = stage_part_us(p, r, si, true);
	return 2 * fmax(compute, all - compute);
}

/* Degenerate clusters (a bandwidth of 1e-300 B/s) overflow: say "too slow to count". */
static double finite_us(double us)
{
	return isfinite(us) ? us : DBL_MAX;
}

/* Step latency of one replica (pipeline formula), or -1 when it has nothing to time. */
static double replica_us(const pd_plan *p, const pd_replica *r)
{
	double sum = 0, worst = 0;
	for (uint32_t s = 0; s < r->n_stages; s++) {
		if (r->stages[s].n_gpus == 0 || !r->stages[s].gpus)
			return -1;
		double t = stage_us(p, r, s);
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
	for (uint32_t r = 0; r < st->n_replicas; r++) {
		double us = replica_us(p, &st->replicas[r]);
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
	if (pd_plan_is_pooled(plan))
		return; /* one step per pool: pd_analysis_set_pool_steps */
	an->step_tokens = pd_i_step_tokens(&plan->workload);
	an->step_latency_us = step_latency_us = finite_us(step_latency_us);
	an->tokens_per_ms = step_latency_us > 0
	                        ? (double)plan->strategy.n_replicas * an->step_tokens /
	                              (step_latency_us / 1000.0)
	                        : 0;
	an->throughput_source = PD_THROUGHPUT_DAG;
}
