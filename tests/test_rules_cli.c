/* test_rules_cli.c - `plandag check` on every invalid plan of a rule, the way a user runs
 * it: exit 1 for an error (0 when the rule only warns), `[rule-id]` on stderr at
 * FILE:LINE: of the offending element, followed by a `fix:` line. */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

typedef struct cli_case {
	const char *file; /* under tests/plans/invalid, without .xml */
	const char *rule;
	const char *marker; /* text on the line the diagnostic points at */
	int status;         /* expected exit code */
} cli_case;

static const cli_case cases[] = {
    {"schema-bad-unit", "schema", "gpu-memory=\"1Gb\"", 1},
    {"schema-doctype", "schema", "<!DOCTYPE", 1},
    {"schema-duplicate-gpu", "schema", "gpus=\"0-1,1\"", 1},
    {"schema-missing-attribute", "schema", "<cluster nodes=\"1\" gpus-per-node=\"2\"/>", 1},
    {"schema-unknown-attribute", "schema", "haeds=", 1},
    {"schema-unknown-element", "schema", "<pipeline", 1},
    {"schema-wrong-type", "schema", "batch=\"four\"", 1},
    {"schema-latency-bounds", "schema", "target-ttft=\"0\"", 1},
    {"hierarchy-attention-in-replica", "hierarchy", "      <attention tp=\"2\"/>", 1},
    {"hierarchy-moe-in-attention", "hierarchy", "          <moe ep=\"2\"/>", 1},
    {"hierarchy-moe-in-strategy", "hierarchy", "    <moe ep=\"2\"/>", 1},
    {"hierarchy-place-outside-moe", "hierarchy", "<place experts=", 1},
    {"hierarchy-replica-in-stage", "hierarchy", "<replica count=\"2\"/>", 1},
    {"hierarchy-shorthand-with-replicas", "hierarchy", "<strategy gpus=\"2\" dp=", 1},
    {"hierarchy-stage-in-attention", "hierarchy", "<stage layers=\"1-1\"", 1},
    {"hierarchy-stage-in-strategy", "hierarchy", "    <stage layers=\"0-1\"", 1},
    {"multiplicative-gpu-count", "multiplicative-gpu-count", "<strategy gpus=\"32\">", 1},
    {"multiplicative-gpu-count-sum", "multiplicative-gpu-count", "<strategy gpus=\"20\">",
     1},
    {"layer-coverage", "layer-coverage", "layers=\"8-15\"", 1},
    {"layer-coverage-short", "layer-coverage", "layers=\"8-13\"", 1},
    {"tp-divides-heads", "tp-divides-heads", "<attention tp=\"8\"", 1},
    {"tp-divides-heads-kv", "tp-divides-heads", "<attention tp=\"8\"", 0},
    {"tp-divides-heads-stage", "tp-divides-heads", "<attention tp=\"16\"", 1},
    {"tp-divides-heads-dense-stage", "tp-divides-heads", "<dense-ffn tp=\"3\"", 1},
    {"tp-divides-heads-dense-width", "tp-divides-heads", "<dense-ffn tp=\"4\"", 1},
    {"tp-divides-heads-dense-nest", "tp-divides-heads", "<dense-ffn tp=\"6\"", 1},
    {"tp-divides-heads-dense-unused", "tp-divides-heads", "<dense-ffn tp=\"1\"", 0},
    {"sp-needs-tp", "sp-needs-tp", "sp=\"true\"", 1},
    {"ep-placement", "ep-placement", "<moe ep=\"8\"", 1},
    {"ep-placement-divides", "ep-placement", "<moe ep=\"16\"", 1},
    {"ep-placement-place", "ep-placement", "gpu=\"14\"", 1},
    {"ep-placement-gpu", "ep-placement", "gpu=\"8\"/>", 1},
    {"ep-placement-dense", "ep-placement", "<moe ep=\"16\"", 1},
    {"ep-placement-slots", "ep-placement", "redundant-experts=\"30\"", 1},
    {"ep-placement-slots-twice", "ep-placement", "redundant-experts=\"6\"", 1},
    {"ep-placement-place-uneven", "ep-placement", "<moe ep=\"2\"", 1},
    {"ep-placement-place-overfull", "ep-placement", "<moe ep=\"2\"", 1},
    {"ep-placement-copy-without-redundant", "ep-placement",
     "<place experts=\"0\" gpu=\"1\"", 1},
    {"ep-placement-redundant-dense", "ep-placement", "redundant-experts=\"2\"", 1},
    {"gpu-range", "gpu-range", "gpus=\"16-23\"", 1},
    {"gpu-range-count", "gpu-range", "<stage layers=\"0-15\">", 1},
    {"gpu-overlap", "gpu-overlap", "gpus=\"4-11\"", 1},
    {"gpu-overlap-count", "gpu-overlap", "<replica count=\"2\">", 1},
    {"replica-shape", "replica-shape", "<replica>", 1},
    {"workload-split", "workload-split", "<workload", 1},
    {"workload-split-groups", "workload-split", "<workload", 0},
    {"params-mismatch", "params-mismatch", "<model", 1},
    {"memory-capacity", "memory-capacity", "<stage", 1},
    {"tp-crosses-node", "tp-crosses-node", "<attention tp=\"16\"", 0},
    {"throughput-target", "throughput-target", "<workload", 1},
    {"latency-target", "latency-target", "<workload", 1},
    {"latency-target-phase", "latency-target", "<workload", 0},
    {"over-provisioned", "over-provisioned", "<strategy", 0},
    {"over-provisioned-idle", "over-provisioned", "<strategy", 1},
    {"pool-balance", "pool-balance", "<pool phase=\"decode\"", 0},
};


