/* units.c - numbers, sizes, bandwidths, ranges and id lists of the plan format.
 *
 * Every parser is strict: the whole string must match, nothing is skipped, and every
 * arithmetic step is checked so that a value too large is an error, never a wrap.
 */
#include "plandag/units.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads decimal digits at *p into a non-negative int64; false on none or overflow. */
static bool read_digits(const char **p, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;
	if (!is_digit(*s))
		return false;
	for (; is_digit(*s); s++) {
		int d = *s - '0';
		if (v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return true;
}

bool pd_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (!s)
		return false;
	bool neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	int64_t v;
	if (!read_digits(&s, &v) || *s != '\0')
		return false;
	if (neg)
		v = -v; /* INT64_MIN itself is out of reach: its magnitude overflows */
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Length of the number at s: digits, optional fraction, optional exponent; 0 if none. */
static size_t number_span(const char *s)
{
	const char *p = s;
	if (!is_digit(*p))
		return 0;
	while (is_digit(*p))
		p++;
	if (*p == '.') {
		if (!is_digit(p[1]))
			return 0;
		for (p++; is_digit(*p); p++)
			;
	}
	if (*p == 'e' || *p == 'E') {
		const char *q = p + 1;
		if (*q == '+' || *q == '-')
			q++;
		if (!is_digit(*q))
			return 0;
		while (is_digit(*q))
			q++;
		p = q;
	}
	return (size_t)(p - s);
}

/* Converts the number of n characters at s; false when not finite. */
static bool convert_number(const char *s, size_t n, double *out)
{
	char buf[64];
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	double v = strtod(buf, NULL);
	if (!isfinite(v) || v < 0)
		return false;
	*out = v;
	return true;
}

bool pd_parse_number(const char *s, double *out)
{
	if (!s)
		return false;
	size_t n = number_span(s);
	if (n == 0 || s[n] != '\0')
		return false;
	return convert_number(s, n, out);
}

static const struct unit {
	const char *name;
	double factor;
} units[] = {
    {"B", 1.0},         {"KB", 1e3},           {"MB", 1e6},
    {"GB", 1e9},        {"TB", 1e12},          {"KiB", 1024.0},
    {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
};

/* A number followed by an optional byte unit and then exactly `tail`. */
static bool parse_quantity(const char *s, const char *tail, double *out)
{
	if (!s)
		return false;
	size_t n = number_span(s);
	double v;
	if (n == 0 || !convert_number(s, n, &v))
		return false;
	const char *u = s + n;
	double factor = 1.0;
	size_t ulen = 0;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t l = strlen(units[i].name);
		if (strncmp(u, units[i].name, l) == 0 && strcmp(u + l, tail) == 0) {
			factor = units[i].factor;
			ulen = l;
		}
	}
	if (strcmp(u + ulen, tail) != 0)
		return false;
	v *= factor;
	if (!isfinite(v))
		return false;
	*out = v;
	return true;
}

bool pd_parse_size(const char *s, double *bytes)
{
	return parse_quantity(s, "", bytes);
}

/* "3.35TB/s", "450GB/s", "1e9/s" or a bare number of bytes per second. */
bool pd_parse_bandwidth(const char *s, double *bytes_per_s)
{
	if (s && number_span(s) == strlen(s))
		return pd_parse_number(s, bytes_per_s);
	return parse_quantity(s, "/s", bytes_per_s);
}

/* One "a" or "a-b" item at *p; advances past it. */
static bool read_range(const char **p, int64_t *first, int64_t *last)
{
	if (!read_digits(p, first))
		return false;
	*last = *first;
	if (**p == '-') {
		(*p)++;
		if (!read_digits(p, last))
			return false;
	}
	return *first <= *last;
}

bool pd_parse_range(const char *s, int64_t *first, int64_t *last)
{
	if (!s)
		return false;
	int64_t a, b;
	if (!read_range(&s, &a, &b) || *s != '\0')
		return false;
	*first = a;
	*last = b;
	return true;
}

/* Counts the ids of a list, checking syntax, bounds and the count limit. */
static bool count_ids(const char *s, int64_t max_id, uint32_t max_count, uint32_t *n)
{
	uint64_t total = 0;
	for (;;) {
		int64_t a, b;
		if (!read_range(&s, &a, &b) || b > max_id)
			return false;
		total += (uint64_t)(b - a) + 1; /* b <= max_id keeps this from wrapping */
		if (total > max_count)
			return false;
		if (*s == '\0')
			break;
		if (*s++ != ',')
			return false;
	}
	*n = (uint32_t)total;
	return true;
}

/* True when some id appears twice (sorts a scratch copy). */
static bool has_duplicates(const int32_t *ids, uint32_t n)
{
	if (n < 2)
		return false;
	int32_t *tmp = malloc((size_t)n * sizeof(*tmp));
	if (!tmp)
		return true; /* treated as malformed; only under memory exhaustion */
	memcpy(tmp, ids, (size_t)n * sizeof(*tmp));
	qsort(tmp, n, sizeof(*tmp), pd_i_cmp_i32);
	bool dup = false;
	for (uint32_t i = 1; i < n && !dup; i++)
		dup = tmp[i] == tmp[i - 1];
	free(tmp);
	return dup;
}

bool pd_parse_id_list(pd_arena *a, const char *s, int64_t max_id, uint32_t max_count,
                      int32_t **ids, uint32_t *n)
{
	uint32_t count;
	if (!s || max_id > INT32_MAX || !count_ids(s, max_id, max_count, &count))
		return false;
	int32_t *out = pd_arena_calloc(a, count, sizeof(*out));
	if (!out)
		return false;
	uint32_t k = 0;
	for (const char *p = s;;) {
		int64_t first, last;
		read_range(&p, &first, &last);
		for (int64_t id = first; id <= last; id++)
			out[k++] = (int32_t)id;
		if (*p++ == '\0')
			break;
	}
	if (has_duplicates(out, count))
		return false;
	*ids = out;
	*n = count;
	return true;
}

void pd_i_format_bytes(double b, char *buf, size_t size)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	int u = 0;
	double v = b;
	while (fabs(v) >= 1000.0 && u < 6) {
		v /= 1000.0;
		u++;
	}
	if (!isfinite(v))
		snprintf(buf, size, "n/a");
	else if (fabs(v) >= 1e6) /* beyond the units: short, never a truncated number */
		snprintf(buf, size, "%.3g %s", v, units[u]);
	else
		snprintf(buf, size, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
}
