/* chakra_verify.c - the checks of a Chakra trace set that span nodes and ranks, once
 * chakra_read.c has read every file (docs/executors.md, "What verify checks"):
 *   - every dependency names a node of its file, node ids are unique in a file;
 *   - every send has exactly one receive with the same (src, dst, tag) and size;
 *   - every member of a group issues the group's collectives in one order, with the
 *     same type and size, and no rank outside the group issues one;
 *   - no cycle: Kahn's algorithm over the dependencies, send -> receive, and each
 *     collective instance (the k-th collective of a group on each member) contracted
 *     to one node, which is how a replayer deadlocks.
 */
#include <stdlib.h>
#include <string.h>

#include "export/chakra_internal.h"

#define NONE UINT32_MAX
#define CYCLE_SHOWN 10

/* ---- dependencies ---- */
typedef struct id_idx {
	uint64_t id;
	uint32_t idx;
} id_idx;

static int cmp_id(const void *a, const void *b)
{
	uint64_t x = ((const id_idx *)a)->id, y = ((const id_idx *)b)->id;
	return (x > y) - (x < y);
}

static void resolve_rank(pd_i_et_set *s, uint32_t r, id_idx *ix)
{
	uint32_t lo = s->rank_off[r], n = s->rank_off[r + 1] - lo;
	for (uint32_t i = 0; i < n; i++)
		ix[i] = (id_idx){s->nodes[lo + i].id, lo + i};
	qsort(ix, n, sizeof(*ix), cmp_id);
	for (uint32_t i = 1; i < n; i++)
		if (ix[i].id == ix[i - 1].id)
			pd_i_et_finding(s, r, &s->nodes[ix[i].idx],
			                "give every node of a file its own id",
			                "a second node with id %llu", (unsigned long long)ix[i].id);
	for (uint32_t i = 0; i < n; i++) {
		pd_i_et_node *v = &s->nodes[lo + i];
		for (uint32_t k = 0; k < v->n_deps; k++) {
			uint64_t *d = &s->deps[v->dep_off + k];
			id_idx key = {*d, 0};
			const id_idx *hit = bsearch(&key, ix, n, sizeof(*ix), cmp_id);
			if (!hit)
				pd_i_et_finding(s, r, v, "depend only on nodes of the same file",
				                "depends on node %llu, which is not in the file",
				                (unsigned long long)*d);
			*d = hit ? hit->idx : UINT64_MAX;
		}
	}
}

static pd_status resolve_deps(pd_i_et_set *s)
{
	id_idx *ix = malloc((s->n_nodes ? s->n_nodes : 1) * sizeof(*ix));
	if (!ix)
		return PD_IO;
	for (uint32_t r = 0; r < s->n_ranks; r++)
		resolve_rank(s, r, ix);
	free(ix);
	return PD_OK;
}

/* ---- sends and receives ---- */
typedef struct p2p {
	int32_t src, dst, tag;
	uint32_t idx;
} p2p;

