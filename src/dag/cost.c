/* cost.c - per-node cost estimates of the lowering (README.md, "Lowering").
 *
 * compute = max(FLOPs / peak FLOP/s, HBM bytes / HBM bandwidth)
 * comm    = alpha + bytes / link bandwidth, alpha = 5 us, NVLink when every GPU of the
 *           group sits in one node, the network otherwise
 *
 * Every record is computed once per stage shape (and per layer type where it matters)
 * and interned; the lowering copies indices, it never hashes per node.
 *
 * Token counts, per micro-batch of one stage of one replica:
 *   seqs  = batch / micro_batches / (stage_size / TP)   sequences of one attention group
 *   T     = seqs (decode) or seqs * context (prefill)   tokens of one attention group
 *   Tst   = batch / micro_batches (* context)           tokens of the whole stage
 *   expert tokens = Tst * top_k / experts               per expert, on average
 *   dispatch/combine bytes per GPU = Tst / stage_size * top_k * hidden * dtype * (n-1)/n
 */
#include <math.h>

#include "dag/dag_internal.h"

#define ALPHA_US 5.0

typedef struct shape_ctx {
	const pd_model *m;
	const pd_cluster *c;
	double w;             /* bytes per element */
	double t;             /* TP */
	double seqs, T, Tst;  /* see the top of the file */
	double heads_l, kv_l; /* heads and KV heads per GPU */
	bool prefill;
	double context;
} shape_ctx;

static double compute_us(const pd_cluster *c, double flops, double bytes)
{
	double a = c->gpu_flops > 0 ? flops / c->gpu_flops : 0;
	double b = c->gpu_bandwidth > 0 ? bytes / c->gpu_bandwidth : 0;
	return (a > b ? a : b) * 1e6;
}

static pd_status intern_compute(pd_dag *dag, const shape_ctx *x, double flops, double bytes,
                                double out_bytes, uint32_t *idx)
{
	pd_cost c = {flops, bytes, compute_us(x->c, flops, bytes), out_bytes};
	return pd_dag_intern_cost(dag, &c, idx);
}

static bool spans_nodes(const pd_plan *plan, const int32_t *gpus, uint32_t n)
{
	int64_t per = plan->cluster.gpus_per_node > 0 ? plan->cluster.gpus_per_node : 1;
	for (uint32_t i = 1; i < n; i++)
		if (gpus[i] / per != gpus[0] / per)
			return true;
	return false;
}

double pd_i_comm_us(const pd_plan *plan, const int32_t *gpus, uint32_t n, double bytes)
{
	double bw = spans_nodes(plan, gpus, n) ? plan->cluster.inter_bandwidth
	                                       : plan->cluster.intra_bandwidth;
	return ALPHA_US + (bw > 0 ? bytes / bw * 1e6 : 0);
}

/* A collective: members carry `member_bytes`, the hub the payload; both the same us.
 * out[0] = member, out[1] = hub. */
static pd_status intern_collective(pd_dag *dag, const pd_plan *plan, const int32_t *gpus,
                                   uint32_t n, double payload, double member_bytes,
                                   uint32_t out[2])
{
	double us = pd_i_comm_us(plan, gpus, n, member_bytes);
	pd_cost mem = {0, member_bytes, us, payload};
	pd_cost hub = {0, payload, us, payload};
	PD_CHECK(pd_dag_intern_cost(dag, &mem, &out[0]));
	return pd_dag_intern_cost(dag, &hub, &out[1]);
}

static void shape_init(shape_ctx *x, const pd_i_stage_shape *sh)
{
	const pd_plan *p = sh->plan;
	x->m = &p->model;
	x->c = &p->cluster;
	x->w = pd_dtype_bytes(p->model.dtype);
	x->t = sh->tp > 0 ? (double)sh->tp : 1;
	double groups = sh->stage_size / x->t > 1 ? sh->stage_size / x->t : 1;
	double mb = p->workload.micro_batches > 0 ? (double)p->workload.micro_batches : 1;
	x->prefill = p->workload.phase == PD_PREFILL;
	x->context = (double)p->workload.context;
	x->seqs = (double)p->workload.batch / mb / groups;
	x->T = x->prefill ? x->seqs * x->context : x->seqs;
	x->Tst = (double)p->workload.batch / mb * (x->prefill ? x->context : 1);
	x->heads_l = (double)x->m->heads / x->t;
	x->kv_l = fmax((double)x->m->kv_heads / x->t, 1);
}

