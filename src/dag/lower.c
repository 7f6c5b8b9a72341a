/* lower.c - plan -> per-GPU operator DAGs (README.md, "Lowering").
 *
 * Decisions beyond what README.md says about lowering:
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
 *    in several TP groups; MoE layers have no tp_* collective.
 *  - layer is -1 for embed, lm_head, sample, pp_send and pp_recv; hubs carry the layer
 *    of their collective; expert is -1 except on `expert` nodes.
 *  - pp_send cost: the receiving attention group's activations (the receiving GPU's
 *    1/TP sequence shard when the next stage runs SP) over NVLink when both
 *    GPUs share a node, over the network otherwise.  The pp_recv carries the same
 *    bytes but no time, so the critical path counts one transfer once.
 *  - The micro-batch control edges go from every node of the GPU's final frontier
 *    (sample / lm_head, its pp_sends, or, on a GPU with no pp_send, the last layer's
 *    last nodes) to the first node of the next micro-batch.
 *
 * One emitter serves pd_dag_lower and pd_dag_count: its sink (node, edge, hubs_after)
 * writes into the DAG or, with no DAG, only counts (see "counting" below).
 */
#include <stdlib.h>
#include <string.h>

#include "dag/dag_internal.h"
#include "dag/ops.h"
#include "plan/layout.h"

/* Shape of one stage as the emitter sees it. */
typedef struct stage_info {
	const pd_stage *st;
	uint32_t S;            /* GPUs */
	uint32_t tp, groups;   /* TP and S / TP attention groups */
	uint32_t tp_points;    /* collectives after attention/dense ffn: 0, 1 or 2 */
	uint32_t dtp, dgroups; /* TP of the dense FFN layers and its groups */
	bool reshard;          /* dense FFN at a TP of its own: re-sharding collectives */
	bool ep_coll;          /* EP > 1: dispatch and combine */
	bool first, last;
	uint32_t next_size;
	uint32_t sh; /* 1 when the model has shared experts */
} stage_info;

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
	/* dense layers in the stage (the leading first-dense ones, or all of a dense model);
	 * a <dense-ffn tp> on a stage without any is unused (a warning): TP stays tp */
	bool dense = p->model.experts <= 0 || st->first_layer < p->model.first_dense;
	si->dtp = dense ? (uint32_t)pd_stage_dense_tp(st) : si->tp;
	si->dgroups = si->S / si->dtp;
	si->reshard = si->dtp != si->tp && dense;
	si->ep_coll = st->ep > 1;
	si->first = s == 0;
	si->last = s + 1 == r->n_stages;
	si->next_size = si->last ? 0 : r->stages[s + 1].n_gpus;
	si->sh = p->model.shared_experts > 0;
	/* validation refuses such plans: lowering or counting one is a bug */
	PD_ASSERT(si->S > 0 && si->S % si->tp == 0 && si->S % si->dtp == 0);
}

/* pp_sends on GPU index gi: one per j < next_size with j mod S = gi. */
static uint32_t sends_of(const stage_info *si, uint32_t gi)
{
	if (si->last || gi >= si->next_size)
		return 0;
	return (si->next_size - gi + si->S - 1) / si->S;
}

/* GPUs that the emitter cannot tell apart (same experts hosted, same pp_sends) form one
 * lane when counting: gi is one of them, w how many. */
typedef struct lane {
	uint32_t h, sends, gi;
	uint64_t w;
} lane;

/* The emitter's working state.  Lowering: `dag` is the DAG, whose node and edge arrays
 * are reserved exactly once, so the emitter writes straight into them; lane i is GPU
 * index i of the stage.  Counting (pd_dag_count): `dag` is NULL, the sink only adds up
 * n_nodes and n_edges, and the emitter walks one lane per class of GPUs. */
typedef struct lower_ctx {
	const pd_plan *plan;
	pd_dag *dag;
	bool decode;
	int32_t r, s, mb, mbs; /* current replica, stage, micro-batch; micro-batches */
	stage_info si;
	const int32_t *gpus, *next_gpus;
	pd_i_costs c;
	uint32_t pp_in;      /* pp_recv cost: the previous stage's c.pp_recv */
	uint32_t *tp_group;  /* interned group of each TP group */
	uint32_t *dtp_group; /* interned group of each dense FFN TP group */
	uint32_t ep_group;
	const pd_i_expert_layout *lay; /* the stage's experts; NULL for a dense model */
	uint32_t *expert_cost;         /* cost of an expert node by the copies of its expert */
	uint32_t *busy_cost;           /* the same on the stage's GPU 0 (inside expert_cost) */
	uint32_t n_lanes;              /* S when lowering */
	lane *lanes;                   /* counting only */
	uint32_t *front, *nfront, F;   /* frontier of each lane: F slots each */
	bool overlap;                  /* two-batch overlap: the halves interleave */
	uint32_t *front2, *nfront2;    /* the other half's frontier (overlap) */
	uint32_t *norms2;              /* the other half's ffn_norm of each lane */
	uint32_t *tmp;                 /* F scratch slots */
	uint32_t *members, *norms;     /* per lane: member of the current collective,
	                                * ffn_norm of the current layer */
	uint32_t *hub_cost;            /* per TP group */
	uint32_t *recv_from;           /* pp_send ids of the boundary before: [mb*S + j] */
	uint32_t *send_to;             /* pp_send ids of the boundary after: [mb*next + j] */
	uint64_t n_nodes, n_edges;     /* counting: the sink */
	uint64_t *lane_nodes, n_hubs;  /* counting: nodes of one GPU of each lane, hubs */
	/* a pooled plan: `plan` is one pool's view, `whole` the plan (NULL otherwise) */
	const pd_plan *whole;
	uint8_t phase;      /* of every node emitted: the pool's */
	int32_t r_base;     /* replica of the view's replica 0 in the whole strategy */
	bool handover;      /* the prefill pool: its stages send their KV (kv_send) */
	uint32_t *kv_attn;  /* lowering: last attention node of [layer - first][lane] */
	struct kv_pending { /* lowering: kv_sends waiting for their kv_recv */
		uint32_t send;
		int32_t gpu, replica, stage, layer;
		double bytes;
	} * pend;
	size_t n_pend, cap_pend;
	pd_status kv_status; /* PD_IO once the hand-over ran out of memory */
} lower_ctx;

/* The sink is called once per node and edge: keep it inlined into the emitter. */
#define HOT static inline __attribute__((always_inline))

/* GPU index of the stage that lane li stands for. */
HOT uint32_t lane_gpu(const lower_ctx *x, uint32_t li)
{
	return x->lanes ? x->lanes[li].gi : li;
}

