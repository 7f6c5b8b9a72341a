/* fold.c - the overview of a big deployment draws repeated structure once.
 *
 * The overview has one node per GPU; 1024 replicas of 8 GPUs are 8192 nodes, more than a
 * picture can hold (above PD_I_OVERVIEW_GPUS the labels no longer fit 8000 px).  Runs of identical consecutive units are drawn
 * once, labelled with the range they stand for and "×N": replicas first, then the
 * stages of a replica, the machines of a stage, the GPUs of a machine, each level only
 * while the picture is still above the limit (so a picture that fits is unchanged).
 *
 * Two units are identical when they have as many GPUs and the same signature: for each
 * GPU its offset from the unit's first GPU, its machine offset, its memory (and, for a
 * replica, its stage), and for each link touching the unit its two ends as offsets from
 * the unit's first GPU, its kind and bytes.  Signatures are 64-bit sums of mixed
 * hashes, so the order in which GPUs and links are visited does not matter.
 */
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

typedef struct gpu_key {
	int32_t k[PD_FOLD_LEVELS]; /* replica, stage, machine, GPU */
} gpu_key;

typedef struct fold_ctx {
	const pd_dag *dag;
	gpu_key *key; /* by GPU id */
	gpu_key *ord; /* keys of the used GPUs, sorted (k[3] is the GPU) */
	uint32_t n;   /* used GPUs */
	int32_t n_gpus;
	int32_t *unit; /* unit index of each GPU at the current level */
	int32_t *base; /* first GPU of each unit (in ord order) */
	uint64_t *sig;
	uint32_t *size;
} fold_ctx;

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9u;
	return h ^ (h >> 29);
}

static int key_cmp(const void *x, const void *y)
{
	const gpu_key *a = x, *b = y;
	for (int l = 0; l < PD_FOLD_LEVELS; l++)
		if (a->k[l] != b->k[l])
			return (a->k[l] > b->k[l]) - (a->k[l] < b->k[l]);
	return 0;
}

/* Keys of the GPUs that carry work (replica and stage of their first node). */
static void fill_keys(fold_ctx *c, int32_t n_gpus)
{
	const pd_dag *dag = c->dag;
	int32_t per = dag->gpus_per_node > 0 ? dag->gpus_per_node : 8;
	for (int32_t g = 0; g < n_gpus; g++)
		c->key[g].k[0] = -1;
	for (uint32_t v = 0; v < dag->n_nodes; v++) {
		const pd_node *nd = &dag->nodes[v];
		if (nd->gpu < 0 || nd->gpu >= n_gpus || c->key[nd->gpu].k[0] != -1)
			continue;
		c->key[nd->gpu] = (gpu_key){
		    {nd->replica < 0 ? INT32_MAX : nd->replica, nd->stage, nd->gpu / per, nd->gpu}};
		c->ord[c->n++] = c->key[nd->gpu];
	}
	qsort(c->ord, c->n, sizeof(gpu_key), key_cmp);
}

static int same_prefix(const gpu_key *a, const gpu_key *b, int upto)
{
	for (int l = 0; l <= upto; l++)
		if (a->k[l] != b->k[l])
			return 0;
	return 1;
}

static uint64_t gpu_sig(const fold_ctx *c, int level, int32_t g, int32_t base)
{
	const pd_dag *dag = c->dag;
	uint64_t mem = 0;
	if (dag->gpu && g < dag->n_gpus)
		memcpy(&mem, &dag->gpu[g].memory, sizeof(mem));
	uint64_t h = mix(mix(1, (uint64_t)(g - base)), mem);
	h = mix(h, (uint64_t)(c->key[g].k[2] - c->key[base].k[2]));
	return level == 0 ? mix(h, (uint64_t)c->key[g].k[1]) : h;
}

static uint64_t link_sig(const pd_i_link *k, int side, int32_t from, int32_t to,
                         int32_t base)
{
	uint64_t bytes;
	memcpy(&bytes, &k->bytes, sizeof(bytes));
	uint64_t h =
	    mix(mix(2 + (uint64_t)side, (uint64_t)(from - base)), (uint64_t)(to - base));
	return mix(mix(h, (uint64_t)k->collective), bytes);
}

/* Units of `level` (segments of ord) and their signatures; returns the unit count. */
static uint32_t level_units(fold_ctx *c, int level, const pd_i_links *l)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->n; i++) {
		int32_t g = c->ord[i].k[3];
		if (i == 0 || !same_prefix(&c->ord[i - 1], &c->ord[i], level)) {
			c->base[n] = g;
			c->sig[n] = 0;
			c->size[n++] = 0;
		}
		c->unit[g] = (int32_t)(n - 1);
		c->size[n - 1]++;
		c->sig[n - 1] += gpu_sig(c, level, g, c->base[n - 1]);
	}
	for (size_t i = 0; i < l->n; i++) {
		const pd_i_link *k = &l->v[i];
		if (k->a < 0 || k->b < 0 || k->a >= c->n_gpus || k->b >= c->n_gpus)
			continue;
		int32_t ua = c->unit[k->a], ub = c->unit[k->b];
		if (ua < 0 || ub < 0)
			continue;
		c->sig[ua] += link_sig(k, 0, k->a, k->b, c->base[ua]);
		if (ub != ua)
			c->sig[ub] += link_sig(k, 1, k->b, k->a, c->base[ub]);
	}
	return n;
}

