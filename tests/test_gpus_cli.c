/* test_gpus_cli.c - the GPU presets of <cluster gpu="..."> (src/plan/gpus.c): every
 * preset validates and fills the cluster from its row, the report names it and every
 * value it took, an attribute written next to it wins, an unknown name is a schema
 * error through the binary, nvlink-domain picks the link and the fp8 peak times the
 * weight GEMMs of an fp8 model. */
#include <CUnit/CUnit.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/cost.h"
#include "plan/gpus.h"
#include "testutil.h"

/* A plan file of 2 nodes x gpus-per-node GPUs, TP over all of them, with the given
 * extra <cluster> attributes (line 4 is <cluster>). */
static const char *write_plan(const char *tag, int per_node, const char *dtype,
                              const char *cluster)
{
	static char path[512];
	char text[2048];
	snprintf(text, sizeof(text),
	         "<?xml version=\"1.0\"?>\n"
	         "<plan name=\"%s\">\n"
	         "  <model name=\"m\" layers=\"2\" hidden=\"1024\" heads=\"16\" vocab=\"1000\" "
	         "dtype=\"%s\" dense-ffn=\"4096\"/>\n"
	         "  <cluster nodes=\"2\" gpus-per-node=\"%d\" %s/>\n"
	         "  <workload phase=\"decode\" batch=\"4\" context=\"128\"/>\n"
	         "  <strategy tp=\"%d\"/>\n"
	         "</plan>\n",
	         tag, dtype, per_node, cluster, 2 * per_node);
	snprintf(path, sizeof(path), "%s/%s.xml", pd_test_tmpdir(tag), tag);
	CU_ASSERT_EQUAL(pd_test_write_file(path, text), 0);
	return path;
}

static void compile(const char *path, pd_compilation *c)
{
	pd_compile_options opt = {.lower = 0};
	pd_compile_file(path, &opt, c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->plan);
}

static void check_preset(const pd_i_gpu_preset *g)
{
	char attr[64], line[160], v[48];
	snprintf(attr, sizeof(attr), "gpu=\"%s\"", g->name);
	pd_compilation c;
	compile(write_plan(g->name, 4, "bf16", attr), &c);
	CU_ASSERT_EQUAL(c.diags.errors, 0);
	CU_ASSERT_STRING_EQUAL(c.plan->cluster.gpu, g->name);
	char *md = pd_test_report(&c, PD_REPORT_MD, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	snprintf(line, sizeof(line), "\n- gpu: %s preset (%s, docs/gpus.md)\n", g->name,
	         g->what);
	CU_ASSERT_PTR_NOT_NULL(strstr(md, line));
	for (int k = 0; k < PD_I_N_GPU_VALUES; k++) {
		if (g->value[k] <= 0)
			continue;
		double got = pd_i_gpu_cluster_value(&c.plan->cluster, (pd_i_gpu_value)k);
		CU_ASSERT_DOUBLE_EQUAL(got, g->value[k], 1e-9 * g->value[k]);
		snprintf(
		    line, sizeof(line), "\n- %s: %s (%s preset)\n", pd_i_gpu_fields[k].attribute,
		    pd_i_gpu_value_text((pd_i_gpu_value)k, g->value[k], v, sizeof(v)), g->name);
		if (!strstr(md, line))
			fprintf(stderr, "\nno line %s in\n%s", line, md);
		CU_ASSERT_PTR_NOT_NULL(strstr(md, line));
	}
	CU_ASSERT_PTR_NULL(strstr(md, "H100 SXM default")); /* the preset replaces them */
	free(md);
	pd_compilation_release(&c);
}

static void every_preset_should_validate_and_report_the_figures_of_its_row(void)
{
	for (size_t i = 0; i < PD_I_N_GPU_PRESETS; i++)
		check_preset(&pd_i_gpu_presets[i]);
	CU_ASSERT_DOUBLE_EQUAL(pd_i_gpu_preset_of("h800")->value[PD_I_GPU_INTRA], 200e9, 1);
	CU_ASSERT_EQUAL(pd_i_gpu_preset_of("gb200")->value[PD_I_GPU_DOMAIN], 72);
	CU_ASSERT_PTR_NULL(pd_i_gpu_preset_of("h900"));
}

static void an_attribute_written_next_to_the_preset_should_override_it(void)
{
	pd_compilation c;
	compile(write_plan("override", 8, "bf16",
	                   "gpu=\"h800\" gpu-memory=\"64GB\" intra-node-bandwidth=\"160GB/s\""),
	        &c);
	const pd_cluster *cl = &c.plan->cluster;
	CU_ASSERT_EQUAL(c.diags.errors, 0);
	CU_ASSERT_DOUBLE_EQUAL(cl->gpu_memory, 64e9, 1);
	CU_ASSERT_DOUBLE_EQUAL(cl->intra_bandwidth, 160e9, 1);
	CU_ASSERT_DOUBLE_EQUAL(cl->inter_bandwidth, 50e9, 1); /* still the preset's */
	CU_ASSERT_STRING_EQUAL(pd_i_gpu_value_source(cl, PD_I_GPU_INTRA), "plan");
	CU_ASSERT_STRING_EQUAL(pd_i_gpu_value_source(cl, PD_I_GPU_INTER), "preset");
	char *md = pd_test_report(&c, PD_REPORT_MD, NULL),
	     *json = pd_test_report(&c, PD_REPORT_JSON, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "\n- intra-node-bandwidth: 160 GB/s (written in the "
	                                  "plan; the h800 preset has 200 GB/s)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "\n- gpu-memory: 64 GB (written in the plan; the "
	                                  "h800 preset has 80 GB)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"preset\":"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"attribute\":\t\"intra-node-bandwidth\"") ||
	                       strstr(json, "\"attribute\": \"intra-node-bandwidth\"") ||
	                       strstr(json, "\"attribute\":\"intra-node-bandwidth\""));
	free(md);
	free(json);
	pd_compilation_release(&c);
}

static void
an_unknown_preset_should_be_a_schema_error_at_its_line_listing_the_valid_ones(void)
{
	const char *path = write_plan("unknown", 8, "bf16", "gpu=\"h900\"");
	pd_run_result r;
	pd_run_plandag(&r, "check", path, NULL);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "unknown.xml:4:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "[schema]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "h900"));
	for (size_t i = 0; i < PD_I_N_GPU_PRESETS; i++) {
		char quoted[32];
		snprintf(quoted, sizeof(quoted), "'%s'", pd_i_gpu_presets[i].name);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, quoted));
	}
	if (r.status != 1 || !strstr(r.err, "'mi300x'"))
		fprintf(stderr, "\n%s", r.err);
	pd_run_release(&r);
}

