/* SPDX-License-Identifier: GPL-2.0 */
/* A small open-addressing hash table from 64-bit ids to pointers. */
#ifndef LEAKTOP_IDMAP_H
#define LEAKTOP_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap {
	uint64_t *keys;
	void **vals;
	unsigned char *used;
	size_t cap, n;
};

/* Combine b into the key a (for composite keys). */
static inline uint64_t id_mix(uint64_t a, uint64_t b)
{
	return (a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2))) * 0xff51afd7ed558ccdULL;
}

void *idmap_get(const struct idmap *m, uint64_t key);
int idmap_put(struct idmap *m, uint64_t key, void *val);
void idmap_free(struct idmap *m);

#endif
