/* plan.c - small accessors of the plan IR and its destruction. */
#include "plandag/plan.h"

double pd_dtype_bytes(pd_dtype t)
{
	switch (t) {
	case PD_FP32:
		return 4;
	case PD_FP8:
		return 1;
	case PD_FP4:
		return 0.5;
	case PD_FP16:
	case PD_BF16:
		break;
	}
	return 2;
}

const char *pd_dtype_name(pd_dtype t)
{
	switch (t) {
	case PD_FP32:
		return "fp32";
	case PD_FP16:
		return "fp16";
	case PD_FP8:
		return "fp8";
	case PD_FP4:
		return "fp4";
	case PD_BF16:
		break;
	}
	return "bf16";
}

const char *pd_phase_name(pd_phase p)
{
	return p == PD_PREFILL ? "prefill" : "decode";
}

pd_dtype pd_model_act_dtype(const pd_model *m)
{
	return m->dtype == PD_FP4 ? PD_BF16 : m->dtype;
}

pd_dtype pd_model_kv_dtype(const pd_model *m)
{
	return m->has_kv_dtype ? m->kv_dtype : pd_model_act_dtype(m);
}

pd_dtype pd_model_expert_dtype(const pd_model *m)
{
	return m->has_expert_dtype ? m->expert_dtype : m->dtype;
}

bool pd_model_layer_is_moe(const pd_model *m, int64_t l)
{
	return m->experts > 0 && l >= m->first_dense;
}

void pd_plan_destroy(pd_plan *plan)
{
	if (plan)
		pd_arena_destroy(plan->arena); /* the plan itself lives in its arena */
}
