/* lower.c - plan -> per-GPU operator DAGs (DESIGN section 4).
 *
 * Decisions where DESIGN section 4 is silent:
 *  - Node ids: replica, stage, micro-batch, then phase by phase: the prologue (embed /
 *    pp_recv) of every GPU of the stage in stage order; per layer, every GPU's nodes up
 *    to the next collective point, then the members of that point on every GPU, then
 *    its hubs (one per TP group, or one for the stage), and so on; the epilogue
 *    (lm_head, sample / pp_send) last.  So the ids are a topological order of the
 *    graph with collectives contracted (a hub after its members, before anything that
 *    waits for it), which the checks exploit, and members of one collective are
 *    neighbours in memory.
 *  - Edges are appended when their destination is created: comm, then control, then
 *    data edges in frontier order; the collective edges of an instance right after
 *    its hub, in member order.
 *  - A collective member takes a data edge from the previous node on its GPU (o_proj,
 *    ffn, router, the experts); the next node on the GPU takes a data edge from the
 *    member.  Hubs have no out-edges: the contraction in the checks joins them.
 *  - A GPU that hosts no routed expert of a layer goes ep_dispatch -> ep_combine
 *    directly (with EP = 1: router -> next node).  The shared expert, fed by ffn_norm,
 *    joins at ep_combine (or at the next node with EP = 1) like a routed expert.
 *  - Tokens of a MoE layer are dispatched over the whole stage even when attention runs
 *    in several TP groups; MoE layers have no tp_* collective (DESIGN lists none).
 *  - layer is -1 for embed, lm_head, sample, pp_send and pp_recv; hubs carry the layer
 *    of their collective; expert is -1 except on `expert` nodes.
 *  - pp_send cost: the receiving attention group's activations over NVLink when both
 *    GPUs share a node, over the network otherwise.  The pp_recv carries the same
 *    bytes but no time, so the critical path counts one transfer once.
 *  - The micro-batch control edges go from every node of the GPU's final frontier
 *    (sample / lm_head, its pp_sends, or, on a GPU with no pp_send, the last layer's
 *    last nodes) to the first node of the next micro-batch.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "dag/dag_internal.h"

/* Shape of one stage as the lowering and the counting see it. */
typedef struct stage_info {
	const pd_stage *st;
	uint32_t S;          /* GPUs */
	uint32_t tp, groups; /* TP and S / TP attention groups */
	uint32_t tp_points;  /* collectives after attention/dense ffn: 0, 1 or 2 */
	bool ep_coll;        /* EP > 1: dispatch and combine */
	bool first, last;
	uint32_t next_size;
	int64_t nl, n_moe, n_dense; /* layers */
	int64_t n_moe_pred;         /* layers whose previous layer (in the stage) is MoE */
	bool last_is_moe;
	uint32_t sh; /* 1 when the model has shared experts */
} stage_info;

/* Layers l in [lo, hi] with l >= from. */
static int64_t count_from(int64_t lo, int64_t hi, int64_t from)
{
	int64_t start = lo > from ? lo : from;
	return hi >= start ? hi - start + 1 : 0;
}

static void stage_info_init(const pd_plan *p, const pd_replica *r, uint32_t s,
                            stage_info *si)
{
	const pd_stage *st = &r->stages[s];
	memset(si, 0, sizeof(*si));
	si->st = st;
	si->S = st->n_gpus;
	si->tp = st->tp > 0 ? (uint32_t)st->tp : 1;
	si->groups = si->S / si->tp;
	si->tp_points = si->tp > 1 ? (st->sp ? 2 : 1) : 0;
	si->ep_coll = st->ep > 1;
	si->first = s == 0;
	si->last = s + 1 == r->n_stages;
	si->next_size = si->last ? 0 : r->stages[s + 1].n_gpus;
	si->sh = p->model.shared_experts > 0;
	/* layers l >= first_moe are MoE (pd_model_layer_is_moe), so the counts have a closed
	 * form: a loop over the layers of every stage of every replica would cost
	 * replicas x layers (10^9 steps for 100 000 replicas of 10 000 layers) */
	int64_t a = st->first_layer, b = st->last_layer;
	int64_t first_moe = p->model.experts > 0 ? p->model.first_dense : INT64_MAX;
	si->nl = b >= a ? b - a + 1 : 0;
	si->n_moe = count_from(a, b, first_moe);
	si->n_dense = si->nl - si->n_moe;
	si->n_moe_pred = count_from(a, b - 1, first_moe);
	si->last_is_moe = si->nl > 0 && pd_model_layer_is_moe(&p->model, b);
}

