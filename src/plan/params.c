/* params.c - the parameter count of docs/plan-format.md and the numbers derived from it. */
#include "plan/rules.h"

/* hidden·heads·head_dim (Q) + 2·hidden·kv_heads·head_dim (K, V) + heads·head_dim·hidden (O)
 */
double pd_i_attention_params(const pd_model *m)
{
	double h = (double)m->hidden, hd = (double)m->head_dim;
	return h * (double)m->heads * hd + 2.0 * h * (double)m->kv_heads * hd +
	       (double)m->heads * hd * h;
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

void pd_i_params_compute(const pd_model *m, pd_analysis *an)
{
	double bytes = (double)pd_dtype_bytes(m->dtype);
	an->params_computed = pd_model_params(m);
	an->params_active_per_token = common_params(m) + ffn_params(m, (double)m->top_k);
	an->weight_bytes = an->params_computed * bytes;
	an->kv_bytes_per_token =
	    2.0 * (double)m->layers * (double)m->kv_heads * (double)m->head_dim * bytes;
}
