/* util.h - internal helpers every stage may use (not a public interface).
 *
 * src/util is the bottom of the layering util <- plan <- dag <- export <- cli: nothing
 * here includes a higher stage.
 */
#ifndef PLANDAG_UTIL_H
#define PLANDAG_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A broken invariant (a bug, never bad input): prints "plandag: internal error:
 * FILE:LINE: FUNC: assertion `COND' failed" on stderr and aborts.  Stays on under NDEBUG:
 * an impossible state must never be reported as an I/O error or run on. */
#define PD_ASSERT(cond)                                                                    \
	((cond) ? (void)0 : pd_i_assert_fail(#cond, __FILE__, __LINE__, __func__))

_Noreturn void pd_i_assert_fail(const char *cond, const char *file, int line,
                                const char *func);

/* qsort comparator for int32_t, ascending. */
int pd_i_cmp_i32(const void *a, const void *b);

/* Writes ids compactly ("0-7,16,18-19") into buf (size > 0), truncated with ",..." when
 * it does not fit; returns the length written.  A buffer of 24 * n + 8 bytes always
 * holds the whole list. */
size_t pd_i_format_ids(char *buf, size_t size, const int32_t *ids, uint32_t n);

/* "12 B", "320.00 kB", "1.50 MB", ... "n/a" (SI: powers of 1000, like the plan's units;
 * two decimals above bytes; "%.3g" beyond EB).  The one byte formatter of every
 * output (src/util/units.c). */
void pd_i_format_bytes(double bytes, char *buf, size_t size);

/* The step between axis ticks: 1, 2 or 5 x 10^k, the smallest at least span / ticks
 * (span > 0, ticks > 0).  The one tick rule of every picture (timeline, suggest's
 * Pareto chart). */
double pd_i_nice_step(double span, int ticks);

#endif
