/* graphml_read.c - GraphML back into a pd_dag, behind `plandag verify`.
 *
 * Streams the file with xmlTextReader (a DOM of millions of nodes would not fit), with
 * network access off, no entity substitution, any DOCTYPE refused and libxml2's size
 * limits kept (no XML_PARSE_HUGE).  The input is opened once and read once through
 * xmlReaderForIO, so FIFOs and /dev/stdin work; every libxml2 error is a diagnostic.
 * Every id and count read is bounded (schema bounds, the records present, the limits
 * below) before it sizes anything.  Accepts
 * plandag's own files and hand-edited ones: keys in any order and with any ids (they
 * are matched by attr.name and domain), node ids of any spelling (mapped to indices in
 * order of first appearance), edges before their nodes, data left out (key <default>,
 * else -1 / 0).  A node's output size is not a key of its own: it is read back from
 * the bytes of its outgoing non-control edges.  The deployment context comes from the
 * graph-level keys documented in graphml.c, in any order (reconciled after reading);
 * without it the checks that need it are skipped (one note names them).
 */
#include <errno.h>
#include <fcntl.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlschemas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dag/ops.h"
#include "export_internal.h"
#include "graphml_keys.h"
#include "plandag/pipeline.h"
#include "util/array.h"
#include "util/util.h"

#define GRAPHML_NS "http://graphml.graphdrawing.org/xmlns"

/* Bounds on what a file may make the reader hold.  Nodes plus edges: the same budget
 * as `compile` without --allow-large.  Keys: a GraphML tool writes a few dozen; every
 * element looks at each key with a default.  One <data> text: libxml2's own limit on
 * a text node without XML_PARSE_HUGE (XML_MAX_TEXT_LENGTH). */
#define MAX_ELEMENTS PD_DEFAULT_MAX_ELEMENTS
#define MAX_KEYS 256
#define MAX_TEXT 10000000u

enum domain { D_NODE, D_EDGE, D_GRAPH, D_ALL, D_OTHER };

static const char *const DOMAIN_NAMES[] = {
    [D_NODE] = "node", [D_EDGE] = "edge", [D_GRAPH] = "graph"};
#define K pd_i_graphml_keys

typedef struct key {
	char *id, *name, *def;
	int domain;
	int field[D_GRAPH + 1]; /* the row of the key table per domain, -1: not ours */
} key;

/* A node while reading: its record plus the raw costs, interned at the end. */
typedef struct rnode {
	pd_node n;
	pd_cost c;
	int32_t expert, group; /* kept apart: they share a union in pd_node */
	long line;
	double start_us, end_us; /* the schedule's, checked and not kept (-1: absent) */
	uint8_t declared, has_kind, has_phase;
	uint8_t stream; /* pd_stream as written, NO_STREAM when absent */
} rnode;

#define NO_STREAM 255

/* String ids -> indices: the ids NUL-separated in one pool, interned by util's table. */
typedef struct id_table {
	pd_i_strbuf pool;
	PD_VEC(uint32_t) off; /* per index: offset of its id in pool */
	pd_i_intern index;
	uint32_t n;
} id_table;

typedef struct reader {
	xmlTextReaderPtr r;
	const char *path;
	pd_diag_list *diags;
	pd_dag *dag;
	PD_VEC(key) keys;
	size_t last_key;
	id_table ids;
	PD_VEC(rnode) nodes; /* per id index */
	pd_i_strbuf text;    /* text of the current <data> */
	int graphs;
	/* PD_INVALID once the file was found wrong (reading goes on to report more),
	 * PD_IO when out of memory, a read failed or a limit was hit (reading stops) */
	pd_status status;
	int fd, io_errno;    /* the input, opened once; errno of a failed read */
	int wrong_root;      /* the root is not <graphml>: read no further */
	int n_gpus_key;      /* the graph key n_gpus was given */
	int32_t gpu_records; /* records of the graph key gpus, -1 when absent */
	int capturing;       /* collecting the text of <data> or <default> */
	int in_default;
	/* current element */
	int cur_domain; /* D_NODE / D_EDGE / D_GRAPH while inside one */
	uint32_t cur_node;
	int cur_data_key; /* index in keys, -1 */
	uint32_t cur_edge_src, cur_edge_dst;
	int cur_edge_kind;
	double cur_edge_bytes;
	long cur_line;
	rnode node_default; /* a node before its data: the key table's defaults */
} reader;

/* Keeps the worst outcome: PD_IO outranks PD_INVALID, which outranks PD_OK. */
static void set_status(reader *rd, pd_status s)
{
	if (s == PD_IO || (s != PD_OK && rd->status == PD_OK))
		rd->status = s;
}

/* The line of the current node's start tag (the parser itself reads ahead). */
static long line_of(reader *rd)
{
	xmlNodePtr n = xmlTextReaderCurrentNode(rd->r);
	long line = n ? xmlGetLineNo(n) : -1;
	return line > 0 ? line : (long)xmlTextReaderGetParserLineNumber(rd->r);
}

static void bad(reader *rd, long line, const char *fmt, const char *arg)
{
	pd_diag_add(rd->diags, PD_RULE_SCHEMA, PD_ERROR, line, 0, fmt, arg);
	set_status(rd, PD_INVALID);
}

/* ---- ids ---- */

static uint32_t id_hash(const void *t, uint32_t i)
{
	const id_table *ids = t;
	return pd_i_hash_str(ids->pool.s + ids->off.v[i]);
}

static bool id_equal(const void *t, uint32_t i, const void *key)
{
	const id_table *ids = t;
	return strcmp(ids->pool.s + ids->off.v[i], key) == 0;
}

