/* view.c - which part of the DAG a picture shows.
 *
 * A full picture of a real deployment has millions of nodes; the views cut it down to
 * something a person can read: the GPUs and their traffic (overview), one stage of
 * replica 0, one GPU, or one layer at micro-batch 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

static int parse_arg(const char *s, const char *prefix, int32_t *arg)
{
	size_t n = strlen(prefix);
	if (strncmp(s, prefix, n) != 0)
		return 0;
	int64_t v;
	if (!pd_parse_int(s + n, 0, INT32_MAX, &v))
		return -1;
	*arg = (int32_t)v;
	return 1;
}

pd_status pd_view_parse(const char *s, pd_view *v)
{
	static const struct {
		const char *prefix;
		pd_view_kind kind;
	} args[] = {
	    {"stage=", PD_VIEW_STAGE},
	    {"gpu=", PD_VIEW_GPU},
	    {"layer=", PD_VIEW_LAYER},
	};
	v->arg = 0;
	if (strcmp(s, "overview") == 0 || strcmp(s, "full") == 0 || strcmp(s, "auto") == 0) {
		v->kind = s[0] == 'o'   ? PD_VIEW_OVERVIEW
		          : s[0] == 'f' ? PD_VIEW_FULL
		                        : PD_VIEW_AUTO;
		return PD_OK;
	}
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		int r = parse_arg(s, args[i].prefix, &v->arg);
		if (r < 0)
			return PD_USAGE;
		if (r > 0) {
			v->kind = args[i].kind;
			return PD_OK;
		}
	}
	return PD_USAGE;
}

void pd_view_suffix(const pd_view *v, char *buf, size_t size)
{
	switch (v->kind) {
	case PD_VIEW_OVERVIEW:
		snprintf(buf, size, "-overview");
		break;
	case PD_VIEW_STAGE:
		snprintf(buf, size, "-stage%d", (int)v->arg);
		break;
	case PD_VIEW_GPU:
		snprintf(buf, size, "-gpu%d", (int)v->arg);
		break;
	case PD_VIEW_LAYER:
		snprintf(buf, size, "-layer%d", (int)v->arg);
		break;
	default:
		snprintf(buf, size, "%s", "");
	}
}

void pd_i_view_caption(const pd_view *v, char *buf, size_t size)
{
	int a = (int)v->arg;
	switch (v->kind) {
	case PD_VIEW_OVERVIEW:
		snprintf(buf, size, "overview");
		break;
	case PD_VIEW_STAGE:
		snprintf(buf, size, "stage %d of replica 0", a);
		break;
	case PD_VIEW_GPU:
		snprintf(buf, size, "GPU %d", a);
		break;
	case PD_VIEW_LAYER:
		snprintf(buf, size, "layer %d (micro-batch 0)", a);
		break;
	default:
		snprintf(buf, size, "full DAG");
	}
}

pd_view pd_i_view_resolve(const pd_dag *dag, const pd_view *view)
{
	pd_view v = view ? *view : (pd_view){.kind = PD_VIEW_AUTO};
	if (v.kind == PD_VIEW_AUTO)
		v.kind = dag->n_nodes <= PD_VIEW_AUTO_FULL_LIMIT ? PD_VIEW_FULL : PD_VIEW_OVERVIEW;
	return v;
}

static int node_in_view(const pd_node *n, const pd_view *v)
{
	switch (v->kind) {
	case PD_VIEW_STAGE:
		return n->replica == 0 && n->stage == v->arg;
	case PD_VIEW_GPU:
		return n->gpu == v->arg;
	case PD_VIEW_LAYER:
		return n->layer == v->arg && n->micro_batch == 0;
	default:
		return 1;
	}
}

uint32_t pd_i_view_select(const pd_dag *dag, const pd_view *view, uint8_t *keep)
{
	uint32_t n = 0;
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		const pd_node *nd = &dag->nodes[v];
		keep[v] = nd->kind != PD_N_COLLECTIVE && node_in_view(nd, view);
		n += keep[v];
	}
	/* a hub belongs to the picture when any of its members does (gpu=G shows the
	 * collectives that GPU takes part in) */
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		if (dag->nodes[v].kind != PD_N_COLLECTIVE)
			continue;
		for (uint32_t i = dag->in_off[v]; i < dag->in_off[v + 1] && !keep[v]; i++)
			keep[v] = keep[dag->edges[dag->in_edge[i]].src];
		n += keep[v];
	}
	return n;
}

/* GPUs the overview draws, after folding repeated structure. */
static uint32_t overview_size(const pd_dag *dag)
{
	pd_i_fold f;
	if (pd_i_fold_compute(dag, PD_I_OVERVIEW_GPUS, &f) != PD_OK)
		return UINT32_MAX;
	uint32_t n = f.n_drawn;
	pd_i_fold_release(&f);
	return n;
}

uint32_t pd_i_view_size(const pd_dag *dag, const pd_view *view)
{
	pd_view v = pd_i_view_resolve(dag, view);
	if (v.kind == PD_VIEW_OVERVIEW)
		return overview_size(dag);
	if (v.kind == PD_VIEW_FULL)
		return dag->n_nodes;
	pd_i_view_fold f;
	if (pd_i_view_fold_compute(dag, &v, &f) != PD_OK)
		return UINT32_MAX;
	uint32_t n = f.n_drawn;
	pd_i_view_fold_release(&f);
	return n;
}

/* A view the hint may name. */
typedef struct candidate {
	pd_view view;
	const char *text;
} candidate;

