/* chakra_write.c - the .et files of a Chakra trace set (docs/executors.md), one rank at
 * a time.
 *
 * Every node of a rank is one ChakraProtoMsg.Node built on the stack (its attributes
 * and dependency arrays reused from node to node), packed by protobuf-c straight into a
 * large output buffer behind its varint length, and the buffer goes to the file when
 * full.  Nodes keep their DAG ids and go out in id order, which the lowering makes a
 * topological order: parents come before children.  Hubs are no node: a member names
 * its group in pg_name.  The JSON and YAML files of the set are chakra_config.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dag/ops.h"
#include "export/chakra_internal.h"

#define OUT_BUFFER (1u << 20)
#define MAX_ATTRS 6

typedef ChakraProtoMsg__Node et_node;
typedef ChakraProtoMsg__AttributeProto et_attr;

/* ---- the output buffer ---- */
typedef struct et_out {
	FILE *f;
	uint8_t *buf;
	size_t n, cap;
	bool failed;
} et_out;

size_t pd_i_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static void out_flush(et_out *o)
{
	if (o->n && !o->failed && fwrite(o->buf, 1, o->n, o->f) != o->n)
		o->failed = true;
	o->n = 0;
}

/* Makes room for a message of at most `bound` bytes behind its prefix; grows the
 * buffer for a message larger than it (not one of plandag's). */
static bool out_room(et_out *o, size_t bound)
{
	if (o->cap - o->n < bound + 10)
		out_flush(o);
	if (o->cap < bound + 10) {
		uint8_t *b = realloc(o->buf, bound + 10);
		if (!b) {
			o->failed = true;
			return false;
		}
		o->buf = b;
		o->cap = bound + 10;
	}
	return true;
}

/* Appends varint(size) + the packed message, its size known first. */
static void out_message(et_out *o, const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	if (!out_room(o, len))
		return;
	o->n += pd_i_varint_put(o->buf + o->n, len);
	o->n += protobuf_c_message_pack(m, o->buf + o->n);
}

/* The same for a message whose size is at most `bound`: packed one byte after the
 * prefix's place (a node is almost always under 128 bytes), moved when its prefix
 * needs more than one byte.  One walk over the message instead of two. */
static void out_bounded(et_out *o, const ProtobufCMessage *m, size_t bound)
{
	if (!out_room(o, bound))
		return;
	uint8_t *at = o->buf + o->n;
	size_t len = protobuf_c_message_pack(m, at + 1);
	uint8_t pre[10];
	size_t np = pd_i_varint_put(pre, len);
	if (np > 1)
		memmove(at + np, at + 1, len);
	memcpy(at, pre, np);
	o->n += np + len;
}

/* ---- one node ---- */
typedef struct et_builder {
	const pd_dag *dag;
	const pd_i_chakra_ranks *rk;
	et_node node;
	et_attr attr[MAX_ATTRS];
	et_attr *attrs[MAX_ATTRS];
	uint64_t *data, *ctrl; /* capacity cap_deps each */
	size_t cap_deps;
	char name[96];
	size_t name_len;
	uint32_t last[2]; /* previous node of this rank per stream, UINT32_MAX: none */
	uint8_t kind_len[PD_N__COUNT];
} et_builder;

static void set_attr(et_builder *b, const char *name, int value_case)
{
	et_attr *a = &b->attr[b->node.n_attr];
	chakra_proto_msg__attribute_proto__init(a);
	a->name = (char *)name;
	a->value_case = value_case;
	b->attrs[b->node.n_attr++] = a;
}

static void attr_i64(et_builder *b, const char *name, int64_t v)
{
	set_attr(b, name, CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_INT64_VAL);
	b->attr[b->node.n_attr - 1].int64_val = v;
}

static void attr_i32(et_builder *b, const char *name, int32_t v)
{
	set_attr(b, name, CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_INT32_VAL);
	b->attr[b->node.n_attr - 1].int32_val = v;
}

static void attr_u64(et_builder *b, const char *name, uint64_t v)
{
	set_attr(b, name, CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_UINT64_VAL);
	b->attr[b->node.n_attr - 1].uint64_val = v;
}

static void attr_false(et_builder *b, const char *name)
{
	set_attr(b, name, CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_BOOL_VAL);
	b->attr[b->node.n_attr - 1].bool_val = 0;
}

