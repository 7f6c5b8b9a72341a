/* layout.h - the expert layout of one stage: which expert every slot of every GPU holds.
 *
 * Built once per stage by pd_plan_expand (stages with the same default layout share
 * one) and read by everything that asks "which experts does GPU g host": the
 * ep-placement rule, memory per GPU, the analytic estimate and the lowering.
 *
 *   slots     experts + redundant-experts R
 *   default   slot s on stage GPU s * n_gpus / slots (= s / ((experts + R) / ep) when
 *             EP = stage size divides the slots), holding expert s mod experts
 *   explicit  every <place experts="a-b" gpu="G"> adds one slot per expert a..b on G
 *             (a place outside the model or the stage adds nothing: the rule reports it)
 *
 * GPU index g of the stage holds ids[off[g] .. off[g + 1]), ascending; an expert held
 * twice by one GPU appears twice, side by side (the rule reports it).  copies[e] is the
 * number of slots holding expert e (0: unplaced); its tokens split evenly over them.
 * GPUs whose slots hold experts of the same copy counts cost the same: such a class is
 * a profile, pairs (copies, n) at pair[poff[p] .. poff[p + 1]), GPU g of profile_of[g].
 */
#ifndef PLANDAG_PLAN_LAYOUT_H
#define PLANDAG_PLAN_LAYOUT_H

#include <stdint.h>

#include "plandag/plan.h"

typedef struct pd_i_copies_n {
	uint32_t copies, n; /* n slots holding experts with `copies` copies */
} pd_i_copies_n;

typedef struct pd_i_expert_layout {
	uint32_t n_gpus, n_experts;
	uint64_t slots;     /* slots named (explicit) or laid out (default) */
	uint64_t capacity;  /* experts + redundant-experts */
	uint64_t *off;      /* n_gpus + 1 */
	uint32_t *ids;      /* NULL when slots > capacity (the rule reports it) */
	uint32_t *copies;   /* n_experts; NULL with ids */
	uint64_t max_slots; /* most slots on one GPU */
	uint32_t max_copies;
	uint32_t n_profiles;
	uint32_t *profile_of, *poff;
	pd_i_copies_n *pair;
} pd_i_expert_layout;

/* Builds the layout of stage s of a model with `experts` experts in arena a. */
pd_status pd_i_expert_layout_build(pd_arena *a, const pd_stage *s, int64_t experts,
                                   const pd_i_expert_layout **out);

/* Slots of GPU index g. */
static inline uint64_t pd_i_layout_slots(const pd_i_expert_layout *l, uint32_t g)
{
	return l->off[g + 1] - l->off[g];
}

#endif
