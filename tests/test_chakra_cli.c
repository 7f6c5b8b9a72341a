/* test_chakra_cli.c - `plandag compile --emit chakra` and `plandag verify DIR.chakra`
 * through the binary: every written .et file decodes with Debian's python3-protobuf
 * and protoc against schemas/chakra_et.proto with the DAG's node count per rank, the
 * written sets pass verify, and sets broken by hand (rewritten by tests/chakra_edit.py
 * or cut and extended byte by byte here) are refused with rule `trace`, the rank, node
 * and what is wrong, exit 1 (3 when a file cannot be read). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static const char *PLANS[][2] = {
    {"examples/moe-10b-ep16.xml", "moe-10b-ep16"},                 /* EP */
    {"examples/dense-70b-pp2-tp8-sp.xml", "dense-70b-pp2-tp8-sp"}, /* PP, TP, SP, mb */
    {"examples/mixtral-8x7b-tp2-ep8.xml", "mixtral-8x7b-tp2-ep8"}, /* TP and EP */
};
enum { MOE, DENSE, MIXTRAL, N_PLANS };

static char pb2_dir[4096]; /* chakra_et_pb2.py, generated once */
static char sets[N_PLANS][4096];

static int run_tool(const char *const argv[])
{
	pd_run_result r;
	int st = pd_run(&r, argv);
	if (st != 0)
		fprintf(stderr, "\n%s failed (%d): %s%s\n", argv[0], st, r.out, r.err);
	pd_run_release(&r);
	return st;
}

/* Compiles every plan once into NAME.chakra and generates the python module. */
static int setup(void)
{
	const char *tmp = pd_test_tmpdir("chakra");
	if (!tmp)
		return 1;
	snprintf(pb2_dir, sizeof(pb2_dir), "%s", tmp);
	char inc[4200];
	snprintf(inc, sizeof(inc), "-I%s", pd_test_path("schemas"));
	char out[4200];
	snprintf(out, sizeof(out), "--python_out=%s", pb2_dir);
	const char *protoc[] = {"/usr/bin/protoc", out, inc, "chakra_et.proto", NULL};
	if (run_tool(protoc) != 0)
		return 1;
	for (int i = 0; i < N_PLANS; i++) {
		pd_run_result r;
		int st = pd_run_plandag(&r, "compile", pd_test_path(PLANS[i][0]), "-o", tmp,
		                        "--emit", "chakra", "-q", NULL);
		pd_run_release(&r);
		if (st != 0)
			return 1;
		snprintf(sets[i], sizeof(sets[i]), "%s/%s.chakra", tmp, PLANS[i][1]);
	}
	return 0;
}

/* A copy of plan i's set to break. */
static const char *copy_of(int i, const char *tag)
{
	const char *dir = pd_test_tmpdir(tag);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	const char *cp[] = {"/bin/cp", "-r", sets[i], dir, NULL};
	CU_ASSERT_EQUAL_FATAL(run_tool(cp), 0);
	const char *base = strrchr(sets[i], '/') + 1;
	return pd_test_join(dir, base);
}

static void edit(const char *set, const char *what)
{
	const char *py[] = {
	    "/usr/bin/python3", pd_test_path("tests/chakra_edit.py"), pb2_dir, what, set, NULL};
	CU_ASSERT_EQUAL_FATAL(run_tool(py), 0);
}

/* plandag verify SET: the exit status is `code` and stderr holds every needle. */
static void expect_verify(const char *set, int code, const char *const needles[])
{
	pd_run_result r;
	int st = pd_run_plandag(&r, "verify", set, NULL);
	CU_ASSERT_EQUAL(st, code);
	for (int i = 0; needles[i]; i++) {
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, needles[i]));
		if (!strstr(r.err, needles[i]))
			fprintf(stderr, "\nno \"%s\" in:\n%s\n", needles[i], r.err);
	}
	pd_run_release(&r);
}

