/* validate.c - pd_plan_validate(): every rule of docs/rules.md but `schema` and
 * `hierarchy`, one call per rule, on an expanded plan. */
#include "plan/rules.h"

#include <string.h>

pd_status pd_plan_validate(const pd_plan *plan, pd_analysis *an, pd_diag_list *diags)
{
	size_t errors = diags->errors;
	pd_i_ctx c = {.plan = plan, .an = an, .diags = diags};
	memset(an, 0, sizeof(*an));
	if (pd_plan_is_pooled(plan)) {
		PD_CHECK(pd_i_validate_pooled(plan, an, diags));
		return diags->errors > errors ? PD_INVALID : PD_OK;
	}

	pd_i_params_compute(&plan->model, an);
	pd_i_gpu_counts(&c);
	PD_CHECK(pd_i_memory_compute(plan, an));
	pd_i_roofline_compute(plan, an);

	pd_i_rule_multiplicative(&c);
	pd_i_rule_layer_coverage(&c);
	pd_i_rule_tp_divides_heads(&c);
	pd_i_rule_sp_needs_tp(&c);
	PD_CHECK(pd_i_rule_ep_placement(&c));
	pd_i_rule_gpu_range(&c);
	PD_CHECK(pd_i_rule_gpu_overlap(&c));
	pd_i_rule_replica_shape(&c);
	pd_i_rule_workload_split(&c);
	pd_i_rule_params_mismatch(&c);
	PD_CHECK(pd_i_rule_memory_capacity(&c));
	pd_i_rule_tp_crosses_node(&c);
	pd_validate_throughput(plan, an, diags);
	pd_i_rule_over_provisioned(&c);

	return diags->errors > errors ? PD_INVALID : PD_OK;
}
