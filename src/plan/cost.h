/* cost.h - the one cost model of plandag, shared by the lowering's
 * per-node costs (src/dag/cost.c) and the analytic estimate (src/plan/roofline.c);
 * docs/time-model.md states every formula and default.
 *
 *   compute = max(FLOPs / (peak x efficiency), HBM bytes / (HBM bandwidth x
 *             memory-efficiency))                                   pd_i_work_us
 *   peak    = attention: gpu-tflops x attention-efficiency; a GEMM: the peak of its
 *             weight dtype (gpu-tflops-fp8 for fp8, gpu-tflops-fp4 for fp4 when
 *             known, gpu-tflops otherwise) x gemm-efficiency        pd_i_gemm_flops
 *   comm    = comm-latency + bytes / (link bandwidth x its efficiency) pd_i_comm_us
 *   link    = NVLink when every GPU of the group sits in one NVLink   pd_i_link_bandwidth
 *             domain (nvlink-domain GPUs, default gpus-per-node), the network otherwise
 *   all-to-all = latency + max(NVLink part, network part), split by
 *             destination, x expert-imbalance                       pd_i_all_to_all_us
 *   ring all-reduce bytes = 2 (n - 1) / n * payload pd_i_ring_allreduce_bytes
 *   KV hand-over bytes = tokens x layers x pd_i_kv_elements(m, 1) x kv-dtype bytes
 *             (the prompt's KV, unsharded), split over pd_i_kv_send_ranks ranks of an
 *             attention group; time = pd_i_comm_us on its link      pd_i_kv_bytes
 *
 * One pd_i_shape describes what one stage processes per micro-batch; one work function
 * per operator (pd_i_work_*) gives its FLOPs and bytes from it.  The operator catalogue
 * (src/dag/ops.c) names the work function of every node kind.  Lives in src/plan so that
 * both the analysis (plan) and the lowering (dag) may include it.
 */
#ifndef PLANDAG_PLAN_COST_H
#define PLANDAG_PLAN_COST_H

#include <stdbool.h>
#include <stdint.h>

#include "plandag/plan.h"

/* Token counts per micro-batch of one stage of one replica:
 *   seqs = batch / micro_batches / (stage_size / TP)   sequences of one attention group
 *   T    = seqs (decode) or seqs * context (prefill)   tokens of one attention group
 *   Tst  = batch / micro_batches (* context)           tokens of the whole stage */
typedef struct pd_i_shape {
	const pd_model *m;
	const pd_cluster *c;
	double w;             /* bytes of an activation element (pd_model_act_dtype) */
	double ww, we, wkv;   /* bytes of a weight, an expert weight, a KV element */
	double domains;       /* NVLink domains the stage spans (pd_i_shape_set_gpus) */
	double t;             /* TP */
	double n;             /* GPUs of the stage (the all-to-all of EP spans them all) */
	double seqs, T, Tst;  /* see above */
	double heads_l, kv_l; /* heads and KV heads per GPU */
	bool prefill, sp;
	double context;
	double copies;         /* copies of the routed expert costed (redundant experts): 1 */
	double imbalance;      /* factor on the routed expert's tokens (the busiest GPU): 1 */
	double imbalance_recv; /* expert-imbalance: what the busiest GPU receives / mean */
	/* the KV hand-over of a pooled plan (pd_i_work_kv): the sender's TP rank in its
	 * attention group, the sequences and layers it hands over (0 otherwise) */
	int64_t kv_rank;
	double kv_seqs, kv_layers;
} pd_i_shape;

void pd_i_shape_init(pd_i_shape *x, const pd_plan *p, uint32_t stage_size, int64_t tp,
                     bool sp);
/* The stage's GPUs (cluster ids), for the all-to-all of group-limited routing: domains
 * = 1 inside one NVLink domain, else max(2, ceil(n / nvlink-domain)). */
void pd_i_shape_set_gpus(pd_i_shape *x, const int32_t *gpus, uint32_t n);