/* Routed experts hosted by GPU index gi of the stage. */
static void hosted_counts(const pd_plan *p, const pd_stage *st, uint32_t *h)
{
	memset(h, 0, st->n_gpus * sizeof(uint32_t));
	for (int64_t e = 0; st->expert_host && e < p->model.experts; e++)
		if (st->expert_host[e] >= 0 && (uint32_t)st->expert_host[e] < st->n_gpus)
			h[st->expert_host[e]]++;
}

/* hosted_counts of st into *h unless *counted, the stage *h was counted for, has the same
 * expert layout: stages share one expert_host array (expand.c), and walking 65 536
 * experts for each of 10 000 stages would make the count quadratic. */
static pd_status stage_counts(const pd_plan *p, const pd_stage *st, uint32_t **h,
                              const pd_stage **counted)
{
	if (*counted && (*counted)->expert_host == st->expert_host &&
	    (*counted)->n_gpus == st->n_gpus)
		return PD_OK;
	uint32_t *nh = realloc(*h, (st->n_gpus ? st->n_gpus : 1) * sizeof(uint32_t));
	if (!nh)
		return PD_IO;
	*h = nh;
	hosted_counts(p, st, nh);
	*counted = st;
	return PD_OK;
}

/* pp_sends on GPU index gi: one per j < next_size with j mod S = gi. */
static uint64_t sends_of(const stage_info *si, uint32_t gi)
{
	if (si->last || gi >= si->next_size)
		return 0;
	return (si->next_size - gi + si->S - 1) / si->S;
}

/* Nodes and edges of one GPU over all micro-batches, by the formula of section 4:
 * the frontier (nodes the next node depends on) is 1 everywhere except after the
 * experts of a MoE layer without ep_combine and before the first node of a
 * micro-batch on a GPU that ends with several pp_sends. */
static void count_gpu(const stage_info *si, uint64_t h, uint64_t sends, bool decode,
                      uint64_t mb, uint64_t *nodes, uint64_t *edges)
{
	uint64_t tpn = si->tp_points, tpe = 2 * tpn, ep = si->ep_coll, sh = si->sh;
	uint64_t nl = (uint64_t)si->nl, nd = (uint64_t)si->n_dense, nm = (uint64_t)si->n_moe;
	uint64_t fan = (h > 0 ? h : 1) + sh; /* after routed + shared experts */
	uint64_t fm = ep ? 1 : fan;          /* after a MoE layer */
	uint64_t f_end = nl && si->last_is_moe ? fm : 1;
	uint64_t n = 1 + nl * (4 + tpn) + nd * (2 + tpn) + nm * (2 + 2 * ep + h + sh) +
	             (si->last ? 1 + (uint64_t)decode : sends);
	uint64_t e = si->first ? 0 : 1;
	if (nl)
		e += 1 + (uint64_t)si->n_moe_pred * fm + (nl - 1 - (uint64_t)si->n_moe_pred);
	e += nl * (3 + tpe) + nd * (2 + tpe) + nm * (2 + h + sh + (ep ? 3 + fan : 0));
	e += si->last ? f_end + (uint64_t)decode : sends * f_end;
	uint64_t f_final = si->last ? 1 : (sends ? sends : f_end);
	*nodes = mb * n;
	*edges = mb * e + (mb - 1) * f_final;
}

/* Hubs of one stage over all micro-batches. */
static uint64_t count_hubs(const stage_info *si, uint64_t mb)
{
	uint64_t tp = (uint64_t)si->tp_points * si->groups;
	return mb *
	       ((uint64_t)(si->nl + si->n_dense) * tp + (uint64_t)si->n_moe * 2 * si->ep_coll);
}

