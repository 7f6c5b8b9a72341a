/* fuzz_chakra.c - libFuzzer target: the Chakra trace reader and checks behind
 * `plandag verify DIR.chakra`, on a whole trace set held in memory.
 *
 * An input is a bundle: one flags byte (bit 0: the first chunk is comm_groups.json),
 * then chunks of a varint length and that many bytes, one per rank in order (a chunk
 * whose length runs past the input ends the bundle; at most 16 ranks).  Each rank's
 * bytes are handed to the reader in a buffer of exactly their size, so that
 * AddressSanitizer catches a read one byte past a file.  tests/fuzz/seeds/fuzz_chakra/
 * holds bundles of sets written by `plandag compile --emit chakra` (make them with
 * tests/fuzz/chakra_bundle.py). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/chakra_internal.h"

#define MAX_RANKS 16

static const char *const NAMES[MAX_RANKS] = {
    "f.0.et", "f.1.et", "f.2.et",  "f.3.et",  "f.4.et",  "f.5.et",  "f.6.et",  "f.7.et",
    "f.8.et", "f.9.et", "f.10.et", "f.11.et", "f.12.et", "f.13.et", "f.14.et", "f.15.et"};

/* The next chunk's bytes as a malloc'd copy of exactly their size; NULL at the end. */
static uint8_t *next_chunk(const uint8_t *d, size_t size, size_t *pos, size_t *len)
{
	uint64_t n = 0;
	for (unsigned shift = 0; *pos < size && shift < 35; shift += 7) {
		uint8_t b = d[(*pos)++];
		n |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			if (n > size - *pos)
				return NULL;
			uint8_t *c = malloc(n ? n : 1);
			if (c && n)
				memcpy(c, d + *pos, n);
			*pos += n;
			*len = n;
			return c;
		}
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t pos = 1, len = 0;
	char *groups = NULL;
	if (data[0] & 1) {
		uint8_t *g = next_chunk(data, size, &pos, &len);
		if (!g)
			return 0;
		groups = realloc(g, len + 1);
		if (!groups) {
			free(g);
			return 0;
		}
		groups[len] = '\0';
	}
	pd_i_et_file files[MAX_RANKS];
	uint32_t n = 0;
	uint8_t *c;
	while (n < MAX_RANKS && (c = next_chunk(data, size, &pos, &len)) != NULL) {
		files[n] = (pd_i_et_file){NAMES[n], c, len};
		n++;
	}
	pd_diag_list diags;
	pd_diag_list_init(&diags);
	if (n > 0)
		pd_i_chakra_verify_files(files, n, groups, NULL, &diags);
	pd_diag_list_release(&diags);
	for (uint32_t i = 0; i < n; i++)
		free((void *)files[i].data);
	free(groups);
	return 0;
}
