/* test_lower.c - the lowering (README.md): node counts by kind from the plan's
 * numbers, pd_dag_count against the built DAG, determinism, golden dumps, pp mapping. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan/layout.h"
#include "testutil.h"

/* A collective point in groups of g of the S GPUs, n times: S members, S / g hubs. */
static void point(uint64_t k[PD_N__COUNT], pd_node_kind kind, uint64_t S, uint64_t g,
                  uint64_t n)
{
	k[kind] += S * n;
	k[PD_N_COLLECTIVE] += S / g * n;
}

/* n dense layers whose FFN runs at TP N while attention runs at TP A (docs/models.md,
 * "Dense layers at their own TP"): the re-sharding collectives around the FFN. */
static void own_tp_counts(uint64_t k[PD_N__COUNT], uint64_t S, uint64_t A, uint64_t N,
                          bool sp, uint64_t n)
{
	if (sp)
		point(k, PD_N_TP_REDUCE_SCATTER, S, A, n);
	else if (A > 1)
		point(k, PD_N_TP_ALLREDUCE, S, A, n);
	if (N > 1 && (sp || N > A))
		point(k, PD_N_TP_ALL_GATHER, S, N, n);
	if (N > 1)
		point(k, PD_N_TP_REDUCE_SCATTER, S, N, n);
	if (A > 1)
		point(k, PD_N_TP_ALL_GATHER, S, A, n);
}

/* Node counts by kind as README.md (Lowering) has them, computed from the plan alone
 * (not from the lowering's code). */
static void expected_by_kind(const pd_plan *p, uint64_t k[PD_N__COUNT])
{
	memset(k, 0, sizeof(uint64_t) * PD_N__COUNT);
	const pd_model *m = &p->model;
	/* two-batch overlap: its two halves are micro-batches 0 and 1 */
	uint64_t mb = p->workload.overlap_two_batch ? 2 : (uint64_t)p->workload.micro_batches;
	for (uint32_t r = 0; r < p->strategy.n_replicas; r++) {
		const pd_replica *rep = &p->strategy.replicas[r];
		for (uint32_t s = 0; s < rep->n_stages; s++) {
			const pd_stage *st = &rep->stages[s];
			uint64_t S = st->n_gpus, L = 0, moe = 0, tp = (uint64_t)st->tp;
			for (int64_t l = st->first_layer; l <= st->last_layer; l++, L++)
				moe += m->experts > 0 && l >= m->first_dense;
			uint64_t dense = L - moe;
			k[s == 0 ? PD_N_EMBED : PD_N_PP_RECV] += S * mb;
			k[PD_N_ATTN_NORM] += S * L * mb;
			k[PD_N_QKV] += S * L * mb;
			k[PD_N_ATTENTION] += S * L * mb;
			k[PD_N_O_PROJ] += S * L * mb;
			k[PD_N_FFN_NORM] += S * L * mb;
			k[PD_N_FFN] += S * dense * mb;
			k[PD_N_ROUTER] += S * moe * mb;
			k[PD_N_EXPERT] += (uint64_t)(m->experts + st->redundant) * moe * mb; /* slots */
			if (m->shared_experts > 0)
				k[PD_N_SHARED_EXPERT] += S * moe * mb;
			uint64_t dtp = (uint64_t)pd_stage_dense_tp(st);
			bool own = dtp != tp && dense > 0; /* docs/models.md: re-sharding */
			if (own)
				own_tp_counts(k, S, tp, dtp, st->sp, dense * mb);
			uint64_t tp_points = tp > 1 ? (own ? moe : L + dense) : 0;
			if (st->sp) {
				k[PD_N_TP_REDUCE_SCATTER] += S * tp_points * mb;
				k[PD_N_TP_ALL_GATHER] += S * tp_points * mb;
				k[PD_N_COLLECTIVE] += 2 * (S / tp) * tp_points * mb;
			} else {
				k[PD_N_TP_ALLREDUCE] += S * tp_points * mb;
				k[PD_N_COLLECTIVE] += (S / tp) * tp_points * mb;
			}
			if (st->ep > 1) {
				k[PD_N_EP_DISPATCH] += S * moe * mb;
				k[PD_N_EP_COMBINE] += S * moe * mb;
				k[PD_N_COLLECTIVE] += 2 * moe * mb;
			}
			if (s + 1 == rep->n_stages) {
				k[PD_N_LM_HEAD] += S * mb;
				if (p->workload.phase == PD_DECODE)
					k[PD_N_SAMPLE] += S * mb;
			} else {
				k[PD_N_PP_SEND] += rep->stages[s + 1].n_gpus * mb;
			}
		}
	}
}