/* Nodes (hubs apart) and edges of the GPUs that match f (-1 = any), and the hubs of the
 * stages that have such a GPU. */
typedef struct count_filter {
	int32_t replica, stage, gpu;
} count_filter;

static int gpu_matches(const count_filter *f, const pd_stage *st, uint32_t g)
{
	return f->gpu < 0 || (st->gpus && st->gpus[g] == f->gpu);
}

static pd_status count_part(const pd_plan *plan, const count_filter *f, uint64_t out[3])
{
	uint64_t mb =
	    plan->workload.micro_batches > 0 ? (uint64_t)plan->workload.micro_batches : 1;
	bool decode = plan->workload.phase == PD_DECODE;
	uint32_t *h = NULL;
	const pd_stage *counted = NULL; /* whose expert layout h holds */
	for (uint32_t r = 0; r < plan->strategy.n_replicas; r++) {
		const pd_replica *rep = &plan->strategy.replicas[r];
		for (uint32_t s = 0; s < rep->n_stages; s++) {
			if ((f->replica >= 0 && (uint32_t)f->replica != r) ||
			    (f->stage >= 0 && (uint32_t)f->stage != s))
				continue;
			stage_info si;
			stage_info_init(plan, rep, s, &si);
			if (stage_counts(plan, si.st, &h, &counted) != PD_OK) {
				free(h);
				return PD_IO;
			}
			int any = 0;
			for (uint32_t g = 0; g < si.S; g++) {
				if (!gpu_matches(f, si.st, g))
					continue;
				uint64_t n, e;
				count_gpu(&si, h[g], sends_of(&si, g), decode, mb, &n, &e);
				out[0] += n;
				out[1] += e;
				any = 1;
			}
			out[2] += any || f->gpu < 0 ? count_hubs(&si, mb) : 0;
		}
	}
	free(h);
	return PD_OK;
}

pd_status pd_dag_count(const pd_plan *plan, uint64_t *nodes, uint64_t *edges)
{
	uint64_t out[3] = {0, 0, 0};
	count_filter all = {-1, -1, -1};
	pd_status s = count_part(plan, &all, out);
	*nodes = out[0] + out[2];
	*edges = out[1];
	return s;
}

pd_status pd_dag_count_part(const pd_plan *plan, int32_t replica, int32_t stage,
                            int32_t gpu, uint64_t *nodes, uint64_t *hubs)
{
	uint64_t out[3] = {0, 0, 0};
	count_filter f = {replica, stage, gpu};
	pd_status s = count_part(plan, &f, out);
	*nodes = out[0];
	*hubs = out[2];
	return s;
}

/* The lowering's working state.  Node and edge arrays are reserved exactly once, so
 * the emitters write straight into them. */
typedef struct lower_ctx {
	const pd_plan *plan;
	pd_dag *dag;
	bool decode, overflow;
	int32_t r, s, mb, mbs; /* current replica, stage, micro-batch; micro-batches */
	stage_info si;
	const int32_t *gpus, *next_gpus;
	pd_i_costs c;
	uint32_t pp_in;     /* pp_recv cost: the previous stage's c.pp_recv */
	uint32_t *tp_group; /* interned group of each TP group */
	uint32_t ep_group;
	uint32_t *host_off, *host;   /* experts hosted by each GPU index (CSR) */
	uint32_t *front, *nfront, F; /* frontier of each GPU: F slots each */
	uint32_t *tmp;               /* F scratch slots */
	uint32_t *members, *norms;   /* per GPU index: member of the current collective,
	                              * ffn_norm of the current layer */
	uint32_t *hub_cost;          /* per TP group */
	uint32_t *recv_from;         /* pp_send ids of the boundary before: [mb*S + j] */
	uint32_t *send_to;           /* pp_send ids of the boundary after: [mb*next + j] */
} lower_ctx;

static uint32_t node(lower_ctx *x, pd_node_kind kind, int32_t gpu, int32_t layer,
                     int32_t expert, uint32_t cost)
{
	pd_dag *d = x->dag;
	assert(d->n_nodes < d->cap_nodes);
	if (d->n_nodes >= d->cap_nodes) {
		x->overflow = true;
		return 0;
	}
	pd_node *v = &d->nodes[d->n_nodes];
	*v = (pd_node){.gpu = gpu,
	               .replica = x->r,
	               .stage = x->s,
	               .layer = layer,
	               .micro_batch = x->mb,
	               .expert = expert,
	               .cost = cost,
	               .kind = (uint8_t)kind};
	return d->n_nodes++;
}

