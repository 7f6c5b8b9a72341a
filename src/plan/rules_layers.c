/* rules_layers.c - the pipeline structure: layer-coverage, replica-shape. */
#include "plan/rules.h"

#include <stdio.h>

/* "layer 7 is" or "layers 7-9 are" */
static void layer_span(char *buf, size_t size, int64_t a, int64_t b)
{
	if (a == b)
		snprintf(buf, size, "layer %lld is", (long long)a);
	else
		snprintf(buf, size, "layers %lld-%lld are", (long long)a, (long long)b);
}

static void check_stage_layers(pd_i_ctx *c, const pd_stage *s, int64_t *next)
{
	int64_t layers = c->plan->model.layers, a = s->first_layer, b = s->last_layer;
	pd_diag *d = NULL;
	if (a > b) {
		d = pd_i_report(c, PD_RULE_LAYER_COVERAGE, PD_ERROR, s->loc,
		                "layers=\"%lld-%lld\" is an empty range", (long long)a,
		                (long long)b);
		pd_diag_fix(d, "write layers=\"first-last\" with first <= last");
		return;
	}
	if (b >= layers) {
		d = pd_i_report(c, PD_RULE_LAYER_COVERAGE, PD_ERROR, s->loc,
		                "layers %lld-%lld go past the model's last layer %lld",
		                (long long)a, (long long)b, (long long)layers - 1);
		pd_diag_fix(d, "end the stage at layer %lld at most", (long long)layers - 1);
	}
	if (a > *next) {
		char gap[64];
		layer_span(gap, sizeof(gap), *next, a - 1);
		d = pd_i_report(c, PD_RULE_LAYER_COVERAGE, PD_ERROR, s->loc,
		                "%s in no stage: this stage starts at layer %lld", gap,
		                (long long)a);
		pd_diag_fix(d, "start this stage at layer %lld or extend the stage before it",
		            (long long)*next);
	} else if (a < *next) {
		d = pd_i_report(c, PD_RULE_LAYER_COVERAGE, PD_ERROR, s->loc,
		                "this stage starts at layer %lld but the stages before it already "
		                "cover layers up to %lld",
		                (long long)a, (long long)*next - 1);
		if (*next < layers)
			pd_diag_fix(d,
			            "give each layer to one stage, in pipeline order: start this "
			            "stage at layer %lld",
			            (long long)*next);
		else
			pd_diag_fix(d, "every layer is in an earlier stage already: remove this stage "
			               "or shorten the stages before it");
	}
	if (b + 1 > *next)
		*next = b + 1;
}

/* layer-coverage: each replica's stages cover layers 0..L-1 once, contiguous, in order. */
void pd_i_rule_layer_coverage(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	int64_t layers = c->plan->model.layers;
	for (uint32_t r = 0; r < st->n_replicas; r++) {
		const pd_replica *rep = &st->replicas[r];
		if (rep->copy > 0)
			continue;
		int64_t next = 0;
		for (uint32_t s = 0; s < rep->n_stages; s++)
			check_stage_layers(c, &rep->stages[s], &next);
		if (next >= layers)
			continue;
		pd_loc loc = rep->n_stages ? rep->stages[rep->n_stages - 1].loc : rep->loc;
		char gap[64];
		layer_span(gap, sizeof(gap), next, layers - 1);
		pd_diag *d = pd_i_report(c, PD_RULE_LAYER_COVERAGE, PD_ERROR, loc,
		                         "%s in no stage: the model has %lld layers", gap,
		                         (long long)layers);
		pd_diag_fix(d,
		            "extend the last stage to layer %lld or add a stage "
		            "layers=\"%lld-%lld\"",
		            (long long)layers - 1, (long long)next, (long long)layers - 1);
	}
}

/* Writes the first difference between two stages into buf; false when they match. */
static bool stage_differs(const pd_stage *a, const pd_stage *b, char *buf, size_t size)
{
	if (a->first_layer != b->first_layer || a->last_layer != b->last_layer)
		snprintf(buf, size, "layers %lld-%lld instead of %lld-%lld",
		         (long long)a->first_layer, (long long)a->last_layer,
		         (long long)b->first_layer, (long long)b->last_layer);
	else if (a->n_gpus != b->n_gpus)
		snprintf(buf, size, "%u GPUs instead of %u", a->n_gpus, b->n_gpus);
	else if (a->tp != b->tp)
		snprintf(buf, size, "tp %lld instead of %lld", (long long)a->tp, (long long)b->tp);
	else if (a->ep != b->ep)
		snprintf(buf, size, "ep %lld instead of %lld", (long long)a->ep, (long long)b->ep);
	else if (a->sp != b->sp)
		snprintf(buf, size, "sp %s instead of %s", a->sp ? "on" : "off",
		         b->sp ? "on" : "off");
	else
		return false;
	return true;
}

static bool replica_differs(const pd_replica *a, const pd_replica *b, char *buf,
                            size_t size)
{
	if (a->n_stages != b->n_stages) {
		snprintf(buf, size, "%u stages instead of %u", a->n_stages, b->n_stages);
		return true;
	}
	char what[160];
	for (uint32_t s = 0; s < a->n_stages; s++)
		if (stage_differs(&a->stages[s], &b->stages[s], what, sizeof(what))) {
			snprintf(buf, size, "stage %u has %s", s, what);
			return true;
		}
	return false;
}

/* replica-shape: DP replicas are structurally identical. */
void pd_i_rule_replica_shape(pd_i_ctx *c)
{
	const pd_strategy *st = &c->plan->strategy;
	char what[256];
	for (uint32_t r = 1; r < st->n_replicas; r++) {
		const pd_replica *rep = &st->replicas[r];
		if (rep->copy > 0 || !replica_differs(rep, &st->replicas[0], what, sizeof(what)))
			continue;
		pd_diag *d = pd_i_report(c, PD_RULE_REPLICA_SHAPE, PD_ERROR, rep->loc,
		                         "replica %u differs from replica 0: %s", r, what);
		pd_diag_fix(d,
		            "give every replica the same stages, layer ranges, stage sizes, tp, sp "
		            "and ep (DP replicas are copies of one deployment)");
	}
}
