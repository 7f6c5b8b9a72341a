/* pipeline.c - parse -> expand -> validate -> lower -> check, as far as a plan allows. */
#include "plandag/pipeline.h"

#include <string.h>

static pd_status finish(pd_compilation *c, pd_status s)
{
	if (s == PD_OK && c->diags.errors > 0)
		s = PD_INVALID;
	c->status = s;
	return s;
}

/* Errors other than throughput-target stop the pipeline before lowering: the DAG's
 * critical path is what decides throughput-target. */
static size_t blocking_errors(const pd_diag_list *l)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].severity == PD_ERROR &&
		    strcmp(l->items[i].rule, PD_RULE_THROUGHPUT_TARGET) != 0)
			n++;
	return n;
}

static pd_status lower_and_check(pd_compilation *c)
{
	PD_CHECK(pd_dag_lower(c->plan, &c->analysis, &c->dag));
	c->reached = PD_STAGE_LOWER;
	pd_dag_stats_compute(c->dag, &c->stats);
	pd_status a = pd_dag_check_acyclic(c->dag, &c->diags);
	pd_status p = pd_dag_check_placement(c->dag, &c->diags);
	if (a == PD_IO || p == PD_IO)
		return PD_IO;
	if (a != PD_OK)
		return PD_INVALID; /* no longest path in a cyclic graph */
	PD_CHECK(pd_dag_critical_path(c->dag, &c->cp));
	c->reached = PD_STAGE_CHECK;
	pd_analysis_set_throughput(c->plan, &c->analysis, c->cp.latency_us);
	pd_diag_list_remove_rule(&c->diags, PD_RULE_THROUGHPUT_TARGET);
	pd_validate_throughput(c->plan, &c->analysis, &c->diags);
	return p;
}

pd_status pd_compile_file(const char *path, const pd_compile_options *opt,
                          pd_compilation *c)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	pd_diag_list_init(&c->diags);

	pd_status s = pd_plan_parse_file(path, &c->plan, &c->diags);
	if (s != PD_OK)
		return finish(c, s);
	c->reached = PD_STAGE_PARSE;
	s = pd_plan_expand(c->plan, &c->diags);
	if (s != PD_OK)
		return finish(c, s);
	c->reached = PD_STAGE_EXPAND;
	s = pd_plan_validate(c->plan, &c->analysis, &c->diags);
	if (s == PD_IO)
		return finish(c, s);
	c->reached = PD_STAGE_VALIDATE;
	if (!opt || !opt->lower || blocking_errors(&c->diags) > 0)
		return finish(c, PD_OK);

	s = pd_dag_count(c->plan, &c->est_nodes, &c->est_edges);
	if (s != PD_OK)
		return finish(c, s);
	uint64_t limit = opt->max_elements ? opt->max_elements : PD_DEFAULT_MAX_ELEMENTS;
	if (c->est_nodes + c->est_edges > limit)
		return finish(c, PD_OK); /* caller sees reached == VALIDATE: too large */
	if (opt->before_lower && (s = opt->before_lower(c, opt->before_lower_ctx)) != PD_OK)
		return finish(c, s);
	return finish(c, lower_and_check(c));
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

static void print_critical_path(FILE *f, const pd_critical_path *cp)
{
	fprintf(f, "  critical path: %.1f us over %u nodes; top contributors:\n",
	        cp->latency_us, cp->n);
	for (uint32_t i = 0; i < cp->n_top && i < 5; i++) {
		const struct pd_cp_contrib *t = &cp->top[i];
		fprintf(f, "    %-18s gpu %-5d %10.1f us (%u nodes, %.0f%%)\n",
		        pd_node_kind_name((pd_node_kind)t->kind), (int)t->gpu, t->us, t->count,
		        cp->latency_us > 0 ? 100.0 * t->us / cp->latency_us : 0.0);
	}
}

void pd_compilation_print_summary(const pd_compilation *c, FILE *f)
{
	const pd_plan *p = c->plan;
	if (!p)
		return;
	const pd_analysis *an = &c->analysis;
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
	} else if (c->est_nodes) {
		fprintf(f, "  DAG not lowered: %llu nodes + %llu edges exceed the limit\n",
		        (unsigned long long)c->est_nodes, (unsigned long long)c->est_edges);
	}
	if (c->reached == PD_STAGE_CHECK)
		print_critical_path(f, &c->cp);
	if (an->throughput_source != PD_THROUGHPUT_NONE) {
		fprintf(f, "  throughput: %.2f tokens/ms (%s, step %.1f us)", an->tokens_per_ms,
		        an->throughput_source == PD_THROUGHPUT_DAG ? "DAG critical path"
		                                                   : "roofline estimate",
		        an->step_latency_us);
		if (p->workload.has_target)
			fprintf(f, ", target %.2f", p->workload.target);
		fputc('\n', f);
	}
}
