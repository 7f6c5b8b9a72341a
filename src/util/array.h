/* array.h - the shared containers: growable arrays, a string buffer, an intern table.
 *
 * Internal to plandag (pd_i_), usable by every stage: nothing here includes a stage
 * above src/util.  Growth is overflow-checked and reports PD_IO (out of memory) as a
 * pd_status; nothing is ever shrunk.  Free the memory with free() (arrays: free(v)).
 */
#ifndef PLANDAG_ARRAY_H
#define PLANDAG_ARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plandag/status.h"

/* ---- growable arrays ---- */

/* A typed growable array: PD_VEC(int32_t) ids = {0}; PD_CHECK(PD_VEC_PUSH(&ids, 7)). */
#define PD_VEC(T)                                                                          \
	struct {                                                                               \
		T *v;                                                                              \
		size_t n, cap;                                                                     \
	}

/* Makes room for at least `want` elements of `size` bytes in *v of capacity *cap,
 * doubling from 16 elements.  PD_IO when out of memory or want * size overflows. */
pd_status pd_i_array_grow(void **v, size_t *cap, size_t want, size_t size);

/* The same for arrays of millions of elements written once (the DAG's nodes, edges,
 * CSR): exactly `want` elements, and a first allocation by pd_i_alloc_big. */
pd_status pd_i_array_grow_exact_big(void **v, size_t *cap, size_t want, size_t size);

/* *v resized to exactly n elements (at least one byte): reallocarray with a pd_status. */
pd_status pd_i_array_resize(void **v, size_t n, size_t size);

/* Malloc for arrays of millions of elements: 2 MiB aligned and advised for
 * transparent huge pages when at least 2 MiB (array.c says why).  Free with free(). */
void *pd_i_alloc_big(size_t size);

#define PD_VEC_RESERVE(vec, want)                                                          \
	pd_i_array_grow((void **)&(vec)->v, &(vec)->cap, (want), sizeof(*(vec)->v))
/* Appends x (evaluated once, after the growth). */
#define PD_VEC_PUSH(vec, x)                                                                \
	(PD_VEC_RESERVE((vec), (vec)->n + 1) == PD_OK ? ((vec)->v[(vec)->n++] = (x), PD_OK)    \
	                                              : PD_IO)

/* ---- string buffer ---- */

/* Bytes with a terminating NUL after the n used ones (s is NULL before the first
 * append).  Embedded NULs are allowed: a pool of strings is one buffer. */
typedef struct pd_i_strbuf {
	char *s;
	size_t n, cap;
} pd_i_strbuf;

/* Appends len bytes of p; PD_IO when out of memory or the size overflows. */
pd_status pd_i_strbuf_append(pd_i_strbuf *b, const char *p, size_t len);
static inline void pd_i_strbuf_clear(pd_i_strbuf *b)
{
	b->n = 0;
	if (b->s)
		b->s[0] = 0;
}
void pd_i_strbuf_release(pd_i_strbuf *b);

/* ---- intern table ---- */

/* An open-addressing hash table of uint32 indices into an array the caller owns (the
 * entries themselves: costs, GPU groups, node ids).  UINT32_MAX marks an empty slot;
 * the table stays at most half full.  The caller hashes and compares: pd_i_intern_find
 * is inline so that a constant `equal` callback is inlined too (the lowering interns
 * on its hot path). */
typedef struct pd_i_intern {
	uint32_t *slot;
	uint32_t cap; /* power of two, 0 before the first pd_i_intern_reserve */
} pd_i_intern;

/* hash_of(ctx, i): the hash of entry i; equal(ctx, i, key): whether entry i is key. */
typedef uint32_t (*pd_i_hash_fn)(const void *ctx, uint32_t i);
typedef bool (*pd_i_equal_fn)(const void *ctx, uint32_t i, const void *key);

/* Makes room for entry number n (0-based) of the n already present, rehashing them at
 * twice the size (min_cap the first time) when the table would be more than half full. */
pd_status pd_i_intern_reserve(pd_i_intern *t, uint32_t n, uint32_t min_cap,
                              pd_i_hash_fn hash_of, const void *ctx);

/* The index of key (hash h) or UINT32_MAX; *where is then the free slot for it
 * (pd_i_intern_set).  Call pd_i_intern_reserve before. */
static inline uint32_t pd_i_intern_find(const pd_i_intern *t, uint32_t h, const void *key,
                                        pd_i_equal_fn equal, const void *ctx,
                                        uint32_t *where)
{
	uint32_t m = t->cap - 1, s = h & m;
	for (; t->slot[s] != UINT32_MAX; s = (s + 1) & m)
		if (equal(ctx, t->slot[s], key))
			return t->slot[s];
	*where = s;
	return UINT32_MAX;
}

static inline void pd_i_intern_set(pd_i_intern *t, uint32_t where, uint32_t index)
{
	t->slot[where] = index;
}

void pd_i_intern_release(pd_i_intern *t);

/* FNV-1a over bytes and over a NUL-terminated string. */
static inline uint32_t pd_i_hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static inline uint32_t pd_i_hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

#endif
