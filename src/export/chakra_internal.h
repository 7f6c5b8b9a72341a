/* chakra_internal.h - shared by the Chakra trace writer (chakra_write.c,
 * chakra_config.c), its reader and checks (chakra_read.c, chakra_verify.c), the fuzz
 * target and the benchmark; not public API. */
#ifndef PLANDAG_CHAKRA_INTERNAL_H
#define PLANDAG_CHAKRA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chakra_et.pb-c.h" /* generated from schemas/chakra_et.proto */
#include "plandag/chakra.h"
#include "util/util.h"

/* ---- writing ---- */
/* Ranks of a DAG: rank r is GPU gpu_of_rank[r]; the nodes of rank r are
 * ids[off[r] .. off[r+1]), ascending; group g (dag->groups) is named group_name[g]. */
typedef struct pd_i_chakra_ranks {
	int32_t n_ranks;
	int32_t *rank_of_gpu; /* dag->n_gpus entries, -1 for a GPU the plan does not use */
	int32_t *gpu_of_rank;
	uint32_t *off, *ids;
	char (*group_name)[12];
} pd_i_chakra_ranks;

pd_status pd_i_chakra_ranks_build(const pd_dag *dag, pd_i_chakra_ranks *rk);
void pd_i_chakra_ranks_release(pd_i_chakra_ranks *rk);
/* Writes rank r's .et stream to f (buffered, packed in place); PD_IO on a write error
 * or out of memory. */
pd_status pd_i_chakra_write_rank(const pd_dag *dag, const pd_i_chakra_ranks *rk, int32_t r,
                                 FILE *f);
/* The same stream, one malloc + pack + two fwrite per node (the benchmark's baseline). */
pd_status pd_i_chakra_write_rank_naive(const pd_dag *dag, const pd_i_chakra_ranks *rk,
                                       int32_t r, FILE *f);
/* comm_groups.json, ranks.json, network.yml, system.json, remote_memory.json into dir
 * (chakra_config.c). */
pd_status pd_i_chakra_write_config(const pd_dag *dag, const pd_i_chakra_ranks *rk,
                                   const pd_cluster *cluster, const char *dir,
                                   pd_diag_list *diags);
/* Encodes v as a protobuf varint at p (10 bytes at most); returns its length. */
size_t pd_i_varint_put(uint8_t *p, uint64_t v);

/* ---- reading and checking ---- */
/* One rank's file in memory. */
typedef struct pd_i_et_file {
	const char *name; /* for messages: "NAME.3.et" */
	const uint8_t *data;
	size_t size;
} pd_i_et_file;

/* What the checks keep of one node. */
enum {
	PD_I_ET_COMM_TYPE = 1u << 0,
	PD_I_ET_COMM_SIZE = 1u << 1,
	PD_I_ET_SRC = 1u << 2,
	PD_I_ET_DST = 1u << 3,
	PD_I_ET_TAG = 1u << 4,
	PD_I_ET_GROUP = 1u << 5,
};
typedef struct pd_i_et_node {
	uint64_t id;
	uint32_t rank;
	uint32_t name;            /* offset of its name in set->names */
	uint32_t dep_off, n_deps; /* set->deps[dep_off ..): ids, then node indices */
	int32_t type;             /* ChakraProtoMsg__NodeType */
	int32_t group;            /* index into set->groups, -1: none named */
	int64_t comm_type, comm_size;
	int32_t src, dst, tag;
	uint32_t has;   /* PD_I_ET_*: attributes present with the right type */
	uint32_t wrong; /* PD_I_ET_*: attributes present with another type */
} pd_i_et_node;

typedef struct pd_i_et_group {
	char *key;      /* the pg_name / comm_groups.json key */
	int32_t *ranks; /* sorted; NULL when not declared in comm_groups.json */
	uint32_t n_ranks;
	bool declared;
} pd_i_et_group;

/* A trace set being read (chakra_read.c) and checked (chakra_verify.c). */
typedef struct pd_i_et_set {
	uint32_t n_ranks;
	const char **file; /* n_ranks names for messages */
	pd_i_et_node *nodes;
	size_t n_nodes, cap_nodes;
	uint32_t *rank_off; /* n_ranks + 1: rank r's nodes are [rank_off[r], rank_off[r+1]) */
	uint64_t *deps;
	size_t n_deps, cap_deps;
	char *names;
	size_t n_names, cap_names;
	pd_i_et_group *groups;
	uint32_t n_groups, cap_groups;
	bool have_groups_json;
	bool incomplete; /* a file is missing or could not be read to its end */
	bool noted_version, noted_world;
	pd_diag_list *diags;
} pd_i_et_set;

/* Starts a set of n_ranks ranks whose files are named file[r]; groups_json (or NULL)
 * declares the groups.  PD_INVALID when comm_groups.json is malformed, PD_IO. */
pd_status pd_i_et_set_init(pd_i_et_set *s, uint32_t n_ranks, const char **file,
                           const char *groups_json, pd_diag_list *diags);
/* Parses rank r's file (ranks in order 0, 1, ...; data NULL: the file is missing). */
pd_status pd_i_et_set_add(pd_i_et_set *s, uint32_t r, const uint8_t *data, size_t size);
/* The cross-rank checks once every rank was added (chakra_verify.c). */
pd_status pd_i_et_set_check(pd_i_et_set *s);
void pd_i_et_set_release(pd_i_et_set *s);
/* A finding of rule `trace` at one node (n NULL: at the file of rank r). */
void pd_i_et_finding(pd_i_et_set *s, uint32_t r, const pd_i_et_node *n, const char *fix,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Checks a trace set held in memory: files[r] is rank r (data NULL: the file is
 * missing), groups_json the text of comm_groups.json or NULL when the set has none.
 * Diagnostics as pd_chakra_verify. */
pd_status pd_i_chakra_verify_files(const pd_i_et_file *files, uint32_t n_ranks,
                                   const char *groups_json, pd_chakra_summary *sum,
                                   pd_diag_list *diags);

#endif
