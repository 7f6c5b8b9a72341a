/* pipeline.c - parse -> expand -> validate -> lower -> check, as far as a plan allows. */
#include "plandag/pipeline.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static pd_status finish(pd_compilation *c, pd_status s)
{
	if (s == PD_OK && c->diags.errors > 0)
		s = PD_INVALID;
	c->status = s;
	return s;
}

/* A stage that failed with PD_IO without saying why ran out of memory (the only other
 * PD_IO, an unreadable file, has its own diagnostic): say so, with what it was doing. */
static pd_status say_why(pd_compilation *c, pd_status s, size_t errors_before,
                         const char *doing)
{
	if (s == PD_IO && c->diags.errors == errors_before)
		pd_diag_fix(pd_diag_add(&c->diags, PD_RULE_IO, PD_ERROR, 0, 0,
		                        "out of memory while %s: %s", doing, strerror(ENOMEM)),
		            "free memory or raise the process limit (ulimit -v), or use fewer "
		            "GPUs, replicas or micro-batches");
	return s;
}

/* Bytes of IR for n nodes and e edges: the node and edge arrays and their indexes. */
static double ir_bytes(uint64_t n, uint64_t e)
{
	return (double)n * (sizeof(pd_node) + 8) + (double)e * (sizeof(pd_edge) + 8);
}

/* Sizes the DAG cannot have are refused before anything is allocated: node and edge
 * ids are 32-bit, and more IR than the machine has memory cannot be built. */
static pd_status refuse_impossible(pd_compilation *c)
{
	uint64_t n = c->est_nodes, e = c->est_edges;
	double bytes = ir_bytes(n, e);
	double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
	const char *fix = "use fewer GPUs, replicas or micro-batches; 'plandag check' judges "
	                  "the plan on the roofline estimate without lowering it";
	pd_diag *d = NULL;
	if (n >= UINT32_MAX || e >= UINT32_MAX)
		d = pd_diag_add(&c->diags, PD_RULE_IO, PD_ERROR, 0, 0,
		                "lowering would build %llu nodes and %llu edges: a DAG numbers at "
		                "most %u of each (32-bit ids), whatever --allow-large allows",
		                (unsigned long long)n, (unsigned long long)e, UINT32_MAX - 1);
	else if (phys > 0 && bytes > phys)
		d = pd_diag_add(&c->diags, PD_RULE_IO, PD_ERROR, 0, 0,
		                "lowering would build %llu nodes and %llu edges, about %.1f GB of "
		                "IR: more than the %.1f GB of memory of this machine",
		                (unsigned long long)n, (unsigned long long)e, bytes / 1e9,
		                phys / 1e9);
	if (!d)
		return PD_OK;
	pd_diag_fix(d, "%s", fix);
	return PD_IO;
}

/* Errors other than throughput-target and latency-target stop the pipeline before
 * lowering: the DAG's step time is what decides them. */
static size_t blocking_errors(const pd_diag_list *l)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].severity == PD_ERROR &&
		    strcmp(l->items[i].rule, PD_RULE_THROUGHPUT_TARGET) != 0 &&
		    strcmp(l->items[i].rule, PD_RULE_LATENCY_TARGET) != 0)
			n++;
	return n;
}

static void progress(const pd_compile_options *opt, const pd_compilation *c,
                     const char *step)
{
	if (opt->progress)
		opt->progress(opt->progress_arg, step, c->est_nodes + c->est_edges);
}

static pd_status lower(pd_compilation *c)
{
	char doing[160];
	snprintf(doing, sizeof(doing), "lowering %llu nodes and %llu edges (about %.1f GB)",
	         (unsigned long long)c->est_nodes, (unsigned long long)c->est_edges,
	         ir_bytes(c->est_nodes, c->est_edges) / 1e9);
	size_t before = c->diags.errors;
	return say_why(c, pd_dag_lower(c->plan, &c->analysis, &c->dag), before, doing);
}

