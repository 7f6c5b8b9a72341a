/* main.c - argument parsing only: every command is a call into libplandag. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plandag/plandag.h"

typedef struct cli {
	const char *cmd;
	const char *input;
	const char *out_dir;
	const char *format; /* report: md|json */
	const char *emit;
	const char *view;
	const char *dump; /* expand|lower */
	int quiet;
	int allow_large;
} cli;

static const char *USAGE =
    "usage: plandag <command> [options] FILE\n"
    "\n"
    "commands:\n"
    "  check   PLAN.xml                 schema and structural rules; exit 1 on any error\n"
    "  report  PLAN.xml [--format md|json]\n"
    "                                   the analysis report on stdout\n"
    "  compile PLAN.xml [-o DIR] [--emit LIST] [--view V] [--dump STAGE]\n"
    "                                   validate, lower to per-GPU DAGs, check, export\n"
    "  verify  DAG.graphml              acyclicity and placement checks on a DAG file\n"
    "\n"
    "options: -q (quiet), --help (also after a command), --version\n"
    "exit codes: 0 success, 1 plan or DAG invalid, 2 usage error, 3 I/O or internal "
    "error\n";

static const char *HELP_CHECK =
    "usage: plandag check [-q] PLAN.xml\n"
    "\n"
    "Reads PLAN.xml, checks it against the plan schema and every structural rule\n"
    "(multiplicative-gpu-count, layer-coverage, hierarchy, tp-divides-heads, sp-needs-tp,\n"
    "ep-placement, gpu-range, gpu-overlap, replica-shape, workload-split, "
    "params-mismatch,\n"
    "memory-capacity, tp-crosses-node, throughput-target, over-provisioned) and prints "
    "every\n"
    "violation compiler style on stderr:\n"
    "    plan.xml:12:7: error: MESSAGE [rule-id]\n"
    "        fix: HOW TO FIX IT\n"
    "A valid plan whose DAG has at most 100 000 nodes + edges is lowered so that\n"
    "throughput-target uses the DAG's critical path; a larger plan is judged on the\n"
    "analytic (roofline) estimate, which keeps check fast, and a note says so ('report'\n"
    "and 'compile' always use the critical path).\n"
    "\n"
    "  -q             print nothing on stdout (diagnostics still go to stderr)\n"
    "  --allow-large  lower and use the critical path whatever the plan's size\n"
    "exit: 0 valid (warnings allowed), 1 invalid, 2 usage, 3 I/O\n";

static const char *HELP_REPORT =
    "usage: plandag report [--format md|json] [-q] PLAN.xml\n"
    "\n"
    "Prints the analysis report on stdout: verdict, every violation with its fix, GPU\n"
    "count declared vs structural with the formula, the expanded hierarchy, per-GPU\n"
    "memory (weights, KV cache, activations, reserve, total, capacity), throughput vs\n"
    "target, critical path, DAG statistics and the defaults that were assumed.\n"
    "\n"
    "  --format md    Markdown (default)\n"
    "  --format json  JSON (members: plan, verdict, diagnostics, gpus, params,\n"
    "                 kv_bytes_per_token, memory, throughput, dag, ...)\n"
    "  --allow-large  lower plans above the size limit too\n"
    "exit: 0 valid, 1 invalid (the report is printed either way), 2 usage, 3 I/O\n";