static void edge(lower_ctx *x, uint32_t src, uint32_t dst, pd_edge_kind kind)
{
	pd_dag *d = x->dag;
	assert(d->n_edges < d->cap_edges);
	if (d->n_edges >= d->cap_edges) {
		x->overflow = true;
		return;
	}
	d->edges[d->n_edges++] = (pd_edge){.src = src, .dst = dst, .kind = (uint8_t)kind};
}

/* v depends on the whole frontier of GPU gi and becomes its frontier. */
static void join(lower_ctx *x, uint32_t gi, uint32_t v, pd_edge_kind kind)
{
	uint32_t *f = x->front + (size_t)gi * x->F;
	for (uint32_t k = 0; k < x->nfront[gi]; k++)
		edge(x, f[k], v, kind);
	f[0] = v;
	x->nfront[gi] = 1;
}

static uint32_t chain(lower_ctx *x, uint32_t gi, pd_node_kind kind, int32_t layer,
                      uint32_t cost)
{
	uint32_t v = node(x, kind, x->gpus[gi], layer, -1, cost);
	join(x, gi, v, PD_E_DATA);
	return v;
}

/* One hub per collective instance, created after its members (members[gi] holds the
 * member of GPU index gi); group_size GPUs per instance, consecutive in the stage. */
static void hubs_after(lower_ctx *x, int32_t layer, uint32_t group_size, uint32_t n_groups,
                       const uint32_t *group, const uint32_t *cost)
{
	for (uint32_t k = 0; k < n_groups; k++) {
		uint32_t h = node(x, PD_N_COLLECTIVE, -1, layer, (int32_t)group[k], cost[k]);
		for (uint32_t gi = k * group_size; gi < (k + 1) * group_size; gi++)
			edge(x, x->members[gi], h, PD_E_COLLECTIVE);
	}
}

/* One tp_* point on every GPU: the members, then one hub per TP group.  `which` is
 * the offset of the point's costs in pd_i_tp_costs. */
static void tp_round(lower_ctx *x, int32_t layer, pd_node_kind kind, size_t which)
{
	uint32_t G = x->si.groups;
	for (uint32_t gi = 0; gi < x->si.S; gi++) {
		const uint32_t *c =
		    (const uint32_t *)((const char *)&x->c.tp[gi / x->si.tp] + which);
		x->members[gi] = chain(x, gi, kind, layer, c[0]);
	}
	for (uint32_t k = 0; k < G; k++)
		x->hub_cost[k] = ((const uint32_t *)((const char *)&x->c.tp[k] + which))[1];
	hubs_after(x, layer, x->si.tp, G, x->tp_group, x->hub_cost);
}

/* tp_allreduce, or tp_reduce_scatter -> tp_all_gather with SP, after a block. */
static void tp_point(lower_ctx *x, int32_t layer)
{
	if (x->si.tp_points == 1)
		tp_round(x, layer, PD_N_TP_ALLREDUCE, offsetof(pd_i_tp_costs, allreduce));
	if (x->si.tp_points == 2) {
		tp_round(x, layer, PD_N_TP_REDUCE_SCATTER, offsetof(pd_i_tp_costs, reduce_scatter));
		tp_round(x, layer, PD_N_TP_ALL_GATHER, offsetof(pd_i_tp_costs, all_gather));
	}
}

/* ep_dispatch / ep_combine: members on every GPU, one hub for the stage. */
static void ep_round(lower_ctx *x, int32_t layer, pd_node_kind kind, const uint32_t cost[2])
{
	for (uint32_t gi = 0; gi < x->si.S; gi++)
		x->members[gi] = chain(x, gi, kind, layer, cost[0]);
	hubs_after(x, layer, x->si.S, 1, &x->ep_group, &cost[1]);
}