/* Index of id, adding it when new (*is_new set); UINT32_MAX when out of memory. */
static uint32_t ids_get(id_table *t, const char *id, int *is_new)
{
	uint32_t where, i;
	size_t len = strlen(id) + 1;
	*is_new = 0;
	if (pd_i_intern_reserve(&t->index, t->n, 1024, id_hash, t) != PD_OK)
		return UINT32_MAX;
	i = pd_i_intern_find(&t->index, pd_i_hash_str(id), id, id_equal, t, &where);
	if (i != UINT32_MAX)
		return i;
	if (t->pool.n + len > UINT32_MAX ||
	    PD_VEC_PUSH(&t->off, (uint32_t)t->pool.n) != PD_OK ||
	    pd_i_strbuf_append(&t->pool, id, len) != PD_OK)
		return UINT32_MAX;
	pd_i_intern_set(&t->index, where, t->n);
	*is_new = 1;
	return t->n++;
}

static void ids_release(id_table *t)
{
	pd_i_strbuf_release(&t->pool);
	free(t->off.v);
	pd_i_intern_release(&t->index);
}

/* ---- nodes ---- */

/* A node before its data: -1 / 0 from the key table, no kind, no group. */
static rnode node_default(void)
{
	rnode r = {.n = {.kind = PD_N__COUNT, .expert = -1},
	           .group = -1,
	           .start_us = -1,
	           .end_us = -1,
	           .stream = NO_STREAM};
	r.n.gpu = K[GK_GPU].def;
	r.n.replica = K[GK_REPLICA].def;
	r.n.stage = K[GK_STAGE].def;
	r.n.layer = K[GK_LAYER].def;
	r.n.micro_batch = K[GK_MB].def;
	r.expert = K[GK_EXPERT].def;
	return r;
}

/* The node of string id, created with defaults on first sight. */
static uint32_t node_of(reader *rd, const char *id)
{
	int is_new;
	uint32_t v = ids_get(&rd->ids, id, &is_new);
	if (v == UINT32_MAX || (is_new && PD_VEC_PUSH(&rd->nodes, rd->node_default) != PD_OK)) {
		set_status(rd, PD_IO);
		return UINT32_MAX;
	}
	return v;
}

/* ---- values ---- */

static pd_status parse_i32(const char *s, int32_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (end == s || *end || v < INT32_MIN || v > INT32_MAX)
		return PD_INVALID;
	*out = (int32_t)v;
	return PD_OK;
}

static pd_status parse_dbl(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (end == s || *end || v != v)
		return PD_INVALID;
	*out = v;
	return PD_OK;
}

/* "0,1,2,3" (sorted here) -> interned group index in *group (-1 unless PD_OK). */
static pd_status parse_group(pd_dag *dag, const char *s, int32_t *group)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	int32_t *g = malloc(n * sizeof(int32_t));
	*group = -1;
	if (!g)
		return PD_IO;
	char *end;
	size_t k = 0;
	for (const char *p = s; k < n; p = end + 1) {
		long long v = strtoll(p, &end, 10);
		if (end == p || v < 0 || v >= PD_MAX_GPUS || (*end != ',' && *end != '\0'))
			break;
		g[k++] = (int32_t)v;
	}
	pd_status r = PD_INVALID;
	uint32_t idx;
	if (k == n) {
		qsort(g, n, sizeof(int32_t), pd_i_cmp_i32);
		r = pd_dag_intern_group(dag, g, (uint32_t)n, &idx);
		if (r == PD_OK)
			*group = (int32_t)idx;
	}
	free(g);
	return r;
}

/* ---- deployment context ---- */

static size_t count_records(const char *s)
{
	if (!*s)
		return 0;
	size_t n = 1;
	for (; *s; s++)
		n += *s == ';';
	return n;
}

/* "R/S:" at *p; advances past the colon. */
static pd_status parse_rs(const char **p, int32_t *r, int32_t *st)
{
	char *end;
	long long a = strtoll(*p, &end, 10);
	if (end == *p || *end != '/')
		return PD_INVALID;
	const char *q = end + 1;
	long long b = strtoll(q, &end, 10);
	if (end == q || *end != ':' || a < -1 || b < -1 || a >= PD_MAX_GPUS || b >= PD_MAX_GPUS)
		return PD_INVALID;
	*r = (int32_t)a;
	*st = (int32_t)b;
	*p = end + 1;
	return PD_OK;
}

/* gpus = "R/S:MEM;..."; n_gpus is reconciled with the record count after reading, so
 * that the graph keys may come in any order. */
static pd_status parse_gpus(reader *rd, const char *s)
{
	pd_dag *dag = rd->dag;
	size_t n = count_records(s);
	if (n > PD_MAX_GPUS)
		return PD_INVALID;
	free(dag->gpu);
	dag->gpu = calloc(n ? n : 1, sizeof(pd_dag_gpu));
	if (!dag->gpu)
		return PD_IO;
	const char *p = s;
	for (size_t i = 0; i < n; i++) {
		char *end;
		PD_CHECK(parse_rs(&p, &dag->gpu[i].replica, &dag->gpu[i].stage));
		double m = strtod(p, &end);
		if (end == p || (*end != ';' && *end != '\0') || !(m >= 0 && m <= 1e300))
			return PD_INVALID;
		dag->gpu[i].memory = m;
		p = end + (*end == ';');
	}
	rd->gpu_records = (int32_t)n;
	return PD_OK;
}

/* One GPU id of a stages record at *p, followed by one of the characters of `ends`. */
static pd_status parse_stage_gpu(const char **p, int32_t *out)
{
	char *end;
	long long v = strtoll(*p, &end, 10);
	if (end == *p || v < -1 || v >= PD_MAX_GPUS ||
	    (*end != ',' && *end != ';' && *end != '+' && *end))
		return PD_INVALID;
	*out = (int32_t)v;
	*p = end;
	return PD_OK;
}

/* The sizes of the record at p: experts (entries) and further copies ('+'). */
static void stage_sizes(const char *p, size_t *n, size_t *copies)
{
	*n = *copies = 0;
	for (const char *q = p; *q && *q != ';'; q++) {
		*n += *q == ',' || q == p;
		*copies += *q == '+';
	}
}

/* The copies of expert e after its first GPU: "+G+G". */
static pd_status parse_copies(pd_dag_stage *st, const char **p, size_t e)
{
	st->copy_off[e + 1] = st->copy_off[e];
	while (**p == '+') {
		(*p)++;
		PD_CHECK(parse_stage_gpu(p, &st->copy_gpu[st->copy_off[e + 1]++]));
	}
	return PD_OK;
}

