/* suggest.h - "did you mean": the nearest known name to a misspelt one. */
#ifndef PLANDAG_SUGGEST_H
#define PLANDAG_SUGGEST_H

#include <stddef.h>

/* Suggestions are at most this many single-character edits (insert, delete, replace,
 * swap of neighbours) away from the word; '_' and '-' count as the same character. */
#define PD_SUGGEST_MAX_DISTANCE 2

/* The name among names[0..n) closest to word, or NULL when none is within
 * PD_SUGGEST_MAX_DISTANCE or the word is one of them.  Ties go to the first. */
const char *pd_suggest(const char *word, const char *const *names, size_t n);

#endif
