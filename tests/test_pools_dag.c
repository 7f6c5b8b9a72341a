/* test_pools_dag.c - the DAG of a pooled plan (docs/pools.md, "The DAG of a pooled
 * plan"): one DAG with the prefill step, the KV hand-over and the decode step; its bytes
 * against the model by hand, the pairing of every kv_send, the counts, the phases, the
 * checks over the hand-over, and each pool's step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *const EXAMPLES[] = {"examples/mixtral-pd-pair.xml",
                                       "examples/deepseek-v3-pd-352-h800.xml"};

/* A dense GQA model with fewer KV heads (2) than the prefill TP (8): one holder per head
 * sends it; the decode pool has two replicas of two pipeline stages, so the prefill
 * stage's layers span two decode stages; 3 prompts over one attention group. */
static const char *const GQA_PLAN =
    "<?xml version=\"1.0\"?>\n"
    "<plan name=\"gqa-pools\">\n"
    "  <model name=\"d\" layers=\"6\" hidden=\"1024\" heads=\"16\" kv-heads=\"2\" "
    "head-dim=\"64\" vocab=\"1000\" dense-ffn=\"4096\" dtype=\"bf16\"/>\n"
    "  <cluster nodes=\"2\" gpus-per-node=\"8\" gpu=\"h100-sxm\"/>\n"
    "  <workload input-tokens=\"100\" output-tokens=\"20\"/>\n"
    "  <strategy gpus=\"16\">\n"
    "    <pool phase=\"prefill\" batch=\"3\">\n"
    "      <replica count=\"1\"><stage layers=\"0-5\" gpus=\"0-7\"><attention tp=\"8\"/>"
    "</stage></replica>\n"
    "    </pool>\n"
    "    <pool phase=\"decode\" batch=\"8\">\n"
    "      <replica count=\"2\">\n"
    "        <stage layers=\"0-2\"><attention tp=\"2\"/></stage>\n"
    "        <stage layers=\"3-5\"><attention tp=\"2\"/></stage>\n"
    "      </replica>\n"
    "    </pool>\n"
    "  </strategy>\n"
    "</plan>\n";

typedef struct loaded {
	pd_plan *plan;
	pd_analysis an;
	pd_diag_list diags;
	pd_dag *dag;
} loaded;

static void load_and_lower(const char *rel, const char *text, loaded *L)
{
	memset(L, 0, sizeof(*L));
	pd_diag_list_init(&L->diags);
	pd_status s = text ? pd_test_load_text(text, rel, &L->plan, &L->an, &L->diags)
	                   : pd_test_load(rel, &L->plan, &L->an, &L->diags);
	if (L->diags.errors)
		pd_test_dump_diags(&L->diags);
	CU_ASSERT_EQUAL_FATAL(s, PD_OK);
	CU_ASSERT_TRUE_FATAL(pd_plan_is_pooled(L->plan));
	CU_ASSERT_EQUAL_FATAL(pd_dag_lower(L->plan, &L->an, &L->dag), PD_OK);
}

static void release(loaded *L)
{
	pd_dag_destroy(L->dag);
	pd_plan_destroy(L->plan);
	pd_diag_list_release(&L->diags);
}

static const pd_pool *pool_of_phase(const pd_plan *p, pd_phase ph)
{
	for (uint32_t i = 0; i < p->strategy.n_pools; i++)
		if (p->strategy.pools[i].phase == ph)
			return &p->strategy.pools[i];
	CU_FAIL_FATAL("a pooled example without both pools");
	return NULL;
}

/* The prompt KV of one request, from the model by hand: input-tokens x layers x (MLA:
 * kv-lora-rank + qk-rope-dim; GQA: 2 x kv-heads x head-dim) x bytes of a KV element. */
