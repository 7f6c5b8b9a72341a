/* help.c - --help, the man page and the bash completion, all from the tables of
 * main.c, so none of them can list a command or an option that does not exist. */
#include <string.h>

#include "cli/cli.h"
#include "plandag/plandag.h"

#define WIDTH 88

const cli_command *pd_cli_find_command(const char *name)
{
	for (size_t i = 0; i < pd_cli_n_commands; i++)
		if (strcmp(pd_cli_commands[i].name, name) == 0)
			return &pd_cli_commands[i];
	return NULL;
}

int pd_cli_usage_error(const char *msg, const char *arg, const char *suggestion)
{
	fprintf(stderr, "plandag: %s%s%s", msg, arg ? ": " : "", arg ? arg : "");
	if (suggestion)
		fprintf(stderr, " (did you mean '%s'?)", suggestion);
	fputs("\ntry 'plandag --help'\n", stderr);
	return PD_USAGE;
}

/* Prints text wrapped at WIDTH, every line starting with `indent` spaces. */
static void wrap(FILE *f, const char *text, int indent, int first_col)
{
	int col = first_col;
	while (*text) {
		size_t len = strcspn(text, " ");
		if (col > indent && col + 1 + (int)len > WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		} else if (col < indent) {
			fprintf(f, "%*s", indent - col, "");
			col = indent;
		}
		fwrite(text, 1, len, f);
		col += (int)len;
		text += len;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

/* "dot, graphml, png, svg, pdf, report" (sep ", ") or "dot,graphml,png,report" (sep ","
 * with only the words in mask) from the exporter table; returns buf. */
const char *pd_cli_emit_words(char *buf, size_t size, const char *sep, unsigned mask)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; pd_emit_info_at(i) && used < size; i++) {
		const pd_emit_info *e = pd_emit_info_at(i);
		if (!(e->bit & mask))
			continue;
		int n = snprintf(buf + used, size - used, "%s%s", used ? sep : "", e->word);
		used += n > 0 ? (size_t)n : 0;
	}
	return buf;
}

/* An option's help; --emit's is made from the exporter table. */
static const char *option_help(const cli_option *o, char *buf, size_t size)
{
	if (o->complete != CC_EMIT)
		return o->help;
	char all[256], dflt[256];
	snprintf(buf, size,
	         "compile: comma list of %s, or none (default %s); suggest: comma list of the "
	         "words %s "
	         "(default all)",
	         pd_cli_emit_words(all, sizeof(all), ", ", ~0u),
	         pd_cli_emit_words(dflt, sizeof(dflt), ",", PD_EMIT_DEFAULT),
	         PD_CLI_SUGGEST_EMIT_WORDS);
	return buf;
}

static int option_label(char *buf, size_t size, const cli_option *o)
{
	return snprintf(buf, size, "%s%s%s--%s%s%s", o->short_name ? "-" : "",
	                o->short_name ? (char[]){o->short_name, 0} : "",
	                o->short_name ? ", " : "", o->name, o->arg ? " " : "",
	                o->arg ? o->arg : "");
}

/* The next visible option of `commands` after row *i (start with *i = 0), the global
 * ones (globals) or the command's own; NULL after the last.  --help, the man page and
 * the completion list the same options in the same order. */
static const cli_option *next_option(size_t *i, unsigned commands, int globals)
{
	while (*i < pd_cli_n_options) {
		const cli_option *o = &pd_cli_options[(*i)++];
		int global = o->commands == PD_CMD_ALL;
		if (!o->hidden && global == globals && (o->commands & commands))
			return o;
	}
	return NULL;
}

static void print_options(FILE *f, unsigned commands, int globals)
{
	size_t i = 0;
	for (const cli_option *o; (o = next_option(&i, commands, globals));) {
		char label[64];
		int n = option_label(label, sizeof(label), o);
		char help[640];
		fprintf(f, "  %s", label);
		wrap(f, option_help(o, help, sizeof(help)), 26, n + 2);
	}
}