/* A node on lane li (its GPU) or, with li = UINT32_MAX, a hub. */
HOT uint32_t node(lower_ctx *x, uint32_t li, pd_node_kind kind, int32_t layer,
                  int32_t expert, uint32_t cost)
{
	pd_dag *d = x->dag;
	if (!d) {
		if (li == UINT32_MAX) {
			x->n_nodes++;
			x->n_hubs++;
		} else {
			x->n_nodes += x->lanes[li].w;
			x->lane_nodes[li]++;
		}
		return 0;
	}
	PD_ASSERT(d->n_nodes < d->cap_nodes); /* pd_dag_count sized the arrays */
	pd_node *v = &d->nodes[d->n_nodes];
	*v = (pd_node){.gpu = li == UINT32_MAX ? -1 : x->gpus[li],
	               .replica = x->r,
	               .stage = x->s,
	               .layer = layer,
	               .micro_batch = x->mb,
	               .expert = expert,
	               .cost = cost,
	               .kind = (uint8_t)kind,
	               .phase = x->phase};
	return d->n_nodes++;
}

/* An edge whose destination is on lane li. */
HOT void edge(lower_ctx *x, uint32_t li, uint32_t src, uint32_t dst, pd_edge_kind kind)
{
	pd_dag *d = x->dag;
	if (!d) {
		x->n_edges += x->lanes[li].w;
		return;
	}
	PD_ASSERT(d->n_edges < d->cap_edges);
	d->edges[d->n_edges++] = (pd_edge){.src = src, .dst = dst, .kind = (uint8_t)kind};
}

/* v depends on the whole frontier of lane li and becomes its frontier. */
HOT void join(lower_ctx *x, uint32_t li, uint32_t v, pd_edge_kind kind)
{
	uint32_t *f = x->front + (size_t)li * x->F;
	for (uint32_t k = 0; k < x->nfront[li]; k++)
		edge(x, li, f[k], v, kind);
	f[0] = v;
	x->nfront[li] = 1;
}

HOT uint32_t chain(lower_ctx *x, uint32_t li, pd_node_kind kind, int32_t layer,
                   uint32_t cost)
{
	uint32_t v = node(x, li, kind, layer, -1, cost);
	join(x, li, v, PD_E_DATA);
	return v;
}

/* One hub per collective instance, created after its members (members[gi] holds the
 * member of GPU index gi); group_size GPUs per instance, consecutive in the stage. */
static void hubs_after(lower_ctx *x, int32_t layer, uint32_t group_size, uint32_t n_groups,
                       const uint32_t *group, const uint32_t *cost)
{
	if (!x->dag) { /* counting: n_groups hubs, one collective edge per GPU */
		x->n_nodes += n_groups;
		x->n_hubs += n_groups;
		x->n_edges += (uint64_t)n_groups * group_size;
		return;
	}
	for (uint32_t k = 0; k < n_groups; k++) {
		uint32_t h =
		    node(x, UINT32_MAX, PD_N_COLLECTIVE, layer, (int32_t)group[k], cost[k]);
		for (uint32_t gi = k * group_size; gi < (k + 1) * group_size; gi++)
			edge(x, gi, x->members[gi], h, PD_E_COLLECTIVE);
	}
}

/* One tp_* point of kind `kind` on every lane: the members, then one hub per TP group,
 * the attention's groups or (dense) those of the dense FFN layers' own TP. */
static void tp_round_in(lower_ctx *x, int32_t layer, pd_node_kind kind, bool dense)
{
	uint32_t k = (uint32_t)(kind - PD_N_TP_ALLREDUCE);
	uint32_t size = dense ? x->si.dtp : x->si.tp, G = dense ? x->si.dgroups : x->si.groups;
	const pd_i_tp_costs *costs = dense ? x->c.dtp : x->c.tp;
	for (uint32_t li = 0; li < x->n_lanes; li++) {
		const pd_i_tp_costs *c = &costs[lane_gpu(x, li) / size];
		x->members[li] = chain(x, li, kind, layer, c->of[k][0]);
	}
	for (uint32_t g = 0; g < G; g++)
		x->hub_cost[g] = costs[g].of[k][1];
	hubs_after(x, layer, size, G, dense ? x->dtp_group : x->tp_group, x->hub_cost);
}

static void tp_round(lower_ctx *x, int32_t layer, pd_node_kind kind)
{
	tp_round_in(x, layer, kind, false);
}

/* tp_allreduce, or tp_reduce_scatter -> tp_all_gather with SP, after a block. */
static void tp_point(lower_ctx *x, int32_t layer)
{
	if (x->si.tp_points == 1)
		tp_round(x, layer, PD_N_TP_ALLREDUCE);
	if (x->si.tp_points == 2) {
		tp_round(x, layer, PD_N_TP_REDUCE_SCATTER);
		tp_round(x, layer, PD_N_TP_ALL_GATHER);
	}
}

/* ep_dispatch / ep_combine: members on every lane, one hub for the stage. */
static void ep_round(lower_ctx *x, int32_t layer, pd_node_kind kind)
{
	const uint32_t *cost = x->c.coll[kind];
	for (uint32_t li = 0; li < x->n_lanes; li++)
		x->members[li] = chain(x, li, kind, layer, cost[0]);
	hubs_after(x, layer, x->si.S, 1, &x->ep_group, &cost[1]);
}

/* The shared expert (fed by ffn_norm) and the routed experts hosted on lane li's GPU
 * (fed by dispatch or router) become the lane's frontier.  The shared expert comes
 * first in id order, so on the GPU's compute stream it runs while the dispatch is on
 * the comm stream.  Every routed expert takes its data edge from the dispatch
 * (router); a control edge from the previous one orders them on the compute stream,
 * as the roofline sums them. */
static void experts(lower_ctx *x, uint32_t li, int32_t layer)
{
	uint32_t base = x->front[(size_t)li * x->F], nf = 0, gi = lane_gpu(x, li), shared = 0;
	if (x->si.sh) {
		shared = node(x, li, PD_N_SHARED_EXPERT, layer, -1, x->c.op[PD_N_SHARED_EXPERT]);
		edge(x, li, x->norms[li], shared, PD_E_DATA);
	}
	for (uint64_t i = x->lay ? x->lay->off[gi] : 0; x->lay && i < x->lay->off[gi + 1];
	     i++) {
		uint32_t e = x->lay->ids[i];
		uint32_t v =
		    node(x, li, PD_N_EXPERT, layer, (int32_t)e,
		         x->dag ? (gi ? x->expert_cost : x->busy_cost)[x->lay->copies[e]] : 0);
		edge(x, li, base, v, PD_E_DATA);
		if (nf)
			edge(x, li, x->tmp[nf - 1], v, PD_E_CONTROL); /* one compute stream */
		x->tmp[nf++] = v;
	}
	if (nf == 0)
		x->tmp[nf++] = base; /* no expert here: dispatch (router) feeds the join */
	if (x->si.sh)
		x->tmp[nf++] = shared;
	memcpy(x->front + (size_t)li * x->F, x->tmp, nf * sizeof(uint32_t));
	x->nfront[li] = nf;
}