/* A pooled plan (docs/pools.md): each pool's view as above, plus one kv_send and one
 * kv_recv per layer from every prefill GPU whose TP rank sends (every rank for MLA,
 * the kv-heads ranks holding a head for GQA) in an attention group with sequences. */
static void expected_pooled(const pd_plan *p, uint64_t k[PD_N__COUNT])
{
	uint64_t part[PD_N__COUNT];
	memset(k, 0, sizeof(uint64_t) * PD_N__COUNT);
	for (uint32_t i = 0; i < p->strategy.n_pools; i++) {
		pd_plan v;
		pd_plan_pool_view(p, i, &v);
		expected_by_kind(&v, part);
		for (int n = 0; n < PD_N__COUNT; n++)
			k[n] += part[n];
		if (v.workload.phase != PD_PREFILL)
			continue;
		for (uint32_t r = 0; r < v.strategy.n_replicas; r++)
			for (uint32_t s = 0; s < v.strategy.replicas[r].n_stages; s++) {
				const pd_stage *st = &v.strategy.replicas[r].stages[s];
				uint64_t tp = (uint64_t)st->tp, G = st->n_gpus / tp;
				uint64_t ranks =
				    pd_model_is_mla(&p->model) || (uint64_t)p->model.kv_heads >= tp
				        ? tp
				        : (uint64_t)p->model.kv_heads;
				uint64_t groups =
				    (uint64_t)v.workload.batch < G ? (uint64_t)v.workload.batch : G;
				uint64_t L = (uint64_t)(st->last_layer - st->first_layer + 1);
				k[PD_N_KV_SEND] += groups * ranks * L;
				k[PD_N_KV_RECV] += groups * ranks * L;
			}
	}
}

/* Lowers p and checks counts by kind, pd_dag_count, comm and collective edges. */
static void check_counts(const pd_plan *p, const pd_analysis *an, const char *what)
{
	pd_dag *d = NULL;
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, an, &d), PD_OK);
	pd_dag_stats st;
	pd_dag_stats_compute(d, &st);
	uint64_t want[PD_N__COUNT], nodes, edges;
	if (pd_plan_is_pooled(p))
		expected_pooled(p, want);
	else
		expected_by_kind(p, want);
	for (int k = 0; k < PD_N__COUNT; k++) {
		if (st.by_kind[k] != want[k])
			fprintf(stderr, "%s: %s: %llu nodes, expected %llu\n", what,
			        pd_node_kind_name((pd_node_kind)k), (unsigned long long)st.by_kind[k],
			        (unsigned long long)want[k]);
		CU_ASSERT_EQUAL(st.by_kind[k], want[k]);
	}
	CU_ASSERT_EQUAL(pd_dag_count(p, &nodes, &edges), PD_OK);
	CU_ASSERT_EQUAL(nodes, d->n_nodes);
	CU_ASSERT_EQUAL(edges, d->n_edges);
	CU_ASSERT_EQUAL(st.edges_by_kind[PD_E_COMM], want[PD_N_PP_SEND] + want[PD_N_KV_SEND]);
	uint64_t members = want[PD_N_TP_ALLREDUCE] + want[PD_N_TP_REDUCE_SCATTER] +
	                   want[PD_N_TP_ALL_GATHER] + want[PD_N_EP_DISPATCH] +
	                   want[PD_N_EP_COMBINE];
	CU_ASSERT_EQUAL(st.edges_by_kind[PD_E_COLLECTIVE], members);
	CU_ASSERT_TRUE(d->finalized);
	pd_dag_destroy(d);
}

