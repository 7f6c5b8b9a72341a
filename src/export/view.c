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
	if (pd_i_fold_compute(dag, PD_VIEW_FULL_LIMIT, &f) != PD_OK)
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
	uint8_t *keep = malloc(dag->n_nodes ? dag->n_nodes : 1);
	if (!keep)
		return UINT32_MAX;
	uint32_t n = pd_i_view_select(dag, &v, keep);
	free(keep);
	return n;
}

void pd_i_view_refuse(const pd_dag *dag, const pd_view *view, uint32_t n,
                      pd_diag_list *diags)
{
	char suffix[32];
	pd_view_suffix(view, suffix, sizeof(suffix));
	pd_diag *d =
	    pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0,
	                "picture of view '%s' would draw %u nodes (DAG: %u), above "
	                "the limit of %d",
	                suffix[0] ? suffix + 1 : "full", n, dag->n_nodes, PD_VIEW_FULL_LIMIT);
	pd_diag_fix(d, "pick a smaller view: --view overview, --view stage=S, --view gpu=G "
	               "or --view layer=L (or --emit without png/svg/pdf)");
}