static double request_kv_bytes(const pd_plan *p)
{
	const pd_model *m = &p->model;
	double per_layer = m->kv_lora > 0 ? (double)(m->kv_lora + m->qk_rope)
	                                  : 2.0 * (double)m->kv_heads * (double)m->head_dim;
	return (double)p->workload.input_tokens * (double)m->layers * per_layer *
	       pd_dtype_bytes(pd_model_kv_dtype(m));
}

static double node_bytes(const pd_dag *d, uint32_t v)
{
	return d->costs[d->nodes[v].cost].bytes;
}

static void
lowered_pooled_dag_should_check_and_hand_over_exactly_the_prompt_kv(const char *rel,
                                                                    const char *text)
{
	loaded L;
	load_and_lower(rel, text, &L);
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL(pd_dag_check_acyclic(L.dag, &d), PD_OK);
	CU_ASSERT_EQUAL(pd_dag_check_placement(L.dag, &d), PD_OK);
	pd_test_dump_diags(&d);
	const pd_pool *pre = pool_of_phase(L.plan, PD_PREFILL);
	double sum = 0,
	       want = (double)pre->n_replicas * (double)pre->batch * request_kv_bytes(L.plan);
	uint64_t sends = 0, recvs = 0;
	for (uint32_t v = 0; v < L.dag->n_nodes; v++) {
		sends += L.dag->nodes[v].kind == PD_N_KV_SEND;
		recvs += L.dag->nodes[v].kind == PD_N_KV_RECV;
		if (L.dag->nodes[v].kind == PD_N_KV_SEND)
			sum += node_bytes(L.dag, v);
	}
	CU_ASSERT_TRUE(sends > 0);
	CU_ASSERT_EQUAL(sends, recvs);
	CU_ASSERT_EQUAL(sum, want); /* exact: every KV element once */
	if (sum != want)
		fprintf(stderr, "%s: kv_send bytes %.17g, want %.17g\n", rel, sum, want);
	pd_diag_list_release(&d);
	release(&L);
}

static void hand_over_bytes_should_match_the_model_on_both_examples(void)
{
	for (size_t i = 0; i < 2; i++)
		lowered_pooled_dag_should_check_and_hand_over_exactly_the_prompt_kv(EXAMPLES[i],
		                                                                    NULL);
	lowered_pooled_dag_should_check_and_hand_over_exactly_the_prompt_kv("gqa-pools.xml",
	                                                                    GQA_PLAN);
}

/* The replica and stage of the plan serving layer l, or NULL. */
static const pd_stage *stage_of(const pd_plan *p, int32_t replica, int32_t stage)
{
	if (replica < 0 || (uint32_t)replica >= p->strategy.n_replicas || stage < 0 ||
	    (uint32_t)stage >= p->strategy.replicas[replica].n_stages)
		return NULL;
	return &p->strategy.replicas[replica].stages[stage];
}

static bool serves(const pd_stage *st, int32_t gpu, int32_t layer)
{
	bool on = false;
	for (uint32_t i = 0; st && i < st->n_gpus; i++)
		on = on || st->gpus[i] == gpu;
	return on && layer >= st->first_layer && layer <= st->last_layer;
}

/* The one kv_recv of send v (comm edge), UINT32_MAX unless exactly one. */
static uint32_t recv_of(const pd_dag *d, uint32_t v)
{
	uint32_t n = 0, r = UINT32_MAX;
	for (uint32_t i = d->out_off[v]; i < d->out_off[v + 1]; i++) {
		const pd_edge *e = &d->edges[d->out_edge[i]];
		if (e->kind == PD_E_COMM) {
			n++;
			r = d->nodes[e->dst].kind == PD_N_KV_RECV ? e->dst : UINT32_MAX;
		}
	}
	return n == 1 ? r : UINT32_MAX;
}