static void attr_str(et_builder *b, const char *name, const char *v)
{
	set_attr(b, name, CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_STRING_VAL);
	b->attr[b->node.n_attr - 1].string_val = (char *)v;
}

/* A count of bytes or operations as the integer the trace carries: rounded, >= 0. */
static uint64_t whole(double x)
{
	return x > 0 && x < 1.8e19 ? (uint64_t)llround(x) : 0;
}

/* A communication size: rounded, at least one byte (comm_size 0 hangs ASTRA-sim). */
static int64_t comm_bytes(double x)
{
	uint64_t v = whole(x);
	return v < 1 ? 1 : v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* "[mbM ]LL kind[ E]", the label of every other export (pd_node_label), without
 * snprintf: this runs once per node. */
static char *put_uint(char *p, uint32_t v)
{
	char t[12];
	int n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*p++ = t[--n];
	return p;
}

static void node_name(et_builder *b, const pd_node *n)
{
	char *p = b->name;
	if (b->dag->micro_batches > 1) {
		memcpy(p, "mb", 2);
		p = put_uint(p + 2, (uint32_t)n->micro_batch);
		*p++ = ' ';
	}
	if (n->layer >= 0) {
		*p++ = 'L';
		p = put_uint(p, (uint32_t)n->layer);
		*p++ = ' ';
	}
	memcpy(p, pd_i_ops[n->kind].name, b->kind_len[n->kind]);
	p += b->kind_len[n->kind];
	if (n->kind == PD_N_EXPERT) {
		*p++ = ' ';
		p = put_uint(p, (uint32_t)n->expert);
	}
	*p = '\0';
	b->name_len = (size_t)(p - b->name);
}

static const int64_t coll_type[] = {
    [PD_I_COLL_ALL_REDUCE] = CHAKRA_PROTO_MSG__COLLECTIVE_COMM_TYPE__ALL_REDUCE,
    [PD_I_COLL_REDUCE_SCATTER] = CHAKRA_PROTO_MSG__COLLECTIVE_COMM_TYPE__REDUCE_SCATTER,
    [PD_I_COLL_ALL_GATHER] = CHAKRA_PROTO_MSG__COLLECTIVE_COMM_TYPE__ALL_GATHER,
    [PD_I_COLL_ALL_TO_ALL] = CHAKRA_PROTO_MSG__COLLECTIVE_COMM_TYPE__ALL_TO_ALL,
};

/* The hub a member node feeds (its one collective out-edge). */
static uint32_t hub_of(const pd_dag *dag, uint32_t v)
{
	for (uint32_t i = dag->out_off[v]; i < dag->out_off[v + 1]; i++) {
		const pd_edge *e = &dag->edges[dag->out_edge[i]];
		if (e->kind == PD_E_COLLECTIVE)
			return e->dst;
	}
	PD_ASSERT(!"a collective member without its hub");
	return 0;
}

/* The peer node of a pp_send (its comm out-edge) or pp_recv (its comm in-edge). */
static uint32_t peer_of(const pd_dag *dag, uint32_t v, bool send)
{
	const uint32_t *off = send ? dag->out_off : dag->in_off;
	const uint32_t *ids = send ? dag->out_edge : dag->in_edge;
	for (uint32_t i = off[v]; i < off[v + 1]; i++) {
		const pd_edge *e = &dag->edges[ids[i]];
		if (e->kind == PD_E_COMM)
			return send ? e->dst : e->src;
	}
	PD_ASSERT(!"a pipeline or KV send or receive without its peer");
	return 0;
}

/* Collective member: type, the group's payload (the tensor the collective works on;
 * for an all-to-all each rank's share of it), the group id. */
static void fill_collective(et_builder *b, uint32_t v, const pd_cost *c)
{
	const pd_dag *dag = b->dag;
	const pd_node *n = &dag->nodes[v];
	uint32_t g = (uint32_t)dag->nodes[hub_of(dag, v)].group;
	pd_i_coll k = pd_i_ops[n->kind].coll;
	double size = c->out_bytes;
	if (k == PD_I_COLL_ALL_TO_ALL)
		size /= (double)(dag->groups.off[g + 1] - dag->groups.off[g]);
	b->node.type = CHAKRA_PROTO_MSG__NODE_TYPE__COMM_COLL_NODE;
	attr_i64(b, "comm_type", coll_type[k]);
	attr_i64(b, "comm_size", comm_bytes(size));
	attr_str(b, "pg_name", b->rk->group_name[g]);
	attr_false(b, "is_cpu_op");
}

/* pp_send / pp_recv and kv_send / kv_recv: ranks, the tag (the receiving node's id:
 * one per pair), bytes. */
static void fill_p2p(et_builder *b, uint32_t v, const pd_cost *c)
{
	const pd_dag *dag = b->dag;
	bool send = dag->nodes[v].kind == PD_N_PP_SEND || dag->nodes[v].kind == PD_N_KV_SEND;
	uint32_t peer = peer_of(dag, v, send);
	int32_t me = b->rk->rank_of_gpu[dag->nodes[v].gpu];
	int32_t other = b->rk->rank_of_gpu[dag->nodes[peer].gpu];
	b->node.type = send ? CHAKRA_PROTO_MSG__NODE_TYPE__COMM_SEND_NODE
	                    : CHAKRA_PROTO_MSG__NODE_TYPE__COMM_RECV_NODE;
	attr_i32(b, "comm_src", send ? me : other);
	attr_i32(b, "comm_dst", send ? other : me);
	attr_i32(b, "comm_tag", (int32_t)(send ? peer : v));
	attr_i64(b, "comm_size", comm_bytes(c->bytes));
}

static void fill_attrs(et_builder *b, uint32_t v)
{
	const pd_node *n = &b->dag->nodes[v];
	const pd_cost *c = &b->dag->costs[n->cost];
	b->node.n_attr = 0;
	switch (pd_i_ops[n->kind].family) {
	case PD_I_F_TP:
	case PD_I_F_EP:
		fill_collective(b, v, c);
		break;
	case PD_I_F_PP:
	case PD_I_F_KV:
		fill_p2p(b, v, c);
		break;
	default:
		b->node.type = CHAKRA_PROTO_MSG__NODE_TYPE__COMP_NODE;
		attr_i64(b, "num_ops", (int64_t)whole(c->flops > 9.2e18 ? 9.2e18 : c->flops));
		attr_u64(b, "tensor_size", whole(c->bytes));
		attr_false(b, "is_cpu_op");
	}
}

static bool contains(const uint64_t *v, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* data_deps: the node's data in-edges; ctrl_deps: its control in-edges and the node
 * before it on its stream of this GPU (the order the stream runs them in). */
static pd_status fill_deps(et_builder *b, uint32_t v)
{
	const pd_dag *dag = b->dag;
	size_t need = dag->in_off[v + 1] - dag->in_off[v] + 1;
	if (need > b->cap_deps) {
		uint64_t *d = realloc(b->data, need * sizeof(uint64_t));
		uint64_t *c = d ? realloc(b->ctrl, need * sizeof(uint64_t)) : NULL;
		b->data = d ? d : b->data;
		b->ctrl = c ? c : b->ctrl;
		if (!c)
			return PD_IO;
		b->cap_deps = need;
	}
	size_t nd = 0, nc = 0;
	for (uint32_t i = dag->in_off[v]; i < dag->in_off[v + 1]; i++) {
		const pd_edge *e = &dag->edges[dag->in_edge[i]];
		if (e->kind == PD_E_DATA)
			b->data[nd++] = e->src;
		else if (e->kind == PD_E_CONTROL)
			b->ctrl[nc++] = e->src;
	}
	uint32_t *last = &b->last[pd_i_ops[dag->nodes[v].kind].stream];
	if (*last != UINT32_MAX && !contains(b->data, nd, *last) &&
	    !contains(b->ctrl, nc, *last))
		b->ctrl[nc++] = *last;
	*last = v;
	b->node.data_deps = b->data;
	b->node.n_data_deps = nd;
	b->node.ctrl_deps = b->ctrl;
	b->node.n_ctrl_deps = nc;
	return PD_OK;
}

/* An upper bound of the packed node: every varint at its longest, every attribute
 * name at most 11 bytes (comm_type, tensor_size, ...) and a string value of at most
 * 11 (a group id). */
static size_t node_bound(const et_builder *b)
{
	return 64 + b->name_len + 10 * (b->node.n_data_deps + b->node.n_ctrl_deps) +
	       b->node.n_attr * (2 + 2 + 11 + 2 + 11 + 10);
}

static pd_status write_node(et_builder *b, et_out *o, uint32_t v)
{
	const pd_node *n = &b->dag->nodes[v];
	b->node.id = v;
	node_name(b, n);
	b->node.duration_micros = whole(b->dag->costs[n->cost].us);
	fill_attrs(b, v);
	PD_CHECK(fill_deps(b, v));
	out_bounded(o, &b->node.base, node_bound(b));
	return o->failed ? PD_IO : PD_OK;
}

/* The records a later node will read, spread over the DAG's arrays. */
static inline void prefetch(const pd_dag *dag, const uint32_t *ids, uint32_t i,
                            uint32_t end)
{
	if (i + 8 < end) {
		uint32_t v = ids[i + 8];
		__builtin_prefetch(&dag->nodes[v]);
		__builtin_prefetch(&dag->in_off[v]);
		__builtin_prefetch(&dag->out_off[v]);
	}
}

static void write_metadata(et_out *o)
{
	ChakraProtoMsg__GlobalMetadata m = CHAKRA_PROTO_MSG__GLOBAL_METADATA__INIT;
	m.version = (char *)PD_CHAKRA_VERSION;
	out_message(o, &m.base);
}

/* One rank's file: the metadata, then its nodes in id order. */
static pd_status write_rank(et_builder *b, et_out *o, int32_t r)
{
	const pd_i_chakra_ranks *rk = b->rk;
	write_metadata(o);
	b->last[0] = b->last[1] = UINT32_MAX;
	pd_status s = PD_OK;
	for (uint32_t i = rk->off[r]; i < rk->off[r + 1] && s == PD_OK; i++) {
		prefetch(b->dag, rk->ids, i, rk->off[r + 1]);
		s = write_node(b, o, rk->ids[i]);
	}
	out_flush(o);
	return s == PD_OK && o->failed ? PD_IO : s;
}

static void builder_init(et_builder *b, const pd_dag *dag, const pd_i_chakra_ranks *rk)
{
	memset(b, 0, sizeof(*b));
	b->dag = dag;
	b->rk = rk;
	chakra_proto_msg__node__init(&b->node);
	b->node.name = b->name;
	b->node.attr = b->attrs;
	for (int k = 0; k < PD_N__COUNT; k++)
		b->kind_len[k] = (uint8_t)strlen(pd_i_ops[k].name);
}

pd_status pd_i_chakra_write_rank(const pd_dag *dag, const pd_i_chakra_ranks *rk, int32_t r,
                                 FILE *f)
{
	et_builder b;
	builder_init(&b, dag, rk);
	et_out o = {.f = f, .buf = malloc(OUT_BUFFER), .cap = OUT_BUFFER};
	pd_status s = o.buf ? write_rank(&b, &o, r) : PD_IO;
	free(o.buf);
	free(b.data);
	free(b.ctrl);
	return s;
}

/* The naive writer the benchmark compares with: protobuf_c_message_pack into a fresh
 * malloc per node, one fwrite for its length and one for its bytes. */
pd_status pd_i_chakra_write_rank_naive(const pd_dag *dag, const pd_i_chakra_ranks *rk,
                                       int32_t r, FILE *f)
{
	et_builder b;
	builder_init(&b, dag, rk);
	b.last[0] = b.last[1] = UINT32_MAX;
	ChakraProtoMsg__GlobalMetadata meta = CHAKRA_PROTO_MSG__GLOBAL_METADATA__INIT;
	meta.version = (char *)PD_CHAKRA_VERSION;
	uint8_t mbuf[64], pre[10];
	size_t ml = protobuf_c_message_pack(&meta.base, mbuf), mp = pd_i_varint_put(pre, ml);
	pd_status s =
	    fwrite(pre, 1, mp, f) == mp && fwrite(mbuf, 1, ml, f) == ml ? PD_OK : PD_IO;
	for (uint32_t i = rk->off[r]; i < rk->off[r + 1] && s == PD_OK; i++) {
		uint32_t v = rk->ids[i];
		b.node.id = v;
		node_name(&b, &dag->nodes[v]);
		b.node.duration_micros = whole(dag->costs[dag->nodes[v].cost].us);
		fill_attrs(&b, v);
		if ((s = fill_deps(&b, v)) != PD_OK)
			break;
		size_t len = protobuf_c_message_get_packed_size(&b.node.base);
		uint8_t *m = malloc(len ? len : 1);
		size_t np = pd_i_varint_put(pre, len);
		if (!m || protobuf_c_message_pack(&b.node.base, m) != len ||
		    fwrite(pre, 1, np, f) != np || fwrite(m, 1, len, f) != len)
			s = PD_IO;
		free(m);
	}
	free(b.data);
	free(b.ctrl);
	return s;
}

/* ---- ranks ---- */
void pd_i_chakra_ranks_release(pd_i_chakra_ranks *rk)
{
	free(rk->rank_of_gpu);
	free(rk->gpu_of_rank);
	free(rk->off);
	free(rk->ids);
	free(rk->group_name);
	memset(rk, 0, sizeof(*rk));
}

/* Ranks are the GPUs the plan uses, in id order. */
static pd_status number_ranks(const pd_dag *dag, pd_i_chakra_ranks *rk)
{
	rk->rank_of_gpu = malloc((size_t)(dag->n_gpus > 0 ? dag->n_gpus : 1) * sizeof(int32_t));
	rk->gpu_of_rank = malloc((size_t)(dag->n_gpus > 0 ? dag->n_gpus : 1) * sizeof(int32_t));
	if (!rk->rank_of_gpu || !rk->gpu_of_rank)
		return PD_IO;
	rk->n_ranks = 0;
	for (int32_t g = 0; g < dag->n_gpus; g++) {
		rk->rank_of_gpu[g] = dag->gpu[g].replica >= 0 ? rk->n_ranks : -1;
		if (dag->gpu[g].replica >= 0)
			rk->gpu_of_rank[rk->n_ranks++] = g;
	}
	return PD_OK;
}

/* Buckets the non-hub node ids by rank, each bucket ascending (a counting sort). */
static pd_status bucket_nodes(const pd_dag *dag, pd_i_chakra_ranks *rk)
{
	rk->off = calloc((size_t)rk->n_ranks + 2, sizeof(uint32_t));
	rk->ids = malloc((size_t)(dag->n_nodes ? dag->n_nodes : 1) * sizeof(uint32_t));
	if (!rk->off || !rk->ids)
		return PD_IO;
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		int32_t gpu = dag->nodes[v].gpu;
		if (gpu < 0)
			continue;
		PD_ASSERT(gpu < dag->n_gpus && rk->rank_of_gpu[gpu] >= 0);
		rk->off[rk->rank_of_gpu[gpu] + 2]++;
	}
	for (int32_t r = 0; r < rk->n_ranks; r++)
		rk->off[r + 2] += rk->off[r + 1];
	for (uint32_t v = 0; v < dag->n_nodes; v++)
		if (dag->nodes[v].gpu >= 0)
			rk->ids[rk->off[rk->rank_of_gpu[dag->nodes[v].gpu] + 1]++] = v;
	return PD_OK;
}

static pd_status name_groups(const pd_dag *dag, pd_i_chakra_ranks *rk)
{
	rk->group_name =
	    malloc((size_t)(dag->groups.n ? dag->groups.n : 1) * sizeof(*rk->group_name));
	if (!rk->group_name)
		return PD_IO;
	for (uint32_t g = 0; g < dag->groups.n; g++)
		snprintf(rk->group_name[g], sizeof(rk->group_name[g]), "%u", g + 1);
	return PD_OK;
}

pd_status pd_i_chakra_ranks_build(const pd_dag *dag, pd_i_chakra_ranks *rk)
{
	PD_ASSERT(dag->finalized);
	memset(rk, 0, sizeof(*rk));
	pd_status s = number_ranks(dag, rk);
	if (s == PD_OK)
		s = bucket_nodes(dag, rk);
	if (s == PD_OK)
		s = name_groups(dag, rk);
	if (s != PD_OK)
		pd_i_chakra_ranks_release(rk);
	return s;
}
