/* evaluate.c - one replica shape through the rules of `check` (pd_plan_expand +
 * pd_plan_validate) and the cost module, then the dp that matter derived from it.
 *
 * Replicas never talk to each other, so dp replicas of a shape have its per-GPU figures
 * and dp times its tokens/ms, exactly when every replica sits on the node and NVLink
 * boundaries the same way (the replica's GPUs are a multiple or a divisor of the node
 * and of the NVLink domain).  Otherwise the plan of that dp is validated on its own. */
#include "search/search_internal.h"

#include <math.h>
#include <string.h>

/* Above this many GPUs a non-aligned dp is not validated on its own (it is skipped). */
#define MAX_VALIDATED_GPUS 8192

size_t pd_i_target_errors(const pd_diag_list *l)
{
	size_t targets = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].severity == PD_ERROR &&
		    (strcmp(l->items[i].rule, PD_RULE_THROUGHPUT_TARGET) == 0 ||
		     strcmp(l->items[i].rule, PD_RULE_LATENCY_TARGET) == 0))
			targets++;
	return targets;
}

bool pd_i_meets_targets(const pd_plan *cplan, const pd_analysis *an, double tokens_per_ms)
{
	pd_analysis a = *an;
	a.tokens_per_ms = tokens_per_ms;
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_validate_throughput(cplan, &a, &l);
	bool ok = l.errors == 0;
	pd_diag_list_release(&l);
	return ok;
}

/* Builds, expands and validates choice c; *cplan and *an hold the result when it passes
 * every rule but the targets (else *cplan is NULL). */
static pd_status validate_choice(const pd_plan *plan, const pd_choice *c, pd_plan **cplan,
                                 pd_analysis *an, uint64_t *evaluated)
{
	pd_plan *p;
	PD_CHECK(pd_i_search_build_plan(plan, c, &p));
	pd_diag_list l;
	pd_diag_list_init(&l);
	pd_status s = pd_plan_expand(p, &l);
	if (s == PD_OK && pd_plan_validate(p, an, &l) == PD_IO)
		s = PD_IO;
	(*evaluated)++;
	bool bad =
	    s != PD_OK || l.errors > pd_i_target_errors(&l) || an->throughput_source == PD_THROUGHPUT_NONE;
	pd_diag_list_release(&l);
	if (bad) {
		pd_plan_destroy(p);
		p = NULL;
	}
	*cplan = p;
	return s;
}

bool pd_i_replicas_aligned(const pd_cluster *cl, int64_t gpus)
{
	int64_t units[2] = {cl->gpus_per_node,
	                    cl->nvlink_domain > 0 ? cl->nvlink_domain : cl->gpus_per_node};
	for (int i = 0; i < 2; i++)
		if (units[i] > 0 && gpus % units[i] != 0 && units[i] % gpus != 0)
			return false;
	return true;
}

static pd_status add(pd_i_cands *out, const pd_plan *cplan, const pd_analysis *an,
                     const pd_choice *c)
{
	pd_candidate k;
	pd_i_candidate_fill(cplan, an, c, &k);
	k.meets_targets = pd_i_meets_targets(cplan, an, k.tokens_per_ms);
	return pd_i_cands_push(out, &k) ? PD_OK : PD_IO;
}

/* dp replicas of the shape whose dp-1 plan is one/an1. */
static pd_status add_dp(const pd_plan *plan, const pd_plan *one, const pd_analysis *an1,
                        pd_choice c, pd_i_cands *out, uint64_t *evaluated)
{
	int64_t gpus = pd_choice_gpus(&c); /* all replicas */
	if (c.dp == 1)
		return add(out, one, an1, &c);
	if (pd_i_replicas_aligned(&plan->cluster, gpus / c.dp)) {
		(*evaluated)++; /* derived from the shape's figures, counted as tried */
		return add(out, one, an1, &c);
	}
	if (gpus > MAX_VALIDATED_GPUS)
		return PD_OK;
	pd_plan *p;
	pd_analysis an;
	PD_CHECK(validate_choice(plan, &c, &p, &an, evaluated));
	pd_status s = p ? add(out, p, &an, &c) : PD_OK;
	pd_plan_destroy(p);
	return s;
}

pd_status pd_i_evaluate_shape(const pd_plan *plan, const pd_i_space *sp,
                              const pd_choice *shape, pd_i_cands *out, uint64_t *evaluated)
{
	pd_plan *one;
	pd_analysis an;
	PD_CHECK(validate_choice(plan, shape, &one, &an, evaluated));
	if (!one)
		return PD_OK;
	int64_t gpus = pd_choice_gpus(shape), most = sp->max_gpus / gpus, dps[3] = {1, 0, most};
	const pd_workload *w = &plan->workload;
	if (w->has_target && an.tokens_per_ms > 0) {
		double need = ceil(w->target / an.tokens_per_ms);
		dps[1] = need <= (double)most ? (int64_t)need : 0;
	}
	pd_status s = PD_OK;
	for (int i = 0; i < 3 && s == PD_OK; i++) {
		bool dup =
		    dps[i] < 1 || (i > 0 && dps[i] == dps[0]) || (i == 2 && dps[2] == dps[1]);
		pd_choice c = *shape;
		c.dp = dps[i];
		if (!dup)
			s = add_dp(plan, one, &an, c, out, evaluated);
	}
	pd_plan_destroy(one);
	return s;
}
