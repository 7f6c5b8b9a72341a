/* workers.c - the shapes evaluated on every core.  Workers take shapes by index from a
 * shared counter and write each shape's candidates into that shape's own slot; the slots
 * are merged in shape order, so the result does not depend on the thread count or on
 * which worker ran what. */
#include "search/search_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_THREADS 256
#define PER_SHAPE 3 /* dp 1, the least meeting the target, the most that fits */

typedef struct shared {
	const pd_plan *plan;
	const pd_i_space *sp;
	pd_candidate *slots; /* PER_SHAPE per shape */
	uint8_t *counts;
	atomic_uint next;
	atomic_bool failed;
} shared;

typedef struct worker {
	shared *sh;
	uint64_t evaluated;
	pthread_t thread;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	shared *sh = w->sh;
	pd_i_cands local = {0};
	for (;;) {
		unsigned i = atomic_fetch_add(&sh->next, 1u);
		if (i >= sh->sp->n || atomic_load(&sh->failed))
			break;
		local.n = 0;
		if (pd_i_evaluate_shape(sh->plan, sh->sp, &sh->sp->shapes[i], &local,
		                        &w->evaluated) != PD_OK) {
			atomic_store(&sh->failed, true);
			break;
		}
		for (uint32_t k = 0; k < local.n && k < PER_SHAPE; k++)
			sh->slots[(size_t)i * PER_SHAPE + k] = local.v[k];
		sh->counts[i] = (uint8_t)(local.n < PER_SHAPE ? local.n : PER_SHAPE);
	}
	free(local.v);
	return NULL;
}

static int thread_count(int threads, uint32_t shapes)
{
	long n = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	if ((uint32_t)n > shapes)
		n = shapes ? (long)shapes : 1;
	return (int)n;
}

static pd_status run_workers(shared *sh, int n, uint64_t *evaluated)
{
	worker ws[MAX_THREADS];
	int started = 0;
	for (int t = 0; t < n; t++) {
		ws[t] = (worker){.sh = sh};
		if (t > 0 && pthread_create(&ws[t].thread, NULL, work, &ws[t]) != 0)
			break;
		started = t + 1;
	}
	work(&ws[0]); /* the calling thread is worker 0 */
	for (int t = 1; t < started; t++)
		pthread_join(ws[t].thread, NULL);
	for (int t = 0; t < started; t++)
		*evaluated += ws[t].evaluated;
	return atomic_load(&sh->failed) ? PD_IO : PD_OK;
}

pd_status pd_i_evaluate_all(const pd_plan *plan, const pd_i_space *sp, int threads,
                            pd_i_cands *out, uint64_t *evaluated)
{
	shared sh = {.plan = plan, .sp = sp};
	sh.slots = malloc(((size_t)sp->n * PER_SHAPE + 1) * sizeof(*sh.slots));
	sh.counts = calloc((size_t)sp->n + 1, 1);
	atomic_init(&sh.next, 0u);
	atomic_init(&sh.failed, false);
	pd_status s = sh.slots && sh.counts ? PD_OK : PD_IO;
	if (s == PD_OK)
		s = run_workers(&sh, thread_count(threads, sp->n), evaluated);
	for (uint32_t i = 0; s == PD_OK && i < sp->n; i++)
		for (uint8_t k = 0; k < sh.counts[i] && s == PD_OK; k++)
			if (!pd_i_cands_push(out, &sh.slots[(size_t)i * PER_SHAPE + k]))
				s = PD_IO;
	free(sh.slots);
	free(sh.counts);
	return s;
}