/* A pooled plan: each pool's step is the makespan over its own GPUs (the hand-over is
 * not part of it), and the analysis takes them all at once. */
static pd_status set_pool_steps(pd_compilation *c)
{
	double steps[2] = {0, 0}; /* at most one pool per phase (the `hierarchy` rule) */
	pd_schedule s = {0};
	if (c->dag->n_pools > 2)
		return PD_IO;
	PD_CHECK(pd_dag_schedule(c->dag, &s));
	pd_dag_pool_steps(c->dag, &s, steps);
	pd_schedule_release(&s);
	pd_analysis_set_pool_steps(c->plan, &c->analysis, steps);
	return PD_OK;
}

static pd_status lower_and_check(const pd_compile_options *opt, pd_compilation *c)
{
	progress(opt, c, "lowering");
	PD_CHECK(lower(c));
	c->reached = PD_STAGE_LOWER;
	pd_dag_stats_compute(c->dag, &c->stats);
	progress(opt, c, "checking");
	size_t before = c->diags.errors;
	pd_status a = pd_dag_check_acyclic(c->dag, &c->diags);
	pd_status p = pd_dag_check_placement(c->dag, &c->diags);
	if (a == PD_IO || p == PD_IO)
		return say_why(c, PD_IO, before, "checking the DAG");
	if (a != PD_OK)
		return PD_INVALID; /* no longest path in a cyclic graph */
	progress(opt, c, "critical path");
	PD_CHECK(say_why(c, pd_dag_critical_path(c->dag, &c->cp), c->diags.errors,
	                 "finding the critical path"));
	c->reached = PD_STAGE_CHECK;
	if (pd_plan_is_pooled(c->plan))
		PD_CHECK(say_why(c, set_pool_steps(c), c->diags.errors, "scheduling the pools"));
	else
		pd_analysis_set_throughput(c->plan, &c->analysis, c->cp.latency_us);
	pd_diag_list_remove_rule(&c->diags, PD_RULE_THROUGHPUT_TARGET);
	pd_diag_list_remove_rule(&c->diags, PD_RULE_LATENCY_TARGET);
	pd_validate_throughput(c->plan, &c->analysis, &c->diags);
	return p;
}

/* Counts the DAG; lowers it when within opt's limit and representable. */
static pd_status size_and_lower(pd_compilation *c, const pd_compile_options *opt)
{
	size_t before = c->diags.errors;
	PD_CHECK(say_why(c, pd_dag_count(c->plan, &c->est_nodes, &c->est_edges), before,
	                 "counting the DAG"));
	uint64_t limit = opt->max_elements ? opt->max_elements : PD_DEFAULT_MAX_ELEMENTS;
	if (c->est_nodes + c->est_edges > limit) {
		c->over_limit = true; /* reached stays VALIDATE: judged without the DAG */
		return PD_OK;
	}
	PD_CHECK(refuse_impossible(c));
	if (opt->before_lower)
		PD_CHECK(opt->before_lower(c, opt->before_lower_ctx));
	return lower_and_check(opt, c);
}

/* Everything after parsing: expand, validate, lower, check. */
static pd_status compile_parsed(const pd_compile_options *opt, pd_compilation *c)
{
	c->reached = PD_STAGE_PARSE;
	size_t before = c->diags.errors;
	pd_status s =
	    say_why(c, pd_plan_expand(c->plan, &c->diags), before, "expanding the plan");
	if (s != PD_OK)
		return finish(c, s);
	c->reached = PD_STAGE_EXPAND;
	before = c->diags.errors;
	s = say_why(c, pd_plan_validate(c->plan, &c->analysis, &c->diags), before,
	            "validating the plan");
	if (s == PD_IO)
		return finish(c, s);
	c->reached = PD_STAGE_VALIDATE;
	if (!opt || !opt->lower || blocking_errors(&c->diags) > 0)
		return finish(c, PD_OK);
	return finish(c, size_and_lower(c, opt));
}

