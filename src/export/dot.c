/* dot.c - the DAG as a cgraph graph: DOT files and the pictures of render.c.
 *
 * Clusters nest replica > stage > GPU ("replica 0 / stage 1 / GPU 9 (node 1)"); hubs
 * sit in their stage's cluster, outside every GPU.  A pooled plan puts each pool's
 * replicas in a pool cluster ("prefill pool", "decode pool"); its KV hand-over edges
 * run between them in the hand-over's colour.  Shape and colour say the kind
 * family, edge style the edge kind, and a legend cluster spells both out.  Every
 * attribute is declared with agattr() before the first node so agxset() can use the
 * symbols; output order follows node and edge ids, so the file is deterministic.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag/ops.h"
#include "export_internal.h"
#include "util/array.h"

static const struct {
	const char *style, *color, *penwidth;
} EDGE_STYLE[PD_E__COUNT] = {
    [PD_E_DATA] = {"solid", "#555555", "1"},
    [PD_E_COMM] = {"dashed", "#7b3f98", "1.6"},
    [PD_E_CONTROL] = {"dotted", "#999999", "1"},
    [PD_E_COLLECTIVE] = {"bold", "#b03030", "2"},
};

/* Family of a node kind, from the operator catalogue (src/dag/ops.c). */
static pd_i_family family_of(uint8_t kind)
{
	return kind < PD_N__COUNT ? pd_i_ops[kind].family : PD_I_F_COMPUTE;
}

/* Attribute symbols, declared once on the root graph. */
typedef struct syms {
	Agsym_t *g_label, *g_style, *g_color, *g_fill;
	Agsym_t *n_label, *n_shape, *n_fill, *n_color;
	Agsym_t *e_style, *e_color, *e_pen, *e_label, *e_dir;
	Agsym_t *g_rank, *e_constraint, *e_minlen, *e_xlabel; /* overview only */
} syms;

#define ATTR(g, kind, name, def) agattr((g), (kind), (char *)(name), (char *)(def))

static void declare(Agraph_t *g, syms *s, const char *title)
{
	ATTR(g, AGRAPH, "rankdir", "TB");
	ATTR(g, AGRAPH, "newrank", "true");
	ATTR(g, AGRAPH, "fontname", "Helvetica");
	ATTR(g, AGRAPH, "fontsize", "14");
	ATTR(g, AGRAPH, "labelloc", "t");
	ATTR(g, AGRAPH, "nodesep", "0.25");
	ATTR(g, AGRAPH, "ranksep", "0.35");
	s->g_label = ATTR(g, AGRAPH, "label", "");
	s->g_style = ATTR(g, AGRAPH, "style", "");
	s->g_color = ATTR(g, AGRAPH, "color", "black");
	s->g_fill = ATTR(g, AGRAPH, "fillcolor", "white");
	ATTR(g, AGNODE, "fontname", "Helvetica");
	ATTR(g, AGNODE, "fontsize", "10");
	ATTR(g, AGNODE, "style", "filled");
	ATTR(g, AGNODE, "height", "0.3");
	ATTR(g, AGNODE, "width", "0.75");
	ATTR(g, AGNODE, "ordering", "");
	s->n_label = ATTR(g, AGNODE, "label", "\\N");
	s->n_shape = ATTR(g, AGNODE, "shape", "box");
	s->n_fill = ATTR(g, AGNODE, "fillcolor", pd_i_family_styles[PD_I_F_COMPUTE].fill);
	s->n_color = ATTR(g, AGNODE, "color", pd_i_family_styles[PD_I_F_COMPUTE].line);
	ATTR(g, AGEDGE, "fontname", "Helvetica");
	ATTR(g, AGEDGE, "fontsize", "9");
	ATTR(g, AGEDGE, "arrowsize", "0.6");
	s->e_style = ATTR(g, AGEDGE, "style", "solid");
	s->e_color = ATTR(g, AGEDGE, "color", "#555555");
	s->e_pen = ATTR(g, AGEDGE, "penwidth", "1");
	s->e_label = ATTR(g, AGEDGE, "label", "");
	s->e_dir = ATTR(g, AGEDGE, "dir", "forward");
	agxset(g, s->g_label, (char *)title);
}

static Agraph_t *cluster(Agraph_t *parent, const syms *s, const char *name,
                         const char *label, const char *fill)
{
	Agraph_t *c = agsubg(parent, (char *)name, 1);
	if (!c)
		return NULL;
	agxset(c, s->g_label, (char *)label);
	agxset(c, s->g_style, "rounded,filled");
	agxset(c, s->g_color, "#888888");
	agxset(c, s->g_fill, (char *)fill);
	return c;
}

static void style_node(Agnode_t *n, const syms *s, pd_i_family f, const char *label)
{
	agxset(n, s->n_label, (char *)label);
	agxset(n, s->n_shape, (char *)pd_i_family_styles[f].shape);
	agxset(n, s->n_fill, (char *)pd_i_family_styles[f].fill);
	agxset(n, s->n_color, (char *)pd_i_family_styles[f].line);
}

static void style_edge(Agedge_t *e, const syms *s, pd_edge_kind k)
{
	agxset(e, s->e_style, (char *)EDGE_STYLE[k].style);
	agxset(e, s->e_color, (char *)EDGE_STYLE[k].color);
	agxset(e, s->e_pen, (char *)EDGE_STYLE[k].penwidth);
}

/* Legend: one sample node per family (the KV hand-over only for a pooled plan), one
 * sample edge per edge kind. */
