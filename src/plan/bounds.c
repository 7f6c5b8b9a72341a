/* bounds.c - the bounds of plan.xsd's integer types (see bounds.h). */
#include "plan/bounds.h"

#include <stdio.h>
#include <string.h>

const pd_i_int_bound pd_i_int_bounds[PD_T__COUNT] = {
    [PD_T_COUNT_LAYERS] = {"count-layers", 1, PD_MAX_LAYERS, "a whole number"},
    [PD_T_COUNT_LAYERS_OR_ZERO] = {"count-layers-or-zero", 0, PD_MAX_LAYERS,
                                   "a whole number"},
    [PD_T_COUNT_64K] = {"count-64k", 1, PD_I_MAX_64K, "a whole number"},
    [PD_T_COUNT_64K_OR_ZERO] = {"count-64k-or-zero", 0, PD_I_MAX_64K, "a whole number"},
    [PD_T_COUNT_HIDDEN] = {"count-hidden", 1, PD_I_MAX_HIDDEN, "a whole number"},
    [PD_T_COUNT_FFN] = {"count-ffn", 0, PD_I_MAX_FFN, "a whole number"},
    [PD_T_COUNT_16M] = {"count-16m", 1, PD_I_MAX_16M, "a whole number"},
    [PD_T_COUNT_GPUS] = {"count-gpus", 1, PD_MAX_GPUS, "a whole number"},
    [PD_T_COUNT_GPUS_PER_NODE] = {"count-gpus-per-node", 1, PD_I_MAX_GPUS_PER_NODE,
                                  "a whole number"},
    [PD_T_GPU_ID] = {"gpu-id", 0, PD_MAX_GPUS - 1, "a GPU id"},
};

const pd_i_int_bound *pd_i_int_bound_of(const char *type)
{
	for (int t = 0; type && t < PD_T__COUNT; t++)
		if (strcmp(pd_i_int_bounds[t].type, type) == 0)
			return &pd_i_int_bounds[t];
	return NULL;
}

const char *pd_i_int_bound_hint(const pd_i_int_bound *b, char *buf, size_t size)
{
	snprintf(buf, size, "%s from %lld to %lld", b->what, (long long)b->min,
	         (long long)b->max);
	return buf;
}