/* Attention weights of one GPU under attention TP tp, in parameters (docs/models.md):
 * GQA q = hidden·heads/TP·head_dim, kv = 2·hidden·max(kv_heads/TP,1)·head_dim,
 * o = heads/TP·head_dim·hidden; MLA q_a_proj, kv_a_proj_with_mqa and their norms whole,
 * q_b_proj, kv_b_proj and o_proj / TP.  At tp 1 the model's attention parameters. */
typedef struct pd_i_attn_params {
	double q, kv, o;
	double norms; /* of them the MLA q_a / kv_a layernorm weights (no GEMM); 0 for GQA */
} pd_i_attn_params;
pd_i_attn_params pd_i_attention_per_gpu(const pd_model *m, double tp);
/* KV cache elements per token and layer on one GPU: 2·max(kv_heads/TP,1)·head_dim, or
 * for MLA kv_lora + rope whatever the TP (the latent is not split by heads). */
double pd_i_kv_elements(const pd_model *m, double tp);

/* What one operator does: FLOPs, bytes (HBM traffic for compute, the bytes one member
 * puts on the link for communication) and the size of its output (the payload of a
 * communication). */
typedef struct pd_i_work {
	double flops, bytes, out_bytes;
	/* a GEMM runs at pd_i_gemm_flops of its weights' dtype: 0 not a GEMM, true (1) weights
	 * in dtype, PD_I_GEMM_EXPERT weights in expert-dtype */
	int gemm;
} pd_i_work;
#define PD_I_GEMM_EXPERT 2
#define PD_I_ATTENTION 3 /* attention: FLOPs at the 16-bit peak x attention-efficiency */

typedef pd_i_work (*pd_i_work_fn)(const pd_i_shape *x);

pd_i_work pd_i_work_embed(const pd_i_shape *x);
pd_i_work pd_i_work_norm(const pd_i_shape *x); /* attn_norm and ffn_norm; T / TP with SP */
pd_i_work pd_i_work_qkv(const pd_i_shape *x);
pd_i_work pd_i_work_attention(const pd_i_shape *x);
pd_i_work pd_i_work_o_proj(const pd_i_shape *x);
pd_i_work pd_i_work_router(const pd_i_shape *x);
pd_i_work pd_i_work_expert(const pd_i_shape *x); /* one copy of a routed expert */
pd_i_work pd_i_work_shared_expert(const pd_i_shape *x);
pd_i_work pd_i_work_ffn(const pd_i_shape *x);
pd_i_work pd_i_work_lm_head(const pd_i_shape *x);
pd_i_work pd_i_work_sample(const pd_i_shape *x);
pd_i_work pd_i_work_tp_allreduce(const pd_i_shape *x);
pd_i_work pd_i_work_tp_reduce_scatter(const pd_i_shape *x);
pd_i_work pd_i_work_tp_all_gather(const pd_i_shape *x);
pd_i_work pd_i_work_ep_all_to_all(const pd_i_shape *x); /* ep_dispatch and ep_combine */
/* pp_send / pp_recv: x is the shape of the RECEIVING stage: what one receiving GPU needs
 * crosses the boundary, its attention group's activations, or with SP on the receiving
 * stage only its 1/TP sequence shard. */
pd_i_work pd_i_work_pp(const pd_i_shape *x);
/* kv_send / kv_recv (§13, docs/pools.md): the prompt KV cache that TP rank kv_rank of a
 * prefill attention group hands over for kv_seqs sequences of `context` tokens and
 * kv_layers layers, pd_i_kv_send_bytes of the shape. */
pd_i_work pd_i_work_kv(const pd_i_shape *x);
/* The TP rank of a decode attention group of dtp GPUs that receives what prefill rank k
 * (of tp) sends in the hand-over: GQA, the decode rank holding the first KV head rank k
 * sends (head ceil(k·kv_heads / tp), held by rank floor(head·dtp / kv_heads)); MLA,
 * whose latent every rank holds, rank k mod dtp. */
