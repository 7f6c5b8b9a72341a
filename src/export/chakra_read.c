/* chakra_read.c - reads the .et files of a Chakra trace set into a pd_i_et_set, with a
 * bounds check before every unpack (docs/executors.md, "What verify checks").
 *
 * A file is a stream of varint-prefixed messages.  Every prefix is decoded by hand (at
 * most 10 bytes, no overflow), must fit in what is left of the file and in
 * PD_CHAKRA_NODE_MAX, and only then does protobuf-c unpack the message.  What a
 * message carries is checked here (node type, attribute types, comm_size > 0); what
 * spans nodes or ranks is chakra_verify.c's.  The directory itself (which files,
 * ranks.json, network.yml) is chakra_dir.c's.
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "export/chakra_internal.h"

#define MAX_GROUPS 65536
#define NAME_MAX_KEPT 120

typedef ChakraProtoMsg__Node et_node;
typedef ChakraProtoMsg__AttributeProto et_attr;

/* ---- findings ---- */
void pd_i_et_finding(pd_i_et_set *s, uint32_t r, const pd_i_et_node *n, const char *fix,
                     const char *fmt, ...)
{
	if (!pd_diag_list_keeps(s->diags, PD_RULE_TRACE)) {
		pd_diag_add(s->diags, PD_RULE_TRACE, PD_ERROR, 0, 0, "dropped");
		return;
	}
	char what[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pd_diag *d;
	if (n)
		d = pd_diag_add(s->diags, PD_RULE_TRACE, PD_ERROR, 0, 0,
		                "%s: rank %u, node %llu \"%s\": %s", s->file[r], r,
		                (unsigned long long)n->id, s->names + n->name, what);
	else
		d = pd_diag_add(s->diags, PD_RULE_TRACE, PD_ERROR, 0, 0, "%s: rank %u: %s",
		                s->file[r], r, what);
	if (fix)
		pd_diag_fix(d, "%s", fix);
}

/* ---- groups ---- */
static int cmp_group(const void *a, const void *b)
{
	return strcmp(((const pd_i_et_group *)a)->key, ((const pd_i_et_group *)b)->key);
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

static pd_status add_group(pd_i_et_set *s, const char *key, pd_i_et_group **out)
{
	if (s->n_groups == s->cap_groups) {
		uint32_t cap = s->cap_groups ? 2 * s->cap_groups : 16;
		pd_i_et_group *g = realloc(s->groups, cap * sizeof(*g));
		if (!g)
			return PD_IO;
		s->groups = g;
		s->cap_groups = cap;
	}
	pd_i_et_group *g = &s->groups[s->n_groups];
	memset(g, 0, sizeof(*g));
	if (!(g->key = strdup(key)))
		return PD_IO;
	s->n_groups++;
	*out = g;
	return PD_OK;
}

static pd_status group_error(pd_i_et_set *s, const char *what)
{
	pd_diag_fix(
	    pd_diag_add(s->diags, PD_RULE_TRACE, PD_ERROR, 0, 0, "comm_groups.json: %s", what),
	    "write it as {\"1\": [0, 1, 2, 3], ...}: group id -> the ranks of the group");
	return PD_INVALID;
}

/* One "id": [ranks] member of comm_groups.json. */
static pd_status declare_group(pd_i_et_set *s, const cJSON *item)
{
	if (!cJSON_IsArray(item))
		return group_error(s, "a group is not an array of ranks");
	pd_i_et_group *g;
	PD_CHECK(add_group(s, item->string, &g));
	int n = cJSON_GetArraySize(item);
	g->declared = true;
	g->ranks = malloc((size_t)(n ? n : 1) * sizeof(int32_t));
	if (!g->ranks)
		return PD_IO;
	for (const cJSON *r = item->child; r; r = r->next) {
		if (!cJSON_IsNumber(r) || r->valuedouble < 0 || r->valuedouble >= s->n_ranks ||
		    r->valuedouble != (double)(int32_t)r->valuedouble) {
			char what[256];
			snprintf(what, sizeof(what), "group %.60s names rank %.40s, not one of 0..%u",
			         g->key, cJSON_IsNumber(r) ? "out of range" : "that is not a number",
			         s->n_ranks - 1);
			return group_error(s, what);
		}
		g->ranks[g->n_ranks++] = (int32_t)r->valuedouble;
	}
	qsort(g->ranks, g->n_ranks, sizeof(int32_t), cmp_i32);
	return PD_OK;
}

static pd_status parse_groups(pd_i_et_set *s, const char *json)
{
	cJSON *root = cJSON_Parse(json);
	pd_status st = PD_OK;
	if (!cJSON_IsObject(root))
		st = group_error(s, "not a JSON object");
	else if (cJSON_GetArraySize(root) > MAX_GROUPS) /* counted once: it walks the list */
		st = group_error(s, "more than 65536 groups");
	for (const cJSON *it = root ? root->child : NULL; it && st == PD_OK; it = it->next)
		st = declare_group(s, it);
	cJSON_Delete(root);
	if (st == PD_OK && s->n_groups > 1)
		qsort(s->groups, s->n_groups, sizeof(*s->groups), cmp_group);
	for (uint32_t i = 1; st == PD_OK && i < s->n_groups; i++)
		if (strcmp(s->groups[i - 1].key, s->groups[i].key) == 0)
			st = group_error(s, "a group id appears twice");
	return st;
}

pd_status pd_i_et_set_init(pd_i_et_set *s, uint32_t n_ranks, const char **file,
                           const char *groups_json, pd_diag_list *diags)
{
	memset(s, 0, sizeof(*s));
	s->n_ranks = n_ranks;
	s->file = file;
	s->diags = diags;
	s->rank_off = calloc((size_t)n_ranks + 1, sizeof(uint32_t));
	if (!s->rank_off)
		return PD_IO;
	s->have_groups_json = groups_json != NULL;
	return groups_json ? parse_groups(s, groups_json) : PD_OK;
}

void pd_i_et_set_release(pd_i_et_set *s)
{
	for (uint32_t i = 0; i < s->n_groups; i++) {
		free(s->groups[i].key);
		free(s->groups[i].ranks);
	}
	free(s->groups);
	free(s->nodes);
	free(s->deps);
	free(s->names);
	free(s->rank_off);
	memset(s, 0, sizeof(*s));
}

/* The group a pg_name names: declared ones by binary search; without
 * comm_groups.json, groups are made as they are met. */
static pd_status find_group(pd_i_et_set *s, const char *key, int32_t *out)
{
	pd_i_et_group probe = {.key = (char *)key};
	if (s->have_groups_json) {
		const pd_i_et_group *g = s->n_groups ? bsearch(&probe, s->groups, s->n_groups,
		                                               sizeof(*s->groups), cmp_group)
		                                     : NULL;
		*out = g ? (int32_t)(g - s->groups) : -1;
		return PD_OK;
	}
	for (uint32_t i = s->n_groups; i-- > 0;)
		if (strcmp(s->groups[i].key, key) == 0) {
			*out = (int32_t)i;
			return PD_OK;
		}
	if (s->n_groups >= MAX_GROUPS) {
		*out = -1;
		return PD_OK;
	}
	pd_i_et_group *g;
	PD_CHECK(add_group(s, key, &g));
	*out = (int32_t)(g - s->groups);
	return PD_OK;
}

/* ---- growth ---- */
static pd_status grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return PD_OK;
	size_t c = *cap ? *cap : 1024;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * size);
	if (!q)
		return PD_IO;
	*p = q;
	*cap = c;
	return PD_OK;
}