static pd_status add_legend(Agraph_t *g, const syms *s, bool pooled)
{
	static const struct {
		int from, to;
		pd_edge_kind k;
	} E[] = {
	    {PD_I_F_COMPUTE, PD_I_F_TP, PD_E_DATA},    {PD_I_F_TP, PD_I_F_HUB, PD_E_COLLECTIVE},
	    {PD_I_F_EP, PD_I_F_HUB, PD_E_COLLECTIVE},  {PD_I_F_PP, PD_I_F_COMPUTE, PD_E_COMM},
	    {PD_I_F_COMPUTE, PD_I_F_EP, PD_E_CONTROL},
	};
	Agraph_t *c = cluster(g, s, "cluster_legend", "legend", "#fcfcfc");
	Agnode_t *n[PD_I_F__COUNT];
	char name[32];
	if (!c)
		return PD_IO;
	for (int f = 0; f < PD_I_F__COUNT; f++) {
		if (f == PD_I_F_KV && !pooled)
			continue;
		snprintf(name, sizeof(name), "legend_%d", f);
		if (!(n[f] = agnode(c, name, 1)))
			return PD_IO;
		style_node(n[f], s, (pd_i_family)f, pd_i_family_styles[f].legend);
	}
	for (size_t i = 0; i < sizeof(E) / sizeof(E[0]); i++) {
		Agedge_t *e = agedge(g, n[E[i].from], n[E[i].to], NULL, 1);
		if (!e)
			return PD_IO;
		style_edge(e, s, E[i].k);
		agxset(e, s->e_label, (char *)pd_edge_kind_name(E[i].k));
	}
	return PD_OK;
}

typedef struct builder {
	const pd_dag *dag;
	Agraph_t *g;
	syms s;
	Agraph_t **gpu_cl; /* cluster of each GPU id, created on first use */
	int32_t n_gpu_cl;
	const pd_i_fold *fold;    /* overview only: what is drawn once for many, or NULL */
	const pd_i_view_fold *vf; /* stage, GPU and layer views: what is drawn, or NULL */
	const pd_i_group_traffic *groups; /* overview: collectives by member group */
	int32_t *tp_of;                   /* overview: by GPU, its TP group (-1: none) */
	bool no_kv; /* a layer view of a pooled plan: the hand-over is left out (below) */
} builder;

/* "replica 3", or in a folded overview "replicas 3-1023 (×1021)" for the run GPU g's
 * replica leads (level 0; 1 for stages, 2 for machines, 3 for GPUs). */
static void unit_label(const builder *b, int level, int32_t g, const char *word,
                       int32_t first, char *buf, size_t size)
{
	const pd_i_fold_run *run = pd_i_fold_run_of(b->fold, level, g);
	if (run)
		snprintf(buf, size, "%ss %d-%d (\u00d7%u)", word, (int)first, (int)run->last,
		         run->count);
	else
		snprintf(buf, size, "%s %d", word, (int)first);
}

/* A pooled plan: the cluster of replica r's pool ("prefill pool: replica 0",
 * "decode pool: replicas 1-4"), around
 * its replicas; else (and for a replica of no pool) the root graph. */
static Agraph_t *pool_cluster(builder *b, int32_t r)
{
	int32_t p = pd_dag_replica_pool(b->dag, r);
	if (p < 0)
		return b->g;
	const pd_dag_pool *pl = &b->dag->pools[p];
	const char *ph = pd_phase_name(pl->phase);
	char name[48], label[96];
	snprintf(name, sizeof(name), "cluster_pool_%s", ph);
	Agraph_t *c = agsubg(b->g, name, 0);
	if (c)
		return c;
	if (pl->n_replicas > 1)
		snprintf(label, sizeof(label), "%s pool: replicas %d-%d", ph, (int)pl->first_replica,
		         (int)(pl->first_replica + pl->n_replicas - 1));
	else
		snprintf(label, sizeof(label), "%s pool: replica %d", ph, (int)pl->first_replica);
	c = cluster(b->g, &b->s, name, label, pl->phase == PD_PREFILL ? "#fdf6e3" : "#eef5fb");
	if (c)
		agxset(c, b->s.g_color, (char *)pd_i_family_styles[PD_I_F_KV].line);
	return c;
}

/* The stage cluster of replica r / stage st; g is a GPU in it (for the labels of a
 * folded overview) or -1. */
static Agraph_t *stage_cluster_of(builder *b, int32_t r, int32_t st, int32_t g)
{
	char name[64], label[160], rep[64], stage[64];
	unit_label(b, 0, g, "replica", r, rep, sizeof(rep));
	snprintf(name, sizeof(name), "cluster_r%d", (int)r);
	Agraph_t *pc = pool_cluster(b, r);
	Agraph_t *rc = pc ? agsubg(pc, name, 0) : NULL;
	if (pc && !rc)
		rc = cluster(pc, &b->s, name, rep, "#f4f4f4");
	snprintf(name, sizeof(name), "cluster_r%d_s%d", (int)r, (int)st);
	Agraph_t *sc = rc ? agsubg(rc, name, 0) : NULL;
	if (rc && !sc) {
		unit_label(b, 1, g, "stage", st, stage, sizeof(stage));
		snprintf(label, sizeof(label), "%s / %s", rep, stage);
		sc = cluster(rc, &b->s, name, label, "#ebebeb");
	}
	return sc;
}

static Agraph_t *stage_cluster(builder *b, int32_t r, int32_t st)
{
	return stage_cluster_of(b, r, st, -1);
}

/* "GPUs 0-31 (×32)" when GPU g stands for others in a folded view, else 0. */
static int gpu_members(const builder *b, int32_t g, char *buf, size_t size)
{
	const pd_i_view_fold *f = b->vf;
	if (!f || g >= f->n_gpus)
		return 0;
	int32_t *ids = malloc((size_t)f->n_gpus * sizeof(int32_t));
	uint32_t n = 0;
	for (int32_t k = 0; ids && k < f->n_gpus; k++)
		if (f->gpu_lead[k] == g)
			ids[n++] = k;
	if (ids && n > 1) {
		char list[64];
		pd_i_format_ids(list, sizeof(list), ids, n);
		snprintf(buf, size, "GPUs %s (\u00d7%u)", list, n);
	}
	free(ids);
	return n > 1;
}

