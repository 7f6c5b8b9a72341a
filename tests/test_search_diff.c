/* test_search_diff.c - pd_text_unified_diff against the real /usr/bin/diff -u.
 *
 * Pairs of texts go to temporary files; diff -u runs on them as a subprocess and its
 * hunks (everything after the two header lines, whose timestamps differ) must be the
 * same bytes as ours.  Where several shortest scripts exist (repeated lines) only the
 * numbers of removed and added lines are compared with diff --minimal, and our output
 * is applied to the first text as a patch: it must give the second exactly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "plandag/search.h"
#include "testutil.h"

typedef struct text {
	char *s;
	size_t n;
} text;

/* Our diff of a and b as a string; *hunks the return value. */
static text ours(const char *a, size_t an, const char *b, size_t bn, int *hunks)
{
	text t = {0};
	FILE *f = open_memstream(&t.s, &t.n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	*hunks = pd_text_unified_diff(a, an, b, bn, "A", "B", f);
	CU_ASSERT_EQUAL(fclose(f), 0);
	return t;
}

static void write_bytes(const char *path, const char *s, size_t n)
{
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(s, 1, n, f), n);
	CU_ASSERT_EQUAL(fclose(f), 0);
}

/* /usr/bin/diff -u (and opt, may be NULL) of the two texts, its two header lines off. */
static char *theirs(const char *a, size_t an, const char *b, size_t bn, const char *opt)
{
	const char *dir = pd_test_tmpdir("search_diff");
	const char *pa = pd_test_join(dir, "A"), *pb = pd_test_join(dir, "B");
	write_bytes(pa, a, an);
	write_bytes(pb, b, bn);
	pd_run_result r;
	const char *argv[] = {"/usr/bin/diff", "-u", opt ? opt : pa, opt ? pa : pb,
	                      opt ? pb : NULL, NULL};
	int st = pd_run(&r, argv);
	CU_ASSERT(st == 0 || st == 1);
	char *hunks = strdup(st == 0 ? "" : strchr(strchr(r.out, '\n') + 1, '\n') + 1);
	pd_run_release(&r);
	return hunks;
}

/* Ours and diff's agree byte for byte (after the headers); returns our hunk count. */
static int same_as_diff(const char *a, const char *b)
{
	int hunks;
	text t = ours(a, strlen(a), b, strlen(b), &hunks);
	char *d = theirs(a, strlen(a), b, strlen(b), NULL);
	if (hunks == 0) {
		CU_ASSERT_EQUAL(t.n, 0);
		CU_ASSERT_STRING_EQUAL(d, "");
	} else {
		CU_ASSERT_EQUAL_FATAL(strncmp(t.s, "--- A\n+++ B\n", 12), 0);
		if (strcmp(t.s + 12, d) != 0)
			fprintf(stderr, "\nours:\n%s\ndiff:\n%s\n", t.s + 12, d);
		CU_ASSERT_STRING_EQUAL(t.s + 12, d);
		int n = 0;
		for (const char *s = d; (s = strstr(s, "@@ -")) != NULL; s += 4)
			n++;
		CU_ASSERT_EQUAL(hunks, n);
	}
	free(t.s);
	free(d);
	return hunks;
}

/* ---- applying our output as a patch ---- */

typedef struct lines {
	const char **p;
	size_t *len;
	size_t n;
} lines;

static lines split(const char *s, size_t n)
{
	lines l = {malloc((n + 1) * sizeof(char *)), malloc((n + 1) * sizeof(size_t)), 0};
	CU_ASSERT_FATAL(l.p && l.len);
	for (size_t i = 0, start = 0; i < n; i++)
		if (s[i] == '\n' || i + 1 == n) {
			l.p[l.n] = s + start;
			l.len[l.n++] = i + 1 - start;
			start = i + 1;
		}
	return l;
}

static void append(text *out, const char *p, size_t n)
{
	memcpy(out->s + out->n, p, n);
	out->n += n;
}

/* One hunk line of the patch applied; false when it does not fit a. */
static bool apply_line(const lines *pl, size_t *k, const lines *al, size_t *ai, text *out)
{
	const char *p = pl->p[*k];
	size_t n = pl->len[*k];
	bool last_nl = *k + 1 < pl->n && pl->p[*k + 1][0] == '\\';
	size_t body = n - 1 - (last_nl ? 1 : 0); /* without sign, and without '\n' at EOF */
	(*k)++;
	if (last_nl)
		(*k)++;
	if (p[0] == '+') {
		append(out, p + 1, body);
		return true;
	}
	bool fits = *ai < al->n && al->len[*ai] == body && memcmp(al->p[*ai], p + 1, body) == 0;
	if (fits && p[0] == ' ')
		append(out, p + 1, body);
	(*ai)++;
	return fits;
}

