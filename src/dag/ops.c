/* ops.c - the operator catalogue (see ops.h): one row per node kind. */
#include <string.h>

#include "dag/ops.h"

#define COMPUTE(name, work)                                                                \
	{                                                                                      \
		name, PD_I_F_COMPUTE, PD_I_STREAM_COMPUTE, PD_I_COLL_NONE, PD_I_TIME_COMPUTE, work \
	}
#define COLL(name, family, coll, work)                                                     \
	{                                                                                      \
		name, family, PD_I_STREAM_COMM, coll, PD_I_TIME_LINK, work                         \
	}

const pd_i_op pd_i_ops[PD_N__COUNT] = {
    [PD_N_EMBED] = COMPUTE("embed", pd_i_work_embed),
    [PD_N_PP_RECV] = {"pp_recv", PD_I_F_PP, PD_I_STREAM_COMM, PD_I_COLL_NONE,
                      PD_I_TIME_NONE, pd_i_work_pp},
    [PD_N_ATTN_NORM] = COMPUTE("attn_norm", pd_i_work_norm),
    [PD_N_QKV] = COMPUTE("qkv", pd_i_work_qkv),
    [PD_N_ATTENTION] = COMPUTE("attention", pd_i_work_attention),
    [PD_N_O_PROJ] = COMPUTE("o_proj", pd_i_work_o_proj),
    [PD_N_TP_ALLREDUCE] =
        COLL("tp_allreduce", PD_I_F_TP, PD_I_COLL_ALL_REDUCE, pd_i_work_tp_allreduce),
    [PD_N_TP_REDUCE_SCATTER] = COLL("tp_reduce_scatter", PD_I_F_TP,
                                    PD_I_COLL_REDUCE_SCATTER, pd_i_work_tp_reduce_scatter),
    [PD_N_TP_ALL_GATHER] =
        COLL("tp_all_gather", PD_I_F_TP, PD_I_COLL_ALL_GATHER, pd_i_work_tp_all_gather),
    [PD_N_FFN_NORM] = COMPUTE("ffn_norm", pd_i_work_norm),
    [PD_N_ROUTER] = COMPUTE("router", pd_i_work_router),
    [PD_N_EP_DISPATCH] =
        COLL("ep_dispatch", PD_I_F_EP, PD_I_COLL_ALL_TO_ALL, pd_i_work_ep_all_to_all),
    [PD_N_EXPERT] = COMPUTE("expert", pd_i_work_expert),
    [PD_N_SHARED_EXPERT] = COMPUTE("shared_expert", pd_i_work_shared_expert),
    [PD_N_EP_COMBINE] =
        COLL("ep_combine", PD_I_F_EP, PD_I_COLL_ALL_TO_ALL, pd_i_work_ep_all_to_all),
    [PD_N_FFN] = COMPUTE("ffn", pd_i_work_ffn),
    [PD_N_LM_HEAD] = COMPUTE("lm_head", pd_i_work_lm_head),
    [PD_N_SAMPLE] = COMPUTE("sample", pd_i_work_sample),
    [PD_N_PP_SEND] = COLL("pp_send", PD_I_F_PP, PD_I_COLL_NONE, pd_i_work_pp),
    [PD_N_COLLECTIVE] = COLL("collective", PD_I_F_HUB, PD_I_COLL_NONE, NULL),
    [PD_N_KV_SEND] = COLL("kv_send", PD_I_F_KV, PD_I_COLL_NONE, pd_i_work_kv),
    [PD_N_KV_RECV] = {"kv_recv", PD_I_F_KV, PD_I_STREAM_COMM, PD_I_COLL_NONE,
                      PD_I_TIME_NONE, pd_i_work_kv},
};

const pd_i_family_style pd_i_family_styles[PD_I_F__COUNT] = {
    [PD_I_F_COMPUTE] = {"compute", "box", "#dce9f7", "#3b6ea8"},
    [PD_I_F_TP] = {"TP collective (member)", "ellipse", "#fde2b8", "#c77c02"},
    [PD_I_F_EP] = {"EP collective (member)", "ellipse", "#d4efd1", "#2e7d32"},
    [PD_I_F_PP] = {"PP p2p (send / recv)", "cds", "#ead7f2", "#7b3f98"},
    [PD_I_F_HUB] = {"collective hub (one per instance)", "doubleoctagon", "#f8d0d0",
                    "#b03030"},
    [PD_I_F_KV] = {"KV hand-over (prefill -> decode)", "cds", "#fff3b0", "#a07800"},
};

const char *pd_node_kind_name(pd_node_kind k)
{
	return (unsigned)k < PD_N__COUNT ? pd_i_ops[k].name : NULL;
}

int pd_node_kind_from_name(const char *s)
{
	for (int k = 0; s && k < PD_N__COUNT; k++)
		if (strcmp(s, pd_i_ops[k].name) == 0)
			return k;
	return -1;
}

int pd_node_kind_is_collective_member(pd_node_kind k)
{
	return (unsigned)k < PD_N__COUNT && pd_i_ops[k].coll != PD_I_COLL_NONE;
}
