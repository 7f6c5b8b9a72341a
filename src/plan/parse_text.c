/* parse_text.c - element columns from the source text.
 *
 * libxml2 records the line of an element but not its column, so the column of the
 * element's '<' is found by looking for `<name` on that line.
 */
#include "plan/plan_internal.h"

#include <stdlib.h>
#include <string.h>

bool pd_i_text_init(pd_i_text *t, const char *buf, size_t len)
{
	memset(t, 0, sizeof(*t));
	t->buf = buf;
	t->len = len;
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	t->line_start = malloc(lines * sizeof(*t->line_start));
	if (!t->line_start)
		return false;
	t->line_start[0] = 0;
	t->n_lines = 1;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			t->line_start[t->n_lines++] = i + 1;
	return true;
}

void pd_i_text_release(pd_i_text *t)
{
	free(t->line_start);
	t->line_start = NULL;
}

/* True when `<name` starts at p and the name ends there. */
static bool tag_at(const pd_i_text *t, size_t p, const char *name, size_t n)
{
	if (t->buf[p] != '<' || p + 1 + n > t->len || memcmp(t->buf + p + 1, name, n) != 0)
		return false;
	if (p + 1 + n == t->len)
		return true;
	char c = t->buf[p + 1 + n];
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/' || c == '>';
}

/* Line (1-based) holding offset p. */
static long line_of(const pd_i_text *t, size_t p)
{
	long lo = 0, hi = t->n_lines - 1;
	while (lo < hi) {
		long mid = (lo + hi + 1) / 2;
		if (t->line_start[mid] <= p)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo + 1;
}

/* Offset of the `<name` that starts the element reported on `line`: libxml2 gives the
 * line where the start tag ends, so the tag starts on or before it.  In document order
 * the first match after the previous element is it; otherwise the last one before the
 * end of the line.  Returns t->len when there is none. */
static size_t find_tag(const pd_i_text *t, long line, const char *name, bool in_order,
                       size_t cursor)
{
	size_t n = strlen(name);
	size_t end = line < t->n_lines ? t->line_start[line] : t->len;
	if (in_order) {
		for (size_t p = cursor; p < end; p++)
			if (tag_at(t, p, name, n))
				return p;
		return t->len;
	}
	size_t stop = end > 65536 ? end - 65536 : 0; /* no start tag is that long */
	for (size_t p = end; p-- > stop;)
		if (tag_at(t, p, name, n))
			return p;
	return t->len;
}

long pd_i_text_line(const pd_i_text *t, size_t offset)
{
	return line_of(t, offset);
}

pd_loc pd_i_text_loc(pd_i_text *t, const xmlNode *n, bool in_order)
{
	pd_loc at = {xmlGetLineNo(n), 0};
	if (at.line < 1 || at.line > t->n_lines || !n->name)
		return at;
	size_t p = find_tag(t, at.line, (const char *)n->name, in_order, t->cursor);
	if (p == t->len)
		return at;
	at.line = line_of(t, p);
	at.column = (int)(p - t->line_start[at.line - 1] + 1);
	if (in_order)
		t->cursor = p + 1;
	return at;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* True when attribute `name` (n bytes) followed by optional blanks and '=' starts at p,
 * preceded by a blank. */
static bool attr_at(const pd_i_text *t, size_t p, const char *name, size_t n)
{
	if (p == 0 || !blank(t->buf[p - 1]) || p + n > t->len ||
	    memcmp(t->buf + p, name, n) != 0)
		return false;
	size_t q = p + n;
	while (q < t->len && blank(t->buf[q]))
		q++;
	return q < t->len && t->buf[q] == '=';
}

pd_loc pd_i_text_attr_loc(const pd_i_text *t, pd_loc element, const char *name)
{
	if (element.line < 1 || element.line > t->n_lines || element.column < 1)
		return element;
	size_t n = strlen(name);
	char quote = 0;
	for (size_t p = t->line_start[element.line - 1] + (size_t)element.column;
	     p < t->len && (quote || t->buf[p] != '>'); p++) {
		if (quote) {
			quote = t->buf[p] == quote ? 0 : quote;
			continue;
		}
		if (t->buf[p] == '"' || t->buf[p] == '\'') {
			quote = t->buf[p];
			continue;
		}
		if (!attr_at(t, p, name, n))
			continue;
		long line = line_of(t, p);
		return (pd_loc){line, (int)(p - t->line_start[line - 1] + 1)};
	}
	return element;
}