/* Dense FFN layers at their own TP N, attention at TP A (docs/models.md, "Dense layers
 * at their own TP"): tokens leave the attention sharded the way the dense TP groups
 * need them and come back whole for the next attention.
 *   SP:    RS(A) [AG(N)] ffn_norm ffn [RS(N)] AG(A)      [..] only when N > 1
 *   no SP: [AR(A)] [AG(N) if N > A] ffn_norm ffn [RS(N)] [AG(A)]   AR/AG(A) when A > 1 */
static void dense_own_tp(lower_ctx *x, int32_t layer)
{
	uint32_t A = x->si.tp, N = x->si.dtp;
	bool sp = x->si.st->sp && A > 1;
	if (sp)
		tp_round(x, layer, PD_N_TP_REDUCE_SCATTER);
	else if (A > 1)
		tp_round(x, layer, PD_N_TP_ALLREDUCE);
	if (N > 1 && (sp || N > A))
		tp_round_in(x, layer, PD_N_TP_ALL_GATHER, true);
	for (uint32_t li = 0; li < x->n_lanes; li++) {
		chain(x, li, PD_N_FFN_NORM, layer, x->c.dense_op[0]);
		chain(x, li, PD_N_FFN, layer, x->c.dense_op[1]);
	}
	if (N > 1)
		tp_round_in(x, layer, PD_N_TP_REDUCE_SCATTER, true);
	if (A > 1)
		tp_round(x, layer, PD_N_TP_ALL_GATHER);
}

/* ffn_norm -> router [-> ep_dispatch]: the first part of a MoE layer */
static void moe_dispatch(lower_ctx *x, int32_t layer)
{
	for (uint32_t li = 0; li < x->n_lanes; li++) {
		x->norms[li] = chain(x, li, PD_N_FFN_NORM, layer, x->c.op[PD_N_FFN_NORM]);
		chain(x, li, PD_N_ROUTER, layer, x->c.op[PD_N_ROUTER]);
	}
	if (x->si.ep_coll)
		ep_round(x, layer, PD_N_EP_DISPATCH);
}

/* experts || shared_expert [-> ep_combine]: the second part */
static void moe_combine(lower_ctx *x, int32_t layer)
{
	for (uint32_t li = 0; li < x->n_lanes; li++)
		experts(x, li, layer);
	if (x->si.ep_coll)
		ep_round(x, layer, PD_N_EP_COMBINE);
}

/* Every lane's chain of the n compute kinds, in order.  Lowering the prefill pool of a
 * pooled plan, each lane's attention node of the layer is remembered: its KV is handed
 * over from there (the last micro-batch's, once all of them have run). */
static void chains(lower_ctx *x, int32_t layer, const pd_node_kind *kinds, size_t n)
{
	for (uint32_t li = 0; li < x->n_lanes; li++)
		for (size_t i = 0; i < n; i++) {
			uint32_t v = chain(x, li, kinds[i], layer, x->c.op[kinds[i]]);
			if (kinds[i] == PD_N_ATTENTION && x->kv_attn)
				x->kv_attn[(size_t)(layer - x->si.st->first_layer) * x->si.S + li] = v;
		}
}

/* The first part of a layer on every GPU of the stage, phase by phase: every GPU's
 * nodes up to a collective, the members, the hubs, and so on (ids are thus a
 * topological order of the contracted graph: a hub after its members, before their
 * successors): attention, then a dense FFN or a MoE layer up to its dispatch. */
static void layer_first(lower_ctx *x, int32_t layer)
{
	static const pd_node_kind ATTENTION[] = {PD_N_ATTN_NORM, PD_N_QKV, PD_N_ATTENTION,
	                                         PD_N_O_PROJ};
	static const pd_node_kind DENSE[] = {PD_N_FFN_NORM, PD_N_FFN};
	chains(x, layer, ATTENTION, 4);
	bool moe = pd_model_layer_is_moe(&x->plan->model, layer);
	if (!moe && x->si.reshard) {
		dense_own_tp(x, layer);
		return;
	}
	tp_point(x, layer);
	if (moe) {
		moe_dispatch(x, layer);
		return;
	}
	chains(x, layer, DENSE, 2);
	tp_point(x, layer);
}

/* The rest of a MoE layer: its experts and combine (nothing for a dense layer). */
static void layer_second(lower_ctx *x, int32_t layer)
{
	if (pd_model_layer_is_moe(&x->plan->model, layer))
		moe_combine(x, layer);
}

/* embed on stage 0, else pp_recv from GPU j mod size(s-1) of the previous stage (its
 * pp_send recorded the id); the control edges of the micro-batch order come from the
 * lane's last frontier. */
static void prologue(lower_ctx *x)
{
	for (uint32_t li = 0; li < x->n_lanes; li++) {
		if (x->si.first) {
			uint32_t v = node(x, li, PD_N_EMBED, -1, -1, x->c.op[PD_N_EMBED]);
			join(x, li, v, PD_E_CONTROL);
			continue;
		}
		uint32_t v = node(x, li, PD_N_PP_RECV, -1, -1, x->pp_in);
		uint32_t src = x->dag ? x->recv_from[(size_t)x->mb * x->si.S + li] : 0;
		edge(x, li, src, v, PD_E_COMM);
		join(x, li, v, PD_E_CONTROL);
	}
}

/* One pp_send per GPU j of the next stage with j mod S = gi, each fed by the frontier
 * of lane li (GPU index gi). */
static void pp_sends(lower_ctx *x, uint32_t li)
{
	uint32_t *f = x->front + (size_t)li * x->F, ns = 0, gi = lane_gpu(x, li);
	for (uint32_t j = gi; j < x->si.next_size; j += x->si.S) {
		bool spans = pd_i_group_spans_nodes(
		    &x->plan->cluster, (const int32_t[]){x->gpus[gi], x->next_gpus[j]}, 2);
		uint32_t v = node(x, li, PD_N_PP_SEND, -1, -1, x->c.pp[spans]);
		for (uint32_t k = 0; k < x->nfront[li]; k++)
			edge(x, li, f[k], v, PD_E_DATA);
		if (x->dag)
			x->send_to[(size_t)x->mb * x->si.next_size + j] = v;
		x->tmp[ns++] = v;
	}
	if (ns) {
		memcpy(f, x->tmp, ns * sizeof(uint32_t));
		x->nfront[li] = ns;
	}
}

/* Last stage: lm_head [-> sample]; earlier: the pp_sends. */
static void epilogue(lower_ctx *x)
{
	for (uint32_t li = 0; li < x->n_lanes; li++) {
		if (!x->si.last) {
			pp_sends(x, li);
			continue;
		}
		chain(x, li, PD_N_LM_HEAD, -1, x->c.op[PD_N_LM_HEAD]);
		if (x->decode)
			chain(x, li, PD_N_SAMPLE, -1, x->c.op[PD_N_SAMPLE]);
	}
}

static void emit_micro_batch(lower_ctx *x)
{
	const pd_stage *st = x->si.st;
	prologue(x);
	for (int64_t l = st->first_layer; l <= st->last_layer; l++) {
		layer_first(x, (int32_t)l);
		layer_second(x, (int32_t)l);
	}
	epilogue(x);
}