/* One "R/S:G,G+G,..." record at *p. */
static pd_status parse_stage(pd_dag_stage *st, const char **p)
{
	PD_CHECK(parse_rs(p, &st->replica, &st->stage));
	size_t n, copies;
	stage_sizes(*p, &n, &copies);
	if (n > PD_MAX_EXPERTS || copies > 2 * (size_t)PD_MAX_EXPERTS)
		return PD_INVALID;
	st->expert_gpu = n ? malloc(n * sizeof(int32_t)) : NULL;
	if (n && !st->expert_gpu)
		return PD_IO;
	if (copies) {
		st->copy_off = calloc(n + 1, sizeof(uint32_t));
		st->copy_gpu = malloc(copies * sizeof(int32_t));
		if (!st->copy_off || !st->copy_gpu)
			return PD_IO;
	}
	st->n_experts = (int32_t)n; /* the arrays are sized: the DAG frees them if bad */
	for (size_t e = 0; e < n; e++) {
		PD_CHECK(parse_stage_gpu(p, &st->expert_gpu[e]));
		if (copies)
			PD_CHECK(parse_copies(st, p, e));
		else if (**p == '+')
			return PD_INVALID;
		*p += **p == ',';
	}
	if (**p == ';')
		(*p)++;
	pd_dag_stage_sort_copies(st);
	return PD_OK;
}

static pd_status parse_stages(pd_dag *dag, const char *s)
{
	size_t n = count_records(s);
	if (n > PD_MAX_GPUS)
		return PD_INVALID;
	dag->stages = calloc(n ? n : 1, sizeof(pd_dag_stage));
	if (!dag->stages)
		return PD_IO;
	dag->n_stages = (uint32_t)n;
	const char *p = s;
	for (size_t i = 0; i < n; i++)
		PD_CHECK(parse_stage(&dag->stages[i], &p));
	return PD_OK;
}

/* An integer within the bounds of int key k into *out (untouched when malformed). */
static pd_status parse_int_key(const char *t, pd_i_gkey k, int32_t *out)
{
	int32_t v;
	if (parse_i32(t, &v) != PD_OK || v < K[k].lo || v > K[k].hi)
		return PD_INVALID;
	*out = v;
	return PD_OK;
}

/* A finite number >= 0 into *out. */
static pd_status parse_size(const char *t, double *out)
{
	double v;
	if (parse_dbl(t, &v) != PD_OK || !(v >= 0 && v <= 1e300))
		return PD_INVALID;
	*out = v;
	return PD_OK;
}

/* "prefill" or "decode" (pd_phase_name). */
static pd_status parse_phase(const char *t, pd_phase *out)
{
	for (int p = PD_DECODE; p <= PD_PREFILL; p++)
		if (strcmp(t, pd_phase_name((pd_phase)p)) == 0) {
			*out = (pd_phase)p;
			return PD_OK;
		}
	return PD_INVALID;
}

/* One "PHASE:FIRST-LAST:MB:TOKENS" record at *p into *pl. */
static pd_status parse_pool(const char **p, pd_dag_pool *pl)
{
	const char *colon = strchr(*p, ':');
	char ph[16], *end;
	if (!colon || colon - *p >= (long)sizeof(ph))
		return PD_INVALID;
	memcpy(ph, *p, (size_t)(colon - *p));
	ph[colon - *p] = '\0';
	PD_CHECK(parse_phase(ph, &pl->phase));
	long long a = strtoll(colon + 1, &end, 10), b, mb;
	if (end == colon + 1 || *end != '-')
		return PD_INVALID;
	const char *q = end + 1;
	b = strtoll(q, &end, 10);
	if (end == q || *end != ':' || a < 0 || b < a || b >= PD_MAX_GPUS)
		return PD_INVALID;
	q = end + 1;
	mb = strtoll(q, &end, 10);
	if (end == q || *end != ':' || mb < 1 || mb > K[GK_G_MB].hi)
		return PD_INVALID;
	q = end + 1;
	double t = strtod(q, &end);
	if (end == q || (*end != ';' && *end) || !(t >= 0 && t <= 1e300))
		return PD_INVALID;
	*pl = (pd_dag_pool){pl->phase, (int32_t)a, (int32_t)(b - a + 1), (int32_t)mb, t};
	*p = end + (*end == ';');
	return PD_OK;
}

/* pools = "PHASE:FIRST-LAST:MB:TOKENS;...": at most one pool per phase, replicas in
 * increasing disjoint ranges (reconciled with n_replicas after reading). */
static pd_status parse_pools(pd_dag *dag, const char *s)
{
	size_t n = count_records(s);
	if (dag->pools || n > 2)
		return PD_INVALID;
	if (!n)
		return PD_OK;
	dag->pools = calloc(n, sizeof(pd_dag_pool));
	if (!dag->pools)
		return PD_IO;
	const char *p = s;
	for (size_t i = 0; i < n; i++) {
		PD_CHECK(parse_pool(&p, &dag->pools[i]));
		dag->n_pools++;
	}
	if (n == 2 && (dag->pools[0].phase == dag->pools[1].phase ||
	               dag->pools[1].first_replica <
	                   dag->pools[0].first_replica + dag->pools[0].n_replicas))
		return PD_INVALID;
	return PD_OK;
}

/* One graph-level value: PD_INVALID when malformed, PD_IO when out of memory. */
static pd_status set_context(reader *rd, int field, const char *t)
{
	pd_dag *dag = rd->dag;
	switch (field) {
	case GK_G_N_GPUS:
		rd->n_gpus_key = 1;
		return parse_int_key(t, GK_G_N_GPUS, &dag->n_gpus);
	case GK_G_GPUS_PER_NODE:
		return parse_int_key(t, GK_G_GPUS_PER_NODE, &dag->gpus_per_node);
	case GK_G_CAPACITY:
		return parse_size(t, &dag->gpu_capacity);
	case GK_G_N_REPLICAS:
		return parse_int_key(t, GK_G_N_REPLICAS, &dag->n_replicas);
	case GK_G_MB:
		return parse_int_key(t, GK_G_MB, &dag->micro_batches);
	case GK_G_PHASE:
		return parse_phase(t, &dag->phase);
	case GK_G_STEP_TOKENS:
		return parse_size(t, &dag->step_tokens);
	case GK_G_GPUS:
		return parse_gpus(rd, t);
	case GK_G_STAGES:
		return dag->stages ? PD_INVALID : parse_stages(dag, t);
	case GK_G_POOLS:
		return parse_pools(dag, t);
	default:
		return PD_OK; /* plan name: informative only */
	}
}