static void every_kv_send_should_pair_once_with_a_decode_gpu_of_its_layer(const loaded *L)
{
	const pd_dag *d = L->dag;
	const pd_pool *pre = pool_of_phase(L->plan, PD_PREFILL);
	const pd_pool *dec = pool_of_phase(L->plan, PD_DECODE);
	uint32_t *in = calloc(d->n_nodes, sizeof(uint32_t));
	for (uint32_t v = 0; v < d->n_nodes; v++) {
		const pd_node *n = &d->nodes[v];
		if (n->kind != PD_N_KV_SEND)
			continue;
		uint32_t r = recv_of(d, v);
		CU_ASSERT_NOT_EQUAL_FATAL(r, UINT32_MAX);
		const pd_node *m = &d->nodes[r];
		in[r]++;
		CU_ASSERT_TRUE((uint32_t)n->replica >= pre->first_replica &&
		               (uint32_t)n->replica < pre->first_replica + pre->n_replicas);
		CU_ASSERT_TRUE((uint32_t)m->replica >= dec->first_replica &&
		               (uint32_t)m->replica < dec->first_replica + dec->n_replicas);
		CU_ASSERT_TRUE(serves(stage_of(L->plan, n->replica, n->stage), n->gpu, n->layer));
		CU_ASSERT_TRUE(serves(stage_of(L->plan, m->replica, m->stage), m->gpu, n->layer));
		CU_ASSERT_EQUAL(m->layer, n->layer);
		CU_ASSERT_EQUAL(node_bytes(d, v), node_bytes(d, r));
		CU_ASSERT_EQUAL(n->phase, PD_PREFILL);
		CU_ASSERT_EQUAL(m->phase, PD_DECODE);
		CU_ASSERT_TRUE(r > v); /* after its send: ids stay a topological order */
	}
	for (uint32_t v = 0; v < d->n_nodes; v++)
		if (d->nodes[v].kind == PD_N_KV_RECV) {
			CU_ASSERT_EQUAL(in[v], 1);
			CU_ASSERT_EQUAL(d->out_off[v + 1], d->out_off[v]); /* no successor */
		}
	free(in);
}

/* Each prefill GPU that sends, sends every layer of its stage once. */
static void every_sender_should_send_each_layer_once(const loaded *L)
{
	const pd_dag *d = L->dag;
	int32_t G = d->n_gpus;
	uint32_t *count = calloc((size_t)G, sizeof(uint32_t));
	for (uint32_t v = 0; v < d->n_nodes; v++)
		if (d->nodes[v].kind == PD_N_KV_SEND)
			count[d->nodes[v].gpu]++;
	for (int32_t g = 0; g < G; g++) {
		if (!count[g])
			continue;
		const pd_stage *st = stage_of(L->plan, d->gpu[g].replica, d->gpu[g].stage);
		CU_ASSERT_PTR_NOT_NULL_FATAL(st);
		CU_ASSERT_EQUAL(count[g], (uint32_t)(st->last_layer - st->first_layer + 1));
	}
	free(count);
}

static void kv_pairs_should_join_prefill_and_decode_gpus_of_the_same_layer(void)
{
	for (size_t i = 0; i < 3; i++) {
		loaded L;
		load_and_lower(i < 2 ? EXAMPLES[i] : "gqa-pools.xml", i < 2 ? NULL : GQA_PLAN, &L);
		every_kv_send_should_pair_once_with_a_decode_gpu_of_its_layer(&L);
		every_sender_should_send_each_layer_once(&L);
		release(&L);
	}
}

/* GQA with kv-heads 2 < TP 8: only the ranks 0 and 4 of the group (one holder per head)
 * send; with PP on the decode side each sender reaches two decode stages. */