#define EXPECT(set, code, ...)                                                             \
	do {                                                                                   \
		const char *const needles_[] = {__VA_ARGS__, NULL};                                \
		expect_verify(set, code, needles_);                                                \
	} while (0)

/* The DAG's nodes per rank (the GPUs in use, in id order; hubs are no node). */
static int dag_counts(const char *plan, unsigned *count, int cap)
{
	pd_compile_options opt = {.lower = 1};
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(pd_compile_file(pd_test_path(plan), &opt, &c), PD_OK);
	int *rank = calloc((size_t)c.dag->n_gpus, sizeof(int)), n = 0;
	for (int g = 0; g < c.dag->n_gpus; g++)
		rank[g] = c.dag->gpu[g].replica >= 0 && n < cap ? n++ : -1;
	memset(count, 0, (size_t)cap * sizeof(unsigned));
	for (uint32_t v = 0; v < c.dag->n_nodes; v++)
		if (c.dag->nodes[v].gpu >= 0 && rank[c.dag->nodes[v].gpu] >= 0)
			count[rank[c.dag->nodes[v].gpu]]++;
	free(rank);
	pd_compilation_release(&c);
	return n;
}

static void compile_should_write_traces_python_decodes_with_the_dags_counts(void)
{
	for (int i = 0; i < N_PLANS; i++) {
		unsigned want[64];
		int n = dag_counts(PLANS[i][0], want, 64);
		const char *py[] = {"/usr/bin/python3",
		                    pd_test_path("tests/chakra_edit.py"),
		                    pb2_dir,
		                    "count",
		                    sets[i],
		                    NULL};
		pd_run_result r;
		CU_ASSERT_EQUAL_FATAL(pd_run(&r, py), 0);
		int lines = 0, rank;
		unsigned nodes;
		char version[16];
		for (const char *p = r.out; sscanf(p, "%d %u %15s", &rank, &nodes, version) == 3;
		     lines++) {
			CU_ASSERT_EQUAL(rank, lines);
			CU_ASSERT_TRUE(rank < n && nodes == want[rank]);
			CU_ASSERT_STRING_EQUAL(version, "0.0.4");
			p = strchr(p, '\n');
			if (!p)
				break;
			p++;
		}
		CU_ASSERT_EQUAL(lines, n);
		pd_run_release(&r);
	}
}

/* The bytes of rank 0's first Node (after the GlobalMetadata) into a file. */
static const char *first_node_file(const char *set, const char *name)
{
	char et[4300];
	snprintf(et, sizeof(et), "%s/%s.0.et", set, name);
	size_t len;
	unsigned char *d = (unsigned char *)pd_test_read_file(et, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	size_t pos = 1 + d[0]; /* the metadata: one byte of length, under 128 bytes */
	size_t n = d[pos] & 0x7f, at = pos + 1;
	if (d[pos] & 0x80)
		n |= (size_t)d[at++] << 7;
	const char *out = pd_test_join(pd_test_tmpdir("chakra-node"), "node.bin");
	FILE *f = fopen(out, "wb");
	CU_ASSERT_TRUE_FATAL(f && fwrite(d + at, 1, n, f) == n);
	fclose(f);
	free(d);
	return out;
}

static void protoc_decode_should_read_a_written_node(void)
{
	const char *bin = first_node_file(sets[DENSE], PLANS[DENSE][1]);
	char cmd[9000];
	snprintf(cmd, sizeof(cmd),
	         "protoc --decode=ChakraProtoMsg.Node -I%s chakra_et.proto < %s",
	         pd_test_path("schemas"), bin);
	const char *sh[] = {"/bin/sh", "-c", cmd, NULL};
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run(&r, sh), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "type: COMP_NODE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "name: \"mb0 embed\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "name: \"is_cpu_op\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "name: \"tensor_size\""));
	pd_run_release(&r);
}