static const char *HELP_COMPILE =
    "usage: plandag compile [-o DIR] [--emit LIST] [--view V] [--dump STAGE] [-q] "
    "PLAN.xml\n"
    "\n"
    "Validates the plan, lowers it into per-GPU operator DAGs joined by communication\n"
    "edges, checks them (acyclic, placement) and writes DIR/NAME.EXT where NAME is\n"
    "plan/@name: NAME.graphml (the whole DAG), NAME.dot (the whole graph; the overview\n"
    "above 2 M nodes + edges), NAME.png/svg/pdf (the automatic view), NAME.md (report).\n"
    "An explicit --view applies to the DOT file and the pictures and adds -VIEW to their\n"
    "names (NAME-overview.png).  An invalid plan stops before lowering with the\n"
    "diagnostics of check and writes nothing; files appear only when all succeeded.\n"
    "\n"
    "  -o, --output DIR   output directory, created if missing (default out/)\n"
    "  --emit LIST        comma list of dot,graphml,png,svg,pdf,report, or none\n"
    "                     (default dot,graphml,png,report)\n"
    "  --view V           picture view: overview | full | stage=S | gpu=G | layer=L\n"
    "                     (default: full up to 1000 nodes, overview above; a full\n"
    "                     picture above 4000 nodes is refused)\n"
    "  --dump STAGE       print the IR after STAGE (expand | lower) on stdout\n"
    "  --allow-large      lower plans above the size limit (50 M nodes + edges)\n"
    "  -q                 no summary on stdout\n"
    "exit: 0 success, 1 plan or DAG invalid, 2 usage, 3 I/O or internal error\n";

static const char *HELP_VERIFY =
    "usage: plandag verify [-q] DAG.graphml\n"
    "\n"
    "Reads a GraphML DAG (written by plandag compile, or edited by hand) and runs the\n"
    "DAG checks: acyclic (collective members contracted; a failure prints one cycle node\n"
    "by node) and placement (GPUs exist and belong to their stage, experts on their host\n"
    "GPU, collective members equal their group, every pp_send has one pp_recv, per-GPU\n"
    "memory within capacity).\n"
    "exit: 0 the DAG passes, 1 it fails, 2 usage, 3 I/O\n";

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "plandag: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	fputs("try 'plandag --help'\n", stderr);
	return PD_USAGE;
}

static const char *help_of(const char *cmd)
{
	if (strcmp(cmd, "check") == 0)
		return HELP_CHECK;
	if (strcmp(cmd, "report") == 0)
		return HELP_REPORT;
	if (strcmp(cmd, "compile") == 0)
		return HELP_COMPILE;
	if (strcmp(cmd, "verify") == 0)
		return HELP_VERIFY;
	return NULL;
}

/* Matches "--name VALUE" and "--name=VALUE"; advances *i past a separate value. */
static int take_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		*val = NULL;
		return 1;
	}
	*val = argv[++*i];
	return 1;
}

/* Parses the options after the command; returns -1 to continue, else an exit code. */
static int parse_options(int argc, char **argv, cli *c)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(help_of(c->cmd), stdout);
			return PD_OK;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			c->quiet = 1;
		} else if (strcmp(a, "--allow-large") == 0) {
			c->allow_large = 1;
		} else if (take_value(argc, argv, &i, "--format", &v)) {
			if (!v)
				return usage_error("--format needs a value", NULL);
			c->format = v;
		} else if (take_value(argc, argv, &i, "-o", &v) ||
		           take_value(argc, argv, &i, "--output", &v)) {
			if (!v)
				return usage_error("-o needs a directory", NULL);
			c->out_dir = v;
		} else if (take_value(argc, argv, &i, "--emit", &v)) {
			if (!v)
				return usage_error("--emit needs a list", NULL);
			c->emit = v;
		} else if (take_value(argc, argv, &i, "--view", &v)) {
			if (!v)
				return usage_error("--view needs a value", NULL);
			c->view = v;
		} else if (take_value(argc, argv, &i, "--dump", &v)) {
			if (!v)
				return usage_error("--dump needs a stage (expand or lower)", NULL);
			c->dump = v;
		} else if (a[0] == '-' && a[1] != '\0') {
			return usage_error("unknown option", a);
		} else if (c->input) {
			return usage_error("more than one input file", a);
		} else {
			c->input = a;
		}
	}
	if (!c->input)
		return usage_error("missing input file", NULL);
	return -1;
}

