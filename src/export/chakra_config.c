/* chakra_config.c - a Chakra trace set besides its .et files (docs/executors.md):
 * comm_groups.json and ranks.json for any replayer, and the ASTRA-sim analytical
 * backend's inputs derived from the cluster: network.yml (an NVLink-domain dimension
 * and a scale-out dimension), system.json, remote_memory.json.  pd_export_chakra, the
 * entry point, writes them after the ranks' files.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export/chakra_internal.h"
#include "plan/cost.h"

#define PATH_BYTES 4600

static pd_status write_text(const char *dir, const char *file, const char *text,
                            pd_diag_list *diags)
{
	char path[PATH_BYTES];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = text ? fopen(path, "w") : NULL;
	bool ok = f && fputs(text, f) >= 0;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok)
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write %s: %s", path,
		            strerror(text ? (errno ? errno : EIO) : ENOMEM));
	return ok ? PD_OK : PD_IO;
}

static pd_status write_json(const char *dir, const char *file, cJSON *j,
                            pd_diag_list *diags)
{
	char *text = j ? cJSON_Print(j) : NULL;
	size_t n = text ? strlen(text) : 0;
	char *line = text ? realloc(text, n + 2) : NULL;
	if (line) {
		line[n] = '\n';
		line[n + 1] = '\0';
		text = line;
	}
	pd_status s = write_text(dir, file, line, diags);
	free(text);
	cJSON_Delete(j);
	return s;
}

/* {"1": [ranks of group 1], ...}: the ids of the pg_name attributes. */
static cJSON *comm_groups(const pd_dag *dag, const pd_i_chakra_ranks *rk)
{
	cJSON *o = cJSON_CreateObject();
	for (uint32_t g = 0; o && g < dag->groups.n; g++) {
		cJSON *a = cJSON_AddArrayToObject(o, rk->group_name[g]);
		for (uint32_t i = dag->groups.off[g]; a && i < dag->groups.off[g + 1]; i++) {
			cJSON *r = cJSON_CreateNumber(rk->rank_of_gpu[dag->groups.gpus[i]]);
			if (!r || !cJSON_AddItemToArray(a, r))
				a = NULL;
		}
		if (!a) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

/* {"0": {"gpu": G, "replica": R, "stage": S}, ...} */
static cJSON *ranks_json(const pd_dag *dag, const pd_i_chakra_ranks *rk)
{
	cJSON *o = cJSON_CreateObject();
	for (int32_t r = 0; o && r < rk->n_ranks; r++) {
		char key[16];
		snprintf(key, sizeof(key), "%d", (int)r);
		int32_t g = rk->gpu_of_rank[r];
		cJSON *e = cJSON_AddObjectToObject(o, key);
		if (!e || !cJSON_AddNumberToObject(e, "gpu", g) ||
		    !cJSON_AddNumberToObject(e, "replica", dag->gpu[g].replica) ||
		    !cJSON_AddNumberToObject(e, "stage", dag->gpu[g].stage)) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

/* The scale-up dimension: the largest divisor of the rank count that fits one NVLink
 * domain (ASTRA-sim needs the dimensions' product to be the rank count). */
static int32_t scale_up(const pd_cluster *c, int32_t ranks)
{
	int64_t domain = c->nvlink_domain > 0 ? c->nvlink_domain : c->gpus_per_node;
	int32_t d = domain > ranks ? ranks : (int32_t)(domain > 0 ? domain : 1);
	while (d > 1 && ranks % d != 0)
		d--;
	return d;
}

static pd_status network_yml(const pd_i_chakra_ranks *rk, const pd_cluster *c,
                             const char *dir, pd_diag_list *diags)
{
	int32_t n = rk->n_ranks, up = scale_up(c, n);
	/* what the links achieve (docs/time-model.md), as plandag's own schedule uses them */
	double lat = c->comm_latency_us * 1000.0, in = c->intra_bandwidth * c->nvlink_eff / 1e9,
	       out = c->inter_bandwidth * c->network_eff / 1e9;
	char text[1024];
	if (up == n || up == 1)
		snprintf(text, sizeof(text),
		         "# ASTRA-sim analytical network written by plandag (docs/executors.md)\n"
		         "topology: [ Switch ]\nnpus_count: [ %d ]\n"
		         "bandwidth: [ %.3f ]  # GB/s\nlatency: [ %.1f ]  # ns\n",
		         (int)n, up == n ? in : out, lat);
	else
		snprintf(text, sizeof(text),
		         "# ASTRA-sim analytical network written by plandag (docs/executors.md)\n"
		         "# dimension 1: one NVLink domain; dimension 2: the scale-out network\n"
		         "topology: [ Switch, Switch ]\nnpus_count: [ %d, %d ]\n"
		         "bandwidth: [ %.3f, %.3f ]  # GB/s\nlatency: [ %.1f, %.1f ]  # ns\n",
		         (int)up, (int)(n / up), in, out, lat, lat);
	return write_text(dir, "network.yml", text, diags);
}

static bool add_impl(cJSON *o, const char *key, const char *algo, int dims)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);
	for (int i = 0; a && i < dims; i++) {
		cJSON *s = cJSON_CreateString(algo);
		if (!s || !cJSON_AddItemToArray(a, s))
			return false;
	}
	return a != NULL;
}

/* Ring collectives per dimension (direct all-to-all), durations from the trace
 * (roofline off), the HBM bandwidth for local reductions. */
static cJSON *system_json(const pd_i_chakra_ranks *rk, const pd_cluster *c)
{
	int32_t up = scale_up(c, rk->n_ranks);
	int dims = up == rk->n_ranks || up == 1 ? 1 : 2;
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddStringToObject(o, "scheduling-policy", "LIFO") &&
	          cJSON_AddNumberToObject(o, "endpoint-delay", 10) &&
	          cJSON_AddNumberToObject(o, "active-chunks-per-dimension", 1) &&
	          cJSON_AddNumberToObject(o, "preferred-dataset-splits", 4) &&
	          add_impl(o, "all-reduce-implementation", "ring", dims) &&
	          add_impl(o, "all-gather-implementation", "ring", dims) &&
	          add_impl(o, "reduce-scatter-implementation", "ring", dims) &&
	          add_impl(o, "all-to-all-implementation", "direct", dims) &&
	          cJSON_AddStringToObject(o, "collective-optimization", "localBWAware") &&
	          cJSON_AddNumberToObject(o, "local-mem-bw", c->gpu_bandwidth / 1e9) &&
	          cJSON_AddNumberToObject(o, "boost-mode", 0) &&
	          cJSON_AddNumberToObject(o, "roofline-enabled", 0) &&
	          cJSON_AddNumberToObject(o, "peak-perf", c->gpu_flops / 1e12);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

pd_status pd_i_chakra_write_config(const pd_dag *dag, const pd_i_chakra_ranks *rk,
                                   const pd_cluster *cluster, const char *dir,
                                   pd_diag_list *diags)
{
	PD_CHECK(write_json(dir, "comm_groups.json", comm_groups(dag, rk), diags));
	PD_CHECK(write_json(dir, "ranks.json", ranks_json(dag, rk), diags));
	PD_CHECK(network_yml(rk, cluster, dir, diags));
	PD_CHECK(write_json(dir, "system.json", system_json(rk, cluster), diags));
	return write_text(dir, "remote_memory.json",
	                  "{\n    \"memory-type\": \"NO_MEMORY_EXPANSION\"\n}\n", diags);
}

static pd_status write_ranks(const pd_dag *dag, const pd_i_chakra_ranks *rk,
                             const char *name, const char *dir, pd_diag_list *diags)
{
	char path[PATH_BYTES];
	for (int32_t r = 0; r < rk->n_ranks; r++) {
		snprintf(path, sizeof(path), "%s/%s.%d.et", dir, name, (int)r);
		FILE *f = fopen(path, "wb");
		pd_status s = f ? pd_i_chakra_write_rank(dag, rk, r, f) : PD_IO;
		int err = errno;
		if (f && fclose(f) != 0 && s == PD_OK) {
			s = PD_IO;
			err = errno;
		}
		if (s != PD_OK) {
			pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write %s: %s", path,
			            strerror(err ? err : EIO));
			return s;
		}
	}
	return PD_OK;
}

pd_status pd_export_chakra(const pd_dag *dag, const pd_cluster *cluster, const char *name,
                           const char *dir, pd_diag_list *diags)
{
	if (dag->n_nodes > INT32_MAX) {
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0,
		            "cannot write a Chakra trace of %u nodes: its send/receive tags are "
		            "int32 node ids",
		            dag->n_nodes);
		return PD_IO;
	}
	pd_i_chakra_ranks rk;
	if (pd_i_chakra_ranks_build(dag, &rk) != PD_OK) {
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot write %s: %s", dir,
		            strerror(ENOMEM));
		return PD_IO;
	}
	pd_status s = write_ranks(dag, &rk, name, dir, diags);
	if (s == PD_OK)
		s = pd_i_chakra_write_config(dag, &rk, cluster, dir, diags);
	pd_i_chakra_ranks_release(&rk);
	return s;
}
