/* chakra_dir.c - pd_chakra_verify: a trace set directory as a whole.  Finds the
 * NAME.<rank>.et files, takes the rank count from ranks.json (else from the files) and
 * holds it against network.yml's npus_count, reads comm_groups.json, then feeds the
 * files one at a time to chakra_read.c (each file's bytes are freed once parsed) and
 * runs the checks of chakra_verify.c.  A set written by another tool may lack the JSON
 * and YAML files: each missing one is a note saying what could not be checked.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export/chakra_internal.h"

#define MAX_RANKS (1u << 20)
#define PATH_BYTES 4600

typedef struct et_dir {
	const char *dir;
	char prefix[256];
	char **file;      /* by rank: the file name, NULL when absent */
	uint32_t n_file;  /* entries of file[] */
	uint32_t top;     /* highest file rank + 1 */
	uint32_t n_ranks; /* the set's rank count */
	pd_diag_list *diags;
} et_dir;

static pd_status io_error(et_dir *d, const char *what, const char *path, int err)
{
	pd_diag_add(d->diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot %s %s: %s", what, path,
	            strerror(err ? err : EIO));
	return PD_IO;
}

static pd_status dir_error(et_dir *d, const char *fix, const char *fmt, const char *arg)
{
	pd_diag_fix(pd_diag_add(d->diags, PD_RULE_TRACE, PD_ERROR, 0, 0, fmt, arg), "%s", fix);
	return PD_INVALID;
}

/* "NAME.<rank>.et" -> rank, and the NAME; false for any other name. */
static bool et_name(const char *name, char *prefix, size_t cap, uint32_t *rank)
{
	size_t n = strlen(name);
	if (n < 5 || strcmp(name + n - 3, ".et") != 0)
		return false;
	size_t end = n - 3, i = end;
	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	if (i == end || i < 2 || name[i - 1] != '.' || end - i > 7 || i - 1 >= cap)
		return false;
	*rank = (uint32_t)strtoul(name + i, NULL, 10);
	snprintf(prefix, cap, "%.*s", (int)(i - 1), name);
	return *rank < MAX_RANKS;
}

static pd_status add_file(et_dir *d, const char *name, const char *prefix, uint32_t rank)
{
	if (!d->prefix[0])
		snprintf(d->prefix, sizeof(d->prefix), "%s", prefix);
	else if (strcmp(d->prefix, prefix) != 0)
		return dir_error(d, "keep one workload's files in a set",
		                 "%s: a second trace name in one set", name);
	if (rank >= d->n_file) {
		uint32_t n = rank + 1 > 2 * d->n_file ? rank + 1 : 2 * d->n_file;
		char **f = realloc(d->file, n * sizeof(char *));
		if (!f)
			return PD_IO;
		memset(f + d->n_file, 0, (n - d->n_file) * sizeof(char *));
		d->file = f;
		d->n_file = n;
	}
	d->top = rank + 1 > d->top ? rank + 1 : d->top;
	return (d->file[rank] = strdup(name)) ? PD_OK : PD_IO;
}

static pd_status scan(et_dir *d)
{
	DIR *dh = opendir(d->dir);
	if (!dh)
		return io_error(d, "read the trace directory", d->dir, errno);
	pd_status st = PD_OK;
	struct dirent *e;
	char prefix[256];
	uint32_t rank;
	while (st == PD_OK && (e = readdir(dh)) != NULL)
		if (et_name(e->d_name, prefix, sizeof(prefix), &rank))
			st = add_file(d, e->d_name, prefix, rank);
	closedir(dh);
	if (st == PD_OK && !d->prefix[0])
		st = dir_error(d, "write the set with plandag compile --emit chakra",
		               "no NAME.<rank>.et file%s", "");
	return st;
}

/* A whole small file as a NUL-terminated string; NULL with *missing when absent. */
static pd_status slurp(et_dir *d, const char *file, char **out, size_t *size, bool *missing)
{
	char path[PATH_BYTES];
	snprintf(path, sizeof(path), "%s/%s", d->dir, file);
	*out = NULL;
	*missing = false;
	FILE *f = fopen(path, "rb");
	if (!f && errno == ENOENT) {
		*missing = true;
		return PD_OK;
	}
	struct stat st;
	if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		int err = f ? (errno ? errno : EISDIR) : errno;
		if (f)
			fclose(f);
		return io_error(d, "read", path, err);
	}
	*size = (size_t)st.st_size;
	*out = malloc(*size + 1);
	bool ok = *out && fread(*out, 1, *size, f) == *size;
	int err = *out ? errno : ENOMEM;
	fclose(f);
	if (!ok) {
		free(*out);
		*out = NULL;
		return io_error(d, "read", path, err);
	}
	(*out)[*size] = '\0';
	return PD_OK;
}

static void note(et_dir *d, const char *what)
{
	pd_diag_add(d->diags, PD_RULE_TRACE, PD_NOTE, 0, 0, "%s", what);
}

/* The rank count: ranks.json's entries "0".."N-1", else the highest file's rank + 1. */
static pd_status count_ranks(et_dir *d)
{
	char *text;
	size_t size;
	bool missing;
	PD_CHECK(slurp(d, "ranks.json", &text, &size, &missing));
	if (missing) {
		d->n_ranks = d->top;
		note(d, "no ranks.json: the rank count is the highest file's rank + 1");
		return PD_OK;
	}
	cJSON *root = cJSON_Parse(text);
	free(text);
	pd_status st = PD_OK;
	int n = cJSON_IsObject(root) ? cJSON_GetArraySize(root) : -1;
	for (int r = 0; n > 0 && r < n; r++) {
		char key[16];
		snprintf(key, sizeof(key), "%d", r);
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, key)))
			n = -1;
	}
	cJSON_Delete(root);
	if (n <= 0 || (uint32_t)n > MAX_RANKS)
		st = dir_error(
		    d, "write it as {\"0\": {\"gpu\": 0, ...}, \"1\": ...}, one entry per rank",
		    "ranks.json%s: not an object with one entry per rank 0..N-1", "");
	else
		d->n_ranks = (uint32_t)n;
	return st;
}