/* Routed experts hosted on gi (fed by dispatch or router) and the shared expert (fed
 * by ffn_norm) become the GPU's frontier. */
static void experts(lower_ctx *x, uint32_t gi, int32_t layer)
{
	uint32_t base = x->front[(size_t)gi * x->F], nf = 0;
	for (uint32_t i = x->host_off[gi]; i < x->host_off[gi + 1]; i++) {
		uint32_t v =
		    node(x, PD_N_EXPERT, x->gpus[gi], layer, (int32_t)x->host[i], x->c.expert);
		edge(x, base, v, PD_E_DATA);
		x->tmp[nf++] = v;
	}
	if (nf == 0)
		x->tmp[nf++] = base; /* no expert here: dispatch (router) feeds the join */
	if (x->si.sh) {
		uint32_t v =
		    node(x, PD_N_SHARED_EXPERT, x->gpus[gi], layer, -1, x->c.shared_expert);
		edge(x, x->norms[gi], v, PD_E_DATA);
		x->tmp[nf++] = v;
	}
	memcpy(x->front + (size_t)gi * x->F, x->tmp, nf * sizeof(uint32_t));
	x->nfront[gi] = nf;
}

/* ffn_norm -> router [-> ep_dispatch] -> experts || shared_expert [-> ep_combine] */
static void moe_phases(lower_ctx *x, int32_t layer)
{
	for (uint32_t gi = 0; gi < x->si.S; gi++) {
		x->norms[gi] = chain(x, gi, PD_N_FFN_NORM, layer, x->c.ffn_norm);
		chain(x, gi, PD_N_ROUTER, layer, x->c.router);
	}
	if (x->si.ep_coll)
		ep_round(x, layer, PD_N_EP_DISPATCH, x->c.ep_dispatch);
	for (uint32_t gi = 0; gi < x->si.S; gi++)
		experts(x, gi, layer);
	if (x->si.ep_coll)
		ep_round(x, layer, PD_N_EP_COMBINE, x->c.ep_combine);
}

/* One layer on every GPU of the stage, phase by phase: every GPU's nodes up to a
 * collective, the members, the hubs, and so on.  Ids are thus a topological order
 * of the contracted graph (a hub after its members, before their successors). */
static void layer_segment(lower_ctx *x, int32_t layer)
{
	for (uint32_t gi = 0; gi < x->si.S; gi++) {
		chain(x, gi, PD_N_ATTN_NORM, layer, x->c.attn_norm);
		chain(x, gi, PD_N_QKV, layer, x->c.qkv);
		chain(x, gi, PD_N_ATTENTION, layer, x->c.attention);
		chain(x, gi, PD_N_O_PROJ, layer, x->c.o_proj);
	}
	tp_point(x, layer);
	if (pd_model_layer_is_moe(&x->plan->model, layer)) {
		moe_phases(x, layer);
		return;
	}
	for (uint32_t gi = 0; gi < x->si.S; gi++) {
		chain(x, gi, PD_N_FFN_NORM, layer, x->c.ffn_norm);
		chain(x, gi, PD_N_FFN, layer, x->c.ffn);
	}
	tp_point(x, layer);
}

static bool same_node(const pd_plan *p, int32_t a, int32_t b)
{
	int64_t per = p->cluster.gpus_per_node > 0 ? p->cluster.gpus_per_node : 1;
	return a / per == b / per;
}

/* embed on stage 0, else pp_recv from GPU j mod size(s-1) of the previous stage (its
 * pp_send recorded the id); the
 * control edges of the micro-batch order come from the GPU's last frontier. */
static void prologue(lower_ctx *x)
{
	for (uint32_t gi = 0; gi < x->si.S; gi++) {
		if (x->si.first) {
			uint32_t v = node(x, PD_N_EMBED, x->gpus[gi], -1, -1, x->c.embed);
			join(x, gi, v, PD_E_CONTROL);
			continue;
		}
		uint32_t v = node(x, PD_N_PP_RECV, x->gpus[gi], -1, -1, x->pp_in);
		edge(x, x->recv_from[(size_t)x->mb * x->si.S + gi], v, PD_E_COMM);
		join(x, gi, v, PD_E_CONTROL);
	}
}

