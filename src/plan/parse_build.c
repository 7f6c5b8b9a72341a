/* parse_build.c - the plan IR from a document that passed the XSD.
 *
 * Applies every default of docs/plan-format.md and re-checks each value with the strict
 * parsers of units.c: what the XSD cannot say (an id list with a duplicate, a cluster
 * of more than PD_MAX_GPUS GPUs) becomes a `schema` diagnostic at the element.
 */
#include "plan/bounds.h"
#include "plan/defaults.h"
#include "plan/gpus.h"
#include "plan/plan_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct builder {
	pd_i_reader *r;
	pd_plan *plan;
	pd_arena *a;
	bool oom;
} builder;

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

/* The attribute's value (malloc'd by libxml2) or NULL when absent. */
static char *attr(const xmlNode *n, const char *name)
{
	return (char *)xmlGetNoNsProp(n, (const xmlChar *)name);
}

static void bad_value(builder *b, const xmlNode *n, pd_loc at, const char *name,
                      const char *v, const char *want)
{
	pd_diag *d = pd_diag_add(b->r->diags, PD_RULE_SCHEMA, PD_ERROR, at.line, at.column,
	                         "<%s> %s=\"%.40s\" is not a valid value",
	                         (const char *)n->name, name, v);
	pd_diag_fix(d, "write %s", want);
	b->r->errors++;
}

/* Integer attribute of an integer type of plan.xsd (bounds.h); returns whether it was
 * written. */
static bool get_int(builder *b, const xmlNode *n, pd_loc at, const char *name,
                    pd_i_int_type type, int64_t *out)
{
	const pd_i_int_bound *t = &pd_i_int_bounds[type];
	char *v = attr(n, name);
	if (!v)
		return false;
	if (!pd_parse_int(v, t->min, t->max, out)) {
		char want[96];
		bad_value(b, n, at, name, v, pd_i_int_bound_hint(t, want, sizeof(want)));
	}
	xmlFree(v);
	return true;
}

static void out_of_range(builder *b, const xmlNode *n, pd_loc at, const char *name,
                         const char *v, const char *want)
{
	pd_diag *d =
	    pd_diag_add(b->r->diags, PD_RULE_SCHEMA, PD_ERROR, at.line, at.column,
	                "<%s> %s=\"%.40s\" is out of range", (const char *)n->name, name, v);
	pd_diag_fix(d, "write %s", want);
	b->r->errors++;
}

typedef bool (*quantity_fn)(const char *s, double *out);

/* The valid range of a physical quantity: zero, underflowing and absurd values are
 * errors, so every later division and product stays finite.  Each bound is stated once
 * here; the messages quote it. */
typedef struct bounds {
	double min, max;
	const char *unit; /* "B" and "B/s" take decimal prefixes in the message */
} bounds;
static const bounds MEMORY = {1e6, 100e12, "B"};       /* 1MB ... 100TB */
static const bounds BANDWIDTH = {1e6, 100e12, "B/s"};  /* 1MB/s ... 100TB/s */
static const bounds TFLOPS = {0.001, 1e6, " TFLOP/s"}; /* per GPU */
static const bounds LATENCY = {0.001, 1e7, " ms"};     /* 1 us ... about 3 hours */

/* "1MB", "100TB/s", "0.001 TFLOP/s": v in the bound's unit. */
static void format_bound(const bounds *q, double v, char *buf, size_t size)
{
	static const char prefix[] = "\0KMGT";
	int p = 0;
	while (q->unit[0] == 'B' && p < 4 && v >= 1000.0) {
		v /= 1000.0;
		p++;
	}
	snprintf(buf, size, "%g%.1s%s", v, p ? &prefix[p] : "", q->unit);
}

/* "TEXT (from MIN to MAX)" of q into buf. */
static const char *with_range(const bounds *q, const char *text, char *buf, size_t size)
{
	char lo[32], hi[32];
	format_bound(q, q->min, lo, sizeof(lo));
	format_bound(q, q->max, hi, sizeof(hi));
	snprintf(buf, size, "%s (from %s to %s)", text, lo, hi);
	return buf;
}

/* Number, size or bandwidth attribute within q (NULL: any finite value); returns
 * whether it was written.  *out keeps its default when the value is refused. */
static bool get_quantity(builder *b, const xmlNode *n, pd_loc at, const char *name,
                         quantity_fn parse, const char *want, const bounds *q, double *out)
{
	char *v = attr(n, name);
	if (!v)
		return false;
	char fix[160];
	double x;
	bool parsed = parse(v, &x);
	if (parsed && q && (x < q->min || x > q->max))
		out_of_range(b, n, at, name, v, with_range(q, want, fix, sizeof(fix)));
	else if (!parsed)
		bad_value(b, n, at, name, v, q ? with_range(q, want, fix, sizeof(fix)) : want);
	else
		*out = x;
	xmlFree(v);
	return true;
}

