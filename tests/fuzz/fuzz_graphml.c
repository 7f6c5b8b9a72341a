/* fuzz_graphml.c - libFuzzer target: the GraphML reader behind `plandag verify` and the
 * DAG checks it runs.  The reader takes a path, so each input goes through a file. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "plandag/plandag.h"

static char path[64];

static int write_input(const uint8_t *data, size_t size)
{
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/plandag-fuzz-%ld.graphml", (long)getpid());
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = fwrite(data, 1, size, f);
	return (fclose(f) == 0 && n == size) ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (write_input(data, size) != 0)
		return 0;
	pd_diag_list d;
	pd_diag_list_init(&d);
	pd_dag *dag = NULL;
	if (pd_graphml_read(path, &dag, &d) == PD_OK && dag) {
		pd_dag_stats st;
		pd_dag_stats_compute(dag, &st);
		pd_status a = pd_dag_check_acyclic(dag, &d);
		pd_dag_check_placement(dag, &d);
		if (a == PD_OK) {
			pd_critical_path cp = {0};
			pd_dag_critical_path(dag, &cp);
			pd_critical_path_release(&cp);
		}
	}
	pd_dag_destroy(dag);
	pd_diag_list_release(&d);
	return 0;
}
