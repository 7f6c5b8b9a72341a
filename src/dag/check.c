/* check.c - the DAG checks of docs/rules.md: `acyclic` (deadlock) and `placement`.
 *
 * Both work on any finalized pd_dag, lowered or read from GraphML.  A collective is
 * contracted to one node (its hub plus the members sending collective edges to it):
 * every member waits for all the others, so two GPUs meeting the same collectives in
 * different orders become a cycle of the contracted graph.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag/dag_internal.h"

/* Non-collective out-edges of v: decrement their targets, queue those that are free. */
static void release_out(const pd_dag *dag, uint32_t v, const uint32_t *rep, uint32_t *indeg,
                        uint32_t *order, uint32_t *tail)
{
	for (uint32_t i = dag->out_off[v]; i < dag->out_off[v + 1]; i++) {
		const pd_edge *ed = &dag->edges[dag->out_edge[i]];
		if (ed->kind == PD_E_COLLECTIVE)
			continue;
		uint32_t r = rep[ed->dst];
		if (--indeg[r] == 0)
			order[(*tail)++] = r;
	}
}

/* For DAGs whose ids are not in order (hand-edited GraphML) and for finding the
 * cycle. */
void pd_i_kahn(const pd_dag *dag, const uint32_t *rep, uint32_t *indeg, uint32_t *order,
               uint32_t *n_order, uint32_t *n_reps)
{
	uint32_t n = dag->n_nodes, head = 0, tail = 0, reps = 0;
	memset(indeg, 0, (size_t)n * sizeof(uint32_t));
	for (uint32_t e = 0; e < dag->n_edges; e++)
		if (dag->edges[e].kind != PD_E_COLLECTIVE)
			indeg[rep[dag->edges[e].dst]]++;
	for (uint32_t v = 0; v < n; v++) {
		if (rep[v] != v)
			continue;
		reps++;
		if (indeg[v] == 0)
			order[tail++] = v;
	}
	while (head < tail) {
		uint32_t r = order[head++];
		release_out(dag, r, rep, indeg, order, &tail);
		if (dag->nodes[r].kind != PD_N_COLLECTIVE)
			continue;
		for (uint32_t i = dag->in_off[r]; i < dag->in_off[r + 1]; i++) {
			const pd_edge *ed = &dag->edges[dag->in_edge[i]];
			if (ed->kind == PD_E_COLLECTIVE && rep[ed->src] == r)
				release_out(dag, ed->src, rep, indeg, order, &tail);
		}
	}
	*n_order = tail;
	*n_reps = reps;
}

/* An in-edge into contracted node r (through r or one of its members) whose source is
 * still blocked; UINT32_MAX when none. */
static uint32_t blocked_in_edge_of(const pd_dag *dag, uint32_t v, const uint32_t *rep,
                                   const uint32_t *indeg)
{
	for (uint32_t i = dag->in_off[v]; i < dag->in_off[v + 1]; i++) {
		const pd_edge *ed = &dag->edges[dag->in_edge[i]];
		if (ed->kind != PD_E_COLLECTIVE && indeg[rep[ed->src]] > 0)
			return dag->in_edge[i];
	}
	return UINT32_MAX;
}

static uint32_t blocked_in_edge(const pd_dag *dag, uint32_t r, const uint32_t *rep,
                                const uint32_t *indeg)
{
	uint32_t e = blocked_in_edge_of(dag, r, rep, indeg);
	for (uint32_t i = dag->in_off[r]; e == UINT32_MAX && i < dag->in_off[r + 1]; i++) {
		const pd_edge *ed = &dag->edges[dag->in_edge[i]];
		if (ed->kind == PD_E_COLLECTIVE && rep[ed->src] == r)
			e = blocked_in_edge_of(dag, ed->src, rep, indeg);
	}
	return e;
}

/* Walks backwards over blocked predecessors until a contracted node repeats; fills
 * cyc[] with the cycle's edges in forward order and returns their number. */