int64_t pd_i_kv_dst_rank(const pd_model *m, int64_t k, int64_t tp, int64_t dtp);

/* What TP rank `rank` (0 <= rank < tp) of an attention group sends of the prompt KV of
 * `seqs` sequences of `tokens` tokens over `layers` layers, so that the group's ranks
 * together send seqs x pd_i_kv_bytes(m, layers, tokens) exactly, each element once: GQA
 * splits the KV heads, head h sent by rank floor(h·tp / kv_heads) (its own heads when
 * kv_heads
 * >= tp; one holder of a head replicated over tp / kv_heads ranks when fewer); MLA's
 * latent, held whole by every rank, is split by token: rank k sends tokens
 * floor(k·tokens / tp) .. floor((k+1)·tokens / tp) - 1.  Zero for a rank with nothing
 * to send. */
double pd_i_kv_send_bytes(const pd_model *m, int64_t tp, int64_t rank, double seqs,
                          int64_t tokens, double layers);

double pd_i_compute_us(const pd_cluster *c, double flops, double bytes);
/* The HBM term of pd_i_compute_us alone (a node is memory-bound when it decides). */
double pd_i_memory_us(const pd_cluster *c, double bytes);
/* The peak of a GEMM whose weights are in dtype: gpu-tflops-fp8 for fp8 when the plan
 * or its preset gives it, gpu-tflops (dense 16-bit) otherwise. */
double pd_i_gemm_flops(const pd_cluster *c, pd_dtype dtype);
/* compute time of an operator of the shape: pd_i_compute_us at the peak of its kind. */
double pd_i_work_us(const pd_i_shape *x, pd_i_work w);
/* latency + bytes / (link bandwidth x its efficiency): NVLink, or the scale-out network
 * when `network`. */
double pd_i_comm_us(const pd_cluster *c, double bytes, bool network);
/* The bytes one GPU sends in a dispatch or combine, by destination: to GPUs of its own
 * NVLink domain (*nvlink) and over the scale-out network (*network) (cost.c). */
void pd_i_all_to_all_split(const pd_i_shape *x, double *nvlink, double *network);
/* latency + max(NVLink part / NVLink, network part / network) at their efficiencies,
 * times expert-imbalance (the busiest GPU's receive side, DeepEP's max of send and
 * receive). */
double pd_i_all_to_all_us(const pd_i_shape *x);
double pd_i_ring_allreduce_bytes(double payload, double n);
/* KV cache bytes of `tokens` tokens over `layers` layers of the whole model, unsharded
 * (MLA: (kv-lora-rank + qk-rope-dim) x kv bytes per layer; GQA: 2 x kv-heads x head-dim
 * x kv bytes): what a pooled plan hands over from prefill to decode. */
double pd_i_kv_bytes(const pd_model *m, double layers, double tokens);
/* TP ranks of an attention group that send its KV in the hand-over, each an equal share
 * (1 / ranks) of the group's bytes: every rank for MLA (the latent, replicated over TP,
 * is split by tokens) and for GQA with kv-heads >= TP (each its own heads); kv-heads
 * ranks for GQA with kv-heads < TP (a replicated head is sent by one holder only). */
int64_t pd_i_kv_send_ranks(const pd_model *m, int64_t tp);
/* Whether prefill GPU `a` and decode GPU `b` talk over the scale-out network (different
 * NVLink domains) rather than NVLink. */
bool pd_i_pair_uses_network(const pd_cluster *c, int32_t a, int32_t b);
/* Whether the n GPUs (cluster ids) span more than one NVLink domain (GPU ids
 * k*nvlink_domain ... (k+1)*nvlink_domain - 1 share one; nvlink-domain defaults to
 * gpus-per-node, so without it this is "span more than one node"). */
bool pd_i_group_spans_nodes(const pd_cluster *c, const int32_t *gpus, uint32_t n);
/* Bandwidth of the link a group's communication uses. */
double pd_i_link_bandwidth(const pd_cluster *c, const int32_t *gpus, uint32_t n);

#endif