static pd_status keep_name(pd_i_et_set *s, const char *name, uint32_t *off)
{
	size_t n = name ? strnlen(name, NAME_MAX_KEPT) : 0;
	PD_CHECK(grow((void **)&s->names, &s->cap_names, s->n_names + n + 1, 1));
	if (s->n_names + n + 1 > UINT32_MAX)
		return PD_IO;
	*off = (uint32_t)s->n_names;
	memcpy(s->names + s->n_names, name ? name : "", n);
	s->names[s->n_names + n] = '\0';
	s->n_names += n + 1;
	return PD_OK;
}

/* ---- one node's attributes ---- */
typedef struct attr_rule {
	const char *name;
	int value_case;
	const char *case_name;
	uint32_t bit; /* PD_I_ET_* or 0 */
} attr_rule;

static const attr_rule attr_rules[] = {
    {"comm_type", CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_INT64_VAL, "int64_val",
     PD_I_ET_COMM_TYPE},
    {"comm_size", CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_INT64_VAL, "int64_val",
     PD_I_ET_COMM_SIZE},
    {"comm_src", CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_INT32_VAL, "int32_val",
     PD_I_ET_SRC},
    {"comm_dst", CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_INT32_VAL, "int32_val",
     PD_I_ET_DST},
    {"comm_tag", CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_INT32_VAL, "int32_val",
     PD_I_ET_TAG},
    {"pg_name", CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_STRING_VAL, "string_val",
     PD_I_ET_GROUP},
    {"num_ops", CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_INT64_VAL, "int64_val", 0},
    {"tensor_size", CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_UINT64_VAL, "uint64_val", 0},
    {"is_cpu_op", CHAKRA_PROTO_MSG__ATTRIBUTE_PROTO__VALUE_BOOL_VAL, "bool_val", 0},
};