void pd_cli_usage(FILE *f)
{
	fputs("usage: plandag [options] COMMAND [options] FILE\n\ncommands:\n", f);
	for (size_t i = 0; i < pd_cli_n_commands; i++) {
		const cli_command *c = &pd_cli_commands[i];
		int n = fprintf(f, "  %-8s %s", c->name, c->args);
		wrap(f, c->summary, 26, n);
	}
	fputs("\nglobal options (before or after the command):\n", f);
	print_options(f, PD_CMD_ALL, 1);
	fputs("\nFILE '-' is standard input.  'plandag COMMAND --help' lists the options of "
	      "COMMAND.\n",
	      f);
	fprintf(f, "exit codes: %s\n", PD_CLI_EXIT_CODES);
}

void pd_cli_command_help(FILE *f, const cli_command *cmd)
{
	fprintf(f, "usage: plandag %s [options] %s\n\n", cmd->name, cmd->args);
	wrap(f, cmd->description, 0, 0);
	fputs("\noptions:\n", f);
	print_options(f, cmd->bit, 0);
	print_options(f, cmd->bit, 1);
	fprintf(f, "\nexit codes: %s\n", PD_CLI_EXIT_CODES);
}

/* ---- man page ---- */

/* Text for roff: backslashes and dashes escaped, no line starting with '.' or '\''. */
static void roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static void man_options(FILE *f, unsigned commands, int globals)
{
	size_t i = 0;
	for (const cli_option *o; (o = next_option(&i, commands, globals));) {
		char label[64];
		option_label(label, sizeof(label), o);
		char help[640];
		fputs(".TP\n.B ", f);
		roff(f, label);
		fputc('\n', f);
		roff(f, option_help(o, help, sizeof(help)));
		fputc('\n', f);
	}
}

static void man_commands(FILE *f)
{
	fputs(".SH COMMANDS\n", f);
	for (size_t i = 0; i < pd_cli_n_commands; i++) {
		const cli_command *c = &pd_cli_commands[i];
		fputs(".SS ", f);
		roff(f, c->name);
		fputc(' ', f);
		roff(f, c->args);
		fputc('\n', f);
		roff(f, c->description);
		fputc('\n', f);
		if (c->bit == PD_CMD_HELP)
			continue;
		fputs(".PP\nOptions of ", f);
		roff(f, c->name);
		fputs(":\n.RS\n", f);
		man_options(f, c->bit, 0);
		fputs(".RE\n", f);
	}
}

void pd_cli_man_page(FILE *f)
{
	fprintf(f, ".TH PLANDAG 1 \"\" \"plandag %s\" \"User Commands\"\n", PLANDAG_VERSION);
	fputs(".SH NAME\nplandag \\- plan compiler for MoE and dense inference deployments "
	      "on GPU clusters\n.SH SYNOPSIS\n.B plandag\n[\\fIoptions\\fR] \\fICOMMAND\\fR "
	      "[\\fIoptions\\fR] \\fIFILE\\fR\n.SH DESCRIPTION\n"
	      "plandag reads an XML deployment plan (which model runs on which cluster under "
	      "which data, pipeline, tensor, sequence and expert parallelism), validates it, "
	      "lowers it to per\\-GPU operator DAGs, checks them and exports DOT, GraphML, "
	      "PNG/SVG/PDF and a Markdown or JSON report.  Errors go to stderr, results to "
	      "stdout or files.  A FILE of \\- is standard input.\n",
	      f);
	man_commands(f);
	fputs(".SH GLOBAL OPTIONS\nThese may come before or after the command.\n", f);
	man_options(f, PD_CMD_ALL, 1);
	fputs(".SH EXIT STATUS\n", f);
	roff(f, PD_CLI_EXIT_CODES);
	fputs(".\n.SH FILES\nThe plan and GraphML schemas and the Chakra trace messages "
	      "(\\fIchakra_et.proto\\fR) are installed under \\fIshare/plandag/\\fR; the "
	      "plan format, every rule and the Chakra traces for ASTRA\\-sim are described in "
	      "\\fIplan\\-format.md\\fR, \\fIrules.md\\fR and \\fIexecutors.md\\fR under "
	      "\\fIshare/doc/plandag/\\fR.\n.SH EXAMPLE\n.nf\nplandag check plan.xml\n"
	      "plandag compile plan.xml \\-o out/ \\-\\-emit dot,graphml,report\n"
	      "plandag compile plan.xml \\-\\-emit graphml \\-o \\- | gzip > plan.graphml.gz\n"
	      "plandag verify out/NAME.graphml\n"
	      "plandag compile plan.xml \\-\\-emit chakra && plandag verify "
	      "out/NAME.chakra\n.fi\n",
	      f);
}

