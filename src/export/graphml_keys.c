/* graphml_keys.c - the table of graphml_keys.h. */
#include "graphml_keys.h"

#include "plan/bounds.h"

/* Node and stage ids are below the GPU count; -1 is "none" (hubs, dense layers). */
#define ID_RANGE -1, -1, PD_MAX_GPUS - 1
#define NONE 0, 0, 0

const pd_i_graphml_key pd_i_graphml_keys[GK__COUNT] = {
    [GK_KIND] = {"kind", "node", "kind", "string", NONE},
    [GK_GPU] = {"gpu", "node", "gpu", "int", ID_RANGE},
    [GK_REPLICA] = {"replica", "node", "replica", "int", ID_RANGE},
    [GK_STAGE] = {"stage", "node", "stage", "int", ID_RANGE},
    [GK_LAYER] = {"layer", "node", "layer", "int", -1, -1, PD_MAX_LAYERS},
    [GK_MB] = {"micro_batch", "node", "micro_batch", "int", 0, 0, PD_I_MAX_64K - 1},
    [GK_EXPERT] = {"expert", "node", "expert", "int", -1, -1, PD_MAX_EXPERTS - 1},
    [GK_FLOPS] = {"flops", "node", "flops", "double", NONE},
    [GK_BYTES] = {"bytes", "node", "bytes", "double", NONE},
    [GK_US] = {"us", "node", "us", "double", NONE},
    [GK_LABEL] = {"label", "node", "label", "string", NONE},
    [GK_GROUP] = {"group", "node", "group", "string", NONE},
    [GK_STREAM] = {"stream", "node", "stream", "string", NONE},
    [GK_START_US] = {"start_us", "node", "start_us", "double", NONE},
    [GK_END_US] = {"end_us", "node", "end_us", "double", NONE},
    [GK_PHASE] = {"phase", "node", "phase", "string", NONE},
    [GK_E_KIND] = {"e_kind", "edge", "kind", "string", NONE},
    [GK_E_BYTES] = {"e_bytes", "edge", "bytes", "double", NONE},
    [GK_G_PLAN] = {"g_plan", "graph", "plan", "string", NONE},
    [GK_G_N_GPUS] = {"g_n_gpus", "graph", "n_gpus", "int", 0, 1, PD_MAX_GPUS},
    [GK_G_GPUS_PER_NODE] = {"g_gpus_per_node", "graph", "gpus_per_node", "int", 0, 1,
                            PD_MAX_GPUS},
    [GK_G_CAPACITY] = {"g_gpu_capacity", "graph", "gpu_capacity", "double", NONE},
    [GK_G_N_REPLICAS] = {"g_n_replicas", "graph", "n_replicas", "int", 0, 1, PD_MAX_GPUS},
    [GK_G_MB] = {"g_micro_batches", "graph", "micro_batches", "int", 0, 1, PD_I_MAX_64K},
    [GK_G_PHASE] = {"g_phase", "graph", "phase", "string", NONE},
    [GK_G_STEP_TOKENS] = {"g_step_tokens", "graph", "step_tokens", "double", NONE},
    [GK_G_GPUS] = {"g_gpus", "graph", "gpus", "string", NONE},
    [GK_G_STAGES] = {"g_stages", "graph", "stages", "string", NONE},
    [GK_G_POOLS] = {"g_pools", "graph", "pools", "string", NONE},
};
