/* view_range.c - a view names a GPU, stage or layer the plan has.
 *
 * `--view gpu=99` on a 16-GPU plan used to draw a picture holding only the legend.  A
 * view whose GPU, stage (of replica 0) or layer is not in the plan is a usage error
 * naming the valid ones ("gpu=99: the plan uses GPUs 0-15"), checked on the plan before
 * lowering (pd_view_precheck) and on the DAG before anything is written (pd_emit,
 * pd_export_render, pd_export_dot: a GraphML file read back has no plan).
 */
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "plandag/plan.h"

/* The ids a view of `kind` may name, ascending and distinct. */
typedef struct id_set {
	int32_t *v;
	uint32_t n, cap;
} id_set;

static void ids_unique(id_set *s);

/* Appends id; a full set first drops its repeats (the DAG's nodes repeat every id). */
static pd_status ids_push(id_set *s, int32_t id)
{
	if (s->n == s->cap && s->cap >= 4096) {
		ids_unique(s);
		if (s->n <= s->cap / 2) {
			s->v[s->n++] = id;
			return PD_OK;
		}
	}
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? 2 * s->cap : 64;
		int32_t *v = realloc(s->v, (size_t)cap * sizeof(int32_t));
		if (!v)
			return PD_IO;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = id;
	return PD_OK;
}

static void ids_unique(id_set *s)
{
	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(int32_t), pd_i_cmp_i32);
	uint32_t out = 0;
	for (uint32_t i = 1; i < s->n; i++)
		if (s->v[i] != s->v[out])
			s->v[++out] = s->v[i];
	s->n = out + 1;
}

static int ids_has(const id_set *s, int32_t id)
{
	return bsearch(&id, s->v, s->n, sizeof(int32_t), pd_i_cmp_i32) != NULL;
}

static const char *what_of(pd_view_kind k)
{
	return k == PD_VIEW_GPU     ? "uses GPUs"
	       : k == PD_VIEW_STAGE ? "has stages"
	                            : "has layers";
}

/* The refusal: "gpu=99: the plan uses GPUs 0-15", the fix naming the first valid id. */
static pd_status refuse_missing(const id_set *s, const pd_view *v, pd_diag_list *diags)
{
	char suffix[32], list[256];
	pd_view_suffix(v, suffix, sizeof(suffix));
	const char *word = v->kind == PD_VIEW_GPU     ? "gpu"
	                   : v->kind == PD_VIEW_STAGE ? "stage"
	                                              : "layer";
	pd_i_format_ids(list, sizeof(list), s->v, s->n);
	pd_diag *d = pd_diag_add(
	    diags, PD_RULE_USAGE, PD_ERROR, 0, 0, "%s=%d: %s %s %s", word, (int)v->arg,
	    v->kind == PD_VIEW_STAGE ? "replica 0 of the plan" : "the plan", what_of(v->kind),
	    s->n ? list : "none");
	if (s->n)
		pd_diag_fix(d, "pick one of them, e.g. --view %s=%d", word, (int)s->v[0]);
	else
		pd_diag_fix(d, "pick --view overview");
	return PD_USAGE;
}

static pd_status check(id_set *s, pd_status st, const pd_view *v, pd_diag_list *diags)
{
	if (st == PD_OK) {
		ids_unique(s);
		if (!ids_has(s, v->arg))
			st = refuse_missing(s, v, diags);
	} else {
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0,
		            "cannot check the view: out of memory");
	}
	free(s->v);
	return st;
}

static int names_part(const pd_view *v)
{
	return v &&
	       (v->kind == PD_VIEW_GPU || v->kind == PD_VIEW_STAGE || v->kind == PD_VIEW_LAYER);
}

/* Layer view: every layer a stage of replica 0 holds; stage view: its stages; GPU
 * view: every GPU of every stage. */
static pd_status plan_ids(const pd_plan *plan, pd_view_kind k, id_set *s)
{
	const pd_strategy *st = &plan->strategy;
	for (uint32_t r = 0; r < st->n_replicas; r++)
		for (uint32_t i = 0; i < st->replicas[r].n_stages; i++) {
			const pd_stage *sg = &st->replicas[r].stages[i];
			if (k == PD_VIEW_STAGE && r == 0)
				PD_CHECK(ids_push(s, (int32_t)i));
			for (uint32_t g = 0; k == PD_VIEW_GPU && sg->gpus && g < sg->n_gpus; g++)
				PD_CHECK(ids_push(s, sg->gpus[g]));
			for (int64_t l = sg->first_layer;
			     k == PD_VIEW_LAYER && r == 0 && l >= 0 && l <= sg->last_layer; l++)
				PD_CHECK(ids_push(s, (int32_t)l));
		}
	return PD_OK;
}

pd_status pd_i_view_range_plan(const pd_plan *plan, const pd_view *view,
                               pd_diag_list *diags)
{
	if (!names_part(view))
		return PD_OK;
	id_set s = {0};
	return check(&s, plan_ids(plan, view->kind, &s), view, diags);
}

/* The same sets from the DAG's nodes (a layer view draws micro-batch 0). */
static pd_status dag_ids(const pd_dag *dag, pd_view_kind k, id_set *s)
{
	int32_t last = -1; /* nodes come in runs of one GPU / stage / layer */
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		const pd_node *n = &dag->nodes[v];
		int32_t id = k == PD_VIEW_GPU     ? n->gpu
		             : k == PD_VIEW_STAGE ? (n->replica == 0 ? n->stage : -1)
		                                  : (n->micro_batch == 0 ? n->layer : -1);
		if (id >= 0 && id != last)
			PD_CHECK(ids_push(s, id));
		if (id >= 0)
			last = id;
	}
	return PD_OK;
}

pd_status pd_i_view_range_dag(const pd_dag *dag, const pd_view *view, pd_diag_list *diags)
{
	if (!names_part(view))
		return PD_OK;
	id_set s = {0};
	return check(&s, dag_ids(dag, view->kind, &s), view, diags);
}