pd_status pd_compile_file(const char *path, const pd_compile_options *opt,
                          pd_compilation *c)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	pd_diag_list_init(&c->diags);
	pd_status s =
	    say_why(c, pd_plan_parse_file(path, &c->plan, &c->diags), 0, "reading the plan");
	if (s != PD_OK)
		return finish(c, s);
	return compile_parsed(opt, c);
}

pd_status pd_compile_memory(const char *buf, size_t len, const char *name,
                            const pd_compile_options *opt, pd_compilation *c)
{
	memset(c, 0, sizeof(*c));
	c->path = name;
	pd_diag_list_init(&c->diags);
	pd_status s = say_why(c, pd_plan_parse_memory(buf, len, name, &c->plan, &c->diags), 0,
	                      "reading the plan");
	if (s != PD_OK)
		return finish(c, s);
	return compile_parsed(opt, c);
}

pd_status pd_compile_plan(pd_plan *plan, const pd_compile_options *opt, pd_compilation *c)
{
	memset(c, 0, sizeof(*c));
	c->path = plan->path;
	c->plan = plan;
	pd_diag_list_init(&c->diags);
	return compile_parsed(opt, c);
}

void pd_compilation_release(pd_compilation *c)
{
	pd_critical_path_release(&c->cp);
	pd_dag_destroy(c->dag);
	pd_plan_destroy(c->plan);
	pd_diag_list_release(&c->diags);
	memset(c, 0, sizeof(*c));
}

static void print_kinds(FILE *f, const pd_dag_stats *st)
{
	fputs("  nodes by kind:", f);
	for (int k = 0; k < PD_N__COUNT; k++)
		if (st->by_kind[k])
			fprintf(f, " %s %llu", pd_node_kind_name((pd_node_kind)k),
			        (unsigned long long)st->by_kind[k]);
	fputs("\n  edges by kind:", f);
	for (int k = 0; k < PD_E__COUNT; k++)
		if (st->edges_by_kind[k])
			fprintf(f, " %s %llu", pd_edge_kind_name((pd_edge_kind)k),
			        (unsigned long long)st->edges_by_kind[k]);
	fputc('\n', f);
}

static void print_critical_path(FILE *f, const pd_critical_path *cp, bool pooled)
{
	fprintf(f, "  critical path%s: %.1f us over %u nodes; top contributors:\n",
	        pooled ? " of the whole DAG (both pools and the KV hand-over)" : "",
	        cp->latency_us, cp->n);
	for (uint32_t i = 0; i < cp->n_top && i < 5; i++) {
		const struct pd_cp_contrib *t = &cp->top[i];
		fprintf(f, "    %-18s gpu %-5d %10.1f us (%u nodes, %.0f%%)\n",
		        pd_node_kind_name((pd_node_kind)t->kind), (int)t->gpu, t->us, t->count,
		        cp->latency_us > 0 ? 100.0 * t->us / cp->latency_us : 0.0);
	}
}

/* A pooled plan: "  prefill pool: step 3295.4 ms; decode pool: step 30.017 ms; TTFT
 * 3310.2 ms (target 5000 ms), TPOT 30.017 ms (target 50 ms)" */
static void print_pool_latency(FILE *f, const pd_compilation *c)
{
	const pd_analysis *an = &c->analysis;
	const pd_workload *w = &c->plan->workload;
	fputs(" ", f);
	for (uint32_t p = 0; p < an->n_pools && p < c->plan->strategy.n_pools; p++)
		fprintf(f, " %s pool: step %.3f ms;",
		        pd_phase_name(c->plan->strategy.pools[p].phase),
		        an->pools[p].step_latency_us / 1000.0);
	fprintf(f, " TTFT %.3f ms", an->ttft_ms);
	if (w->has_target_ttft)
		fprintf(f, " (target %.3f ms)", w->target_ttft_ms);
	fprintf(f, ", TPOT %.3f ms", an->tpot_ms);
	if (w->has_target_tpot)
		fprintf(f, " (target %.3f ms)", w->target_tpot_ms);
	fputc('\n', f);
}

