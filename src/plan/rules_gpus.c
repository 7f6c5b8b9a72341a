/* rules_gpus.c - GPU counts and ids: multiplicative-gpu-count, gpu-range, gpu-overlap,
 * tp-crosses-node. */
#include "plan/cost.h"
#include "plan/rules.h"

#include <stdlib.h>

#define IDS_TEXT 160

static int64_t mul_sat(int64_t a, int64_t b)
{
	if (a > 0 && b > INT64_MAX / a)
		return INT64_MAX;
	return a * b;
}

static void structural_degrees(const pd_strategy *st, pd_analysis *an)
{
	an->dp = st->n_replicas;
	an->pp = an->tp = an->ep = an->sp = 1;
	for (uint32_t r = 0; r < st->n_replicas; r++) {
		const pd_replica *rep = &st->replicas[r];
		if (rep->n_stages > an->pp)
			an->pp = rep->n_stages;
		for (uint32_t s = 0; s < rep->n_stages; s++) {
			const pd_stage *stg = &rep->stages[s];
			an->tp = stg->tp > an->tp ? stg->tp : an->tp;
			an->ep = stg->ep > an->ep ? stg->ep : an->ep;
			if (stg->sp && stg->tp > an->sp)
				an->sp = stg->tp;
		}
	}
}

/* GPU counts; SP's factor in the product is TP when sp is on, else 1. */
void pd_i_gpu_counts(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	pd_analysis *an = c->an;
	an->gpus_structural = 0;
	for (uint32_t r = 0; r < st->n_replicas; r++)
		for (uint32_t s = 0; s < st->replicas[r].n_stages; s++)
			an->gpus_structural += st->replicas[r].stages[s].n_gpus;
	if (st->shorthand) {
		an->dp = st->dp, an->pp = st->pp, an->tp = st->tp, an->ep = st->ep;
		an->sp = st->sp ? st->tp : 1;
	} else {
		structural_degrees(st, an);
	}
	an->gpus_product =
	    mul_sat(mul_sat(mul_sat(mul_sat(an->dp, an->tp), an->pp), an->ep), an->sp);
	an->gpus_cluster = pd_cluster_gpus(&c->plan->cluster);
}

/* GPUs of the stages of replicas [first, first + n). */
static int64_t replica_gpus(const pd_strategy *st, uint32_t first, uint32_t n)
{
	int64_t g = 0;
	for (uint32_t r = first; r < first + n && r < st->n_replicas; r++)
		for (uint32_t s = 0; s < st->replicas[r].n_stages; s++)
			g += st->replicas[r].stages[s].n_gpus;
	return g;
}

/* "DP × PP × stage size = 1 × 2 × 16" for a uniform plan, the general sum otherwise;
 * "prefill pool 32 + decode pool 320" for a pooled plan. */
static void describe_structure(const pd_strategy *st, char *buf, size_t size)
{
	if (st->n_pools == 2) {
		const pd_pool *a = &st->pools[0], *b = &st->pools[1];
		snprintf(buf, size, "%s pool %lld + %s pool %lld", pd_phase_name(a->phase),
		         (long long)replica_gpus(st, a->first_replica, a->n_replicas),
		         pd_phase_name(b->phase),
		         (long long)replica_gpus(st, b->first_replica, b->n_replicas));
		return;
	}
	uint32_t dp, n_st, sz;
	bool uniform = pd_i_strategy_uniform(st, &dp, &n_st, &sz);
	if (uniform)
		snprintf(buf, size, "DP × PP × stage size = %u × %u × %u", dp, n_st, sz);
	else
		snprintf(buf, size, "Σ replicas Σ stages |GPUs| over %u replicas", st->n_replicas);
}

/* "set gpus=N" only when the cluster has N GPUs; otherwise the structure must shrink. */
static void multiplicative_fix(pd_diag *d, const pd_analysis *an)
{
	if (an->gpus_structural <= an->gpus_cluster)
		pd_diag_fix(d,
		            "strategies share GPUs (TP and EP on the same GPUs of a stage, SP on "
		            "the TP group): set gpus=\"%lld\" or change the replicas and stages",
		            (long long)an->gpus_structural);
	else
		pd_diag_fix(
		    d,
		    "the structure needs %lld GPUs but the cluster has %lld: use fewer "
		    "replicas or stages, or smaller stages, until it fits in %lld GPUs (then "
		    "set gpus to that count), or declare a larger cluster",
		    (long long)an->gpus_structural, (long long)an->gpus_cluster,
		    (long long)an->gpus_cluster);
}