static Agraph_t *gpu_cluster(builder *b, const pd_node *n)
{
	if (n->gpu < 0 || n->gpu >= b->n_gpu_cl)
		return stage_cluster(b, n->replica, n->stage);
	if (b->gpu_cl[n->gpu])
		return b->gpu_cl[n->gpu];
	Agraph_t *sc = stage_cluster(b, n->replica, n->stage);
	char name[80], label[128], where[32] = "";
	if (b->dag->gpus_per_node > 0)
		snprintf(where, sizeof(where), " (node %d)", (int)(n->gpu / b->dag->gpus_per_node));
	snprintf(name, sizeof(name), "cluster_r%d_s%d_g%d", (int)n->replica, (int)n->stage,
	         (int)n->gpu);
	char gpus[96];
	if (!gpu_members(b, n->gpu, gpus, sizeof(gpus)))
		snprintf(gpus, sizeof(gpus), "GPU %d%s", (int)n->gpu, where);
	snprintf(label, sizeof(label), "replica %d / stage %d / %s", (int)n->replica,
	         (int)n->stage, gpus);
	b->gpu_cl[n->gpu] = sc ? cluster(sc, &b->s, name, label, "#ffffff") : NULL;
	return b->gpu_cl[n->gpu];
}

/* dot orders clusters to reduce crossings, which scatters the GPUs of a stage
 * (9, 8, 7, 15, ...).  An invisible anchor per stage with ordered invisible edges to
 * the first node of each GPU, in GPU id order, keeps them left to right. */
static pd_status order_gpus(builder *b, Agnode_t **first)
{
	char name[64];
	for (int32_t g = 0; g < b->n_gpu_cl; g++) {
		Agnode_t *f = first[g];
		if (!f)
			continue;
		int32_t r = b->dag->gpu ? b->dag->gpu[g].replica : -1;
		int32_t st = b->dag->gpu ? b->dag->gpu[g].stage : -1;
		Agraph_t *sc = stage_cluster(b, r, st);
		snprintf(name, sizeof(name), "anchor_r%d_s%d", (int)r, (int)st);
		Agnode_t *a = sc ? agnode(sc, name, 1) : NULL;
		Agedge_t *e = a ? agedge(b->g, a, f, NULL, 1) : NULL;
		if (!e)
			return PD_IO;
		agsafeset(a, "style", "invis", "filled");
		agsafeset(a, "ordering", "out", "");
		agsafeset(a, "label", "", "\\N");
		agsafeset(a, "width", "0", "0.75");
		agsafeset(a, "height", "0", "0.3");
		agsafeset(e, "style", "invis", "solid");
	}
	return PD_OK;
}

/* A node's label; the lead of a run of folded layers adds "layers 3-60 ×58". */
static void node_label(const builder *b, uint32_t v, char *label, size_t size)
{
	pd_node_label(b->dag, v, label, size);
	int32_t l = b->dag->nodes[v].layer;
	const pd_i_view_fold *f = b->vf;
	size_t len = strlen(label);
	if (f && l >= 0 && l < f->n_layers && f->layer_last[l] > l && len + 40 < size)
		snprintf(label + len, size - len, "\\nlayers %d-%d \u00d7%d", (int)l,
		         (int)f->layer_last[l], (int)(f->layer_last[l] - l + 1));
}

/* One edge of the DAG; in a folded view an edge from a hidden node into a drawn one
 * leaves its stand-in (once: the edge between two drawn nodes is not repeated). */
static pd_status add_edge(builder *b, Agnode_t **an, const pd_edge *ed)
{
	uint32_t src = b->vf ? pd_i_view_fold_draw(b->vf, ed->src) : ed->src;
	if (src == UINT32_MAX || !an[src] || !an[ed->dst] || src == ed->dst)
		return PD_OK;
	if (src != ed->src && agedge(b->g, an[src], an[ed->dst], NULL, 0))
		return PD_OK;
	Agedge_t *ae = agedge(b->g, an[src], an[ed->dst], NULL, 1);
	if (!ae)
		return PD_IO;
	if (ed->kind < PD_E__COUNT)
		style_edge(ae, &b->s, (pd_edge_kind)ed->kind);
	if (ed->kind == PD_E_COMM && b->dag->nodes[ed->src].kind == PD_N_KV_SEND)
		agxset(ae, b->s.e_color, (char *)pd_i_family_styles[PD_I_F_KV].line);
	return PD_OK;
}

/* A kv_recv whose kv_send the view leaves out has no edge: hang it under the node drawn
 * before it on its GPU by an invisible edge (Graphviz 2.43 leaks the layout of a graph
 * with such a node in a cluster, and the hand-over's arrival then sits after the step,
 * as it runs). */
static pd_status anchor_lone_recvs(builder *b, Agnode_t **an, Agnode_t **last)
{
	const pd_dag *dag = b->dag;
	for (int32_t g = 0; g < b->n_gpu_cl; g++)
		last[g] = NULL;
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		const pd_node *n = &dag->nodes[v];
		if (!an[v] || n->gpu < 0 || n->gpu >= b->n_gpu_cl)
			continue;
		Agnode_t *prev = last[n->gpu];
		last[n->gpu] = an[v];
		if (n->kind != PD_N_KV_RECV || !prev || agdegree(b->g, an[v], 1, 1) > 0)
			continue;
		Agedge_t *e = agedge(b->g, prev, an[v], NULL, 1);
		if (!e)
			return PD_IO;
		agsafeset(e, "style", "invis", "solid");
	}
	return PD_OK;
}

/* Nodes and edges of a selection (keep == NULL: everything). */
static pd_status add_nodes_and_edges(builder *b, const uint8_t *keep)
{
	const pd_dag *dag = b->dag;
	char name[24], label[160];
	Agnode_t **an = calloc(dag->n_nodes ? dag->n_nodes : 1, sizeof(Agnode_t *));
	if (!an)
		return PD_IO;
	Agnode_t **first =
	    calloc(b->n_gpu_cl > 0 ? (size_t)b->n_gpu_cl : 1, sizeof(Agnode_t *));
	pd_status s = first ? PD_OK : PD_IO;
	for (uint32_t v = 0; v < dag->n_nodes && s == PD_OK; v++) {
		if ((keep && !keep[v]) ||
		    (b->no_kv && family_of(dag->nodes[v].kind) == PD_I_F_KV))
			continue;
		const pd_node *n = &dag->nodes[v];
		Agraph_t *c =
		    n->gpu >= 0 ? gpu_cluster(b, n) : stage_cluster(b, n->replica, n->stage);
		snprintf(name, sizeof(name), "n%u", v);
		an[v] = c ? agnode(c, name, 1) : NULL;
		if (!an[v]) {
			s = PD_IO;
			break;
		}
		if (n->gpu >= 0 && n->gpu < b->n_gpu_cl && !first[n->gpu])
			first[n->gpu] = an[v];
		node_label(b, v, label, sizeof(label));
		style_node(an[v], &b->s, family_of(n->kind), label);
	}
	for (uint32_t e = 0; e < dag->n_edges && s == PD_OK; e++)
		s = add_edge(b, an, &dag->edges[e]);
	if (s == PD_OK)
		s = order_gpus(b, first);
	if (s == PD_OK && dag->n_pools)
		s = anchor_lone_recvs(b, an, first); /* first[] is scratch from here */
	free(first);
	free(an);
	return s;
}

