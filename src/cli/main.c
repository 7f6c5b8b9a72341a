/* main.c - argument parsing and dispatch only: every command is a call into libplandag.
 *
 * Options are parsed with getopt_long over the whole command line, so global options
 * may come before or after the command ("plandag -q check x.xml" = "plandag check -q
 * x.xml").  The first operand is the command, the second its input; "-" is standard
 * input.  Adding a command or an option is adding a row to the tables below. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "plandag/plandag.h"

#define CHECK_LIKE (PD_CMD_CHECK | PD_CMD_REPORT | PD_CMD_COMPILE)

const char PD_CLI_EXIT_CODES[] =
    "0 success, 1 plan or DAG invalid, 2 usage error, 3 I/O or internal error";

const cli_command pd_cli_commands[] = {
    {"check", PD_CMD_CHECK, "PLAN.xml", "schema and structural rules; exit 1 on any error",
     "Reads PLAN.xml, checks it against the plan schema and every structural rule and "
     "prints every violation compiler style on stderr (FILE:LINE:COL: error: MESSAGE "
     "[rule-id], then a fix: line).  A valid plan whose DAG has at most 100 000 nodes + "
     "edges is lowered so that throughput-target uses the DAG's critical path; a larger "
     "plan is judged on the analytic (roofline) estimate, which keeps check fast, and a "
     "note says so ('report' and 'compile' always use the critical path).",
     "*.xml", pd_cli_check},
    {"report", PD_CMD_REPORT, "PLAN.xml", "the analysis report on stdout",
     "Prints the analysis report on stdout: verdict, every violation with its fix, GPU "
     "count declared vs structural with the formula, the expanded hierarchy, per-GPU "
     "memory (weights, KV cache, activations, reserve, total, capacity), throughput vs "
     "target, critical path, DAG statistics and the defaults that were assumed.  The "
     "report is printed for an invalid plan too (exit 1).",
     "*.xml", pd_cli_report},
    {"compile", PD_CMD_COMPILE, "PLAN.xml",
     "validate, lower to per-GPU DAGs, check, export",
     "Validates the plan, lowers it into per-GPU operator DAGs joined by communication "
     "edges, checks them (acyclic, placement) and writes DIR/NAME.EXT where NAME is "
     "plan/@name: NAME.graphml (the whole DAG), NAME.dot (the whole graph; the overview "
     "above 2 M nodes + edges), NAME.png, NAME.svg, NAME.pdf (the automatic view), "
     "NAME.md (the report), NAME.chakra/ (Chakra execution traces, one NAME.<rank>.et "
     "per GPU, with ASTRA-sim's network and system inputs), NAME.html (one self-contained "
     "page: the overview, every stage of replica 0, one GPU and one layer of each kind, "
     "with pan/zoom, search and node details; at most 32 views, 20 MB).  An explicit "
     "--view "
     "applies to "
     "the DOT file and the pictures "
     "and adds -VIEW to their names (NAME-overview.png).  An invalid plan stops before "
     "lowering with the diagnostics of check and writes nothing; files appear only when "
     "all of them succeeded.",
     "*.xml", pd_cli_compile},
    {"verify", PD_CMD_VERIFY, "DAG.graphml|DIR.chakra",
     "checks on a DAG file or a Chakra trace set",
     "Reads a GraphML DAG (written by plandag compile, or edited by hand) and runs the "
     "DAG checks: acyclic (collective members contracted; a failure prints one cycle "
     "node by node) and placement (GPUs exist and belong to their stage, experts on "
     "their host GPU, collective members equal their group, every pp_send has one "
     "pp_recv, per-GPU memory within capacity).  A directory named DIR.chakra, or holding "
     ".et files (written by --emit chakra, or by another tool), is read as a Chakra trace "
     "set and checked "
     "under rule trace: every message within bounds, known node and attribute types, "
     "dependencies resolve and no cycle across ranks, every send has its receive "
     "(src, dst, tag, size), every member of a group issues its collectives in one "
     "order with the same sizes, comm_size > 0.",
     "*.graphml", pd_cli_verify},
    {"suggest", PD_CMD_SUGGEST, "PLAN.xml",
     "search the strategies and write the corrected plan",
     "Keeps the plan's model, cluster and workload and searches the strategies (replicas, "
     "pipeline stages, stage size, attention TP, SP, dense TP, EP, redundant experts, "
     "micro-batches, two-batch overlap) on at most the cluster's GPUs (--max-gpus).  Every "
     "candidate goes through the rules of check and the cost module of compile; the best "
     "--top are lowered and scheduled like compile does.  Prints the verdict on the plan "
     "as written and why it falls short, the Pareto frontier (GPUs, tokens/ms, tokens/s "
     "per GPU, step latency, TTFT/TPOT, peak memory, strategy) and the winner, ranked by "
     "--objective (gpus: fewest GPUs meeting every target, then throughput; throughput; "
     "per-gpu; latency).  Writes DIR/NAME-suggested.xml (a plan that passes check, a "
     "comment on every changed element), NAME-pareto.png and NAME-suggest.md, all or "
     "none.  An unreachable target is said with the best reachable figure and the GPUs it "
     "would need.  A pooled plan gets both pools sized (prefill against target-ttft, "
     "decode against target-tpot, replica counts balanced within pool-balance).  Exit 0 "
     "when the suggestion meets every target, 1 when none does (docs/suggest.md).",
     "*.xml", pd_cli_suggest},
    {"help", PD_CMD_HELP, "[COMMAND]", "this overview, or the help of COMMAND",
     "Prints the overview of every command, or the help of COMMAND (the same as "
     "'plandag COMMAND --help').",
     NULL, pd_cli_help},
};
const size_t pd_cli_n_commands = sizeof(pd_cli_commands) / sizeof(pd_cli_commands[0]);

const cli_option pd_cli_options[] = {
    {"quiet", 'q', NULL, PD_CMD_ALL,
     "print nothing on stdout (diagnostics still go to stderr)", NULL, CC_NONE, 0},
    {"progress", 0, NULL, PD_CMD_ALL,
     "report the steps of long work (about a second or more) on stderr; the default "
     "when stderr is a terminal",
     NULL, CC_NONE, 0},
    {"no-progress", 0, NULL, PD_CMD_ALL, "never report progress", NULL, CC_NONE, 0},
    {"help", 'h', NULL, PD_CMD_ALL, "show the help (of the command, when one is given)",
     NULL, CC_NONE, 0},
    {"version", 0, NULL, PD_CMD_ALL, "print the version", NULL, CC_NONE, 0},
    {"format", 0, "FORMAT", PD_CMD_REPORT | PD_CMD_SUGGEST,
     "md (Markdown, the default) or json (report: members plan, verdict, diagnostics, "
     "gpus, params, kv_bytes_per_token, memory, throughput, dag, ...; suggest: plan, "
     "objective, original, candidates, frontier, best, reachable, evaluated)",
     "md json", CC_WORDS, 0},
    {"output", 'o', "DIR", PD_CMD_COMPILE | PD_CMD_SUGGEST,
     "output directory, created if missing (default out/); '-o -' writes the one file "
     "that --emit names to standard output",
     NULL, CC_DIR, 0},
    /* help and completion come from the exporter table (help.c) */
    {"emit", 0, "LIST", PD_CMD_COMPILE | PD_CMD_SUGGEST, NULL, NULL, CC_EMIT, 0},
    {"objective", 0, "OBJ", PD_CMD_SUGGEST,
     "suggest ranks by gpus (fewest GPUs meeting every target, then throughput; the "
     "default), throughput (tokens/ms), per-gpu (tokens/s per GPU) or latency (step)",
     "gpus throughput per-gpu latency", CC_WORDS, 0},
    {"max-gpus", 0, "N", PD_CMD_SUGGEST,
     "suggest uses at most N GPUs (default: the cluster's)", NULL, CC_NONE, 0},
    {"top", 0, "K", PD_CMD_SUGGEST,
     "suggest lowers and schedules the best K candidates for real (default 5, at most 64)",
     NULL, CC_NONE, 0},
    {"diff", 0, NULL, PD_CMD_SUGGEST,
     "suggest prints the unified diff from the plan to the suggested plan", NULL, CC_NONE,
     0},
    {"view", 0, "VIEW", PD_CMD_COMPILE,
     "picture view: overview, full, stage=S, gpu=G or layer=L (default: full up to 1000 "
     "nodes, overview above; a full picture above 4000 nodes is refused)",
     "overview full stage= gpu= layer=", CC_WORDS, 0},
    {"dump", 0, "STAGE", PD_CMD_COMPILE,
     "print the IR after STAGE (expand or lower) on stdout", "expand lower", CC_WORDS, 0},
    {"allow-large", 0, NULL, CHECK_LIKE,
     "lower plans of any size (check: above 100 000 nodes + edges; report and compile: "
     "above 50 M)",
     NULL, CC_NONE, 0},
    {"help-man", 0, NULL, PD_CMD_ALL, "print the man page (roff)", NULL, CC_NONE, 1},
    {"help-bash-completion", 0, NULL, PD_CMD_ALL, "print the bash completion script", NULL,
     CC_NONE, 1},
};
const size_t pd_cli_n_options = sizeof(pd_cli_options) / sizeof(pd_cli_options[0]);

