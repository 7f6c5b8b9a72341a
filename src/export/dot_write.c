/* dot_write.c - writes a graph of pd_i_dot_build as DOT text, in linear time.
 *
 * Graphviz 2.42's agwrite tests, for every node and every edge of a graph, each of its
 * subgraphs in turn (is the node written there? is the edge?), so a root with one
 * cluster per replica costs nodes x replicas: 15 s for 4096 GPUs, minutes for 16 K.
 * The graphs of dot.c have a simple shape: every node lies in one chain of nested
 * clusters and every edge at the root.  This writer finds each node's innermost
 * cluster once and prints the same text as agwrite, byte for byte: the same nesting,
 * order (subgraphs in creation order, then the nodes of a cluster by sequence, then
 * the root's edges by tail and creation), attribute lists and quoting (agstrcanon).  A
 * graph of another shape (a node at the root, an edge inside a subgraph) goes to
 * agwrite.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "util/array.h"

typedef struct writer {
	FILE *f;
	Agraph_t *root;
	Agraph_t **owner; /* innermost subgraph of each node, by AGSEQ */
	int *depth;
	size_t n_seq;
	PD_VEC(char) buf; /* agstrcanon's output */
	pd_status status; /* PD_IO once buf could not grow */
} writer;

static void indent(writer *w, int level)
{
	for (int i = 0; i < level; i++)
		fputc('\t', w->f);
}

/* s as agwrite prints it: bare when it is an ID or a number, else quoted. */
static void put_canon(writer *w, char *s)
{
	size_t need = 3 * strlen(s) + 16; /* escapes, line breaks, quotes */
	if (PD_VEC_RESERVE(&w->buf, need) != PD_OK) {
		w->status = PD_IO;
		return;
	}
	fputs(agstrcanon(s, w->buf.v), w->f);
}

static void put_attr(writer *w, char *name, char *value)
{
	put_canon(w, name);
	fputc('=', w->f);
	put_canon(w, value);
}

/* "graph [a=1,\n\tb=2\n];" for the symbols of one dictionary (agwrite's write_dict). */
static void write_dict(writer *w, const char *kind, Dict_t *dict, int top, int level)
{
	Dict_t *view = top ? NULL : dtview(dict, NULL);
	int cnt = 0;
	for (Agsym_t *sym = dtfirst(dict); sym; sym = dtnext(dict, sym)) {
		if (!*sym->defval && !sym->print) {
			Agsym_t *p = view ? dtsearch(view, sym) : NULL;
			if (!p || (!*p->defval && p->print))
				continue;
		}
		if (cnt++ == 0)
			indent(w, level), fprintf(w->f, "%s [", kind);
		else
			fputs(",\n", w->f), indent(w, level + 1);
		put_attr(w, sym->name, sym->defval);
	}
	if (cnt > 1)
		fputc('\n', w->f), indent(w, level);
	if (cnt > 0)
		fputs("];\n", w->f);
	if (!top)
		dtview(dict, view);
}

static void write_dicts(writer *w, Agraph_t *g, int top, int level)
{
	Agdatadict_t *dd = (Agdatadict_t *)aggetrec(g, "_AG_datadict", 0);
	if (!dd)
		return;
	write_dict(w, "graph", dd->dict.g, top, level);
	write_dict(w, "node", dd->dict.n, top, level);
	write_dict(w, "edge", dd->dict.e, top, level);
}

/* "\t[a=1,\n\tb=2]": the attributes of obj that differ from their default. */
static void write_attrs(writer *w, void *obj, int kind, int level)
{
	int cnt = 0;
	for (Agsym_t *sym = agnxtattr(w->root, kind, NULL); sym;
	     sym = agnxtattr(w->root, kind, sym)) {
		char *v = agxget(obj, sym);
		if (v == sym->defval || (kind == AGEDGE && (strcmp(sym->name, "tailport") == 0 ||
		                                            strcmp(sym->name, "headport") == 0)))
			continue;
		if (cnt++ == 0)
			fputs("\t[", w->f);
		else
			fputs(",\n", w->f), indent(w, level + 1);
		put_attr(w, sym->name, v);
	}
	if (cnt > 0)
		fputc(']', w->f);
}

