/* cost.c - the cost model: one work function per operator (see cost.h for the formulas).
 *
 * Expert tokens = Tst * top_k / experts per expert, on average, split evenly over the
 * expert's copies with redundant experts; dispatch/combine bytes
 * per GPU = Tst / n * top_k * hidden * dtype * (n - 1) / n over the n GPUs of the stage.
 */
#include "plan/cost.h"

#include <math.h>

void pd_i_shape_init(pd_i_shape *x, const pd_plan *p, uint32_t stage_size, int64_t tp,
                     bool sp)
{
	x->m = &p->model;
	x->c = &p->cluster;
	x->w = pd_dtype_bytes(p->model.dtype);
	x->t = tp > 0 ? (double)tp : 1;
	x->n = stage_size;
	double groups = stage_size / x->t > 1 ? stage_size / x->t : 1;
	double mb = p->workload.micro_batches > 0 ? (double)p->workload.micro_batches : 1;
	x->prefill = p->workload.phase == PD_PREFILL;
	x->sp = sp;
	x->context = (double)p->workload.context;
	x->seqs = (double)p->workload.batch / mb / groups;
	x->T = x->prefill ? x->seqs * x->context : x->seqs;
	x->Tst = (double)p->workload.batch / mb * (x->prefill ? x->context : 1);
	x->heads_l = (double)x->m->heads / x->t;
	x->kv_l = fmax((double)x->m->kv_heads / x->t, 1);
	x->copies = 1;
}

/* Tokens of one GPU outside the TP regions: with SP the attention group's T tokens are
 * split along the sequence, T / TP on each GPU; without SP every GPU holds all T. */
static double sp_tokens(const pd_i_shape *x)
{
	return x->sp ? x->T / x->t : x->T;
}

pd_i_work pd_i_work_embed(const pd_i_shape *x)
{
	double act = x->T * (double)x->m->hidden * x->w;
	return (pd_i_work){0, act + act / x->t, act, false};
}

pd_i_work pd_i_work_norm(const pd_i_shape *x)
{
	double h = (double)x->m->hidden, w = x->w;
	double tok = sp_tokens(x);
	return (pd_i_work){4 * tok * h, 2 * tok * h * w, tok * h * w, false};
}

pd_i_work pd_i_work_qkv(const pd_i_shape *x)
{
	double h = (double)x->m->hidden, d = (double)x->m->head_dim, w = x->w, T = x->T;
	double qkv_out = (x->heads_l + 2 * x->kv_l) * d;
	return (pd_i_work){2 * T * h * qkv_out, h * qkv_out * w + T * (h + qkv_out) * w,
	                   T * qkv_out * w, true};
}

pd_i_work pd_i_work_attention(const pd_i_shape *x)
{
	double d = (double)x->m->head_dim, w = x->w, T = x->T;
	pd_i_work k = {0, 0, T * x->heads_l * d * w, false};
	if (x->prefill) {
		/* causal: half of the context x context score matrix, QK and PV */
		k.flops = 2 * x->seqs * x->context * x->context * x->heads_l * d;
		k.bytes = T * (x->heads_l + 2 * x->kv_l) * d * w + T * x->heads_l * d * w;
	} else {
		/* one query per sequence reads the whole KV cache */
		k.flops = 4 * x->seqs * x->context * x->heads_l * d;
		k.bytes = x->seqs * x->context * 2 * x->kv_l * d * w;
	}
	return k;
}

pd_i_work pd_i_work_o_proj(const pd_i_shape *x)
{
	double h = (double)x->m->hidden, d = (double)x->m->head_dim, w = x->w, T = x->T;
	return (pd_i_work){2 * T * x->heads_l * d * h,
	                   x->heads_l * d * h * w + T * (x->heads_l * d + h) * w, T * h * w,
	                   true};
}

pd_i_work pd_i_work_router(const pd_i_shape *x)
{
	double h = (double)x->m->hidden, w = x->w, T = x->T, E = (double)x->m->experts;
	return (pd_i_work){2 * T * h * E, h * E * w + T * h * w, T * E * w, true};
}

pd_i_work pd_i_work_expert(const pd_i_shape *x)
{
	const pd_model *m = x->m;
	double h = (double)m->hidden, w = x->w, E = (double)m->experts;
	double fe = (double)m->expert_ffn;
	double te = E > 0 ? x->Tst * (double)m->top_k / E : 0;
	if (x->copies > 1)
		te /= x->copies; /* each copy of a redundant expert takes its share */
	return (pd_i_work){6 * te * h * fe, 3 * h * fe * w + 2 * te * h * w, te * h * w, true};
}