/* ---- keys and data ---- */

/* The key table row of (domain, attr.name), -1 when plandag has no such key. */
static int field_of(int domain, const char *name)
{
	for (int i = 0; name && domain <= D_GRAPH && i < GK__COUNT; i++)
		if (strcmp(K[i].domain, DOMAIN_NAMES[domain]) == 0 && strcmp(K[i].name, name) == 0)
			return i;
	return -1;
}

static int domain_of(const char *s)
{
	if (!s || strcmp(s, "all") == 0)
		return D_ALL;
	if (strcmp(s, "node") == 0)
		return D_NODE;
	if (strcmp(s, "edge") == 0)
		return D_EDGE;
	return strcmp(s, "graph") == 0 ? D_GRAPH : D_OTHER;
}

static char *attr(reader *rd, const char *name)
{
	return (char *)xmlTextReaderGetAttribute(rd->r, BAD_CAST name);
}

/* A limit of the file's size was hit: say which, stop reading, exit 3. */
static void too_big(reader *rd, const char *what, unsigned long long limit)
{
	pd_diag *d = pd_diag_add(rd->diags, PD_RULE_IO, PD_ERROR, line_of(rd), 0,
	                         "%s is too big: more than %llu %s", rd->path, limit, what);
	pd_diag_fix(d, "split the DAG, or check that the file is a plandag GraphML export");
	set_status(rd, PD_IO);
}

static void start_key(reader *rd)
{
	if (rd->keys.n == MAX_KEYS) {
		too_big(rd, "<key> elements", MAX_KEYS);
		return;
	}
	if (PD_VEC_RESERVE(&rd->keys, rd->keys.n + 1) != PD_OK) {
		set_status(rd, PD_IO);
		return;
	}
	key *k = &rd->keys.v[rd->keys.n];
	char *dom = attr(rd, "for");
	k->id = attr(rd, "id");
	k->name = attr(rd, "attr.name");
	k->def = NULL;
	k->domain = domain_of(dom);
	for (int d = D_NODE; d <= D_GRAPH; d++)
		k->field[d] = k->domain == D_ALL || k->domain == d ? field_of(d, k->name) : -1;
	xmlFree(dom);
	if (!k->id) {
		bad(rd, line_of(rd), "%s element without an id attribute", "<key>");
		xmlFree(k->name);
		return;
	}
	rd->keys.n++;
}

/* Key index of id; data usually come in key order, so try the next key first. */
static int key_index(reader *rd, const char *id)
{
	size_t n = rd->keys.n;
	for (size_t i = 0; i < n; i++) {
		size_t k = (rd->last_key + 1 + i) % n;
		if (strcmp(rd->keys.v[k].id, id) == 0) {
			rd->last_key = k;
			return (int)k;
		}
	}
	return -1;
}

static void append_text(reader *rd, const char *t)
{
	size_t n = strlen(t);
	if (rd->text.n + n > MAX_TEXT) {
		too_big(rd, "bytes of text in one <data> (token too long)", MAX_TEXT);
		return;
	}
	set_status(rd, pd_i_strbuf_append(&rd->text, t, n));
}

/* "compute", "comm", "none" (pd_stream_name). */
static pd_status parse_stream(const char *t, uint8_t *out)
{
	for (int s = PD_STREAM_COMPUTE; s <= PD_STREAM_NONE; s++)
		if (strcmp(t, pd_stream_name((pd_stream)s)) == 0) {
			*out = (uint8_t)s;
			return PD_OK;
		}
	return PD_INVALID;
}

/* A schedule time: finite microseconds from 0 to 1e15 (about 30 years). */
static pd_status parse_time(const char *t, double *out)
{
	double v;
	if (parse_dbl(t, &v) != PD_OK || !(v >= 0 && v <= 1e15))
		return PD_INVALID;
	*out = v;
	return PD_OK;
}

/* One node value, within the bounds of its key (the plan schema's). */
static pd_status set_node_field(reader *rd, rnode *n, int field, const char *t)
{
	int32_t *ints[] = {
	    [GK_GPU] = &n->n.gpu,     [GK_REPLICA] = &n->n.replica, [GK_STAGE] = &n->n.stage,
	    [GK_LAYER] = &n->n.layer, [GK_MB] = &n->n.micro_batch,  [GK_EXPERT] = &n->expert};
	double *dbls[] = {
	    [GK_FLOPS] = &n->c.flops, [GK_BYTES] = &n->c.bytes, [GK_US] = &n->c.us};
	int k;
	switch (field) {
	case GK_KIND:
		k = pd_node_kind_from_name(t);
		n->n.kind = (uint8_t)(k < 0 ? PD_N__COUNT : k);
		n->has_kind = 1;
		return k < 0 ? PD_INVALID : PD_OK;
	case GK_GPU:
	case GK_REPLICA:
	case GK_STAGE:
	case GK_LAYER:
	case GK_MB:
	case GK_EXPERT:
		return parse_int_key(t, (pd_i_gkey)field, ints[field]);
	case GK_FLOPS:
	case GK_BYTES:
	case GK_US:
		return parse_dbl(t, dbls[field]);
	case GK_GROUP:
		return parse_group(rd->dag, t, &n->group);
	case GK_STREAM:
		return parse_stream(t, &n->stream);
	case GK_START_US:
		return parse_time(t, &n->start_us);
	case GK_END_US:
		return parse_time(t, &n->end_us);
	case GK_PHASE: {
		pd_phase ph;
		PD_CHECK(parse_phase(t, &ph));
		n->n.phase = (uint8_t)ph;
		n->has_phase = 1;
		return PD_OK;
	}
	default:
		return PD_OK; /* label: derived, not read */
	}
}