static uint32_t find_cycle(const pd_dag *dag, const uint32_t *rep, const uint32_t *indeg,
                           uint32_t start, uint32_t *pos, uint32_t *walk)
{
	uint32_t r = start, step = 0;
	memset(pos, 0xff, (size_t)dag->n_nodes * sizeof(uint32_t));
	while (pos[r] == UINT32_MAX) {
		pos[r] = step;
		uint32_t e = blocked_in_edge(dag, r, rep, indeg);
		if (e == UINT32_MAX)
			return 0; /* cannot happen: a blocked node has a blocked predecessor */
		walk[step++] = e;
		r = rep[dag->edges[e].src];
	}
	/* walk[pos[r] .. step) is the cycle, backwards */
	uint32_t first = pos[r], len = step - first;
	for (uint32_t i = 0; i < len / 2; i++) {
		uint32_t t = walk[first + i];
		walk[first + i] = walk[step - 1 - i];
		walk[step - 1 - i] = t;
	}
	memmove(walk, walk + first, len * sizeof(uint32_t));
	return len;
}

#define CYCLE_PRINT_MAX 24

/* "a -> b ~ c -> d ~ a": `->` is an edge, `~` joins two members of one collective
 * (each waits for the other).  The text starts and ends with the same node. */
static char *cycle_text(const pd_dag *dag, const uint32_t *cyc, uint32_t len)
{
	char *buf = NULL, node[128];
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	uint32_t first = dag->edges[cyc[0]].src;
	pd_i_node_describe(dag, first, node, sizeof(node));
	fputs(node, f);
	for (uint32_t i = 0; i < len; i++) {
		if (i == CYCLE_PRINT_MAX) {
			fprintf(f, " ... (%u edges in all)", len);
			break;
		}
		uint32_t dst = dag->edges[cyc[i]].dst;
		uint32_t next = i + 1 < len ? dag->edges[cyc[i + 1]].src : first;
		pd_i_node_describe(dag, dst, node, sizeof(node));
		fprintf(f, " -> %s", node);
		if (next != dst) {
			pd_i_node_describe(dag, next, node, sizeof(node));
			fprintf(f, " ~ %s", node);
		}
	}
	fclose(f);
	return buf;
}

static pd_status report_cycle(const pd_dag *dag, const uint32_t *rep, const uint32_t *indeg,
                              pd_diag_list *diags)
{
	uint32_t n = dag->n_nodes, start = 0;
	while (start < n && (rep[start] != start || indeg[start] == 0))
		start++;
	uint32_t *pos = malloc((size_t)n * sizeof(uint32_t));
	uint32_t *walk = malloc((size_t)n * sizeof(uint32_t));
	uint32_t len =
	    pos && walk && start < n ? find_cycle(dag, rep, indeg, start, pos, walk) : 0;
	char *text = len ? cycle_text(dag, walk, len) : NULL;
	free(pos);
	free(walk);
	pd_diag *d = pd_diag_add(diags, PD_RULE_ACYCLIC, PD_ERROR, 0, 0, "cycle: %s",
	                         text ? text : "(cycle could not be printed)");
	pd_diag_fix(d, "a deadlock: two GPUs meet the same collectives in different orders, "
	               "or an edge points backwards in a GPU's program; make every GPU of a "
	               "group issue its collectives in the same order ('~' joins members of "
	               "one collective)");
	pd_status s = text || len == 0 ? PD_INVALID : PD_IO;
	free(text);
	return s;
}