static bool get_bool(builder *b, const xmlNode *n, pd_loc at, const char *name, bool *out)
{
	char *v = attr(n, name);
	if (!v)
		return false;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		bad_value(b, n, at, name, v, "true or false");
	xmlFree(v);
	return true;
}

/* Inclusive range attribute "a-b" with b <= max. */
static bool get_range(builder *b, const xmlNode *n, pd_loc at, const char *name,
                      int64_t max, int64_t *first, int64_t *last)
{
	char *v = attr(n, name);
	if (!v)
		return false;
	if (!pd_parse_range(v, first, last) || *last > max) {
		char want[96];
		snprintf(want, sizeof(want), "an inclusive range a-b with a <= b <= %lld",
		         (long long)max);
		bad_value(b, n, at, name, v, want);
	}
	xmlFree(v);
	return true;
}

static char *get_string(builder *b, const xmlNode *n, const char *name)
{
	char *v = attr(n, name);
	if (!v)
		return NULL;
	char *s = pd_arena_strdup(b->a, v);
	xmlFree(v);
	b->oom |= !s;
	return s;
}

/* A schema error about a combination of values at an element. */
static void bad_combination(builder *b, pd_loc at, const char *fix, const char *msg)
{
	pd_i_schema_error(b->r, at, fix, "%s", msg);
}

/* A dtype attribute of <model>; the XSD has already limited it to the five names.
 * Returns whether it was written. */
static bool read_dtype(const xmlNode *n, const char *name, pd_dtype *out)
{
	static const pd_dtype all[] = {PD_FP32, PD_FP16, PD_BF16, PD_FP8, PD_FP4};
	char *v = attr(n, name);
	bool written = v != NULL;
	for (size_t i = 0; v && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(v, pd_dtype_name(all[i])) == 0)
			*out = all[i];
	xmlFree(v);
	return written;
}

/* A schema error at the line of attribute `name` of the element at `at`. */
static void bad_attribute(builder *b, pd_loc at, const char *name, const char *fix,
                          const char *msg)
{
	bad_combination(b, pd_i_text_attr_loc(&b->r->text, at, name), fix, msg);
}

static bool has_attr(const xmlNode *n, const char *name)
{
	return xmlHasProp(n, (const xmlChar *)name) != NULL;
}

/* The GQA shape: kv-heads defaults to heads, head-dim to hidden / heads; the MLA
 * attributes need kv-lora-rank. */
static void read_gqa_shape(builder *b, const xmlNode *n, pd_loc at, pd_model *m)
{
	static const char *const mla[] = {"q-lora-rank", "qk-nope-dim", "qk-rope-dim",
	                                  "v-head-dim"};
	for (size_t i = 0; i < sizeof(mla) / sizeof(mla[0]); i++)
		if (has_attr(n, mla[i]))
			bad_attribute(b, at, mla[i],
			              "add kv-lora-rank (multi-head latent attention) or remove it",
			              "an MLA attribute without kv-lora-rank");
	if (!get_int(b, n, at, "kv-heads", PD_T_COUNT_64K, &m->kv_heads))
		m->kv_heads = m->heads;
	if (get_int(b, n, at, "head-dim", PD_T_COUNT_64K, &m->head_dim) || m->heads <= 0)
		return;
	m->head_dim = m->hidden / m->heads;
	/* a default head-dim must be exact, or every parameter count is off */
	if (m->hidden % m->heads != 0)
		bad_combination(b, at, "write head-dim explicitly",
		                "hidden is not a multiple of heads, so head-dim has no default");
}

/* head-dim or kv-heads on an MLA model: an error at the attribute. */
static void refuse_gqa_attribute(builder *b, const xmlNode *n, pd_loc at, const char *name)
{
	if (!has_attr(n, name))
		return;
	char fix[160];
	snprintf(fix, sizeof(fix),
	         "remove %s: an MLA model's head sizes are qk-nope-dim, qk-rope-dim and "
	         "v-head-dim",
	         name);
	bad_attribute(b, at, name, fix,
	              "an MLA model (kv-lora-rank) has no head-dim or kv-heads");
}

/* The MLA shape (kv-lora-rank written): the three head sizes are required, head-dim
 * and kv-heads do not apply (every head has its own K and V, decompressed from the
 * shared latent). */