/* a with patch applied, or NULL when the patch does not fit a. */
static char *apply(const char *a, size_t an, const char *patch, size_t pn, size_t *out_n)
{
	lines al = split(a, an), pl = split(patch, pn);
	text out = {malloc(an + pn + 1), 0};
	size_t ai = 0, k = pn ? 2 : 0;
	bool ok = true;
	while (ok && k < pl.n) {
		ok = strncmp(pl.p[k], "@@ -", 4) == 0;
		char *e;
		long as = strtol(pl.p[k] + 4, &e, 10),
		     count = *e == ',' ? strtol(e + 1, NULL, 10) : 1;
		/* an empty side names the line before */
		size_t start = count == 0 ? (size_t)as : (size_t)as - 1;
		for (; ok && ai < start && ai < al.n; ai++)
			append(&out, al.p[ai], al.len[ai]);
		for (k++; ok && k < pl.n && pl.p[k][0] != '@';)
			ok = apply_line(&pl, &k, &al, &ai, &out);
	}
	for (; ai < al.n; ai++)
		append(&out, al.p[ai], al.len[ai]);
	free(al.p), free(al.len), free(pl.p), free(pl.len);
	*out_n = out.n;
	if (!ok)
		free(out.s);
	return ok ? out.s : NULL;
}