/* embed, norms, lm_head, sample */
static pd_status costs_edges(pd_dag *dag, const shape_ctx *x, bool sp, pd_i_costs *c)
{
	double h = (double)x->m->hidden, w = x->w, V = (double)x->m->vocab;
	double act = x->T * h * w;
	double norm_tok = sp ? x->T / x->t : x->T;
	PD_CHECK(intern_compute(dag, x, 0, act + act / x->t, act, &c->embed));
	PD_CHECK(
	    intern_compute(dag, x, 4 * norm_tok * h, 2 * norm_tok * h * w, act, &c->attn_norm));
	c->ffn_norm = c->attn_norm;
	/* logits only for the last token of every sequence */
	double logits = x->seqs * V / x->t;
	PD_CHECK(intern_compute(dag, x, 2 * x->seqs * h * V / x->t,
	                        V * h * w / x->t + x->seqs * h * w + logits * w, logits * w,
	                        &c->lm_head));
	return intern_compute(dag, x, 2 * x->seqs * V, x->seqs * V * w, x->seqs * 4,
	                      &c->sample);
}

/* qkv, attention, o_proj */
static pd_status costs_attention(pd_dag *dag, const shape_ctx *x, pd_i_costs *c)
{
	double h = (double)x->m->hidden, d = (double)x->m->head_dim, w = x->w, T = x->T;
	double qkv_out = (x->heads_l + 2 * x->kv_l) * d;
	PD_CHECK(intern_compute(dag, x, 2 * T * h * qkv_out,
	                        h * qkv_out * w + T * (h + qkv_out) * w, T * qkv_out * w,
	                        &c->qkv));
	double att_flops, att_bytes;
	if (x->prefill) {
		/* causal: half of the context x context score matrix, QK and PV */
		att_flops = 2 * x->seqs * x->context * x->context * x->heads_l * d;
		att_bytes = T * (x->heads_l + 2 * x->kv_l) * d * w + T * x->heads_l * d * w;
	} else {
		/* one query per sequence reads the whole KV cache */
		att_flops = 4 * x->seqs * x->context * x->heads_l * d;
		att_bytes = x->seqs * x->context * 2 * x->kv_l * d * w;
	}
	PD_CHECK(intern_compute(dag, x, att_flops, att_bytes, T * x->heads_l * d * w,
	                        &c->attention));
	return intern_compute(dag, x, 2 * T * x->heads_l * d * h,
	                      x->heads_l * d * h * w + T * (x->heads_l * d + h) * w, T * h * w,
	                      &c->o_proj);
}

/* router, expert, shared_expert, dense ffn */
static pd_status costs_ffn(pd_dag *dag, const shape_ctx *x, pd_i_costs *c)
{
	const pd_model *m = x->m;
	double h = (double)m->hidden, w = x->w, T = x->T;
	double E = (double)m->experts, fe = (double)m->expert_ffn, fd = (double)m->dense_ffn;
	PD_CHECK(intern_compute(dag, x, 2 * T * h * E, h * E * w + T * h * w, T * E * w,
	                        &c->router));
	double te = E > 0 ? x->Tst * (double)m->top_k / E : 0;
	PD_CHECK(intern_compute(dag, x, 6 * te * h * fe, 3 * h * fe * w + 2 * te * h * w,
	                        te * h * w, &c->expert));
	double ns = (double)m->shared_experts;
	PD_CHECK(intern_compute(dag, x, 6 * T * h * fe * ns / x->t,
	                        3 * h * fe * ns * w / x->t + 2 * T * h * w, T * h * w,
	                        &c->shared_expert));
	return intern_compute(dag, x, 6 * T * h * fd / x->t,
	                      3 * h * fd * w / x->t + 2 * T * h * w, T * h * w, &c->ffn);
}

