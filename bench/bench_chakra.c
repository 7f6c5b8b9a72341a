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

static void row(const char *what, const bench_timing *t, double nodes, double bytes)
{
	if (t->runs == 0) {
		printf("%-34s %11s\n", what, t->failed ? "FAILED" : "skipped");
		return;
	}
	printf("%-34s %8.3f s  %8.3f s  %8.3f s  %4d %8.2f M nodes/s %8.1f MB %7.1f MB/s\n",
	       what, t->best, t->median, t->cpu_best, t->runs, nodes / t->best / 1e6,
	       bytes / 1e6, bytes / t->best / 1e6);
}

static void verdicts(const char *label, double nodes, const bench_timing *b,
                     const bench_timing *n, double rss)
{
	if (b->runs == 0 || n->runs == 0)
		return;
	double rate = nodes / b->best;
	bool large = strcmp(label, "large") == 0;
	printf("  %-44s %-28s %-12s %s\n", "Chakra write nodes/s", "", ">= 2 M/s",
	       !large        ? "info"
	       : rate >= 2e6 ? "PASS"
	                     : "MISS");
	printf("  %-44s %.2f M/s\n", "", rate / 1e6);
	printf("  %-44s %-28.2f %-12s %s\n", "Chakra buffered / naive writer (nodes/s)",
	       n->best / b->best, "(info)", "info");
	printf("  %-44s %-28.1f %-12s %s\n", "Chakra write peak RSS growth (MB)", rss / 1e6,
	       "O(largest rank)", "info");
}

void bench_chakra(const pd_dag *dag, const pd_cluster *cluster, const char *tmpdir,
                  const bench_repeat *rep, const char *label)
{
	chakra_run c = {.dag = dag, .cluster = cluster};
	snprintf(c.dir, sizeof(c.dir), "%s/plan.chakra", tmpdir);
	pd_diag_list_init(&c.diags);
	if (pd_i_chakra_ranks_build(dag, &c.rk) != PD_OK) {
		printf("  Chakra writer: out of memory\n");
		return;
	}
	double nodes = c.rk.off[c.rk.n_ranks];
	bench_timing buffered = {0}, naive = {0};
	bench_reset_peak_rss();
	double before = bench_peak_rss();
	bench_run(run_buffered, fresh_dir, &c, rep, &buffered);
	double rss = bench_peak_rss() - before, bytes_b = dir_bytes(&c);
	bench_run(run_naive, fresh_dir, &c, rep, &naive);
	double bytes_n = dir_bytes(&c);
	printf("Chakra traces: %.0f nodes on %d ranks\n", nodes, (int)c.rk.n_ranks);
	row("Chakra --emit chakra (buffered)", &buffered, nodes, bytes_b);
	row("Chakra naive (malloc+fwrite/node)", &naive, nodes, bytes_n);
	if (bytes_b != bytes_n)
		printf("  the two writers' .et bytes differ: %.0f vs %.0f\n", bytes_b, bytes_n);
	verdicts(label, nodes, &buffered, &naive, rss > 0 ? rss : 0);
	pd_remove_tree(c.dir);
	pd_diag_list_release(&c.diags);
	pd_i_chakra_ranks_release(&c.rk);
}
