/* util.c - assertion failure, the int32 comparator and the id-range formatter. */
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pd_i_assert_fail(const char *cond, const char *file, int line, const char *func)
{
	fflush(stdout);
	fprintf(stderr, "plandag: internal error: %s:%d: %s: assertion `%s' failed\n", file,
	        line, func, cond);
	abort();
}

int pd_i_cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

size_t pd_i_format_ids(char *buf, size_t size, const int32_t *ids, uint32_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < n; i++) {
		uint32_t j = i;
		while (j + 1 < n && ids[j + 1] == ids[j] + 1)
			j++;
		char part[48];
		if (j > i)
			snprintf(part, sizeof(part), "%s%d-%d", i ? "," : "", (int)ids[i], (int)ids[j]);
		else
			snprintf(part, sizeof(part), "%s%d", i ? "," : "", (int)ids[i]);
		if (used + strlen(part) + 5 > size) {
			used += (size_t)snprintf(buf + used, size - used, ",...");
			return used < size ? used : size - 1;
		}
		used += (size_t)snprintf(buf + used, size - used, "%s", part);
		i = j;
	}
	return used;
}

double pd_i_nice_step(double span, int ticks)
{
	double raw = span / ticks, p = pow(10, floor(log10(raw))), m = raw / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}