/* Makes half m (micro-batch m) the current one: its frontier and norms. */
static void half(lower_ctx *x, int32_t m)
{
	if (x->mb == m)
		return;
	uint32_t *t = x->front;
	x->front = x->front2;
	x->front2 = t;
	t = x->nfront;
	x->nfront = x->nfront2;
	x->nfront2 = t;
	t = x->norms;
	x->norms = x->norms2;
	x->norms2 = t;
	x->mb = m;
}

/* Two-batch overlap (docs/time-model.md): the two halves of every attention group's
 * sequences are micro-batches 0 and 1 with frontiers of their own (no edge between
 * them), emitted part by part: per layer the first part (attention up to the dispatch)
 * of half 0, then of half 1, then the experts and combine of half 0, then of half 1.
 * So on each GPU's streams (id order) half 1's attention computes while half 0's
 * dispatch is on the comm stream, half 0's experts while half 1 dispatches, and so on,
 * as DeepSeek's inference profile shows. */
static void emit_two_batch(lower_ctx *x)
{
	const pd_stage *st = x->si.st;
	for (int32_t m = 0; m < 2; m++) {
		half(x, m);
		prologue(x);
	}
	for (int64_t l = st->first_layer; l <= st->last_layer; l++)
		for (int part = 0; part < 2; part++)
			for (int32_t m = 0; m < 2; m++) {
				half(x, m);
				if (part == 0)
					layer_first(x, (int32_t)l);
				else
					layer_second(x, (int32_t)l);
			}
	for (int32_t m = 0; m < 2; m++) {
		half(x, m);
		epilogue(x);
	}
	half(x, 0);
}

/* One unit of the step: a micro-batch, or with two-batch overlap both halves. */
static void emit_unit(lower_ctx *x)
{
	if (x->overlap)
		emit_two_batch(x);
	else
		emit_micro_batch(x);
}

/* Interns the n GPUs at gpus (any order) as a sorted group. */
static pd_status intern_sorted(pd_dag *d, const int32_t *gpus, uint32_t n, uint32_t *idx)
{
	int32_t *tmp = malloc((n ? n : 1) * sizeof(int32_t));
	if (!tmp)
		return PD_IO;
	memcpy(tmp, gpus, n * sizeof(int32_t));
	qsort(tmp, n, sizeof(int32_t), pd_i_cmp_i32);
	pd_status s = pd_dag_intern_group(d, tmp, n, idx);
	free(tmp);
	return s;
}

static pd_status grow(void **p, size_t n, size_t size)
{
	return pd_i_array_resize(p, n, size);
}

static pd_status grow_u32(uint32_t **p, size_t n)
{
	return grow((void **)p, n, sizeof(uint32_t));
}

/* Expert slots of GPU index g. */
static uint32_t hosted(const lower_ctx *x, uint32_t g)
{
	return x->lay ? (uint32_t)pd_i_layout_slots(x->lay, g) : 0;
}

/* The stage's expert layout (plan/layout.h: slots per GPU index, experts ascending);
 * sizes the frontier. */
static pd_status stage_hosts(lower_ctx *x)
{
	x->lay = x->si.st->layout;
	/* validation refuses a stage whose places name more slots than it has */
	PD_ASSERT(!x->lay || (x->lay->ids && x->lay->n_gpus == x->si.S));
	uint32_t hmax = x->lay ? (uint32_t)x->lay->max_slots : 0;
	/* frontier: hosted experts + shared expert, or the pp_sends of GPU 0 */
	x->F = hmax + 2;
	uint32_t sends = sends_of(&x->si, 0);
	if (sends + 1 > x->F)
		x->F = sends + 1;
	return PD_OK;
}

/* Cost of an expert node by the copies of its expert: each copy its share of the
 * tokens (copies 1 is the stage's record of kind expert). */
static pd_status stage_expert_costs(lower_ctx *x, const pd_i_stage_shape *sh)
{
	uint32_t k = x->lay ? x->lay->max_copies : 1;
	PD_CHECK(grow_u32(&x->expert_cost, 2 * ((size_t)k + 1)));
	x->expert_cost[0] = x->expert_cost[1] = x->c.op[PD_N_EXPERT];
	x->busy_cost = x->expert_cost + k + 1; /* GPU 0 of the stage: expert-imbalance */
	for (uint32_t n = 2; n <= k; n++)
		PD_CHECK(pd_i_costs_expert(x->dag, sh, n, false, &x->expert_cost[n]));
	for (uint32_t n = 0; n <= k; n++)
		PD_CHECK(pd_i_costs_expert(x->dag, sh, n ? n : 1, true, &x->busy_cost[n]));
	return PD_OK;
}

/* Frontier and per-lane scratch, for n_lanes lanes. */
static pd_status stage_scratch(lower_ctx *x)
{
	uint32_t L = x->n_lanes, G = x->si.groups, DG = x->si.dgroups;
	PD_CHECK(grow_u32(&x->front, (size_t)L * x->F));
	PD_CHECK(grow_u32(&x->nfront, L));
	PD_CHECK(grow_u32(&x->tmp, x->F > x->si.S + 1 ? x->F : x->si.S + 1));
	memset(x->nfront, 0, L * sizeof(uint32_t));
	PD_CHECK(grow_u32(&x->members, L));
	PD_CHECK(grow_u32(&x->norms, L));
	if (x->overlap) {
		PD_CHECK(grow_u32(&x->front2, (size_t)L * x->F));
		PD_CHECK(grow_u32(&x->nfront2, L));
		PD_CHECK(grow_u32(&x->norms2, L));
		memset(x->nfront2, 0, L * sizeof(uint32_t));
	}
	PD_CHECK(grow_u32(&x->hub_cost, G > DG ? G : DG));
	PD_CHECK(grow_u32(&x->tp_group, G));
	PD_CHECK(grow((void **)&x->c.tp, G, sizeof(pd_i_tp_costs)));
	x->c.n_tp = G;
	PD_CHECK(grow_u32(&x->dtp_group, DG));
	PD_CHECK(grow((void **)&x->c.dtp, DG, sizeof(pd_i_tp_costs)));
	x->c.n_dtp = DG;
	return PD_OK;
}

/* Interned TP groups (consecutive TP GPUs of the stage) and the EP group. */
static pd_status stage_groups(lower_ctx *x)
{
	uint32_t G = x->si.groups, tp = x->si.tp;
	for (uint32_t k = 0; x->si.tp_points && k < G; k++)
		PD_CHECK(intern_sorted(x->dag, x->gpus + (size_t)k * tp, tp, &x->tp_group[k]));
	for (uint32_t k = 0; x->si.reshard && x->si.dtp > 1 && k < x->si.dgroups; k++)
		PD_CHECK(intern_sorted(x->dag, x->gpus + (size_t)k * x->si.dtp, x->si.dtp,
		                       &x->dtp_group[k]));
	if (x->si.ep_coll)
		PD_CHECK(intern_sorted(x->dag, x->gpus, x->si.S, &x->ep_group));
	return PD_OK;
}