/* getopt_long returns 256 + the row index for long-only options. */
#define LONG_ONLY 256

typedef struct parsed {
	cli c;
	unsigned given[4]; /* bit per row of pd_cli_options */
	int help, version, man, completion;
	const char *operands[3];
	int n_operands;
} parsed;

static int is_given(const parsed *p, size_t row)
{
	return (p->given[row / 32] >> (row % 32)) & 1u;
}

static void build_tables(struct option *longs, char *shorts)
{
	size_t k = 0;
	*shorts++ = ':'; /* a missing value returns ':' */
	for (size_t i = 0; i < pd_cli_n_options; i++) {
		const cli_option *o = &pd_cli_options[i];
		int val = o->short_name ? o->short_name : LONG_ONLY + (int)i;
		longs[k++] =
		    (struct option){o->name, o->arg ? required_argument : no_argument, NULL, val};
		if (o->short_name) {
			*shorts++ = o->short_name;
			if (o->arg)
				*shorts++ = ':';
		}
	}
	longs[k] = (struct option){0, 0, 0, 0};
	*shorts = '\0';
}

static size_t row_of(int val)
{
	if (val >= LONG_ONLY)
		return (size_t)(val - LONG_ONLY);
	for (size_t i = 0; i < pd_cli_n_options; i++)
		if (pd_cli_options[i].short_name == val)
			return i;
	return pd_cli_n_options;
}