static void read_mla_shape(builder *b, const xmlNode *n, pd_loc at, pd_model *m)
{
	refuse_gqa_attribute(b, n, at, "head-dim");
	refuse_gqa_attribute(b, n, at, "kv-heads");
	m->kv_heads = m->heads;
	get_int(b, n, at, "q-lora-rank", PD_T_COUNT_64K_OR_ZERO, &m->q_lora);
	bool nope = get_int(b, n, at, "qk-nope-dim", PD_T_COUNT_64K, &m->qk_nope);
	bool rope = get_int(b, n, at, "qk-rope-dim", PD_T_COUNT_64K_OR_ZERO, &m->qk_rope);
	bool v = get_int(b, n, at, "v-head-dim", PD_T_COUNT_64K, &m->v_head);
	if (!nope || !rope || !v)
		bad_combination(b, at,
		                "write qk-nope-dim, qk-rope-dim and v-head-dim (DeepSeek-V3: 128, "
		                "64, 128)",
		                "an MLA model (kv-lora-rank) needs qk-nope-dim, qk-rope-dim and "
		                "v-head-dim");
}

/* The attention shape: GQA (kv-heads, head-dim) or MLA (kv-lora-rank and its sizes). */
static void read_attention_shape(builder *b, const xmlNode *n, pd_loc at, pd_model *m)
{
	get_int(b, n, at, "hidden", PD_T_COUNT_HIDDEN, &m->hidden);
	get_int(b, n, at, "heads", PD_T_COUNT_64K, &m->heads);
	if (get_int(b, n, at, "kv-lora-rank", PD_T_COUNT_64K, &m->kv_lora))
		read_mla_shape(b, n, at, m);
	else
		read_gqa_shape(b, n, at, m);
}

/* dtype, kv-dtype, expert-dtype; expert-dtype needs experts. */
static void read_dtypes(builder *b, const xmlNode *n, pd_loc at, pd_model *m)
{
	m->dtype = PD_BF16;
	read_dtype(n, "dtype", &m->dtype);
	m->has_kv_dtype = read_dtype(n, "kv-dtype", &m->kv_dtype);
	m->has_expert_dtype = read_dtype(n, "expert-dtype", &m->expert_dtype);
	if (m->has_expert_dtype && m->experts <= 0)
		bad_attribute(b, at, "expert-dtype",
		              "remove expert-dtype, or add experts: a dense model has no experts",
		              "expert-dtype on a dense model (no experts)");
}

/* The first contradiction of expert-groups / group-top-k with the experts, as a
 * message and its fix; NULL when there is none. */
static const char *groups_error(const pd_model *m, const char **attr_name, char *fix,
                                size_t size)
{
	long long E = (long long)m->experts, G = (long long)m->expert_groups;
	long long k = (long long)m->group_top_k;
	*attr_name = "expert-groups";
	if (E % G != 0) {
		snprintf(fix, size, "use expert-groups that divides %lld (e.g. 1 or 8)", E);
		return "expert-groups does not divide experts";
	}
	*attr_name = "group-top-k";
	if (k > G) {
		snprintf(fix, size, "use group-top-k from 1 to %lld (expert-groups)", G);
		return "group-top-k is larger than expert-groups";
	}
	*attr_name = "top-k";
	if (m->top_k > k * (E / G)) {
		snprintf(
		    fix, size,
		    "raise group-top-k or lower top-k to at most %lld (group-top-k x experts / "
		    "expert-groups)",
		    k * (E / G));
		return "top-k is larger than the experts of the group-top-k picked groups";
	}
	return NULL;
}

/* expert-groups (default 1, divides experts) and group-top-k (default expert-groups;
 * top-k must fit in the picked groups); both need experts. */
static void read_groups(builder *b, const xmlNode *n, pd_loc at, pd_model *m)
{
	bool groups = get_int(b, n, at, "expert-groups", PD_T_COUNT_64K, &m->expert_groups);
	bool gtk = get_int(b, n, at, "group-top-k", PD_T_COUNT_64K, &m->group_top_k);
	if (!groups || m->expert_groups < 1)
		m->expert_groups = 1;
	if (!gtk || m->group_top_k < 1)
		m->group_top_k = m->expert_groups;
	if (!groups && !gtk)
		return;
	if (m->experts <= 0) {
		bad_attribute(b, at, groups ? "expert-groups" : "group-top-k",
		              "remove expert-groups and group-top-k: a dense model has no experts",
		              "group-limited routing on a dense model (no experts)");
		return;
	}
	char fix[160];
	const char *name;
	const char *msg = groups_error(m, &name, fix, sizeof(fix));
	if (msg)
		bad_attribute(b, at, name, fix, msg);
}