static void stage_enter(lower_ctx *x, const pd_replica *rep, uint32_t s)
{
	stage_info_init(x->plan, rep, s, &x->si);
	x->gpus = rep->stages[s].gpus;
	x->next_gpus = x->si.last ? NULL : rep->stages[s + 1].gpus;
}

/* Lowering: lanes are the GPUs; costs, groups and the pp_send ids of the stage. */
static pd_status stage_begin(lower_ctx *x, const pd_replica *rep, uint32_t s)
{
	stage_enter(x, rep, s);
	x->n_lanes = x->si.S;
	x->pp_in = x->c.pp_recv;
	PD_CHECK(stage_hosts(x));
	PD_CHECK(stage_scratch(x));
	pd_i_stage_shape sh = {.plan = x->plan,
	                       .stage_size = x->si.S,
	                       .tp = x->si.tp,
	                       .sp = x->si.st->sp,
	                       .dense_tp = x->si.dtp,
	                       .gpus = x->gpus,
	                       .next_size = x->si.next_size,
	                       .next_tp = x->si.last ? 1 : rep->stages[s + 1].tp,
	                       .next_sp = !x->si.last && rep->stages[s + 1].sp};
	PD_CHECK(pd_i_costs_stage(x->dag, &sh, &x->c));
	PD_CHECK(stage_expert_costs(x, &sh));
	PD_CHECK(stage_groups(x));
	if (x->handover) {
		size_t L = (size_t)(x->si.st->last_layer - x->si.st->first_layer + 1);
		PD_CHECK(grow_u32(&x->kv_attn, L * x->si.S));
	}
	return grow_u32(&x->send_to, (size_t)x->mbs * x->si.next_size);
}

/* ---- the KV hand-over (handover.c says who sends what to whom) ---- */

/* Lowering: one kv_send per layer of the run on the prefill GPU, fed by that layer's
 * attention node; its kv_recv waits in x->pend until the decode pool is lowered (its
 * id then comes after the decode step, so the decode GPU's comm stream runs the step
 * first: the handed-over requests join the next step). */
static void kv_lower(void *arg, const pd_i_kv_pair *p)
{
	lower_ctx *x = arg;
	const pd_cluster *cl = &x->plan->cluster;
	bool spans = pd_i_group_spans_nodes(cl, (const int32_t[]){p->src_gpu, p->dst_gpu}, 2);
	pd_cost c = {0, p->bytes, pd_i_comm_us(cl, p->bytes, spans), p->bytes, 0};
	uint32_t cost = 0;
	size_t L = (size_t)(p->last_layer - p->first_layer + 1);
	if (x->kv_status == PD_OK)
		x->kv_status = pd_dag_intern_cost(x->dag, &c, &cost);
	if (x->kv_status == PD_OK && x->n_pend + L > x->cap_pend) {
		size_t cap = (x->n_pend + L) * 2;
		x->kv_status = grow((void **)&x->pend, cap, sizeof(*x->pend));
		x->cap_pend = x->kv_status == PD_OK ? cap : x->cap_pend;
	}
	for (int64_t l = p->first_layer; x->kv_status == PD_OK && l <= p->last_layer; l++) {
		uint32_t v = node(x, p->gi, PD_N_KV_SEND, (int32_t)l, -1, cost);
		size_t at = (size_t)(l - x->si.st->first_layer) * x->si.S + p->gi;
		edge(x, p->gi, x->kv_attn[at], v, PD_E_DATA);
		x->pend[x->n_pend++] = (struct kv_pending){
		    v,          p->dst_gpu, (int32_t)p->dst_replica, (int32_t)p->dst_stage,
		    (int32_t)l, p->bytes};
	}
}

/* The kv_sends of the stage just lowered (all its micro-batches have run). */
static pd_status stage_handover(lower_ctx *x)
{
	if (!x->handover)
		return PD_OK;
	x->mb = 0;
	pd_i_handover_pairs(x->whole, (uint32_t)x->r, (uint32_t)x->s, kv_lower, x);
	return x->kv_status;
}

/* After the decode pool: the kv_recv of every pending kv_send, joined by a comm edge. */
static pd_status emit_recvs(pd_dag *d, const lower_ctx *x)
{
	for (size_t i = 0; i < x->n_pend; i++) {
		const struct kv_pending *k = &x->pend[i];
		pd_cost c = {0, k->bytes, 0, k->bytes, 0};
		pd_node n = {.gpu = k->gpu,
		             .replica = k->replica,
		             .stage = k->stage,
		             .layer = k->layer,
		             .expert = -1,
		             .kind = PD_N_KV_RECV,
		             .phase = PD_DECODE};
		uint32_t v;
		PD_CHECK(pd_dag_intern_cost(d, &c, &n.cost));
		PD_ASSERT(d->n_nodes < d->cap_nodes && d->n_edges < d->cap_edges);
		PD_CHECK(pd_dag_add_node(d, &n, &v));
		PD_CHECK(pd_dag_add_edge(d, k->send, v, PD_E_COMM));
	}
	return PD_OK;
}

static void ctx_release(lower_ctx *x)
{
	free(x->c.tp);
	free(x->tp_group);
	free(x->c.dtp);
	free(x->dtp_group);
	free(x->expert_cost);
	free(x->lanes);
	free(x->front);
	free(x->nfront);
	free(x->tmp);
	free(x->members);
	free(x->norms);
	free(x->hub_cost);
	free(x->front2);
	free(x->nfront2);
	free(x->norms2);
	free(x->recv_from);
	free(x->send_to);
	free(x->lane_nodes);
	free(x->kv_attn);
	free(x->pend);
}

static pd_status lower_all(lower_ctx *x)
{
	const pd_strategy *st = &x->plan->strategy;
	for (uint32_t r = 0; r < st->n_replicas; r++) {
		const pd_replica *rep = &st->replicas[r];
		x->r = x->r_base + (int32_t)r;
		for (uint32_t s = 0; s < rep->n_stages; s++) {
			x->s = (int32_t)s;
			PD_CHECK(stage_begin(x, rep, s));
			x->mb = 0;
			if (x->overlap)
				emit_two_batch(x); /* both halves: micro-batches 0 and 1 */
			else
				for (; x->mb < x->mbs; x->mb++)
					emit_micro_batch(x);
			PD_CHECK(stage_handover(x));
			uint32_t *t = x->recv_from; /* this stage's sends feed the next */
			x->recv_from = x->send_to;
			x->send_to = t;
		}
	}
	return PD_OK;
}

/* ---- counting: the emitter with a sink that only counts ---- */

static int cmp_lane(const void *a, const void *b)
{
	const lane *p = a, *q = b;
	if (p->h != q->h)
		return p->h < q->h ? -1 : 1;
	if (p->sends != q->sends)
		return p->sends < q->sends ? -1 : 1;
	return (p->gi > q->gi) - (p->gi < q->gi);
}

