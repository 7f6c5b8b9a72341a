/* cgraph_mem.c - cgraph's memory discipline, with a clean death when memory runs out.
 *
 * cgraph 2.42 reports a failed allocation ("memory allocation failure") and then
 * dereferences the NULL, so plandag would die of SIGSEGV with its staging left behind.
 * These allocators zero memory like cgraph's own (AgMemDisc) and, when malloc fails,
 * end the process through pd_die_out_of_memory: a message, no staging, exit 3.
 */
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

static void *mem_open(Agdisc_t *disc)
{
	(void)disc;
	return NULL;
}

static void *mem_alloc(void *state, size_t req)
{
	(void)state;
	void *p = calloc(1, req ? req : 1);
	if (!p)
		pd_die_out_of_memory("building the DOT graph");
	return p;
}

static void *mem_resize(void *state, void *ptr, size_t old, size_t req)
{
	(void)state;
	char *p = realloc(ptr, req ? req : 1);
	if (!p)
		pd_die_out_of_memory("building the DOT graph");
	if (req > old)
		memset(p + old, 0, req - old);
	return p;
}

static void mem_free(void *state, void *ptr)
{
	(void)state;
	free(ptr);
}

/* No close: agclose takes a close function for "free the whole heap at once" and then
 * skips freeing the objects one by one (AgMemDisc has none either). */
Agmemdisc_t pd_i_cgraph_mem = {mem_open, mem_alloc, mem_resize, mem_free, NULL};