/* <model>: every default of docs/plan-format.md; top-k 1 when there are experts. */
static void read_model(builder *b, const xmlNode *n)
{
	pd_model *m = &b->plan->model;
	pd_loc at = m->loc = pd_i_text_loc(&b->r->text, n, true);
	m->name = get_string(b, n, "name");
	get_int(b, n, at, "layers", PD_T_COUNT_LAYERS, &m->layers);
	get_int(b, n, at, "vocab", PD_T_COUNT_16M, &m->vocab);
	read_attention_shape(b, n, at, m);
	get_int(b, n, at, "experts", PD_T_COUNT_64K_OR_ZERO, &m->experts);
	if (!get_int(b, n, at, "top-k", PD_T_COUNT_64K_OR_ZERO, &m->top_k))
		m->top_k = m->experts > 0 ? 1 : 0;
	get_int(b, n, at, "expert-ffn", PD_T_COUNT_FFN, &m->expert_ffn);
	get_int(b, n, at, "shared-experts", PD_T_COUNT_64K_OR_ZERO, &m->shared_experts);
	get_int(b, n, at, "dense-ffn", PD_T_COUNT_FFN, &m->dense_ffn);
	get_int(b, n, at, "first-dense", PD_T_COUNT_LAYERS_OR_ZERO, &m->first_dense);
	read_dtypes(b, n, at, m);
	m->has_params = get_quantity(b, n, at, "params", pd_parse_number,
	                             "a number of parameters such as 10.2e9", NULL, &m->params);
	/* top-k picks among the routed experts, so it cannot exceed them */
	if (m->top_k > m->experts && m->experts > 0)
		bad_combination(b, at, "lower top-k to at most experts",
		                "top-k is larger than the number of experts");
	else
		read_groups(b, n, at, m);
}

/* A value of <cluster> the plan did not write: the preset's when it has one (marked in
 * from_preset), else keep *v (a default or 0). */
static void from_preset(pd_cluster *c, const pd_i_gpu_preset *g, pd_i_gpu_value k,
                        double *v)
{
	if (!g || g->value[k] <= 0)
		return;
	*v = g->value[k];
	c->from_preset |= 1u << k;
}

/* gpu-memory: written, from the preset, or a schema error (the XSD cannot say "one of
 * the two"). */
static void read_gpu_memory(builder *b, const xmlNode *n, pd_loc at,
                            const pd_i_gpu_preset *g)
{
	pd_cluster *c = &b->plan->cluster;
	if (get_quantity(b, n, at, "gpu-memory", pd_parse_size, "a size such as 80GB or 64GiB",
	                 &MEMORY, &c->gpu_memory))
		return;
	if (g)
		from_preset(c, g, PD_I_GPU_MEMORY, &c->gpu_memory);
	else
		bad_combination(b, at,
		                "add gpu-memory=\"80GB\" or a preset such as gpu=\"h100-sxm\"",
		                "<cluster> needs gpu-memory or gpu");
}

/* A TFLOP/s attribute into FLOP/s: written, else the preset's, else *flops as it is. */
static bool read_tflops(builder *b, const xmlNode *n, pd_loc at, const pd_i_gpu_preset *g,
                        pd_i_gpu_value k, double *flops)
{
	double tflops = *flops / 1e12;
	bool written = get_quantity(b, n, at, pd_i_gpu_fields[k].attribute, pd_parse_number,
	                            "TFLOP/s such as 989", &TFLOPS, &tflops);
	*flops = tflops * 1e12;
	if (!written)
		from_preset(&b->plan->cluster, g, k, flops);
	return written;
}

/* The defaults of src/plan/defaults.c, or the preset's values when there is one. */
static void read_performance(builder *b, const xmlNode *n, pd_loc at,
                             const pd_i_gpu_preset *g)
{
	static const pd_i_gpu_value bw[] = {PD_I_GPU_BANDWIDTH, PD_I_GPU_INTRA, PD_I_GPU_INTER};
	pd_cluster *c = &b->plan->cluster;
	const pd_i_cluster_default *tf = &pd_i_cluster_defaults[PD_I_DEFAULT_TFLOPS];
	c->gpu_flops = tf->value;
	if (!read_tflops(b, n, at, g, PD_I_GPU_TFLOPS, &c->gpu_flops) && !g)
		c->assumed |= tf->bit;
	for (size_t i = PD_I_DEFAULT_GPU_BW; i < PD_I_N_CLUSTER_DEFAULTS; i++) {
		const pd_i_cluster_default *d = &pd_i_cluster_defaults[i];
		double *v = (double *)((char *)c + d->offset);
		*v = d->value;
		if (get_quantity(b, n, at, d->attribute, pd_parse_bandwidth,
		                 "a bandwidth such as 3.35TB/s", &BANDWIDTH, v))
			continue;
		if (g)
			from_preset(c, g, bw[i - PD_I_DEFAULT_GPU_BW], v);
		else
			c->assumed |= d->bit;
	}
	read_tflops(b, n, at, g, PD_I_GPU_TFLOPS_FP8, &c->gpu_flops_fp8);
	read_tflops(b, n, at, g, PD_I_GPU_TFLOPS_FP4, &c->gpu_flops_fp4);
}

