/* test_emit_table.c - the exporter table and pd_emit's all-or-nothing staging over it
 * (src/export/exporters.c, emit.c): every row is known to --emit, and a directory
 * export (a row of this test's own table: no real exporter writes one yet) is staged,
 * moved in whole, replaces an earlier directory, and leaves nothing on a failure. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "export/exporters.h"
#include "testutil.h"

static pd_status compile_tiny(pd_compilation *c)
{
	pd_compile_options opt = {.lower = 1};
	pd_compile_file(pd_test_path("tests/plans/valid/tiny.xml"), &opt, c);
	return c->dag ? PD_OK : PD_IO;
}

static int is_dir(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A directory export: two files and a subdirectory inside the directory it is given. */
static pd_status write_tree(pd_i_emit_job *job, const pd_i_exporter *row, const char *path)
{
	(void)row;
	CU_ASSERT(is_dir(path)); /* made (empty) by the staging */
	char sub[4096];
	snprintf(sub, sizeof(sub), "%s/rank0", path);
	if (pd_test_write_file(pd_test_join(path, "a.json"), job->c->plan->name) != 0 ||
	    mkdir(sub, 0777) != 0 || pd_test_write_file(pd_test_join(sub, "b.json"), "b") != 0)
		return PD_IO;
	return PD_OK;
}

static pd_status write_note(pd_i_emit_job *job, const pd_i_exporter *row, const char *path)
{
	(void)job;
	return pd_test_write_file(path, row->info.word) == 0 ? PD_OK : PD_IO;
}

static pd_status write_fail(pd_i_emit_job *job, const pd_i_exporter *row, const char *path)
{
	(void)row;
	pd_diag_add(job->diags, PD_RULE_IO, PD_ERROR, 0, 0, "test failure writing %s", path);
	return PD_IO;
}

enum { TREE = 1u << 0, NOTE = 1u << 1, FAIL = 1u << 2 };
static const pd_i_exporter ROWS[] = {
    {{"tree", ".tree", TREE, true, false, NULL}, PD_I_NEEDS_DAG, write_tree, NULL},
    {{"note", ".note", NOTE, false, true, NULL}, 0, write_note, NULL},
    {{"fail", ".fail", FAIL, false, false, NULL}, 0, write_fail, NULL},
};
#define N_ROWS (sizeof(ROWS) / sizeof(ROWS[0]))

static pd_status emit(const pd_compilation *c, unsigned mask, const char *dir, char **log)
{
	size_t len = 0;
	FILE *f = open_memstream(log, &len);
	pd_view auto_view = {.kind = PD_VIEW_AUTO};
	pd_diag_list d;
	pd_diag_list_init(&d);
	pd_status s = pd_i_emit_table(ROWS, N_ROWS, c, mask, &auto_view, dir, f, &d);
	fclose(f);
	pd_diag_list_release(&d);
	return s;
}

static void emit_should_move_a_staged_directory_export_in_whole(void)
{
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(compile_tiny(&c), PD_OK);
	const char *dir = pd_test_tmpdir("emit-tree");
	char *log = NULL;
	CU_ASSERT_EQUAL(emit(&c, TREE | NOTE, dir, &log), PD_OK);
	CU_ASSERT(is_dir(pd_test_join(dir, "tiny.tree")));
	char *a =
	    pd_test_read_file(pd_test_join(pd_test_join(dir, "tiny.tree"), "a.json"), NULL);
	CU_ASSERT_PTR_NOT_NULL(a && strcmp(a, "tiny") == 0 ? a : NULL);
	CU_ASSERT_EQUAL(access(pd_test_join(dir, "tiny.tree/rank0/b.json"), R_OK), 0);
	CU_ASSERT_EQUAL(access(pd_test_join(dir, "tiny.note"), R_OK), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "tiny.tree\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "tiny.note\n"));
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0); /* the staging is gone */
	free(a);
	free(log);
	pd_compilation_release(&c);
}