/* One lane per class of GPUs of the stage (experts hosted, pp_sends). */
static pd_status stage_lanes(lower_ctx *x)
{
	uint32_t S = x->si.S, n = 0;
	PD_CHECK(grow((void **)&x->lanes, S, sizeof(lane)));
	for (uint32_t g = 0; g < S; g++)
		x->lanes[g] = (lane){hosted(x, g), sends_of(&x->si, g), g, 1};
	qsort(x->lanes, S, sizeof(lane), cmp_lane);
	for (uint32_t g = 0; g < S; g++) {
		if (n && x->lanes[n - 1].h == x->lanes[g].h &&
		    x->lanes[n - 1].sends == x->lanes[g].sends)
			x->lanes[n - 1].w++;
		else
			x->lanes[n++] = x->lanes[g];
	}
	x->n_lanes = n;
	return PD_OK;
}

/* A stage's count, remembered by everything the emitter reads of it. */
typedef struct class_key {
	int64_t first_layer, last_layer;
	uint32_t S, tp, dtp, next_size, n_lanes;
	uint8_t sp, ep_coll, first, last;
} class_key;

typedef struct class_count {
	class_key key;
	lane *lanes;       /* h, sends, w of each lane (gi zeroed) */
	uint64_t *lane_n;  /* nodes of one GPU of each lane in one micro-batch */
	uint64_t n, e, de; /* nodes and edges of one micro-batch; edges each further one adds */
	uint64_t hubs;     /* hubs of one micro-batch */
} class_count;

#define COUNT_MEMO 32 /* classes remembered; more distinct stages are just recounted */

typedef struct count_memo {
	class_count c[COUNT_MEMO];
	uint32_t n, next;
} count_memo;

static class_key key_of(const lower_ctx *x)
{
	class_key k;
	memset(&k, 0, sizeof(k)); /* padding too: keys are compared with memcmp */
	k.first_layer = x->si.st->first_layer;
	k.last_layer = x->si.st->last_layer;
	k.S = x->si.S;
	k.tp = x->si.tp;
	k.dtp = x->si.dtp;
	k.next_size = x->si.next_size;
	k.n_lanes = x->n_lanes;
	k.sp = (uint8_t)x->si.st->sp;
	k.ep_coll = x->si.ep_coll;
	k.first = x->si.first;
	k.last = x->si.last;
	return k;
}

static bool same_lanes(const lane *a, const lane *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i].h != b[i].h || a[i].sends != b[i].sends || a[i].w != b[i].w)
			return false;
	return true;
}

static const class_count *memo_find(const count_memo *m, const class_key *k,
                                    const lane *lanes)
{
	for (uint32_t i = 0; i < m->n; i++)
		if (memcmp(&m->c[i].key, k, sizeof(*k)) == 0 &&
		    same_lanes(m->c[i].lanes, lanes, k->n_lanes))
			return &m->c[i];
	return NULL;
}

static void class_release(class_count *c)
{
	free(c->lanes);
	free(c->lane_n);
	memset(c, 0, sizeof(*c));
}

/* Remembers c (its lanes and per-lane counts copied); the oldest entry makes room. */
static pd_status memo_add(count_memo *m, const class_count *c)
{
	uint32_t L = c->key.n_lanes ? c->key.n_lanes : 1;
	lane *lanes = malloc(L * sizeof(lane));
	uint64_t *lane_n = malloc(L * sizeof(uint64_t));
	if (!lanes || !lane_n) {
		free(lanes);
		free(lane_n);
		return PD_IO;
	}
	memcpy(lanes, c->lanes, c->key.n_lanes * sizeof(lane));
	memcpy(lane_n, c->lane_n, c->key.n_lanes * sizeof(uint64_t));
	class_count *slot = &m->c[m->n < COUNT_MEMO ? m->n++ : m->next++ % COUNT_MEMO];
	class_release(slot);
	*slot = *c;
	slot->lanes = lanes;
	slot->lane_n = lane_n;
	return PD_OK;
}

/* Runs the count-mode emitter on the stage for one micro-batch (and a second one for
 * the control edges between micro-batches). */
static pd_status count_class(lower_ctx *x, class_count *c)
{
	PD_CHECK(stage_scratch(x));
	PD_CHECK(grow((void **)&x->lane_nodes, x->n_lanes, sizeof(uint64_t)));
	memset(x->lane_nodes, 0, x->n_lanes * sizeof(uint64_t));
	memset(x->c.tp, 0, x->si.groups * sizeof(pd_i_tp_costs)); /* costs unused */
	memset(x->c.dtp, 0, x->si.dgroups * sizeof(pd_i_tp_costs));
	x->n_nodes = x->n_edges = x->n_hubs = 0;
	x->mb = 0;
	emit_unit(x);
	c->n = x->n_nodes;
	c->e = x->n_edges;
	c->hubs = x->n_hubs;
	c->lanes = x->lanes;
	c->lane_n = x->lane_nodes; /* memo_add copies both */
	c->de = c->e;              /* two-batch overlap: one unit, no second */
	if (x->overlap)
		return PD_OK;
	/* the per-lane counts are those of one micro-batch: keep them from the second */
	uint64_t *one = malloc((x->n_lanes ? x->n_lanes : 1) * sizeof(uint64_t));
	if (!one)
		return PD_IO;
	memcpy(one, x->lane_nodes, x->n_lanes * sizeof(uint64_t));
	x->mb = 1;
	emit_micro_batch(x);
	c->de = x->n_edges - c->e; /* the second micro-batch alone: with its control edges */
	memcpy(x->lane_nodes, one, x->n_lanes * sizeof(uint64_t));
	free(one);
	return PD_OK;
}

/* What a count adds up: the whole DAG, and the part on the GPUs a filter selects. */
typedef struct count_part {
	int32_t replica, stage, gpu; /* -1 = any */
	uint64_t nodes, edges;       /* the whole DAG */
	uint64_t part_nodes, part_hubs;
} count_part;

/* Lane of stage GPU index g among the current lanes (same experts hosted, same sends). */
static uint32_t lane_of(const lower_ctx *x, uint32_t g)
{
	uint32_t h = hosted(x, g), sends = sends_of(&x->si, g);
	for (uint32_t i = 0; i < x->n_lanes; i++)
		if (x->lanes[i].h == h && x->lanes[i].sends == sends)
			return i;
	PD_ASSERT(!"every GPU of a stage belongs to one of its lanes");
	return 0;
}

/* The part of stage (r, s) of class `hit` that the filter selects. */
static void count_selected(const lower_ctx *x, const class_count *hit, uint32_t r,
                           uint32_t s, uint64_t mbs, count_part *cp)
{
	if ((cp->replica >= 0 && (uint32_t)cp->replica != r) ||
	    (cp->stage >= 0 && (uint32_t)cp->stage != s))
		return;
	if (cp->gpu < 0) {
		cp->part_nodes += mbs * (hit->n - hit->hubs);
		cp->part_hubs += mbs * hit->hubs;
		return;
	}
	for (uint32_t g = 0; x->gpus && g < x->si.S; g++)
		if (x->gpus[g] == cp->gpu) {
			cp->part_nodes += mbs * hit->lane_n[lane_of(x, g)];
			cp->part_hubs += mbs * hit->hubs;
		}
}