static int same_view(const pd_view *a, const pd_view *b)
{
	return a->kind == b->kind && (a->kind == PD_VIEW_OVERVIEW || a->arg == b->arg);
}

/* "--view overview or --view stage=0 (or --emit without png/svg/pdf)" for the views
 * whose size (fits[i] != 0) is known to be within the limit, never `refused`. */
static void hint_text(const candidate *c, const int *fits, size_t n, const pd_view *refused,
                      char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && len + 40 < size; i++)
		if (fits[i] && !same_view(&c[i].view, refused))
			len += (size_t)snprintf(buf + len, size - len, "%s--view %s", len ? " or " : "",
			                        c[i].text);
	snprintf(buf + len, size - len, "%s",
	         len ? " (or --emit without png/svg/pdf)" : "--emit without png/svg/pdf");
}

static void refuse(pd_diag_list *diags, const pd_view *view, const char *size_text,
                   const char *hint)
{
	char suffix[32];
	pd_view_suffix(view, suffix, sizeof(suffix));
	pd_diag *d =
	    pd_diag_add(diags, PD_RULE_USAGE, PD_ERROR, 0, 0,
	                "picture of view '%s' would draw %s, above the limit of %d",
	                suffix[0] ? suffix + 1 : "full", size_text, PD_VIEW_FULL_LIMIT);
	pd_diag_fix(d, "pick a view that fits this plan: %s", hint);
}

void pd_i_view_refuse(const pd_dag *dag, const pd_view *view, uint32_t n,
                      pd_diag_list *diags)
{
	static const candidate C[] = {{{PD_VIEW_OVERVIEW, 0}, "overview"},
	                              {{PD_VIEW_STAGE, 0}, "stage=0"},
	                              {{PD_VIEW_GPU, 0}, "gpu=0"},
	                              {{PD_VIEW_LAYER, 0}, "layer=0"}};
	int fits[4];
	char hint[256], size[64];
	for (size_t i = 0; i < 4; i++)
		fits[i] = !same_view(&C[i].view, view) &&
		          pd_i_view_size(dag, &C[i].view) <= PD_VIEW_FULL_LIMIT;
	hint_text(C, fits, 4, view, hint, sizeof(hint));
	snprintf(size, sizeof(size), "%u nodes (DAG: %u)", n, dag->n_nodes);
	refuse(diags, view, size, hint);
}

/* Nodes of a view as far as the plan tells before lowering: the whole DAG's (exact);
 * 0 (nothing known) otherwise: a stage, GPU or layer view folds repeated layers and
 * GPUs (view_fold.c), which only the DAG shows. */
static uint64_t plan_view_nodes(uint64_t est_nodes, const pd_view *v)
{
	return v->kind == PD_VIEW_FULL ? est_nodes : 0;
}

static uint64_t plan_gpus(const pd_plan *plan)
{
	uint64_t n = 0;
	for (uint32_t r = 0; r < plan->strategy.n_replicas; r++)
		for (uint32_t s = 0; s < plan->strategy.replicas[r].n_stages; s++)
			n += plan->strategy.replicas[r].stages[s].n_gpus;
	return n;
}

/* Views the plan proves to fit: stage 0 (exact), its first GPU (nodes + every hub of its
 * stage), the overview when the plan has no more GPUs than the limit. */
static pd_status plan_hint(const pd_plan *plan, const pd_view *refused, char *buf,
                           size_t size)
{
	const pd_replica *r0 = plan->strategy.n_replicas ? &plan->strategy.replicas[0] : NULL;
	int32_t g0 = r0 && r0->n_stages && r0->stages[0].n_gpus && r0->stages[0].gpus
	                 ? r0->stages[0].gpus[0]
	                 : -1;
	char gpu[32];
	snprintf(gpu, sizeof(gpu), "gpu=%d", (int)g0);
	candidate c[] = {{{PD_VIEW_OVERVIEW, 0}, "overview"},
	                 {{PD_VIEW_STAGE, 0}, "stage=0"},
	                 {{PD_VIEW_GPU, g0}, gpu}};
	int fits[3] = {plan_gpus(plan) <= PD_VIEW_FULL_LIMIT, 0, 0};
	uint64_t nodes, hubs;
	PD_CHECK(pd_dag_count_part(plan, 0, 0, -1, &nodes, &hubs));
	fits[1] = r0 && nodes + hubs <= PD_VIEW_FULL_LIMIT;
	PD_CHECK(pd_dag_count_part(plan, -1, -1, g0, &nodes, &hubs));
	fits[2] = g0 >= 0 && nodes + hubs <= PD_VIEW_FULL_LIMIT;
	hint_text(c, fits, 3, refused, buf, size);
	return PD_OK;
}

pd_status pd_view_precheck(const pd_plan *plan, uint64_t est_nodes, const pd_view *view,
                           pd_diag_list *diags)
{
	pd_view v = view ? *view : (pd_view){.kind = PD_VIEW_AUTO};
	if (v.kind == PD_VIEW_AUTO)
		v.kind = est_nodes <= PD_VIEW_AUTO_FULL_LIMIT ? PD_VIEW_FULL : PD_VIEW_OVERVIEW;
	PD_CHECK(pd_i_view_range_plan(plan, &v, diags));
	uint64_t n = plan_view_nodes(est_nodes, &v);
	if (n <= PD_VIEW_FULL_LIMIT)
		return PD_OK;
	char hint[256], size[64];
	PD_CHECK(plan_hint(plan, &v, hint, sizeof(hint)));
	snprintf(size, sizeof(size), "%llu nodes", (unsigned long long)n);
	refuse(diags, &v, size, hint);
	return PD_USAGE;
}