/* nvlink-domain: written, the preset's, or gpus-per-node; whole nodes. */
static void read_nvlink_domain(builder *b, const xmlNode *n, pd_loc at,
                               const pd_i_gpu_preset *g)
{
	pd_cluster *c = &b->plan->cluster;
	c->nvlink_domain = c->gpus_per_node;
	if (!get_int(b, n, at, "nvlink-domain", PD_T_COUNT_GPUS, &c->nvlink_domain) && g) {
		double v = (double)c->nvlink_domain;
		from_preset(c, g, PD_I_GPU_DOMAIN, &v);
		c->nvlink_domain = (int64_t)v;
	}
	if (c->gpus_per_node > 0 && c->nvlink_domain % c->gpus_per_node != 0)
		bad_combination(b, at, "make nvlink-domain a multiple of gpus-per-node",
		                "nvlink-domain is not a whole number of nodes");
}

/* The time model's efficiencies and comm-latency (docs/time-model.md): written, else
 * the calibrated defaults of src/plan/defaults.c. */
static void read_time_model(builder *b, const xmlNode *n, pd_loc at)
{
	pd_cluster *c = &b->plan->cluster;
	pd_i_time_defaults_apply(c);
	for (int i = 0; i < PD_I_N_TIME_DEFAULTS; i++) {
		const pd_i_time_default *d = &pd_i_time_defaults[i];
		bounds q = {d->min, d->max, d->unit[0] ? " us" : ""};
		if (get_quantity(b, n, at, d->attribute, pd_parse_number,
		                 d->unit[0] ? "microseconds such as 5" : "a fraction such as 0.8",
		                 &q, (double *)((char *)c + d->offset)))
			c->eff_written |= 1u << i;
	}
}

/* <cluster>: sizes in bytes, tflops in FLOP/s; a gpu preset fills what is not written,
 * else the H100 SXM defaults are marked as assumed. */
static void read_cluster(builder *b, const xmlNode *n)
{
	pd_cluster *c = &b->plan->cluster;
	pd_loc at = c->loc = pd_i_text_loc(&b->r->text, n, true);
	get_int(b, n, at, "nodes", PD_T_COUNT_GPUS, &c->nodes);
	get_int(b, n, at, "gpus-per-node", PD_T_COUNT_GPUS_PER_NODE, &c->gpus_per_node);
	c->gpu = get_string(b, n, "gpu");
	/* the XSD has limited gpu to the names of the table */
	const pd_i_gpu_preset *g = pd_i_gpu_preset_of(c->gpu);
	read_gpu_memory(b, n, at, g);
	read_performance(b, n, at, g);
	read_nvlink_domain(b, n, at, g);
	read_time_model(b, n, at);
	/* the GPU ids of a cluster stay below PD_MAX_GPUS */
	if (c->nodes * c->gpus_per_node > PD_MAX_GPUS)
		bad_combination(b, at, "use at most 1000000 GPUs (nodes x gpus-per-node)",
		                "the cluster has more than 1000000 GPUs");
}

/* The defaults of an absent or partial <workload>. */
static void workload_defaults(pd_workload *w)
{
	*w =
	    (pd_workload){.phase = PD_DECODE,
	                  .expert_imbalance = 1,
	                  .batch = 1,
	                  .context = 2048,
	                  .micro_batches = 1,
	                  .assumed = PD_ASSUMED_WORKLOAD | PD_ASSUMED_PHASE | PD_ASSUMED_BATCH |
	                             PD_ASSUMED_CONTEXT | PD_ASSUMED_MICRO_BATCHES};
}

/* overlap="none|two-batch" (the XSD has limited it to the two) and expert-imbalance
 * (>= 1).  Two-batch overlap makes the two halves micro-batches 0 and 1 itself. */