pd_status pd_dag_check_acyclic(const pd_dag *dag, pd_diag_list *diags)
{
	PD_ASSERT(dag->finalized); /* callers check finalized DAGs only */
	/* fast path: increasing id is a topological order (one pass over the edges) */
	if (pd_i_prove_ids_topological(dag))
		return PD_OK;
	uint32_t n = dag->n_nodes ? dag->n_nodes : 1;
	const uint32_t *rep = pd_i_contract(dag);
	uint32_t *indeg = pd_i_alloc_big((size_t)n * sizeof(uint32_t));
	uint32_t *order = pd_i_alloc_big((size_t)n * sizeof(uint32_t));
	pd_status s = PD_IO;
	if (indeg && order) {
		uint32_t done, reps;
		pd_i_kahn(dag, rep, indeg, order, &done, &reps);
		s = done == reps ? PD_OK : report_cycle(dag, rep, indeg, diags);
	}
	free(indeg);
	free(order);
	return s;
}

/* ---- placement ---- */

/* Collects placement findings; the diagnostic list keeps the first
 * PD_DIAG_PER_RULE_MAX and counts the rest. */
typedef struct finder {
	const pd_dag *dag;
	pd_diag_list *diags;
	uint64_t found;
	struct stage_key {
		int32_t replica, stage;
		uint32_t idx; /* into dag->stages */
	} * stage_idx;    /* sorted by (replica, stage) */
	uint32_t n_idx;
	int32_t *buf; /* scratch for hub members */
	uint32_t cap_buf;
} finder;