/* Which options each command accepts (anything else is a usage error). */
static int check_option_set(const cli *c)
{
	int is_report = strcmp(c->cmd, "report") == 0;
	int is_compile = strcmp(c->cmd, "compile") == 0;
	if (c->format && !is_report)
		return usage_error("--format belongs to 'report'", NULL);
	if ((c->out_dir || c->emit || c->view || c->dump) && !is_compile)
		return usage_error("-o, --emit, --view and --dump belong to 'compile'", NULL);
	if (c->allow_large && strcmp(c->cmd, "verify") == 0)
		return usage_error("--allow-large does not apply to 'verify'", NULL);
	if (c->format && strcmp(c->format, "md") != 0 && strcmp(c->format, "json") != 0)
		return usage_error("--format takes md or json", c->format);
	if (c->dump && strcmp(c->dump, "expand") != 0 && strcmp(c->dump, "lower") != 0)
		return usage_error("--dump takes expand or lower", c->dump);
	return -1;
}

/* What compile will draw, checked against the plan before lowering. */
typedef struct picture_req {
	unsigned mask;
	const pd_view *view;
} picture_req;

static pd_status picture_precheck(pd_compilation *comp, void *ctx)
{
	const picture_req *p = ctx;
	if (!(p->mask & (PD_EMIT_PNG | PD_EMIT_SVG | PD_EMIT_PDF)))
		return PD_OK;
	return pd_view_precheck(comp->plan, comp->est_nodes, p->view, &comp->diags);
}

/* max_elements 0 = the library default (PD_DEFAULT_MAX_ELEMENTS); pic NULL: no
 * pictures to check before lowering. */
static void run_pipeline(const cli *c, uint64_t max_elements, picture_req *pic,
                         pd_compilation *comp)
{
	pd_compile_options opt = {.lower = 1,
	                          .max_elements = c->allow_large ? UINT64_MAX : max_elements,
	                          .before_lower = pic ? picture_precheck : NULL,
	                          .before_lower_ctx = pic};
	pd_compile_file(c->input, &opt, comp);
	pd_diag_list_sort(&comp->diags);
}

static int cmd_check(const cli *c)
{
	pd_compilation comp;
	run_pipeline(c, PD_CHECK_MAX_ELEMENTS, NULL, &comp);
	pd_diag_list_print(stderr, c->input, &comp.diags);
	int rc = comp.status;
	if (!c->quiet && comp.plan && rc != PD_IO) {
		printf("%s: %s (%zu error(s), %zu warning(s))\n", c->input,
		       comp.diags.errors ? "invalid" : "valid", comp.diags.errors,
		       comp.diags.warnings);
		if (comp.reached == PD_STAGE_VALIDATE && comp.est_nodes)
			printf("note: throughput judged on the analytic estimate: the DAG would have "
			       "%llu nodes + %llu edges; 'plandag report' and 'compile' use its "
			       "critical path (or pass --allow-large)\n",
			       (unsigned long long)comp.est_nodes, (unsigned long long)comp.est_edges);
	}
	pd_compilation_release(&comp);
	return rc;
}

static int cmd_report(const cli *c)
{
	pd_compilation comp;
	run_pipeline(c, 0, NULL, &comp);
	pd_report_format fmt =
	    c->format && strcmp(c->format, "json") == 0 ? PD_REPORT_JSON : PD_REPORT_MD;
	int rc = comp.status;
	if (rc == PD_IO && !comp.plan) {
		pd_diag_list_print(stderr, c->input, &comp.diags);
	} else if (pd_report_write(stdout, fmt, &comp, NULL) != PD_OK) {
		fprintf(stderr, "plandag: cannot write the report\n");
		rc = PD_IO;
	}
	pd_compilation_release(&comp);
	return rc;
}