/* ---- bash completion ---- */

static void completion_option_words(FILE *f, unsigned bit)
{
	for (size_t i = 0; i < pd_cli_n_options; i++) {
		const cli_option *o = &pd_cli_options[i];
		if (o->hidden || !(o->commands & bit))
			continue;
		fprintf(f, " --%s", o->name);
		if (o->short_name)
			fprintf(f, " -%c", o->short_name);
	}
}

static void completion_values(FILE *f)
{
	fputs("    case \"$prev\" in\n", f);
	for (size_t i = 0; i < pd_cli_n_options; i++) {
		const cli_option *o = &pd_cli_options[i];
		if (!o->arg || o->hidden)
			continue;
		fprintf(f, "    --%s%s%c)\n", o->name, o->short_name ? "|-" : "",
		        o->short_name ? o->short_name : ' ');
		if (o->complete == CC_DIR) {
			fputs("        COMPREPLY=($(compgen -d -- \"$cur\")); return;;\n", f);
		} else if (o->complete == CC_EMIT) {
			fputs("        COMPREPLY=($(compgen -W \"", f);
			for (size_t w = 0; pd_emit_word(w); w++)
				fprintf(f, "%s ", pd_emit_word(w));
			fprintf(f, "none %s\" -- \"$cur\")); return;;\n", PD_CLI_SUGGEST_EMIT_WORDS);
		} else {
			fprintf(f, "        COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return;;\n",
			        o->words ? o->words : "");
		}
	}
	fputs("    esac\n", f);
}

void pd_cli_bash_completion(FILE *f)
{
	fputs("# bash completion for plandag (generated by plandag --help-bash-completion)\n"
	      "_plandag() {\n    local cur prev cmd w\n    cur=${COMP_WORDS[COMP_CWORD]}\n"
	      "    prev=${COMP_WORDS[COMP_CWORD-1]}\n    local commands=\"",
	      f);
	for (size_t i = 0; i < pd_cli_n_commands; i++)
		fprintf(f, "%s%s", i ? " " : "", pd_cli_commands[i].name);
	fputs("\"\n", f);
	completion_values(f);
	fputs("    for w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do\n        case \"$w\" in\n",
	      f);
	for (size_t i = 0; i < pd_cli_n_commands; i++)
		fprintf(f, "        %s) cmd=%s; break;;\n", pd_cli_commands[i].name,
		        pd_cli_commands[i].name);
	fputs("        esac\n    done\n    case \"$cmd\" in\n", f);
	for (size_t i = 0; i < pd_cli_n_commands; i++) {
		const cli_command *c = &pd_cli_commands[i];
		fprintf(f, "    %s)\n        if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"",
		        c->name);
		completion_option_words(f, c->bit);
		if (c->file_glob)
			fprintf(f,
			        "\" -- \"$cur\")); else COMPREPLY=($(compgen -f -X '!%s' -- "
			        "\"$cur\") $(compgen -d -- \"$cur\")); fi;;\n",
			        c->file_glob);
		else
			fputs("\" -- \"$cur\")); else COMPREPLY=($(compgen -W \"$commands\" -- "
			      "\"$cur\")); fi;;\n",
			      f);
	}
	fputs("    *) COMPREPLY=($(compgen -W \"$commands", f);
	completion_option_words(f, PD_CMD_ALL & ~0xffu);
	fputs("\" -- \"$cur\"));;\n    esac\n}\ncomplete -o filenames -F _plandag plandag\n",
	      f);
}
