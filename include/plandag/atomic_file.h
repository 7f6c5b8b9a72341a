/* atomic_file.h - output files that appear complete or not at all
 * (src/util/atomic_file.c).  A file being written is registered with the cleanup of
 * cleanup.h, so that a signal removes it.
 */
#ifndef PLANDAG_ATOMIC_FILE_H
#define PLANDAG_ATOMIC_FILE_H

#include <stdio.h>

#include "plandag/cleanup.h"
#include "plandag/status.h"

/* ---- atomic output files (src/util/atomic_file.c) ---- */
typedef struct pd_atomic_file {
	char *path; /* final name */
	char *tmp;  /* temporary name in the same directory */
	FILE *f;    /* open on tmp */
	int slot;   /* tmp's cleanup slot (pd_cleanup_add) */
} pd_atomic_file;
/* Creates DIR/.NAME.XXXXXX next to path and opens it for writing. */
pd_status pd_atomic_open(pd_atomic_file *af, const char *path);
/* Flushes, syncs, closes and renames tmp onto path.  On failure the tmp is removed. */
pd_status pd_atomic_commit(pd_atomic_file *af);
/* Closes and removes tmp; accepts an already committed/aborted file. */
void pd_atomic_abort(pd_atomic_file *af);
/* mkdir -p */
pd_status pd_mkdir_p(const char *dir);

#endif