static void gqa_should_send_each_replicated_head_from_one_holder(void)
{
	loaded L;
	load_and_lower("gqa-pools.xml", GQA_PLAN, &L);
	const pd_dag *d = L.dag;
	uint8_t sender[8] = {0}, stages[2] = {0};
	for (uint32_t v = 0; v < d->n_nodes; v++) {
		if (d->nodes[v].kind != PD_N_KV_SEND)
			continue;
		sender[d->nodes[v].gpu] = 1;
		uint32_t r = recv_of(d, v);
		stages[d->nodes[r].stage] = 1;
		/* 3 prompts x 100 tokens x 1 layer x one head: 2 x 64 elements x 2 bytes */
		CU_ASSERT_EQUAL(node_bytes(d, v), 3.0 * 100 * 2 * 64 * 2);
	}
	static const uint8_t want[8] = {1, 0, 0, 0, 1, 0, 0, 0};
	CU_ASSERT_EQUAL(memcmp(sender, want, 8), 0);
	CU_ASSERT_TRUE(stages[0] && stages[1]);
	release(&L);
}

/* Nodes of the DAG on the GPUs (and replica, stage) a filter selects, hubs aside. */
static uint64_t nodes_selected(const pd_dag *d, int32_t r, int32_t s, int32_t g)
{
	uint64_t n = 0;
	for (uint32_t v = 0; v < d->n_nodes; v++) {
		const pd_node *x = &d->nodes[v];
		n += x->kind != PD_N_COLLECTIVE && (r < 0 || x->replica == r) &&
		     (s < 0 || x->stage == s) && (g < 0 || x->gpu == g);
	}
	return n;
}

static void count_should_equal_the_lowering_whole_and_in_parts(void)
{
	for (size_t i = 0; i < 3; i++) {
		loaded L;
		load_and_lower(i < 2 ? EXAMPLES[i] : "gqa-pools.xml", i < 2 ? NULL : GQA_PLAN, &L);
		uint64_t nodes, edges, part, hubs;
		CU_ASSERT_EQUAL(pd_dag_count(L.plan, &nodes, &edges), PD_OK);
		CU_ASSERT_EQUAL(nodes, L.dag->n_nodes);
		CU_ASSERT_EQUAL(edges, L.dag->n_edges);
		const pd_pool *dec = pool_of_phase(L.plan, PD_DECODE);
		int32_t first_decode_gpu =
		    L.plan->strategy.replicas[dec->first_replica].stages[0].gpus[0];
		const int32_t filters[][3] = {{-1, -1, 0},
		                              {-1, -1, first_decode_gpu},
		                              {(int32_t)dec->first_replica, -1, -1},
		                              {0, 0, -1},
		                              {-1, 0, -1}};
		for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
			const int32_t *x = filters[f];
			CU_ASSERT_EQUAL(pd_dag_count_part(L.plan, x[0], x[1], x[2], &part, &hubs),
			                PD_OK);
			uint64_t sel = nodes_selected(L.dag, x[0], x[1], x[2]);
			if (part != sel)
				fprintf(stderr, "count_part(%d, %d, %d) = %llu, DAG %llu\n", x[0], x[1],
				        x[2], (unsigned long long)part, (unsigned long long)sel);
			CU_ASSERT_EQUAL(part, sel);
		}
		release(&L);
	}
}

/* Every node carries its pool's phase; every GPU its pool; the pools their replicas. */
static void nodes_should_carry_their_pools_phase(void)
{
	for (size_t i = 0; i < 2; i++) {
		loaded L;
		load_and_lower(EXAMPLES[i], NULL, &L);
		const pd_dag *d = L.dag;
		CU_ASSERT_EQUAL_FATAL(d->n_pools, 2);
		CU_ASSERT_EQUAL(d->n_replicas, (int32_t)L.plan->strategy.n_replicas);
		uint64_t prefill = 0, decode = 0;
		for (uint32_t v = 0; v < d->n_nodes; v++) {
			const pd_node *n = &d->nodes[v];
			const pd_replica *rep = &L.plan->strategy.replicas[n->replica];
			pd_phase want = L.plan->strategy.pools[rep->pool].phase;
			if (n->kind == PD_N_KV_RECV)
				want = PD_DECODE; /* on the decode GPU, replica of the decode pool */
			CU_ASSERT_EQUAL(n->phase, want);
			prefill += n->phase == PD_PREFILL;
			decode += n->phase == PD_DECODE;
			if (n->gpu >= 0)
				CU_ASSERT_EQUAL(d->pools[d->gpu[n->gpu].pool].phase, (pd_phase)n->phase);
		}
		CU_ASSERT_TRUE(prefill > 0 && decode > 0);
		release(&L);
	}
}