static pd_status count_stage(lower_ctx *x, count_memo *m, const pd_replica *rep, uint32_t r,
                             uint32_t s, uint64_t mbs, count_part *cp)
{
	stage_enter(x, rep, s);
	PD_CHECK(stage_hosts(x));
	PD_CHECK(stage_lanes(x));
	class_count c = {.key = key_of(x)};
	const class_count *hit = memo_find(m, &c.key, x->lanes);
	if (!hit) {
		PD_CHECK(count_class(x, &c));
		PD_CHECK(memo_add(m, &c));
		hit = &c;
	}
	cp->nodes += mbs * hit->n;
	cp->edges += hit->e + (mbs - 1) * hit->de;
	count_selected(x, hit, r, s, mbs, cp);
	return PD_OK;
}

/* Whether the filter of cp selects a node of (replica, stage, gpu). */
static bool part_selects(const count_part *cp, int64_t r, int64_t s, int32_t gpu)
{
	return (cp->replica < 0 || cp->replica == r) && (cp->stage < 0 || cp->stage == s) &&
	       (cp->gpu < 0 || cp->gpu == gpu);
}

/* Counting the hand-over: what kv_lower and emit_recvs create for a run, a kv_send with
 * its data edge and a kv_recv with its comm edge per layer. */
typedef struct kv_count {
	count_part *cp;
	int64_t r, s;
} kv_count;

static void kv_counted(void *arg, const pd_i_kv_pair *p)
{
	const kv_count *k = arg;
	uint64_t L = (uint64_t)(p->last_layer - p->first_layer + 1);
	k->cp->nodes += 2 * L;
	k->cp->edges += 2 * L;
	if (part_selects(k->cp, k->r, k->s, p->src_gpu))
		k->cp->part_nodes += L;
	if (part_selects(k->cp, p->dst_replica, p->dst_stage, p->dst_gpu))
		k->cp->part_nodes += L;
}

/* The emitter in count mode on one single-phase plan (or one pool's view, whose replica
 * 0 is replica r_base of the whole strategy; with `whole`, the prefill pool's stages also
 * count their hand-over), once per distinct class of stage and GPU, for one
 * micro-batch, multiplied: O(distinct classes x layers + GPUs), never O(nodes). */
static pd_status count_plan(const pd_plan *plan, const pd_plan *whole, uint32_t r_base,
                            count_part *cp)
{
	uint64_t mbs =
	    plan->workload.micro_batches > 0 ? (uint64_t)plan->workload.micro_batches : 1;
	lower_ctx x = {.plan = plan,
	               .decode = plan->workload.phase == PD_DECODE,
	               .overlap = plan->workload.overlap_two_batch};
	if (x.overlap)
		mbs = 1; /* one unit: both halves */
	count_memo *m = calloc(1, sizeof(*m));
	pd_status s = m ? PD_OK : PD_IO;
	bool kv = whole && plan->workload.phase == PD_PREFILL;
	for (uint32_t r = 0; s == PD_OK && r < plan->strategy.n_replicas; r++) {
		const pd_replica *rep = &plan->strategy.replicas[r];
		for (uint32_t i = 0; s == PD_OK && i < rep->n_stages; i++) {
			s = count_stage(&x, m, rep, r_base + r, i, mbs, cp);
			kv_count k = {cp, r_base + r, i};
			if (s == PD_OK && kv)
				pd_i_handover_pairs(whole, r_base + r, i, kv_counted, &k);
		}
	}
	for (uint32_t i = 0; m && i < m->n; i++)
		class_release(&m->c[i]);
	free(m);
	ctx_release(&x);
	return s;
}

/* A pooled plan counts pool by pool (no class is shared: the phases differ). */
static pd_status count_all(const pd_plan *plan, count_part *cp)
{
	if (!pd_plan_is_pooled(plan))
		return count_plan(plan, NULL, 0, cp);
	for (uint32_t p = 0; p < plan->strategy.n_pools; p++) {
		pd_plan view;
		pd_plan_pool_view(plan, p, &view);
		PD_CHECK(count_plan(&view, plan, plan->strategy.pools[p].first_replica, cp));
	}
	return PD_OK;
}

pd_status pd_dag_count(const pd_plan *plan, uint64_t *nodes, uint64_t *edges)
{
	count_part cp = {.replica = -1, .stage = -1, .gpu = -1};
	pd_status s = count_all(plan, &cp);
	*nodes = cp.nodes;
	*edges = cp.edges;
	return s;
}

pd_status pd_dag_count_part(const pd_plan *plan, int32_t replica, int32_t stage,
                            int32_t gpu, uint64_t *nodes, uint64_t *hubs)
{
	count_part cp = {.replica = replica, .stage = stage, .gpu = gpu};
	pd_status s = count_all(plan, &cp);
	*nodes = cp.part_nodes;
	*hubs = cp.part_hubs;
	return s;
}

/* GPU -> (replica, stage, memory) of the plan. */
static pd_status fill_gpus(pd_dag *d, const pd_plan *p, const pd_analysis *an)
{
	int64_t n = pd_cluster_gpus(&p->cluster);
	PD_ASSERT(n >= 0 && n <= PD_MAX_GPUS); /* validation bounds the cluster */
	d->n_gpus = (int32_t)n;
	d->gpus_per_node = (int32_t)p->cluster.gpus_per_node;
	d->gpu_capacity = p->cluster.gpu_memory;
	d->gpu = calloc(n ? (size_t)n : 1, sizeof(pd_dag_gpu));
	if (!d->gpu)
		return PD_IO;
	for (int64_t g = 0; g < n; g++)
		d->gpu[g].replica = d->gpu[g].stage = d->gpu[g].pool = -1;
	for (uint32_t r = 0; r < p->strategy.n_replicas; r++) {
		const pd_replica *rep = &p->strategy.replicas[r];
		for (uint32_t s = 0; s < rep->n_stages; s++)
			for (uint32_t i = 0; i < rep->stages[s].n_gpus; i++) {
				int32_t g = rep->stages[s].gpus[i];
				if (g >= 0 && g < n)
					d->gpu[g] = (pd_dag_gpu){(int32_t)r, (int32_t)s, 0, -1};
			}
	}
	for (uint32_t i = 0; an && i < an->n_memory; i++)
		if (an->memory[i].gpu >= 0 && an->memory[i].gpu < n)
			d->gpu[an->memory[i].gpu].memory = an->memory[i].total;
	return PD_OK;
}

/* The cluster ids holding each expert of stage st: the first (lowest stage index) in
 * expert_gpu, the further copies of redundant experts in copy_off / copy_gpu. */