/* ---- plans built in C (independent of the parser) ---- */

typedef struct hand_stage {
	int first, last, gpus, tp, ep, sp;
} hand_stage;

static pd_plan *hand_plan(const pd_model *m, int batch, int mbs, pd_phase phase,
                          int replicas, const hand_stage *hs, int n_stages)
{
	pd_arena *a = pd_arena_create();
	pd_plan *p = pd_arena_calloc(a, 1, sizeof(*p));
	p->arena = a;
	p->name = "hand";
	p->model = *m;
	p->cluster = (pd_cluster){.nodes = 4,
	                          .gpus_per_node = 4,
	                          .gpu_memory = 80e9,
	                          .gpu_flops = 989e12,
	                          .gpu_bandwidth = 3.35e12,
	                          .intra_bandwidth = 450e9,
	                          .inter_bandwidth = 50e9};
	p->workload =
	    (pd_workload){.phase = phase, .batch = batch, .context = 128, .micro_batches = mbs};
	p->strategy.n_replicas = (uint32_t)replicas;
	p->strategy.replicas = pd_arena_calloc(a, (size_t)replicas, sizeof(pd_replica));
	int32_t next = 0;
	for (int r = 0; r < replicas; r++) {
		pd_replica *rep = &p->strategy.replicas[r];
		rep->count = 1;
		rep->n_stages = (uint32_t)n_stages;
		rep->stages = pd_arena_calloc(a, (size_t)n_stages, sizeof(pd_stage));
		for (int s = 0; s < n_stages; s++) {
			pd_stage *st = &rep->stages[s];
			st->first_layer = hs[s].first;
			st->last_layer = hs[s].last;
			st->n_gpus = (uint32_t)hs[s].gpus;
			st->gpus = pd_arena_calloc(a, st->n_gpus, sizeof(int32_t));
			for (uint32_t i = 0; i < st->n_gpus; i++)
				st->gpus[i] = next++;
			st->tp = hs[s].tp;
			st->ep = hs[s].ep;
			st->sp = hs[s].sp;
			if (m->experts > 0)
				CU_ASSERT_EQUAL(pd_i_expert_layout_build(a, st, m->experts, &st->layout),
				                PD_OK);
		}
	}
	p->expanded = true;
	return p;
}

static const pd_model moe4 = {.layers = 4,
                              .hidden = 256,
                              .heads = 4,
                              .kv_heads = 4,
                              .head_dim = 64,
                              .vocab = 1000,
                              .experts = 4,
                              .top_k = 2,
                              .expert_ffn = 512,
                              .shared_experts = 1,
                              .dense_ffn = 1024,
                              .first_dense = 1,
                              .dtype = PD_BF16};

static void lower_should_map_pp_sends_j_mod_size_with_uneven_stages(void)
{
	/* stage 0: 2 GPUs (TP 2), stage 1: 4 GPUs (EP 4, TP 2, SP), stage 2: 1 GPU */
	hand_stage hs[] = {{0, 1, 2, 2, 2, 0}, {2, 2, 4, 2, 4, 1}, {3, 3, 1, 1, 1, 0}};
	pd_plan *p = hand_plan(&moe4, 8, 2, PD_DECODE, 2, hs, 3);
	check_counts(p, NULL, "uneven");
	pd_dag *d = NULL;
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, NULL, &d), PD_OK);
	/* every comm edge: pp_send on GPU j mod size(s) of stage s -> pp_recv on GPU j */
	uint32_t comm = 0;
	for (uint32_t e = 0; e < d->n_edges; e++) {
		const pd_edge *ed = &d->edges[e];
		if (ed->kind != PD_E_COMM)
			continue;
		const pd_node *a = &d->nodes[ed->src], *b = &d->nodes[ed->dst];
		CU_ASSERT_EQUAL(a->kind, PD_N_PP_SEND);
		CU_ASSERT_EQUAL(b->kind, PD_N_PP_RECV);
		CU_ASSERT_EQUAL(a->stage + 1, b->stage);
		CU_ASSERT_EQUAL(a->replica, b->replica);
		CU_ASSERT_EQUAL(a->micro_batch, b->micro_batch);
		const pd_stage *sa = &p->strategy.replicas[a->replica].stages[a->stage];
		const pd_stage *sb = &p->strategy.replicas[b->replica].stages[b->stage];
		int j = -1;
		for (uint32_t i = 0; i < sb->n_gpus; i++)
			if (sb->gpus[i] == b->gpu)
				j = (int)i;
		CU_ASSERT_FATAL(j >= 0);
		CU_ASSERT_EQUAL(a->gpu, sa->gpus[(uint32_t)j % sa->n_gpus]);
		comm++;
	}
	CU_ASSERT_EQUAL(comm, 2 * 2 * (4 + 1)); /* replicas x micro-batches x (4 + 1) */
	pd_dag_destroy(d);
	pd_plan_destroy(p);
}