/* Folds one level: units identical to the previous one of the same parent are hidden,
 * the first of each run records the run's last unit and length. */
static pd_status fold_level(fold_ctx *c, int level, uint32_t n_units, pd_i_fold *f)
{
	uint32_t lead = 0;
	int32_t *lead_of = malloc((n_units ? n_units : 1) * sizeof(int32_t));
	if (!lead_of)
		return PD_IO;
	for (uint32_t u = 0; u < n_units; u++) {
		int same = u > 0 && c->size[u] == c->size[lead] && c->sig[u] == c->sig[lead] &&
		           same_prefix(&c->key[c->base[u]], &c->key[c->base[lead]], level - 1);
		if (!same)
			lead = u;
		lead_of[u] = (int32_t)lead;
		f->runs[level][lead].last = c->key[c->base[u]].k[level];
		f->runs[level][lead].count = u - lead + 1;
	}
	for (uint32_t i = 0; i < c->n; i++) {
		int32_t g = c->ord[i].k[3];
		f->unit[level][g] = lead_of[c->unit[g]];
		if ((uint32_t)lead_of[c->unit[g]] != (uint32_t)c->unit[g] && f->drawn[g]) {
			f->drawn[g] = 0;
			f->n_drawn--;
		}
	}
	free(lead_of);
	return PD_OK;
}

static pd_status fold_alloc(fold_ctx *c, pd_i_fold *f, int32_t n_gpus)
{
	size_t n = n_gpus > 0 ? (size_t)n_gpus : 1;
	c->key = malloc(n * sizeof(gpu_key));
	c->ord = malloc(n * sizeof(gpu_key));
	c->unit = malloc(n * sizeof(int32_t));
	c->base = malloc(n * sizeof(int32_t));
	c->sig = malloc(n * sizeof(uint64_t));
	c->size = malloc(n * sizeof(uint32_t));
	f->drawn = calloc(n, 1);
	int ok = c->key && c->ord && c->unit && c->base && c->sig && c->size && f->drawn;
	for (int l = 0; l < PD_FOLD_LEVELS; l++) {
		f->unit[l] = malloc(n * sizeof(int32_t));
		f->runs[l] = calloc(n, sizeof(pd_i_fold_run));
		ok = ok && f->unit[l] && f->runs[l];
	}
	return ok ? PD_OK : PD_IO;
}

static void ctx_free(fold_ctx *c)
{
	free(c->key);
	free(c->ord);
	free(c->unit);
	free(c->base);
	free(c->sig);
	free(c->size);
}

pd_status pd_i_fold_compute(const pd_dag *dag, uint32_t limit, pd_i_fold *f)
{
	memset(f, 0, sizeof(*f));
	fold_ctx c = {.dag = dag};
	pd_i_links l = {0};
	int32_t n_gpus = pd_i_max_gpu(dag) + 1;
	f->n_gpus = c.n_gpus = n_gpus;
	pd_status s = fold_alloc(&c, f, n_gpus);
	if (s == PD_OK)
		fill_keys(&c, n_gpus);
	for (uint32_t i = 0; s == PD_OK && i < c.n; i++)
		f->drawn[c.ord[i].k[3]] = 1;
	f->n_drawn = c.n;
	if (s == PD_OK && c.n > limit)
		s = pd_i_overview_links(dag, &l);
	for (int32_t g = 0; s == PD_OK && g < n_gpus; g++)
		c.unit[g] = -1;
	for (int lv = 0; s == PD_OK && lv < PD_FOLD_LEVELS && f->n_drawn > limit; lv++) {
		s = fold_level(&c, lv, level_units(&c, lv, &l), f);
		f->levels = lv + 1;
	}
	free(l.v);
	ctx_free(&c);
	if (s != PD_OK)
		pd_i_fold_release(f);
	return s;
}

const pd_i_fold_run *pd_i_fold_run_of(const pd_i_fold *f, int level, int32_t g)
{
	if (!f || level >= f->levels || g < 0 || g >= f->n_gpus)
		return NULL;
	const pd_i_fold_run *r = &f->runs[level][f->unit[level][g]];
	return r->count > 1 ? r : NULL;
}

void pd_i_fold_release(pd_i_fold *f)
{
	free(f->drawn);
	for (int l = 0; l < PD_FOLD_LEVELS; l++) {
		free(f->unit[l]);
		free(f->runs[l]);
	}
	memset(f, 0, sizeof(*f));
}