pd_i_work pd_i_work_shared_expert(const pd_i_shape *x)
{
	const pd_model *m = x->m;
	double h = (double)m->hidden, w = x->w, T = x->T, fe = (double)m->expert_ffn;
	double ns = (double)m->shared_experts;
	return (pd_i_work){6 * T * h * fe * ns / x->t,
	                   3 * h * fe * ns * w / x->t + 2 * T * h * w, T * h * w, true};
}

pd_i_work pd_i_work_ffn(const pd_i_shape *x)
{
	double h = (double)x->m->hidden, w = x->w, T = x->T, fd = (double)x->m->dense_ffn;
	return (pd_i_work){6 * T * h * fd / x->t, 3 * h * fd * w / x->t + 2 * T * h * w,
	                   T * h * w, true};
}

/* logits only for the last token of every sequence */
pd_i_work pd_i_work_lm_head(const pd_i_shape *x)
{
	double h = (double)x->m->hidden, w = x->w, V = (double)x->m->vocab;
	double logits = x->seqs * V / x->t;
	return (pd_i_work){2 * x->seqs * h * V / x->t,
	                   V * h * w / x->t + x->seqs * h * w + logits * w, logits * w, true};
}

pd_i_work pd_i_work_sample(const pd_i_shape *x)
{
	double V = (double)x->m->vocab;
	return (pd_i_work){2 * x->seqs * V, x->seqs * V * x->w, x->seqs * 4, false};
}

static double tp_payload(const pd_i_shape *x)
{
	return x->T * (double)x->m->hidden * x->w;
}

pd_i_work pd_i_work_tp_allreduce(const pd_i_shape *x)
{
	double payload = tp_payload(x);
	return (pd_i_work){0, pd_i_ring_allreduce_bytes(payload, x->t), payload, false};
}

pd_i_work pd_i_work_tp_reduce_scatter(const pd_i_shape *x)
{
	double n = x->t, payload = tp_payload(x);
	return (pd_i_work){0, (n - 1) / n * payload, payload, false};
}

pd_i_work pd_i_work_tp_all_gather(const pd_i_shape *x)
{
	return pd_i_work_tp_reduce_scatter(x);
}

pd_i_work pd_i_work_ep_all_to_all(const pd_i_shape *x)
{
	double n = x->n;
	double per_gpu = x->Tst / n * (double)x->m->top_k * (double)x->m->hidden * x->w;
	return (pd_i_work){0, per_gpu * (n - 1) / n, per_gpu * n, false};
}

/* What the receiving GPU needs: its sequence shard with SP on the receiving stage (the
 * shards stay sharded), the whole attention group's activations without. */
pd_i_work pd_i_work_pp(const pd_i_shape *x)
{
	double payload = sp_tokens(x) * (double)x->m->hidden * x->w;
	return (pd_i_work){0, payload, payload, false};
}

double pd_i_compute_us(const pd_cluster *c, double flops, double bytes)
{
	double a = c->gpu_flops > 0 ? flops / c->gpu_flops : 0;
	double b = c->gpu_bandwidth > 0 ? bytes / c->gpu_bandwidth : 0;
	return (a > b ? a : b) * 1e6;
}

double pd_i_gemm_flops(const pd_cluster *c, pd_dtype dtype)
{
	return dtype == PD_FP8 && c->gpu_flops_fp8 > 0 ? c->gpu_flops_fp8 : c->gpu_flops;
}

double pd_i_work_us(const pd_i_shape *x, pd_i_work w)
{
	if (!w.gemm)
		return pd_i_compute_us(x->c, w.flops, w.bytes);
	pd_cluster peak = *x->c;
	peak.gpu_flops = pd_i_gemm_flops(x->c, x->m->dtype);
	return pd_i_compute_us(&peak, w.flops, w.bytes);
}

double pd_i_comm_us(double bytes, double bandwidth)
{
	return PD_I_ALPHA_US + (bandwidth > 0 ? bytes / bandwidth * 1e6 : 0);
}

double pd_i_ring_allreduce_bytes(double payload, double n)
{
	return 2 * (n - 1) / n * payload;
}

bool pd_i_group_spans_nodes(const pd_cluster *c, const int32_t *gpus, uint32_t n)
{
	int64_t per = c->nvlink_domain > 0 ? c->nvlink_domain : c->gpus_per_node;
	per = per > 0 ? per : 1;
	for (uint32_t i = 1; i < n; i++)
		if (gpus[i] / per != gpus[0] / per)
			return true;
	return false;
}

double pd_i_link_bandwidth(const pd_cluster *c, const int32_t *gpus, uint32_t n)
{
	return pd_i_group_spans_nodes(c, gpus, n) ? c->inter_bandwidth : c->intra_bandwidth;
}