static void read_overlap(builder *b, const xmlNode *n, pd_loc at, pd_workload *w)
{
	static const bounds IMBALANCE = {1, 1000, ""};
	char *ov = attr(n, "overlap");
	if (ov) {
		w->overlap_two_batch = strcmp(ov, "two-batch") == 0;
		xmlFree(ov);
	}
	get_quantity(b, n, at, "expert-imbalance", pd_parse_number,
	             "the busiest expert copy's tokens / the mean, such as 1.2", &IMBALANCE,
	             &w->expert_imbalance);
	if (w->overlap_two_batch && w->micro_batches > 1)
		bad_combination(
		    b, at,
		    "remove micro-batches: overlap=\"two-batch\" splits the batch into its "
		    "two halves itself",
		    "overlap=\"two-batch\" with micro-batches > 1");
}

static void read_workload(builder *b, const xmlNode *n)
{
	pd_workload *w = &b->plan->workload;
	pd_loc at = w->loc = pd_i_text_loc(&b->r->text, n, true);
	w->assumed &= ~(unsigned)PD_ASSUMED_WORKLOAD;
	char *ph = attr(n, "phase");
	if (ph) {
		w->phase = strcmp(ph, "prefill") == 0 ? PD_PREFILL : PD_DECODE;
		w->assumed &= ~(unsigned)PD_ASSUMED_PHASE;
		xmlFree(ph);
	}
	if (get_int(b, n, at, "batch", PD_T_COUNT_16M, &w->batch))
		w->assumed &= ~(unsigned)PD_ASSUMED_BATCH;
	if (get_int(b, n, at, "context", PD_T_COUNT_16M, &w->context))
		w->assumed &= ~(unsigned)PD_ASSUMED_CONTEXT;
	if (get_int(b, n, at, "micro-batches", PD_T_COUNT_64K, &w->micro_batches))
		w->assumed &= ~(unsigned)PD_ASSUMED_MICRO_BATCHES;
	w->has_target = get_quantity(b, n, at, "target-throughput", pd_parse_number,
	                             "tokens per millisecond such as 25", NULL, &w->target);
	w->has_target_ttft =
	    get_quantity(b, n, at, "target-ttft", pd_parse_number, "milliseconds such as 500",
	                 &LATENCY, &w->target_ttft_ms);
	w->has_target_tpot =
	    get_quantity(b, n, at, "target-tpot", pd_parse_number, "milliseconds such as 50",
	                 &LATENCY, &w->target_tpot_ms);
	w->has_input_tokens =
	    get_int(b, n, at, "input-tokens", PD_T_COUNT_16M, &w->input_tokens);
	w->has_output_tokens =
	    get_int(b, n, at, "output-tokens", PD_T_COUNT_16M, &w->output_tokens);
	read_overlap(b, n, at, w);
}

static uint32_t count_children(const xmlNode *n, const char *name)
{
	uint32_t k = 0;
	for (const xmlNode *c = n->children; c; c = c->next)
		k += is(c, name);
	return k;
}

/* <place experts="a-b" gpu="G"/> */
static void read_place(builder *b, const xmlNode *n, pd_place *pl)
{
	pd_loc at = pl->loc = pd_i_text_loc(&b->r->text, n, true);
	get_range(b, n, at, "experts", PD_MAX_EXPERTS - 1, &pl->first, &pl->last);
	get_int(b, n, at, "gpu", PD_T_GPU_ID, &pl->gpu);
}

/* <moe ep="N" redundant-experts="R"> with its <place> children. */
static void read_moe(builder *b, const xmlNode *n, pd_stage *s)
{
	pd_loc at = s->moe_loc = pd_i_text_loc(&b->r->text, n, true);
	s->has_moe = true;
	get_int(b, n, at, "ep", PD_T_COUNT_64K, &s->ep);
	get_int(b, n, at, "redundant-experts", PD_T_COUNT_64K_OR_ZERO, &s->redundant);
	s->n_places = count_children(n, "place");
	s->places = pd_arena_calloc(b->a, s->n_places, sizeof(*s->places));
	b->oom |= s->n_places > 0 && !s->places;
	uint32_t k = 0;
	for (const xmlNode *c = n->children; c && s->places; c = c->next)
		if (is(c, "place"))
			read_place(b, c, &s->places[k++]);
}

static void read_attention(builder *b, const xmlNode *n, pd_stage *s)
{
	pd_loc at = s->attention_loc = pd_i_text_loc(&b->r->text, n, true);
	s->has_attention = true;
	get_int(b, n, at, "tp", PD_T_COUNT_64K, &s->tp);
	get_bool(b, n, at, "sp", &s->sp);
}