static int cmp_p2p(const void *a, const void *b)
{
	const p2p *x = a, *y = b;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	if (x->dst != y->dst)
		return x->dst < y->dst ? -1 : 1;
	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The sends (or receives) that carry every attribute they need, sorted by key; the
 * receive's own end is its rank, the send's too. */
static size_t gather_p2p(const pd_i_et_set *s, int32_t type, p2p *out)
{
	uint32_t need =
	    PD_I_ET_TAG | PD_I_ET_COMM_SIZE |
	    (type == CHAKRA_PROTO_MSG__NODE_TYPE__COMM_SEND_NODE ? PD_I_ET_DST : PD_I_ET_SRC);
	size_t n = 0;
	for (size_t i = 0; i < s->n_nodes; i++) {
		const pd_i_et_node *v = &s->nodes[i];
		if (v->type != type || (v->has & need) != need)
			continue;
		bool send = type == CHAKRA_PROTO_MSG__NODE_TYPE__COMM_SEND_NODE;
		out[n++] = (p2p){send ? (int32_t)v->rank : v->src, send ? v->dst : (int32_t)v->rank,
		                 v->tag, (uint32_t)i};
	}
	qsort(out, n, sizeof(*out), cmp_p2p);
	return n;
}

static bool same_key(const p2p *a, const p2p *b)
{
	return a->src == b->src && a->dst == b->dst && a->tag == b->tag;
}

static void unmatched(pd_i_et_set *s, const p2p *e, bool send)
{
	const pd_i_et_node *v = &s->nodes[e->idx];
	pd_i_et_finding(s, v->rank, v,
	                send ? "add the receive on the destination rank, or remove the send"
	                     : "add the send on the source rank, or remove the receive",
	                send ? "send to rank %d with tag %d has no receive on rank %d"
	                     : "receive from rank %d with tag %d has no send on rank %d",
	                send ? e->dst : e->src, e->tag, send ? e->dst : e->src);
}

static void duplicates(pd_i_et_set *s, const p2p *v, size_t n, bool send)
{
	for (size_t i = 1; i < n; i++)
		if (same_key(&v[i], &v[i - 1]))
			pd_i_et_finding(s, s->nodes[v[i].idx].rank, &s->nodes[v[i].idx],
			                "give every send/receive pair its own tag",
			                "a second %s with src %d, dst %d, tag %d",
			                send ? "send" : "receive", v[i].src, v[i].dst, v[i].tag);
}

static void pair(pd_i_et_set *s, const p2p *a, const p2p *b, uint32_t *send_of)
{
	const pd_i_et_node *x = &s->nodes[a->idx], *y = &s->nodes[b->idx];
	if (x->comm_size != y->comm_size)
		pd_i_et_finding(
		    s, y->rank, y, "make the sizes of the send and its receive equal",
		    "receives %lld bytes from rank %d with tag %d, the send (node %llu) "
		    "sends %lld",
		    (long long)y->comm_size, a->src, a->tag, (unsigned long long)x->id,
		    (long long)x->comm_size);
	else
		send_of[b->idx] = a->idx;
}

/* Merges the sorted sends and receives; send_of[recv] = its send when they match. */
static pd_status match_p2p(pd_i_et_set *s, uint32_t *send_of)
{
	p2p *snd = malloc((s->n_nodes + 1) * sizeof(p2p));
	p2p *rcv = malloc((s->n_nodes + 1) * sizeof(p2p));
	if (!snd || !rcv) {
		free(snd);
		free(rcv);
		return PD_IO;
	}
	size_t ns = gather_p2p(s, CHAKRA_PROTO_MSG__NODE_TYPE__COMM_SEND_NODE, snd);
	size_t nr = gather_p2p(s, CHAKRA_PROTO_MSG__NODE_TYPE__COMM_RECV_NODE, rcv);
	duplicates(s, snd, ns, true);
	duplicates(s, rcv, nr, false);
	size_t i = 0, j = 0;
	while (i < ns || j < nr) {
		int c = i == ns                      ? 1
		        : j == nr                    ? -1
		        : same_key(&snd[i], &rcv[j]) ? 0
		                                     : cmp_p2p(&snd[i], &rcv[j]);
		if (c == 0)
			pair(s, &snd[i++], &rcv[j++], send_of);
		else if (c < 0)
			unmatched(s, &snd[i++], true);
		else
			unmatched(s, &rcv[j++], false);
	}
	free(snd);
	free(rcv);
	return PD_OK;
}

/* ---- collectives ---- */
typedef struct coll {
	uint32_t group, idx; /* idx ascends with rank, then file order */
} coll;

static int cmp_coll(const void *a, const void *b)
{
	const coll *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

static const char *coll_name(int64_t t)
{
	static const char *names[] = {"ALL_REDUCE", "REDUCE",         "ALL_GATHER",
	                              "GATHER",     "SCATTER",        "BROADCAST",
	                              "ALL_TO_ALL", "REDUCE_SCATTER", "REDUCE_SCATTER_BLOCK",
	                              "BARRIER"};
	return t >= 0 && t <= 9 ? names[t] : "?";
}

/* The group of a collective: its pg_name's, or the whole set (a group made once). */
static pd_status group_of(pd_i_et_set *s, const pd_i_et_node *v, uint32_t *world,
                          uint32_t *g)
{
	if (v->has & PD_I_ET_GROUP) {
		*g = (uint32_t)v->group;
		return PD_OK;
	}
	if (*world == NONE) {
		if (s->n_groups == s->cap_groups) {
			pd_i_et_group *n = realloc(s->groups, (s->cap_groups + 1) * sizeof(*n));
			if (!n)
				return PD_IO;
			s->groups = n;
			s->cap_groups++;
		}
		pd_i_et_group *w = &s->groups[s->n_groups];
		memset(w, 0, sizeof(*w));
		w->key = strdup("(all ranks)");
		w->ranks = malloc(s->n_ranks * sizeof(int32_t));
		if (!w->key || !w->ranks) {
			free(w->key);
			free(w->ranks);
			return PD_IO;
		}
		for (uint32_t r = 0; r < s->n_ranks; r++)
			w->ranks[r] = (int32_t)r;
		w->n_ranks = s->n_ranks;
		w->declared = true;
		*world = s->n_groups++;
	}
	*g = *world;
	return PD_OK;
}

static pd_status gather_colls(pd_i_et_set *s, coll *out, size_t *n)
{
	uint32_t world = NONE, need = PD_I_ET_COMM_TYPE | PD_I_ET_COMM_SIZE;
	*n = 0;
	for (size_t i = 0; i < s->n_nodes; i++) {
		const pd_i_et_node *v = &s->nodes[i];
		if (v->type != CHAKRA_PROTO_MSG__NODE_TYPE__COMM_COLL_NODE ||
		    (v->has & need) != need || ((v->has & PD_I_ET_GROUP) && v->group < 0))
			continue;
		uint32_t g;
		PD_CHECK(group_of(s, v, &world, &g));
		out[(*n)++] = (coll){g, (uint32_t)i};
	}
	qsort(out, *n, sizeof(*out), cmp_coll);
	return PD_OK;
}

static bool in_group(const pd_i_et_group *g, uint32_t r)
{
	int32_t key = (int32_t)r;
	for (uint32_t lo = 0, hi = g->n_ranks; lo < hi;) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (g->ranks[mid] == key)
			return true;
		if (g->ranks[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Where a rank's run of a group's collectives first differs from another's, in type,
 * size or length; SIZE_MAX when they agree. */
static size_t first_difference(const pd_i_et_set *s, const coll *ref, size_t nref,
                               const coll *run, size_t n)
{
	for (size_t k = 0; k < n && k < nref; k++) {
		const pd_i_et_node *a = &s->nodes[ref[k].idx], *b = &s->nodes[run[k].idx];
		if (a->comm_type != b->comm_type || a->comm_size != b->comm_size)
			return k;
	}
	return n == nref ? SIZE_MAX : n < nref ? n : nref;
}

/* Reports run's difference at position k against ref; `why` says who differs. */
static void report_difference(pd_i_et_set *s, const pd_i_et_group *g, const coll *ref,
                              size_t nref, const coll *run, size_t n, size_t k,
                              const char *why)
{
	const char *fix = "issue the group's collectives in the same order and with the same "
	                  "size on every member";
	const pd_i_et_node *r0 = &s->nodes[ref[0].idx], *v0 = &s->nodes[run[0].idx];
	if (k >= n || k >= nref) {
		pd_i_et_finding(s, v0->rank, NULL, fix,
		                "issues %zu collectives of group %s, rank %u issues %zu (%s)", n,
		                g->key, r0->rank, nref, why);
		return;
	}
	const pd_i_et_node *a = &s->nodes[ref[k].idx], *b = &s->nodes[run[k].idx];
	pd_i_et_finding(s, b->rank, b, fix,
	                "collective #%zu of group %s is %s of %lld bytes; on rank %u it is %s "
	                "of %lld bytes, node %llu (%s)",
	                k + 1, g->key, coll_name(b->comm_type), (long long)b->comm_size,
	                a->rank, coll_name(a->comm_type), (long long)a->comm_size,
	                (unsigned long long)a->id, why);
}

/* Members that issue none of the group's collectives while others do. */
static bool all_members_issue(pd_i_et_set *s, const pd_i_et_group *g, const coll *c,
                              size_t n)
{
	bool ok = true;
	size_t i = 0;
	for (uint32_t m = 0; g->declared && m < g->n_ranks; m++) {
		while (i < n && s->nodes[c[i].idx].rank < (uint32_t)g->ranks[m])
			i++;
		if (i < n && s->nodes[c[i].idx].rank == (uint32_t)g->ranks[m])
			continue;
		pd_i_et_finding(s, (uint32_t)g->ranks[m], NULL,
		                "every member issues each of the group's collectives",
		                "a member of group %s that issues none of its collectives", g->key);
		ok = false;
	}
	return ok;
}

typedef struct run_diff {
	size_t runs, differ; /* runs of the group; runs unlike the reference (the first) */
	size_t i, j, k;      /* the first unlike run, c[i..j), and where it differs */
} run_diff;

/* One finding per group: at the first unlike run, or at the reference run when every
 * other member is unlike it (the odd one out is then the reference). */
static void report_group(pd_i_et_set *s, const pd_i_et_group *g, const coll *c, size_t nref,
                         const run_diff *d)
{
	char why[128];
	uint32_t r0 = s->nodes[c[0].idx].rank;
	if (d->differ == d->runs - 1 && d->runs > 2) {
		snprintf(why, sizeof(why), "rank %u differs from all %zu other members", r0,
		         d->differ);
		report_difference(s, g, c + d->i, d->j - d->i, c, nref, d->k, why);
	} else {
		snprintf(why, sizeof(why), "%zu of %zu members differ from rank %u", d->differ,
		         d->runs, r0);
		report_difference(s, g, c, nref, c + d->i, d->j - d->i, d->k, why);
	}
}

/* Checks one group's collectives c[0..n) (sorted by rank, file order); when every
 * member agrees, contracts instance k onto the reference rank's k-th node. */
static void check_group(pd_i_et_set *s, const coll *c, size_t n, uint32_t *rep,
                        uint32_t *next)
{
	const pd_i_et_group *g = &s->groups[c[0].group];
	bool ok = all_members_issue(s, g, c, n);
	size_t nref = 0;
	while (nref < n && s->nodes[c[nref].idx].rank == s->nodes[c[0].idx].rank)
		nref++;
	run_diff d = {0};
	for (size_t i = 0, j; i < n; i = j, d.runs++) {
		uint32_t r = s->nodes[c[i].idx].rank;
		for (j = i; j < n && s->nodes[c[j].idx].rank == r;)
			j++;
		size_t k = i ? first_difference(s, c, nref, c + i, j - i) : SIZE_MAX;
		if (g->declared && !in_group(g, r)) {
			pd_i_et_finding(s, r, &s->nodes[c[i].idx],
			                "add the rank to the group, or name "
			                "the group the rank is in",
			                "rank %u is not a member of group %s", r, g->key);
			ok = false;
		} else if (k != SIZE_MAX && d.differ++ == 0)
			d = (run_diff){d.runs, 1, i, j, k};
	}
	if (d.differ)
		report_group(s, g, c, nref, &d);
	for (size_t i = nref; ok && !d.differ && i < n; i++) {
		uint32_t m = c[i].idx, ref = c[i % nref].idx; /* every run has nref */
		rep[m] = ref;
		next[m] = next[ref];
		next[ref] = m;
	}
}

static pd_status check_collectives(pd_i_et_set *s, uint32_t *rep, uint32_t *next)
{
	coll *c = malloc((s->n_nodes + 1) * sizeof(*c));
	size_t n;
	pd_status st = c ? gather_colls(s, c, &n) : PD_IO;
	for (size_t i = 0, j; st == PD_OK && i < n; i = j) {
		for (j = i; j < n && c[j].group == c[i].group;)
			j++;
		check_group(s, c + i, j - i, rep, next);
	}
	free(c);
	return st;
}

/* ---- cycles ---- */
typedef struct graph {
	uint32_t n;
	uint32_t *rep, *next; /* contraction: representative, members in a ring */
	uint32_t *send_of;    /* receive -> its matched send, NONE */
	uint32_t *off, *succ; /* CSR over representatives */
	uint32_t *indeg;
} graph;

/* Calls fn(arg, from, to) for every edge between representatives. */
#define FOR_EACH_EDGE(s, g, BODY)                                                          \
	for (uint32_t v_ = 0; v_ < (g)->n; v_++) {                                             \
		const pd_i_et_node *nv_ = &(s)->nodes[v_];                                         \
		for (uint32_t k_ = 0; k_ <= nv_->n_deps; k_++) {                                   \
			uint64_t d_ =                                                                  \
			    k_ < nv_->n_deps                                                           \
			        ? (s)->deps[nv_->dep_off + k_]                                         \
			        : ((g)->send_of[v_] == NONE ? UINT64_MAX : (g)->send_of[v_]);          \
			if (d_ == UINT64_MAX || (g)->rep[d_] == (g)->rep[v_])                          \
				continue;                                                                  \
			uint32_t from = (g)->rep[d_], to = (g)->rep[v_];                               \
			BODY;                                                                          \
		}                                                                                  \
	}

static pd_status build_csr(const pd_i_et_set *s, graph *g)
{
	g->off = calloc((size_t)g->n + 2, sizeof(uint32_t));
	g->indeg = calloc((size_t)g->n + 1, sizeof(uint32_t));
	size_t m = s->n_deps + g->n + 1;
	g->succ = malloc(m * sizeof(uint32_t));
	if (!g->off || !g->indeg || !g->succ)
		return PD_IO;
	FOR_EACH_EDGE(s, g, {
		g->off[from + 2]++;
		g->indeg[to]++;
	});
	for (uint32_t i = 0; i < g->n; i++)
		g->off[i + 2] += g->off[i + 1];
	FOR_EACH_EDGE(s, g, g->succ[g->off[from + 1]++] = to);
	return PD_OK;
}

/* Kahn's algorithm; returns the representatives left (on a cycle or behind one). */
static uint32_t kahn(graph *g, uint32_t *queue)
{
	uint32_t head = 0, tail = 0, reps = 0;
	for (uint32_t v = 0; v < g->n; v++)
		if (g->rep[v] == v) {
			reps++;
			if (g->indeg[v] == 0)
				queue[tail++] = v;
		}
	while (head < tail) {
		uint32_t v = queue[head++];
		for (uint32_t i = g->off[v]; i < g->off[v + 1]; i++)
			if (--g->indeg[g->succ[i]] == 0)
				queue[tail++] = g->succ[i];
	}
	return reps - tail;
}

/* A predecessor of representative v that is still left, through any member. */
static uint32_t left_pred(const pd_i_et_set *s, const graph *g, uint32_t v)
{
	uint32_t m = v;
	do {
		const pd_i_et_node *n = &s->nodes[m];
		for (uint32_t k = 0; k <= n->n_deps; k++) {
			uint64_t d = k < n->n_deps
			                 ? s->deps[n->dep_off + k]
			                 : (g->send_of[m] == NONE ? UINT64_MAX : g->send_of[m]);
			if (d != UINT64_MAX && g->rep[d] != v && g->indeg[g->rep[d]] > 0)
				return g->rep[d];
		}
		m = g->next[m];
	} while (m != v);
	PD_ASSERT(!"a node left by Kahn's algorithm has a predecessor left");
	return NONE;
}

static void report_cycle(pd_i_et_set *s, const uint32_t *path, uint32_t n)
{
	char text[1024];
	size_t at = 0;
	for (uint32_t i = 0; i < n && i < CYCLE_SHOWN && at < sizeof(text); i++) {
		const pd_i_et_node *v = &s->nodes[path[n - 1 - i]];
		int w = snprintf(text + at, sizeof(text) - at, "%srank %u node %llu \"%.40s\"",
		                 i ? " -> " : "", v->rank, (unsigned long long)v->id,
		                 s->names + v->name);
		at += w > 0 ? (size_t)w : 0;
	}
	const pd_i_et_node *first = &s->nodes[path[n - 1]];
	pd_i_et_finding(
	    s, first->rank, first,
	    "remove one dependency of the cycle, or issue the groups' collectives in "
	    "one order on every rank",
	    "dependency cycle of %u nodes (collective instances count once): %s%s -> "
	    "back to the first",
	    n, text, n > CYCLE_SHOWN ? " -> ..." : "");
}

/* Walks back from a left node through left predecessors until one repeats. */
static pd_status find_cycle(pd_i_et_set *s, const graph *g)
{
	uint32_t *seen = malloc(((size_t)g->n + 1) * sizeof(uint32_t));
	uint32_t *path = malloc(((size_t)g->n + 1) * sizeof(uint32_t));
	if (!seen || !path) {
		free(seen);
		free(path);
		return PD_IO;
	}
	memset(seen, 0xff, ((size_t)g->n + 1) * sizeof(uint32_t));
	uint32_t v = 0, n = 0;
	while (g->rep[v] != v || g->indeg[v] == 0)
		v++;
	while (seen[v] == NONE) {
		seen[v] = n;
		path[n++] = v;
		v = left_pred(s, g, v);
	}
	report_cycle(s, path + seen[v], n - seen[v]);
	free(seen);
	free(path);
	return PD_OK;
}

static void graph_release(graph *g)
{
	free(g->rep);
	free(g->next);
	free(g->send_of);
	free(g->off);
	free(g->succ);
	free(g->indeg);
}

pd_status pd_i_et_set_check(pd_i_et_set *s)
{
	PD_CHECK(resolve_deps(s));
	if (s->incomplete) {
		pd_diag_add(s->diags, PD_RULE_TRACE, PD_NOTE, 0, 0,
		            "sends, receives, collectives and cycles across ranks were not "
		            "checked: the set is incomplete");
		return PD_OK;
	}
	graph g = {.n = (uint32_t)s->n_nodes};
	size_t n = s->n_nodes + 1;
	g.rep = malloc(n * sizeof(uint32_t));
	g.next = malloc(n * sizeof(uint32_t));
	g.send_of = malloc(n * sizeof(uint32_t));
	pd_status st = g.rep && g.next && g.send_of ? PD_OK : PD_IO;
	for (uint32_t v = 0; st == PD_OK && v < g.n; v++) {
		g.rep[v] = g.next[v] = v;
		g.send_of[v] = NONE;
	}
	if (st == PD_OK && (st = match_p2p(s, g.send_of)) == PD_OK &&
	    (st = check_collectives(s, g.rep, g.next)) == PD_OK &&
	    (st = build_csr(s, &g)) == PD_OK) {
		uint32_t *queue = malloc(n * sizeof(uint32_t));
		st = !queue ? PD_IO : kahn(&g, queue) > 0 ? find_cycle(s, &g) : PD_OK;
		free(queue);
	}
	graph_release(&g);
	return st;
}

pd_status pd_i_chakra_verify_files(const pd_i_et_file *files, uint32_t n_ranks,
                                   const char *groups_json, pd_chakra_summary *sum,
                                   pd_diag_list *diags)
{
	const char **names = calloc(n_ranks ? n_ranks : 1, sizeof(char *));
	pd_i_et_set s;
	pd_status st = names ? PD_OK : PD_IO;
	for (uint32_t r = 0; names && r < n_ranks; r++)
		names[r] = files[r].name;
	if (st == PD_OK)
		st = pd_i_et_set_init(&s, n_ranks, names, groups_json, diags);
	for (uint32_t r = 0; st == PD_OK && r < n_ranks; r++)
		st = pd_i_et_set_add(&s, r, files[r].data, files[r].size);
	if (st == PD_OK)
		st = pd_i_et_set_check(&s);
	if (sum && names)
		*sum = (pd_chakra_summary){n_ranks, s.n_nodes, s.n_groups};
	if (names)
		pd_i_et_set_release(&s);
	free(names);
	if (st == PD_OK && diags->errors)
		st = PD_INVALID;
	return st;
}