/* The compile pipeline gives each pool its step: the makespan over its own GPUs
 * (hand-over aside), within the roofline's 5 % like a one-phase plan (test_check) when
 * the pool runs no two-batch overlap (which the roofline estimates on its own terms). */
static void pipeline_should_give_each_pool_its_scheduled_step(void)
{
	for (size_t i = 0; i < 2; i++) {
		pd_compile_options opt = {.lower = 1};
		pd_compilation c, r;
		pd_compile_file(pd_test_path(EXAMPLES[i]), &opt, &c);
		pd_compile_file(pd_test_path(EXAMPLES[i]), &(pd_compile_options){.lower = 0}, &r);
		CU_ASSERT_EQUAL_FATAL(c.reached, PD_STAGE_CHECK);
		CU_ASSERT_EQUAL_FATAL(c.analysis.n_pools, 2);
		pd_schedule s;
		CU_ASSERT_EQUAL_FATAL(pd_dag_schedule(c.dag, &s), PD_OK);
		for (uint32_t p = 0; p < 2; p++) {
			double end = 0;
			for (uint32_t v = 0; v < c.dag->n_nodes; v++) {
				const pd_node *n = &c.dag->nodes[v];
				if (n->gpu >= 0 && c.dag->gpu[n->gpu].pool == (int32_t)p &&
				    n->kind != PD_N_KV_SEND && n->kind != PD_N_KV_RECV && s.end_us[v] > end)
					end = s.end_us[v];
			}
			const pd_analysis *a = &c.analysis.pools[p];
			CU_ASSERT_EQUAL(a->throughput_source, PD_THROUGHPUT_DAG);
			CU_ASSERT_DOUBLE_EQUAL(a->step_latency_us, end, 1e-9 * end);
			double roof = r.analysis.pools[p].step_latency_us;
			pd_plan v;
			pd_plan_pool_view(c.plan, p, &v);
			CU_ASSERT_TRUE(end > 0);
			if (!v.workload.overlap_two_batch)
				CU_ASSERT_TRUE(fabs(roof - end) / end <= 0.05);
			if (getenv("PD_TEST_VERBOSE"))
				printf("\n  %s pool %u: DAG %.1f us, roofline %.1f us", EXAMPLES[i], p, end,
				       roof);
		}
		/* the hand-over comes after the prefill step: the whole DAG is longer */
		CU_ASSERT_TRUE(s.makespan_us > c.analysis.pools[0].step_latency_us);
		pd_schedule_release(&s);
		pd_compilation_release(&c);
		pd_compilation_release(&r);
	}
}

static CU_TestInfo tests[] = {
    {"hand_over_bytes_should_match_the_model_on_both_examples",
     hand_over_bytes_should_match_the_model_on_both_examples},
    {"kv_pairs_should_join_prefill_and_decode_gpus_of_the_same_layer",
     kv_pairs_should_join_prefill_and_decode_gpus_of_the_same_layer},
    {"gqa_should_send_each_replicated_head_from_one_holder",
     gqa_should_send_each_replicated_head_from_one_holder},
    {"count_should_equal_the_lowering_whole_and_in_parts",
     count_should_equal_the_lowering_whole_and_in_parts},
    {"nodes_should_carry_their_pools_phase", nodes_should_carry_their_pools_phase},
    {"pipeline_should_give_each_pool_its_scheduled_step",
     pipeline_should_give_each_pool_its_scheduled_step},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"pools_dag", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
