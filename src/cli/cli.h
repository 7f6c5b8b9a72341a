/* cli.h - the command line's tables: every command and option is one row, and dispatch,
 * --help, the man page and the bash completion are all derived from them. */
#ifndef PD_CLI_H
#define PD_CLI_H

#include <stddef.h>
#include <stdio.h>

enum {
	PD_CMD_CHECK = 1u << 0,
	PD_CMD_REPORT = 1u << 1,
	PD_CMD_COMPILE = 1u << 2,
	PD_CMD_VERIFY = 1u << 3,
	PD_CMD_HELP = 1u << 4,
	PD_CMD_SUGGEST = 1u << 5,
	PD_CMD_ALL = 0xffffu,
};

/* Where an option's value must come from, for the completion. */
/* CC_EMIT: the words pd_emit_word knows, and "none". */
typedef enum cli_complete { CC_NONE, CC_WORDS, CC_DIR, CC_EMIT } cli_complete;

typedef struct cli_option {
	const char *name;  /* long name without "--" */
	char short_name;   /* 0 = none */
	const char *arg;   /* metavariable, NULL = takes no value */
	unsigned commands; /* PD_CMD_* that accept it; PD_CMD_ALL = a global option */
	const char *help;  /* NULL for --emit: made from the exporter table */
	const char *words; /* space-separated values for the completion (CC_WORDS) */
	cli_complete complete;
	int hidden; /* not in --help or the man page (build-time generators) */
} cli_option;

typedef struct cli {
	const struct cli_command *cmd;
	const char *input;
	const char *shown; /* the input as messages name it ("<stdin>" for "-") */
	const char *out_dir;
	const char *format; /* report: md|json */
	const char *emit;
	const char *view;
	const char *dump;      /* expand|lower */
	const char *topic;     /* help COMMAND */
	const char *objective; /* suggest: gpus|throughput|per-gpu|latency */
	const char *max_gpus;  /* suggest --max-gpus N (as written) */
	const char *top;       /* suggest --top K (as written) */
	int diff;              /* suggest --diff */
	int quiet;
	int allow_large;
	int progress; /* 1 show, 0 do not, -1 when stderr is a terminal */
} cli;

typedef struct cli_command {
	const char *name;
	unsigned bit;
	const char *args;    /* positional arguments in the synopsis */
	const char *summary; /* one line for the command list */
	const char *description;
	const char *file_glob; /* input files for the completion */
	int (*run)(const cli *c);
} cli_command;

extern const cli_command pd_cli_commands[];
extern const size_t pd_cli_n_commands;
extern const cli_option pd_cli_options[];
extern const size_t pd_cli_n_options;

extern const char PD_CLI_EXIT_CODES[];

/* commands.c */
int pd_cli_check(const cli *c);
int pd_cli_report(const cli *c);
int pd_cli_compile(const cli *c);
int pd_cli_verify(const cli *c);
int pd_cli_help(const cli *c);
/* The words of suggest --emit, as help lists them and as the completion offers them. */
#define PD_CLI_SUGGEST_EMIT_WORDS "plan png report"
/* suggest.c */
int pd_cli_suggest(const cli *c);

/* help.c */
void pd_cli_usage(FILE *f);
void pd_cli_command_help(FILE *f, const cli_command *cmd);
void pd_cli_man_page(FILE *f);
void pd_cli_bash_completion(FILE *f);
const cli_command *pd_cli_find_command(const char *name);
/* The exporters' words whose bit is in mask, joined by sep; returns buf. */
const char *pd_cli_emit_words(char *buf, size_t size, const char *sep, unsigned mask);
/* Prints "plandag: MSG[: ARG][ (did you mean 'X'?)]" and the hint; returns PD_USAGE. */
int pd_cli_usage_error(const char *msg, const char *arg, const char *suggestion);

#endif