static void lower_should_count_dense_prefill_and_fewer_gpus_downstream(void)
{
	pd_model dense = moe4;
	dense.experts = 0;
	dense.top_k = 0;
	dense.shared_experts = 0;
	dense.first_dense = 0;
	/* 4 GPUs (two TP-2 attention groups) then 2 GPUs: GPUs 2 and 3 send nothing */
	hand_stage hs[] = {{0, 2, 4, 2, 1, 0}, {3, 3, 2, 2, 1, 1}};
	pd_plan *p = hand_plan(&dense, 8, 4, PD_PREFILL, 1, hs, 2);
	check_counts(p, NULL, "dense");
	pd_plan_destroy(p);
}

static void lower_should_fan_experts_into_next_layer_without_ep(void)
{
	/* one GPU, EP 1: router -> 4 experts (+ shared) -> next attn_norm from each */
	hand_stage hs[] = {{0, 3, 1, 1, 1, 0}};
	pd_plan *p = hand_plan(&moe4, 2, 1, PD_DECODE, 1, hs, 1);
	check_counts(p, NULL, "ep1");
	pd_dag *d = NULL;
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, NULL, &d), PD_OK);
	for (uint32_t v = 0; v < d->n_nodes; v++) {
		const pd_node *n = &d->nodes[v];
		if (n->kind != PD_N_ATTN_NORM || n->layer < 2)
			continue;
		uint32_t from_expert = 0, from_shared = 0;
		for (uint32_t i = d->in_off[v]; i < d->in_off[v + 1]; i++) {
			uint8_t k = d->nodes[d->edges[d->in_edge[i]].src].kind;
			from_expert += k == PD_N_EXPERT;
			from_shared += k == PD_N_SHARED_EXPERT;
		}
		CU_ASSERT_EQUAL(from_expert, 4);
		CU_ASSERT_EQUAL(from_shared, 1);
	}
	pd_dag_destroy(d);
	pd_plan_destroy(p);
}

static void lower_should_be_deterministic(void)
{
	hand_stage hs[] = {{0, 1, 4, 2, 4, 1}, {2, 3, 4, 4, 4, 0}};
	pd_plan *p = hand_plan(&moe4, 8, 2, PD_DECODE, 2, hs, 2);
	pd_dag *a = NULL, *b = NULL;
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, NULL, &a), PD_OK);
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, NULL, &b), PD_OK);
	CU_ASSERT_EQUAL_FATAL(a->n_nodes, b->n_nodes);
	CU_ASSERT_EQUAL_FATAL(a->n_edges, b->n_edges);
	CU_ASSERT_EQUAL(memcmp(a->nodes, b->nodes, a->n_nodes * sizeof(pd_node)), 0);
	CU_ASSERT_EQUAL(memcmp(a->edges, b->edges, a->n_edges * sizeof(pd_edge)), 0);
	CU_ASSERT_EQUAL(memcmp(a->costs, b->costs, a->n_costs * sizeof(pd_cost)), 0);
	CU_ASSERT_EQUAL(memcmp(a->in_edge, b->in_edge, a->n_edges * sizeof(uint32_t)), 0);
	pd_dag_destroy(a);
	pd_dag_destroy(b);
	pd_plan_destroy(p);
}

