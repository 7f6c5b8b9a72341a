/* html_views.c - which GPUs and layers the page draws: one of each kind.
 *
 * A real deployment repeats itself: hundreds of GPUs hold the same operators, and most
 * layers are the same MoE layer.  Two units (GPUs, or layers at micro-batch 0 as the
 * layer view draws them) are of one kind when they hold the same number of nodes of
 * every node kind; the page draws the first unit of each kind and says how many it
 * stands for.
 */
#include <stdlib.h>
#include <string.h>

#include "export/html_internal.h"

static int32_t unit_count(const pd_dag *dag, int by_layer)
{
	if (!by_layer)
		return dag->n_gpus > 0 ? dag->n_gpus : 0;
	int32_t n = 0;
	for (uint32_t v = 0; v < dag->n_nodes; v++)
		if (dag->nodes[v].layer >= n)
			n = dag->nodes[v].layer + 1;
	return n;
}

/* The unit a node counts for, -1 when none. */
static int32_t unit_of(const pd_node *n, int by_layer, int32_t n_units)
{
	int32_t u = by_layer ? (n->micro_batch == 0 ? n->layer : -1) : n->gpu;
	return u >= 0 && u < n_units ? u : -1;
}

/* counts[u * PD_N__COUNT + kind]: nodes of that kind in unit u. */
static uint32_t *count_kinds(const pd_dag *dag, int by_layer, int32_t n_units)
{
	uint32_t *counts = calloc((size_t)n_units * PD_N__COUNT + 1, sizeof(uint32_t));
	if (!counts)
		return NULL;
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		const pd_node *n = &dag->nodes[v];
		int32_t u = unit_of(n, by_layer, n_units);
		if (u >= 0 && n->kind < PD_N__COUNT)
			counts[(size_t)u * PD_N__COUNT + n->kind]++;
	}
	return counts;
}

static int empty_row(const uint32_t *row)
{
	for (int i = 0; i < PD_N__COUNT; i++)
		if (row[i])
			return 0;
	return 1;
}

/* The kind of unit u: an earlier kind with the same counts, else a new one. */
static int32_t classify(pd_i_html_kinds *k, const uint32_t *counts, int32_t u)
{
	const size_t row = PD_N__COUNT * sizeof(uint32_t);
	const uint32_t *mine = counts + (size_t)u * PD_N__COUNT;
	if (empty_row(mine))
		return -1;
	for (int i = 0; i < k->n_kinds; i++)
		if (memcmp(counts + (size_t)k->rep[i] * PD_N__COUNT, mine, row) == 0) {
			k->members[i]++;
			return i;
		}
	if (k->n_kinds == PD_HTML_MAX_KINDS) {
		k->unclassified++;
		return -1;
	}
	k->rep[k->n_kinds] = u;
	k->members[k->n_kinds] = 1;
	return k->n_kinds++;
}

pd_status pd_i_html_kinds_compute(const pd_dag *dag, int by_layer, pd_i_html_kinds *k)
{
	memset(k, 0, sizeof(*k));
	k->n_units = unit_count(dag, by_layer);
	uint32_t *counts = count_kinds(dag, by_layer, k->n_units);
	k->kind_of = malloc(((size_t)k->n_units + 1) * sizeof(int32_t));
	if (!counts || !k->kind_of) {
		free(counts);
		pd_i_html_kinds_release(k);
		return PD_IO;
	}
	for (int32_t u = 0; u < k->n_units; u++)
		k->kind_of[u] = classify(k, counts, u);
	free(counts);
	return PD_OK;
}

void pd_i_html_kinds_release(pd_i_html_kinds *k)
{
	free(k->kind_of);
	k->kind_of = NULL;
	k->n_units = 0;
	k->n_kinds = 0;
}