/* ---- overview: one node per GPU, edges = bytes per step between GPUs ---- */

/* The overview lays GPUs out as the cluster is built: one row (rank) per machine of
 * gpus-per-node GPUs, the machines of a stage top to bottom, then the next stage;
 * replicas side by side.  The ranks come from invisible edges between the first GPUs of
 * consecutive machines only; traffic edges do not constrain the layout (a ring over
 * 256 GPUs would otherwise chain 256 ranks: a picture 26 000 px tall, and half of the
 * layout time in rank assignment). */
#define OVERVIEW_LABELS_MAX 2048 /* above this many p2p links, edges carry no labels */

/* Rows of one stage: the first GPU of its first row, of its current row, and the last
 * GPU placed (where the next one of the same row goes). */
typedef struct row_chain {
	int32_t replica, stage;
	Agnode_t *first, *head, *last;
} row_chain;

/* An edge the layout needs: h a rank below t (minlen "1") or right of it ("0"). */
typedef struct layout_pair {
	Agnode_t *t, *h;
	const char *minlen;
} layout_pair;

typedef struct rows {
	row_chain *v;
	size_t n;
	layout_pair *pairs;
	size_t n_pairs;
} rows;

static int32_t machine_of(const pd_dag *dag, int32_t gpu)
{
	return gpu / (dag->gpus_per_node > 0 ? dag->gpus_per_node : 8);
}

/* The cluster of GPU g's machine inside its stage cluster, created on first use. */
static Agraph_t *machine_cluster(builder *b, const pd_node *n, int *created)
{
	char name[96], label[64];
	int32_t m = machine_of(b->dag, n->gpu), per = b->dag->gpus_per_node;
	Agraph_t *sc = stage_cluster_of(b, n->replica, n->stage, n->gpu);
	snprintf(name, sizeof(name), "cluster_r%d_s%d_m%d", (int)n->replica, (int)n->stage,
	         (int)m);
	Agraph_t *mc = sc ? agsubg(sc, name, 0) : NULL;
	*created = sc && !mc;
	if (!*created)
		return mc;
	if (per > 0)
		unit_label(b, 2, n->gpu, "node", m, label, sizeof(label));
	else
		snprintf(label, sizeof(label), "GPUs %d-%d", (int)(m * 8), (int)(m * 8 + 7));
	mc = cluster(sc, &b->s, name, label, "#fafafa");
	if (mc)
		agxset(mc, b->s.g_rank, "same");
	return mc;
}

/* The layout edge of pair p: the traffic edge between the same GPUs when there is
 * one (made a constraint), else an invisible edge.  Never both: Graphviz 2.43's dot
 * frees a parallel constraint=false edge that spans ranks twice in gvFreeLayout. */
static pd_status layout_edge(builder *b, const layout_pair *p)
{
	Agedge_t *e = agedge(b->g, p->t, p->h, NULL, 0);
	if (!e && (e = agedge(b->g, p->t, p->h, NULL, 1)) != NULL)
		agxset(e, b->s.e_style, "invis");
	if (!e)
		return PD_IO;
	agxset(e, b->s.e_constraint, "true");
	agxset(e, b->s.e_minlen, (char *)p->minlen);
	return PD_OK;
}

static void invisible(rows *r, Agnode_t *t, Agnode_t *h, const char *minlen)
{
	r->pairs[r->n_pairs++] = (layout_pair){t, h, minlen};
}

/* Places GPU node gn of dag node n: right of the previous GPU of its machine row, or
 * starting a new row (new_row) below the stage's previous row. */
static void place_gpu(rows *r, const pd_node *n, Agnode_t *gn, int new_row)
{
	size_t i = 0;
	while (i < r->n && (r->v[i].replica != n->replica || r->v[i].stage != n->stage))
		i++;
	row_chain *c = &r->v[i];
	if (i == r->n) {
		*c = (row_chain){n->replica, n->stage, gn, gn, gn};
		r->n++;
		return;
	}
	invisible(r, new_row ? c->head : c->last, gn, new_row ? "1" : "0");
	if (new_row)
		c->head = gn;
	c->last = gn;
}

/* Stage s + 1 of a replica starts below the last row of stage s (dot would not keep
 * side-by-side clusters in order), so the pipeline reads top to bottom; replicas,
 * independent of each other, stand side by side.  In a folded overview the next stage
 * drawn follows (stages 1-998 stand between stage 0 and stage 999). */
static void stack_stages(rows *r, int folded)
{
	for (size_t i = 0; i < r->n; i++) {
		size_t next = r->n;
		for (size_t j = 0; j < r->n; j++) {
			const row_chain *c = &r->v[j];
			if (c->replica != r->v[i].replica || c->stage <= r->v[i].stage ||
			    (!folded && c->stage != r->v[i].stage + 1))
				continue;
			if (next == r->n || c->stage < r->v[next].stage)
				next = j;
		}
		if (next < r->n)
			invisible(r, r->v[i].head, r->v[next].first, "1");
	}
}

/* The box of GPU g's TP group inside its machine's row ("TP 4: GPUs 0-3"), or mc when
 * it has none. */