static const attr_rule *rule_of(const char *name)
{
	for (size_t i = 0; name && i < sizeof(attr_rules) / sizeof(attr_rules[0]); i++)
		if (strcmp(attr_rules[i].name, name) == 0)
			return &attr_rules[i];
	return NULL;
}

static pd_status take_value(pd_i_et_set *s, pd_i_et_node *n, const attr_rule *ru,
                            const et_attr *a)
{
	switch (ru->bit) {
	case PD_I_ET_COMM_TYPE:
		n->comm_type = a->int64_val;
		break;
	case PD_I_ET_COMM_SIZE:
		n->comm_size = a->int64_val;
		break;
	case PD_I_ET_SRC:
		n->src = a->int32_val;
		break;
	case PD_I_ET_DST:
		n->dst = a->int32_val;
		break;
	case PD_I_ET_TAG:
		n->tag = a->int32_val;
		break;
	case PD_I_ET_GROUP:
		return find_group(s, a->string_val ? a->string_val : "", &n->group);
	}
	return PD_OK;
}

static pd_status read_attrs(pd_i_et_set *s, pd_i_et_node *n, const et_node *m)
{
	for (size_t i = 0; i < m->n_attr; i++) {
		const et_attr *a = m->attr[i];
		const attr_rule *ru = rule_of(a->name);
		if (!ru)
			continue;
		if ((int)a->value_case != ru->value_case) {
			/* a value case schemas/chakra_et.proto leaves out is an unknown field */
			int field = a->value_case              ? (int)a->value_case
			            : a->base.n_unknown_fields ? (int)a->base.unknown_fields[0].tag
			                                       : 0;
			pd_i_et_finding(s, n->rank, n,
			                "write it as the type ASTRA-sim's Chakra feeder reads",
			                "attribute %s holds value field %d, not %s (field %d): a "
			                "replayer reads it as 0",
			                ru->name, field, ru->case_name, ru->value_case);
			n->wrong |= ru->bit;
			continue;
		}
		n->has |= ru->bit;
		PD_CHECK(take_value(s, n, ru, a));
		if (ru->bit == PD_I_ET_GROUP && n->group < 0)
			pd_i_et_finding(s, n->rank, n,
			                s->have_groups_json ? "declare the group in comm_groups.json"
			                                    : "use fewer groups",
			                "pg_name \"%.40s\" names a group %s", a->string_val,
			                s->have_groups_json ? "that comm_groups.json does not declare"
			                                    : "beyond the 65536 a set may have");
	}
	return PD_OK;
}

/* ---- what one node must carry ---- */
static bool known_type(int32_t t)
{
	return t >= CHAKRA_PROTO_MSG__NODE_TYPE__METADATA_NODE &&
	       t <= CHAKRA_PROTO_MSG__NODE_TYPE__CHECKPOINT_NODE;
}

static void require(pd_i_et_set *s, const pd_i_et_node *n, uint32_t bits, const char *what)
{
	static const char *names[] = {"comm_type", "comm_size", "comm_src",
	                              "comm_dst",  "comm_tag",  "pg_name"};
	for (unsigned i = 0; i < 6; i++)
		if ((bits & (1u << i)) && !((n->has | n->wrong) & (1u << i)))
			pd_i_et_finding(s, n->rank, n, "add the attribute with its value",
			                "a %s without the attribute %s", what, names[i]);
}

static void check_peer(pd_i_et_set *s, const pd_i_et_node *n, uint32_t bit, int32_t v,
                       const char *attr)
{
	if ((n->has & bit) && (v < 0 || (uint32_t)v >= s->n_ranks))
		pd_i_et_finding(s, n->rank, n, "name a rank of the set",
		                "%s %d is not a rank of the set (0..%u)", attr, (int)v,
		                s->n_ranks - 1);
}