/* <dense-ffn tp="N">: the TP of the stage's dense FFN layers. */
static void read_dense_ffn(builder *b, const xmlNode *n, pd_stage *s)
{
	pd_loc at = s->dense_ffn_loc = pd_i_text_loc(&b->r->text, n, true);
	s->has_dense_ffn = true;
	get_int(b, n, at, "tp", PD_T_COUNT_64K, &s->dense_tp);
}

/* <stage layers="a-b" gpus="list"> */
static void read_stage(builder *b, const xmlNode *n, pd_stage *s)
{
	pd_loc at = s->loc = pd_i_text_loc(&b->r->text, n, true);
	s->tp = s->ep = 1;
	get_range(b, n, at, "layers", PD_MAX_LAYERS - 1, &s->first_layer, &s->last_layer);
	char *v = attr(n, "gpus");
	if (v) {
		s->gpus_given = true;
		if (!pd_parse_id_list(b->a, v, PD_MAX_GPUS - 1, PD_MAX_GPUS, &s->gpus, &s->n_gpus))
			bad_value(b, n, at, "gpus", v,
			          "GPU ids such as 0-7,16-23 (ids up to 999999, a <= b in a-b, "
			          "no id twice)");
		xmlFree(v);
	}
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (is(c, "attention"))
			read_attention(b, c, s);
		else if (is(c, "moe"))
			read_moe(b, c, s);
		else if (is(c, "dense-ffn"))
			read_dense_ffn(b, c, s);
	}
}

static void read_replica(builder *b, const xmlNode *n, pd_replica *rep, uint32_t index)
{
	pd_loc at = rep->loc = pd_i_text_loc(&b->r->text, n, true);
	rep->count = 1;
	rep->source = index;
	get_int(b, n, at, "count", PD_T_COUNT_GPUS, &rep->count);
	rep->n_stages = count_children(n, "stage");
	rep->stages = pd_arena_calloc(b->a, rep->n_stages, sizeof(*rep->stages));
	b->oom |= rep->n_stages > 0 && !rep->stages;
	uint32_t k = 0;
	for (const xmlNode *c = n->children; c && rep->stages; c = c->next)
		if (is(c, "stage"))
			read_stage(b, c, &rep->stages[k++]);
}

/* <pool phase batch micro-batches>: its replicas go to strategy.replicas from *k on. */
static void read_pool(builder *b, const xmlNode *n, uint32_t p, uint32_t *k)
{
	pd_strategy *st = &b->plan->strategy;
	pd_pool *pool = &st->pools[p];
	pd_loc at = pool->loc = pd_i_text_loc(&b->r->text, n, true);
	char *ph = attr(n, "phase");
	pool->phase = ph && strcmp(ph, "prefill") == 0 ? PD_PREFILL : PD_DECODE;
	xmlFree(ph);
	pool->has_batch = get_int(b, n, at, "batch", PD_T_COUNT_16M, &pool->batch);
	pool->has_micro_batches =
	    get_int(b, n, at, "micro-batches", PD_T_COUNT_64K, &pool->micro_batches);
	pool->first_replica = *k;
	for (const xmlNode *c = n->children; c; c = c->next)
		if (is(c, "replica")) {
			st->replicas[*k].pool = (int32_t)p;
			read_replica(b, c, &st->replicas[*k], *k);
			(*k)++;
		}
	pool->n_replicas = *k - pool->first_replica;
}

/* The <pool> elements (the hierarchy rule has made sure there is one of each phase):
 * the prefill pool is pools[0] and its replicas come first, so that they take the first
 * free GPUs; the document is read in order (element columns are found in order). */
static void read_pools(builder *b, const xmlNode *n, uint32_t n_pools)
{
	pd_strategy *st = &b->plan->strategy;
	uint32_t nr = 0, n_pre = 0;
	for (const xmlNode *c = n->children; c; c = c->next) {
		char *ph = is(c, "pool") ? attr(c, "phase") : NULL;
		uint32_t k = ph ? count_children(c, "replica") : 0;
		nr += k;
		n_pre += ph && strcmp(ph, "prefill") == 0 ? k : 0;
		xmlFree(ph);
	}
	st->pools = pd_arena_calloc(b->a, n_pools < 2 ? 2 : n_pools, sizeof(*st->pools));
	st->replicas = pd_arena_calloc(b->a, nr + 1, sizeof(*st->replicas));
	b->oom |= !st->pools || !st->replicas;
	if (b->oom)
		return;
	uint32_t next[2] = {0, n_pre};
	for (const xmlNode *c = n->children; c; c = c->next) {
		char *ph = is(c, "pool") ? attr(c, "phase") : NULL;
		uint32_t p = ph && strcmp(ph, "prefill") == 0 ? 0 : 1;
		if (ph)
			read_pool(b, c, p, &next[p]);
		xmlFree(ph);
	}
	st->n_pools = 2;
	st->n_replicas = nr;
}