/* multiplicative-gpu-count: declared strategy/@gpus equals the structural total. */
void pd_i_rule_multiplicative(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	const pd_analysis *an = c->an;
	if (!st->has_declared_gpus || st->declared_gpus == an->gpus_structural)
		return;
	char shape[160];
	describe_structure(st, shape, sizeof(shape));
	pd_diag *d;
	if (st->declared_gpus == an->gpus_product)
		d = pd_i_report(c, PD_RULE_MULTIPLICATIVE, PD_ERROR, st->loc,
		                "declared %lld GPUs is DP×TP×PP×EP×SP = %lld×%lld×%lld×%lld×%lld; "
		                "the structure uses %lld (%s)",
		                (long long)st->declared_gpus, (long long)an->dp, (long long)an->tp,
		                (long long)an->pp, (long long)an->ep, (long long)an->sp,
		                (long long)an->gpus_structural, shape);
	else
		d = pd_i_report(c, PD_RULE_MULTIPLICATIVE, PD_ERROR, st->loc,
		                "declared %lld GPUs but the structure uses %lld (%s)",
		                (long long)st->declared_gpus, (long long)an->gpus_structural,
		                shape);
	multiplicative_fix(d, an);
}

/* Appends the ids of stage si of replicas [r, end) for which keep() holds. */
static uint32_t collect(const pd_strategy *st, uint32_t r, uint32_t end, uint32_t si,
                        bool (*keep)(int32_t, int64_t), int64_t arg, int32_t *out)
{
	uint32_t n = 0;
	for (; r < end; r++) {
		if (si >= st->replicas[r].n_stages)
			continue;
		const pd_stage *s = &st->replicas[r].stages[si];
		for (uint32_t g = 0; s->gpus && g < s->n_gpus; g++)
			if (keep(s->gpus[g], arg))
				out[n++] = s->gpus[g];
	}
	return n;
}

static bool out_of_range(int32_t id, int64_t n_cluster)
{
	return id < 0 || id >= n_cluster;
}

static void report_range(pd_i_ctx *c, const pd_stage *s, const int32_t *ids, uint32_t n)
{
	int64_t total = pd_cluster_gpus(&c->plan->cluster);
	int32_t top = ids[0];
	for (uint32_t i = 1; i < n; i++)
		top = ids[i] > top ? ids[i] : top;
	char text[IDS_TEXT];
	pd_i_format_ids(text, sizeof(text), ids, n);
	pd_diag *d =
	    pd_i_report(c, PD_RULE_GPU_RANGE, PD_ERROR, s->loc,
	                "%s %s do not exist: the cluster has %lld GPUs (0-%lld)",
	                s->gpus_given ? "stage GPUs" : "the next free GPUs for this stage",
	                text, (long long)total, (long long)total - 1);
	pd_diag_fix(d, "use GPU ids below %lld, or give the cluster at least %lld GPUs",
	            (long long)total, (long long)top + 1);
}

/* gpu-range: every GPU id of every stage exists in the cluster. */
void pd_i_rule_gpu_range(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	int64_t total = pd_cluster_gpus(&c->plan->cluster);
	for (uint32_t r = 0; r < st->n_replicas;) {
		uint32_t end = pd_i_copies_end(st, r);
		for (uint32_t s = 0; s < st->replicas[r].n_stages; s++) {
			size_t cap = 0;
			for (uint32_t k = r; k < end; k++)
				cap += s < st->replicas[k].n_stages ? st->replicas[k].stages[s].n_gpus : 0;
			int32_t *ids = malloc((cap + 1) * sizeof(*ids));
			if (!ids)
				return;
			uint32_t n = collect(st, r, end, s, out_of_range, total, ids);
			if (n > 0)
				report_range(c, &st->replicas[r].stages[s], ids, n);
			free(ids);
		}
		r = end;
	}
}

typedef struct gpu_owner {
	int32_t replica, stage; /* replica -1: free */
} gpu_owner;