static void write_graph(writer *w, Agraph_t *g, int level)
{
	int top = g == w->root;
	indent(w, level);
	fputs(top ? "digraph " : "subgraph ", w->f);
	put_canon(w, agnameof(g));
	fputs(" {\n", w->f);
	write_dicts(w, g, top, level + 1);
	for (Agraph_t *s = agfstsubg(g); s; s = agnxtsubg(s))
		write_graph(w, s, level + 1);
	for (Agnode_t *n = agfstnode(g); n; n = agnxtnode(g, n)) {
		if (w->owner[AGSEQ(n)] != g)
			continue;
		indent(w, level + 1);
		put_canon(w, agnameof(n));
		write_attrs(w, n, AGNODE, level + 1);
		fputs(";\n", w->f);
	}
	for (Agnode_t *n = top ? agfstnode(g) : NULL; n; n = agnxtnode(g, n))
		for (Agedge_t *e = agfstout(g, n); e; e = agnxtout(g, e)) {
			indent(w, 1);
			put_canon(w, agnameof(agtail(e)));
			fputs(" -> ", w->f);
			put_canon(w, agnameof(aghead(e)));
			write_attrs(w, e, AGEDGE, 1);
			fputs(";\n", w->f);
		}
	indent(w, level);
	fputs("}\n", w->f);
}

/* Records the innermost subgraph of every node; false when the graph has an edge in a
 * subgraph (a shape this writer does not handle, with simple_shape's). */
static bool find_owners(writer *w, Agraph_t *g, int depth)
{
	if (g != w->root && agnedges(g) > 0)
		return false;
	for (Agnode_t *n = agfstnode(g); n; n = agnxtnode(g, n)) {
		if ((size_t)AGSEQ(n) >= w->n_seq)
			return false;
		if (w->depth[AGSEQ(n)] < depth) {
			w->depth[AGSEQ(n)] = depth;
			w->owner[AGSEQ(n)] = g;
		}
	}
	for (Agraph_t *s = agfstsubg(g); s; s = agnxtsubg(s))
		if (!find_owners(w, s, depth + 1))
			return false;
	return true;
}

static int simple_shape(writer *w)
{
	for (Agnode_t *n = agfstnode(w->root); n; n = agnxtnode(w->root, n)) {
		if (w->owner[AGSEQ(n)] == w->root)
			return 0;
		for (Agedge_t *e = agfstout(w->root, n); e; e = agnxtout(w->root, e)) {
			char *name = agnameof(e);
			if (name && *name)
				return 0;
		}
	}
	return agisdirected(w->root) && !agisstrict(w->root);
}

pd_status pd_i_dot_write(Agraph_t *g, FILE *f)
{
	writer w = {.f = f, .root = g};
	int max_seq = 0;
	for (Agnode_t *n = agfstnode(g); n; n = agnxtnode(g, n))
		if (AGSEQ(n) > max_seq)
			max_seq = AGSEQ(n);
	w.n_seq = (size_t)max_seq + 1;
	w.owner = calloc(w.n_seq, sizeof(Agraph_t *));
	w.depth = calloc(w.n_seq, sizeof(int));
	pd_status s = PD_IO;
	if (w.owner && w.depth) {
		if (find_owners(&w, g, 0) && simple_shape(&w)) {
			write_graph(&w, g, 0);
			s = w.status == PD_OK && !ferror(f) ? PD_OK : PD_IO;
		} else {
			s = agwrite(g, f) == 0 ? PD_OK : PD_IO;
		}
	}
	free(w.buf.v);
	free(w.owner);
	free(w.depth);
	return s;
}