static Agraph_t *tp_cluster(builder *b, Agraph_t *mc, int32_t g)
{
	int32_t k = b->tp_of ? b->tp_of[g] : -1;
	if (k < 0)
		return mc;
	char name[48], label[160], ids[64], bytes[32];
	snprintf(name, sizeof(name), "cluster_tp%d", (int)k);
	Agraph_t *c = agsubg(mc, name, 0);
	if (c)
		return c;
	const pd_i_group_traffic *t = &b->groups[k];
	pd_i_format_ids(ids, sizeof(ids), b->dag->groups.gpus + b->dag->groups.off[k], t->n);
	pd_i_format_bytes(t->bytes_per_gpu, bytes, sizeof(bytes));
	snprintf(label, sizeof(label), "TP %u: GPUs %s\\n%s per GPU per step", t->n, ids,
	         bytes);
	c = cluster(mc, &b->s, name, label, "#fff4e0");
	if (c)
		agxset(c, b->s.g_color, (char *)pd_i_family_styles[PD_I_F_TP].line);
	return c;
}

static void gpu_label(const builder *b, int32_t g, char *label, size_t size)
{
	const pd_dag *dag = b->dag;
	char mem[32];
	unit_label(b, 3, g, "GPU", g, label, size);
	int len = (int)strlen(label);
	if (dag->gpu && g < dag->n_gpus && dag->gpu[g].memory > 0 && len > 0 &&
	    (size_t)len < size) {
		char cap[32] = "";
		pd_i_format_bytes(dag->gpu[g].memory, mem, sizeof(mem));
		if (dag->gpu_capacity > 0)
			pd_i_format_bytes(dag->gpu_capacity, cap, sizeof(cap));
		snprintf(label + len, size - (size_t)len, "\\n%s%s%s", mem, cap[0] ? " / " : "",
		         cap);
	}
}

/* First node of every GPU (the GPU's replica and stage), UINT32_MAX when unused. */
static uint32_t *first_nodes(const pd_dag *dag, int32_t n_gpus)
{
	uint32_t *first = malloc((n_gpus > 0 ? (size_t)n_gpus : 1) * sizeof(uint32_t));
	if (!first)
		return NULL;
	memset(first, 0xff, (n_gpus > 0 ? (size_t)n_gpus : 1) * sizeof(uint32_t));
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		int32_t g = dag->nodes[v].gpu;
		if (g >= 0 && g < n_gpus && first[g] == UINT32_MAX)
			first[g] = v;
	}
	return first;
}

/* One node per GPU that carries work, in GPU order, in its machine's row; r receives
 * the layout pairs (at most 2 per GPU). */
static pd_status add_gpu_nodes(builder *b, Agnode_t **gn, int32_t n_gpus, rows *r)
{
	char name[32], label[128];
	uint32_t *first = first_nodes(b->dag, n_gpus);
	pd_status s = first ? PD_OK : PD_IO;
	for (int32_t g = 0; s == PD_OK && g < n_gpus; g++) {
		if (first[g] == UINT32_MAX || (b->fold && !b->fold->drawn[g]))
			continue;
		const pd_node *n = &b->dag->nodes[first[g]];
		int created = 0;
		Agraph_t *c = machine_cluster(b, n, &created);
		c = c ? tp_cluster(b, c, n->gpu) : NULL;
		snprintf(name, sizeof(name), "gpu%d", (int)g);
		if (!c || !(gn[g] = agnode(c, name, 1))) {
			s = PD_IO;
			break;
		}
		gpu_label(b, g, label, sizeof(label));
		style_node(gn[g], &b->s, PD_I_F_COMPUTE, label);
		place_gpu(r, n, gn[g], created);
	}
	stack_stages(r, b->fold != NULL);
	free(first);
	return s;
}

/* Too many byte labels hide the picture: the title gives the scale instead. */
static void note_unlabelled(builder *b, size_t n, double max)
{
	char title[512], big[32];
	pd_i_format_bytes(max, big, sizeof(big));
	snprintf(title, sizeof(title),
	         "%s\\n%zu links, too many to label: pen width is "
	         "proportional to bytes, thickest %s",
	         agxget(b->g, b->s.g_label), n, big);
	agxset(b->g, b->s.g_label, title);
}

static pd_status add_links(builder *b, Agnode_t **gn, const pd_i_links *l)
{
	double max = 0;
	char text[48], pen[16];
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].bytes > max)
			max = l->v[i].bytes;
	for (size_t i = 0; i < l->n; i++) {
		const pd_i_link *k = &l->v[i];
		if (!gn[k->a] || !gn[k->b])
			continue;
		Agedge_t *e = agedge(b->g, gn[k->a], gn[k->b], NULL, 1);
		if (!e)
			return PD_IO;
		style_edge(e, &b->s, k->collective ? PD_E_COLLECTIVE : PD_E_COMM);
		/* p2p goes down to the next stage and an edge inside a machine row goes right,
		 * like the layout; only a ring edge between rows could pull rows apart */
		if (k->collective && machine_of(b->dag, k->a) != machine_of(b->dag, k->b))
			agxset(e, b->s.e_constraint, "false");
		if (l->n <= OVERVIEW_LABELS_MAX) {
			pd_i_format_bytes(k->bytes, text, sizeof(text));
			agxset(e, b->s.e_xlabel, text);
		}
		snprintf(pen, sizeof(pen), "%.1f", 1 + 4 * (max > 0 ? k->bytes / max : 0));
		agxset(e, b->s.e_pen, pen);
		if (k->collective)
			agxset(e, b->s.e_dir, "none");
	}
	if (l->n > OVERVIEW_LABELS_MAX)
		note_unlabelled(b, l->n, max);
	else /* room for the labels between the GPUs of a row */
		agset(b->g, "nodesep", "0.7");
	return PD_OK;
}

/* By GPU, the largest TP group it is a member of (-1: none). */
static pd_status tp_groups_of(builder *b, int32_t n_gpus)
{
	const pd_groups *G = &b->dag->groups;
	b->tp_of = malloc((n_gpus > 0 ? (size_t)n_gpus : 1) * sizeof(int32_t));
	if (!b->tp_of)
		return PD_IO;
	for (int32_t g = 0; g < n_gpus; g++)
		b->tp_of[g] = -1;
	for (uint32_t k = 0; k < G->n; k++) {
		const pd_i_group_traffic *t = &b->groups[k];
		for (uint32_t i = G->off[k]; t->used && !t->ep && t->n > 1 && i < G->off[k + 1];
		     i++) {
			int32_t g = G->gpus[i];
			if (g >= 0 && g < n_gpus &&
			    (b->tp_of[g] < 0 || b->groups[b->tp_of[g]].n < t->n))
				b->tp_of[g] = (int32_t)k;
		}
	}
	return PD_OK;
}

