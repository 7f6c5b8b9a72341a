/* arena.h - one bump allocator per compilation.
 *
 * The plan, its strings and the analysis are allocated here and freed at once by
 * pd_arena_destroy(); nothing in the IR is freed one by one.  Large arrays whose size
 * grows during construction (the DAG's node and edge arrays) live outside the arena.
 */
#ifndef PLANDAG_ARENA_H
#define PLANDAG_ARENA_H

#include <stddef.h>

typedef struct pd_arena pd_arena;

/* Returns a new arena, or NULL when out of memory. */
pd_arena *pd_arena_create(void);
/* Frees every block of the arena; accepts NULL. */
void pd_arena_destroy(pd_arena *a);
/* Zeroed, 16-byte aligned memory owned by the arena; NULL when out of memory or when
 * n * size overflows. */
void *pd_arena_calloc(pd_arena *a, size_t n, size_t size);
/* Copy of s (NUL-terminated) owned by the arena; NULL when out of memory. */
char *pd_arena_strdup(pd_arena *a, const char *s);
/* printf into arena memory. */
char *pd_arena_printf(pd_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Bytes handed out so far (for the benchmark). */
size_t pd_arena_used(const pd_arena *a);

#endif