/* Our output turns a into b; returns the number of removed + added lines. */
static long patch_gives(const char *a, size_t an, const char *b, size_t bn)
{
	int hunks;
	text t = ours(a, an, b, bn, &hunks);
	CU_ASSERT(hunks >= 0);
	CU_ASSERT_EQUAL(hunks == 0, an == bn && memcmp(a, b, an) == 0);
	size_t n;
	char *r = apply(a, an, t.s, t.n, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(n, bn);
	CU_ASSERT(n == bn && memcmp(r, b, bn) == 0);
	long changes = 0;
	for (size_t i = 0; i + 1 < t.n; i++)
		if (t.s[i] == '\n' && (t.s[i + 1] == '-' || t.s[i + 1] == '+'))
			changes++;
	free(r);
	free(t.s);
	return changes - (hunks > 0 ? 1 : 0); /* the "+++" header */
}

/* ---- tests ---- */

static void diff_should_say_nothing_for_identical_texts(void)
{
	int hunks = 7;
	text t = ours("a\nb\n", 4, "a\nb\n", 4, &hunks);
	CU_ASSERT_EQUAL(hunks, 0);
	CU_ASSERT_EQUAL(t.n, 0);
	free(t.s);
	t = ours("", 0, "", 0, &hunks);
	CU_ASSERT_EQUAL(hunks, 0);
	CU_ASSERT_EQUAL(t.n, 0);
	free(t.s);
	CU_ASSERT_EQUAL(same_as_diff("x\ny\nz", "x\ny\nz"), 0);
}

static void diff_should_match_diff_at_the_start_middle_and_end(void)
{
	const char *a =
	    "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n";
	CU_ASSERT_EQUAL(
	    same_as_diff(a, "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n"
	                    "17\n18\n19\n20\n"),
	    1);
	CU_ASSERT_EQUAL(
	    same_as_diff(a, "2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n"
	                    "19\n20\n"),
	    1);
	CU_ASSERT_EQUAL(
	    same_as_diff(a, "1\n2\n3\n4\n5\n6\n7\n8\n9\nten\n11\n12\n13\n14\n15\n16\n17\n"
	                    "18\n19\n20\n"),
	    1);
	CU_ASSERT_EQUAL(
	    same_as_diff(a, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n"
	                    "18\n19\n20\n21\n"),
	    1);
	CU_ASSERT_EQUAL(
	    same_as_diff(a, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n"
	                    "18\n19\n"),
	    1);
	/* changes 6 unchanged lines apart share a hunk, 7 apart do not */
	CU_ASSERT_EQUAL(
	    same_as_diff(a, "1\nB\n3\n4\n5\n6\n7\n8\n9\nI\n11\n12\n13\n14\n15\n16\n17\n"
	                    "18\n19\n20\n"),
	    2);
	CU_ASSERT_EQUAL(
	    same_as_diff(a, "1\nB\n3\n4\n5\n6\n7\n8\nI\n10\n11\n12\n13\n14\n15\n16\n17\n"
	                    "18\n19\n20\n"),
	    1);
	CU_ASSERT_EQUAL(
	    same_as_diff(a, "1\nB\n3\n4\n5\n6\n7\nH\n9\n10\n11\n12\n13\n14\n15\n16\n17\n"
	                    "18\n19\nT\n"),
	    2);
	CU_ASSERT_EQUAL(same_as_diff("", "a\nb\n"), 1);
	CU_ASSERT_EQUAL(same_as_diff("a\nb\n", ""), 1);
	CU_ASSERT_EQUAL(same_as_diff("a\n", "b\n"), 1);
	CU_ASSERT_EQUAL(same_as_diff("x\na\ny\n", "x\nb\ny\n"), 1);
}

static void diff_should_say_when_a_side_has_no_newline_at_the_end(void)
{
	CU_ASSERT_EQUAL(same_as_diff("a\nb\nc", "a\nb\nc\n"), 1);
	CU_ASSERT_EQUAL(same_as_diff("a\nb\nc\n", "a\nb\nc"), 1);
	CU_ASSERT_EQUAL(same_as_diff("a\nb\nc", "a\nb\nd"), 1);
	CU_ASSERT_EQUAL(same_as_diff("a\nb\nc", "a\nB\nc"), 1);
	CU_ASSERT_EQUAL(same_as_diff("x", ""), 1);
	CU_ASSERT_EQUAL(same_as_diff("", "x"), 1);
	int hunks;
	text t = ours("a\nb", 3, "a\nc", 3, &hunks);
	CU_ASSERT_PTR_NOT_NULL(strstr(t.s,
	                              "-b\n\\ No newline at end of file\n+c\n\\ No newline at "
	                              "end of file\n"));
	free(t.s);
}

static void diff_should_match_diff_on_the_suggested_plan(void)
{
	const char *rel = "examples/moe-10b-multiplicative.xml";
	size_t len;
	char *orig = pd_test_read_file(pd_test_path(rel), &len);
	pd_plan *p = NULL;
	pd_diag_list dl;
	pd_diag_list_init(&dl);
	pd_plan_parse_memory(orig, len, rel, &p, &dl);
	pd_diag_list_release(&dl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	pd_choice c = {.dp = 1, .pp = 2, .tp = 1, .dense_tp = 1, .ep = 16, .micro_batches = 4};
	char *s = pd_search_plan_xml(p, orig, len, &c, "fewest GPUs", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(same_as_diff(orig, s), 1); /* workload and strategy: 2 lines apart */
	CU_ASSERT_EQUAL(same_as_diff(s, orig), 1);
	free(s);
	pd_plan_destroy(p);
	free(orig);
}

/* xorshift: the same pseudo-random texts on every run */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return *s;
}

/* A text of n lines drawn from `alphabet` distinct words (or all distinct: 0). */
static char *random_text(uint64_t *seed, size_t n, unsigned alphabet, size_t *len)
{
	char *t = malloc(n * 24 + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t w = alphabet ? rnd(seed) % alphabet : rnd(seed);
		k += (size_t)sprintf(t + k, "w%llx\n", (unsigned long long)w);
	}
	*len = k;
	return t;
}

/* b: a with some lines dropped, replaced or new ones put in (rate: 1 in `every`). */
static char *mutate(uint64_t *seed, const char *a, size_t an, unsigned every, size_t *len)
{
	char *b = malloc(an * 3 + 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	size_t k = 0;
	for (const char *s = a; s < a + an;) {
		const char *e = memchr(s, '\n', (size_t)(a + an - s));
		size_t n = e ? (size_t)(e - s) + 1 : (size_t)(a + an - s);
		uint64_t r = rnd(seed) % (3 * every);
		if (r == 1 || r == 2)
			k += (size_t)sprintf(b + k, "new%llx\n", (unsigned long long)(rnd(seed) % 97));
		if (r != 0 && r != 2) {
			memcpy(b + k, s, n);
			k += n;
		}
		s += n;
	}
	*len = k;
	return b;
}

static void diff_should_match_diff_on_random_pairs(void)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 30; round++) {
		size_t an, bn;
		/* distinct lines: one shortest script, the same bytes as diff */
		char *a = random_text(&seed, 5 + rnd(&seed) % 80, 0, &an);
		char *b = mutate(&seed, a, an, 4 + round % 6, &bn);
		a[an] = 0, b[bn] = 0;
		same_as_diff(a, b);
		free(a), free(b);
		/* repeated lines: as short as diff --minimal, and a patch that works */
		a = random_text(&seed, 5 + rnd(&seed) % 120, 6, &an);
		b = mutate(&seed, a, an, 3, &bn);
		if (round % 3 == 0)
			an--; /* no newline at the end */
		long ch = patch_gives(a, an, b, bn);
		char *d = theirs(a, an, b, bn, "--minimal");
		long dch = 0;
		for (const char *s = d; *s;
		     s = strchr(s, '\n') ? strchr(s, '\n') + 1 : s + strlen(s))
			dch += *s == '-' || *s == '+';
		CU_ASSERT_EQUAL(ch, dch);
		free(d), free(a), free(b);
	}
}

static long max_rss_kb(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_maxrss;
}

/* 2 x 300 000 lines with 20 000 scattered changes: past the middle snake's cut-off, so
 * parts are split at a guess; the patch still gives b, about as short as diff's, in
 * memory of the order of the inputs. */
static void diff_should_stay_correct_and_bounded_on_a_large_pair(void)
{
	uint64_t seed = 42;
	size_t an, bn;
	char *a = random_text(&seed, 300000, 5000, &an);
	char *b = mutate(&seed, a, an, 20, &bn);
	long before = max_rss_kb();
	int hunks;
	text t = ours(a, an, b, bn, &hunks);
	long grown_kb = max_rss_kb() - before;
	CU_ASSERT(hunks > 100);
	/* lines 2 x 300 000 x (24 + 1) B, V arrays 2 x 600 000 x 8 B, the output ~ 2 x input */
	CU_ASSERT(grown_kb < 160 * 1024);
	size_t n;
	char *r = apply(a, an, t.s, t.n, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT(n == bn && memcmp(r, b, bn) == 0);
	/* coarser where the search stopped, but not much longer than diff's own */
	long ch = 0, dch = 0;
	for (const char *s = t.s; s; s = strchr(s + 1, '\n'))
		ch += s[1] == '-' || s[1] == '+';
	char *d = theirs(a, an, b, bn, NULL);
	for (const char *s = d - 1; s; s = strchr(s + 1, '\n'))
		dch += s[1] == '-' || s[1] == '+';
	CU_ASSERT(ch - 2 < dch + dch / 2);
	free(d), free(r), free(t.s), free(a), free(b);
}

/* Two large texts with nothing in common: the budget runs out and the diff is every
 * line removed, then every line added; one hunk, still a correct patch. */
static void diff_should_write_a_hopeless_pair_coarse(void)
{
	uint64_t seed = 7;
	size_t an, bn;
	char *a = random_text(&seed, 200000, 0, &an);
	char *b = random_text(&seed, 200000, 0, &bn);
	int hunks;
	text t = ours(a, an, b, bn, &hunks);
	CU_ASSERT_EQUAL(hunks, 1);
	const char *head = "--- A\n+++ B\n@@ -1,200000 +1,200000 @@\n-w";
	CU_ASSERT_EQUAL(strncmp(t.s, head, strlen(head)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(t.s, "\n-w"));             /* removals ... */
	CU_ASSERT_PTR_NULL(strstr(strstr(t.s, "\n+w"), "\n-w")); /* ... all before additions */
	size_t n;
	char *r = apply(a, an, t.s, t.n, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT(n == bn && memcmp(r, b, bn) == 0);
	free(r), free(t.s), free(a), free(b);
}

static void diff_should_report_a_write_error(void)
{
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	CU_ASSERT_EQUAL(pd_text_unified_diff("a\n", 2, "b\n", 2, "A", "B", f), -1);
	fclose(f);
}

static CU_TestInfo tests[] = {
    {"diff_should_say_nothing_for_identical_texts",
     diff_should_say_nothing_for_identical_texts},
    {"diff_should_match_diff_at_the_start_middle_and_end",
     diff_should_match_diff_at_the_start_middle_and_end},
    {"diff_should_say_when_a_side_has_no_newline_at_the_end",
     diff_should_say_when_a_side_has_no_newline_at_the_end},
    {"diff_should_match_diff_on_the_suggested_plan",
     diff_should_match_diff_on_the_suggested_plan},
    {"diff_should_match_diff_on_random_pairs", diff_should_match_diff_on_random_pairs},
    {"diff_should_stay_correct_and_bounded_on_a_large_pair",
     diff_should_stay_correct_and_bounded_on_a_large_pair},
    {"diff_should_write_a_hopeless_pair_coarse", diff_should_write_a_hopeless_pair_coarse},
    {"diff_should_report_a_write_error", diff_should_report_a_write_error},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"search_diff", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
