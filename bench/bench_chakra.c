/* bench_chakra.c - the Chakra trace writer (--emit chakra) on one DAG, against a naive
 * writer measured in the same run:
 *   buffered  pd_export_chakra: every rank's .et file (protobuf-c packs each node into a
 *             reused 1 MiB buffer behind its varint length) plus the JSON/YAML files
 *   naive     per rank, per node: protobuf_c_message_pack into a fresh malloc, one
 *             fwrite for the length and one for the message (.et files only)
 * Both build the same messages (the same node, attribute and dependency code), so the
 * ratio is the cost of the output path.  Outputs go to a directory under the plan's
 * temporary directory, removed between runs outside the timed region.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "export/chakra_internal.h"

typedef struct chakra_run {
	const pd_dag *dag;
	const pd_cluster *cluster;
	char dir[4300];
	pd_i_chakra_ranks rk;
	pd_diag_list diags;
} chakra_run;

static int fresh_dir(void *p)
{
	chakra_run *c = p;
	pd_remove_tree(c->dir);
	pd_diag_list_release(&c->diags);
	pd_diag_list_init(&c->diags);
	return mkdir(c->dir, 0777);
}

static int run_buffered(void *p)
{
	chakra_run *c = p;
	return pd_export_chakra(c->dag, c->cluster, "plan", c->dir, &c->diags) != PD_OK;
}

static int run_naive(void *p)
{
	chakra_run *c = p;
	char path[4400];
	for (int32_t r = 0; r < c->rk.n_ranks; r++) {
		snprintf(path, sizeof(path), "%s/plan.%d.et", c->dir, (int)r);
		FILE *f = fopen(path, "wb");
		if (!f || pd_i_chakra_write_rank_naive(c->dag, &c->rk, r, f) != PD_OK) {
			if (f)
				fclose(f);
			return 1;
		}
		if (fclose(f) != 0)
			return 1;
	}
	return 0;
}

static double dir_bytes(const chakra_run *c)
{
	char path[4400];
	double sum = 0;
	for (int32_t r = 0; r < c->rk.n_ranks; r++) {
		snprintf(path, sizeof(path), "%s/plan.%d.et", c->dir, (int)r);
		sum += bench_file_size(path);
	}
	return sum;
}

void bench_chakra(const pd_dag *dag, const pd_cluster *cluster, const char *tmpdir,
                  const bench_repeat *rep, bench_chakra_result *out)
{
	chakra_run c = {.dag = dag, .cluster = cluster};
	memset(out, 0, sizeof(*out));
	snprintf(c.dir, sizeof(c.dir), "%s/plan.chakra", tmpdir);
	pd_diag_list_init(&c.diags);
	if (pd_i_chakra_ranks_build(dag, &c.rk) != PD_OK) {
		out->buffered.failed = out->naive.failed = 1;
		return;
	}
	out->nodes = c.rk.off[c.rk.n_ranks];
	out->ranks = c.rk.n_ranks;
	bench_reset_peak_rss();
	double before = bench_peak_rss();
	bench_run(run_buffered, fresh_dir, &c, rep, &out->buffered);
	double rss = bench_peak_rss() - before;
	out->rss_growth = rss > 0 ? rss : 0;
	out->bytes = dir_bytes(&c);
	bench_run(run_naive, fresh_dir, &c, rep, &out->naive);
	out->naive_bytes = dir_bytes(&c);
	pd_remove_tree(c.dir);
	pd_diag_list_release(&c.diags);
	pd_i_chakra_ranks_release(&c.rk);
}