static void a_cluster_without_gpu_memory_or_gpu_should_be_a_schema_error(void)
{
	const char *path = write_plan("nomemory", 8, "bf16", "gpu-tflops=\"989\"");
	pd_run_result r;
	pd_run_plandag(&r, "check", path, NULL);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "nomemory.xml:4:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "needs gpu-memory or gpu [schema]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "gpu=\"h100-sxm\""));
	pd_run_release(&r);
}

/* tp 16 on two 8-GPU nodes: across the network, unless one NVLink domain holds both. */
static void nvlink_domain_should_keep_a_tp_group_of_16_gpus_inside_one_domain(void)
{
	pd_compilation c;
	compile(write_plan("nodes", 8, "bf16", "gpu-memory=\"80GB\""), &c);
	static const int32_t group[] = {0, 15};
	CU_ASSERT_EQUAL(c.plan->cluster.nvlink_domain, 8);
	CU_ASSERT_TRUE(pd_test_find_diag(&c.diags, "tp-crosses-node", 0) >= 0);
	CU_ASSERT_DOUBLE_EQUAL(pd_i_link_bandwidth(&c.plan->cluster, group, 2), 50e9, 1);
	pd_compilation_release(&c);
	compile(write_plan("domain", 8, "bf16", "gpu-memory=\"80GB\" nvlink-domain=\"16\""),
	        &c);
	CU_ASSERT_EQUAL(c.diags.errors, 0);
	CU_ASSERT_EQUAL(pd_test_find_diag(&c.diags, "tp-crosses-node", 0), -1);
	CU_ASSERT_DOUBLE_EQUAL(pd_i_link_bandwidth(&c.plan->cluster, group, 2), 450e9, 1);
	pd_compilation_release(&c);
}

static void nvlink_domain_of_part_of_a_node_should_be_a_schema_error(void)
{
	const char *path =
	    write_plan("halfnode", 8, "bf16", "gpu-memory=\"80GB\" nvlink-domain=\"12\"");
	pd_run_result r;
	pd_run_plandag(&r, "check", path, NULL);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "halfnode.xml:4:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "nvlink-domain is not a whole number of nodes"));
	pd_run_release(&r);
}

