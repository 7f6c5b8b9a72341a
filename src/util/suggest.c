/* suggest.c - optimal string alignment distance, bounded by PD_SUGGEST_MAX_DISTANCE. */
#include "plandag/suggest.h"

#include <string.h>

#define MAX_LEN 64

static int fold(char c)
{
	if (c == '_')
		return '-';
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int same(char a, char b)
{
	return fold(a) == fold(b);
}

static int min3(int a, int b, int c)
{
	int m = a < b ? a : b;
	return m < c ? m : c;
}

/* Edit distance with adjacent transpositions (Damerau, optimal string alignment). */
static int distance(const char *a, size_t na, const char *b, size_t nb)
{
	int d[MAX_LEN + 1][MAX_LEN + 1];
	for (size_t i = 0; i <= na; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= nb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= na; i++) {
		for (size_t j = 1; j <= nb; j++) {
			int cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
			d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return d[na][nb];
}

const char *pd_suggest(const char *word, const char *const *names, size_t n)
{
	size_t nw = word ? strlen(word) : 0;
	if (nw == 0 || nw > MAX_LEN)
		return NULL;
	const char *best = NULL;
	int best_d = PD_SUGGEST_MAX_DISTANCE + 1;
	for (size_t i = 0; i < n; i++) {
		size_t nn = strlen(names[i]);
		if (nn > MAX_LEN || (nn > nw ? nn - nw : nw - nn) > PD_SUGGEST_MAX_DISTANCE)
			continue;
		if (strcmp(word, names[i]) == 0)
			return NULL;
		int d = distance(word, nw, names[i], nn);
		if (d < best_d && d < (int)(nn > nw ? nn : nw)) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}