/* ---- plans read from files ---- */

/* Loads a valid plan file and checks its counts; returns 1 when it was valid. */
static int check_file(const char *rel)
{
	pd_plan *p = NULL;
	pd_analysis an;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_status s = pd_test_load(rel, &p, &an, &dl);
	int valid = s == PD_OK;
	if (valid) /* a pooled plan: expected_pooled */
		check_counts(p, &an, rel);
	pd_plan_destroy(p);
	pd_diag_list_release(&dl);
	return valid;
}

static int check_dir(const char *rel, const char *must)
{
	DIR *dir = opendir(pd_test_path(rel));
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	int n = 0, must_seen = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".xml") != 0)
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", rel, de->d_name);
		int ok = check_file(path);
		n += ok;
		if (must && strcmp(de->d_name, must) == 0)
			must_seen = ok;
	}
	closedir(dir);
	if (must)
		CU_ASSERT_TRUE(must_seen);
	return n;
}

static void lower_should_count_nodes_by_kind_on_every_valid_plan(void)
{
	CU_ASSERT_TRUE(check_dir("tests/plans/valid", "tiny.xml") >= 2);
	CU_ASSERT_TRUE(check_dir("examples", "moe-10b-ep16.xml") >= 1);
}

/* Dumps the lowered plan and compares it with the golden file byte for byte.  With
 * PD_UPDATE_GOLDEN set the golden file is written instead (then read it by eye). */
static void golden(const char *plan_rel, const char *golden_rel)
{
	pd_plan *p = NULL;
	pd_analysis an;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	CU_ASSERT_EQUAL_FATAL(pd_test_load(plan_rel, &p, &an, &dl), PD_OK);
	pd_dag *d = NULL;
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, &an, &d), PD_OK);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	pd_dag_dump(d, f);
	fclose(f);
	if (getenv("PD_UPDATE_GOLDEN"))
		pd_test_write_file(pd_test_path(golden_rel), buf);
	char *want = pd_test_read_file(pd_test_path(golden_rel), NULL);
	CU_ASSERT_PTR_NOT_NULL(want);
	if (want)
		CU_ASSERT_STRING_EQUAL(buf, want);
	free(want);
	free(buf);
	pd_dag_destroy(d);
	pd_plan_destroy(p);
	pd_diag_list_release(&dl);
}

static void lower_should_match_golden_tiny(void)
{
	golden("tests/plans/valid/tiny.xml", "tests/golden/tiny.lower.txt");
}

static void lower_should_match_golden_tiny_pp(void)
{
	golden("tests/plans/valid/tiny-pp.xml", "tests/golden/tiny-pp.lower.txt");
}

static void lower_should_fill_deployment_context(void)
{
	pd_plan *p = NULL;
	pd_analysis an;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	CU_ASSERT_EQUAL_FATAL(pd_test_load("examples/moe-10b-ep16.xml", &p, &an, &dl), PD_OK);
	pd_dag *d = NULL;
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, &an, &d), PD_OK);
	CU_ASSERT_EQUAL(d->n_gpus, 16);
	CU_ASSERT_EQUAL(d->gpus_per_node, 8);
	CU_ASSERT_EQUAL(d->n_stages, 1);
	CU_ASSERT_EQUAL(d->stages[0].n_experts, 16);
	CU_ASSERT_EQUAL(d->stages[0].expert_gpu[5], 5);
	CU_ASSERT_EQUAL(d->gpu[15].stage, 0);
	CU_ASSERT_TRUE(d->gpu[3].memory > 1e9);
	CU_ASSERT_EQUAL(d->gpu[3].memory, an.memory[3].total);
	CU_ASSERT_EQUAL(d->step_tokens, 256.0);
	CU_ASSERT_STRING_EQUAL(d->name, "moe-10b-ep16");
	pd_dag_destroy(d);
	pd_plan_destroy(p);
	pd_diag_list_release(&dl);
}

