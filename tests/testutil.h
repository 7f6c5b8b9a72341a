/* testutil.h - shared helpers of the CUnit test programs.
 *
 * Every tests/test_*.c is its own program: it defines CU_SuiteInfo suites[] and ends with
 * PD_TEST_MAIN(suites), or PD_TEST_MAIN_SKIPPING(suites, skips) when some tests cannot
 * run everywhere.  The program's exit status is the number of failed assertions
 * plus failed suite set-ups (CUnit's runner itself always returns success).
 */
#ifndef PD_TESTUTIL_H
#define PD_TESTUTIL_H

#include <CUnit/CUnit.h>
#include <stddef.h>

#include "plandag/plandag.h"

/* A test that cannot run in some environment (valgrind, ASan): when `when` returns
 * nonzero, pd_test_run deactivates it before the run and prints "SKIPPED test: why".
 * CUnit's summary then counts it as inactive, never as passed.  A listed name that is
 * no test of the program fails the run (a skip cannot hide a renamed test). */
typedef struct pd_test_skip {
	const char *test;
	int (*when)(void);
	const char *why;
} pd_test_skip;

/* Runs the suites; skips (may be NULL) ends with a {NULL} entry. */
int pd_test_run(CU_SuiteInfo *suites, const pd_test_skip *skips);
#define PD_TEST_MAIN(suites)                                                               \
	int main(void)                                                                         \
	{                                                                                      \
		return pd_test_run(suites, NULL);                                                  \
	}
#define PD_TEST_MAIN_SKIPPING(suites, skips)                                               \
	int main(void)                                                                         \
	{                                                                                      \
		return pd_test_run(suites, skips);                                                 \
	}

/* True when PD_TEST_WRAPPER is set (the plandag binary runs under valgrind). */
int pd_test_wrapped(void);

/* PD_SOURCE_DIR "/" rel; the result stays valid until 16 more calls. */
const char *pd_test_path(const char *rel);
/* A fresh empty directory under the build directory (not removed: inspect it). */
const char *pd_test_tmpdir(const char *tag);

/* Whole file, NUL-terminated, malloc'd; NULL if unreadable.  *len may be NULL. */
char *pd_test_read_file(const char *path, size_t *len);
int pd_test_write_file(const char *path, const char *text);

/* Runs a program (argv[0] is a path, argv NULL-terminated) with stdin from /dev/null,
 * collecting stdout and stderr.  When the environment variable PD_TEST_WRAPPER is set
 * (e.g. "valgrind --error-exitcode=99 --leak-check=full"), the plandag binary is run
 * under it.  Returns the exit status, 128+signal on a signal, -1 when it could not run.
 * r->out and r->err are malloc'd; free with pd_run_release. */
typedef struct pd_run_result {
	int status;
	char *out, *err;
	double seconds;
} pd_run_result;
int pd_run(pd_run_result *r, const char *const argv[]);
/* Runs the built plandag binary with the given arguments (NULL-terminated). */
int pd_run_plandag(pd_run_result *r, ...);
void pd_run_release(pd_run_result *r);

/* Parses, expands and validates a plan file (path relative to the source tree).  Returns
 * the status of the last stage reached; *plan may be NULL when parsing failed. */
pd_status pd_test_load(const char *rel, pd_plan **plan, pd_analysis *an,
                       pd_diag_list *diags);
/* The same for a plan held in memory (name: the file name its diagnostics give). */
pd_status pd_test_load_text(const char *text, const char *name, pd_plan **plan,
                            pd_analysis *an, pd_diag_list *diags);
/* The text of the plan file rel (relative to the source tree) with its first `from`
 * replaced by `to` (malloc'd); a missing file or `from` fails the test. */
char *pd_test_edit_file(const char *rel, const char *from, const char *to);
/* Index of the first diagnostic of `rule` (line 0 = any line), or -1. */
int pd_test_find_diag(const pd_diag_list *l, const char *rule, long line);
/* Prints the list to stderr (for failing tests). */
void pd_test_dump_diags(const pd_diag_list *l);

/* dir "/" name; the result stays valid until 16 more calls, and dir may be an earlier
 * result.  Asserts (fatally) that the path fits. */
const char *pd_test_join(const char *dir, const char *name);

/* The report of c (png: the picture it links, may be NULL) as a malloc'd string;
 * asserts that pd_report_write succeeds, NULL when it failed. */
char *pd_test_report(const pd_compilation *c, pd_report_format fmt, const char *png);

/* Entries of dir other than . and .. (a missing dir counts as empty). */
int pd_test_dir_entries(const char *dir);

/* Entries of dir whose names start with '.' (other than . and ..): temporary files
 * that a writer left behind.  -1 when dir cannot be read. */
int pd_test_count_hidden(const char *dir);

/* The first node of that kind in id order, NULL when the DAG has none. */
const pd_node *pd_test_first_node(const pd_dag *d, pd_node_kind kind);

/* Line (1-based) of the first line of a file containing `needle`, 0 if none. */
long pd_test_line_of(const char *path, const char *needle);

/* Whether err (a run's stderr) holds the diagnostic "PATH:LINE:COL: severity: ... [rule]"
 * followed by its "    fix: " line. */
bool pd_test_has_diagnostic(const char *err, const char *path, long line, const char *rule);

#endif
