/* timeline.c - `--emit timeline`: the rows of the Gantt chart of the schedule.
 *
 * The nodes of every GPU (hubs aside) are gathered in id order; GPUs whose sequences of
 * (kind, stream, start, end) are equal are folded into one group drawn once from its
 * first GPU ("GPU 0-7 (×8)"); each group gets a row per stream it uses.  The critical
 * path's nodes are marked, on a folded group at their place on its first GPU.  A pooled
 * plan's groups come pool by pool (GPUs of different pools never fold together), each
 * pool under a heading.  All of it linear in the DAG but for a sort of the GPUs by their
 * sequence's hash.
 */
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "export/timeline.h"

/* ---- nodes by GPU ---- */

static pd_status gather(pd_i_timeline *t, const uint8_t *keep)
{
	const pd_dag *d = t->dag;
	size_t ng = d->n_gpus > 0 ? (size_t)d->n_gpus : 0;
	t->gpu_off = calloc(ng + 1, sizeof(uint32_t));
	t->gpu_nodes = malloc((d->n_nodes ? d->n_nodes : 1) * sizeof(uint32_t));
	t->critical = calloc(d->n_nodes ? d->n_nodes : 1, 1);
	if (!t->gpu_off || !t->gpu_nodes || !t->critical)
		return PD_IO;
	for (uint32_t v = 0; v < d->n_nodes; v++) {
		int32_t g = d->nodes[v].gpu;
		if (g >= 0 && (size_t)g < ng && (!keep || keep[v]))
			t->gpu_off[g + 1]++;
	}
	for (size_t g = 0; g < ng; g++)
		t->gpu_off[g + 1] += t->gpu_off[g];
	uint32_t *fill = malloc((ng ? ng : 1) * sizeof(uint32_t));
	if (!fill)
		return PD_IO;
	memcpy(fill, t->gpu_off, ng * sizeof(uint32_t));
	for (uint32_t v = 0; v < d->n_nodes; v++) {
		int32_t g = d->nodes[v].gpu;
		if (g >= 0 && (size_t)g < ng && (!keep || keep[v]))
			t->gpu_nodes[fill[g]++] = v;
	}
	free(fill);
	return PD_OK;
}

/* ---- folding identical GPUs ---- */

typedef struct gpu_key {
	uint64_t hash;
	int32_t gpu;
} gpu_key;

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0x100000001b3ull;
}

static uint64_t bits(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof(u));
	return u;
}

static uint64_t gpu_hash(const pd_i_timeline *t, int32_t g)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (uint32_t i = t->gpu_off[g]; i < t->gpu_off[g + 1]; i++) {
		uint32_t v = t->gpu_nodes[i];
		h = mix(h, (uint64_t)t->dag->nodes[v].kind << 8 | pd_node_stream(t->dag, v));
		h = mix(mix(h, bits(t->s.start_us[v])), bits(t->s.end_us[v]));
	}
	return h;
}

static int same_gpu(const pd_i_timeline *t, int32_t a, int32_t b)
{
	uint32_t n = t->gpu_off[a + 1] - t->gpu_off[a];
	if (n != t->gpu_off[b + 1] - t->gpu_off[b] ||
	    pd_dag_gpu_pool(t->dag, a) != pd_dag_gpu_pool(t->dag, b))
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t u = t->gpu_nodes[t->gpu_off[a] + i], v = t->gpu_nodes[t->gpu_off[b] + i];
		if (t->dag->nodes[u].kind != t->dag->nodes[v].kind ||
		    pd_node_stream(t->dag, u) != pd_node_stream(t->dag, v) ||
		    t->s.start_us[u] != t->s.start_us[v] || t->s.end_us[u] != t->s.end_us[v])
			return 0;
	}
	return 1;
}

static int cmp_key(const void *a, const void *b)
{
	const gpu_key *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return (x->gpu > y->gpu) - (x->gpu < y->gpu);
}

/* Appends ", a" or ", a-b" (no comma first) for a run of members, then "…" once when
 * the label is full (*full). */
static size_t put_run(char *buf, size_t len, size_t size, int32_t a, int32_t b, int *full)
{
	const char *sep = len > 4 ? ", " : "";
	if (*full)
		return len;
	if (len + 28 > size) {
		*full = 1;
		return len + (size_t)snprintf(buf + len, size - len, "%s\u2026", sep);
	}
	if (a == b)
		return len + (size_t)snprintf(buf + len, size - len, "%s%d", sep, (int)a);
	return len + (size_t)snprintf(buf + len, size - len, "%s%d-%d", sep, (int)a, (int)b);
}