static void check_comm(pd_i_et_set *s, pd_i_et_node *n)
{
	if (n->type == CHAKRA_PROTO_MSG__NODE_TYPE__COMM_COLL_NODE) {
		require(s, n, PD_I_ET_COMM_TYPE | PD_I_ET_COMM_SIZE, "collective");
		if ((n->has & PD_I_ET_COMM_TYPE) && (n->comm_type < 0 || n->comm_type > 9))
			pd_i_et_finding(s, n->rank, n, "use a CollectiveCommType value (0..9)",
			                "unknown comm_type %lld", (long long)n->comm_type);
	} else {
		bool send = n->type == CHAKRA_PROTO_MSG__NODE_TYPE__COMM_SEND_NODE;
		require(s, n, PD_I_ET_COMM_SIZE | PD_I_ET_TAG | (send ? PD_I_ET_DST : PD_I_ET_SRC),
		        send ? "send" : "receive");
		check_peer(s, n, PD_I_ET_SRC, n->src, "comm_src");
		check_peer(s, n, PD_I_ET_DST, n->dst, "comm_dst");
		int32_t self = send ? n->src : n->dst;
		if ((n->has & (send ? PD_I_ET_SRC : PD_I_ET_DST)) && self != (int32_t)n->rank)
			pd_i_et_finding(s, n->rank, n, "a node's own end is its file's rank",
			                "%s %d on rank %u", send ? "comm_src" : "comm_dst", (int)self,
			                n->rank);
	}
	if ((n->has & PD_I_ET_COMM_SIZE) && n->comm_size <= 0)
		pd_i_et_finding(s, n->rank, n,
		                "write the bytes moved as an int64 > 0 (ASTRA-sim waits forever on "
		                "a transfer of 0 bytes)",
		                "comm_size %lld", (long long)n->comm_size);
}

static void check_node(pd_i_et_set *s, pd_i_et_node *n)
{
	if (!known_type(n->type)) {
		pd_i_et_finding(
		    s, n->rank, n,
		    "use a NodeType of the Chakra schema (COMP_NODE, COMM_COLL_NODE, ...)",
		    "unknown node type %d", (int)n->type);
		return;
	}
	if (n->type >= CHAKRA_PROTO_MSG__NODE_TYPE__COMM_SEND_NODE &&
	    n->type <= CHAKRA_PROTO_MSG__NODE_TYPE__COMM_COLL_NODE)
		check_comm(s, n);
}

/* Copies what the checks need of one unpacked node. */
static pd_status add_node(pd_i_et_set *s, uint32_t r, const et_node *m)
{
	PD_CHECK(grow((void **)&s->nodes, &s->cap_nodes, s->n_nodes + 1, sizeof(*s->nodes)));
	size_t nd = m->n_data_deps + m->n_ctrl_deps;
	PD_CHECK(grow((void **)&s->deps, &s->cap_deps, s->n_deps + nd, sizeof(uint64_t)));
	if (s->n_nodes >= UINT32_MAX || s->n_deps + nd > UINT32_MAX)
		return PD_IO;
	pd_i_et_node *n = &s->nodes[s->n_nodes];
	memset(n, 0, sizeof(*n));
	n->id = m->id;
	n->rank = r;
	n->type = (int32_t)m->type;
	n->group = -1;
	n->dep_off = (uint32_t)s->n_deps;
	n->n_deps = (uint32_t)nd;
	if (m->n_data_deps) /* protobuf-c leaves an empty array NULL */
		memcpy(s->deps + s->n_deps, m->data_deps, m->n_data_deps * sizeof(uint64_t));
	if (m->n_ctrl_deps)
		memcpy(s->deps + s->n_deps + m->n_data_deps, m->ctrl_deps,
		       m->n_ctrl_deps * sizeof(uint64_t));
	s->n_deps += nd;
	PD_CHECK(keep_name(s, m->name, &n->name));
	PD_CHECK(read_attrs(s, n, m));
	s->n_nodes++;
	check_node(s, n);
	return PD_OK;
}

/* ---- framing ---- */
/* The varint at *pos: PD_OK, or PD_INVALID with a finding (truncated, too long). */
static pd_status read_len(pd_i_et_set *s, uint32_t r, const uint8_t *d, size_t size,
                          size_t *pos, uint64_t *len)
{
	uint64_t v = 0;
	size_t at = *pos;
	for (unsigned i = 0; i < 10; i++) {
		if (at + i >= size) {
			pd_i_et_finding(
			    s, r, NULL, "the file is truncated: write it again",
			    "the length prefix at byte %zu is cut off by the end of the file", at);
			return PD_INVALID;
		}
		uint8_t b = d[at + i];
		if (i == 9 && b > 1)
			break;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*pos = at + i + 1;
			*len = v;
			return PD_OK;
		}
	}
	pd_i_et_finding(s, r, NULL, "the file is not a Chakra ET stream",
	                "the length prefix at byte %zu overflows 64 bits", at);
	return PD_INVALID;
}

