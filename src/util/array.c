/* array.c - growable arrays, the string buffer and the intern table of array.h. */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#include "util/array.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

pd_status pd_i_array_resize(void **v, size_t n, size_t size)
{
	if (n && size > SIZE_MAX / n)
		return PD_IO;
	size_t bytes = n * size;
	void *p = realloc(*v, bytes ? bytes : 1);
	if (!p)
		return PD_IO;
	*v = p;
	return PD_OK;
}

pd_status pd_i_array_grow(void **v, size_t *cap, size_t want, size_t size)
{
	if (want <= *cap)
		return PD_OK;
	size_t c = *cap ? *cap : 16;
	while (c < want) {
		if (c > SIZE_MAX / 2)
			return PD_IO;
		c *= 2;
	}
	PD_CHECK(pd_i_array_resize(v, c, size));
	*cap = c;
	return PD_OK;
}

#define HUGE_PAGE ((size_t)2 << 20)

/* A big array written once from start to end (the lowering's nodes and edges, the
 * CSR, the checks' scratch) costs a page fault every 4 KiB: half of lower+check on a
 * 5 M-node DAG.  2 MiB alignment and MADV_HUGEPAGE let the kernel (THP in `madvise`
 * mode, the usual default) back it with 2 MiB pages instead.  The hint may be refused;
 * the memory is ordinary malloc memory either way (free, realloc). */
void *pd_i_alloc_big(size_t size)
{
	if (size < HUGE_PAGE)
		return malloc(size ? size : 1);
	void *p = NULL;
	if (posix_memalign(&p, HUGE_PAGE, size) != 0)
		return NULL;
	(void)madvise(p, size & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);
	return p;
}

pd_status pd_i_array_grow_exact_big(void **v, size_t *cap, size_t want, size_t size)
{
	if (want <= *cap)
		return PD_OK;
	if (size > SIZE_MAX / want)
		return PD_IO;
	if (*v)
		PD_CHECK(pd_i_array_resize(v, want, size));
	else if (!(*v = pd_i_alloc_big(want * size)))
		return PD_IO;
	*cap = want;
	return PD_OK;
}

pd_status pd_i_strbuf_append(pd_i_strbuf *b, const char *p, size_t len)
{
	if (len > SIZE_MAX - 1 - b->n)
		return PD_IO;
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap;
		PD_CHECK(pd_i_array_grow((void **)&b->s, &cap, b->n + len + 1, 1));
		b->cap = cap;
	}
	memcpy(b->s + b->n, p, len);
	b->n += len;
	b->s[b->n] = 0;
	return PD_OK;
}

void pd_i_strbuf_release(pd_i_strbuf *b)
{
	free(b->s);
	*b = (pd_i_strbuf){0};
}

pd_status pd_i_intern_reserve(pd_i_intern *t, uint32_t n, uint32_t min_cap,
                              pd_i_hash_fn hash_of, const void *ctx)
{
	if ((uint64_t)(n + 1) * 2 <= t->cap)
		return PD_OK;
	if (t->cap > UINT32_MAX / 2)
		return PD_IO;
	uint32_t cap = t->cap ? t->cap * 2 : min_cap, m = cap - 1;
	uint32_t *slot = malloc((size_t)cap * sizeof(uint32_t));
	if (!slot)
		return PD_IO;
	memset(slot, 0xff, (size_t)cap * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t h = hash_of(ctx, i) & m;
		while (slot[h] != UINT32_MAX)
			h = (h + 1) & m;
		slot[h] = i;
	}
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return PD_OK;
}

void pd_i_intern_release(pd_i_intern *t)
{
	free(t->slot);
	*t = (pd_i_intern){0};
}