/* "GPU 3", "GPU 0-7 (×8)", "GPU 0-2, 29-31 (×6)": the runs of consecutive members. */
static void group_label(pd_i_tl_group *gr, const int32_t *group_of, int32_t n_gpus,
                        uint32_t id)
{
	char *buf = gr->label;
	size_t size = sizeof(gr->label), len = (size_t)snprintf(buf, size, "GPU ");
	int32_t a = -1, b = -1;
	int full = 0;
	for (int32_t g = gr->rep; g < n_gpus; g++) {
		if (group_of[g] != (int32_t)id)
			continue;
		if (a >= 0 && g == b + 1) {
			b = g;
			continue;
		}
		if (a >= 0)
			len = put_run(buf, len, size, a, b, &full);
		a = b = g;
	}
	len = put_run(buf, len, size, a, b, &full);
	if (gr->count > 1)
		snprintf(buf + len, size - len, " (\u00d7%u)", gr->count);
}

/* Numbers the groups by their first GPU, pool by pool (a plan without pools: one pass
 * over "pool" -1); counts the pools that head a run of groups. */
static void number_groups(pd_i_timeline *t, const int32_t *rep_of, int32_t *group_of)
{
	int32_t ng = t->dag->n_gpus, passes = (int32_t)t->dag->n_pools + 1;
	for (int32_t pass = 0; pass < passes; pass++) {
		int32_t pool = pass < (int32_t)t->dag->n_pools ? pass : -1;
		uint32_t before = t->n_groups;
		for (int32_t g = 0; g < ng; g++) {
			if (pd_dag_gpu_pool(t->dag, g) != pool)
				continue;
			if (rep_of[g] == g) {
				group_of[g] = (int32_t)t->n_groups;
				t->groups[t->n_groups++] =
				    (pd_i_tl_group){.rep = g, .count = 1, .pool = pool};
			} else if (rep_of[g] >= 0) {
				group_of[g] = group_of[rep_of[g]];
				t->groups[group_of[g]].count++;
			}
		}
		t->pool_heads += pool >= 0 && t->n_groups > before;
	}
}

/* group_of[g]: the group of GPU g (groups numbered by their first GPU), -1 when g shows
 * no node.  Equal hashes are compared node by node. */
static pd_status fold(pd_i_timeline *t, int32_t *group_of)
{
	int32_t ng = t->dag->n_gpus;
	gpu_key *k = malloc((ng > 0 ? (size_t)ng : 1) * sizeof(gpu_key));
	int32_t *rep_of = malloc((ng > 0 ? (size_t)ng : 1) * sizeof(int32_t));
	if (!k || !rep_of) {
		free(k);
		free(rep_of);
		return PD_IO;
	}
	int32_t n = 0;
	for (int32_t g = 0; g < ng; g++) {
		rep_of[g] = group_of[g] = -1;
		if (t->gpu_off[g + 1] > t->gpu_off[g])
			k[n++] = (gpu_key){gpu_hash(t, g), g};
	}
	qsort(k, (size_t)n, sizeof(gpu_key), cmp_key);
	for (int32_t i = 0; i < n; i++) {
		int32_t g = k[i].gpu;
		for (int32_t j = i - 1; j >= 0 && k[j].hash == k[i].hash && rep_of[g] < 0; j--)
			if (rep_of[k[j].gpu] == k[j].gpu && same_gpu(t, k[j].gpu, g))
				rep_of[g] = k[j].gpu;
		if (rep_of[g] < 0)
			rep_of[g] = g;
	}
	free(k);
	t->groups = malloc((ng > 0 ? (size_t)ng : 1) * sizeof(pd_i_tl_group));
	if (!t->groups) {
		free(rep_of);
		return PD_IO;
	}
	number_groups(t, rep_of, group_of);
	for (uint32_t i = 0; i < t->n_groups; i++)
		group_label(&t->groups[i], group_of, ng, i);
	free(rep_of);
	return PD_OK;
}

/* ---- rows, legend, critical path ---- */