/* Stores one parsed option in p. */
static void take(parsed *p, size_t row, const char *val)
{
	const char *n = pd_cli_options[row].name;
	p->given[row / 32] |= 1u << (row % 32);
	cli *c = &p->c;
	if (strcmp(n, "quiet") == 0)
		c->quiet = 1;
	else if (strcmp(n, "progress") == 0 || strcmp(n, "no-progress") == 0)
		c->progress = n[0] == 'p';
	else if (strcmp(n, "help") == 0)
		p->help = 1;
	else if (strcmp(n, "version") == 0)
		p->version = 1;
	else if (strcmp(n, "format") == 0)
		c->format = val;
	else if (strcmp(n, "output") == 0)
		c->out_dir = val;
	else if (strcmp(n, "emit") == 0)
		c->emit = val;
	else if (strcmp(n, "view") == 0)
		c->view = val;
	else if (strcmp(n, "dump") == 0)
		c->dump = val;
	else if (strcmp(n, "objective") == 0)
		c->objective = val;
	else if (strcmp(n, "max-gpus") == 0)
		c->max_gpus = val;
	else if (strcmp(n, "top") == 0)
		c->top = val;
	else if (strcmp(n, "diff") == 0)
		c->diff = 1;
	else if (strcmp(n, "allow-large") == 0)
		c->allow_large = 1;
	else if (strcmp(n, "help-man") == 0)
		p->man = 1;
	else if (strcmp(n, "help-bash-completion") == 0)
		p->completion = 1;
}

/* The long option nearest to a misspelt one, for "did you mean". */
static const char *near_option(const char *arg)
{
	const char *names[64];
	size_t n = 0;
	for (size_t i = 0; i < pd_cli_n_options && n < 64; i++)
		if (!pd_cli_options[i].hidden)
			names[n++] = pd_cli_options[i].name;
	const char *word = arg + strspn(arg, "-");
	size_t len = strcspn(word, "=");
	char buf[80];
	snprintf(buf, sizeof(buf), "%.*s", (int)(len < 79 ? len : 79), word);
	return pd_suggest(buf, names, n);
}

static int bad_option(int val, char **argv)
{
	const char *arg = argv[optind - 1];
	char hint[96] = "";
	if (val == ':')
		return pd_cli_usage_error("option needs a value", arg, NULL);
	if (strncmp(arg, "--", 2) != 0) {
		char s[3] = {'-', (char)optopt, '\0'};
		return pd_cli_usage_error("unknown option", s, NULL);
	}
	const char *eq = strchr(arg, '=');
	for (size_t i = 0; eq && i < pd_cli_n_options; i++)
		if (strlen(pd_cli_options[i].name) == (size_t)(eq - arg - 2) &&
		    strncmp(pd_cli_options[i].name, arg + 2, (size_t)(eq - arg - 2)) == 0)
			return pd_cli_usage_error("option takes no value", arg, NULL);
	const char *near = near_option(arg);
	if (near)
		snprintf(hint, sizeof(hint), "--%s", near);
	return pd_cli_usage_error("unknown option", arg, near ? hint : NULL);
}

