/* diag.h - status codes and diagnostics.
 *
 * Errors are data: every stage appends diagnostics to a pd_diag_list and returns a
 * pd_status; only the command line prints them.
 */
#ifndef PLANDAG_DIAG_H
#define PLANDAG_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "plandag/status.h"

typedef enum pd_severity { PD_ERROR, PD_WARNING, PD_NOTE } pd_severity;

/* Rule ids (docs/rules.md): the plan rules, the DAG checks, and io. */
#define PD_RULE_SCHEMA "schema"
#define PD_RULE_MULTIPLICATIVE "multiplicative-gpu-count"
#define PD_RULE_LAYER_COVERAGE "layer-coverage"
#define PD_RULE_HIERARCHY "hierarchy"
#define PD_RULE_TP_DIVIDES_HEADS "tp-divides-heads"
#define PD_RULE_SP_NEEDS_TP "sp-needs-tp"
#define PD_RULE_EP_PLACEMENT "ep-placement"
#define PD_RULE_GPU_RANGE "gpu-range"
#define PD_RULE_GPU_OVERLAP "gpu-overlap"
#define PD_RULE_REPLICA_SHAPE "replica-shape"
#define PD_RULE_WORKLOAD_SPLIT "workload-split"
#define PD_RULE_PARAMS_MISMATCH "params-mismatch"
#define PD_RULE_MEMORY_CAPACITY "memory-capacity"
#define PD_RULE_TP_CROSSES_NODE "tp-crosses-node"
#define PD_RULE_THROUGHPUT_TARGET "throughput-target"
#define PD_RULE_LATENCY_TARGET "latency-target"
#define PD_RULE_OVER_PROVISIONED "over-provisioned"
#define PD_RULE_POOL_BALANCE "pool-balance" /* pooled plans (docs/pools.md) */
#define PD_RULE_ACYCLIC "acyclic"
#define PD_RULE_PLACEMENT "placement"
#define PD_RULE_TRACE "trace" /* a Chakra trace set (plandag verify DIR.chakra) */
#define PD_RULE_IO "io"
#define PD_RULE_USAGE "usage" /* a request that cannot be met (exit 2) */
#define PD_RULE_SUGGEST "suggest" /* what `suggest` pruned or dropped (notes, warnings) */

typedef struct pd_diag {
	const char *rule; /* one of the PD_RULE_* ids (static string) */
	pd_severity severity;
	long line;     /* 1-based; 0 = no line */
	int column;    /* 1-based; 0 = unknown */
	char *message; /* lower case, no full stop: what is wrong */
	char *fix;     /* how to fix it; may be NULL */
} pd_diag;

/* At most this many diagnostics of one rule are kept; the rest are counted only, so
 * that a file with a million broken elements costs a million counts, not a million
 * messages.  The printers and reports say how many were left out. */
#define PD_DIAG_PER_RULE_MAX 20
#define PD_DIAG_RULES_MAX 48

typedef struct pd_diag_rule_count {
	const char *rule; /* static string */
	size_t kept, dropped;
	size_t dropped_errors, dropped_warnings;
} pd_diag_rule_count;

typedef struct pd_diag_list {
	pd_diag *items;
	size_t n, cap;
	size_t errors, warnings; /* every diagnostic added, kept or not */
	size_t dropped;          /* diagnostics counted but not kept */
	pd_diag_rule_count rules[PD_DIAG_RULES_MAX];
	size_t n_rules;
} pd_diag_list;

void pd_diag_list_init(pd_diag_list *l);
/* Frees the messages and the array; the list is empty afterwards. */
void pd_diag_list_release(pd_diag_list *l);

/* Appends a diagnostic with a printf-style message and returns it so that a fix can be
 * attached.  Returns NULL when the rule already has PD_DIAG_PER_RULE_MAX diagnostics
 * (the new one is only counted) or when out of memory (the diagnostic is lost); the
 * error and warning counts rise either way. */
pd_diag *pd_diag_add(pd_diag_list *l, const char *rule, pd_severity sev, long line,
                     int column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
pd_diag *pd_diag_addv(pd_diag_list *l, const char *rule, pd_severity sev, long line,
                      int column, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));
/* Sets d's fix line (printf-style); d may be NULL. */
void pd_diag_fix(pd_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Removes every diagnostic of a rule (used when a rule is re-evaluated). */
void pd_diag_list_remove_rule(pd_diag_list *l, const char *rule);

/* Sorts by line, then column, keeping insertion order otherwise. */
void pd_diag_list_sort(pd_diag_list *l);
/* True when the list contains a diagnostic of that rule (any severity). */
bool pd_diag_list_has(const pd_diag_list *l, const char *rule);

/* Prints compiler style to f:
 *   FILE:LINE[:COL]: error: MESSAGE [rule]
 *       fix: FIX
 */
void pd_diag_print(FILE *f, const char *file, const pd_diag *d);
/* Prints every kept diagnostic, then one note per rule whose diagnostics were cut. */
void pd_diag_list_print(FILE *f, const char *file, const pd_diag_list *l);
/* False once `rule` has PD_DIAG_PER_RULE_MAX diagnostics: a caller may then skip the
 * work of composing a message (pd_diag_add still has to be called, to count it). */
bool pd_diag_list_keeps(const pd_diag_list *l, const char *rule);
/* Number of diagnostics of `rule` that were counted but not kept. */
size_t pd_diag_list_dropped(const pd_diag_list *l, const char *rule);

const char *pd_severity_name(pd_severity s);

#endif