/* The hub of EP group k in the stage cluster of its first drawn member g0. */
static Agnode_t *ep_hub(builder *b, uint32_t k, int32_t g0)
{
	const pd_i_group_traffic *t = &b->groups[k];
	char name[32], label[160], bytes[32];
	const pd_dag_gpu *dg = b->dag->gpu && g0 < b->dag->n_gpus ? &b->dag->gpu[g0] : NULL;
	Agraph_t *sc = dg ? stage_cluster_of(b, dg->replica, dg->stage, g0) : b->g;
	snprintf(name, sizeof(name), "ep%u", k);
	Agnode_t *h = sc ? agnode(sc, name, 1) : NULL;
	if (!h)
		return NULL;
	pd_i_format_bytes(t->bytes_per_gpu, bytes, sizeof(bytes));
	snprintf(label, sizeof(label), "EP all-to-all: %s%u GPUs%s\\n%s per GPU per step",
	         t->n > PD_I_EP_EDGES_MAX ? "all " : "", t->n,
	         t->n > PD_I_EP_EDGES_MAX ? " of this stage" : "", bytes);
	style_node(h, &b->s, PD_I_F_HUB, label);
	return h;
}

/* EP as what it is: one all-to-all per stage, a hub joined to every member GPU drawn. */
static pd_status add_ep_hubs(builder *b, Agnode_t **gn, int32_t n_gpus)
{
	const pd_groups *G = &b->dag->groups;
	for (uint32_t k = 0; k < G->n; k++) {
		const pd_i_group_traffic *t = &b->groups[k];
		Agnode_t *h = NULL;
		for (uint32_t i = G->off[k]; t->used && t->ep && t->n > 1 && i < G->off[k + 1];
		     i++) {
			int32_t g = G->gpus[i];
			if (g < 0 || g >= n_gpus || !gn[g])
				continue;
			if (!h && !(h = ep_hub(b, k, g)))
				return PD_IO;
			if (t->n > PD_I_EP_EDGES_MAX)
				break;
			Agedge_t *e = agedge(b->g, h, gn[g], NULL, 1);
			if (!e)
				return PD_IO;
			style_edge(e, &b->s, PD_E_COLLECTIVE);
			agxset(e, b->s.e_color, (char *)pd_i_family_styles[PD_I_F_EP].line);
			agxset(e, b->s.e_dir, "none");
			agxset(e, b->s.e_constraint, "false");
		}
	}
	return PD_OK;
}

/* The overview's own legend: exactly the marks it uses. */
static pd_status add_overview_legend(builder *b)
{
	Agraph_t *c = cluster(b->g, &b->s, "cluster_legend", "legend", "#fcfcfc");
	Agraph_t *tp =
	    c ? cluster(c, &b->s, "cluster_legend_tp",
	                "TP group (box): its GPUs\\nbytes per GPU per step", "#fff4e0")
	      : NULL;
	Agnode_t *gpu = c ? agnode(c, "legend_gpu", 1) : NULL;
	Agnode_t *tpg = tp ? agnode(tp, "legend_tp_gpu", 1) : NULL;
	Agnode_t *hub = c ? agnode(c, "legend_ep", 1) : NULL;
	Agnode_t *next = c ? agnode(c, "legend_next", 1) : NULL;
	Agedge_t *p2p = gpu && next ? agedge(b->g, gpu, next, NULL, 1) : NULL;
	Agedge_t *ep = hub && tpg ? agedge(b->g, hub, tpg, NULL, 1) : NULL;
	if (!p2p || !ep)
		return PD_IO;
	style_node(gpu, &b->s, PD_I_F_COMPUTE,
	           "a GPU (×N: N identical)\\nmemory used / capacity");
	style_node(tpg, &b->s, PD_I_F_COMPUTE, "a GPU");
	style_node(next, &b->s, PD_I_F_COMPUTE, "a GPU of the next stage");
	style_node(hub, &b->s, PD_I_F_HUB,
	           "EP all-to-all (one per stage; lines to its GPUs\\nup to 32 "
	           "members)\\nbytes per GPU per step");
	agxset(tp, b->s.g_color, (char *)pd_i_family_styles[PD_I_F_TP].line);
	style_edge(p2p, &b->s, PD_E_COMM);
	agxset(p2p, b->s.e_xlabel,
	       "pipeline p2p / KV hand-over:\\nbytes this link carries per step");
	style_edge(ep, &b->s, PD_E_COLLECTIVE);
	agxset(ep, b->s.e_color, (char *)pd_i_family_styles[PD_I_F_EP].line);
	agxset(ep, b->s.e_dir, "none");
	agxset(ep, b->s.e_xlabel, "member");
	return PD_OK;
}

/* A folded overview keeps the links between GPUs it draws. */
static void drop_hidden(pd_i_links *l, const pd_i_fold *f)
{
	size_t out = 0;
	for (size_t i = 0; i < l->n; i++)
		if (f->drawn[l->v[i].a] && f->drawn[l->v[i].b])
			l->v[out++] = l->v[i];
	l->n = out;
}

static void note_folded(builder *b)
{
	char title[640];
	snprintf(title, sizeof(title),
	         "%s\\nrepeated structure drawn once: \u00d7N = N identical replicas, stages, "
	         "machines or GPUs, labelled with the range they stand for",
	         agxget(b->g, b->s.g_label));
	agxset(b->g, b->s.g_label, title);
}

/* Folds the overview when it would draw too many GPUs. */
static pd_status fold_overview(builder *b, pd_i_fold *f)
{
	PD_CHECK(pd_i_fold_compute(b->dag, PD_I_OVERVIEW_GPUS, f));
	if (f->levels > 0) {
		b->fold = f;
		note_folded(b);
	}
	return PD_OK;
}

