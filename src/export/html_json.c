/* html_json.c - the page's node table: what the details panel and the search know of
 * every node an embedded picture draws, keyed by the title Graphviz gives its
 * <g class="node"> ("n<ID>" for a DAG node, "gpu<G>" for a GPU of the overview).
 *
 * The titles are read back from the SVG itself, so the table holds exactly the nodes
 * the pictures show, however a view folds or names them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export/html_internal.h"

void pd_i_html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* Quotes, backslashes, control characters and < > & (never "</script>") escaped. */
void pd_i_html_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == '"' || *p == '\\' || *p == '<' || *p == '>' || *p == '&')
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* A number for JSON: finite doubles only (null otherwise). */
static void json_num(FILE *f, const char *key, double v)
{
	if (isfinite(v))
		fprintf(f, ",\"%s\":%.6g", key, v);
	else
		fprintf(f, ",\"%s\":null", key);
}

static void node_entry(FILE *f, const pd_dag *dag, uint32_t v)
{
	const pd_node *n = &dag->nodes[v];
	const pd_cost *c = n->cost < dag->n_costs ? &dag->costs[n->cost] : NULL;
	const char *kind = pd_node_kind_name((pd_node_kind)n->kind);
	char label[128];
	pd_node_label(dag, v, label, sizeof(label));
	fprintf(f, "\"n%u\":{\"k\":", v);
	pd_i_html_json_str(f, kind ? kind : "?");
	fputs(",\"lb\":", f);
	pd_i_html_json_str(f, label);
	fprintf(f, ",\"g\":%d,\"r\":%d,\"s\":%d,\"l\":%d,\"mb\":%d,\"e\":%d", (int)n->gpu,
	        (int)n->replica, (int)n->stage, (int)n->layer, (int)n->micro_batch,
	        n->kind == PD_N_COLLECTIVE ? -1 : (int)n->expert);
	json_num(f, "f", c ? c->flops : 0);
	json_num(f, "b", c ? c->bytes : 0);
	json_num(f, "t", c ? c->us : 0);
	fputc('}', f);
}

static void gpu_entry(FILE *f, const pd_dag *dag, int32_t g)
{
	const pd_dag_gpu *d = dag->gpu ? &dag->gpu[g] : NULL;
	fprintf(f, "\"gpu%d\":{\"k\":\"gpu\",\"g\":%d,\"r\":%d,\"s\":%d", (int)g, (int)g,
	        d ? (int)d->replica : -1, d ? (int)d->stage : -1);
	json_num(f, "mem", d ? d->memory : 0);
	json_num(f, "cap", dag->gpu_capacity);
	fputc('}', f);
}

/* The number after `prefix` in a title ending at `end`, -1 when it is not one. */
static int64_t title_id(const char *t, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);
	if ((size_t)(end - t) <= n || (size_t)(end - t) > n + 10 || strncmp(t, prefix, n) != 0)
		return -1;
	int64_t v = 0;
	for (const char *p = t + n; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

/* Writes the entry of one title unless already seen; returns whether it wrote one. */
static int title_entry(FILE *f, const pd_dag *dag, const char *t, const char *end,
                       uint8_t *seen, int first)
{
	int64_t v = title_id(t, end, "n"), g = title_id(t, end, "gpu");
	size_t slot;
	if (v >= 0 && v < dag->n_nodes)
		slot = (size_t)v;
	else if (g >= 0 && g < dag->n_gpus)
		slot = (size_t)dag->n_nodes + (size_t)g;
	else
		return 0;
	if (seen[slot])
		return 0;
	seen[slot] = 1;
	if (!first)
		fputc(',', f);
	if (v >= 0 && v < dag->n_nodes)
		node_entry(f, dag, (uint32_t)v);
	else
		gpu_entry(f, dag, (int32_t)g);
	return 1;
}

size_t pd_i_html_node_table(FILE *f, const pd_dag *dag, const char *svg, uint8_t *seen)
{
	static const char mark[] = "class=\"node\">";
	long start = ftell(f);
	int first = 1;
	fputc('{', f);
	for (const char *p = strstr(svg, mark); p; p = strstr(p, mark)) {
		p += sizeof(mark) - 1;
		const char *t = strstr(p, "<title>");
		const char *end = t ? strstr(t, "</title>") : NULL;
		if (!end)
			break;
		t += 7;
		if (title_entry(f, dag, t, end, seen, first))
			first = 0;
		p = end;
	}
	fputc('}', f);
	long stop = ftell(f);
	return start >= 0 && stop >= start ? (size_t)(stop - start) : 0;
}