static pd_status fill_expert_gpus(pd_dag_stage *ds, const pd_stage *st, uint32_t E)
{
	const pd_i_expert_layout *l = st->layout;
	ds->expert_gpu = malloc((E ? E : 1) * sizeof(int32_t));
	if (!ds->expert_gpu)
		return PD_IO;
	for (uint32_t e = 0; e < E; e++)
		ds->expert_gpu[e] = -1;
	if (!l || !l->ids)
		return PD_OK;
	bool copies = l->max_copies > 1;
	ds->copy_off = copies ? calloc((size_t)E + 1, sizeof(uint32_t)) : NULL;
	ds->copy_gpu = copies ? malloc((l->slots + 1) * sizeof(int32_t)) : NULL;
	if (copies && (!ds->copy_off || !ds->copy_gpu))
		return PD_IO;
	for (uint32_t e = 0; copies && e < E; e++) /* copies beyond the first, as CSR */
		ds->copy_off[e + 1] = ds->copy_off[e] + (l->copies[e] ? l->copies[e] - 1 : 0);
	uint32_t *cur = copies ? malloc((E ? E : 1) * sizeof(uint32_t)) : NULL;
	if (copies && !cur)
		return PD_IO;
	if (cur)
		memcpy(cur, ds->copy_off, E * sizeof(uint32_t));
	for (uint32_t g = 0; g < l->n_gpus; g++)
		for (uint64_t i = l->off[g]; i < l->off[g + 1]; i++) {
			uint32_t e = l->ids[i];
			if (ds->expert_gpu[e] < 0)
				ds->expert_gpu[e] = st->gpus[g];
			else if (cur)
				ds->copy_gpu[cur[e]++] = st->gpus[g];
		}
	free(cur);
	pd_dag_stage_sort_copies(ds);
	return PD_OK;
}

/* One pd_dag_stage per (replica, stage) with the cluster ids hosting each expert. */
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
			pd_dag_stage *ds = &d->stages[d->n_stages++];
			*ds = (pd_dag_stage){
			    .replica = (int32_t)r, .stage = (int32_t)s, .n_experts = (int32_t)E};
			PD_CHECK(fill_expert_gpus(ds, &rep->stages[s], E));
		}
	}
	return PD_OK;
}

/* Micro-batches of a step (two-batch overlap: its two halves) and its tokens per
 * replica. */
static int32_t step_micro_batches(const pd_workload *w)
{
	return w->overlap_two_batch ? 2 : w->micro_batches > 0 ? (int32_t)w->micro_batches : 1;
}

static double step_tokens(const pd_workload *w)
{
	return (double)w->batch * (w->phase == PD_PREFILL ? (double)w->context : 1);
}

/* A pooled plan: one pd_dag_pool per pool, and every GPU's pool by its replica. */
static pd_status fill_pools(pd_dag *d, const pd_plan *p)
{
	uint32_t n = p->strategy.n_pools;
	d->pools = calloc(n, sizeof(pd_dag_pool));
	if (!d->pools)
		return PD_IO;
	d->n_pools = n;
	d->micro_batches = 1;
	for (uint32_t i = 0; i < n; i++) {
		pd_plan v;
		pd_plan_pool_view(p, i, &v);
		const pd_pool *pl = &p->strategy.pools[i];
		d->pools[i] =
		    (pd_dag_pool){pl->phase, (int32_t)pl->first_replica, (int32_t)pl->n_replicas,
		                  step_micro_batches(&v.workload), step_tokens(&v.workload)};
		if (d->pools[i].micro_batches > d->micro_batches)
			d->micro_batches = d->pools[i].micro_batches; /* labels name micro-batches */
		d->phase = pl->phase;
		d->step_tokens = d->pools[i].step_tokens;
	}
	for (int32_t g = 0; g < d->n_gpus; g++)
		d->gpu[g].pool = pd_dag_replica_pool(d, d->gpu[g].replica);
	return PD_OK;
}

static pd_status fill_context(pd_dag *d, const pd_plan *p, const pd_analysis *an)
{
	const pd_workload *w = &p->workload;
	d->name = p->name;
	d->n_replicas = (int32_t)p->strategy.n_replicas;
	d->micro_batches = step_micro_batches(w);
	d->phase = w->phase;
	d->step_tokens = step_tokens(w);
	PD_CHECK(fill_gpus(d, p, an));
	if (pd_plan_is_pooled(p))
		PD_CHECK(fill_pools(d, p));
	return fill_stages(d, p);
}

/* Lowers one single-phase plan, or one pool's view of `whole` whose replica 0 is
 * replica r_base; the prefill pool's stages hand their KV over (pending in *pend). */
static pd_status lower_plan(pd_dag *d, const pd_plan *plan, const pd_plan *whole,
                            uint32_t r_base, lower_ctx *keep)
{
	lower_ctx x = {.plan = plan,
	               .dag = d,
	               .decode = plan->workload.phase == PD_DECODE,
	               .overlap = plan->workload.overlap_two_batch,
	               .mbs = step_micro_batches(&plan->workload),
	               .whole = whole,
	               .phase = (uint8_t)plan->workload.phase,
	               .r_base = (int32_t)r_base,
	               .handover = whole && plan->workload.phase == PD_PREFILL,
	               .pend = keep->pend,
	               .n_pend = keep->n_pend,
	               .cap_pend = keep->cap_pend};
	pd_status s = lower_all(&x);
	keep->pend = x.pend; /* the pending kv_sends outlive the pool's context */
	keep->n_pend = x.n_pend;
	keep->cap_pend = x.cap_pend;
	x.pend = NULL;
	ctx_release(&x);
	return s;
}

/* Pool by pool, in strategy order (prefill's replicas first), then the kv_recvs. */
static pd_status lower_pools(pd_dag *d, const pd_plan *plan)
{
	lower_ctx keep = {0};
	pd_status s = PD_OK;
	for (uint32_t p = 0; s == PD_OK && p < plan->strategy.n_pools; p++) {
		pd_plan view;
		pd_plan_pool_view(plan, p, &view);
		s = lower_plan(d, &view, plan, plan->strategy.pools[p].first_replica, &keep);
	}
	if (s == PD_OK)
		s = emit_recvs(d, &keep);
	free(keep.pend);
	return s;
}

static pd_status lower_into(pd_dag *d, const pd_plan *plan, const pd_analysis *an)
{
	uint64_t nn, ne;
	PD_CHECK(pd_dag_count(plan, &nn, &ne));
	if (nn >= UINT32_MAX || ne >= UINT32_MAX)
		return PD_IO;
	PD_CHECK(pd_dag_reserve(d, (uint32_t)nn, (uint32_t)ne));
	PD_CHECK(fill_context(d, plan, an));
	lower_ctx none = {0};
	PD_CHECK(pd_plan_is_pooled(plan) ? lower_pools(d, plan)
	                                 : lower_plan(d, plan, NULL, 0, &none));
	/* counting is this emitter with a counting sink: they agree by construction */
	PD_ASSERT(d->n_nodes == nn && d->n_edges == ne);
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