/* Parses the whole command line; returns -1 to continue, else an exit code. */
static int parse(int argc, char **argv, parsed *p)
{
	struct option longs[64];
	char shorts[64];
	build_tables(longs, shorts);
	opterr = 0;
	int val;
	while ((val = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		size_t row = row_of(val);
		if (val == '?' || val == ':' || row >= pd_cli_n_options)
			return bad_option(val, argv);
		take(p, row, optarg);
	}
	for (int i = optind; i < argc; i++) {
		if (p->n_operands == 3)
			return pd_cli_usage_error("too many arguments", argv[i], NULL);
		p->operands[p->n_operands++] = argv[i];
	}
	return -1;
}

/* The command named by the first operand, with "did you mean". */
static int find_command(parsed *p)
{
	if (p->n_operands == 0)
		return pd_cli_usage_error("missing command", NULL, NULL);
	p->c.cmd = pd_cli_find_command(p->operands[0]);
	if (p->c.cmd)
		return -1;
	const char *names[32];
	for (size_t i = 0; i < pd_cli_n_commands && i < 32; i++)
		names[i] = pd_cli_commands[i].name;
	return pd_cli_usage_error("unknown command", p->operands[0],
	                          pd_suggest(p->operands[0], names, pd_cli_n_commands));
}

/* Every option given must belong to the command. */
static int check_options(const parsed *p)
{
	const cli_command *cmd = p->c.cmd;
	for (size_t i = 0; i < pd_cli_n_options; i++) {
		const cli_option *o = &pd_cli_options[i];
		if (!is_given(p, i) || (o->commands & cmd->bit))
			continue;
		char msg[128];
		snprintf(msg, sizeof(msg), "--%s does not apply to '%s'", o->name, cmd->name);
		return pd_cli_usage_error(msg, NULL, NULL);
	}
	return -1;
}

static int check_operands(parsed *p)
{
	cli *c = &p->c;
	if (c->cmd->bit == PD_CMD_HELP) {
		if (p->n_operands > 2)
			return pd_cli_usage_error("more than one topic", p->operands[2], NULL);
		c->topic = p->n_operands > 1 ? p->operands[1] : NULL;
		return -1;
	}
	if (p->n_operands < 2)
		return pd_cli_usage_error("missing input file", NULL, NULL);
	if (p->n_operands > 2)
		return pd_cli_usage_error("more than one input file", p->operands[2], NULL);
	c->input = p->operands[1];
	c->shown = strcmp(c->input, "-") == 0 ? "<stdin>" : c->input;
	return -1;
}

static int check_values(const cli *c)
{
	if (c->format && strcmp(c->format, "md") != 0 && strcmp(c->format, "json") != 0) {
		const char *words[] = {"md", "json"};
		return pd_cli_usage_error("--format takes md or json", c->format,
		                          pd_suggest(c->format, words, 2));
	}
	if (c->dump && strcmp(c->dump, "expand") != 0 && strcmp(c->dump, "lower") != 0) {
		const char *words[] = {"expand", "lower"};
		return pd_cli_usage_error("--dump takes expand or lower", c->dump,
		                          pd_suggest(c->dump, words, 2));
	}
	return -1;
}

/* The options that print something and stop, with or without a command. */
static int informational(const parsed *p)
{
	if (p->man) {
		pd_cli_man_page(stdout);
		return PD_OK;
	}
	if (p->completion) {
		pd_cli_bash_completion(stdout);
		return PD_OK;
	}
	if (p->version) {
		printf("plandag %s\n", PLANDAG_VERSION);
		return PD_OK;
	}
	if (p->help && !p->c.cmd) {
		pd_cli_usage(stdout);
		return PD_OK;
	}
	if (p->help) {
		pd_cli_command_help(stdout, p->c.cmd);
		return PD_OK;
	}
	return -1;
}

int main(int argc, char **argv)
{
	pd_install_signal_cleanup();
	parsed p = {.c = {.progress = -1}};
	int rc = parse(argc, argv, &p);
	if (rc >= 0)
		return rc;
	if (p.n_operands > 0 && (rc = find_command(&p)) >= 0)
		return rc;
	if ((rc = informational(&p)) >= 0)
		return rc;
	if ((rc = find_command(&p)) >= 0 || (rc = check_options(&p)) >= 0 ||
	    (rc = check_operands(&p)) >= 0 || (rc = check_values(&p.c)) >= 0)
		return rc;
	if (p.c.progress < 0)
		p.c.progress = isatty(STDERR_FILENO);
	return p.c.cmd->run(&p.c);
}