/* A copy of a <replica count="N"> whose stages name their GPUs: it reuses them. */
static bool reuses_gpus(const pd_replica *rep)
{
	if (rep->copy == 0 && rep->count <= 1)
		return false;
	for (uint32_t s = 0; s < rep->n_stages; s++)
		if (rep->stages[s].gpus_given)
			return true;
	return false;
}

static void report_reuse(pd_i_ctx *c, uint32_t r)
{
	const pd_strategy *st = &c->plan->strategy;
	const pd_replica *rep = &st->replicas[r];
	uint32_t first = r;
	while (first > 0 && st->replicas[first].copy > 0)
		first--;
	long long count =
	    rep->count > 1 ? rep->count : (long long)(pd_i_copies_end(st, first) - first);
	const pd_stage *s = &rep->stages[0];
	char text[IDS_TEXT];
	pd_i_format_ids(text, sizeof(text), s->gpus, s->n_gpus);
	pd_diag *d =
	    pd_i_report(c, PD_RULE_GPU_OVERLAP, PD_ERROR, rep->loc,
	                "replica count=%lld with explicit stage gpus: every copy would "
	                "reuse the same GPUs (%s, ...)",
	                count, text);
	pd_diag_fix(d, "write one <replica> per copy with its own gpus, or drop the stage gpus "
	               "so that each copy takes the next free GPUs");
}

static void report_overlap(pd_i_ctx *c, const pd_stage *s, const int32_t *ids, uint32_t n,
                           gpu_owner first, gpu_owner self)
{
	char text[IDS_TEXT];
	pd_i_format_ids(text, sizeof(text), ids, n);
	pd_diag *d;
	if (first.replica == self.replica && first.stage == self.stage)
		d = pd_i_report(c, PD_RULE_GPU_OVERLAP, PD_ERROR, s->loc,
		                "stage GPUs %s are listed more than once", text);
	else if (pd_plan_is_pooled(c->plan) &&
	         c->plan->strategy.replicas[first.replica].pool !=
	             c->plan->strategy.replicas[self.replica].pool) {
		char a[64], b[64];
		pd_i_describe_replica(c->plan, (uint32_t)self.replica, a, sizeof(a));
		pd_i_describe_replica(c->plan, (uint32_t)first.replica, b, sizeof(b));
		d = pd_i_report(c, PD_RULE_GPU_OVERLAP, PD_ERROR, s->loc,
		                "stage GPUs %s of %s stage %d already belong to %s stage %d: a GPU "
		                "serves one pool",
		                text, a, (int)self.stage, b, (int)first.stage);
	} else
		d = pd_i_report(
		    c, PD_RULE_GPU_OVERLAP, PD_ERROR, s->loc,
		    "stage GPUs %s of replica %d stage %d already belong to replica %d stage %d",
		    text, (int)self.replica, (int)self.stage, (int)first.replica, (int)first.stage);
	pd_diag_fix(d, "give every stage of every replica%s GPUs of its own",
	            pd_plan_is_pooled(c->plan) ? " of every pool" : "");
}

static pd_status check_stage_overlap(pd_i_ctx *c, gpu_owner *own, int64_t size,
                                     gpu_owner self, const pd_stage *s)
{
	int32_t *ids = malloc((s->n_gpus + 1) * sizeof(*ids));
	if (!ids)
		return PD_IO;
	uint32_t n = 0;
	gpu_owner first = {-1, -1};
	for (uint32_t g = 0; s->gpus && g < s->n_gpus; g++) {
		int32_t id = s->gpus[g];
		if (id < 0 || id >= size)
			continue;
		if (own[id].replica >= 0) {
			if (n == 0)
				first = own[id];
			ids[n++] = id;
		}
		own[id] = self;
	}
	if (n > 0)
		report_overlap(c, s, ids, n, first, self);
	free(ids);
	return PD_OK;
}

static int64_t id_space(const pd_plan *p)
{
	int64_t size = pd_cluster_gpus(&p->cluster);
	const pd_strategy *st = &p->strategy;
	for (uint32_t r = 0; r < st->n_replicas; r++)
		for (uint32_t s = 0; s < st->replicas[r].n_stages; s++) {
			const pd_stage *stg = &st->replicas[r].stages[s];
			for (uint32_t g = 0; stg->gpus && g < stg->n_gpus; g++)
				if (stg->gpus[g] >= size)
					size = (int64_t)stg->gpus[g] + 1;
		}
	return size < PD_MAX_GPUS + 1 ? size : PD_MAX_GPUS + 1;
}