/* One TP group's collectives; the link depends on the group's GPUs. */
static pd_status costs_tp(pd_dag *dag, const pd_i_stage_shape *sh, const shape_ctx *x,
                          const int32_t *gpus, pd_i_tp_costs *tc)
{
	double n = x->t, payload = x->T * (double)x->m->hidden * x->w;
	PD_CHECK(intern_collective(dag, sh->plan, gpus, (uint32_t)sh->tp, payload,
	                           2 * (n - 1) / n * payload, tc->allreduce));
	PD_CHECK(intern_collective(dag, sh->plan, gpus, (uint32_t)sh->tp, payload,
	                           (n - 1) / n * payload, tc->reduce_scatter));
	return intern_collective(dag, sh->plan, gpus, (uint32_t)sh->tp, payload,
	                         (n - 1) / n * payload, tc->all_gather);
}

/* All-to-all over the whole stage. */
static pd_status costs_ep(pd_dag *dag, const pd_i_stage_shape *sh, const shape_ctx *x,
                          pd_i_costs *c)
{
	double n = sh->stage_size;
	double per_gpu = x->Tst / n * (double)x->m->top_k * (double)x->m->hidden * x->w;
	double bytes = per_gpu * (n - 1) / n;
	PD_CHECK(intern_collective(dag, sh->plan, sh->gpus, sh->stage_size, per_gpu * n, bytes,
	                           c->ep_dispatch));
	c->ep_combine[0] = c->ep_dispatch[0];
	c->ep_combine[1] = c->ep_dispatch[1];
	return PD_OK;
}

/* pp_send towards the next stage: the activations of the receiving GPU's attention
 * group; [0] inside a node, [1] across nodes.  pp_recv: the same bytes, no time. */
static pd_status costs_pp(pd_dag *dag, const pd_i_stage_shape *sh, pd_i_costs *c)
{
	if (!sh->next_size)
		return PD_OK;
	const pd_plan *p = sh->plan;
	pd_i_stage_shape next = {.plan = p, .stage_size = sh->next_size, .tp = sh->next_tp};
	shape_ctx y;
	shape_init(&y, &next);
	double payload = y.T * (double)p->model.hidden * y.w;
	double bw[2] = {p->cluster.intra_bandwidth, p->cluster.inter_bandwidth};
	for (int i = 0; i < 2; i++) {
		pd_cost k = {0, payload, ALPHA_US + (bw[i] > 0 ? payload / bw[i] * 1e6 : 0),
		             payload};
		PD_CHECK(pd_dag_intern_cost(dag, &k, &c->pp[i]));
	}
	/* one transfer, timed once: on the pp_send; the pp_recv only marks its arrival */
	pd_cost recv = {0, payload, 0, payload};
	return pd_dag_intern_cost(dag, &recv, &c->pp_recv);
}

pd_status pd_i_costs_stage(pd_dag *dag, const pd_i_stage_shape *sh, pd_i_costs *c)
{
	shape_ctx x;
	shape_init(&x, sh);
	PD_CHECK(costs_edges(dag, &x, sh->sp, c));
	PD_CHECK(costs_attention(dag, &x, c));
	PD_CHECK(costs_ffn(dag, &x, c));
	PD_CHECK(costs_ep(dag, sh, &x, c));
	PD_CHECK(costs_pp(dag, sh, c));
	uint32_t groups = sh->tp > 0 ? sh->stage_size / (uint32_t)sh->tp : 0;
	for (uint32_t g = 0; g < groups && g < c->n_tp; g++)
		PD_CHECK(costs_tp(dag, sh, &x, sh->gpus + (size_t)g * (size_t)sh->tp, &c->tp[g]));
	return PD_OK;
}