static void run_case(const cli_case *c)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "tests/plans/invalid/%s.xml", c->file);
	const char *path = pd_test_path(rel);
	long line = pd_test_line_of(path, c->marker);
	CU_ASSERT_TRUE_FATAL(line > 0);
	pd_run_result r;
	pd_run_plandag(&r, "check", path, NULL);
	CU_ASSERT_EQUAL(r.status, c->status);
	bool found = r.err && pd_test_has_diagnostic(r.err, path, line, c->rule);
	CU_ASSERT_TRUE(found);
	if (!found || r.status != c->status)
		fprintf(stderr, "\n  %s: exit %d, stderr:\n%s\n", c->file, r.status,
		        r.err ? r.err : "(none)");
	pd_run_release(&r);
}

static void check_should_report_each_rule_at_its_line_with_a_fix(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* Every rule of docs/rules.md outside the parser has an invalid plan above. */
static void every_rule_should_have_an_invalid_plan(void)
{
	static const char *const rules[] = {
	    PD_RULE_SCHEMA,           PD_RULE_HIERARCHY,        PD_RULE_MULTIPLICATIVE,
	    PD_RULE_LAYER_COVERAGE,   PD_RULE_TP_DIVIDES_HEADS, PD_RULE_SP_NEEDS_TP,
	    PD_RULE_EP_PLACEMENT,     PD_RULE_GPU_RANGE,        PD_RULE_GPU_OVERLAP,
	    PD_RULE_REPLICA_SHAPE,    PD_RULE_WORKLOAD_SPLIT,   PD_RULE_PARAMS_MISMATCH,
	    PD_RULE_MEMORY_CAPACITY,  PD_RULE_TP_CROSSES_NODE,  PD_RULE_THROUGHPUT_TARGET,
	    PD_RULE_OVER_PROVISIONED, PD_RULE_LATENCY_TARGET,   PD_RULE_POOL_BALANCE,
	};
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		bool found = false;
		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
			found |= strcmp(cases[k].rule, rules[i]) == 0 &&
			         strncmp(cases[k].file, rules[i], strlen(rules[i])) == 0;
		CU_ASSERT_TRUE(found);
	}
}

static void check_should_pass_the_default_example(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "check", pd_test_path("examples/moe-10b-ep16.xml"), NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NULL(r.err ? strstr(r.err, "error:") : NULL);
	pd_run_release(&r);
}

static CU_TestInfo tests[] = {
    {"check_should_report_each_rule_at_its_line_with_a_fix",
     check_should_report_each_rule_at_its_line_with_a_fix},
    {"every_rule_should_have_an_invalid_plan", every_rule_should_have_an_invalid_plan},
    {"check_should_pass_the_default_example", check_should_pass_the_default_example},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"rules_cli", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