static void emit_should_replace_an_earlier_directory_export(void)
{
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(compile_tiny(&c), PD_OK);
	const char *dir = pd_test_tmpdir("emit-tree-again");
	mkdir(pd_test_join(dir, "tiny.tree"), 0777);
	mkdir(pd_test_join(dir, "tiny.tree/deep"), 0777);
	pd_test_write_file(pd_test_join(dir, "tiny.tree/deep/old.json"), "old");
	char *log = NULL;
	CU_ASSERT_EQUAL(emit(&c, TREE, dir, &log), PD_OK);
	CU_ASSERT_NOT_EQUAL(access(pd_test_join(dir, "tiny.tree/deep"), F_OK), 0);
	CU_ASSERT_EQUAL(access(pd_test_join(dir, "tiny.tree/a.json"), R_OK), 0);
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0);
	free(log);
	pd_compilation_release(&c);
}

static void emit_failure_should_leave_an_earlier_directory_export_as_it_was(void)
{
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(compile_tiny(&c), PD_OK);
	const char *dir = pd_test_tmpdir("emit-tree-fail");
	mkdir(pd_test_join(dir, "tiny.tree"), 0777);
	pd_test_write_file(pd_test_join(dir, "tiny.tree/old.json"), "old");
	char *log = NULL;
	/* the tree is written into the staging, then a later row fails */
	CU_ASSERT_EQUAL(emit(&c, TREE | NOTE | FAIL, dir, &log), PD_IO);
	char *old = pd_test_read_file(pd_test_join(dir, "tiny.tree/old.json"), NULL);
	CU_ASSERT_PTR_NOT_NULL(old && strcmp(old, "old") == 0 ? old : NULL);
	CU_ASSERT_NOT_EQUAL(access(pd_test_join(dir, "tiny.tree/a.json"), F_OK), 0);
	CU_ASSERT_NOT_EQUAL(access(pd_test_join(dir, "tiny.note"), F_OK), 0);
	CU_ASSERT_STRING_EQUAL(log, "");
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0); /* staged tree removed with the rest */
	free(old);
	free(log);
	pd_compilation_release(&c);
}

static void emit_should_refuse_a_directory_export_over_a_file(void)
{
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(compile_tiny(&c), PD_OK);
	const char *dir = pd_test_tmpdir("emit-tree-file");
	pd_test_write_file(pd_test_join(dir, "tiny.tree"), "precious\n");
	char *log = NULL;
	CU_ASSERT_EQUAL(emit(&c, NOTE | TREE, dir, &log), PD_IO);
	char *text = pd_test_read_file(pd_test_join(dir, "tiny.tree"), NULL);
	CU_ASSERT_STRING_EQUAL(text, "precious\n");
	CU_ASSERT_NOT_EQUAL(access(pd_test_join(dir, "tiny.note"), F_OK),
	                    0); /* nothing moved */
	CU_ASSERT_EQUAL(pd_test_count_hidden(dir), 0);
	free(text);
	free(log);
	pd_compilation_release(&c);
}

static void emit_should_refuse_a_row_needing_the_dag_before_writing(void)
{
	pd_compilation c;
	CU_ASSERT_EQUAL_FATAL(compile_tiny(&c), PD_OK);
	pd_dag *dag = c.dag;
	c.dag = NULL;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/not-made", pd_test_tmpdir("emit-nodag"));
	char *log = NULL;
	CU_ASSERT_EQUAL(emit(&c, TREE | NOTE, dir, &log), PD_IO);
	CU_ASSERT_NOT_EQUAL(access(dir, F_OK), 0);
	c.dag = dag;
	free(log);
	pd_compilation_release(&c);
}

static void stale_staging_with_a_directory_export_inside_should_be_removed(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	CU_ASSERT_FATAL(pid > 0);
	waitpid(pid, NULL, 0); /* gone: its staging is stale */
	const char *dir = pd_test_tmpdir("stale-tree");
	char staging[64];
	snprintf(staging, sizeof(staging), PD_STAGING_PREFIX "%ld-abcdef", (long)pid);
	mkdir(pd_test_join(dir, staging), 0777);
	mkdir(pd_test_join(pd_test_join(dir, staging), "tiny.tree"), 0777);
	pd_test_write_file(
	    pd_test_join(pd_test_join(pd_test_join(dir, staging), "tiny.tree"), "a.json"), "a");
	pd_cleanup_stale_staging(dir);
	CU_ASSERT_NOT_EQUAL(access(pd_test_join(dir, staging), F_OK), 0);
}

