/* params.c - the parameter count of docs/plan-format.md and docs/models.md and the
 * numbers derived from it. */
#include "plan/cost.h"
#include "plan/rules.h"

/* GQA: hidden·heads·head_dim (Q) + 2·hidden·kv_heads·head_dim (K, V) +
 * heads·head_dim·hidden (O); MLA: the q, kv and o of docs/models.md.  The attention of
 * one GPU at TP 1 (cost.c). */
double pd_i_attention_params(const pd_model *m)
{
	pd_i_attn_params a = pd_i_attention_per_gpu(m, 1);
	return a.q + a.kv + a.o;
}

/* One gated expert: 3·hidden·expert_ffn */
double pd_i_expert_params(const pd_model *m)
{
	return 3.0 * (double)m->hidden * (double)m->expert_ffn;
}

static int64_t moe_layer_count(const pd_model *m)
{
	if (m->experts <= 0)
		return 0;
	int64_t first = m->first_dense < 0 ? 0 : m->first_dense;
	return first >= m->layers ? 0 : m->layers - first;
}

/* Everything but the FFNs: attention and norms per layer, embedding and LM head. */
static double common_params(const pd_model *m)
{
	double per_layer = pd_i_attention_params(m) + 2.0 * (double)m->hidden;
	return (double)m->layers * per_layer + 2.0 * (double)m->vocab * (double)m->hidden;
}

/* Routed and shared expert parameters of the whole model (in expert-dtype). */
static double expert_params(const pd_model *m)
{
	double slots = (double)(m->experts + m->shared_experts);
	return (double)moe_layer_count(m) * slots * pd_i_expert_params(m);
}

/* FFN parameters of the model when every MoE layer uses `routed` of its experts. */
static double ffn_params(const pd_model *m, double routed)
{
	double moe = (double)moe_layer_count(m);
	double dense = (double)(m->layers - moe_layer_count(m));
	double expert = pd_i_expert_params(m);
	double router = (double)m->hidden * (double)m->experts;
	double shared = (double)m->shared_experts * expert;
	double dense_ffn = 3.0 * (double)m->hidden * (double)m->dense_ffn;
	return moe * (routed * expert + router + shared) + dense * dense_ffn;
}

double pd_model_params(const pd_model *m)
{
	return common_params(m) + ffn_params(m, (double)m->experts);
}

/* Active per token: every parameter one token's forward pass multiplies, the LM head
 * included, the embedding table not (a lookup reads one row), as published counts do. */
void pd_i_params_compute(const pd_model *m, pd_analysis *an)
{
	double embed = (double)m->vocab * (double)m->hidden;
	an->params_computed = pd_model_params(m);
	an->params_active_per_token =
	    common_params(m) - embed + ffn_params(m, (double)m->top_k);
	double experts = expert_params(m);
	an->weight_bytes = (an->params_computed - experts) * pd_dtype_bytes(m->dtype) +
	                   experts * pd_dtype_bytes(pd_model_expert_dtype(m));
	an->kv_bytes_per_token =
	    (double)m->layers * pd_i_kv_elements(m, 1) * pd_dtype_bytes(pd_model_kv_dtype(m));
}
