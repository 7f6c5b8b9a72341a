/* chakra.h - MLCommons Chakra execution traces: one .et file per rank for ASTRA-sim and
 * other trace replayers, written from a DAG and checked when read back
 * (docs/executors.md).
 *
 * A trace set is a directory NAME.chakra/ holding NAME.<rank>.et for rank 0..N-1 (the
 * GPUs the plan uses, in id order), comm_groups.json, ranks.json and the ASTRA-sim
 * analytical-backend inputs network.yml, system.json and remote_memory.json.
 */
#ifndef PLANDAG_CHAKRA_H
#define PLANDAG_CHAKRA_H

#include <stdint.h>

#include "plandag/dag.h"
#include "plandag/diag.h"
#include "plandag/plan.h"

/* The Chakra ET schema version written into every file's GlobalMetadata. */
#define PD_CHAKRA_VERSION "0.0.4"
/* A node message longer than this is refused by the reader (no real node comes close). */
#define PD_CHAKRA_NODE_MAX (64u << 20)

/* Writes the trace set of a finalized, lowered DAG into dir, an existing empty
 * directory, as NAME.<rank>.et (NAME = `name`) and the JSON/YAML inputs; `cluster`
 * gives the network dimensions.  One rank is built and written at a time (memory is
 * that of the largest rank, besides a 4-byte index per node).  PD_IO with a diagnostic
 * when a file cannot be written. */
pd_status pd_export_chakra(const pd_dag *dag, const pd_cluster *cluster, const char *name,
                           const char *dir, pd_diag_list *diags);

/* What pd_chakra_verify read. */
typedef struct pd_chakra_summary {
	uint32_t ranks;  /* trace files read */
	uint64_t nodes;  /* nodes in them */
	uint32_t groups; /* communication groups known */
} pd_chakra_summary;

/* Reads the trace set in dir and checks it (rule `trace`, docs/rules.md): every file
 * parses and every message is within bounds, node types and attribute types are the
 * ones ASTRA-sim reads, every dependency resolves and no cycle runs through the ranks,
 * every send has its receive (src, dst, tag, size), every member of a group issues that
 * group's collectives in the same order with the same type and size, comm_size > 0.
 * PD_OK, PD_INVALID (findings) or PD_IO (cannot read, out of memory). */
pd_status pd_chakra_verify(const char *dir, pd_chakra_summary *sum, pd_diag_list *diags);

#endif