/* A weight GEMM of an fp8 model runs at gpu-tflops-fp8; attention and bf16 models at
 * gpu-tflops; an fp8 model without gpu-tflops-fp8 at gpu-tflops. */
static void fp8_weight_gemms_should_run_at_the_fp8_peak(void)
{
	pd_compilation c;
	compile(write_plan("fp8", 8, "fp8", "gpu=\"h100-sxm\""), &c);
	pd_i_shape x;
	pd_i_shape_init(&x, c.plan, 16, 16, false);
	double eff = c.plan->cluster.gemm_eff; /* both at gemm-efficiency */
	pd_i_work gemm = {1979e12 * eff, 0, 0, true}, other = {989e12 * eff, 0, 0, false};
	CU_ASSERT_DOUBLE_EQUAL(pd_i_work_us(&x, gemm), 1e6, 1e-3);
	CU_ASSERT_DOUBLE_EQUAL(pd_i_work_us(&x, other), 1e6, 1e-3);
	CU_ASSERT_TRUE(pd_i_work_qkv(&x).gemm);
	CU_ASSERT_EQUAL(pd_i_work_attention(&x).gemm, PD_I_ATTENTION); /* 16-bit peak */
	CU_ASSERT_DOUBLE_EQUAL(pd_i_gemm_flops(&c.plan->cluster, PD_BF16), 989e12, 1);
	pd_cluster none = c.plan->cluster;
	none.gpu_flops_fp8 = 0;
	CU_ASSERT_DOUBLE_EQUAL(pd_i_gemm_flops(&none, PD_FP8), 989e12, 1);
	pd_compilation_release(&c);
}

/* plan.xsd's gpu-preset enumeration is the table's names, in its order. */
static void schema_presets_should_equal_the_c_table_of_presets(void)
{
	xmlDoc *doc = xmlReadFile(pd_test_path("schemas/plan.xsd"), NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	char *text = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&text, &len);
	for (xmlNode *t = xmlDocGetRootElement(doc)->children; t; t = t->next) {
		xmlChar *name = xmlGetProp(t, (const xmlChar *)"name");
		if (name && strcmp((const char *)name, "gpu-preset") == 0)
			for (xmlNode *e = xmlFirstElementChild(xmlFirstElementChild(t)); e;
			     e = xmlNextElementSibling(e)) {
				xmlChar *v = xmlGetProp(e, (const xmlChar *)"value");
				fprintf(f, "%s ", (const char *)v);
				xmlFree(v);
				n++;
			}
		xmlFree(name);
	}
	fclose(f);
	char want[256] = "";
	for (size_t i = 0; i < PD_I_N_GPU_PRESETS; i++) {
		strcat(want, pd_i_gpu_presets[i].name);
		strcat(want, " ");
	}
	CU_ASSERT_EQUAL(n, PD_I_N_GPU_PRESETS);
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
	xmlFreeDoc(doc);
}

static CU_TestInfo tests[] = {
    {"every_preset_should_validate_and_report_the_figures_of_its_row",
     every_preset_should_validate_and_report_the_figures_of_its_row},
    {"an_attribute_written_next_to_the_preset_should_override_it",
     an_attribute_written_next_to_the_preset_should_override_it},
    {"an_unknown_preset_should_be_a_schema_error_at_its_line_listing_the_valid_ones",
     an_unknown_preset_should_be_a_schema_error_at_its_line_listing_the_valid_ones},
    {"a_cluster_without_gpu_memory_or_gpu_should_be_a_schema_error",
     a_cluster_without_gpu_memory_or_gpu_should_be_a_schema_error},
    {"nvlink_domain_should_keep_a_tp_group_of_16_gpus_inside_one_domain",
     nvlink_domain_should_keep_a_tp_group_of_16_gpus_inside_one_domain},
    {"nvlink_domain_of_part_of_a_node_should_be_a_schema_error",
     nvlink_domain_of_part_of_a_node_should_be_a_schema_error},
    {"fp8_weight_gemms_should_run_at_the_fp8_peak",
     fp8_weight_gemms_should_run_at_the_fp8_peak},
    {"schema_presets_should_equal_the_c_table_of_presets",
     schema_presets_should_equal_the_c_table_of_presets},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"gpus", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
