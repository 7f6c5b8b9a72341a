/* atomic_file.h - output files that appear complete or not at all, and the cleanup of
 * what a run leaves behind when a signal ends it (src/util/atomic_file.c, cleanup.c).
 *
 * The bottom of the layering: it needs nothing but pd_status (diag.h).
 */
#ifndef PLANDAG_ATOMIC_FILE_H
#define PLANDAG_ATOMIC_FILE_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "plandag/diag.h"

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
/* rm -r of a tree plandag wrote: symbolic links are removed, never followed; at most
 * PD_REMOVE_TREE_DEPTH levels are descended.  PD_IO when something stays. */
#define PD_REMOVE_TREE_DEPTH 16
pd_status pd_remove_tree(const char *path);

/* ---- cleanup on signals and after killed runs (src/util/cleanup.c) ---- */
/* SIGINT, SIGTERM, SIGHUP and SIGPIPE remove every registered path (files first, then
 * directories) and end the process as the signal would.  Call once, early in main. */
void pd_install_signal_cleanup(void);
/* Registers a path to remove on a signal; returns its slot, -1 when the table is full
 * (the path is then not removed on a signal: nothing else changes). */
int pd_cleanup_add(const char *path, bool is_dir);
void pd_cleanup_forget(int slot);
/* Blocks (hold) or restores (from *saved) those signals around creating and
 * registering a path, so that no signal finds it created but unregistered. */
void pd_cleanup_hold(bool hold, sigset_t *saved);
/* Staging directories in an output directory are named PD_STAGING_PREFIX "PID-XXXXXX".
 * Removes those of processes that are gone (a SIGKILL); nothing else in dir. */
#define PD_STAGING_PREFIX ".plandag-"
void pd_cleanup_stale_staging(const char *dir);
/* For libraries that cannot report a failed allocation (cgraph dereferences it):
 * prints "out of memory while DOING", removes the registered paths, exits 3. */
_Noreturn void pd_die_out_of_memory(const char *doing);

#endif
