/* cost.c - the cost model: one work function per operator (see cost.h for the formulas;
 * docs/models.md derives them, with MLA and group-limited routing).
 *
 * Expert tokens = Tst * top_k / experts per expert, on average, split evenly over the
 * expert's copies with redundant experts; dispatch/combine bytes
 * per GPU = Tst / n * top_k * hidden * dtype * (n - 1) / n over the n GPUs of the stage,
 * or with group-limited routing over D NVLink domains Tst / n * R * hidden * dtype *
 * (D - 1) / D, R = min(top_k, D, group_top_k * max(1, D / expert_groups)) domains.
 */
#include "plan/cost.h"

#include <math.h>

#include "plan/defaults.h"

#define tm pd_i_time_value

void pd_i_shape_init(pd_i_shape *x, const pd_plan *p, uint32_t stage_size, int64_t tp,
                     bool sp)
{
	x->m = &p->model;
	x->c = &p->cluster;
	x->w = pd_dtype_bytes(pd_model_act_dtype(&p->model));
	x->ww = pd_dtype_bytes(p->model.dtype);
	x->we = pd_dtype_bytes(pd_model_expert_dtype(&p->model));
	x->wkv = pd_dtype_bytes(pd_model_kv_dtype(&p->model));
	x->domains = 1;
	x->t = tp > 0 ? (double)tp : 1;
	x->n = stage_size;
	double groups = stage_size / x->t > 1 ? stage_size / x->t : 1;
	double mb = p->workload.micro_batches > 0 ? (double)p->workload.micro_batches : 1;
	if (p->workload.overlap_two_batch)
		mb *= 2; /* two halves of every attention group's sequences */
	x->prefill = p->workload.phase == PD_PREFILL;
	x->sp = sp;
	x->context = (double)p->workload.context;
	x->seqs = (double)p->workload.batch / mb / groups;
	x->T = x->prefill ? x->seqs * x->context : x->seqs;
	x->Tst = (double)p->workload.batch / mb * (x->prefill ? x->context : 1);
	x->heads_l = (double)x->m->heads / x->t;
	x->kv_l = fmax((double)x->m->kv_heads / x->t, 1);
	x->copies = 1;
	x->imbalance = 1;
	x->imbalance_recv = p->workload.expert_imbalance > 1 ? p->workload.expert_imbalance : 1;
	x->kv_rank = 0;
	x->kv_seqs = x->kv_layers = 0;
}

void pd_i_shape_set_gpus(pd_i_shape *x, const int32_t *gpus, uint32_t n)
{
	double per =
	    (double)(x->c->nvlink_domain > 0 ? x->c->nvlink_domain : x->c->gpus_per_node);
	x->domains = 1;
	if (gpus && n > 1 && pd_i_group_spans_nodes(x->c, gpus, n))
		x->domains = fmax(2, ceil((double)n / fmax(per, 1)));
}

pd_i_attn_params pd_i_attention_per_gpu(const pd_model *m, double tp)
{
	double h = (double)m->hidden, heads = (double)m->heads / tp;
	if (!pd_model_is_mla(m)) {
		double d = (double)m->head_dim, kv = fmax((double)m->kv_heads / tp, 1);
		return (pd_i_attn_params){h * heads * d, 2 * h * kv * d, heads * d * h, 0};
	}
	double ql = (double)m->q_lora, kl = (double)m->kv_lora, dn = (double)m->qk_nope;
	double dr = (double)m->qk_rope, dv = (double)m->v_head;
	double q = ql > 0 ? h * ql + ql + ql * heads * (dn + dr) : h * heads * (dn + dr);
	double kv = h * (kl + dr) + kl + kl * heads * (dn + dv);
	return (pd_i_attn_params){q, kv, heads * dv * h, (ql > 0 ? ql : 0) + kl};
}

