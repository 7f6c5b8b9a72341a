/* diag.c - the diagnostic list and its compiler-style printing. */
#include "plandag/diag.h"
#include "util/array.h"

#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

void pd_diag_list_init(pd_diag_list *l)
{
	memset(l, 0, sizeof(*l));
}

void pd_diag_list_release(pd_diag_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].message);
		free(l->items[i].fix);
	}
	free(l->items);
	pd_diag_list_init(l);
}

/* The per-rule counter of `rule`, added when new; NULL when the table is full. */
static pd_diag_rule_count *rule_count(pd_diag_list *l, const char *rule)
{
	for (size_t i = 0; i < l->n_rules; i++)
		if (l->rules[i].rule == rule || strcmp(l->rules[i].rule, rule) == 0)
			return &l->rules[i];
	if (l->n_rules == PD_DIAG_RULES_MAX)
		return NULL;
	l->rules[l->n_rules] = (pd_diag_rule_count){.rule = rule};
	return &l->rules[l->n_rules++];
}

pd_diag *pd_diag_add(pd_diag_list *l, const char *rule, pd_severity sev, long line,
                     int column, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pd_diag *d = pd_diag_addv(l, rule, sev, line, column, fmt, ap);
	va_end(ap);
	return d;
}

pd_diag *pd_diag_addv(pd_diag_list *l, const char *rule, pd_severity sev, long line,
                      int column, const char *fmt, va_list ap)
{
	if (sev == PD_ERROR)
		l->errors++;
	else if (sev == PD_WARNING)
		l->warnings++;
	pd_diag_rule_count *rc = rule_count(l, rule);
	if (rc && rc->kept >= PD_DIAG_PER_RULE_MAX) {
		rc->dropped++;
		rc->dropped_errors += sev == PD_ERROR;
		rc->dropped_warnings += sev == PD_WARNING;
		l->dropped++;
		return NULL;
	}
	if (pd_i_array_grow((void **)&l->items, &l->cap, l->n + 1, sizeof(*l->items)) != PD_OK)
		return NULL;
	char *msg = vformat(fmt, ap);
	if (!msg)
		return NULL;
	if (rc)
		rc->kept++;
	pd_diag *d = &l->items[l->n++];
	*d = (pd_diag){.rule = rule,
	               .severity = sev,
	               .line = line,
	               .column = column,
	               .message = msg,
	               .fix = NULL};
	return d;
}

void pd_diag_fix(pd_diag *d, const char *fmt, ...)
{
	if (!d)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *fix = vformat(fmt, ap);
	va_end(ap);
	free(d->fix);
	d->fix = fix;
}

static int diag_cmp(const void *pa, const void *pb)
{
	const pd_diag *a = pa, *b = pb;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->column != b->column)
		return a->column < b->column ? -1 : 1;
	return 0;
}

void pd_diag_list_sort(pd_diag_list *l)
{
	/* insertion sort: stable, and lists are short */
	for (size_t i = 1; i < l->n; i++) {
		pd_diag key = l->items[i];
		size_t j = i;
		while (j > 0 && diag_cmp(&l->items[j - 1], &key) > 0) {
			l->items[j] = l->items[j - 1];
			j--;
		}
		l->items[j] = key;
	}
}

bool pd_diag_list_has(const pd_diag_list *l, const char *rule)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].rule, rule) == 0)
			return true;
	return false;
}

void pd_diag_list_remove_rule(pd_diag_list *l, const char *rule)
{
	size_t out = 0;
	for (size_t i = 0; i < l->n; i++) {
		pd_diag *d = &l->items[i];
		if (strcmp(d->rule, rule) == 0) {
			if (d->severity == PD_ERROR)
				l->errors--;
			else if (d->severity == PD_WARNING)
				l->warnings--;
			free(d->message);
			free(d->fix);
			continue;
		}
		l->items[out++] = *d;
	}
	l->n = out;
	for (size_t i = 0; i < l->n_rules; i++) {
		pd_diag_rule_count *rc = &l->rules[i];
		if (strcmp(rc->rule, rule) == 0) {
			l->errors -= rc->dropped_errors;
			l->warnings -= rc->dropped_warnings;
			l->dropped -= rc->dropped;
			*rc = (pd_diag_rule_count){.rule = rc->rule};
		}
	}
}

bool pd_diag_list_keeps(const pd_diag_list *l, const char *rule)
{
	for (size_t i = 0; i < l->n_rules; i++)
		if (strcmp(l->rules[i].rule, rule) == 0)
			return l->rules[i].kept < PD_DIAG_PER_RULE_MAX;
	return true;
}

size_t pd_diag_list_dropped(const pd_diag_list *l, const char *rule)
{
	for (size_t i = 0; i < l->n_rules; i++)
		if (strcmp(l->rules[i].rule, rule) == 0)
			return l->rules[i].dropped;
	return 0;
}

const char *pd_severity_name(pd_severity s)
{
	switch (s) {
	case PD_ERROR:
		return "error";
	case PD_WARNING:
		return "warning";
	case PD_NOTE:
		return "note";
	}
	return "error";
}

void pd_diag_print(FILE *f, const char *file, const pd_diag *d)
{
	fputs(file ? file : "plandag", f);
	if (d->line > 0) {
		fprintf(f, ":%ld", d->line);
		if (d->column > 0)
			fprintf(f, ":%d", d->column);
	}
	fprintf(f, ": %s: %s [%s]\n", pd_severity_name(d->severity), d->message, d->rule);
	if (d->fix)
		fprintf(f, "    fix: %s\n", d->fix);
}

void pd_diag_list_print(FILE *f, const char *file, const pd_diag_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		pd_diag_print(f, file, &l->items[i]);
	for (size_t i = 0; i < l->n_rules; i++)
		if (l->rules[i].dropped > 0)
			fprintf(f, "%s: note: %zu more diagnostic(s) of this rule not shown [%s]\n",
			        file ? file : "plandag", l->rules[i].dropped, l->rules[i].rule);
}