static pd_status set_edge_field(reader *rd, int field, const char *t)
{
	if (field == GK_E_KIND) {
		rd->cur_edge_kind = pd_edge_kind_from_name(t);
		return rd->cur_edge_kind < 0 ? PD_INVALID : PD_OK;
	}
	return parse_dbl(t, &rd->cur_edge_bytes);
}

/* Applies the value t of key k to the current element. */
static void apply(reader *rd, const key *k, const char *t, long line)
{
	int dom = rd->cur_domain;
	if (dom > D_GRAPH || k->field[dom] < 0)
		return; /* another domain's, or someone else's key: keep quiet, ignore it */
	int field = k->field[dom];
	pd_status r;
	if (dom == D_NODE)
		r = set_node_field(rd, &rd->nodes.v[rd->cur_node], field, t);
	else if (dom == D_EDGE)
		r = set_edge_field(rd, field, t);
	else
		r = set_context(rd, field, t);
	if (r == PD_IO)
		set_status(rd, PD_IO);
	else if (r != PD_OK) {
		pd_diag_add(rd->diags, PD_RULE_SCHEMA, PD_ERROR, line, 0,
		            "bad value '%.60s' for %s key '%s'", t,
		            dom == D_NODE   ? "node"
		            : dom == D_EDGE ? "edge"
		                            : "graph",
		            k->name);
		set_status(rd, PD_INVALID);
	}
}

/* Key defaults apply before an element's own data. */
static void apply_defaults(reader *rd, long line)
{
	for (size_t i = 0; i < rd->keys.n; i++)
		if (rd->keys.v[i].def)
			apply(rd, &rd->keys.v[i], rd->keys.v[i].def, line);
}

/* ---- elements ---- */

static void start_graph(reader *rd, long line)
{
	char *ed = attr(rd, "edgedefault");
	if (rd->graphs++ > 0)
		bad(rd, line, "more than one %s: plandag reads one graph per file", "<graph>");
	else if (ed && strcmp(ed, "directed") != 0)
		bad(rd, line, "edgedefault=\"%s\": a plandag DAG is directed", ed);
	xmlFree(ed);
	rd->cur_domain = D_GRAPH;
	apply_defaults(rd, line);
}

/* Refuses a node or edge beyond the budget (an edge adds at most two ids). */
static int over_budget(reader *rd)
{
	if ((uint64_t)rd->ids.n + rd->dag->n_edges + 2 <= MAX_ELEMENTS)
		return 0;
	too_big(rd, "nodes and edges", MAX_ELEMENTS);
	rd->cur_domain = D_OTHER;
	return 1;
}

static void start_node(reader *rd, long line)
{
	if (over_budget(rd))
		return;
	char *id = attr(rd, "id");
	if (!id) {
		bad(rd, line, "%s without an id attribute", "<node>");
		rd->cur_domain = D_OTHER;
		return;
	}
	uint32_t v = node_of(rd, id);
	if (v != UINT32_MAX && rd->nodes.v[v].declared)
		bad(rd, line, "node id '%s' declared twice", id);
	xmlFree(id);
	if (v == UINT32_MAX)
		return;
	rd->nodes.v[v].declared = 1;
	rd->nodes.v[v].line = line;
	rd->cur_node = v;
	rd->cur_domain = D_NODE;
	apply_defaults(rd, line);
}

static void start_edge(reader *rd, long line)
{
	if (over_budget(rd))
		return;
	char *s = attr(rd, "source"), *t = attr(rd, "target");
	rd->cur_domain = D_OTHER;
	if (!s || !t) {
		bad(rd, line, "%s without source or target", "<edge>");
	} else {
		rd->cur_edge_src = node_of(rd, s);
		rd->cur_edge_dst = node_of(rd, t);
		rd->cur_edge_kind = PD_E_DATA;
		rd->cur_edge_bytes = 0;
		rd->cur_line = line;
		rd->cur_domain = D_EDGE;
		for (uint32_t i = 0; i < 2 && rd->status != PD_IO; i++) {
			rnode *n = &rd->nodes.v[i ? rd->cur_edge_dst : rd->cur_edge_src];
			if (!n->declared && !n->line)
				n->line = line; /* where an undeclared id was first used */
		}
		apply_defaults(rd, line);
	}
	xmlFree(s);
	xmlFree(t);
}

static void end_edge(reader *rd)
{
	if (rd->cur_domain != D_EDGE || rd->status == PD_IO)
		return;
	if (pd_dag_add_edge(rd->dag, rd->cur_edge_src, rd->cur_edge_dst,
	                    (pd_edge_kind)rd->cur_edge_kind) != PD_OK) {
		set_status(rd, PD_IO);
		return;
	}
	/* a node's output size is what its data, comm and collective edges carry */
	pd_cost *c = &rd->nodes.v[rd->cur_edge_src].c;
	if (rd->cur_edge_kind != PD_E_CONTROL && rd->cur_edge_bytes > c->out_bytes)
		c->out_bytes = rd->cur_edge_bytes;
}

static void start_data(reader *rd, long line)
{
	char *k = attr(rd, "key");
	rd->cur_data_key = k ? key_index(rd, k) : -1;
	if (rd->cur_data_key < 0)
		bad(rd, line, "data for undeclared key '%s' (declare a <key> first)",
		    k ? k : "(no key attribute)");
	xmlFree(k);
	pd_i_strbuf_clear(&rd->text);
	rd->capturing = rd->cur_data_key >= 0;
}

/* Only a <data> that start_data() accepted has a key: a </data> may also close a
 * refused one, or come while a <default> is being captured. */
static void end_data(reader *rd, long line)
{
	if (rd->capturing && rd->cur_data_key >= 0 && !rd->in_default)
		apply(rd, &rd->keys.v[rd->cur_data_key], rd->text.s ? rd->text.s : "", line);
	rd->capturing = 0;
	rd->cur_data_key = -1;
}

