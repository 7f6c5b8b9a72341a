/* ops.h - the operator catalogue: one row per node kind (enum pd_node_kind).
 *
 * Everything plandag knows about a kind is here and nowhere else: the `kind` string of
 * every export, its family (DOT shape, colours and legend text), the stream it runs on,
 * its collective type, how its time is estimated and the work function of the cost
 * module (src/plan/cost.h) that gives its FLOPs and bytes.  The lowering interns costs
 * from it, DOT draws from it, the GraphML writer and reader, the dump and the reports
 * name kinds through pd_node_kind_name / pd_node_kind_from_name, which read it.
 * Adding a node kind: its enum value in dag.h, its row in ops.c, the emitter lines in
 * lower.c that place it (docs/architecture.md).
 */
#ifndef PLANDAG_DAG_OPS_H
#define PLANDAG_DAG_OPS_H

#include "plan/cost.h"
#include "plandag/dag.h"

typedef enum pd_i_family {
	PD_I_F_COMPUTE,
	PD_I_F_TP, /* tensor-parallel collective member */
	PD_I_F_EP, /* expert-parallel collective member */
	PD_I_F_PP, /* pipeline point-to-point */
	PD_I_F_HUB,
	PD_I_F_KV, /* KV hand-over of a pooled plan (kv_send / kv_recv) */
	PD_I_F__COUNT
} pd_i_family;

typedef enum pd_i_stream { PD_I_STREAM_COMPUTE, PD_I_STREAM_COMM } pd_i_stream;

typedef enum pd_i_coll {
	PD_I_COLL_NONE,
	PD_I_COLL_ALL_REDUCE,
	PD_I_COLL_REDUCE_SCATTER,
	PD_I_COLL_ALL_GATHER,
	PD_I_COLL_ALL_TO_ALL
} pd_i_coll;

/* How a node's microseconds follow from its work. */
typedef enum pd_i_timing {
	PD_I_TIME_COMPUTE, /* pd_i_compute_us(FLOPs, bytes) */
	PD_I_TIME_LINK,    /* pd_i_comm_us(bytes, link of its group or GPU pair) */
	PD_I_TIME_NONE,    /* marks an arrival; the transfer is timed on its sender */
} pd_i_timing;

typedef struct pd_i_op {
	const char *name; /* the `kind` string of every export */
	pd_i_family family;
	pd_i_stream stream;
	pd_i_coll coll;
	pd_i_timing timing;
	pd_i_work_fn work; /* NULL for the hub: it carries its instance's payload and time */
} pd_i_op;

extern const pd_i_op pd_i_ops[PD_N__COUNT];

/* DOT drawing and legend of one family. */
typedef struct pd_i_family_style {
	const char *legend, *shape, *fill, *line;
} pd_i_family_style;

extern const pd_i_family_style pd_i_family_styles[PD_I_F__COUNT];

#endif
