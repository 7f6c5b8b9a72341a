/* bounds.h - the integer types of schemas/plan.xsd and their bounds, stated once in C.
 *
 * The schema is what users read and what libxml2 validates against; the reader
 * (parse_build.c), its fix lines (parse_messages.c) and the GraphML reader take their
 * bounds from this table, and test_parse checks that every xs:minInclusive and
 * xs:maxInclusive of plan.xsd equals the row of its type here.  Change both together.
 */
#ifndef PLANDAG_BOUNDS_H
#define PLANDAG_BOUNDS_H

#include <stddef.h>
#include <stdint.h>

#include "plandag/plan.h" /* PD_MAX_LAYERS, PD_MAX_GPUS, PD_MAX_EXPERTS */

/* The maxima that have no public name (plan.h names layers, GPUs and experts). */
#define PD_I_MAX_64K 65536          /* heads, head-dim, tp, ep, micro-batches */
#define PD_I_MAX_HIDDEN (1 << 20)   /* hidden */
#define PD_I_MAX_FFN (1 << 22)      /* expert-ffn, dense-ffn */
#define PD_I_MAX_16M (1 << 24)      /* vocab, batch, context */
#define PD_I_MAX_GPUS_PER_NODE 1024 /* gpus-per-node */

typedef enum pd_i_int_type {
	PD_T_COUNT_LAYERS,
	PD_T_COUNT_LAYERS_OR_ZERO,
	PD_T_COUNT_64K,
	PD_T_COUNT_64K_OR_ZERO,
	PD_T_COUNT_HIDDEN,
	PD_T_COUNT_FFN,
	PD_T_COUNT_16M,
	PD_T_COUNT_GPUS,
	PD_T_COUNT_GPUS_PER_NODE,
	PD_T_GPU_ID,
	PD_T__COUNT
} pd_i_int_type;

typedef struct pd_i_int_bound {
	const char *type; /* the xs:simpleType name in plan.xsd */
	int64_t min, max; /* inclusive */
	const char *what; /* "a whole number", "a GPU id": the start of a fix line */
} pd_i_int_bound;

extern const pd_i_int_bound pd_i_int_bounds[PD_T__COUNT];

/* The row of an XSD type name, NULL when it is not an integer type of the table. */
const pd_i_int_bound *pd_i_int_bound_of(const char *type);

/* "a whole number from 1 to 10000" into buf; returns buf. */
const char *pd_i_int_bound_hint(const pd_i_int_bound *b, char *buf, size_t size);

#endif