static void end_default(reader *rd)
{
	if (rd->in_default && rd->keys.n > 0) {
		key *k = &rd->keys.v[rd->keys.n - 1];
		free(k->def);
		k->def = strdup(rd->text.s ? rd->text.s : "");
		if (!k->def)
			set_status(rd, PD_IO);
	}
	rd->in_default = rd->capturing = 0;
}

/* `verify` on a deployment plan: one diagnostic naming the right command. */
static void wrong_root_plan(reader *rd, long line)
{
	pd_diag *d = pd_diag_add(rd->diags, PD_RULE_SCHEMA, PD_ERROR, line, 0,
	                         "this is a deployment plan (<plan>), not a GraphML DAG");
	pd_diag_fix(d,
	            "check it with 'plandag check %s', or write its DAG with 'plandag "
	            "compile %s' and verify the .graphml file",
	            rd->path, rd->path);
	set_status(rd, PD_INVALID);
}

/* Where each element may appear (depth = nesting below the document). */
static void start_element(reader *rd, const char *name, int depth, long line)
{
	int ctx = rd->cur_domain;
	if (depth == 0) {
		if (strcmp(name, "plan") == 0)
			wrong_root_plan(rd, line);
		else if (strcmp(name, "graphml") != 0)
			bad(rd, line, "root element <%s> is not <graphml>", name);
		rd->wrong_root = strcmp(name, "graphml") != 0; /* the rest would be noise */
	} else if (depth == 1 && strcmp(name, "key") == 0) {
		start_key(rd);
	} else if (depth == 2 && strcmp(name, "default") == 0 && rd->graphs == 0) {
		rd->in_default = rd->capturing = 1;
		pd_i_strbuf_clear(&rd->text);
	} else if (depth == 1 && strcmp(name, "graph") == 0) {
		start_graph(rd, line);
	} else if (depth == 2 && ctx == D_GRAPH && strcmp(name, "node") == 0) {
		start_node(rd, line);
	} else if (depth == 2 && ctx == D_GRAPH && strcmp(name, "edge") == 0) {
		start_edge(rd, line);
	} else if (strcmp(name, "data") == 0 &&
	           ((depth == 2 && ctx == D_GRAPH) || (depth == 3 && ctx != D_GRAPH))) {
		start_data(rd, line);
	} else if (strcmp(name, "desc") != 0) {
		bad(rd, line,
		    "unexpected element <%s> (plandag reads flat directed graphs of "
		    "nodes, edges and data)",
		    name);
	}
}

static void end_element(reader *rd, const char *name, long line)
{
	if (strcmp(name, "data") == 0)
		end_data(rd, line);
	else if (strcmp(name, "default") == 0)
		end_default(rd);
	else if (strcmp(name, "edge") == 0)
		end_edge(rd);
	if (strcmp(name, "node") == 0 || strcmp(name, "edge") == 0)
		rd->cur_domain = D_GRAPH;
	else if (strcmp(name, "graph") == 0)
		rd->cur_domain = D_OTHER;
}

static int in_graphml_ns(reader *rd)
{
	const char *ns = (const char *)xmlTextReaderConstNamespaceUri(rd->r);
	return !ns || strcmp(ns, GRAPHML_NS) == 0;
}

static void on_element(reader *rd)
{
	const char *name = (const char *)xmlTextReaderConstLocalName(rd->r);
	int depth = xmlTextReaderDepth(rd->r);
	long line = line_of(rd);
	if (!in_graphml_ns(rd)) {
		if (depth == 0)
			bad(rd, line, "root element is not in the GraphML namespace %s", GRAPHML_NS);
		return; /* foreign extensions (yEd, Gephi) are ignored */
	}
	start_element(rd, name, depth, line);
	if (xmlTextReaderIsEmptyElement(rd->r))
		end_element(rd, name, line);
}

/* libxml2's limits without XML_PARSE_HUGE: a name, value or text over 10 MB. */
static int is_size_limit(const xmlError *e)
{
	return e->code == XML_ERR_NAME_TOO_LONG ||
	       (e->message && (strstr(e->message, "huge") || strstr(e->message, "Huge")));
}

/* Every libxml2 error becomes a diagnostic: none reaches stderr raw. */
static void on_error(void *arg, xmlErrorPtr e)
{
	reader *rd = arg;
	if (e && e->level < XML_ERR_ERROR)
		return;
	if (e && e->domain == XML_FROM_IO && rd->io_errno)
		return; /* read_input() saw it first: io_error() reports errno */
	char msg[200];
	snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "malformed XML");
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	long line = e ? e->line : 0;
	int col = e ? e->int2 : 0;
	if (e && is_size_limit(e))
		pd_diag_add(rd->diags, PD_RULE_SCHEMA, PD_ERROR, line, col,
		            "token too long: a name, value or text of more than %u bytes (%s)",
		            MAX_TEXT, msg);
	else
		pd_diag_add(rd->diags, PD_RULE_SCHEMA, PD_ERROR, line, col, "%s", msg);
	set_status(rd, PD_INVALID);
}

/* Streams the whole document: PD_OK when it was read to the end, PD_INVALID when the
 * rest is not worth reading, PD_IO when reading stopped (rd->status says why). */
static pd_status read_all(reader *rd)
{
	int ret = 0;
	while (rd->status != PD_IO && (ret = xmlTextReaderRead(rd->r)) == 1) {
		switch (xmlTextReaderNodeType(rd->r)) {
		case XML_READER_TYPE_DOCUMENT_TYPE:
			bad(rd, line_of(rd), "%s refused: GraphML needs no DTD or entities", "DOCTYPE");
			return PD_INVALID;
		case XML_READER_TYPE_ELEMENT:
			on_element(rd);
			if (rd->wrong_root)
				return PD_INVALID;
			break;
		case XML_READER_TYPE_END_ELEMENT:
			if (in_graphml_ns(rd))
				end_element(rd, (const char *)xmlTextReaderConstLocalName(rd->r),
				            line_of(rd));
			break;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
		case XML_READER_TYPE_WHITESPACE:
			if (rd->capturing)
				append_text(rd, (const char *)xmlTextReaderConstValue(rd->r));
			break;
		case XML_READER_TYPE_ENTITY_REFERENCE:
			bad(rd, line_of(rd), "entity reference refused%s", "");
			return PD_INVALID;
		default:
			break;
		}
	}
	return rd->status == PD_IO ? PD_IO : ret != 0 ? PD_INVALID : PD_OK;
}