static void remove_tree_should_remove_links_without_following_them(void)
{
	const char *dir = pd_test_tmpdir("remove-tree");
	const char *keep = pd_test_join(dir, "outside");
	mkdir(keep, 0777);
	pd_test_write_file(pd_test_join(keep, "keep.txt"), "keep");
	const char *tree = pd_test_join(dir, "tree");
	mkdir(tree, 0777);
	mkdir(pd_test_join(tree, "a"), 0777);
	pd_test_write_file(pd_test_join(tree, "a/f.txt"), "f");
	CU_ASSERT_EQUAL(symlink(keep, pd_test_join(tree, "a/link")), 0);
	CU_ASSERT_EQUAL(pd_remove_tree(tree), PD_OK);
	CU_ASSERT_NOT_EQUAL(access(tree, F_OK), 0);
	CU_ASSERT_EQUAL(access(pd_test_join(keep, "keep.txt"), R_OK), 0);
	CU_ASSERT_EQUAL(pd_remove_tree(tree), PD_OK); /* already gone */
}

static void every_row_of_the_table_should_be_an_emit_word_with_its_own_bit(void)
{
	unsigned seen = 0;
	size_t n = 0;
	for (const pd_emit_info *e; (e = pd_emit_info_at(n)) != NULL; n++) {
		unsigned m = 0;
		CU_ASSERT_STRING_EQUAL(pd_emit_word(n), e->word);
		CU_ASSERT_EQUAL(pd_emit_parse(e->word, &m), PD_OK);
		CU_ASSERT_EQUAL(m, e->bit);
		CU_ASSERT_EQUAL(seen & e->bit, 0u);
		CU_ASSERT_TRUE(e->suffix[0] == '.' || e->suffix[0] == '-');
		seen |= e->bit;
	}
	CU_ASSERT_EQUAL(n, pd_i_n_exporters);
	CU_ASSERT_PTR_NULL(pd_emit_word(n));
	CU_ASSERT_EQUAL(PD_EMIT_DEFAULT & ~seen, 0u);
}

static void compile_help_should_list_every_emit_word(void)
{
	pd_run_result r;
	CU_ASSERT_EQUAL_FATAL(pd_run_plandag(&r, "compile", "--help", NULL), 0);
	for (size_t i = 0; pd_emit_word(i); i++) {
		char w[64];
		snprintf(w, sizeof(w), " %s,", pd_emit_word(i));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, w));
	}
	pd_run_release(&r);
	CU_ASSERT_EQUAL(pd_run_plandag(&r, "compile", "x.xml", "--emit", "grpahml", NULL), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "did you mean 'graphml'?"));
	pd_run_release(&r);
}

static CU_TestInfo tests[] = {
    {"emit_should_move_a_staged_directory_export_in_whole",
     emit_should_move_a_staged_directory_export_in_whole},
    {"emit_should_replace_an_earlier_directory_export",
     emit_should_replace_an_earlier_directory_export},
    {"emit_failure_should_leave_an_earlier_directory_export_as_it_was",
     emit_failure_should_leave_an_earlier_directory_export_as_it_was},
    {"emit_should_refuse_a_directory_export_over_a_file",
     emit_should_refuse_a_directory_export_over_a_file},
    {"emit_should_refuse_a_row_needing_the_dag_before_writing",
     emit_should_refuse_a_row_needing_the_dag_before_writing},
    {"stale_staging_with_a_directory_export_inside_should_be_removed",
     stale_staging_with_a_directory_export_inside_should_be_removed},
    {"remove_tree_should_remove_links_without_following_them",
     remove_tree_should_remove_links_without_following_them},
    {"every_row_of_the_table_should_be_an_emit_word_with_its_own_bit",
     every_row_of_the_table_should_be_an_emit_word_with_its_own_bit},
    {"compile_help_should_list_every_emit_word", compile_help_should_list_every_emit_word},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"emit_table", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
