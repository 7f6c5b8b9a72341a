/* test_docs.c - the user documentation in docs/ against the code: every rule id of
 * include/plandag/diag.h has its section in docs/rules.md, every element and attribute
 * of schemas/plan.xsd its row in docs/plan-format.md, and nothing a user reads (README,
 * docs, installed headers and schemas, the binary's texts) refers to a file outside the
 * repository. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *read_rel(const char *rel)
{
	char *text = pd_test_read_file(pd_test_path(rel), NULL);
	if (!text)
		fprintf(stderr, "\ncannot read %s\n", rel);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	return text;
}

/* The quoted value after `key` at p, copied into out; returns the end or NULL. */
static const char *quoted_after(const char *p, const char *key, char *out, size_t cap)
{
	const char *at = strstr(p, key);
	if (!at)
		return NULL;
	at += strlen(key);
	size_t n = strcspn(at, "\"");
	snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), at);
	return at + n;
}

static void rules_doc_should_describe_every_rule_id(void)
{
	char *diag = read_rel("include/plandag/diag.h");
	char *doc = read_rel("docs/rules.md");
	int n = 0;
	char id[64], heading[96];
	for (const char *p = diag; (p = quoted_after(p, "#define PD_RULE_", id, sizeof(id)));) {
		p = quoted_after(p, "\"", id, sizeof(id));
		if (!p)
			break;
		snprintf(heading, sizeof(heading), "## `%s`", id);
		if (!strstr(doc, heading))
			fprintf(stderr, "\ndocs/rules.md has no section %s\n", heading);
		CU_ASSERT_PTR_NOT_NULL(strstr(doc, heading));
		n++;
	}
	CU_ASSERT_TRUE(n >= 19);
	free(diag);
	free(doc);
}

/* The section of doc that starts with "## `<element>`", up to the next "## ". */
static char *section(const char *doc, const char *element)
{
	char heading[96];
	snprintf(heading, sizeof(heading), "## `<%s>`", element);
	const char *s = strstr(doc, heading);
	if (!s)
		return NULL;
	const char *e = strstr(s + 3, "\n## ");
	size_t n = e ? (size_t)(e - s) : strlen(s);
	char *out = malloc(n + 1);
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

static void check_attributes(const char *xsd_elem, const char *end, const char *name,
                             const char *sec, int *n)
{
	char attr[64], row[96];
	for (const char *p = xsd_elem; (p = strstr(p, "<xs:attribute name=\"")) && p < end;) {
		p = quoted_after(p, "name=\"", attr, sizeof(attr));
		snprintf(row, sizeof(row), "| `%s` |", attr);
		if (!sec || !strstr(sec, row))
			fprintf(stderr, "\ndocs/plan-format.md: <%s> lacks the row %s\n", name, row);
		CU_ASSERT_TRUE(sec && strstr(sec, row));
		(*n)++;
	}
}

static void format_doc_should_describe_every_element_and_attribute(void)
{
	char *xsd = read_rel("schemas/plan.xsd");
	char *doc = read_rel("docs/plan-format.md");
	int elements = 0, attributes = 0;
	char name[64];
	for (const char *p = xsd; (p = strstr(p, "\n  <xs:element name=\""));) {
		p = quoted_after(p, "name=\"", name, sizeof(name));
		const char *end = strstr(p, "</xs:element>");
		CU_ASSERT_PTR_NOT_NULL_FATAL(end);
		char *sec = section(doc, name);
		if (!sec)
			fprintf(stderr, "\ndocs/plan-format.md has no section ## `<%s>`\n", name);
		CU_ASSERT_PTR_NOT_NULL(sec);
		check_attributes(p, end, name, sec, &attributes);
		free(sec);
		elements++;
	}
	CU_ASSERT_EQUAL(elements, 12);
	CU_ASSERT_TRUE(attributes >= 40);
	free(xsd);
	free(doc);
}

static int mentions_outside(const char *text)
{
	return strstr(text, "../shared") || strstr(text, "DESIGN");
}

static void user_facing_text_should_refer_only_to_the_repository(void)
{
	const char *files[] = {
	    "README.md",
	    "docs/plan-format.md",
	    "docs/rules.md",
	    "docs/pools.md",
	    "docs/gpus.md",
	    "schemas/plan.xsd",
	    "schemas/graphml.xsd",
	    "include/plandag/plandag.h",
	    "include/plandag/plan.h",
	    "include/plandag/diag.h",
	    "include/plandag/dag.h",
	    "include/plandag/export.h",
	    "include/plandag/emit.h",
	    "include/plandag/atomic_file.h",
	    "include/plandag/cleanup.h",
	    "include/plandag/units.h",
	    "include/plandag/status.h",
	    "include/plandag/analysis.h",
	    "include/plandag/pipeline.h",
	    "include/plandag/report.h",
	    "include/plandag/arena.h",
	    "include/plandag/suggest.h",
	    "examples/embed/embed.c",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *t = read_rel(files[i]);
		if (mentions_outside(t))
			fprintf(stderr, "\n%s refers to a file outside the repository\n", files[i]);
		CU_ASSERT_FALSE(mentions_outside(t));
		free(t);
	}
	/* the binary's own texts: messages, help, man page */
	size_t len = 0;
	char *bin = pd_test_read_file(PD_BINARY, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bin);
	CU_ASSERT_PTR_NULL(memmem(bin, len, "DESIGN", 6));
	CU_ASSERT_PTR_NULL(memmem(bin, len, "../shared", 9));
	free(bin);
}

static CU_TestInfo tests[] = {
    {"rules_doc_should_describe_every_rule_id", rules_doc_should_describe_every_rule_id},
    {"format_doc_should_describe_every_element_and_attribute",
     format_doc_should_describe_every_element_and_attribute},
    {"user_facing_text_should_refer_only_to_the_repository",
     user_facing_text_should_refer_only_to_the_repository},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"docs", NULL, NULL, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

PD_TEST_MAIN(suites)