/* <strategy>: shorthand when it has degrees or no <replica> or <pool> children. */
static void read_strategy(builder *b, const xmlNode *n)
{
	pd_strategy *st = &b->plan->strategy;
	pd_loc at = st->loc = pd_i_text_loc(&b->r->text, n, true);
	st->dp = st->pp = st->tp = st->ep = 1;
	st->has_declared_gpus = get_int(b, n, at, "gpus", PD_T_COUNT_GPUS, &st->declared_gpus);
	bool deg = get_int(b, n, at, "dp", PD_T_COUNT_GPUS, &st->dp);
	deg |= get_int(b, n, at, "pp", PD_T_COUNT_LAYERS, &st->pp);
	deg |= get_int(b, n, at, "tp", PD_T_COUNT_64K, &st->tp);
	deg |= get_int(b, n, at, "ep", PD_T_COUNT_64K, &st->ep);
	deg |= get_bool(b, n, at, "sp", &st->sp);
	uint32_t nr = count_children(n, "replica"), np = count_children(n, "pool");
	st->shorthand = deg || (nr == 0 && np == 0);
	if (st->shorthand)
		return;
	if (np > 0) {
		read_pools(b, n, np);
		return;
	}
	st->n_replicas = nr;
	st->replicas = pd_arena_calloc(b->a, nr, sizeof(*st->replicas));
	b->oom |= !st->replicas;
	uint32_t k = 0;
	for (const xmlNode *c = n->children; c && st->replicas; c = c->next)
		if (is(c, "replica")) {
			read_replica(b, c, &st->replicas[k], k);
			k++;
		}
}

/* A pooled plan's workload (docs/pools.md): output-tokens required, input-tokens
 * defaults to context, a phase is a warning (the pools say the phases); each pool's
 * batch defaults to the workload's, micro-batches to 1.  Without pools, input-tokens and
 * output-tokens are only recorded. */
static void pooled_workload(builder *b)
{
	pd_plan *p = b->plan;
	pd_workload *w = &p->workload;
	pd_loc at = w->loc.line > 0 ? w->loc : p->strategy.loc;
	if (!w->has_input_tokens)
		w->input_tokens = w->context;
	if (!pd_plan_is_pooled(p))
		return;
	if (!w->has_output_tokens)
		bad_combination(
		    b, at,
		    "add output-tokens=\"N\" to <workload> (the tokens generated per "
		    "request, e.g. 1024)",
		    "a pooled plan needs <workload output-tokens>: the decode pool holds "
		    "the KV of input-tokens + output-tokens per sequence");
	if (!(w->assumed & PD_ASSUMED_PHASE))
		pd_diag_fix(pd_diag_add(b->r->diags, PD_RULE_SCHEMA, PD_WARNING, at.line, at.column,
		                        "<workload phase> is ignored in a pooled plan: each <pool> "
		                        "says its phase"),
		            "remove phase from <workload>");
	for (uint32_t i = 0; i < p->strategy.n_pools; i++) {
		pd_pool *pool = &p->strategy.pools[i];
		if (!pool->has_batch)
			pool->batch = w->batch;
		if (!pool->has_micro_batches)
			pool->micro_batches = 1;
		if (w->overlap_two_batch && pool->micro_batches > 1)
			bad_attribute(b, pool->loc, "micro-batches",
			              "remove micro-batches from the <pool>: overlap=\"two-batch\" "
			              "splits the batch into its two halves itself",
			              "overlap=\"two-batch\" with micro-batches > 1 in a pool");
	}
}

pd_status pd_i_build_plan(pd_i_reader *r, xmlDoc *doc, pd_plan *plan)
{
	builder b = {.r = r, .plan = plan, .a = plan->arena};
	const xmlNode *root = xmlDocGetRootElement(doc);
	r->text.cursor = 0;
	pd_i_text_loc(&r->text, root, true);
	plan->name = get_string(&b, root, "name");
	workload_defaults(&plan->workload);
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (is(c, "model"))
			read_model(&b, c);
		else if (is(c, "cluster"))
			read_cluster(&b, c);
		else if (is(c, "workload"))
			read_workload(&b, c);
		else if (is(c, "strategy"))
			read_strategy(&b, c);
	}
	if (!b.oom)
		pooled_workload(&b);
	return b.oom ? PD_IO : PD_OK;
}