/* A row per stream a group's first GPU uses, compute first; the kinds drawn. */
static pd_status make_rows(pd_i_timeline *t)
{
	t->rows = malloc((2 * (size_t)t->n_groups + 1) * sizeof(pd_i_tl_row));
	if (!t->rows)
		return PD_IO;
	for (uint32_t i = 0; i < t->n_groups; i++) {
		int32_t g = t->groups[i].rep;
		unsigned streams = 0;
		for (uint32_t k = t->gpu_off[g]; k < t->gpu_off[g + 1]; k++) {
			uint32_t v = t->gpu_nodes[k];
			pd_stream st = pd_node_stream(t->dag, v);
			streams |= st < PD_STREAM_NONE ? 1u << st : 0;
			t->kinds |= 1u << t->dag->nodes[v].kind;
		}
		for (unsigned st = PD_STREAM_COMPUTE; st <= PD_STREAM_COMM; st++)
			if (streams & (1u << st))
				t->rows[t->n_rows++] = (pd_i_tl_row){i, (uint8_t)st};
	}
	return PD_OK;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Marks each critical node at its place in the sequence of its group's first GPU. */
static void mark_critical(pd_i_timeline *t, const int32_t *group_of,
                          const pd_critical_path *cp)
{
	for (uint32_t i = 0; cp && i < cp->n; i++) {
		uint32_t v = cp->nodes[i];
		int32_t g = v < t->dag->n_nodes ? t->dag->nodes[v].gpu : -1;
		if (g < 0 || g >= t->dag->n_gpus || group_of[g] < 0)
			continue;
		const uint32_t *base = t->gpu_nodes + t->gpu_off[g];
		const uint32_t *at =
		    bsearch(&v, base, t->gpu_off[g + 1] - t->gpu_off[g], sizeof(uint32_t), cmp_u32);
		int32_t r = t->groups[group_of[g]].rep;
		if (at)
			t->critical[t->gpu_nodes[t->gpu_off[r] + (uint32_t)(at - base)]] = 1;
	}
}

pd_status pd_i_timeline_build(const pd_dag *dag, const pd_view *view,
                              const pd_critical_path *cp, pd_i_timeline *t)
{
	memset(t, 0, sizeof(*t));
	t->dag = dag;
	uint8_t *keep = NULL;
	int32_t *group_of =
	    malloc((dag->n_gpus > 0 ? (size_t)dag->n_gpus : 1) * sizeof(int32_t));
	pd_status s = group_of ? pd_i_schedule_select(dag, view, &keep) : PD_IO;
	if (s == PD_OK && (s = pd_dag_schedule(dag, &t->s)) == PD_OK)
		t->makespan_us = t->s.makespan_us;
	if (s == PD_OK)
		s = gather(t, keep);
	if (s == PD_OK)
		s = fold(t, group_of);
	if (s == PD_OK)
		s = make_rows(t);
	if (s == PD_OK)
		mark_critical(t, group_of, cp);
	free(keep);
	free(group_of);
	if (s != PD_OK)
		pd_i_timeline_release(t);
	return s;
}

void pd_i_timeline_release(pd_i_timeline *t)
{
	pd_schedule_release(&t->s);
	free(t->gpu_off);
	free(t->gpu_nodes);
	free(t->critical);
	free(t->groups);
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

pd_status pd_i_timeline_check(const pd_dag *dag, const pd_view *view, pd_diag_list *diags)
{
	pd_i_timeline t;
	PD_CHECK(pd_i_timeline_build(dag, view, NULL, &t));
	uint32_t rows = t.n_rows;
	pd_i_timeline_release(&t);
	if (rows <= PD_TIMELINE_MAX_ROWS)
		return PD_OK;
	char suffix[32] = "";
	if (pd_i_view_selects(view))
		pd_view_suffix(view, suffix, sizeof(suffix));
	pd_diag *d =
	    pd_diag_add(diags, PD_RULE_USAGE, PD_ERROR, 0, 0,
	                "timeline of view '%s' would draw %u rows of GPUs that differ, "
	                "above the limit of %u",
	                suffix[0] ? suffix + 1 : "full", rows, PD_TIMELINE_MAX_ROWS);
	pd_diag_fix(d, "pick a part with --view stage=S, gpu=G or layer=L (or --emit without "
	               "timeline)");
	return PD_USAGE;
}
