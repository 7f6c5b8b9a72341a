/* arena.c - chunked bump allocator. */
#include "plandag/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (64u * 1024u)
#define ARENA_ALIGN 16u

typedef struct chunk {
	struct chunk *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
} chunk;

struct pd_arena {
	chunk *head;
	size_t total;
};

pd_arena *pd_arena_create(void)
{
	return calloc(1, sizeof(pd_arena));
}

void pd_arena_destroy(pd_arena *a)
{
	if (!a)
		return;
	for (chunk *c = a->head, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

static chunk *chunk_new(size_t at_least)
{
	size_t size = at_least > ARENA_CHUNK ? at_least : ARENA_CHUNK;
	if (size > SIZE_MAX - sizeof(chunk))
		return NULL;
	chunk *c = malloc(sizeof(chunk) + size);
	if (!c)
		return NULL;
	c->size = size;
	c->used = 0;
	c->next = NULL;
	return c;
}

void *pd_arena_calloc(pd_arena *a, size_t n, size_t size)
{
	if (size && n > (SIZE_MAX - ARENA_ALIGN) / size)
		return NULL;
	size_t bytes = (n * size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (bytes == 0)
		bytes = ARENA_ALIGN;
	chunk *c = a->head;
	if (!c || c->size - c->used < bytes) {
		chunk *fresh = chunk_new(bytes);
		if (!fresh)
			return NULL;
		/* A big allocation gets its own chunk behind the current one, so the
		 * remaining space of the current chunk is not wasted. */
		if (c && bytes > ARENA_CHUNK / 4) {
			fresh->next = c->next;
			c->next = fresh;
		} else {
			fresh->next = c;
			a->head = fresh;
		}
		c = fresh;
	}
	void *p = c->data + c->used;
	c->used += bytes;
	a->total += bytes;
	memset(p, 0, bytes);
	return p;
}

char *pd_arena_strdup(pd_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = pd_arena_calloc(a, n, 1);
	if (p)
		memcpy(p, s, n);
	return p;
}

char *pd_arena_printf(pd_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = pd_arena_calloc(a, (size_t)n + 1, 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t pd_arena_used(const pd_arena *a)
{
	return a->total;
}