/* Last stage: lm_head [-> sample]; earlier: one pp_send per GPU j of the next stage
 * with j mod S = gi, each fed by the GPU's frontier. */
static void epilogue(lower_ctx *x)
{
	for (uint32_t gi = 0; gi < x->si.S; gi++) {
		if (x->si.last) {
			chain(x, gi, PD_N_LM_HEAD, -1, x->c.lm_head);
			if (x->decode)
				chain(x, gi, PD_N_SAMPLE, -1, x->c.sample);
			continue;
		}
		uint32_t *f = x->front + (size_t)gi * x->F, ns = 0;
		for (uint32_t j = gi; j < x->si.next_size; j += x->si.S) {
			uint32_t cost = x->c.pp[!same_node(x->plan, x->gpus[gi], x->next_gpus[j])];
			uint32_t v = node(x, PD_N_PP_SEND, x->gpus[gi], -1, -1, cost);
			for (uint32_t k = 0; k < x->nfront[gi]; k++)
				edge(x, f[k], v, PD_E_DATA);
			x->send_to[(size_t)x->mb * x->si.next_size + j] = v;
			x->tmp[ns++] = v;
		}
		if (ns) {
			memcpy(f, x->tmp, ns * sizeof(uint32_t));
			x->nfront[gi] = ns;
		}
	}
}

