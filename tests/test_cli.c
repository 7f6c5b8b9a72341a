/* test_cli.c - the built binary run the way a user runs it: help, version, usage
 * errors, missing files, check, report, quiet.  CI runs it under valgrind
 * (PD_TEST_WRAPPER), so every case stays small. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define EXAMPLE pd_test_path("examples/moe-10b-ep16.xml")

static void expect(pd_run_result *r, int status, const char *out, const char *err)
{
	if (r->status != status || (out && !strstr(r->out, out)) ||
	    (err && !strstr(r->err, err)))
		fprintf(stderr, "\nexit %d (want %d)\nstdout:\n%.3000s\nstderr:\n%.3000s\n",
		        r->status, status, r->out ? r->out : "", r->err ? r->err : "");
	CU_ASSERT_EQUAL(r->status, status);
	if (out)
		CU_ASSERT_PTR_NOT_NULL(strstr(r->out, out));
	if (err)
		CU_ASSERT_PTR_NOT_NULL(strstr(r->err, err));
}

/* The default example with a multiplied GPU count, written to the build dir. */
static const char *invalid_plan(void)
{
	static char path[4200];
	char *text = pd_test_read_file(EXAMPLE, NULL);
	if (!text)
		return "missing-example.xml";
	char *at = strstr(text, "<strategy gpus=\"16\">");
	if (at)
		memcpy(at, "<strategy gpus=\"64\">", 20);
	snprintf(path, sizeof(path), "%s/multiplied.xml", pd_test_tmpdir("cli"));
	pd_test_write_file(path, text);
	free(text);
	return path;
}

static void cli_help_should_list_the_commands(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "--help", NULL);
	expect(&r, 0, "usage: plandag", NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "compile"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "verify"));
	pd_run_release(&r);
}

static void cli_version_should_print_the_version(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "--version", NULL);
	expect(&r, 0, "plandag " PLANDAG_VERSION, NULL);
	pd_run_release(&r);
}

static void cli_every_command_should_have_help(void)
{
	const char *cmds[] = {"check", "report", "compile", "verify"};
	for (size_t i = 0; i < 4; i++) {
		char want[64];
		snprintf(want, sizeof(want), "usage: plandag %s", cmds[i]);
		pd_run_result r;
		pd_run_plandag(&r, cmds[i], "--help", NULL);
		expect(&r, 0, want, NULL);
		pd_run_release(&r);
	}
}

static void cli_should_exit_2_on_usage_errors(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "frobnicate", EXAMPLE, NULL);
	expect(&r, 2, NULL, "unknown command");
	CU_ASSERT_STRING_EQUAL(r.out, "");
	pd_run_release(&r);
	pd_run_plandag(&r, "check", "--frobnicate", EXAMPLE, NULL);
	expect(&r, 2, NULL, "unknown option");
	pd_run_release(&r);
	pd_run_plandag(&r, NULL);
	expect(&r, 2, NULL, "missing command");
	pd_run_release(&r);
	pd_run_plandag(&r, "check", NULL);
	expect(&r, 2, NULL, "missing input file");
	pd_run_release(&r);
	pd_run_plandag(&r, "report", "--format", "xml", EXAMPLE, NULL);
	expect(&r, 2, NULL, "--format");
	pd_run_release(&r);
	pd_run_plandag(&r, "check", "--format", "json", EXAMPLE, NULL);
	expect(&r, 2, NULL, NULL);
	pd_run_release(&r);
}

static void cli_should_exit_3_with_a_message_on_a_missing_file(void)
{
	const char *cmds[] = {"check", "report", "compile"};
	for (size_t i = 0; i < 3; i++) {
		pd_run_result r;
		pd_run_plandag(&r, cmds[i], "/nonexistent/plan-xyz.xml", NULL);
		expect(&r, 3, NULL, "plan-xyz.xml");
		pd_run_release(&r);
	}
}

static void cli_check_should_accept_the_default_example(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "check", EXAMPLE, NULL);
	expect(&r, 0, "valid", NULL);
	CU_ASSERT_PTR_NULL(strstr(r.err, "error:"));
	pd_run_release(&r);
}

static void cli_check_should_reject_an_invalid_plan_with_the_rule_id(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "check", invalid_plan(), NULL);
	expect(&r, 1, NULL, "[multiplicative-gpu-count]");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "error:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "fix:"));
	pd_run_release(&r);
}

static void cli_report_json_should_parse_as_json(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "report", "--format", "json", EXAMPLE, NULL);
	expect(&r, 0, NULL, NULL);
	cJSON *j = cJSON_Parse(r.out ? r.out : "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(j, "plan")),
	                       "moe-10b-ep16");
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(j, "verdict")),
	                       "valid");
	CU_ASSERT_TRUE(cJSON_IsArray(cJSON_GetObjectItem(j, "memory")));
	cJSON_Delete(j);
	pd_run_release(&r);
}

static void cli_report_should_print_the_report_of_an_invalid_plan_and_exit_1(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "report", "--format=json", invalid_plan(), NULL);
	expect(&r, 1, "multiplicative-gpu-count", NULL);
	cJSON *j = cJSON_Parse(r.out ? r.out : "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(j, "verdict")),
	                       "invalid");
	cJSON_Delete(j);
	pd_run_release(&r);
	pd_run_plandag(&r, "report", invalid_plan(), NULL);
	expect(&r, 1, "**Verdict: invalid**", NULL);
	pd_run_release(&r);
}

static void cli_quiet_should_print_nothing_on_stdout(void)
{
	pd_run_result r;
	pd_run_plandag(&r, "check", "-q", EXAMPLE, NULL);
	expect(&r, 0, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	pd_run_release(&r);
	pd_run_plandag(&r, "check", "-q", invalid_plan(), NULL);
	expect(&r, 1, NULL, "[multiplicative-gpu-count]");
	CU_ASSERT_STRING_EQUAL(r.out, "");
	pd_run_release(&r);
	const char *dir = pd_test_tmpdir("cli-quiet");
	pd_run_plandag(&r, "compile", "-q", "--emit", "none", "-o", dir, EXAMPLE, NULL);
	expect(&r, 0, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	pd_run_release(&r);
}

static CU_TestInfo cli_tests[] = {
    {"cli_help_should_list_the_commands", cli_help_should_list_the_commands},
    {"cli_version_should_print_the_version", cli_version_should_print_the_version},
    {"cli_every_command_should_have_help", cli_every_command_should_have_help},
    {"cli_should_exit_2_on_usage_errors", cli_should_exit_2_on_usage_errors},
    {"cli_should_exit_3_with_a_message_on_a_missing_file",
     cli_should_exit_3_with_a_message_on_a_missing_file},
    {"cli_check_should_accept_the_default_example",
     cli_check_should_accept_the_default_example},
    {"cli_check_should_reject_an_invalid_plan_with_the_rule_id",
     cli_check_should_reject_an_invalid_plan_with_the_rule_id},
    {"cli_report_json_should_parse_as_json", cli_report_json_should_parse_as_json},
    {"cli_report_should_print_the_report_of_an_invalid_plan_and_exit_1",
     cli_report_should_print_the_report_of_an_invalid_plan_and_exit_1},
    {"cli_quiet_should_print_nothing_on_stdout", cli_quiet_should_print_nothing_on_stdout},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"cli", NULL, NULL, NULL, NULL, cli_tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