/* ---- the DAG ---- */

/* The stream a node of kind k runs on (the operator catalogue's; none for hubs). */
static uint8_t kind_stream(uint8_t k)
{
	if (k >= PD_N__COUNT || k == PD_N_COLLECTIVE)
		return PD_STREAM_NONE;
	return pd_i_ops[k].stream == PD_I_STREAM_COMM ? PD_STREAM_COMM : PD_STREAM_COMPUTE;
}

/* The complaints about node v, found before anything is built. */
static void check_node(reader *rd, uint32_t v)
{
	const rnode *n = &rd->nodes.v[v];
	const char *id = rd->ids.pool.s + rd->ids.off.v[v];
	if (!n->declared)
		bad(rd, n->line, "edge refers to node id '%s' that is never declared", id);
	else if (!n->has_kind)
		bad(rd, n->line, "node '%s' has no kind", id);
	else if (n->n.kind == PD_N_COLLECTIVE && n->group < 0)
		bad(rd, n->line, "collective hub '%s' has no group (member GPU ids)", id);
	else if (n->stream != NO_STREAM && n->stream != kind_stream(n->n.kind))
		bad(rd, n->line, "node '%s' has a stream that its kind does not run on", id);
	else if (n->start_us >= 0 && n->end_us >= 0 && n->end_us < n->start_us)
		bad(rd, n->line, "node '%s' ends (end_us) before it starts (start_us)", id);
}

/* Moves node v into the DAG: kind-dependent union, interned cost. */
static pd_status add_node(reader *rd, uint32_t v)
{
	rnode *n = &rd->nodes.v[v];
	if (n->n.kind == PD_N_COLLECTIVE)
		n->n.group = n->group;
	else
		n->n.expert = n->expert;
	PD_CHECK(pd_dag_intern_cost(rd->dag, &n->c, &n->n.cost));
	return pd_dag_add_node(rd->dag, &n->n, NULL);
}

static void context_error(reader *rd, const char *fmt, long long a, long long b)
{
	pd_diag_add(rd->diags, PD_RULE_SCHEMA, PD_ERROR, 0, 0, fmt, a, b);
	set_status(rd, PD_INVALID);
}

/* n_gpus and the records of gpus, given in any order, must agree; replicas and stages
 * cannot outnumber the GPUs.  Afterwards dag->gpu is NULL or has n_gpus entries. */
static void resolve_context(reader *rd)
{
	pd_dag *d = rd->dag;
	if (rd->gpu_records >= 0 && !rd->n_gpus_key)
		d->n_gpus = rd->gpu_records;
	if (rd->gpu_records >= 0 && d->n_gpus != rd->gpu_records)
		context_error(rd, "graph key n_gpus is %lld but graph key gpus lists %lld GPUs",
		              d->n_gpus, rd->gpu_records);
	else if (d->n_gpus > 0 && d->n_replicas > d->n_gpus)
		context_error(rd, "graph key n_replicas is %lld, more than the %lld GPUs",
		              d->n_replicas, d->n_gpus);
	else if (d->n_gpus > 0 && d->n_stages > (uint32_t)d->n_gpus)
		context_error(rd, "graph key stages lists %lld stages, more than the %lld GPUs",
		              d->n_stages, d->n_gpus);
	for (uint32_t p = 0; p < d->n_pools; p++)
		if (d->n_replicas > 0 &&
		    d->pools[p].first_replica + d->pools[p].n_replicas > d->n_replicas)
			context_error(
			    rd, "graph key pools names replica %lld, beyond the %lld replicas",
			    d->pools[p].first_replica + d->pools[p].n_replicas - 1, d->n_replicas);
	for (int32_t g = 0; d->gpu && g < d->n_gpus && g < rd->gpu_records; g++)
		d->gpu[g].pool = pd_dag_replica_pool(d, d->gpu[g].replica);
}

/* A node written without a phase takes its pool's (by replica), else the DAG's. */
static void default_phase(const pd_dag *d, rnode *n)
{
	if (n->has_phase)
		return;
	int32_t p = pd_dag_replica_pool(d, n->n.replica);
	n->n.phase = (uint8_t)(p >= 0 ? d->pools[p].phase : d->phase);
}

/* One note naming the placement checks that lack their graph keys. */
static void note_skipped(reader *rd)
{
	const pd_dag *d = rd->dag;
	char list[160] = "";
	if (d->n_gpus <= 0)
		strcat(list, ", GPU ids (n_gpus)");
	if (!d->gpu)
		strcat(list, ", stage of each GPU (gpus)");
	if (!d->gpu || d->gpu_capacity <= 0)
		strcat(list, ", memory (gpus, gpu_capacity)");
	if (!d->stages)
		strcat(list, ", expert hosting (stages)");
	if (list[0])
		pd_diag_add(rd->diags, PD_RULE_PLACEMENT, PD_NOTE, 0, 0,
		            "the file lacks deployment context, so these placement checks are "
		            "skipped: %s; acyclic, collective groups and pp pairing are checked",
		            list + 2);
}

/* Micro-batches from the nodes when the graph key is absent (bounded per node). */
static void count_micro_batches(pd_dag *d)
{
	if (d->micro_batches > 0)
		return;
	for (uint32_t v = 0; v < d->n_nodes; v++)
		if (d->nodes[v].micro_batch >= d->micro_batches)
			d->micro_batches = d->nodes[v].micro_batch + 1;
}