static void finding(finder *f, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finding(finder *f, const char *fix, const char *fmt, ...)
{
	f->found++;
	va_list ap;
	va_start(ap, fmt);
	pd_diag *d = pd_diag_addv(f->diags, PD_RULE_PLACEMENT, PD_ERROR, 0, 0, fmt, ap);
	va_end(ap);
	pd_diag_fix(d, "%s", fix);
}

/* True when `rule` keeps no more diagnostics: a finding is then only counted, so
 * the caller need not describe the node (millions of findings cost counts only). */
static int rule_full(const pd_diag_list *l, const char *rule)
{
	for (size_t i = 0; i < l->n_rules; i++)
		if (strcmp(l->rules[i].rule, rule) == 0)
			return l->rules[i].kept >= PD_DIAG_PER_RULE_MAX;
	return 0;
}

static void describe(const finder *f, uint32_t v, char *buf, size_t size)
{
	if (rule_full(f->diags, PD_RULE_PLACEMENT))
		snprintf(buf, size, "-");
	else
		pd_i_node_describe(f->dag, v, buf, size);
}

static int cmp_stage_key(const void *a, const void *b)
{
	const struct stage_key *x = a, *y = b;
	if (x->replica != y->replica)
		return (x->replica > y->replica) - (x->replica < y->replica);
	return (x->stage > y->stage) - (x->stage < y->stage);
}

/* (replica, stage) -> index into dag->stages, -1 when absent. */
static int32_t stage_of(const finder *f, int32_t r, int32_t s)
{
	if (!f->n_idx)
		return -1;
	struct stage_key k = {.replica = r, .stage = s};
	const struct stage_key *hit =
	    bsearch(&k, f->stage_idx, f->n_idx, sizeof(k), cmp_stage_key);
	return hit ? (int32_t)hit->idx : -1;
}

/* An index as large as the stage records themselves, whatever ids they carry. */
static pd_status index_stages(finder *f)
{
	const pd_dag *d = f->dag;
	if (!d->n_stages)
		return PD_OK;
	f->stage_idx = malloc((size_t)d->n_stages * sizeof(*f->stage_idx));
	if (!f->stage_idx)
		return PD_IO;
	for (uint32_t i = 0; i < d->n_stages; i++)
		f->stage_idx[i] = (struct stage_key){d->stages[i].replica, d->stages[i].stage, i};
	qsort(f->stage_idx, d->n_stages, sizeof(*f->stage_idx), cmp_stage_key);
	f->n_idx = d->n_stages;
	return PD_OK;
}

/* Node GPU exists and serves the node's (replica, stage).  A DAG without cluster
 * (n_gpus 0: hand-written GraphML) has no GPU ids to check against. */
static void check_node_gpu(finder *f, uint32_t v, const pd_node *n)
{
	const pd_dag *d = f->dag;
	char what[128];
	if (d->n_gpus <= 0)
		return;
	if (n->gpu < 0 || n->gpu >= d->n_gpus) {
		describe(f, v, what, sizeof(what));
		finding(f, "use a GPU id between 0 and the cluster size - 1",
		        "node n%u (%s) is on gpu %d, which does not exist (%d GPUs)", v, what,
		        (int)n->gpu, (int)d->n_gpus);
		return;
	}
	const pd_dag_gpu *g = d->gpu ? &d->gpu[n->gpu] : NULL;
	if (g && (g->replica != n->replica || g->stage != n->stage)) {
		describe(f, v, what, sizeof(what));
		finding(f, "place the node on a GPU of its own replica and stage",
		        "node n%u (%s) belongs to replica %d stage %d but gpu %d serves replica "
		        "%d stage %d",
		        v, what, (int)n->replica, (int)n->stage, (int)n->gpu, (int)g->replica,
		        (int)g->stage);
	}
}

/* An expert node runs only where its weights are. */
static void check_expert(finder *f, uint32_t v, const pd_node *n)
{
	int32_t si = stage_of(f, n->replica, n->stage);
	if (si < 0)
		return;
	const pd_dag_stage *st = &f->dag->stages[si];
	bool known = n->expert >= 0 && n->expert < st->n_experts;
	int32_t host = known ? st->expert_gpu[n->expert] : -1;
	if (known && host != n->gpu && st->copy_off) { /* a copy of a redundant expert */
		uint32_t lo = st->copy_off[n->expert], hi = st->copy_off[n->expert + 1];
		if (bsearch(&n->gpu, st->copy_gpu + lo, hi - lo, sizeof(int32_t), pd_i_cmp_i32))
			host = n->gpu;
	}
	if (host != n->gpu)
		finding(f, "run each expert on the GPU that holds its weights (see <place>)",
		        "expert %d of layer %d (node n%u) runs on gpu %d but is hosted on gpu %d",
		        (int)n->expert, (int)n->layer, v, (int)n->gpu, (int)host);
}

/* Compares a hub's members with its group; both sorted. */
static void compare_members(finder *f, uint32_t h, const int32_t *m, uint32_t nm)
{
	const pd_dag *d = f->dag;
	const pd_node *hub = &d->nodes[h];
	const int32_t *g = d->groups.gpus + d->groups.off[hub->group];
	uint32_t ng = d->groups.off[hub->group + 1] - d->groups.off[hub->group], i = 0, j = 0;
	int32_t missing = -1, extra = -1, dup = -1;
	while (i < ng || j < nm) {
		if (j > 0 && j < nm && m[j] == m[j - 1]) {
			dup = dup < 0 ? m[j] : dup;
			j++;
		} else if (j == nm || (i < ng && g[i] < m[j])) {
			missing = missing < 0 ? g[i] : missing;
			i++;
		} else if (i == ng || m[j] < g[i]) {
			extra = extra < 0 ? m[j] : extra;
			j++;
		} else {
			i++;
			j++;
		}
	}
	if (missing < 0 && extra < 0 && dup < 0)
		return;
	char what[128], parts[160] = "";
	size_t u = 0;
	if (missing >= 0)
		u +=
		    (size_t)snprintf(parts + u, sizeof(parts) - u, " gpu %d missing", (int)missing);
	if (extra >= 0 && u < sizeof(parts))
		u += (size_t)snprintf(parts + u, sizeof(parts) - u, " gpu %d not in the group",
		                      (int)extra);
	if (dup >= 0 && u < sizeof(parts))
		snprintf(parts + u, sizeof(parts) - u, " gpu %d twice", (int)dup);
	describe(f, h, what, sizeof(what));
	finding(f, "give the collective exactly one member node on every GPU of its group",
	        "collective n%u (%s) over %u GPUs has %u members:%s", h, what, ng, nm, parts);
}

/* The members of hub h (sources of its collective edges) are exactly its group. */
static pd_status check_hub(finder *f, uint32_t h)
{
	const pd_dag *d = f->dag;
	const pd_node *hub = &d->nodes[h];
	if (hub->group < 0 || (uint32_t)hub->group >= d->groups.n) {
		finding(f, "give every collective hub its member group",
		        "collective n%u has no valid group (%d)", h, (int)hub->group);
		return PD_OK;
	}
	uint32_t nm = 0, deg = d->in_off[h + 1] - d->in_off[h];
	if (deg > f->cap_buf) {
		void *b =
		    f->buf; /* f->buf's address stays private: the loops keep it in a register */
		PD_CHECK(pd_i_array_resize(&b, deg, sizeof(int32_t)));
		f->buf = b;
		f->cap_buf = deg;
	}
	for (uint32_t i = d->in_off[h]; i < d->in_off[h + 1]; i++) {
		const pd_edge *ed = &d->edges[d->in_edge[i]];
		if (ed->kind == PD_E_COLLECTIVE)
			f->buf[nm++] = d->nodes[ed->src].gpu;
	}
	uint32_t i = 1;
	while (i < nm && f->buf[i - 1] <= f->buf[i])
		i++;
	if (i < nm) /* the lowering emits members sorted: sort only what is not */
		qsort(f->buf, nm, sizeof(int32_t), pd_i_cmp_i32);
	compare_members(f, h, f->buf, nm);
	return PD_OK;
}

/* Count of v's comm edges (out when out != 0, else in) whose other end has kind k. */
static uint32_t comm_edges(const pd_dag *d, uint32_t v, int out, pd_node_kind k)
{
	const uint32_t *off = out ? d->out_off : d->in_off,
	               *ids = out ? d->out_edge : d->in_edge;
	uint32_t c = 0;
	for (uint32_t i = off[v]; i < off[v + 1]; i++) {
		const pd_edge *ed = &d->edges[ids[i]];
		if (ed->kind == PD_E_COMM && d->nodes[out ? ed->dst : ed->src].kind == k)
			c++;
	}
	return c;
}

static void check_pp(finder *f, uint32_t v, const pd_node *n)
{
	int send = n->kind == PD_N_PP_SEND;
	uint32_t c = comm_edges(f->dag, v, send, send ? PD_N_PP_RECV : PD_N_PP_SEND);
	if (c == 1)
		return;
	char what[128];
	describe(f, v, what, sizeof(what));
	finding(f, "pair every pp_send with exactly one pp_recv by a comm edge",
	        "%s n%u (%s) has %u comm edges %s a %s", send ? "pp_send" : "pp_recv", v, what,
	        c, send ? "to" : "from", send ? "pp_recv" : "pp_send");
}

/* The other end of kv node v's only comm edge with a kv partner (UINT32_MAX unless
 * exactly one). */
static uint32_t kv_partner(const pd_dag *d, uint32_t v, int send)
{
	const uint32_t *off = send ? d->out_off : d->in_off,
	               *ids = send ? d->out_edge : d->in_edge;
	uint32_t other = UINT32_MAX, c = 0;
	pd_node_kind want = send ? PD_N_KV_RECV : PD_N_KV_SEND;
	for (uint32_t i = off[v]; i < off[v + 1]; i++) {
		const pd_edge *ed = &d->edges[ids[i]];
		uint32_t w = send ? ed->dst : ed->src;
		if (ed->kind == PD_E_COMM && d->nodes[w].kind == want) {
			other = w;
			c++;
		}
	}
	return c == 1 ? other : UINT32_MAX;
}

static double node_bytes(const pd_dag *d, uint32_t v)
{
	uint32_t c = d->nodes[v].cost;
	return c < d->n_costs ? d->costs[c].bytes : 0;
}

/* The phase GPU g's pool runs (-1 when unknown). */
static int gpu_phase(const pd_dag *d, int32_t g)
{
	int32_t p = pd_dag_gpu_pool(d, g);
	return p >= 0 && (uint32_t)p < d->n_pools ? (int)d->pools[p].phase : -1;
}

/* A kv_send pairs with exactly one kv_recv (and the other way round) carrying the
 * same bytes of the same layer, from a prefill GPU to a decode GPU; the layer is one
 * that both GPUs' stages serve (checked in check_kv_layers). */
static void check_kv(finder *f, uint32_t v, const pd_node *n)
{
	const pd_dag *d = f->dag;
	int send = n->kind == PD_N_KV_SEND;
	uint32_t w = kv_partner(d, v, send);
	char what[128];
	if (w == UINT32_MAX) {
		describe(f, v, what, sizeof(what));
		finding(f, "pair every kv_send with exactly one kv_recv by a comm edge",
		        "%s n%u (%s) is not paired with exactly one %s",
		        send ? "kv_send" : "kv_recv", v, what, send ? "kv_recv" : "kv_send");
		return;
	}
	if (!send)
		return; /* the pair is judged once, from its send */
	const pd_node *r = &d->nodes[w];
	if (node_bytes(d, v) != node_bytes(d, w) || r->layer != n->layer) {
		describe(f, v, what, sizeof(what));
		finding(
		    f, "a kv_recv receives exactly what its kv_send sends: same bytes, same layer",
		    "kv_send n%u (%s) sends %.0f bytes of layer %d but kv_recv n%u receives %.0f "
		    "bytes of layer %d",
		    v, what, node_bytes(d, v), (int)n->layer, w, node_bytes(d, w), (int)r->layer);
	}
	int ps = gpu_phase(d, n->gpu), pr = gpu_phase(d, r->gpu);
	if ((ps >= 0 && ps != PD_PREFILL) || (pr >= 0 && pr != PD_DECODE)) {
		describe(f, v, what, sizeof(what));
		finding(
		    f, "hand the KV over from a GPU of the prefill pool to one of the decode pool",
		    "kv_send n%u (%s) goes from gpu %d to gpu %d, not from the prefill pool to the "
		    "decode pool",
		    v, what, (int)n->gpu, (int)r->gpu);
	}
}

/* The node's phase is its pool's (a one-phase DAG: the DAG's). */
static void check_phase(finder *f, uint32_t v, const pd_node *n)
{
	const pd_dag *d = f->dag;
	int want = d->n_pools ? gpu_phase(d, n->gpu) : (int)d->phase;
	if (want < 0 || n->phase == want)
		return;
	char what[128];
	describe(f, v, what, sizeof(what));
	finding(f, "give every node the phase of the pool its GPU belongs to",
	        "node n%u (%s) has phase %s but gpu %d runs the %s step", v, what,
	        pd_phase_name((pd_phase)n->phase), (int)n->gpu, pd_phase_name((pd_phase)want));
}

/* A member has exactly one collective edge, to a hub. */
static void check_member(finder *f, uint32_t v)
{
	const pd_dag *d = f->dag;
	uint32_t c = 0;
	for (uint32_t i = d->out_off[v]; i < d->out_off[v + 1]; i++) {
		const pd_edge *ed = &d->edges[d->out_edge[i]];
		c += ed->kind == PD_E_COLLECTIVE && d->nodes[ed->dst].kind == PD_N_COLLECTIVE;
	}
	if (c == 1)
		return;
	char what[128];
	describe(f, v, what, sizeof(what));
	finding(f, "connect every collective member to exactly one hub",
	        "n%u (%s) has %u collective edges to hubs", v, what, c);
}

static pd_status check_nodes(finder *f)
{
	const pd_dag *d = f->dag;
	for (uint32_t v = 0; v < d->n_nodes; v++) {
		const pd_node *n = &d->nodes[v];
		if (n->kind == PD_N_COLLECTIVE) {
			PD_CHECK(check_hub(f, v));
			continue;
		}
		check_node_gpu(f, v, n);
		check_phase(f, v, n);
		if (n->kind == PD_N_EXPERT)
			check_expert(f, v, n);
		else if (n->kind == PD_N_PP_SEND || n->kind == PD_N_PP_RECV)
			check_pp(f, v, n);
		else if (n->kind == PD_N_KV_SEND || n->kind == PD_N_KV_RECV)
			check_kv(f, v, n);
		else if (pd_node_kind_is_collective_member((pd_node_kind)n->kind))
			check_member(f, v);
	}
	return PD_OK;
}

/* Every kv_send / kv_recv carries a layer its GPU serves: one that some other node of
 * that GPU (an attention, a norm) computes. */
static pd_status check_kv_layers(finder *f)
{
	const pd_dag *d = f->dag;
	if (d->n_gpus <= 0 || !d->n_pools)
		return PD_OK;
	int32_t *lo = malloc((size_t)d->n_gpus * sizeof(int32_t));
	int32_t *hi = malloc((size_t)d->n_gpus * sizeof(int32_t));
	if (!lo || !hi) {
		free(lo);
		free(hi);
		return PD_IO;
	}
	for (int32_t g = 0; g < d->n_gpus; g++)
		lo[g] = INT32_MAX, hi[g] = -1;
	for (uint32_t v = 0; v < d->n_nodes; v++) {
		const pd_node *n = &d->nodes[v];
		bool kv = n->kind == PD_N_KV_SEND || n->kind == PD_N_KV_RECV;
		if (kv || n->gpu < 0 || n->gpu >= d->n_gpus || n->layer < 0)
			continue;
		lo[n->gpu] = n->layer < lo[n->gpu] ? n->layer : lo[n->gpu];
		hi[n->gpu] = n->layer > hi[n->gpu] ? n->layer : hi[n->gpu];
	}
	for (uint32_t v = 0; v < d->n_nodes; v++) {
		const pd_node *n = &d->nodes[v];
		if ((n->kind != PD_N_KV_SEND && n->kind != PD_N_KV_RECV) || n->gpu < 0 ||
		    n->gpu >= d->n_gpus || (n->layer >= lo[n->gpu] && n->layer <= hi[n->gpu]))
			continue;
		char what[128];
		describe(f, v, what, sizeof(what));
		finding(f, "hand each layer's KV over between GPUs whose stages serve that layer",
		        "%s n%u (%s) hands over layer %d, which gpu %d does not serve",
		        pd_node_kind_name((pd_node_kind)n->kind), v, what, (int)n->layer,
		        (int)n->gpu);
	}
	free(lo);
	free(hi);
	return PD_OK;
}

static void check_memory(finder *f)
{
	const pd_dag *d = f->dag;
	for (int32_t g = 0; d->gpu && g < d->n_gpus; g++)
		if (d->gpu_capacity > 0 && d->gpu[g].memory > d->gpu_capacity)
			finding(f,
			        "move layers or experts off this GPU, shorten the context or add GPUs",
			        "gpu %d needs %.2f GB but has %.2f GB", (int)g, d->gpu[g].memory / 1e9,
			        d->gpu_capacity / 1e9);
}

pd_status pd_dag_check_placement(const pd_dag *dag, pd_diag_list *diags)
{
	PD_ASSERT(dag->finalized); /* callers check finalized DAGs only */
	finder f = {.dag = dag, .diags = diags};
	pd_status s = index_stages(&f);
	if (s == PD_OK)
		s = check_nodes(&f);
	if (s == PD_OK)
		s = check_kv_layers(&f);
	if (s == PD_OK)
		check_memory(&f);
	free(f.stage_idx);
	free(f.buf);
	if (s != PD_OK)
		return s;
	return f.found ? PD_INVALID : PD_OK;
}
