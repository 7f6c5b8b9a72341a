/* test_parse.c - reading plans: values, defaults, locations, hostile input, the schema
 * and hierarchy rules. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "plan/bounds.h"
#include "testutil.h"

static pd_status parse_str(const char *xml, pd_plan **p, pd_diag_list *d)
{
	return pd_plan_parse_memory(xml, strlen(xml), "mem.xml", p, d);
}

static pd_status parse_rel(const char *rel, pd_plan **p, pd_diag_list *d)
{
	return pd_plan_parse_file(pd_test_path(rel), p, d);
}

/* True when no diagnostic's message or fix contains needle. */
static bool diags_lack(const pd_diag_list *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->items[i].message, needle) ||
		    (d->items[i].fix && strstr(d->items[i].fix, needle)))
			return false;
	return true;
}

static void parse_should_read_every_value_of_the_default_example(void)
{
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL_FATAL(parse_rel("examples/moe-10b-ep16.xml", &p, &d), PD_OK);
	CU_ASSERT_EQUAL(d.n, 0);
	CU_ASSERT_STRING_EQUAL(p->name, "moe-10b-ep16");
	CU_ASSERT_STRING_EQUAL(p->model.name, "moe-10b");
	CU_ASSERT_EQUAL(p->model.layers, 16);
	CU_ASSERT_EQUAL(p->model.hidden, 4096);
	CU_ASSERT_EQUAL(p->model.experts, 16);
	CU_ASSERT_EQUAL(p->model.top_k, 2);
	CU_ASSERT_EQUAL(p->model.expert_ffn, 2816);
	CU_ASSERT_EQUAL(p->model.dtype, PD_FP16);
	CU_ASSERT_TRUE(p->model.has_params);
	CU_ASSERT_DOUBLE_EQUAL(p->model.params, 10.2e9, 1);
	CU_ASSERT_DOUBLE_EQUAL(p->cluster.gpu_memory, 68719476736.0, 0.5);
	CU_ASSERT_DOUBLE_EQUAL(p->cluster.gpu_flops, 989e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(p->cluster.gpu_bandwidth, 3.35e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(p->cluster.inter_bandwidth, 50e9, 1);
	CU_ASSERT_EQUAL(p->cluster.assumed, 0);
	CU_ASSERT_EQUAL(p->workload.batch, 256);
	CU_ASSERT_EQUAL(p->workload.context, 4096);
	CU_ASSERT_TRUE(p->workload.has_target);
	CU_ASSERT_DOUBLE_EQUAL(p->workload.target, 25, 1e-9);
	CU_ASSERT_EQUAL(p->workload.assumed, 0);
	CU_ASSERT_FALSE(p->strategy.shorthand);
	CU_ASSERT_EQUAL(p->strategy.declared_gpus, 16);
	CU_ASSERT_EQUAL_FATAL(p->strategy.n_replicas, 1);
	const pd_stage *s = &p->strategy.replicas[0].stages[0];
	CU_ASSERT_EQUAL(s->last_layer, 15);
	CU_ASSERT_EQUAL(s->n_gpus, 16);
	CU_ASSERT_TRUE(s->gpus_given);
	CU_ASSERT_EQUAL(s->ep, 16);
	CU_ASSERT_EQUAL(s->tp, 1);
	pd_plan_destroy(p);
	pd_diag_list_release(&d);
}

static void parse_should_read_the_mixtral_and_dense_examples(void)
{
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL_FATAL(parse_rel("examples/mixtral-8x7b-tp2-ep8.xml", &p, &d), PD_OK);
	CU_ASSERT_EQUAL(p->model.kv_heads, 8);
	CU_ASSERT_EQUAL(p->model.expert_ffn, 14336);
	CU_ASSERT_EQUAL(p->model.dtype, PD_BF16);
	CU_ASSERT_EQUAL(p->strategy.replicas[0].stages[0].tp, 2);
	CU_ASSERT_EQUAL(p->strategy.replicas[0].stages[0].ep, 8);
	pd_plan_destroy(p);
	CU_ASSERT_EQUAL_FATAL(parse_rel("examples/dense-70b-pp2-tp8-sp.xml", &p, &d), PD_OK);
	CU_ASSERT_EQUAL(p->model.experts, 0);
	CU_ASSERT_EQUAL(p->model.top_k, 0);
	CU_ASSERT_EQUAL(p->model.dense_ffn, 28672);
	CU_ASSERT_EQUAL_FATAL(p->strategy.replicas[0].n_stages, 2);
	CU_ASSERT_TRUE(p->strategy.replicas[0].stages[1].sp);
	CU_ASSERT_FALSE(p->strategy.replicas[0].stages[1].has_moe);
	CU_ASSERT_EQUAL(p->strategy.replicas[0].stages[1].ep, 1);
	pd_plan_destroy(p);
	CU_ASSERT_EQUAL(d.errors, 0);
	pd_diag_list_release(&d);
}

static const char *minimal =
    "<plan name=\"m\">\n"
    "  <model layers=\"2\" hidden=\"1024\" heads=\"8\" vocab=\"1000\" experts=\"4\"/>\n"
    "  <cluster nodes=\"1\" gpus-per-node=\"4\" gpu-memory=\"80GB\"/>\n"
    "  <strategy><replica><stage layers=\"0-1\"><attention/><moe/></stage></replica>"
    "</strategy>\n"
    "</plan>\n";

static void parse_should_apply_every_default(void)
{
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL_FATAL(parse_str(minimal, &p, &d), PD_OK);
	const pd_model *m = &p->model;
	CU_ASSERT_EQUAL(m->kv_heads, 8);
	CU_ASSERT_EQUAL(m->head_dim, 128);
	CU_ASSERT_EQUAL(m->top_k, 1);
	CU_ASSERT_EQUAL(m->shared_experts, 0);
	CU_ASSERT_EQUAL(m->first_dense, 0);
	CU_ASSERT_EQUAL(m->dtype, PD_BF16);
	CU_ASSERT_FALSE(m->has_params);
	CU_ASSERT_DOUBLE_EQUAL(p->cluster.gpu_flops, 989e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(p->cluster.gpu_bandwidth, 3.35e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(p->cluster.intra_bandwidth, 450e9, 1);
	CU_ASSERT_DOUBLE_EQUAL(p->cluster.inter_bandwidth, 50e9, 1);
	CU_ASSERT_EQUAL(p->cluster.assumed, PD_ASSUMED_TFLOPS | PD_ASSUMED_GPU_BANDWIDTH |
	                                        PD_ASSUMED_INTRA_BANDWIDTH |
	                                        PD_ASSUMED_INTER_BANDWIDTH);
	const pd_workload *w = &p->workload;
	CU_ASSERT_EQUAL(w->phase, PD_DECODE);
	CU_ASSERT_EQUAL(w->batch, 1);
	CU_ASSERT_EQUAL(w->context, 2048);
	CU_ASSERT_EQUAL(w->micro_batches, 1);
	CU_ASSERT_FALSE(w->has_target);
	CU_ASSERT_EQUAL(w->loc.line, 0);
	CU_ASSERT_TRUE(w->assumed & PD_ASSUMED_WORKLOAD);
	CU_ASSERT_TRUE(w->assumed & PD_ASSUMED_MICRO_BATCHES);
	const pd_stage *s = &p->strategy.replicas[0].stages[0];
	CU_ASSERT_EQUAL(p->strategy.replicas[0].count, 1);
	CU_ASSERT_TRUE(s->has_attention && s->has_moe);
	CU_ASSERT_EQUAL(s->tp, 1);
	CU_ASSERT_FALSE(s->sp);
	CU_ASSERT_EQUAL(s->ep, 1);
	CU_ASSERT_FALSE(s->gpus_given);
	CU_ASSERT_FALSE(p->strategy.has_declared_gpus);
	pd_plan_destroy(p);
	pd_diag_list_release(&d);
}

static void parse_should_mark_only_absent_workload_attributes(void)
{
	const char *xml = "<plan name=\"w\"><model layers=\"2\" hidden=\"64\" heads=\"4\" "
	                  "vocab=\"10\"/><cluster nodes=\"1\" gpus-per-node=\"1\" "
	                  "gpu-memory=\"1GB\" gpu-tflops=\"312\"/>"
	                  "<workload phase=\"prefill\" batch=\"8\"/><strategy/></plan>";
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL_FATAL(parse_str(xml, &p, &d), PD_OK);
	CU_ASSERT_EQUAL(p->workload.phase, PD_PREFILL);
	CU_ASSERT_EQUAL(p->workload.batch, 8);
	CU_ASSERT_EQUAL(p->workload.assumed, PD_ASSUMED_CONTEXT | PD_ASSUMED_MICRO_BATCHES);
	CU_ASSERT_EQUAL(p->model.top_k, 0); /* dense: no routing */
	CU_ASSERT_FALSE(p->cluster.assumed & PD_ASSUMED_TFLOPS);
	CU_ASSERT_DOUBLE_EQUAL(p->cluster.gpu_flops, 312e12, 1);
	CU_ASSERT_TRUE(p->strategy.shorthand); /* no replicas: all degrees 1 */
	CU_ASSERT_EQUAL(p->strategy.dp, 1);
	CU_ASSERT_EQUAL(p->strategy.tp, 1);
	pd_plan_destroy(p);
	pd_diag_list_release(&d);
}

static void parse_should_give_elements_line_and_column(void)
{
	const char *xml =
	    "<?xml version=\"1.0\"?>\n"
	    "<plan name=\"loc\">\n"
	    "  <model layers=\"2\" hidden=\"1024\"\n"
	    "         heads=\"8\" vocab=\"1000\" experts=\"2\"/>\n"
	    "  <cluster nodes=\"1\" gpus-per-node=\"2\" gpu-memory=\"80GB\"/>\n"
	    "  <strategy>\n"
	    "    <replica><stage layers=\"0-1\" gpus=\"0-1\"><attention tp=\"2\"/>"
	    "<moe ep=\"2\"><place experts=\"0-1\" gpu=\"0\"/></moe></stage>"
	    "</replica>\n"
	    "  </strategy>\n"
	    "</plan>\n";
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL_FATAL(parse_str(xml, &p, &d), PD_OK);
	CU_ASSERT_EQUAL(p->model.loc.line, 3); /* the line of '<model', not of '/>' */
	CU_ASSERT_EQUAL(p->model.loc.column, 3);
	CU_ASSERT_EQUAL(p->cluster.loc.line, 5);
	CU_ASSERT_EQUAL(p->strategy.loc.line, 6);
	const pd_replica *r = &p->strategy.replicas[0];
	const pd_stage *s = &r->stages[0];
	CU_ASSERT_EQUAL(r->loc.line, 7);
	CU_ASSERT_EQUAL(r->loc.column, 5);
	CU_ASSERT_EQUAL(s->loc.column, 14);
	CU_ASSERT_EQUAL(s->attention_loc.line, 7);
	CU_ASSERT_EQUAL(s->attention_loc.column, 45);
	CU_ASSERT_EQUAL(s->moe_loc.column, 64);
	CU_ASSERT_EQUAL(s->places[0].loc.column, 76);
	pd_plan_destroy(p);
	pd_diag_list_release(&d);
}

/* A plan whose elements start after `pad` comment lines. */
static char *padded_plan(long pad, const char *stage_attrs)
{
	size_t cap = (size_t)pad * 10 + 1024;
	char *buf = malloc(cap);
	size_t n = (size_t)sprintf(buf, "<?xml version=\"1.0\"?>\n<plan name=\"big\">\n");
	for (long i = 0; i < pad; i++)
		n += (size_t)sprintf(buf + n, "<!--x-->\n");
	sprintf(buf + n,
	        "  <model layers=\"2\" hidden=\"64\" heads=\"4\" vocab=\"10\"/>\n"
	        "  <cluster nodes=\"1\" gpus-per-node=\"1\" gpu-memory=\"1GB\"/>\n"
	        "  <strategy>\n"
	        "    <replica>\n"
	        "      <stage %s/>\n"
	        "    </replica>\n"
	        "  </strategy>\n"
	        "</plan>\n",
	        stage_attrs);
	return buf;
}

static void parse_should_keep_lines_past_65535(void)
{
	char *xml = padded_plan(70000, "layers=\"0-1\" gpus=\"0\"");
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL_FATAL(parse_str(xml, &p, &d), PD_OK);
	CU_ASSERT_EQUAL(p->model.loc.line, 70003);
	CU_ASSERT_EQUAL(p->strategy.replicas[0].stages[0].loc.line, 70007);
	CU_ASSERT_EQUAL(p->strategy.replicas[0].stages[0].loc.column, 7);
	pd_plan_destroy(p);
	free(xml);
	/* a schema error far down the file points at its own line */
	xml = padded_plan(70000, "layers=\"0-1\" gpus=\"0\" colour=\"red\"");
	CU_ASSERT_EQUAL(parse_str(xml, &p, &d), PD_INVALID);
	CU_ASSERT_TRUE(pd_test_find_diag(&d, PD_RULE_SCHEMA, 70007) >= 0);
	free(xml);
	pd_diag_list_release(&d);
}

static void parse_should_refuse_doctype(void)
{
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL(parse_rel("tests/plans/invalid/schema-doctype.xml", &p, &d),
	                PD_INVALID);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_EQUAL(pd_test_find_diag(&d, PD_RULE_SCHEMA, 2), 0);
	CU_ASSERT_EQUAL(d.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.items[0].message, "DOCTYPE"));
	CU_ASSERT_PTR_NOT_NULL(d.items[0].fix);
	pd_diag_list_release(&d);
}

static void parse_should_never_show_external_entity_content(void)
{
	const char *dir = pd_test_tmpdir("xxe");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	char secret[4096], xml[16384];
	snprintf(secret, sizeof(secret), "%s/secret.txt", dir);
	CU_ASSERT_EQUAL_FATAL(pd_test_write_file(secret, "PLANDAG-SECRET-7f3a"), 0);
	const char *forms[] = {
	    "<!DOCTYPE plan [<!ENTITY x SYSTEM \"file://%s\">]>\n<plan name=\"&x;\"/>",
	    "<!DOCTYPE plan SYSTEM \"file://%s\">\n<plan name=\"a\"/>",
	    "<!DOCTYPE plan [<!ENTITY %% p SYSTEM \"file://%s\"> %%p;]>\n<plan name=\"b\"/>",
	    "<plan name=\"&x;\"><!-- %s --></plan>",
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		pd_plan *p = NULL;
		pd_diag_list d;
		pd_diag_list_init(&d);
		int n = snprintf(xml, sizeof(xml), "<?xml version=\"1.0\"?>\n");
		snprintf(xml + n, sizeof(xml) - (size_t)n, forms[i], secret);
		CU_ASSERT_EQUAL(parse_str(xml, &p, &d), PD_INVALID);
		CU_ASSERT_TRUE(pd_diag_list_has(&d, PD_RULE_SCHEMA));
		CU_ASSERT_TRUE(diags_lack(&d, "PLANDAG-SECRET"));
		pd_diag_list_release(&d);
	}
}

static void parse_should_refuse_billion_laughs_quickly(void)
{
	char xml[8192];
	size_t n = (size_t)sprintf(xml, "<?xml version=\"1.0\"?>\n<!DOCTYPE plan [\n"
	                                " <!ENTITY l0 \"lol\">\n");
	for (int i = 1; i < 10; i++)
		n += (size_t)sprintf(xml + n,
		                     " <!ENTITY l%d \"&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;"
		                     "&l%d;\">\n",
		                     i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
		                     i - 1, i - 1);
	sprintf(xml + n, "]>\n<plan name=\"&l9;\"/>\n");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL(parse_str(xml, &p, &d), PD_INVALID);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CU_ASSERT_TRUE(s < 0.5);
	CU_ASSERT_EQUAL(pd_test_find_diag(&d, PD_RULE_SCHEMA, 2), 0);
	CU_ASSERT_TRUE(diags_lack(&d, "lollol"));
	pd_diag_list_release(&d);
}

/* Parses buf with stderr redirected; true when nothing was written to it. */
static bool parse_silently(const char *buf, size_t len, pd_diag_list *d, pd_status *s)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/stderr.txt", pd_test_tmpdir("silent"));
	fflush(stderr);
	int saved = dup(2), fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	dup2(fd, 2);
	pd_plan *p = NULL;
	*s = pd_plan_parse_memory(buf, len, "x.xml", &p, d);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	off_t size = lseek(fd, 0, SEEK_END);
	close(fd);
	pd_plan_destroy(p);
	return size == 0 && p == NULL;
}

static void parse_should_report_empty_binary_and_truncated_files_quietly(void)
{
	size_t full_len = 0;
	char *full = pd_test_read_file(pd_test_path("examples/moe-10b-ep16.xml"), &full_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(full);
	static const char binary[] = "\x7f"
	                             "ELF\x02\x01\x01\x00\xff\xfe\x00\x00garbage";
	const struct {
		const char *buf;
		size_t len;
	} cases[] = {
	    {"", 0},
	    {"  \n\n", 4},
	    {binary, sizeof(binary) - 1},
	    {full, full_len / 2},
	    {"<plan name=\"x\">", 15},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pd_diag_list d;
		pd_diag_list_init(&d);
		pd_status s;
		CU_ASSERT_TRUE(parse_silently(cases[i].buf, cases[i].len, &d, &s));
		CU_ASSERT_EQUAL(s, PD_INVALID);
		CU_ASSERT_TRUE(d.n >= 1 && strcmp(d.items[0].rule, PD_RULE_SCHEMA) == 0);
		CU_ASSERT_TRUE(d.n >= 1 && d.items[0].fix != NULL);
		pd_diag_list_release(&d);
	}
	free(full);
}

static void parse_should_report_a_missing_file_as_io(void)
{
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL(pd_plan_parse_file("/nonexistent/plan.xml", &p, &d), PD_IO);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_TRUE(pd_diag_list_has(&d, PD_RULE_IO));
	CU_ASSERT_EQUAL(pd_plan_parse_file(pd_test_path("tests"), &p, &d), PD_IO);
	pd_diag_list_release(&d);
}

/* The invalid plan rel fails with exactly one diagnostic, of rule, on needle's line. */
static void expect_one(const char *rel, const char *rule, const char *needle)
{
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL(parse_rel(rel, &p, &d), PD_INVALID);
	CU_ASSERT_PTR_NULL(p);
	long line = pd_test_line_of(pd_test_path(rel), needle);
	CU_ASSERT_TRUE(line > 0);
	CU_ASSERT_EQUAL(pd_test_find_diag(&d, rule, line), 0);
	CU_ASSERT_EQUAL(d.n, 1);
	CU_ASSERT_TRUE(d.n > 0 && d.items[0].column > 0 && d.items[0].fix != NULL);
	if (d.n != 1 || pd_test_find_diag(&d, rule, line) != 0) {
		fprintf(stderr, "%s (want %s at line %ld):\n", rel, rule, line);
		pd_test_dump_diags(&d);
	}
	pd_diag_list_release(&d);
}

static void parse_should_report_schema_errors_on_their_line(void)
{
	expect_one("tests/plans/invalid/schema-unknown-attribute.xml", "schema", "haeds");
	expect_one("tests/plans/invalid/schema-wrong-type.xml", "schema", "batch=\"four\"");
	expect_one("tests/plans/invalid/schema-missing-attribute.xml", "schema",
	           "<cluster nodes");
	expect_one("tests/plans/invalid/schema-unknown-element.xml", "schema",
	           "<pipeline depth");
	expect_one("tests/plans/invalid/schema-bad-unit.xml", "schema", "1Gb");
	expect_one("tests/plans/invalid/schema-duplicate-gpu.xml", "schema", "0-1,1");
}

static void parse_should_refuse_numbers_beyond_int64(void)
{
	const char *xml = "<plan name=\"o\"><model layers=\"99999999999999999999999\" "
	                  "hidden=\"64\" heads=\"4\" vocab=\"10\"/><cluster nodes=\"1\" "
	                  "gpus-per-node=\"1\" gpu-memory=\"1GB\"/><strategy/></plan>";
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL(parse_str(xml, &p, &d), PD_INVALID);
	CU_ASSERT_EQUAL(pd_test_find_diag(&d, PD_RULE_SCHEMA, 1), 0);
	pd_diag_list_release(&d);
}

static void parse_should_refuse_values_that_contradict_each_other(void)
{
	const char *xml = "<plan name=\"c\">\n"
	                  "<model layers=\"2\" hidden=\"100\" heads=\"3\" vocab=\"10\" "
	                  "experts=\"2\" top-k=\"4\"/>\n"
	                  "<cluster nodes=\"1\" gpus-per-node=\"1\" gpu-memory=\"1GB\"/>"
	                  "<strategy/></plan>";
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL(parse_str(xml, &p, &d), PD_INVALID);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_EQUAL(d.n, 2); /* head-dim has no default; top-k > experts */
	CU_ASSERT_EQUAL(pd_test_find_diag(&d, PD_RULE_SCHEMA, 2), 0);
	CU_ASSERT_TRUE(d.n == 2 && strstr(d.items[1].message, "top-k") != NULL);
	pd_diag_list_release(&d);
}

static void hierarchy_should_name_each_misplacement(void)
{
	const char *dir = "tests/plans/invalid/";
	static const struct {
		const char *file, *needle;
	} cases[] = {
	    {"hierarchy-stage-in-attention.xml", "<stage layers=\"1-1\""},
	    {"hierarchy-replica-in-stage.xml", "<replica count=\"2\""},
	    {"hierarchy-attention-in-replica.xml", "<attention tp"},
	    {"hierarchy-moe-in-strategy.xml", "<moe ep"},
	    {"hierarchy-moe-in-attention.xml", "<moe ep"},
	    {"hierarchy-stage-in-strategy.xml", "<stage layers"},
	    {"hierarchy-place-outside-moe.xml", "<place experts"},
	    {"hierarchy-shorthand-with-replicas.xml", "<strategy gpus"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "%s%s", dir, cases[i].file);
		expect_one(rel, PD_RULE_HIERARCHY, cases[i].needle);
	}
}

static void hierarchy_message_should_name_the_levels(void)
{
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	parse_rel("tests/plans/invalid/hierarchy-stage-in-attention.xml", &p, &d);
	CU_ASSERT_TRUE_FATAL(d.n > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.items[0].message, "<stage> inside <attention>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.items[0].message, "pipeline stage"));
	pd_diag_list_release(&d);
}

static void hierarchy_should_report_every_violation(void)
{
	const char *xml = "<plan name=\"h\">\n"
	                  "  <model layers=\"2\" hidden=\"64\" heads=\"4\" vocab=\"10\"/>\n"
	                  "  <cluster nodes=\"1\" gpus-per-node=\"2\" gpu-memory=\"1GB\"/>\n"
	                  "  <strategy>\n"
	                  "    <stage layers=\"0-1\"/>\n"
	                  "    <replica><stage layers=\"0-1\"><attention>\n"
	                  "      <replica/>\n"
	                  "    </attention></stage></replica>\n"
	                  "  </strategy>\n"
	                  "</plan>\n";
	pd_plan *p = NULL;
	pd_diag_list d;
	pd_diag_list_init(&d);
	CU_ASSERT_EQUAL(parse_str(xml, &p, &d), PD_INVALID);
	CU_ASSERT_EQUAL(d.n, 2);
	CU_ASSERT_EQUAL(pd_test_find_diag(&d, PD_RULE_HIERARCHY, 5), 0);
	CU_ASSERT_EQUAL(pd_test_find_diag(&d, PD_RULE_HIERARCHY, 7), 1);
	pd_diag_list_release(&d);
}

/* The xs:minInclusive / xs:maxInclusive value of a restriction, or `none`. */
static long long facet(const xmlNode *restriction, const char *name, long long none)
{
	for (const xmlNode *c = restriction->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, name) != 0)
			continue;
		xmlChar *v = xmlGetProp(c, BAD_CAST "value");
		long long x = v ? strtoll((const char *)v, NULL, 10) : none;
		xmlFree(v);
		return x;
	}
	return none;
}

/* Checks one xs:simpleType; returns 1 when it has integer bounds. */
static int check_simple_type(const xmlNode *t)
{
	const xmlNode *r = t->children;
	while (r &&
	       (r->type != XML_ELEMENT_NODE || strcmp((const char *)r->name, "restriction")))
		r = r->next;
	if (!r)
		return 0;
	long long lo = facet(r, "minInclusive", LLONG_MIN),
	          hi = facet(r, "maxInclusive", LLONG_MIN);
	if (lo == LLONG_MIN && hi == LLONG_MIN)
		return 0;
	xmlChar *name = xmlGetProp(t, BAD_CAST "name");
	const pd_i_int_bound *b = pd_i_int_bound_of((const char *)name);
	if (!b || b->min != lo || b->max != hi)
		fprintf(stderr, "\nplan.xsd %s: [%lld, %lld], bounds.h: %s [%lld, %lld]\n", name,
		        lo, hi, b ? b->type : "no row", b ? (long long)b->min : 0,
		        b ? (long long)b->max : 0);
	CU_ASSERT_PTR_NOT_NULL(b);
	CU_ASSERT_TRUE(b && b->min == lo && b->max == hi);
	xmlFree(name);
	return 1;
}

static void schema_bounds_should_equal_the_c_table_of_bounds(void)
{
	xmlDoc *doc = xmlReadFile(pd_test_path("schemas/plan.xsd"), NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	int typed = 0;
	for (const xmlNode *c = xmlDocGetRootElement(doc)->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "simpleType") == 0)
			typed += check_simple_type(c);
	CU_ASSERT_EQUAL(typed, PD_T__COUNT); /* and every row of the table is in the schema */
	xmlFreeDoc(doc);
}

static CU_TestInfo parse_tests[] = {
    {"schema_bounds_should_equal_the_c_table_of_bounds",
     schema_bounds_should_equal_the_c_table_of_bounds},
    {"parse_should_read_every_value_of_the_default_example",
     parse_should_read_every_value_of_the_default_example},
    {"parse_should_read_the_mixtral_and_dense_examples",
     parse_should_read_the_mixtral_and_dense_examples},
    {"parse_should_apply_every_default", parse_should_apply_every_default},
    {"parse_should_mark_only_absent_workload_attributes",
     parse_should_mark_only_absent_workload_attributes},
    {"parse_should_give_elements_line_and_column",
     parse_should_give_elements_line_and_column},
    {"parse_should_keep_lines_past_65535", parse_should_keep_lines_past_65535},
    {"parse_should_refuse_doctype", parse_should_refuse_doctype},
    {"parse_should_never_show_external_entity_content",
     parse_should_never_show_external_entity_content},
    {"parse_should_refuse_billion_laughs_quickly",
     parse_should_refuse_billion_laughs_quickly},
    {"parse_should_report_empty_binary_and_truncated_files_quietly",
     parse_should_report_empty_binary_and_truncated_files_quietly},
    {"parse_should_report_a_missing_file_as_io", parse_should_report_a_missing_file_as_io},
    {"parse_should_report_schema_errors_on_their_line",
     parse_should_report_schema_errors_on_their_line},
    {"parse_should_refuse_numbers_beyond_int64", parse_should_refuse_numbers_beyond_int64},
    {"parse_should_refuse_values_that_contradict_each_other",
     parse_should_refuse_values_that_contradict_each_other},
    {"hierarchy_should_name_each_misplacement", hierarchy_should_name_each_misplacement},
    {"hierarchy_message_should_name_the_levels", hierarchy_message_should_name_the_levels},
    {"hierarchy_should_report_every_violation", hierarchy_should_report_every_violation},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"parse", NULL, NULL, NULL, NULL, parse_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
