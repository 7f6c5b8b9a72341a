/* cleanup.h - nothing a run writes is left behind: removed when a signal ends the run,
 * or by the next run after a SIGKILL (src/util/cleanup.c).
 *
 * The bottom of the layering: it needs nothing but pd_status (diag.h).
 */
#ifndef PLANDAG_CLEANUP_H
#define PLANDAG_CLEANUP_H

#include <signal.h>
#include <stdbool.h>

#include "plandag/status.h"

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

/* rm -r of a tree plandag wrote: symbolic links are removed, never followed; at most
 * PD_REMOVE_TREE_DEPTH levels are descended.  PD_IO when something stays. */
#define PD_REMOVE_TREE_DEPTH 16
pd_status pd_remove_tree(const char *path);

#endif