static void compile_should_write_the_astra_sim_inputs(void)
{
	char *net = pd_test_read_file(pd_test_join(sets[DENSE], "network.yml"), NULL);
	char *groups = pd_test_read_file(pd_test_join(sets[DENSE], "comm_groups.json"), NULL);
	char *ranks = pd_test_read_file(pd_test_join(sets[DENSE], "ranks.json"), NULL);
	char *sys = pd_test_read_file(pd_test_join(sets[DENSE], "system.json"), NULL);
	char *mem = pd_test_read_file(pd_test_join(sets[DENSE], "remote_memory.json"), NULL);
	/* 16 GPUs, 8 per node: an NVLink dimension of 8 and a scale-out one of 2 */
	CU_ASSERT_PTR_NOT_NULL(net && strstr(net, "npus_count: [ 8, 2 ]"));
	/* one TP group of 8 per stage */
	CU_ASSERT_PTR_NOT_NULL(groups &&
	                       strstr(groups, "\"2\":\t[8, 9, 10, 11, 12, 13, 14, 15]"));
	CU_ASSERT_PTR_NOT_NULL(ranks && strstr(ranks, "\"15\":\t{"));
	CU_ASSERT_PTR_NOT_NULL(sys && strstr(sys, "\"all-reduce-implementation\""));
	CU_ASSERT_PTR_NOT_NULL(mem && strstr(mem, "NO_MEMORY_EXPANSION"));
	free(net);
	free(groups);
	free(ranks);
	free(sys);
	free(mem);
}

static void verify_should_pass_every_written_set(void)
{
	for (int i = 0; i < N_PLANS; i++) {
		pd_run_result r;
		CU_ASSERT_EQUAL(pd_run_plandag(&r, "verify", sets[i], NULL), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "trace set passes"));
		CU_ASSERT_STRING_EQUAL(r.err, "");
		pd_run_release(&r);
	}
}

static void verify_should_reject_collectives_swapped_on_one_rank(void)
{
	const char *set = copy_of(MIXTRAL, "chakra-swap");
	edit(set, "swap-collectives");
	EXPECT(set, 1, "[trace]", "dependency cycle", "rank 1 node", "fix: ");
	set = copy_of(DENSE, "chakra-order");
	edit(set, "reorder-group");
	EXPECT(set, 1, "dense-70b-pp2-tp8-sp.1.et: rank 1, node 41",
	       "collective #1 of group 1 is ALL_GATHER", "on rank 0 it is REDUCE_SCATTER",
	       "1 of 8 members differ from rank 0");
}

static void verify_should_reject_a_lost_send(void)
{
	const char *set = copy_of(DENSE, "chakra-send");
	edit(set, "drop-send");
	EXPECT(set, 1, "[trace]", "pp_recv\": receive from rank 0 with tag",
	       "has no send on rank 0");
}

static void verify_should_reject_a_cycle(void)
{
	const char *set = copy_of(DENSE, "chakra-cycle");
	edit(set, "cycle");
	EXPECT(set, 1, "[trace]", "dense-70b-pp2-tp8-sp.0.et: rank 0", "dependency cycle of",
	       "-> back to the first");
}

static void verify_should_reject_mismatched_sizes_and_comm_size_zero(void)
{
	const char *set = copy_of(DENSE, "chakra-size");
	edit(set, "size-mismatch");
	EXPECT(set, 1, "rank 2, node 42", "REDUCE_SCATTER of 786496 bytes",
	       "REDUCE_SCATTER of 786432 bytes");
	set = copy_of(DENSE, "chakra-zero");
	edit(set, "comm-size-zero");
	EXPECT(set, 1, "rank 0, node 40 \"mb0 L0 tp_reduce_scatter\": comm_size 0 [trace]",
	       "rank 0 differs from all 7 other members");
}

static void verify_should_reject_a_bad_attribute_type_and_an_unknown_node_type(void)
{
	const char *set = copy_of(DENSE, "chakra-attr");
	edit(set, "bad-attr-type");
	EXPECT(set, 1, "attribute comm_size holds value field 13, not int64_val (field 9)");
	set = copy_of(DENSE, "chakra-type");
	edit(set, "unknown-type");
	EXPECT(set, 1, "rank 0, node 0 \"mb0 embed\": unknown node type 42 [trace]");
}