static pd_status build_overview(builder *b)
{
	pd_i_links l = {0};
	pd_i_fold f = {0};
	int32_t n = pd_i_max_gpu(b->dag) + 1;
	size_t ng = n > 0 ? (size_t)n : 1;
	Agnode_t **gn = calloc(ng, sizeof(Agnode_t *));
	rows r = {calloc(ng, sizeof(row_chain)), 0, calloc(2 * ng, sizeof(layout_pair)), 0};
	/* declared here, not in declare(): the other views' DOT files stay as they were */
	b->s.g_rank = ATTR(b->g, AGRAPH, "rank", "");
	b->s.e_constraint = ATTR(b->g, AGEDGE, "constraint", "true");
	b->s.e_minlen = ATTR(b->g, AGEDGE, "minlen", "1");
	/* xlabel, not label: Graphviz 2.43's dot double-frees in gvFreeLayout when a row
	 * has labelled flat edges between non-neighbours (the ring's closing edge) */
	b->s.e_xlabel = ATTR(b->g, AGEDGE, "xlabel", "");
	pd_i_group_traffic *groups = NULL;
	pd_status s = gn && r.v && r.pairs ? fold_overview(b, &f) : PD_IO;
	if (s == PD_OK && (s = pd_i_overview_groups(b->dag, &groups)) == PD_OK) {
		b->groups = groups;
		s = tp_groups_of(b, n);
	}
	if (s == PD_OK)
		s = add_gpu_nodes(b, gn, n, &r);
	if (s == PD_OK)
		s = add_ep_hubs(b, gn, n);
	if (s == PD_OK)
		s = pd_i_overview_links(b->dag, &l);
	if (s == PD_OK && b->fold)
		drop_hidden(&l, b->fold);
	if (s == PD_OK)
		s = add_links(b, gn, &l);
	for (size_t i = 0; s == PD_OK && i < r.n_pairs; i++)
		s = layout_edge(b, &r.pairs[i]);
	if (s == PD_OK)
		s = add_overview_legend(b);
	b->fold = NULL;
	b->groups = NULL;
	free(groups);
	free(b->tp_of);
	b->tp_of = NULL;
	pd_i_fold_release(&f);
	free(l.v);
	free(gn);
	free(r.v);
	free(r.pairs);
	return s;
}

static int folded(const pd_i_view_fold *f)
{
	if (f->n_mbs > 0 && f->mb_last[0] > 0)
		return 1;
	for (int32_t k = 0; k < f->n_layers; k++)
		if (f->layer_last[k] > k)
			return 1;
	for (int32_t k = 0; k < f->n_gpus; k++)
		if (f->gpu_lead[k] != k)
			return 1;
	return 0;
}

static void note_view_folded(builder *b)
{
	char title[768], mbs[96] = "";
	const pd_i_view_fold *f = b->vf;
	for (int32_t k = 0; k < f->n_mbs; k++)
		if (f->mb_lead[k] == k && f->mb_last[k] > k && strlen(mbs) < 48)
			snprintf(mbs + strlen(mbs), sizeof(mbs) - strlen(mbs),
			         "%smicro-batches %d-%d drawn as %d (\u00d7%d)", mbs[0] ? "; " : "\\n",
			         (int)k, (int)f->mb_last[k], (int)k, (int)(f->mb_last[k] - k + 1));
	snprintf(
	    title, sizeof(title),
	    "%s\\nrepeated structure drawn once: \u00d7N = N identical GPUs (labelled with "
	    "the GPUs they stand for) or consecutive layers (labelled with their range)%s",
	    agxget(b->g, b->s.g_label), mbs);
	agxset(b->g, b->s.g_label, title);
}

static void title_of(const pd_dag *dag, const pd_view *view, char *buf, size_t size)
{
	char suffix[32];
	pd_view_suffix(view, suffix, sizeof(suffix));
	snprintf(buf, size, "%s%s%s", dag->name ? dag->name : "plandag", suffix[0] ? " " : "",
	         suffix[0] ? suffix + 1 : "");
	if (view->kind == PD_VIEW_OVERVIEW)
		snprintf(buf + strlen(buf), size - strlen(buf),
		         " (one step: traffic, memory and groups as the legend says)");
}

/* cgraph's default ID discipline uses the address of a name in its string pool as the
 * ID of a named object and keeps subgraphs ordered by ID, so the order of clusters in
 * the output would follow heap layout.  This discipline numbers subgraphs in creation
 * order from its own name table and leaves nodes and edges to the default discipline
 * (whose state is the root graph), so the output is the same on every run.  (Declining
 * names instead would push them into cgraph's internal map, whose entries cgraph 2.43
 * never frees.) */
typedef struct seq_ids {
	Agraph_t *root;       /* state of the default discipline */
	PD_VEC(char *) names; /* subgraph k has ID 2 * (k + 1) */
	pd_i_intern index;    /* names by pd_i_hash_str */
} seq_ids;

static void *seq_open(Agraph_t *g, Agdisc_t *disc)
{
	seq_ids *s = calloc(1, sizeof(*s));
	if (s)
		s->root = AgIdDisc.open(g, disc);
	return s;
}

static uint32_t name_hash(const void *ctx, uint32_t k)
{
	const seq_ids *s = ctx;
	return pd_i_hash_str(s->names.v[k]);
}

static bool name_equal(const void *ctx, uint32_t k, const void *str)
{
	const seq_ids *s = ctx;
	return strcmp(s->names.v[k], str) == 0;
}

/* The subgraph named str, or UINT32_MAX (*where is then its free slot). */
static uint32_t seq_find(const seq_ids *s, const char *str, uint32_t *where)
{
	if (!s->index.cap)
		return UINT32_MAX;
	return pd_i_intern_find(&s->index, pd_i_hash_str(str), str, name_equal, s, where);
}

/* Numbers the new subgraph str as the next one: room in names and the index, and the
 * name copied into cgraph's string pool (agwrite reads pool flags in front of names). */