/* network.yml's npus_count product must be the rank count: ASTRA-sim takes its NPUs
 * from it and ignores trace files beyond them. */
static pd_status check_network(et_dir *d)
{
	char *text;
	size_t size;
	bool missing;
	PD_CHECK(slurp(d, "network.yml", &text, &size, &missing));
	if (missing) {
		note(d, "no network.yml: the NPU count ASTRA-sim will use is not checked");
		return PD_OK;
	}
	const char *p = strstr(text, "npus_count:");
	p = p ? strchr(p, '[') : NULL;
	unsigned long long prod = p ? 1 : 0;
	while (p && *p && *p != ']' && *p != '\n' && prod <= MAX_RANKS) {
		char *end;
		unsigned long long v = strtoull(p + 1, &end, 10);
		prod = end == p + 1 ? 0 : prod * v;
		p = end == p + 1 ? NULL : strpbrk(end, ",]\n");
		if (p && *p != ',')
			break;
	}
	free(text);
	if (prod == d->n_ranks)
		return PD_OK;
	char what[64];
	snprintf(what, sizeof(what), "%u", d->n_ranks);
	return dir_error(d, "make the product of npus_count the number of ranks",
	                 "network.yml: npus_count does not multiply to the set's %s ranks "
	                 "(ASTRA-sim runs that many NPUs and ignores the other files)",
	                 what);
}

static pd_status extra_files(et_dir *d)
{
	pd_status st = PD_OK;
	for (uint32_t r = d->n_ranks; r < d->n_file; r++)
		if (d->file[r])
			st = dir_error(d, "remove the file, or list the rank in ranks.json",
			               "%s: a rank beyond ranks.json's (ASTRA-sim ignores it)",
			               d->file[r]);
	return st;
}

/* Feeds every rank's file to the set, one at a time. */
static pd_status read_ranks(et_dir *d, pd_i_et_set *s)
{
	for (uint32_t r = 0; r < d->n_ranks; r++) {
		char *data = NULL;
		size_t size = 0;
		bool missing = r >= d->n_file || !d->file[r];
		if (!missing)
			PD_CHECK(slurp(d, d->file[r], &data, &size, &missing));
		pd_status st = pd_i_et_set_add(s, r, (const uint8_t *)data, size);
		free(data);
		PD_CHECK(st);
	}
	return PD_OK;
}

/* Names by rank for the messages: the file's, or the name a missing one would have. */
static pd_status rank_names(const et_dir *d, char **names)
{
	for (uint32_t r = 0; r < d->n_ranks; r++) {
		char name[300];
		snprintf(name, sizeof(name), "%s.%u.et", d->prefix, r);
		bool present = r < d->n_file && d->file[r];
		if (!(names[r] = strdup(present ? d->file[r] : name)))
			return PD_IO;
	}
	return PD_OK;
}

static pd_status check_set(et_dir *d, char **names, pd_chakra_summary *sum)
{
	char *groups;
	size_t size;
	bool missing;
	PD_CHECK(rank_names(d, names));
	PD_CHECK(slurp(d, "comm_groups.json", &groups, &size, &missing));
	if (missing)
		note(d, "no comm_groups.json: a group's members are the ranks that issue its "
		        "collectives");
	pd_i_et_set s;
	pd_status st = pd_i_et_set_init(&s, d->n_ranks, (const char **)names, groups, d->diags);
	free(groups);
	if (st == PD_OK)
		st = read_ranks(d, &s);
	if (st == PD_OK)
		st = pd_i_et_set_check(&s);
	if (sum)
		*sum = (pd_chakra_summary){d->n_ranks, s.n_nodes, s.n_groups};
	pd_i_et_set_release(&s);
	return st;
}

pd_status pd_chakra_verify(const char *dir, pd_chakra_summary *sum, pd_diag_list *diags)
{
	et_dir d = {.dir = dir, .diags = diags};
	if (sum)
		*sum = (pd_chakra_summary){0, 0, 0};
	pd_status st = scan(&d);
	if (st == PD_OK)
		st = count_ranks(&d);
	if (st == PD_OK)
		st = check_network(&d);
	if (st != PD_IO && d.n_ranks) {
		pd_status x = extra_files(&d);
		st = st == PD_OK ? x : st;
	}
	char **names = st != PD_IO && d.n_ranks ? calloc(d.n_ranks + 1, sizeof(char *)) : NULL;
	if (names) {
		pd_status c = check_set(&d, names, sum);
		st = c == PD_IO ? PD_IO : st == PD_OK ? c : st;
	} else if (st != PD_IO && d.n_ranks)
		st = PD_IO;
	for (uint32_t r = 0; names && r < d.n_ranks; r++)
		free(names[r]);
	free(names);
	for (uint32_t r = 0; r < d.n_file; r++)
		free(d.file[r]);
	free(d.file);
	if (st == PD_IO && !diags->errors)
		pd_diag_add(diags, PD_RULE_IO, PD_ERROR, 0, 0, "cannot check %s: %s", dir,
		            strerror(ENOMEM));
	return st == PD_OK && diags->errors ? PD_INVALID : st;
}