static void verify_should_reject_a_group_absent_from_comm_groups(void)
{
	const char *set = copy_of(DENSE, "chakra-group");
	edit(set, "absent-group");
	EXPECT(set, 1, "pg_name \"99\" names a group that comm_groups.json does not declare");
}

static void verify_should_reject_a_missing_rank_and_an_extra_one(void)
{
	const char *set = copy_of(MOE, "chakra-missing");
	CU_ASSERT_EQUAL(unlink(pd_test_join(set, "moe-10b-ep16.3.et")), 0);
	EXPECT(set, 1, "moe-10b-ep16.3.et: rank 3: the set has no file for this rank [trace]",
	       "were not checked: the set is incomplete");
	set = copy_of(MOE, "chakra-extra");
	const char *cp[] = {"/bin/cp", pd_test_join(set, "moe-10b-ep16.0.et"),
	                    pd_test_join(set, "moe-10b-ep16.16.et"), NULL};
	CU_ASSERT_EQUAL(run_tool(cp), 0);
	EXPECT(set, 1, "moe-10b-ep16.16.et: a rank beyond ranks.json's (ASTRA-sim ignores it)");
}

/* Appends bytes to (or cuts) rank r's file of a copy of the MoE set. */
static const char *damaged(const char *tag, int r, long cut, const unsigned char *tail,
                           size_t n)
{
	const char *set = copy_of(MOE, tag);
	char name[64];
	snprintf(name, sizeof(name), "moe-10b-ep16.%d.et", r);
	const char *path = pd_test_join(set, name);
	struct stat st;
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL_FATAL(truncate(path, st.st_size - cut), 0);
	FILE *f = fopen(path, "ab");
	CU_ASSERT_TRUE_FATAL(f && (n == 0 || fwrite(tail, 1, n, f) == n));
	fclose(f);
	return set;
}

static void verify_should_reject_truncated_and_overlong_messages(void)
{
	EXPECT(damaged("chakra-cut", 2, 7, NULL, 0), 1,
	       "moe-10b-ep16.2.et: rank 2: the message", "past the end of the file",
	       "fix: the file is truncated");
	static const unsigned char beyond[] = {0xe8, 0x07, 1, 2, 3}; /* 1000 bytes, 3 there */
	EXPECT(damaged("chakra-beyond", 1, 0, beyond, sizeof(beyond)), 1,
	       "claims 1000 bytes, past the end of the file");
	static const unsigned char huge[] = {0x80, 0x80, 0x80, 0x80, 0x08}; /* 2 GiB */
	EXPECT(damaged("chakra-huge", 1, 0, huge, sizeof(huge)), 1,
	       "claims 2147483648 bytes, more than the 64 MiB a node may take");
	static const unsigned char over[] = {0xff, 0xff, 0xff, 0xff, 0xff,
	                                     0xff, 0xff, 0xff, 0xff, 0x7f};
	EXPECT(damaged("chakra-over", 0, 0, over, sizeof(over)), 1, "overflows 64 bits");
	static const unsigned char cut[] = {0x85};
	EXPECT(damaged("chakra-prefix", 0, 0, cut, sizeof(cut)), 1,
	       "is cut off by the end of the file");
}

static void verify_should_check_a_set_without_the_json_files_and_say_what_it_lacks(void)
{
	const char *set = copy_of(DENSE, "chakra-bare");
	const char *files[] = {"comm_groups.json", "ranks.json", "network.yml"};
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(unlink(pd_test_join(set, files[i])), 0);
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "verify", set, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "note: no comm_groups.json"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "note: no ranks.json"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "note: no network.yml"));
	pd_run_release(&r);
	edit(set, "reorder-group"); /* groups still checked, membership from the traces */
	EXPECT(set, 1, "collective #1 of group 1 is ALL_GATHER");
}