double pd_i_kv_elements(const pd_model *m, double tp)
{
	if (pd_model_is_mla(m))
		return (double)(m->kv_lora + m->qk_rope);
	return 2 * fmax((double)m->kv_heads / tp, 1) * (double)m->head_dim;
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

/* MLA (docs/models.md "MLA"): per GPU heads_l = heads / TP query heads; the weights are
 * pd_i_attention_per_gpu's.  Decode runs the absorbed form: W_UK (the nope-key half of
 * kv_b_proj) is applied to the query (latent queries of kv_lora), attention scores the
 * latent + rope cache, its output stays in the latent and o_proj applies W_UV (the value
 * half) then W_O.  Prefill runs the plain form: kv_b_proj decompresses K and V of the
 * sequence, attention has qk dim nope + rope, v dim v. */
static double mla_w_uv(const pd_i_shape *x)
{
	return (double)x->m->kv_lora * x->heads_l * (double)x->m->v_head;
}

static pd_i_work mla_qkv(const pd_i_shape *x)
{
	const pd_model *m = x->m;
	pd_i_attn_params P = pd_i_attention_per_gpu(m, x->t);
	double h = (double)m->hidden, kl = (double)m->kv_lora, dr = (double)m->qk_rope;
	double dn = (double)m->qk_nope, dv = (double)m->v_head, T = x->T, out;
	/* prefill reads all of kv_b_proj; decode leaves W_UV to o_proj */
	double weights = P.q + P.kv - (x->prefill ? 0 : mla_w_uv(x));
	if (x->prefill) /* q, and K (nope) and V decompressed for every token */
		out = x->heads_l * (2 * (dn + dr) + dv);
	else /* queries in the latent, plus the new cache entry */
		out = x->heads_l * (kl + dr) + kl + dr;
	return (pd_i_work){2 * T * (weights - P.norms), weights * x->ww + T * (h + out) * x->w,
	                   T * out * x->w, true};
}

static pd_i_work mla_attention(const pd_i_shape *x)
{
	const pd_model *m = x->m;
	double kl = (double)m->kv_lora, dr = (double)m->qk_rope, dn = (double)m->qk_nope;
	double dv = (double)m->v_head, H = x->heads_l;
	double T = x->T, w = x->w, s = x->seqs, ctx = x->context;
	if (x->prefill) { /* causal: half of QK (nope + rope) and PV (v) */
		double io = T * H * (2 * (dn + dr) + dv) * w + T * H * dv * w;
		return (pd_i_work){s * ctx * ctx * H * (dn + dr + dv), io, T * H * dv * w,
		                   PD_I_ATTENTION};
	}
	/* scores over the latent + rope cache, output in the latent; the cache is read once
	 * per layer, shared by the GPU's heads */
	double flops = 2 * s * ctx * H * (kl + dr) + 2 * s * ctx * H * kl;
	return (pd_i_work){flops, s * ctx * pd_i_kv_elements(m, x->t) * x->wkv, T * H * kl * w,
	                   PD_I_ATTENTION};
}

static pd_i_work mla_o_proj(const pd_i_shape *x)
{
	const pd_model *m = x->m;
	double T = x->T, w = x->w, h = (double)m->hidden;
	double weights = pd_i_attention_per_gpu(m, x->t).o + (x->prefill ? 0 : mla_w_uv(x));
	double in = x->heads_l * (double)(x->prefill ? m->v_head : m->kv_lora);
	return (pd_i_work){2 * T * weights, weights * x->ww + T * (in + h) * w, T * h * w,
	                   true};
}

pd_i_work pd_i_work_qkv(const pd_i_shape *x)
{
	if (pd_model_is_mla(x->m))
		return mla_qkv(x);
	double h = (double)x->m->hidden, d = (double)x->m->head_dim, w = x->w, T = x->T;
	double qkv_out = (x->heads_l + 2 * x->kv_l) * d;
	return (pd_i_work){2 * T * h * qkv_out, h * qkv_out * x->ww + T * (h + qkv_out) * w,
	                   T * qkv_out * w, true};
}

pd_i_work pd_i_work_attention(const pd_i_shape *x)
{
	if (pd_model_is_mla(x->m))
		return mla_attention(x);
	double d = (double)x->m->head_dim, w = x->w, T = x->T;
	pd_i_work k = {0, 0, T * x->heads_l * d * w, PD_I_ATTENTION};
	if (x->prefill) {
		/* causal: half of the context x context score matrix, QK and PV */
		k.flops = 2 * x->seqs * x->context * x->context * x->heads_l * d;
		k.bytes = T * (x->heads_l + 2 * x->kv_l) * d * w + T * x->heads_l * d * w;
	} else {
		/* one query per sequence reads the whole KV cache */
		k.flops = 4 * x->seqs * x->context * x->heads_l * d;
		k.bytes = x->seqs * x->context * 2 * x->kv_l * d * x->wkv;
	}
	return k;
}

pd_i_work pd_i_work_o_proj(const pd_i_shape *x)
{
	if (pd_model_is_mla(x->m))
		return mla_o_proj(x);
	double h = (double)x->m->hidden, d = (double)x->m->head_dim, w = x->w, T = x->T;
	return (pd_i_work){2 * T * x->heads_l * d * h,
	                   x->heads_l * d * h * x->ww + T * (x->heads_l * d + h) * w, T * h * w,
	                   true};
}

pd_i_work pd_i_work_router(const pd_i_shape *x)
{
	double h = (double)x->m->hidden, w = x->w, T = x->T, E = (double)x->m->experts;
	return (pd_i_work){2 * T * h * E, h * E * x->ww + T * h * w, T * E * w, true};
}

pd_i_work pd_i_work_expert(const pd_i_shape *x)
{
	const pd_model *m = x->m;
	double h = (double)m->hidden, w = x->w, E = (double)m->experts;
	double fe = (double)m->expert_ffn;
	double te = E > 0 ? x->Tst * (double)m->top_k / E : 0;
	if (x->copies > 1)
		te /= x->copies; /* each copy of a redundant expert takes its share */
	te *= x->imbalance;
	return (pd_i_work){6 * te * h * fe, 3 * h * fe * x->we + 2 * te * h * w, te * h * w,
	                   PD_I_GEMM_EXPERT};
}

pd_i_work pd_i_work_shared_expert(const pd_i_shape *x)
{
	const pd_model *m = x->m;
	double h = (double)m->hidden, w = x->w, T = x->T, fe = (double)m->expert_ffn;
	double ns = (double)m->shared_experts;
	return (pd_i_work){6 * T * h * fe * ns / x->t,
	                   3 * h * fe * ns * x->we / x->t + 2 * T * h * w, T * h * w,
	                   PD_I_GEMM_EXPERT};
}

pd_i_work pd_i_work_ffn(const pd_i_shape *x)
{
	double h = (double)x->m->hidden, w = x->w, T = x->T, fd = (double)x->m->dense_ffn;
	return (pd_i_work){6 * T * h * fd / x->t, 3 * h * fd * x->ww / x->t + 2 * T * h * w,
	                   T * h * w, true};
}

/* logits only for the last token of every sequence */
pd_i_work pd_i_work_lm_head(const pd_i_shape *x)
{
	double h = (double)x->m->hidden, w = x->w, V = (double)x->m->vocab;
	double logits = x->seqs * V / x->t;
	return (pd_i_work){2 * x->seqs * h * V / x->t,
	                   V * h * x->ww / x->t + x->seqs * h * w + logits * w, logits * w,
	                   true};
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

/* NVLink domains one token's activation reaches under group-limited routing: its top-k
 * experts lie in group_top_k groups of experts / expert_groups, the groups laid
 * contiguously over the stage's D domains (a group spans D / expert_groups domains when
 * there are fewer groups than domains). */
static double domains_reached(const pd_i_shape *x)
{
	const pd_model *m = x->m;
	double D = x->domains, G = (double)m->expert_groups, k = (double)m->top_k;
	double gtk = (double)(m->group_top_k > 0 ? m->group_top_k : m->expert_groups);
	return fmin(fmin(k, D), gtk * fmax(1, D / G));
}

void pd_i_all_to_all_split(const pd_i_shape *x, double *nvlink, double *network)
{
	double n = x->n, D = x->domains, g = n / D, k = (double)x->m->top_k;
	double copy = x->Tst / n * (double)x->m->hidden * x->w; /* one copy of its tokens */
	if (D <= 1) {
		*nvlink = copy * k * (n - 1) / n;
		*network = 0;
	} else if (x->m->expert_groups > 1) {
		/* one copy per remote domain reached, forwarded inside it over NVLink: every
		 * copy but the entry GPU's crosses one NVLink hop */
		*network = copy * domains_reached(x) * (D - 1) / D;
		*nvlink = copy * k * (g - 1) / g;
	} else { /* every copy straight to its GPU, by destination */
		*network = copy * k * (n - g) / n;
		*nvlink = copy * k * (g - 1) / n;
	}
}

pd_i_work pd_i_work_ep_all_to_all(const pd_i_shape *x)
{
	double nvl, net,
	    k = x->m->expert_groups > 1 && x->domains > 1 ? domains_reached(x)
	                                                  : (double)x->m->top_k;
	pd_i_all_to_all_split(x, &nvl, &net);
	return (pd_i_work){0, nvl + net, x->Tst * k * (double)x->m->hidden * x->w, false};
}

double pd_i_all_to_all_us(const pd_i_shape *x)
{
	double nvl, net;
	pd_i_all_to_all_split(x, &nvl, &net);
	const pd_cluster *c = x->c;
	double lat = tm(c, PD_I_TIME_COMM_LATENCY);
	double a = pd_i_comm_us(c, nvl, false) - lat, b = pd_i_comm_us(c, net, true) - lat;
	/* the busiest GPU receives expert-imbalance times the mean: max of send, receive */
	double im = x->imbalance_recv > 1 ? x->imbalance_recv : 1;
	return lat + (a > b ? a : b) * im;
}

/* What the receiving GPU needs: its sequence shard with SP on the receiving stage (the
 * shards stay sharded), the whole attention group's activations without. */
pd_i_work pd_i_work_pp(const pd_i_shape *x)
{
	double payload = sp_tokens(x) * (double)x->m->hidden * x->w;
	return (pd_i_work){0, payload, payload, false};
}

/* floor(a·b / c) and ceil(a·b / c) for a, b >= 0, c > 0 (plan-sized values: the schema
 * bounds tokens, heads and TP far below overflow). */
static int64_t share_floor(int64_t a, int64_t b, int64_t c)
{
	return a * b / c;
}

static int64_t share_ceil(int64_t a, int64_t b, int64_t c)
{
	return (a * b + c - 1) / c;
}

double pd_i_kv_send_bytes(const pd_model *m, int64_t tp, int64_t rank, double seqs,
                          int64_t tokens, double layers)
{
	tp = tp > 0 ? tp : 1;
	if (pd_model_is_mla(m)) { /* the latent, split by token over the group */
		int64_t t = share_floor(rank + 1, tokens, tp) - share_floor(rank, tokens, tp);
		return seqs * pd_i_kv_bytes(m, layers, (double)t);
	}
	/* heads h with floor(h·tp / H) == rank: h in [ceil(rank·H/tp), ceil((rank+1)·H/tp));
	 * the bytes of one head are exact: the whole KV is a multiple of H */
	int64_t H = m->kv_heads > 0 ? m->kv_heads : 1;
	int64_t heads = share_ceil(rank + 1, H, tp) - share_ceil(rank, H, tp);
	return seqs * (pd_i_kv_bytes(m, layers, (double)tokens) / (double)H) * (double)heads;
}

int64_t pd_i_kv_dst_rank(const pd_model *m, int64_t k, int64_t tp, int64_t dtp)
{
	tp = tp > 0 ? tp : 1;
	dtp = dtp > 0 ? dtp : 1;
	if (pd_model_is_mla(m) || m->kv_heads <= 0)
		return k % dtp;
	int64_t h = share_ceil(k, m->kv_heads, tp), r = h * dtp / m->kv_heads;
	return r < dtp ? r : dtp - 1;
}

pd_i_work pd_i_work_kv(const pd_i_shape *x)
{
	double b = pd_i_kv_send_bytes(x->m, (int64_t)x->t, x->kv_rank, x->kv_seqs,
	                              (int64_t)x->context, x->kv_layers);
	return (pd_i_work){0, b, b, false};
}

double pd_i_memory_us(const pd_cluster *c, double bytes)
{
	double bw = c->gpu_bandwidth * tm(c, PD_I_TIME_MEMORY_EFF);
	return bw > 0 ? bytes / bw * 1e6 : 0;
}

double pd_i_compute_us(const pd_cluster *c, double flops, double bytes)
{
	double peak = c->gpu_flops * tm(c, PD_I_TIME_GEMM_EFF);
	double a = peak > 0 ? flops / peak * 1e6 : 0, b = pd_i_memory_us(c, bytes);
	return a > b ? a : b;
}

double pd_i_gemm_flops(const pd_cluster *c, pd_dtype dtype)
{
	if (dtype == PD_FP8 && c->gpu_flops_fp8 > 0)
		return c->gpu_flops_fp8;
	/* without fp4 tensor cores (Hopper) fp4 weights are dequantised to bf16 */
	if (dtype == PD_FP4 && c->gpu_flops_fp4 > 0)
		return c->gpu_flops_fp4;
	return c->gpu_flops;
}

/* FLOP/s an operator reaches: attention at the 16-bit peak x attention-efficiency, a
 * GEMM at the peak of its weights' dtype, anything else at the 16-bit peak; both x
 * gemm-efficiency. */
static double reached_flops(const pd_i_shape *x, pd_i_work w)
{
	const pd_cluster *c = x->c;
	if (w.gemm == PD_I_ATTENTION)
		return c->gpu_flops * tm(c, PD_I_TIME_ATTENTION_EFF);
	double peak = c->gpu_flops;
	if (w.gemm)
		peak = pd_i_gemm_flops(c, w.gemm == PD_I_GEMM_EXPERT ? pd_model_expert_dtype(x->m)
		                                                     : x->m->dtype);
	return peak * tm(c, PD_I_TIME_GEMM_EFF);
}

double pd_i_work_us(const pd_i_shape *x, pd_i_work w)
{
	double peak = reached_flops(x, w);
	double a = peak > 0 ? w.flops / peak * 1e6 : 0, b = pd_i_memory_us(x->c, w.bytes);
	return a > b ? a : b;
}

double pd_i_comm_us(const pd_cluster *c, double bytes, bool network)
{
	double bw = network ? c->inter_bandwidth * tm(c, PD_I_TIME_NETWORK_EFF)
	                    : c->intra_bandwidth * tm(c, PD_I_TIME_NVLINK_EFF);
	return tm(c, PD_I_TIME_COMM_LATENCY) + (bw > 0 ? bytes / bw * 1e6 : 0);
}

double pd_i_kv_bytes(const pd_model *m, double layers, double tokens)
{
	return tokens * layers * pd_i_kv_elements(m, 1) * pd_dtype_bytes(pd_model_kv_dtype(m));
}

int64_t pd_i_kv_send_ranks(const pd_model *m, int64_t tp)
{
	tp = tp < 1 ? 1 : tp;
	if (pd_model_is_mla(m) || m->kv_heads >= tp || m->kv_heads < 1)
		return tp;
	return m->kv_heads;
}

bool pd_i_pair_uses_network(const pd_cluster *c, int32_t a, int32_t b)
{
	int32_t pair[2] = {a, b};
	return pd_i_group_spans_nodes(c, pair, 2);
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
