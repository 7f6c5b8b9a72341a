/* fuzz_plan.c - libFuzzer target: plan reader, expansion, rules, report and, when the
 * plan is valid and small, lowering with the DAG checks. */
#include <stdint.h>
#include <stdio.h>

#include "plandag/plandag.h"

/* Lowering is exercised only below this many nodes + edges (speed, not safety: the
 * CLI refuses big plans the same way). */
#define FUZZ_MAX_ELEMENTS 200000u
/* The JSON report has one memory row per GPU: a schema-maximum plan of 983 040 GPUs
 * writes 233 MB (6 s in Release, 30 s under the fuzzer's sanitizers), linear and
 * streamed, but far beyond a per-input timeout.  Above this many rows the fuzzer skips
 * the JSON report (speed, not safety, as for lowering); the Markdown one always runs. */
#define FUZZ_MAX_JSON_ROWS 65536u

static FILE *sink;

static void lower_and_check(const pd_plan *plan, const pd_analysis *an, pd_diag_list *d)
{
	uint64_t nodes = 0, edges = 0;
	if (pd_dag_count(plan, &nodes, &edges) != PD_OK || nodes + edges > FUZZ_MAX_ELEMENTS)
		return;
	pd_dag *dag = NULL;
	if (pd_dag_lower(plan, an, &dag) != PD_OK) {
		pd_dag_destroy(dag);
		return;
	}
	pd_dag_stats st;
	pd_dag_stats_compute(dag, &st);
	pd_status a = pd_dag_check_acyclic(dag, d);
	pd_dag_check_placement(dag, d);
	if (a == PD_OK) {
		pd_critical_path cp = {0};
		pd_dag_critical_path(dag, &cp);
		pd_critical_path_release(&cp);
	}
	pd_dag_destroy(dag);
}

/* The report of whatever stage was reached (its code runs on hostile plans too). */
static void report(const char *path, pd_plan *plan, const pd_analysis *an, pd_diag_list *d,
                   pd_stage_id reached)
{
	pd_compilation c = {.path = path,
	                    .plan = plan,
	                    .diags = *d,
	                    .reached = reached,
	                    .status = d->errors ? PD_INVALID : PD_OK};
	if (reached >= PD_STAGE_VALIDATE)
		c.analysis = *an;
	pd_report_write(sink, PD_REPORT_MD, &c, "fuzz-overview.png");
	if (reached < PD_STAGE_VALIDATE || an->n_memory <= FUZZ_MAX_JSON_ROWS)
		pd_report_write(sink, PD_REPORT_JSON, &c, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!sink)
		sink = fopen("/dev/null", "w");
	pd_diag_list d;
	pd_diag_list_init(&d);
	pd_plan *plan = NULL;
	pd_analysis an = {0};
	pd_stage_id reached = PD_STAGE_NONE;
	if (pd_plan_parse_memory((const char *)data, size, "fuzz.xml", &plan, &d) == PD_OK &&
	    pd_plan_expand(plan, &d) == PD_OK) {
		pd_plan_print_tree(plan, sink);
		reached = PD_STAGE_EXPAND;
		if (pd_plan_validate(plan, &an, &d) != PD_IO)
			reached = PD_STAGE_VALIDATE;
		if (reached == PD_STAGE_VALIDATE && d.errors == 0)
			lower_and_check(plan, &an, &d);
	}
	report("fuzz.xml", plan, &an, &d, reached);
	pd_plan_destroy(plan);
	pd_diag_list_release(&d);
	return 0;
}
