/* layout.c - the expert layout of a stage (see layout.h for what it holds). */
#include "plan/layout.h"

#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Sorts v[0..n) ascending; most lists here (a GPU's expert ids dealt round robin, its
 * experts' copies) come sorted already, which one pass sees. */
static void sort_u32(uint32_t *v, uint64_t n)
{
	uint64_t k = 1;
	while (k < n && v[k - 1] <= v[k])
		k++;
	if (k < n)
		qsort(v, n, sizeof(*v), cmp_u32);
}

/* Index of cluster GPU id within the stage, -1 when not in it. */
static int64_t stage_index(const pd_stage *s, int64_t gpu)
{
	for (uint32_t i = 0; s->gpus && i < s->n_gpus; i++)
		if (s->gpus[i] == gpu)
			return i;
	return -1;
}

/* The experts of a <place> that exist: [*lo, *hi); empty when none does. */
static void place_range(const pd_place *pl, int64_t experts, int64_t *lo, int64_t *hi)
{
	*lo = pl->first < 0 ? 0 : pl->first;
	*hi = pl->last + 1 < experts ? pl->last + 1 : experts;
	if (*hi < *lo)
		*hi = *lo;
}

/* Slots per GPU (off[g + 1] before the prefix sum) of the placement. */
static void count_slots(const pd_stage *s, int64_t experts, pd_i_expert_layout *l)
{
	if (s->n_places == 0) {
		for (uint64_t k = 0; l->n_gpus && k < l->capacity; k++)
			l->off[k * l->n_gpus / l->capacity + 1]++;
		return;
	}
	for (uint32_t i = 0; i < s->n_places; i++) {
		int64_t g = stage_index(s, s->places[i].gpu), lo, hi;
		place_range(&s->places[i], experts, &lo, &hi);
		if (g >= 0)
			l->off[g + 1] += (uint64_t)(hi - lo);
	}
}

/* Writes the expert ids of every slot at their GPU's cursor (cur: n_gpus entries). */
static void fill_slots(const pd_stage *s, int64_t experts, pd_i_expert_layout *l,
                       uint64_t *cur)
{
	if (s->n_places == 0) {
		for (uint64_t k = 0; l->n_gpus && k < l->capacity; k++)
			l->ids[cur[k * l->n_gpus / l->capacity]++] = (uint32_t)(k % (uint64_t)experts);
		return;
	}
	for (uint32_t i = 0; i < s->n_places; i++) {
		int64_t g = stage_index(s, s->places[i].gpu), lo, hi;
		place_range(&s->places[i], experts, &lo, &hi);
		for (int64_t e = lo; g >= 0 && e < hi; e++)
			l->ids[cur[g]++] = (uint32_t)e;
	}
}

/* ids sorted per GPU, copies per expert, max_slots and max_copies. */
static pd_status fill_ids(pd_arena *a, const pd_stage *s, int64_t experts,
                          pd_i_expert_layout *l)
{
	l->ids = pd_arena_calloc(a, l->slots + 1, sizeof(*l->ids));
	l->copies = pd_arena_calloc(a, (size_t)experts, sizeof(*l->copies));
	uint64_t *cur = malloc((l->n_gpus + 1) * sizeof(*cur));
	if (!l->ids || !l->copies || !cur) {
		free(cur);
		return PD_IO;
	}
	memcpy(cur, l->off, l->n_gpus * sizeof(*cur));
	fill_slots(s, experts, l, cur);
	free(cur);
	for (uint32_t g = 0; g < l->n_gpus; g++)
		sort_u32(l->ids + l->off[g], pd_i_layout_slots(l, g));
	for (uint64_t k = 0; k < l->slots; k++)
		if (++l->copies[l->ids[k]] > l->max_copies)
			l->max_copies = l->copies[l->ids[k]];
	return PD_OK;
}