/* GPUs hosting different numbers of experts (3, 1, 0, 0) and uneven pp_sends: the
 * counting emitter's classes of GPUs must still add up to the lowering's DAG. */
static void count_should_match_the_lowering_with_uneven_experts_and_sends(void)
{
	hand_stage hs[] = {{0, 2, 4, 2, 4, 0}, {3, 3, 3, 1, 1, 0}};
	pd_plan *p = hand_plan(&moe4, 8, 3, PD_DECODE, 2, hs, 2);
	for (uint32_t r = 0; r < 2; r++) { /* experts 0-2 on the first GPU, 3 on the second */
		pd_stage *st = &p->strategy.replicas[r].stages[0];
		pd_place *pl = pd_arena_calloc(p->arena, 2, sizeof(*pl));
		pl[0] = (pd_place){.first = 0, .last = 2, .gpu = st->gpus[0]};
		pl[1] = (pd_place){.first = 3, .last = 3, .gpu = st->gpus[1]};
		st->places = pl;
		st->n_places = 2;
		CU_ASSERT_EQUAL(pd_i_expert_layout_build(p->arena, st, 4, &st->layout), PD_OK);
	}
	check_counts(p, NULL, "uneven experts");
	pd_plan_destroy(p);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Nodes and edges of a lowering of p with `mbs` micro-batches and `replicas` replicas. */
static void lowered_size(const hand_stage *hs, int mbs, int replicas, uint64_t *n,
                         uint64_t *e)
{
	pd_plan *p = hand_plan(&moe4, 8, mbs, PD_DECODE, replicas, hs, 2);
	pd_dag *d = NULL;
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, NULL, &d), PD_OK);
	*n = d->n_nodes;
	*e = d->n_edges;
	pd_dag_destroy(d);
	pd_plan_destroy(p);
}

/* pd_dag_count decides size limits before lowering: a plan of 3.8 x 10^11 nodes is
 * counted without being built, in bounded time, and its count is what lowering one and
 * two micro-batches of one replica implies. */
static void count_should_size_a_plan_too_large_to_lower_from_its_classes(void)
{
	hand_stage hs[] = {{0, 2, 4, 2, 4, 1}, {3, 3, 2, 2, 1, 0}};
	uint64_t n1, e1, n2, e2, nodes, edges, R = 2000, M = 1000000;
	lowered_size(hs, 1, 1, &n1, &e1);
	lowered_size(hs, 2, 1, &n2, &e2);
	CU_ASSERT_EQUAL(n2, 2 * n1);
	pd_plan *p = hand_plan(&moe4, 8, (int)M, PD_DECODE, (int)R, hs, 2);
	double t0 = now_s();
	CU_ASSERT_EQUAL(pd_dag_count(p, &nodes, &edges), PD_OK);
	CU_ASSERT_TRUE(now_s() - t0 < 10.0); /* memoised classes: milliseconds */
	CU_ASSERT_EQUAL(nodes, R * M * n1);
	CU_ASSERT_EQUAL(edges, R * (e1 + (M - 1) * (e2 - e1)));
	CU_ASSERT_TRUE(nodes > 10000000000ull);
	pd_plan_destroy(p);
}

typedef struct kind_sum {
	double flops, bytes, n;
} kind_sum;

/* FLOPs and bytes of every node of each kind of a dense PP 2 x TP 8 plan, SP on the
 * stages as sp0 and sp1 say. */
static void sp_sums(int sp0, int sp1, kind_sum sum[PD_N__COUNT])
{
	pd_model dense = moe4;
	dense.experts = dense.top_k = dense.shared_experts = dense.first_dense = 0;
	dense.heads = dense.kv_heads = 8;
	dense.head_dim = 32;
	hand_stage hs[] = {{0, 1, 8, 8, 1, sp0}, {2, 3, 8, 8, 1, sp1}};
	pd_plan *p = hand_plan(&dense, 16, 2, PD_PREFILL, 1, hs, 2);
	pd_dag *d = NULL;
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(p, NULL, &d), PD_OK);
	memset(sum, 0, PD_N__COUNT * sizeof(*sum));
	for (uint32_t v = 0; v < d->n_nodes; v++) {
		const pd_cost *c = &d->costs[d->nodes[v].cost];
		kind_sum *k = &sum[d->nodes[v].kind];
		k->flops += c->flops;
		k->bytes += c->bytes;
		k->n++;
	}
	pd_dag_destroy(d);
	pd_plan_destroy(p);
}

