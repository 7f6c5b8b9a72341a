/* memory.c - memory per GPU exactly as docs/plan-format.md defines it.
 *
 * weights: per layer of the stage, attention per GPU (cost.c pd_i_attention_per_gpu: GQA
 * / TP with K, V as 2·hidden·max(kv/TP,1)·head_dim; MLA q_a/kv_a projections whole, the
 * rest / TP), router and norms whole, dense FFN / its TP (<dense-ffn tp>, default TP),
 * shared experts / TP, 3·hidden·expert_ffn per expert slot it hosts (a redundant copy
 * counts like any expert); embedding on the first stage and LM head on the last,
 * vocab·hidden / TP each; experts in expert-dtype bytes, the rest in dtype bytes.
 * KV cache: layers·pd_i_kv_elements·kv-dtype bytes per token (MLA: kv_lora + rope, not
 * split by TP) for ceil(batch / groups) sequences of `context` tokens.
 * activations: see ACTIVATION_FORMULA (the hidden-wide part / TP with SP).
 * reserve: 10 % of gpu-memory (not of the sum): what allocators, CUDA context and
 * fragmentation take whatever the plan holds.  total = weights + KV + activations +
 * reserve must not exceed gpu-memory.
 */
#include "plan/cost.h"
#include "plan/layout.h"
#include "plan/rules.h"

#include <math.h>

#define RESERVE_FRACTION 0.10

/* The hidden-wide part (4·hidden per token) lives outside the TP regions (residual
 * stream, norms, block outputs), so SP splits it along the sequence, / TP; the FFN's
 * intermediate lives inside, where TP already divides its width, so SP leaves it. */
static const char ACTIVATION_FORMULA[] =
    "tokens x (4*hidden/SP + 2*max(dense-ffn/TP, expert-ffn, shared-experts*expert-ffn/TP))"
    " x dtype bytes, SP = TP with sp=\"true\" else 1, tokens = ceil(batch / micro-batches"
    " / attention groups) sequences x (context in prefill, 1 in decode)";

static double ceil_div(double a, double b)
{
	return b > 0 ? ceil(a / b) : a;
}

/* Weights of one GPU of stage si except its routed experts, in bytes. */
static double stage_weights(const pd_plan *p, const pd_replica *r, uint32_t si)
{
	const pd_model *m = &p->model;
	const pd_stage *s = &r->stages[si];
	double tp = (double)pd_i_tp(s), h = (double)m->hidden;
	double wb = pd_dtype_bytes(m->dtype), eb = pd_dtype_bytes(pd_model_expert_dtype(m));
	int64_t moe, dense;
	pd_i_stage_layers(m, s, &moe, &dense);
	pd_i_attn_params a = pd_i_attention_per_gpu(m, tp);
	double per_layer = a.q + a.kv + a.o + 2.0 * h;
	double shared = (double)m->shared_experts * pd_i_expert_params(m) / tp;
	double dense_layer = 3.0 * h * (double)m->dense_ffn / (double)pd_stage_dense_tp(s);
	double w = (double)(moe + dense) * per_layer + (double)moe * h * (double)m->experts +
	           (double)dense * dense_layer;
	if (si == 0)
		w += (double)m->vocab * h / tp;
	if (si + 1 == r->n_stages)
		w += (double)m->vocab * h / tp;
	return w * wb + (double)moe * shared * eb;
}

static double stage_kv(const pd_plan *p, const pd_stage *s)
{
	const pd_model *m = &p->model;
	int64_t moe, dense;
	pd_i_stage_layers(m, s, &moe, &dense);
	double per_token = (double)(moe + dense) * pd_i_kv_elements(m, (double)pd_i_tp(s)) *
	                   pd_dtype_bytes(pd_model_kv_dtype(m));
	double seqs = ceil_div((double)p->workload.batch, (double)pd_i_groups(s));
	return per_token * seqs * (double)p->workload.context;
}

static double stage_activations(const pd_plan *p, const pd_stage *s)
{
	const pd_model *m = &p->model;
	const pd_workload *w = &p->workload;
	double tp = (double)pd_i_tp(s);
	double mb =
	    ceil_div((double)w->batch, (double)(w->micro_batches < 1 ? 1 : w->micro_batches));
	double seqs = ceil_div(mb, (double)pd_i_groups(s));
	double tokens = seqs * (w->phase == PD_PREFILL ? (double)w->context : 1.0);
	double width = fmax((double)m->dense_ffn / tp, (double)m->expert_ffn);
	width = fmax(width, (double)m->shared_experts * (double)m->expert_ffn / tp);
	double sp = s->sp ? tp : 1.0;
	return tokens * (4.0 * (double)m->hidden / sp + 2.0 * width) *
	       pd_dtype_bytes(pd_model_act_dtype(m));
}

/* Expert slots of GPU index g of the stage: its layout counts every slot, a redundant
 * copy weighs as much as the expert it copies. */
static double slots_of(const pd_stage *s, uint32_t g)
{
	return s->layout ? (double)pd_i_layout_slots(s->layout, g) : 0;
}

static void fill_stage(const pd_plan *p, const pd_replica *r, uint32_t ri, uint32_t si,
                       pd_gpu_memory *out)
{
	const pd_model *m = &p->model;
	const pd_stage *s = &r->stages[si];
	double bytes = pd_dtype_bytes(pd_model_expert_dtype(m));
	int64_t moe, dense;
	pd_i_stage_layers(m, s, &moe, &dense);
	double base = stage_weights(p, r, si), kv = stage_kv(p, s),
	       act = stage_activations(p, s);
	for (uint32_t g = 0; g < s->n_gpus; g++) {
		pd_gpu_memory *e = &out[g];
		e->gpu = s->gpus ? s->gpus[g] : -1;
		e->replica = (int32_t)ri;
		e->stage = (int32_t)si;
		e->experts = (int32_t)fmin(slots_of(s, g), INT32_MAX);
		e->weights = base + slots_of(s, g) * (double)moe * pd_i_expert_params(m) * bytes;
		e->kv_cache = kv;
		e->activations = act;
		e->capacity = p->cluster.gpu_memory;
		e->reserve = RESERVE_FRACTION * e->capacity;
		e->total = e->weights + e->kv_cache + e->activations + e->reserve;
	}
}

pd_status pd_i_memory_compute(const pd_plan *p, pd_analysis *an)
{
	const pd_strategy *st = &p->strategy;
	size_t n = 0;
	for (uint32_t r = 0; r < st->n_replicas; r++)
		for (uint32_t s = 0; s < st->replicas[r].n_stages; s++)
			n += st->replicas[r].stages[s].n_gpus;
	an->activation_formula = ACTIVATION_FORMULA;
	an->n_memory = 0;
	an->memory = pd_arena_calloc(p->arena, n + 1, sizeof(*an->memory));
	if (!an->memory)
		return PD_IO;
	for (uint32_t r = 0; r < st->n_replicas; r++) {
		const pd_replica *rep = &st->replicas[r];
		for (uint32_t s = 0; s < rep->n_stages; s++) {
			fill_stage(p, rep, r, s, an->memory + an->n_memory);
			an->n_memory += rep->stages[s].n_gpus;
		}
	}
	return PD_OK;
}

double pd_i_memory_floor(const pd_plan *p, double *usable)
{
	pd_analysis an = {0};
	pd_i_params_compute(&p->model, &an);
	*usable = p->cluster.gpu_memory * (1.0 - RESERVE_FRACTION);
	return an.weight_bytes +
	       an.kv_bytes_per_token * (double)p->workload.batch * (double)p->workload.context;
}