/* The pairs (copies, n) of GPU g into out (sorted by copies); returns how many. */
static uint32_t gpu_pairs(const pd_i_expert_layout *l, uint32_t g, uint32_t *tmp,
                          pd_i_copies_n *out)
{
	uint64_t n = pd_i_layout_slots(l, g);
	for (uint64_t k = 0; k < n; k++)
		tmp[k] = l->copies[l->ids[l->off[g] + k]];
	sort_u32(tmp, n);
	uint32_t np = 0;
	for (uint64_t k = 0; k < n; k++) {
		if (np && out[np - 1].copies == tmp[k])
			out[np - 1].n++;
		else
			out[np++] = (pd_i_copies_n){tmp[k], 1};
	}
	return np;
}

/* Index of the profile equal to pairs p[0..n), or n_profiles when new. */
static uint32_t find_profile(const pd_i_expert_layout *l, const pd_i_copies_n *p,
                             uint32_t n)
{
	for (uint32_t i = 0; i < l->n_profiles; i++)
		if (l->poff[i + 1] - l->poff[i] == n &&
		    memcmp(l->pair + l->poff[i], p, n * sizeof(*p)) == 0)
			return i;
	return l->n_profiles;
}

/* Profiles of the GPUs: one per distinct list of (copies, n) pairs.  Pairs never
 * outnumber slots, so pair[] is sized by them. */
static pd_status fill_profiles(pd_arena *a, pd_i_expert_layout *l)
{
	l->profile_of = pd_arena_calloc(a, l->n_gpus + 1, sizeof(*l->profile_of));
	l->poff = pd_arena_calloc(a, l->n_gpus + 2, sizeof(*l->poff));
	l->pair = pd_arena_calloc(a, l->slots + 1, sizeof(*l->pair));
	uint32_t *tmp = malloc((l->max_slots + 1) * sizeof(*tmp));
	if (!l->profile_of || !l->poff || !l->pair || !tmp) {
		free(tmp);
		return PD_IO;
	}
	uint32_t empty = UINT32_MAX; /* the profile of GPUs without slots, once seen */
	for (uint32_t g = 0; g < l->n_gpus; g++) {
		pd_i_copies_n *at = l->pair + l->poff[l->n_profiles];
		uint32_t n = gpu_pairs(l, g, tmp, at);
		/* GPUs without slots (many in a big stage placed by hand) cost one compare each;
		 * the others are at most experts + R, against few distinct profiles */
		uint32_t p = n == 0 && empty != UINT32_MAX ? empty : find_profile(l, at, n);
		if (n == 0)
			empty = p;
		if (p == l->n_profiles) {
			l->n_profiles++;
			l->poff[l->n_profiles] = l->poff[p] + n;
		}
		l->profile_of[g] = p;
	}
	free(tmp);
	return PD_OK;
}

pd_status pd_i_expert_layout_build(pd_arena *a, const pd_stage *s, int64_t experts,
                                   const pd_i_expert_layout **out)
{
	pd_i_expert_layout *l = pd_arena_calloc(a, 1, sizeof(*l));
	if (!l)
		return PD_IO;
	l->n_gpus = s->n_gpus;
	l->n_experts = (uint32_t)experts;
	l->capacity = (uint64_t)experts + (uint64_t)(s->redundant > 0 ? s->redundant : 0);
	l->off = pd_arena_calloc(a, l->n_gpus + 1, sizeof(*l->off));
	if (!l->off)
		return PD_IO;
	count_slots(s, experts, l);
	for (uint32_t g = 0; g < l->n_gpus; g++) {
		l->max_slots = l->off[g + 1] > l->max_slots ? l->off[g + 1] : l->max_slots;
		l->off[g + 1] += l->off[g];
	}
	l->slots = l->off[l->n_gpus];
	*out = l;
	if (l->slots > l->capacity)
		return PD_OK; /* more slots named than the stage has: ep-placement says so */
	PD_CHECK(fill_ids(a, s, experts, l));
	return fill_profiles(a, l);
}
