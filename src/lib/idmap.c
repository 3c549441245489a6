// SPDX-License-Identifier: GPL-2.0
/* Linear probing, grown at half full; keys are already well mixed hashes
 * or addresses, so one multiply spreads them enough. */
#include <errno.h>
#include <stdlib.h>
#include "lib/idmap.h"

static size_t slot(uint64_t key, size_t cap)
{
	return (key * 0x9e3779b97f4a7c15ULL >> 17) & (cap - 1);
}

void *idmap_get(const struct idmap *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i])
			return NULL;
		if (m->keys[i] == key)
			return m->vals[i];
	}
}

static int grow(struct idmap *m)
{
	struct idmap big = { .cap = m->cap ? m->cap * 2 : 64 };

	big.keys = calloc(big.cap, sizeof(*big.keys));
	big.vals = calloc(big.cap, sizeof(*big.vals));
	big.used = calloc(big.cap, 1);
	if (!big.keys || !big.vals || !big.used) {
		idmap_free(&big);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->used[i])
			idmap_put(&big, m->keys[i], m->vals[i]);
	idmap_free(m);
	*m = big;
	return 0;
}

int idmap_put(struct idmap *m, uint64_t key, void *val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap && grow(m))
		return -ENOMEM;
	for (i = slot(key, m->cap); m->used[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	m->used[i] = 1;
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 0;
}

void idmap_free(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	m->keys = NULL;
	m->vals = NULL;
	m->used = NULL;
	m->cap = m->n = 0;
}
