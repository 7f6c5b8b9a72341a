/* atomic_file.c - outputs appear complete under their name or not at all.
 *
 * Write to DIR/.NAME.XXXXXX (same directory, so rename() is atomic on one file system),
 * fsync, then rename onto the final name.  A failure removes the temporary file and
 * leaves any earlier file of that name untouched; so does a signal (the temporary file
 * is registered with cleanup.c while it exists).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plandag/atomic_file.h"

/* "dir/name" -> "dir/.name.XXXXXX"; "name" -> ".name.XXXXXX". */
static char *tmp_name_for(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = path + dirlen;
	size_t n = strlen(path) + sizeof(".") + sizeof(".XXXXXX");
	char *t = malloc(n);
	if (!t)
		return NULL;
	snprintf(t, n, "%.*s.%s.XXXXXX", (int)dirlen, path, base);
	return t;
}

pd_status pd_atomic_open(pd_atomic_file *af, const char *path)
{
	memset(af, 0, sizeof(*af));
	af->slot = -1;
	af->path = strdup(path);
	af->tmp = tmp_name_for(path);
	if (!af->path || !af->tmp)
		goto fail;
	sigset_t saved;
	pd_cleanup_hold(true, &saved);
	int fd = mkstemp(af->tmp);
	af->slot = fd >= 0 ? pd_cleanup_add(af->tmp, false) : -1;
	pd_cleanup_hold(false, &saved);
	if (fd < 0) {
		free(af->tmp);
		af->tmp = NULL; /* nothing to remove */
		goto fail;
	}
	/* mkstemp creates 0600; outputs are ordinary files, readable like any other */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	af->f = fdopen(fd, "wb");
	if (!af->f) {
		close(fd);
		goto fail;
	}
	return PD_OK;
fail:
	pd_atomic_abort(af);
	return PD_IO;
}

pd_status pd_atomic_commit(pd_atomic_file *af)
{
	if (!af->f)
		return PD_IO;
	int bad = ferror(af->f) || fflush(af->f) != 0 || fsync(fileno(af->f)) != 0;
	bad |= fclose(af->f) != 0;
	af->f = NULL;
	if (bad || rename(af->tmp, af->path) != 0) {
		pd_atomic_abort(af);
		return PD_IO;
	}
	pd_cleanup_forget(af->slot);
	af->slot = -1;
	free(af->tmp);
	free(af->path);
	af->tmp = af->path = NULL;
	return PD_OK;
}

void pd_atomic_abort(pd_atomic_file *af)
{
	int saved = errno; /* callers report the failure that led here */
	if (af->f)
		fclose(af->f);
	if (af->tmp)
		unlink(af->tmp);
	pd_cleanup_forget(af->slot);
	af->slot = -1;
	free(af->tmp);
	free(af->path);
	af->f = NULL;
	af->tmp = af->path = NULL;
	errno = saved;
}

pd_status pd_mkdir_p(const char *dir)
{
	if (!dir || !*dir)
		return PD_IO;
	char *p = strdup(dir);
	if (!p)
		return PD_IO;
	pd_status s = PD_OK;
	for (char *c = p + 1; s == PD_OK; c++) {
		int end = *c == '\0';
		if (*c != '/' && !end)
			continue;
		*c = '\0';
		struct stat st;
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			s = PD_IO;
		else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
			s = PD_IO; /* e.g. a regular file in the way */
		if (s != PD_OK && errno == EEXIST)
			errno = ENOTDIR;
		if (end)
			break;
		*c = '/';
	}
	free(p);
	return s;
}
