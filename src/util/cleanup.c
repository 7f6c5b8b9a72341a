/* cleanup.c - no staging left behind: by a signal now, or by a killed run later.
 *
 * Writers register the paths they create (pd_cleanup_add); SIGINT, SIGTERM, SIGHUP
 * and SIGPIPE unlink the registered files, remove the registered directories and then
 * end the process as the signal would have.  The handler only calls unlink, rmdir,
 * sigaction and raise (async-signal-safe).  SIGKILL cannot be caught: staging
 * directories carry their process id (.plandag-PID-XXXXXX) and the next run into the
 * same directory removes those whose process is gone.  An exit() from inside a library
 * (Graphviz's allocators) removes the registered paths too (atexit).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plandag/cleanup.h"

#define SLOTS 32
#define PATH_BYTES 4200

enum { SLOT_FREE, SLOT_FILE, SLOT_DIR };

static char slot_path[SLOTS][PATH_BYTES];
static volatile sig_atomic_t slot_kind[SLOTS];
static const int SIGNALS[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
#define N_SIGNALS (sizeof(SIGNALS) / sizeof(SIGNALS[0]))

static void remove_registered(void)
{
	for (int i = 0; i < SLOTS; i++)
		if (slot_kind[i] == SLOT_FILE)
			unlink(slot_path[i]);
	for (int i = 0; i < SLOTS; i++)
		if (slot_kind[i] == SLOT_DIR)
			rmdir(slot_path[i]);
}

/* SA_RESETHAND | SA_NODEFER: the raise below meets the default action at once. */
static void on_signal(int sig)
{
	remove_registered();
	raise(sig);
}

void pd_die_out_of_memory(const char *doing)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg),
	                 "plandag: error: out of memory while %s: %s; nothing was written\n"
	                 "    fix: free memory or raise the process limit (ulimit -v), or "
	                 "export a smaller view (--view)\n",
	                 doing, strerror(ENOMEM));
	remove_registered();
	if (n > 0)
		(void)!write(2, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	_exit(3);
}

void pd_install_signal_cleanup(void)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	/* a library that calls exit() (Graphviz when out of memory) leaves nothing either */
	atexit(remove_registered);
	for (size_t i = 0; i < N_SIGNALS; i++) {
		/* a signal ignored by whoever started us (nohup) stays ignored */
		if (sigaction(SIGNALS[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(SIGNALS[i], &sa, NULL);
	}
}

void pd_cleanup_hold(bool hold, sigset_t *saved)
{
	if (!hold) {
		sigprocmask(SIG_SETMASK, saved, NULL);
		return;
	}
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < N_SIGNALS; i++)
		sigaddset(&set, SIGNALS[i]);
	sigprocmask(SIG_BLOCK, &set, saved);
}

int pd_cleanup_add(const char *path, bool is_dir)
{
	if (strlen(path) >= PATH_BYTES)
		return -1;
	for (int i = 0; i < SLOTS; i++) {
		if (slot_kind[i] != SLOT_FREE)
			continue;
		memcpy(slot_path[i], path, strlen(path) + 1);
		slot_kind[i] = is_dir ? SLOT_DIR : SLOT_FILE; /* complete before it counts */
		return i;
	}
	return -1;
}

void pd_cleanup_forget(int slot)
{
	if (slot >= 0 && slot < SLOTS)
		slot_kind[slot] = SLOT_FREE;
}

/* The pid of a staging name ".plandag-PID-XXXXXX", or 0 when name is not one. */
static long staging_pid(const char *name)
{
	static const char prefix[] = PD_STAGING_PREFIX;
	if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	char *end;
	errno = 0;
	long pid = strtol(name + sizeof(prefix) - 1, &end, 10);
	if (errno || pid <= 0 || end == name + sizeof(prefix) - 1 || *end != '-' ||
	    strlen(end + 1) != 6)
		return 0;
	return pid;
}

void pd_cleanup_stale_staging(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	char path[PATH_BYTES];
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		long pid = staging_pid(e->d_name);
		struct stat st;
		if (pid == 0 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		/* only our own directories, and only when their process is gone */
		if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
			continue;
		if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
			pd_remove_tree(path); /* a directory export inside it too */
	}
	closedir(d);
}

/* Removes path and, for a directory, everything under it, at most `depth` levels down. */
static pd_status remove_at(const char *path, int depth)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? PD_OK : PD_IO;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) == 0 ? PD_OK : PD_IO;
	DIR *d = depth > 0 ? opendir(path) : NULL;
	pd_status s = d ? PD_OK : PD_IO;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		size_t n = strlen(path) + strlen(e->d_name) + 2;
		char *child = malloc(n);
		if (!child) {
			s = PD_IO;
			break;
		}
		snprintf(child, n, "%s/%s", path, e->d_name);
		if (remove_at(child, depth - 1) != PD_OK)
			s = PD_IO;
		free(child);
	}
	if (d)
		closedir(d);
	return rmdir(path) == 0 ? s : PD_IO;
}

pd_status pd_remove_tree(const char *path)
{
	return remove_at(path, PD_REMOVE_TREE_DEPTH);
}