static pd_status seq_add(seq_ids *s, const char *str)
{
	uint32_t where = 0; /* set by seq_find; gcc -O3 cannot see it */
	if (s->names.n >= UINT32_MAX / 4)
		return PD_IO;
	PD_CHECK(PD_VEC_RESERVE(&s->names, s->names.n + 1));
	PD_CHECK(pd_i_intern_reserve(&s->index, (uint32_t)s->names.n, 128, name_hash, s));
	(void)seq_find(s, str, &where);
	char *copy = agstrdup(s->root, (char *)str);
	if (!copy)
		return PD_IO;
	pd_i_intern_set(&s->index, where, (uint32_t)s->names.n);
	s->names.v[s->names.n++] = copy;
	return PD_OK;
}

static long seq_subgraph_id(seq_ids *s, const char *str, IDTYPE *id, int create)
{
	uint32_t where, k = seq_find(s, str, &where);
	if (k == UINT32_MAX) {
		if (!create || seq_add(s, str) != PD_OK)
			return 0;
		k = (uint32_t)s->names.n - 1;
	}
	*id = (IDTYPE)(2 * ((size_t)k + 1));
	return 1;
}

static long seq_map(void *state, int objtype, char *str, IDTYPE *id, int createflag)
{
	seq_ids *s = state;
	if (objtype == AGRAPH && str)
		return seq_subgraph_id(s, str, id, createflag);
	return AgIdDisc.map(s->root, objtype, str, id, createflag);
}

static long seq_alloc(void *state, int objtype, IDTYPE id)
{
	seq_ids *s = state;
	return AgIdDisc.alloc(s->root, objtype, id);
}

static void seq_free(void *state, int objtype, IDTYPE id)
{
	seq_ids *s = state;
	if (objtype != AGRAPH)
		AgIdDisc.free(s->root, objtype, id);
}

static char *seq_print(void *state, int objtype, IDTYPE id)
{
	seq_ids *s = state;
	if (objtype != AGRAPH)
		return AgIdDisc.print(s->root, objtype, id);
	size_t k = (size_t)id / 2;
	return (id % 2 == 0 && k >= 1 && k <= s->names.n) ? s->names.v[k - 1] : NULL;
}

static void seq_close(void *state)
{
	seq_ids *s = state;
	for (size_t k = 0; k < s->names.n; k++)
		agstrfree(s->root, s->names.v[k]);
	AgIdDisc.close(s->root);
	free(s->names.v);
	pd_i_intern_release(&s->index);
	free(s);
}

static void seq_register(void *state, int objtype, void *obj)
{
	seq_ids *s = state;
	AgIdDisc.idregister(s->root, objtype, obj);
}

static Agiddisc_t seq_id_disc = {seq_open,  seq_map,   seq_alloc,   seq_free,
                                 seq_print, seq_close, seq_register};
static Agdisc_t seq_disc = {&pd_i_cgraph_mem, &seq_id_disc, &AgIoDisc};

Agraph_t *pd_i_dot_build(const pd_dag *dag, const pd_view *view)
{
	builder b = {.dag = dag};
	char title[256];
	b.g = agopen("plandag", Agdirected, &seq_disc);
	if (!b.g)
		return NULL;
	title_of(dag, view, title, sizeof(title));
	declare(b.g, &b.s, title);
	b.n_gpu_cl = pd_i_max_gpu(dag) + 1;
	b.gpu_cl = calloc(b.n_gpu_cl > 0 ? (size_t)b.n_gpu_cl : 1, sizeof(Agraph_t *));
	uint8_t *keep = NULL;
	pd_i_view_fold vf = {0};
	pd_status s = b.gpu_cl ? PD_OK : PD_IO;
	if (s == PD_OK && view->kind == PD_VIEW_OVERVIEW) {
		s = build_overview(&b);
	} else if (s == PD_OK && view->kind != PD_VIEW_FULL) {
		/* Graphviz 2.43 leaked the layout of a folded layer view holding kv_send nodes
		 * (valgrind, ASan: the DeepSeek pooled example); the hand-over is in the full
		 * picture, the overview and the GPU views */
		b.no_kv = view->kind == PD_VIEW_LAYER && dag->n_pools > 0;
		s = pd_i_view_fold_compute(dag, view, &vf);
		keep = vf.keep;
		b.vf = s == PD_OK ? &vf : NULL;
		if (s == PD_OK && folded(&vf))
			note_view_folded(&b);
	}
	if (s == PD_OK && view->kind != PD_VIEW_OVERVIEW) {
		/* more crossing-minimisation passes let the anchors' order win over the pull of
		 * the hubs between TP pairs (GPUs came out 1, 0, 3, 2, ... in a layer view) */
		ATTR(b.g, AGRAPH, "mclimit", "4");
		s = add_nodes_and_edges(&b, keep);
	}
	if (s == PD_OK && view->kind != PD_VIEW_OVERVIEW)
		s = add_legend(b.g, &b.s, dag->n_pools > 0);
	pd_i_view_fold_release(&vf);
	free(b.gpu_cl);
	if (s != PD_OK) {
		agclose(b.g);
		return NULL;
	}
	return b.g;
}

pd_status pd_export_dot(const pd_dag *dag, const pd_view *view, const char *path,
                        pd_diag_list *diags)
{
	pd_view v = view ? *view : (pd_view){.kind = PD_VIEW_FULL};
	if (v.kind == PD_VIEW_AUTO)
		v.kind = PD_VIEW_FULL; /* a DOT file is data: no size limit */
	PD_CHECK(pd_i_view_range_dag(dag, &v, diags));
	pd_atomic_file af;
	Agraph_t *g = pd_i_dot_build(dag, &v);
	pd_status s = g ? pd_atomic_open(&af, path) : PD_IO;
	if (s == PD_OK) {
		s = pd_i_dot_write(g, af.f);
		if (s == PD_OK)
			s = pd_atomic_commit(&af);
		if (s != PD_OK)
			pd_atomic_abort(&af);
	}
	int err = s != PD_OK ? errno : 0;
	if (g)
		agclose(g);
	if (s != PD_OK)
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write %s: %s", path,
		            strerror(err ? err : EIO));
	return s;
}