static void lower_stage_body(lower_ctx *x)
{
	const pd_stage *st = x->si.st;
	for (x->mb = 0; x->mb < x->mbs; x->mb++) {
		prologue(x);
		for (int64_t l = st->first_layer; l <= st->last_layer; l++)
			layer_segment(x, (int32_t)l);
		epilogue(x);
	}
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Interns the n GPUs at gpus (any order) as a sorted group. */
static pd_status intern_sorted(pd_dag *d, const int32_t *gpus, uint32_t n, uint32_t *idx)
{
	int32_t *tmp = malloc((n ? n : 1) * sizeof(int32_t));
	if (!tmp)
		return PD_IO;
	memcpy(tmp, gpus, n * sizeof(int32_t));
	qsort(tmp, n, sizeof(int32_t), cmp_i32);
	pd_status s = pd_dag_intern_group(d, tmp, n, idx);
	free(tmp);
	return s;
}

static pd_status grow_u32(uint32_t **p, size_t n)
{
	uint32_t *q = realloc(*p, (n ? n : 1) * sizeof(uint32_t));
	if (!q)
		return PD_IO;
	*p = q;
	return PD_OK;
}

/* Hosted experts per GPU index as CSR, experts ascending; sizes the frontier. */
static pd_status stage_hosts(lower_ctx *x)
{
	const pd_stage *st = x->si.st;
	uint32_t S = x->si.S, E = (uint32_t)x->plan->model.experts, hmax = 0;
	PD_CHECK(grow_u32(&x->host_off, (size_t)S + 1));
	PD_CHECK(grow_u32(&x->host, E));
	PD_CHECK(grow_u32(&x->tmp, (size_t)S + 1));
	hosted_counts(x->plan, st, x->host_off + 1);
	x->host_off[0] = 0;
	for (uint32_t g = 0; g < S; g++) {
		hmax = x->host_off[g + 1] > hmax ? x->host_off[g + 1] : hmax;
		x->host_off[g + 1] += x->host_off[g];
	}
	memcpy(x->tmp, x->host_off, (size_t)S * sizeof(uint32_t)); /* insertion cursors */
	for (uint32_t e = 0; st->expert_host && e < E; e++) {
		int32_t g = st->expert_host[e];
		if (g >= 0 && (uint32_t)g < S)
			x->host[x->tmp[g]++] = e;
	}
	/* frontier: hosted experts + shared expert, or the pp_sends of GPU 0 */
	x->F = hmax + 2;
	uint32_t sends = (uint32_t)sends_of(&x->si, 0);
	if (sends + 1 > x->F)
		x->F = sends + 1;
	PD_CHECK(grow_u32(&x->front, (size_t)S * x->F));
	PD_CHECK(grow_u32(&x->nfront, S));
	PD_CHECK(grow_u32(&x->tmp, x->F > S + 1 ? x->F : S + 1));
	memset(x->nfront, 0, S * sizeof(uint32_t));
	return PD_OK;
}

/* Interned TP groups (consecutive TP GPUs of the stage) and the EP group. */
static pd_status stage_groups(lower_ctx *x)
{
	uint32_t G = x->si.groups, tp = x->si.tp;
	PD_CHECK(grow_u32(&x->tp_group, G));
	for (uint32_t k = 0; x->si.tp_points && k < G; k++)
		PD_CHECK(intern_sorted(x->dag, x->gpus + (size_t)k * tp, tp, &x->tp_group[k]));
	if (x->si.ep_coll)
		PD_CHECK(intern_sorted(x->dag, x->gpus, x->si.S, &x->ep_group));
	return PD_OK;
}

static pd_status stage_begin(lower_ctx *x, const pd_replica *rep, uint32_t s)
{
	stage_info_init(x->plan, rep, s, &x->si);
	if (x->si.S == 0 || x->si.S % x->si.tp != 0)
		return PD_IO; /* validation refuses such plans: not lowerable */
	x->gpus = rep->stages[s].gpus;
	x->next_gpus = x->si.last ? NULL : rep->stages[s + 1].gpus;
	x->pp_in = x->c.pp_recv;
	pd_i_tp_costs *tc = realloc(x->c.tp, (x->si.groups ? x->si.groups : 1) * sizeof(*tc));
	if (!tc)
		return PD_IO;
	x->c.tp = tc;
	x->c.n_tp = x->si.groups;
	pd_i_stage_shape sh = {.plan = x->plan,
	                       .stage_size = x->si.S,
	                       .tp = x->si.tp,
	                       .sp = x->si.st->sp,
	                       .gpus = x->gpus,
	                       .next_size = x->si.next_size,
	                       .next_tp = x->si.last ? 1 : rep->stages[s + 1].tp};
	PD_CHECK(pd_i_costs_stage(x->dag, &sh, &x->c));
	PD_CHECK(stage_groups(x));
	PD_CHECK(stage_hosts(x));
	PD_CHECK(grow_u32(&x->members, x->si.S));
	PD_CHECK(grow_u32(&x->norms, x->si.S));
	PD_CHECK(grow_u32(&x->hub_cost, x->si.groups));
	return grow_u32(&x->send_to, (size_t)x->mbs * x->si.next_size);
}

static void ctx_release(lower_ctx *x)
{
	free(x->c.tp);
	free(x->tp_group);
	free(x->host_off);
	free(x->host);
	free(x->front);
	free(x->nfront);
	free(x->tmp);
	free(x->members);
	free(x->norms);
	free(x->hub_cost);
	free(x->recv_from);
	free(x->send_to);
}

static pd_status lower_all(lower_ctx *x)
{
	const pd_strategy *st = &x->plan->strategy;
	for (uint32_t r = 0; r < st->n_replicas; r++) {
		const pd_replica *rep = &st->replicas[r];
		x->r = (int32_t)r;
		for (uint32_t s = 0; s < rep->n_stages; s++) {
			x->s = (int32_t)s;
			PD_CHECK(stage_begin(x, rep, s));
			lower_stage_body(x);
			uint32_t *t = x->recv_from; /* this stage's sends feed the next */
			x->recv_from = x->send_to;
			x->send_to = t;
		}
	}
	return x->overflow ? PD_IO : PD_OK;
}

/* GPU -> (replica, stage, memory) of the plan. */
static pd_status fill_gpus(pd_dag *d, const pd_plan *p, const pd_analysis *an)
{
	int64_t n = pd_cluster_gpus(&p->cluster);
	if (n < 0 || n > PD_MAX_GPUS)
		return PD_IO;
	d->n_gpus = (int32_t)n;
	d->gpus_per_node = (int32_t)p->cluster.gpus_per_node;
	d->gpu_capacity = p->cluster.gpu_memory;
	d->gpu = calloc(n ? (size_t)n : 1, sizeof(pd_dag_gpu));
	if (!d->gpu)
		return PD_IO;
	for (int64_t g = 0; g < n; g++)
		d->gpu[g].replica = d->gpu[g].stage = -1;
	for (uint32_t r = 0; r < p->strategy.n_replicas; r++) {
		const pd_replica *rep = &p->strategy.replicas[r];
		for (uint32_t s = 0; s < rep->n_stages; s++)
			for (uint32_t i = 0; i < rep->stages[s].n_gpus; i++) {
				int32_t g = rep->stages[s].gpus[i];
				if (g >= 0 && g < n)
					d->gpu[g] = (pd_dag_gpu){(int32_t)r, (int32_t)s, 0};
			}
	}
	for (uint32_t i = 0; an && i < an->n_memory; i++)
		if (an->memory[i].gpu >= 0 && an->memory[i].gpu < n)
			d->gpu[an->memory[i].gpu].memory = an->memory[i].total;
	return PD_OK;
}

/* One pd_dag_stage per (replica, stage) with the cluster id hosting each expert. */
static pd_status fill_stages(pd_dag *d, const pd_plan *p)
{
	uint32_t n = 0, E = (uint32_t)p->model.experts;
	for (uint32_t r = 0; r < p->strategy.n_replicas; r++)
		n += p->strategy.replicas[r].n_stages;
	d->stages = calloc(n ? n : 1, sizeof(pd_dag_stage));
	if (!d->stages)
		return PD_IO;
	for (uint32_t r = 0; r < p->strategy.n_replicas; r++) {
		const pd_replica *rep = &p->strategy.replicas[r];
		for (uint32_t s = 0; s < rep->n_stages; s++) {
			const pd_stage *st = &rep->stages[s];
			pd_dag_stage *ds = &d->stages[d->n_stages++];
			*ds = (pd_dag_stage){(int32_t)r, (int32_t)s, (int32_t)E, NULL};
			ds->expert_gpu = malloc((E ? E : 1) * sizeof(int32_t));
			if (!ds->expert_gpu)
				return PD_IO;
			for (uint32_t e = 0; e < E; e++) {
				int32_t h = st->expert_host ? st->expert_host[e] : -1;
				ds->expert_gpu[e] = h >= 0 && (uint32_t)h < st->n_gpus ? st->gpus[h] : -1;
			}
		}
	}
	return PD_OK;
}

static pd_status fill_context(pd_dag *d, const pd_plan *p, const pd_analysis *an)
{
	const pd_workload *w = &p->workload;
	d->name = p->name;
	d->n_replicas = (int32_t)p->strategy.n_replicas;
	d->micro_batches = w->micro_batches > 0 ? (int32_t)w->micro_batches : 1;
	d->phase = w->phase;
	d->step_tokens = (double)w->batch * (w->phase == PD_PREFILL ? (double)w->context : 1);
	PD_CHECK(fill_gpus(d, p, an));
	return fill_stages(d, p);
}

static pd_status lower_into(pd_dag *d, const pd_plan *plan, const pd_analysis *an)
{
	uint64_t nn, ne;
	PD_CHECK(pd_dag_count(plan, &nn, &ne));
	if (nn >= UINT32_MAX || ne >= UINT32_MAX)
		return PD_IO;
	PD_CHECK(pd_dag_reserve(d, (uint32_t)nn, (uint32_t)ne));
	PD_CHECK(fill_context(d, plan, an));
	lower_ctx x = {.plan = plan,
	               .dag = d,
	               .decode = plan->workload.phase == PD_DECODE,
	               .mbs = d->micro_batches};
	pd_status s = lower_all(&x);
	ctx_release(&x);
	PD_CHECK(s);
	/* the formula of pd_dag_count and the construction must agree exactly */
	assert(d->n_nodes == nn && d->n_edges == ne);
	if (d->n_nodes != nn || d->n_edges != ne)
		return PD_IO;
	return pd_dag_finalize(d);
}

pd_status pd_dag_lower(const pd_plan *plan, const pd_analysis *an, pd_dag **out)
{
	*out = NULL;
	pd_dag *d = pd_dag_create();
	if (!d)
		return PD_IO;
	pd_status s = lower_into(d, plan, an);
	if (s != PD_OK) {
		pd_dag_destroy(d);
		return s;
	}
	*out = d;
	return PD_OK;
}