static bool one_eighth(const kind_sum *sp, const kind_sum *plain)
{
	return sp->n == plain->n && plain->bytes > 0 &&
	       fabs(sp->bytes * 8 - plain->bytes) <= 1e-9 * plain->bytes &&
	       fabs(sp->flops * 8 - plain->flops) <= 1e-9 * plain->flops;
}

/* README.md, "Lowering": with SP the norms run on T / TP tokens and every pp_send carries
 * the receiving GPU's 1/TP sequence shard; a receiver without SP needs the whole. */
static void lower_should_send_and_normalise_one_tp_share_with_sp(void)
{
	kind_sum plain[PD_N__COUNT], sp[PD_N__COUNT], to_sp[PD_N__COUNT], from_sp[PD_N__COUNT];
	sp_sums(0, 0, plain);
	sp_sums(1, 1, sp);
	sp_sums(0, 1, to_sp);
	sp_sums(1, 0, from_sp);
	CU_ASSERT_TRUE(plain[PD_N_PP_SEND].n == 2 * 8);
	CU_ASSERT_TRUE(one_eighth(&sp[PD_N_PP_SEND], &plain[PD_N_PP_SEND]));
	CU_ASSERT_TRUE(one_eighth(&sp[PD_N_PP_RECV], &plain[PD_N_PP_RECV]));
	CU_ASSERT_TRUE(one_eighth(&sp[PD_N_ATTN_NORM], &plain[PD_N_ATTN_NORM]));
	CU_ASSERT_TRUE(one_eighth(&sp[PD_N_FFN_NORM], &plain[PD_N_FFN_NORM]));
	CU_ASSERT_TRUE(plain[PD_N_ATTN_NORM].flops > 0 && plain[PD_N_FFN_NORM].flops > 0);
	/* the receiving stage decides */
	CU_ASSERT_TRUE(one_eighth(&to_sp[PD_N_PP_SEND], &plain[PD_N_PP_SEND]));
	CU_ASSERT_DOUBLE_EQUAL(from_sp[PD_N_PP_SEND].bytes, plain[PD_N_PP_SEND].bytes, 1e-6);
}

static CU_TestInfo lower_tests[] = {
    {"lower_should_map_pp_sends_j_mod_size_with_uneven_stages",
     lower_should_map_pp_sends_j_mod_size_with_uneven_stages},
    {"lower_should_count_dense_prefill_and_fewer_gpus_downstream",
     lower_should_count_dense_prefill_and_fewer_gpus_downstream},
    {"lower_should_fan_experts_into_next_layer_without_ep",
     lower_should_fan_experts_into_next_layer_without_ep},
    {"lower_should_be_deterministic", lower_should_be_deterministic},
    {"lower_should_count_nodes_by_kind_on_every_valid_plan",
     lower_should_count_nodes_by_kind_on_every_valid_plan},
    {"lower_should_match_golden_tiny", lower_should_match_golden_tiny},
    {"lower_should_match_golden_tiny_pp", lower_should_match_golden_tiny_pp},
    {"lower_should_fill_deployment_context", lower_should_fill_deployment_context},
    {"count_should_match_the_lowering_with_uneven_experts_and_sends",
     count_should_match_the_lowering_with_uneven_experts_and_sends},
    {"count_should_size_a_plan_too_large_to_lower_from_its_classes",
     count_should_size_a_plan_too_large_to_lower_from_its_classes},
    {"lower_should_send_and_normalise_one_tp_share_with_sp",
     lower_should_send_and_normalise_one_tp_share_with_sp},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"lower", NULL, NULL, NULL, NULL, lower_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