static int compile_refused(const cli *c, const pd_compilation *comp)
{
	fprintf(stderr,
	        "%s: error: lowering would build %llu nodes and %llu edges (about %.1f GB of "
	        "IR), above the limit of %llu elements\n    fix: compile a smaller plan, or "
	        "pass --allow-large if the machine has the memory\n",
	        c->input, (unsigned long long)comp->est_nodes,
	        (unsigned long long)comp->est_edges,
	        (double)(comp->est_nodes * 32 + comp->est_edges * 24) / 1e9,
	        (unsigned long long)PD_DEFAULT_MAX_ELEMENTS);
	return PD_INVALID;
}

static int cmd_compile(const cli *c)
{
	unsigned mask = PD_EMIT_DEFAULT;
	pd_view view = {.kind = PD_VIEW_AUTO};
	if (c->emit && pd_emit_parse(c->emit, &mask) != PD_OK)
		return usage_error("--emit takes a comma list of dot,graphml,png,svg,pdf,report "
		                   "or none",
		                   c->emit);
	if (c->view && pd_view_parse(c->view, &view) != PD_OK)
		return usage_error("--view takes overview, full, stage=S, gpu=G or layer=L",
		                   c->view);
	pd_compilation comp;
	picture_req pic = {mask, &view};
	run_pipeline(c, 0, &pic, &comp);
	pd_diag_list_print(stderr, c->input, &comp.diags);
	int rc = comp.status;
	if (rc == PD_OK && comp.reached < PD_STAGE_LOWER)
		rc = compile_refused(c, &comp);
	if (c->dump && comp.plan && comp.reached >= PD_STAGE_EXPAND &&
	    strcmp(c->dump, "expand") == 0)
		pd_plan_print_tree(comp.plan, stdout);
	if (c->dump && comp.dag && strcmp(c->dump, "lower") == 0)
		pd_dag_dump(comp.dag, stdout);
	if (rc == PD_OK) {
		pd_diag_list emit_diags;
		pd_diag_list_init(&emit_diags);
		rc = pd_emit(&comp, mask, &view, c->out_dir ? c->out_dir : "out",
		             c->quiet ? NULL : stdout, &emit_diags);
		pd_diag_list_print(stderr, c->input, &emit_diags);
		pd_diag_list_release(&emit_diags);
	}
	if (!c->quiet && !c->dump && comp.plan)
		pd_compilation_print_summary(&comp, stdout);
	pd_compilation_release(&comp);
	return rc;
}

static int cmd_verify(const cli *c)
{
	pd_diag_list diags;
	pd_diag_list_init(&diags);
	pd_dag *dag = NULL;
	int rc = pd_graphml_read(c->input, &dag, &diags);
	if (rc == PD_OK) {
		pd_status a = pd_dag_check_acyclic(dag, &diags);
		pd_status p = pd_dag_check_placement(dag, &diags);
		rc = (a == PD_IO || p == PD_IO)   ? PD_IO
		     : (a != PD_OK || p != PD_OK) ? PD_INVALID
		                                  : PD_OK;
	}
	pd_diag_list_print(stderr, c->input, &diags);
	if (!c->quiet && dag && rc != PD_IO)
		printf("%s: %s (%u nodes, %u edges)\n", c->input,
		       rc == PD_OK ? "DAG passes acyclic and placement" : "DAG invalid",
		       dag->n_nodes, dag->n_edges);
	pd_dag_destroy(dag);
	pd_diag_list_release(&diags);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("missing command", NULL);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(USAGE, stdout);
		return PD_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("plandag %s\n", PLANDAG_VERSION);
		return PD_OK;
	}
	cli c = {.cmd = argv[1]};
	if (!help_of(c.cmd))
		return usage_error("unknown command", argv[1]);
	int rc = parse_options(argc, argv, &c);
	if (rc >= 0)
		return rc;
	if ((rc = check_option_set(&c)) >= 0)
		return rc;
	if (strcmp(c.cmd, "check") == 0)
		return cmd_check(&c);
	if (strcmp(c.cmd, "report") == 0)
		return cmd_report(&c);
	if (strcmp(c.cmd, "compile") == 0)
		return cmd_compile(&c);
	return cmd_verify(&c);
}
