/* graphml_keys.h - the GraphML keys of plandag, stated once: graphml.c writes a <key>
 * per row in this order, graphml_read.c matches keys by (for, attr.name) against it and
 * takes each integer key's default and bounds from it.
 */
#ifndef PLANDAG_GRAPHML_KEYS_H
#define PLANDAG_GRAPHML_KEYS_H

#include <stdint.h>

/* One enum value per key, grouped by domain: node keys, then edge, then graph. */
typedef enum pd_i_gkey {
	GK_KIND,
	GK_GPU,
	GK_REPLICA,
	GK_STAGE,
	GK_LAYER,
	GK_MB,
	GK_EXPERT,
	GK_FLOPS,
	GK_BYTES,
	GK_US,
	GK_LABEL,
	GK_GROUP,
	GK_STREAM,
	GK_START_US,
	GK_END_US,
	GK_PHASE,
	GK_E_KIND,
	GK_E_BYTES,
	GK_G_PLAN,
	GK_G_N_GPUS,
	GK_G_GPUS_PER_NODE,
	GK_G_CAPACITY,
	GK_G_N_REPLICAS,
	GK_G_MB,
	GK_G_PHASE,
	GK_G_STEP_TOKENS,
	GK_G_GPUS,
	GK_G_STAGES,
	GK_G_POOLS,
	GK__COUNT
} pd_i_gkey;

typedef struct pd_i_graphml_key {
	const char *id;     /* the id plandag writes */
	const char *domain; /* for= : node, edge or graph */
	const char *name;   /* attr.name: what a reader matches */
	const char *type;   /* attr.type: string, int or double */
	/* int keys: the value of a node without data (no <default> in the file either)
	 * and the accepted range, inclusive (the plan schema's, plan/bounds.h) */
	int32_t def, lo, hi;
} pd_i_graphml_key;

extern const pd_i_graphml_key pd_i_graphml_keys[GK__COUNT];

#endif