static void verify_should_reject_bad_json_and_yaml(void)
{
	const char *set = copy_of(MOE, "chakra-json");
	CU_ASSERT_EQUAL(
	    pd_test_write_file(pd_test_join(set, "comm_groups.json"), "{\"1\": [0, 99]}"), 0);
	EXPECT(set, 1, "comm_groups.json: group 1 names rank out of range, not one of 0..15");
	set = copy_of(MOE, "chakra-yml");
	CU_ASSERT_EQUAL(pd_test_write_file(pd_test_join(set, "network.yml"),
	                                   "topology: [ Switch ]\nnpus_count: [ 8 ]\n"),
	                0);
	EXPECT(set, 1, "network.yml: npus_count does not multiply to the set's 16 ranks");
}

static void verify_should_exit_3_when_a_trace_cannot_be_read(void)
{
	const char *set = copy_of(MOE, "chakra-io");
	const char *path = pd_test_join(set, "moe-10b-ep16.5.et");
	CU_ASSERT_EQUAL(unlink(path), 0);
	CU_ASSERT_EQUAL(mkdir(path, 0777), 0);
	EXPECT(set, 3, "cannot read", "moe-10b-ep16.5.et", "[io]");
	EXPECT("/nonexistent-dir.chakra/", 3, "[io]");
}

static void verify_should_take_a_directory_for_a_trace_set_only_when_it_is_one(void)
{
	const char *dir = pd_test_join(pd_test_tmpdir("chakra-empty"), "empty.chakra");
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0777), 0);
	EXPECT(dir, 1, "no NAME.<rank>.et file [trace]");
	/* a directory of another name, without .et files, is no trace set */
	EXPECT(pd_test_tmpdir("chakra-other"), 3, "Is a directory", "[io]");
}

static void help_should_name_chakra(void)
{
	pd_run_result r;
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", "--help", NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "chakra"));
	pd_run_release(&r);
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "verify", "--help", NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "DIR.chakra"));
	pd_run_release(&r);
}

static CU_TestInfo tests[] = {
    {"compile_should_write_traces_python_decodes_with_the_dags_counts",
     compile_should_write_traces_python_decodes_with_the_dags_counts},
    {"protoc_decode_should_read_a_written_node", protoc_decode_should_read_a_written_node},
    {"compile_should_write_the_astra_sim_inputs",
     compile_should_write_the_astra_sim_inputs},
    {"verify_should_pass_every_written_set", verify_should_pass_every_written_set},
    {"verify_should_reject_collectives_swapped_on_one_rank",
     verify_should_reject_collectives_swapped_on_one_rank},
    {"verify_should_reject_a_lost_send", verify_should_reject_a_lost_send},
    {"verify_should_reject_a_cycle", verify_should_reject_a_cycle},
    {"verify_should_reject_mismatched_sizes_and_comm_size_zero",
     verify_should_reject_mismatched_sizes_and_comm_size_zero},
    {"verify_should_reject_a_bad_attribute_type_and_an_unknown_node_type",
     verify_should_reject_a_bad_attribute_type_and_an_unknown_node_type},
    {"verify_should_reject_a_group_absent_from_comm_groups",
     verify_should_reject_a_group_absent_from_comm_groups},
    {"verify_should_reject_a_missing_rank_and_an_extra_one",
     verify_should_reject_a_missing_rank_and_an_extra_one},
    {"verify_should_reject_truncated_and_overlong_messages",
     verify_should_reject_truncated_and_overlong_messages},
    {"verify_should_check_a_set_without_the_json_files_and_say_what_it_lacks",
     verify_should_check_a_set_without_the_json_files_and_say_what_it_lacks},
    {"verify_should_reject_bad_json_and_yaml", verify_should_reject_bad_json_and_yaml},
    {"verify_should_exit_3_when_a_trace_cannot_be_read",
     verify_should_exit_3_when_a_trace_cannot_be_read},
    {"verify_should_take_a_directory_for_a_trace_set_only_when_it_is_one",
     verify_should_take_a_directory_for_a_trace_set_only_when_it_is_one},
    {"help_should_name_chakra", help_should_name_chakra},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"chakra", setup, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
