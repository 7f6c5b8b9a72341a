/* diff.c - a unified diff of two texts (pd_text_unified_diff), for `suggest --diff`.
 *
 * Lines (with their '\n') are compared by hash, length and bytes.  The edit script is
 * Myers' O(ND) algorithm in its linear-space form ("An O(ND) Difference Algorithm and Its
 * Variations", 1986, section 4b): find the middle snake of the shortest edit script by
 * running the search from both ends, split there and recurse, the common prefix and
 * suffix of every part taken off first.  Memory: the lines, two marks and two V arrays,
 * O(N + M).  Time: a middle snake further than D = max(256, sqrt(N + M)) rounded up to a
 * power of two is not searched for: the part is split at the furthest point either
 * search reached (shortest up to there, perhaps not overall); and every step counts
 * against a budget of BUDGET_BASE + BUDGET_PER_LINE x (N + M), past which a part still
 * to be solved is written as removed and added whole.  Both give a correct diff, only a
 * longer one; below those bounds it is the shortest.
 *
 * Output as `diff -u` writes it: "--- a" / "+++ b" (no timestamps), hunks of the changes
 * with 3 lines of context, merged when at most 6 unchanged lines separate them, removed
 * lines before added ones, "\ No newline at end of file" after a last line without one.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plandag/search.h"

#define CONTEXT 3
#define BUDGET_BASE ((int64_t)1 << 26)
#define BUDGET_PER_LINE 64

typedef struct line {
	const char *p;
	size_t len; /* with the '\n', when there is one */
	uint64_t hash;
} line;

typedef struct side {
	line *l;
	size_t n;
	bool *changed; /* removed (a) or added (b) */
} side;

typedef struct differ {
	side a, b;
	int64_t *v1, *v2; /* forward and reverse furthest x per diagonal */
	int64_t reach;    /* the diagonals -reach..reach of this search are set */
	int64_t budget;   /* steps left */
} differ;

static uint64_t hash_of(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

/* The lines of text; false when out of memory. */
static bool split_lines(const char *t, size_t len, side *s)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += t[i] == '\n';
	n += len > 0 && t[len - 1] != '\n';
	s->l = malloc((n ? n : 1) * sizeof(*s->l));
	s->changed = calloc(n ? n : 1, sizeof(*s->changed));
	if (!s->l || !s->changed)
		return false;
	size_t k = 0, start = 0;
	for (size_t i = 0; i < len; i++)
		if (t[i] == '\n' || i + 1 == len) {
			s->l[k++] = (line){t + start, i + 1 - start, hash_of(t + start, i + 1 - start)};
			start = i + 1;
		}
	s->n = k;
	return true;
}

