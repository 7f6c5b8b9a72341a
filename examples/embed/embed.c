/* embed.c - a program using libplandag's public API: compiles a plan and prints its
 * verdict, its diagnostics and the size of its DAG.
 *
 *   cc embed.c $(pkg-config --cflags --libs plandag) -o embed      # shared library
 *   cmake -S . -B build && cmake --build build                     # find_package
 *   ./embed PLAN.xml
 */
#include <plandag/plandag.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PLAN.xml\n", argv[0]);
		return PD_USAGE;
	}
	pd_compile_options opt = {.lower = 1};
	pd_compilation comp;
	pd_status s = pd_compile_file(argv[1], &opt, &comp);
	pd_diag_list_print(stderr, argv[1], &comp.diags);
	printf("plandag %s: %s is %s: %zu error(s), %zu warning(s)\n", PLANDAG_VERSION,
	       argv[1], s == PD_OK ? "valid" : "not valid", comp.diags.errors,
	       comp.diags.warnings);
	if (comp.reached >= PD_STAGE_LOWER)
		printf("DAG: %llu nodes, %llu edges on %d GPUs\n",
		       (unsigned long long)comp.stats.nodes, (unsigned long long)comp.stats.edges,
		       (int)comp.stats.gpus_used);
	pd_compilation_release(&comp);
	return s;
}
