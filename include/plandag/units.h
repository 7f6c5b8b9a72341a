/* units.h - the number formats of the plan (src/util/units.c): integers, numbers,
 * sizes, bandwidths, ranges and id lists.  A util-level header: it needs only the
 * arena. */
#ifndef PLANDAG_UNITS_H
#define PLANDAG_UNITS_H

#include <stdbool.h>
#include <stdint.h>

#include "plandag/arena.h"

/* Number format helpers (src/util/units.c).  All return false on a malformed value or
 * on overflow (checked arithmetic, never a wrap). */
bool pd_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
bool pd_parse_number(const char *s, double *out);            /* "10.2e9", "989" */
bool pd_parse_size(const char *s, double *bytes);            /* "64GiB", "80GB", "1024" */
bool pd_parse_bandwidth(const char *s, double *bytes_per_s); /* "3.35TB/s" */
/* "a-b" or "a"; inclusive, a <= b */
bool pd_parse_range(const char *s, int64_t *first, int64_t *last);
/* "0-7,16-23": appends ids to a new array in the arena; false on a malformed list, an
 * id outside [0, max_id] or more than max_count ids. */
bool pd_parse_id_list(pd_arena *a, const char *s, int64_t max_id, uint32_t max_count,
                      int32_t **ids, uint32_t *n);

#endif