/* gpu-overlap: no GPU belongs to two stages or two replicas. */
pd_status pd_i_rule_gpu_overlap(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	int64_t size = id_space(c->plan);
	gpu_owner *own = malloc((size_t)(size + 1) * sizeof(*own));
	if (!own)
		return PD_IO;
	for (int64_t i = 0; i <= size; i++)
		own[i] = (gpu_owner){-1, -1};
	pd_status status = PD_OK;
	for (uint32_t r = 0; r < st->n_replicas && status == PD_OK; r++) {
		const pd_replica *rep = &st->replicas[r];
		if (reuses_gpus(rep)) {
			report_reuse(c, r);
			if (rep->copy > 0)
				continue;
		}
		for (uint32_t s = 0; s < rep->n_stages && status == PD_OK; s++)
			status = check_stage_overlap(c, own, size, (gpu_owner){(int32_t)r, (int32_t)s},
			                             &rep->stages[s]);
	}
	free(own);
	return status;
}

/* Number of TP groups of stage s that span nodes; *first gets the first one's index. */
static uint32_t crossing_groups(const pd_cluster *c, const pd_stage *s, uint32_t *first)
{
	uint32_t tp = (uint32_t)s->tp, n = 0;
	for (uint32_t k = 0; k + tp <= s->n_gpus; k += tp)
		if (pd_i_group_spans_nodes(c, s->gpus + k, tp) && n++ == 0)
			*first = k;
	return n;
}

/* The unit a TP group must stay in: the node, or the NVLink domain when the plan gives
 * one of other than gpus-per-node GPUs. */
static const char *domain_word(const pd_cluster *cl, bool plural)
{
	if (cl->nvlink_domain > 0 && cl->nvlink_domain != cl->gpus_per_node)
		return plural ? "NVLink domains" : "NVLink domain";
	return plural ? "nodes" : "node";
}

static void report_crossing(pd_i_ctx *c, const pd_stage *s, const int32_t *group,
                            uint32_t n, uint32_t of, int64_t per)
{
	char text[IDS_TEXT];
	const pd_cluster *cl = &c->plan->cluster;
	pd_i_format_ids(text, sizeof(text), group, (uint32_t)s->tp);
	pd_diag *d = pd_i_report(c, PD_RULE_TP_CROSSES_NODE, PD_WARNING, pd_i_attention_loc(s),
	                         "%u of %u TP groups span %s (e.g. GPUs %s with %lld GPUs per "
	                         "%s): their all-reduces cross the network",
	                         n, of, domain_word(cl, true), text, (long long)per,
	                         domain_word(cl, false));
	pd_diag_fix(d, "start each TP group on a multiple of %lld and keep tp <= %lld",
	            (long long)per, (long long)per);
}

/* tp-crosses-node (warning): the tp consecutive GPUs of a TP group share one NVLink
 * domain (one node unless nvlink-domain says otherwise). */
void pd_i_rule_tp_crosses_node(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	const pd_cluster *cl = &c->plan->cluster;
	int64_t per = cl->nvlink_domain > 0 ? cl->nvlink_domain : cl->gpus_per_node;
	for (uint32_t r = 0; per >= 1 && r < st->n_replicas;) {
		uint32_t end = pd_i_copies_end(st, r);
		for (uint32_t si = 0; si < st->replicas[r].n_stages; si++) {
			uint32_t n = 0, of = 0;
			const int32_t *example = NULL;
			for (uint32_t k = r; k < end && si < st->replicas[k].n_stages; k++) {
				const pd_stage *s = &st->replicas[k].stages[si];
				uint32_t first = 0, got;
				if (s->tp <= 1 || !s->gpus || s->tp > (int64_t)s->n_gpus)
					continue;
				got = crossing_groups(&c->plan->cluster, s, &first);
				if (got && !example)
					example = s->gpus + first;
				n += got;
				of += s->n_gpus / (uint32_t)s->tp;
			}
			if (n > 0)
				report_crossing(c, &st->replicas[r].stages[si], example, n, of, per);
		}
		r = end;
	}
}
