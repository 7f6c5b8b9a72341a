/* fuzz_graphml.c - libFuzzer target: the GraphML reader behind `plandag verify` and the
 * DAG checks it runs.  The reader takes a path; each input is written to an anonymous
 * in-memory file (memfd) and read through /proc/self/fd/N, so that nothing is left on
 * disk by any job, however it ends. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "plandag/plandag.h"

static int mem_fd = -1;
static char path[64];

static int write_input(const uint8_t *data, size_t size)
{
	if (mem_fd < 0) {
		mem_fd = memfd_create("plandag-fuzz.graphml", MFD_CLOEXEC);
		if (mem_fd < 0)
			return -1;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", mem_fd);
	}
	if (ftruncate(mem_fd, 0) != 0)
		return -1;
	size_t done = 0;
	while (done < size) {
		ssize_t n = pwrite(mem_fd, data + done, size - done, (off_t)done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
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