static pd_status build(reader *rd)
{
	if (rd->graphs == 0)
		bad(rd, 0, "no %s element", "<graph>");
	resolve_context(rd);
	for (uint32_t v = 0; v < rd->ids.n; v++) {
		check_node(rd, v);
		default_phase(rd->dag, &rd->nodes.v[v]);
	}
	if (rd->status != PD_OK)
		return rd->status; /* nothing is built for a DAG that will not be checked */
	PD_CHECK(pd_dag_reserve(rd->dag, rd->ids.n, rd->dag->n_edges));
	for (uint32_t v = 0; v < rd->ids.n; v++)
		PD_CHECK(add_node(rd, v));
	count_micro_batches(rd->dag);
	note_skipped(rd);
	return pd_dag_finalize(rd->dag);
}

static void reader_release(reader *rd)
{
	for (size_t i = 0; i < rd->keys.n; i++) {
		xmlFree(rd->keys.v[i].id);
		xmlFree(rd->keys.v[i].name);
		free(rd->keys.v[i].def);
	}
	free(rd->keys.v);
	ids_release(&rd->ids);
	free(rd->nodes.v);
	pd_i_strbuf_release(&rd->text);
	if (rd->r)
		xmlFreeTextReader(rd->r);
}

/* ---- input: one open of the file, read once (FIFOs, /dev/stdin) ---- */

static int read_input(void *arg, char *buf, int len)
{
	reader *rd = arg;
	if (rd->status == PD_IO)
		return 0;
	ssize_t n;
	do
		n = read(rd->fd, buf, (size_t)len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		rd->io_errno = errno;
		set_status(rd, PD_IO);
		return -1;
	}
	return (int)n;
}

static int close_input(void *arg)
{
	(void)arg;
	return 0; /* pd_graphml_read closes the descriptor */
}

static pd_status io_error(reader *rd, int err)
{
	pd_diag *d = pd_diag_add(rd->diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot read %s: %s",
	                         rd->path, strerror(err));
	pd_diag_fix(d, "check the path and that it is a readable GraphML file");
	return PD_IO;
}

/* Opens path once; refuses directories (read(2) would fail with EISDIR anyway). */
static int open_input(reader *rd)
{
	struct stat st;
	if (strcmp(rd->path, "-") == 0) { /* standard input, read once like any stream */
		rd->fd = dup(STDIN_FILENO);
		if (rd->fd < 0)
			return errno;
		return fstat(rd->fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
	}
	do
		rd->fd = open(rd->path, O_RDONLY | O_CLOEXEC);
	while (rd->fd < 0 && errno == EINTR);
	if (rd->fd < 0)
		return errno;
	if (fstat(rd->fd, &st) != 0)
		return errno;
	return S_ISDIR(st.st_mode) ? EISDIR : 0;
}

/* Streams the document through libxml2 with every error routed to on_error. */
static pd_status parse_input(reader *rd)
{
	rd->r = xmlReaderForIO(read_input, close_input, rd, rd->path, NULL, XML_PARSE_NONET);
	if (!rd->r)
		return PD_IO;
	xmlTextReaderSetStructuredErrorHandler(rd->r, on_error, rd);
	pd_status r = read_all(rd);
	if (rd->io_errno)
		return io_error(rd, rd->io_errno);
	if (r == PD_IO || rd->status == PD_IO)
		return PD_IO; /* out of memory, or too_big() said which limit */
	if (r != PD_OK && rd->status == PD_OK)
		bad(rd, line_of(rd), "cannot read %s as XML", rd->path);
	pd_status s = r == PD_OK ? build(rd) : PD_INVALID;
	return s == PD_OK ? rd->status : s;
}

pd_status pd_graphml_read(const char *path, pd_dag **out, pd_diag_list *diags)
{
	reader rd = {.path = path,
	             .diags = diags,
	             .cur_domain = D_OTHER,
	             .cur_data_key = -1,
	             .fd = -1,
	             .gpu_records = -1,
	             .node_default = node_default()};
	*out = NULL;
	int err = open_input(&rd);
	pd_status s = err ? io_error(&rd, err) : PD_IO;
	rd.dag = err ? NULL : pd_dag_create();
	if (rd.dag) {
		/* errors raised outside the reader (encoding, I/O) reach on_error too */
		xmlSetStructuredErrorFunc(&rd, on_error);
		s = parse_input(&rd);
		xmlSetStructuredErrorFunc(NULL, NULL);
	}
	if (s == PD_IO && !err && !pd_diag_list_has(diags, PD_RULE_IO))
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "out of memory reading %s", path);
	if (s == PD_OK)
		*out = rd.dag;
	else
		pd_dag_destroy(rd.dag);
	reader_release(&rd);
	if (rd.fd >= 0)
		close(rd.fd);
	return s;
}

/* ---- validation against the embedded schema (tests, tooling) ---- */

static void on_schema_error(void *arg, xmlErrorPtr e)
{
	pd_diag_list *diags = arg;
	char msg[256];
	snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "schema error");
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	pd_diag_add(diags, PD_RULE_SCHEMA, PD_ERROR, e ? e->line : 0, 0, "%s", msg);
}

pd_status pd_i_graphml_validate(const char *path, pd_diag_list *diags)
{
	pd_status s = PD_IO;
	xmlSchemaValidCtxtPtr vc = NULL;
	xmlSchemaPtr schema = NULL;
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewMemParserCtxt(
	    (const char *)pd_i_schema_graphml_xsd, (int)pd_i_schema_graphml_xsd_len);
	if (!pc)
		goto cleanup;
	xmlSchemaSetParserStructuredErrors(pc, on_schema_error, diags);
	schema = xmlSchemaParse(pc);
	vc = schema ? xmlSchemaNewValidCtxt(schema) : NULL;
	if (!vc)
		goto cleanup;
	xmlSchemaSetValidStructuredErrors(vc, on_schema_error, diags);
	int r = xmlSchemaValidateFile(vc, path, 0);
	s = r == 0 ? PD_OK : r > 0 ? PD_INVALID : PD_IO;
cleanup:
	if (vc)
		xmlSchemaFreeValidCtxt(vc);
	if (schema)
		xmlSchemaFree(schema);
	if (pc)
		xmlSchemaFreeParserCtxt(pc);
	return s;
}