/* The next message's bytes: [*pos, *pos + *len) once bounds are checked. */
static pd_status next_message(pd_i_et_set *s, uint32_t r, const uint8_t *d, size_t size,
                              size_t *pos, uint64_t *len)
{
	size_t at = *pos;
	PD_CHECK(read_len(s, r, d, size, pos, len));
	if (*len > PD_CHAKRA_NODE_MAX) {
		pd_i_et_finding(s, r, NULL, "the file is damaged or not a Chakra ET stream",
		                "the message at byte %zu claims %llu bytes, more than the %u MiB a "
		                "node may take",
		                at, (unsigned long long)*len, PD_CHAKRA_NODE_MAX >> 20);
		return PD_INVALID;
	}
	if (*len > size - *pos) {
		pd_i_et_finding(s, r, NULL, "the file is truncated: write it again",
		                "the message at byte %zu claims %llu bytes, past the end of the "
		                "file (%zu bytes)",
		                at, (unsigned long long)*len, size);
		return PD_INVALID;
	}
	return PD_OK;
}

static pd_status read_metadata(pd_i_et_set *s, uint32_t r, const uint8_t *d, size_t size,
                               size_t *pos)
{
	uint64_t len;
	size_t at = *pos;
	PD_CHECK(next_message(s, r, d, size, pos, &len));
	ChakraProtoMsg__GlobalMetadata *m =
	    chakra_proto_msg__global_metadata__unpack(NULL, (size_t)len, d + *pos);
	*pos += (size_t)len;
	if (!m) {
		pd_i_et_finding(s, r, NULL, "start the file with a GlobalMetadata message",
		                "the first message (byte %zu) is not a GlobalMetadata", at);
		return PD_INVALID;
	}
	if (!s->noted_version && (!m->version || strcmp(m->version, PD_CHAKRA_VERSION) != 0)) {
		s->noted_version = true;
		pd_diag_add(s->diags, PD_RULE_TRACE, PD_NOTE, 0, 0,
		            "%s: schema version \"%.40s\": checked as Chakra " PD_CHAKRA_VERSION,
		            s->file[r], m->version ? m->version : "");
	}
	chakra_proto_msg__global_metadata__free_unpacked(m, NULL);
	return PD_OK;
}

static pd_status read_nodes(pd_i_et_set *s, uint32_t r, const uint8_t *d, size_t size,
                            size_t pos)
{
	while (pos < size) {
		uint64_t len;
		size_t at = pos;
		PD_CHECK(next_message(s, r, d, size, &pos, &len));
		et_node *m = chakra_proto_msg__node__unpack(NULL, (size_t)len, d + pos);
		pos += (size_t)len;
		if (!m) {
			pd_i_et_finding(s, r, NULL, "the file is damaged or not a Chakra ET stream",
			                "the message at byte %zu is not a Node", at);
			return PD_INVALID;
		}
		pd_status st = add_node(s, r, m);
		chakra_proto_msg__node__free_unpacked(m, NULL);
		PD_CHECK(st);
	}
	return PD_OK;
}

pd_status pd_i_et_set_add(pd_i_et_set *s, uint32_t r, const uint8_t *data, size_t size)
{
	PD_ASSERT(r < s->n_ranks);
	s->rank_off[r] = (uint32_t)s->n_nodes;
	pd_status st = PD_INVALID;
	size_t pos = 0;
	if (!data)
		pd_i_et_finding(s, r, NULL,
		                "write one file per rank: ASTRA-sim runs one NPU per file",
		                "the set has no file for this rank");
	else if (size == 0)
		pd_i_et_finding(s, r, NULL, "write the GlobalMetadata and the rank's nodes",
		                "the file is empty");
	else if ((st = read_metadata(s, r, data, size, &pos)) == PD_OK)
		st = read_nodes(s, r, data, size, pos);
	s->rank_off[r + 1] = (uint32_t)s->n_nodes;
	if (st == PD_INVALID)
		s->incomplete = true;
	return st == PD_IO ? PD_IO : PD_OK;
}