static bool same(const line *x, const line *y)
{
	return x->hash == y->hash && x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

/* ---- the edit script ---- */

/* Everything of a[a0, a1) removed, of b[b0, b1) added. */
static void coarse(differ *d, int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
	for (int64_t i = a0; i < a1; i++)
		d->a.changed[i] = true;
	for (int64_t j = b0; j < b1; j++)
		d->b.changed[j] = true;
}

/* One step of the forward search on diagonal k (the offset o of the V arrays); returns
 * x of the furthest point reached. */
static int64_t forward(differ *d, int64_t k, int64_t dd, int64_t o, int64_t a0, int64_t b0,
                       int64_t n, int64_t m)
{
	int64_t *v = d->v1, x;
	if (k == -dd || (k != dd && v[o + k - 1] < v[o + k + 1]))
		x = v[o + k + 1];
	else
		x = v[o + k - 1] + 1;
	int64_t y = x - k;
	while (x < n && y < m && same(&d->a.l[a0 + x], &d->b.l[b0 + y]))
		x++, y++, d->budget--;
	v[o + k] = x;
	return x;
}

/* The same from the ends: x counts lines taken off the end of a. */
static int64_t reverse(differ *d, int64_t k, int64_t dd, int64_t o, int64_t a1, int64_t b1,
                       int64_t n, int64_t m)
{
	int64_t *v = d->v2, x;
	if (k == -dd || (k != dd && v[o + k - 1] < v[o + k + 1]))
		x = v[o + k + 1];
	else
		x = v[o + k - 1] + 1;
	int64_t y = x - k;
	while (x < n && y < m && same(&d->a.l[a1 - x - 1], &d->b.l[b1 - y - 1]))
		x++, y++, d->budget--;
	v[o + k] = x;
	return x;
}

/* The furthest point of the searches so far, when the middle snake costs too much:
 * forward (x, y) or, from the end, (n - x, m - y), whichever has come further; false
 * when it would not split the part. */
static bool best_guess(const differ *d, int64_t o, int64_t lim, int64_t n, int64_t m,
                       int64_t *sx, int64_t *sy)
{
	int64_t best = 0;
	for (int64_t k = -lim; k <= lim; k++) {
		int64_t x1 = d->v1[o + k], y1 = x1 - k, x2 = d->v2[o + k], y2 = x2 - k;
		if (x1 >= 0 && x1 <= n && y1 >= 0 && y1 <= m && x1 + y1 > best)
			best = x1 + y1, *sx = x1, *sy = y1;
		if (x2 >= 0 && x2 <= n && y2 >= 0 && y2 <= m && x2 + y2 > best)
			best = x2 + y2, *sx = n - x2, *sy = m - y2;
	}
	return best > 0 && best < n + m;
}

/* The forward half of round dd: true with (*sx, *sy) when it meets the reverse search. */
static bool forward_round(differ *d, int64_t dd, int64_t o, int64_t a0, int64_t b0,
                          int64_t n, int64_t m, int64_t *klo, int64_t *khi, int64_t *sx,
                          int64_t *sy)
{
	int64_t delta = n - m, r = d->reach;
	for (int64_t k = -dd + *klo; k <= dd - *khi; k += 2) {
		int64_t x = forward(d, k, dd, o, a0, b0, n, m), y = x - k, k2 = delta - k;
		if (x > n)
			*khi += 2;
		else if (y > m)
			*klo += 2;
		else if ((delta & 1) && k2 >= -r && k2 <= r && d->v2[o + k2] >= 0 &&
		         x >= n - d->v2[o + k2]) {
			*sx = x, *sy = y;
			return true;
		}
	}
	return false;
}

static bool reverse_round(differ *d, int64_t dd, int64_t o, int64_t a1, int64_t b1,
                          int64_t n, int64_t m, int64_t *klo, int64_t *khi, int64_t *sx,
                          int64_t *sy)
{
	int64_t delta = n - m, r = d->reach;
	for (int64_t k = -dd + *klo; k <= dd - *khi; k += 2) {
		int64_t x = reverse(d, k, dd, o, a1, b1, n, m), y = x - k, k1 = delta - k;
		if (x > n)
			*khi += 2;
		else if (y > m)
			*klo += 2;
		else if (!(delta & 1) && k1 >= -r && k1 <= r && d->v1[o + k1] >= 0 &&
		         d->v1[o + k1] >= n - x) {
			*sx = d->v1[o + k1], *sy = d->v1[o + k1] - k1;
			return true;
		}
	}
	return false;
}

/* The middle snake of a[a0, a0 + n) against b[b0, b0 + m): true and the point (*sx, *sy)
 * (relative) where the halves meet.  Past d = lim the best guess instead (GNU diff's
 * "too expensive" cut-off does the same); false when the budget ran out. */
static bool middle(differ *d, int64_t a0, int64_t b0, int64_t n, int64_t m, int64_t *sx,
                   int64_t *sy)
{
	int64_t max_d = (n + m + 1) / 2, o = max_d + 1, lim = 256;
	while (lim * lim < n + m)
		lim *= 2;
	/* only the diagonals this search can reach: a part split off a large one costs
	 * its own size, not the whole's */
	d->reach = (lim < max_d ? lim : max_d) + 1;
	for (int64_t i = o - d->reach; i <= o + d->reach; i++)
		d->v1[i] = d->v2[i] = -1;
	d->budget -= 2 * d->reach;
	d->v1[o + 1] = d->v2[o + 1] = 0;
	int64_t k1lo = 0, k1hi = 0, k2lo = 0, k2hi = 0;
	for (int64_t dd = 0; dd <= max_d && d->budget > 0; dd++) {
		if (dd > lim)
			return best_guess(d, o, lim < max_d ? lim : max_d, n, m, sx, sy);
		d->budget -= 2 * dd + 1;
		if (forward_round(d, dd, o, a0, b0, n, m, &k1lo, &k1hi, sx, sy) ||
		    reverse_round(d, dd, o, a0 + n, b0 + m, n, m, &k2lo, &k2hi, sx, sy))
			return true;
	}
	return false;
}

/* The script of a[a0, a1) against b[b0, b1) into the marks: a loop over the second
 * half, recursion on the first (the recursion is as deep as D halves). */
static void solve(differ *d, int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
	for (;;) {
		while (a0 < a1 && b0 < b1 && same(&d->a.l[a0], &d->b.l[b0]))
			a0++, b0++;
		while (a0 < a1 && b0 < b1 && same(&d->a.l[a1 - 1], &d->b.l[b1 - 1]))
			a1--, b1--;
		int64_t x = 0, y = 0;
		if (a0 == a1 || b0 == b1 || d->budget <= 0 ||
		    !middle(d, a0, b0, a1 - a0, b1 - b0, &x, &y) || (x == 0 && y == 0) ||
		    (x == a1 - a0 && y == b1 - b0)) {
			coarse(d, a0, a1, b0, b1);
			return;
		}
		solve(d, a0, a0 + x, b0, b0 + y);
		a0 += x, b0 += y;
	}
}

/* ---- the unified format ---- */

/* The script as ops ' ' (both), '-' (a only), '+' (b only): removals first in each run
 * of changes, as diff does.  *n_ops their number; NULL when out of memory. */
static char *script(const differ *d, size_t *n_ops)
{
	char *ops = malloc(d->a.n + d->b.n + 1);
	if (!ops)
		return NULL;
	size_t i = 0, j = 0, k = 0;
	while (i < d->a.n || j < d->b.n) {
		if (i < d->a.n && d->a.changed[i])
			ops[k++] = '-', i++;
		else if (j < d->b.n && d->b.changed[j])
			ops[k++] = '+', j++;
		else
			ops[k++] = ' ', i++, j++;
	}
	*n_ops = k;
	return ops;
}

/* "-l,n" as diff writes it: a lone line without its count, an empty side at the line
 * before. */
static bool range(FILE *f, char sign, int64_t start, int64_t n)
{
	if (n == 1)
		return fprintf(f, "%c%lld", sign, (long long)(start + 1)) > 0;
	return fprintf(f, "%c%lld,%lld", sign, (long long)(n ? start + 1 : start),
	               (long long)n) > 0;
}

static bool put_line(FILE *f, char sign, const line *l)
{
	bool ok = fputc(sign, f) != EOF && fwrite(l->p, 1, l->len, f) == l->len;
	if (l->len == 0 || l->p[l->len - 1] != '\n')
		ok = ok && fputs("\n\\ No newline at end of file\n", f) != EOF;
	return ok;
}

/* Where the hunk around the change at ops[c] ends: 3 lines after its last change, taking
 * in every change at most 6 unchanged lines further. */
static size_t hunk_end(const char *ops, size_t n_ops, size_t c)
{
	size_t last = c;
	for (size_t k = c; k < n_ops; k++) {
		if (ops[k] != ' ')
			last = k;
		else if (k - last > 2 * CONTEXT)
			break;
	}
	return last + CONTEXT + 1 < n_ops ? last + CONTEXT + 1 : n_ops;
}

/* Ops [s, e) as one hunk; a0 and b0 are the lines of both sides before ops[s]. */
static bool hunk(const differ *d, FILE *f, const char *ops, size_t s, size_t e, int64_t a0,
                 int64_t b0, int64_t *na, int64_t *nb)
{
	*na = *nb = 0;
	for (size_t k = s; k < e; k++)
		*na += ops[k] != '+', *nb += ops[k] != '-';
	bool ok = fputs("@@ ", f) != EOF && range(f, '-', a0, *na) && fputc(' ', f) != EOF &&
	          range(f, '+', b0, *nb) && fputs(" @@\n", f) != EOF;
	int64_t i = a0, j = b0;
	for (size_t k = s; k < e && ok; k++) {
		if (ops[k] == '+')
			ok = put_line(f, '+', &d->b.l[j++]);
		else if (ops[k] == '-')
			ok = put_line(f, '-', &d->a.l[i++]);
		else
			ok = put_line(f, ' ', &d->a.l[i++]), j++;
	}
	return ok;
}

/* The hunks of the script; their number, -1 on a write error. */
static int write_hunks(const differ *d, const char *ops, size_t n_ops, const char *a_name,
                       const char *b_name, FILE *f)
{
	int hunks = 0;
	size_t i = 0; /* ops before i are written (or need no writing) */
	int64_t ai = 0, bj = 0;
	for (;;) {
		size_t c = i;
		while (c < n_ops && ops[c] == ' ')
			c++;
		if (c == n_ops)
			return hunks;
		if (hunks == 0 && fprintf(f, "--- %s\n+++ %s\n", a_name, b_name) < 0)
			return -1;
		size_t s = c - i > CONTEXT ? c - CONTEXT : i, e = hunk_end(ops, n_ops, c);
		int64_t a0 = ai + (int64_t)(s - i), b0 = bj + (int64_t)(s - i), na, nb;
		if (!hunk(d, f, ops, s, e, a0, b0, &na, &nb))
			return -1;
		hunks++;
		i = e, ai = a0 + na, bj = b0 + nb;
	}
}

int pd_text_unified_diff(const char *a, size_t a_len, const char *b, size_t b_len,
                         const char *a_name, const char *b_name, FILE *f)
{
	differ d = {0};
	int result = -1;
	char *ops = NULL;
	if (!split_lines(a ? a : "", a ? a_len : 0, &d.a) ||
	    !split_lines(b ? b : "", b ? b_len : 0, &d.b))
		goto done;
	size_t v = 2 * ((d.a.n + d.b.n + 1) / 2 + 1) + 1;
	d.v1 = malloc(v * sizeof(*d.v1));
	d.v2 = malloc(v * sizeof(*d.v2));
	if (!d.v1 || !d.v2)
		goto done;
	d.budget = BUDGET_BASE + BUDGET_PER_LINE * (int64_t)(d.a.n + d.b.n);
	solve(&d, 0, (int64_t)d.a.n, 0, (int64_t)d.b.n);
	size_t n_ops;
	ops = script(&d, &n_ops);
	if (ops)
		result =
		    write_hunks(&d, ops, n_ops, a_name ? a_name : "a", b_name ? b_name : "b", f);
done:
	free(ops);
	free(d.v1), free(d.v2);
	free(d.a.l), free(d.a.changed), free(d.b.l), free(d.b.changed);
	return result;
}
