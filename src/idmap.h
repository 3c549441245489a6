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

void *idmap_get(const struct idmap *m, uint64_t key);
int idmap_put(struct idmap *m, uint64_t key, void *val);
void idmap_free(struct idmap *m);

#endif