/* "  per GPU: 2459.2 tokens/s; TPOT 6.506 ms (target 10 ms)" */
static void print_latency(FILE *f, const pd_compilation *c)
{
	const pd_analysis *an = &c->analysis;
	const pd_workload *w = &c->plan->workload;
	if (pd_plan_is_pooled(c->plan)) {
		if (an->gpus_structural > 0)
			fprintf(f, "  per GPU: %.1f tokens/s\n",
			        an->tokens_per_ms * 1000.0 / (double)an->gpus_structural);
		print_pool_latency(f, c);
		return;
	}
	bool prefill = w->phase == PD_PREFILL;
	fputs("  per GPU:", f);
	if (an->gpus_structural > 0)
		fprintf(f, " %.1f tokens/s;",
		        an->tokens_per_ms * 1000.0 / (double)an->gpus_structural);
	fprintf(f, " %s %.3f ms", prefill ? "TTFT" : "TPOT", an->step_latency_us / 1000.0);
	if (prefill ? w->has_target_ttft : w->has_target_tpot)
		fprintf(f, " (target %.3f ms)", prefill ? w->target_ttft_ms : w->target_tpot_ms);
	fputc('\n', f);
}

void pd_compilation_print_summary(const pd_compilation *c, FILE *f)
{
	const pd_plan *p = c->plan;
	if (!p)
		return;
	const pd_analysis *an = &c->analysis;
	if (c->status == PD_IO) {
		fprintf(f, "plan %s: not compiled (%zu error(s) above; nothing written)\n", p->name,
		        c->diags.errors);
		return;
	}
	fprintf(f, "plan %s: %s, %zu error(s), %zu warning(s)\n", p->name,
	        c->diags.errors ? "invalid" : "valid", c->diags.errors, c->diags.warnings);
	if (c->reached < PD_STAGE_VALIDATE)
		return;
	fprintf(f, "  GPUs: %lld structural (%lld of the cluster's %lld)",
	        (long long)an->gpus_structural, (long long)an->gpus_structural,
	        (long long)an->gpus_cluster);
	if (p->strategy.has_declared_gpus)
		fprintf(f, ", %lld declared", (long long)p->strategy.declared_gpus);
	fputc('\n', f);
	if (c->reached >= PD_STAGE_LOWER) {
		fprintf(f, "  DAG: %llu nodes (%llu collective hubs), %llu edges, %d GPUs\n",
		        (unsigned long long)c->stats.nodes, (unsigned long long)c->stats.hubs,
		        (unsigned long long)c->stats.edges, (int)c->stats.gpus_used);
		print_kinds(f, &c->stats);
	} else if (c->over_limit) {
		fprintf(f, "  DAG not lowered: %llu nodes + %llu edges exceed the limit\n",
		        (unsigned long long)c->est_nodes, (unsigned long long)c->est_edges);
	}
	if (c->reached == PD_STAGE_CHECK)
		print_critical_path(f, &c->cp, pd_plan_is_pooled(p));
	if (an->throughput_source != PD_THROUGHPUT_NONE) {
		fprintf(f, "  throughput: %.2f tokens/ms (%s, step %.1f us)", an->tokens_per_ms,
		        an->throughput_source != PD_THROUGHPUT_DAG ? "roofline estimate"
		        : pd_plan_is_pooled(p)                     ? "the pools' DAG schedules"
		                                                   : "DAG critical path",
		        an->step_latency_us);
		if (p->workload.has_target)
			fprintf(f, ", target %.2f", p->workload.target);
		fputc('\n', f);
		print_latency(f, c);
	}
}
