// SPDX-License-Identifier: GPL-2.0
/* BPF hash maps read in batches. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "collect/map_walk.h"

/* Bytes of keys and values read per batch: under malloc's mmap threshold
 * (128 KiB), so that every walk reuses the same heap memory (4096
 * elements of 536 bytes each, a batch of thread sites, grew -a's RSS). */
#define BATCH_BYTES (64 * 1024)

/* One key at a time, at most max_entries steps (the map may restart). */
static int walk_keys(int fd, size_t ksize, size_t vsize, map_walk_fn fn, void *arg)
{
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	uint8_t *key = malloc(ksize), *next = malloc(ksize), *val = malloc(vsize);
	void *prev = NULL;
	int err = 0;

	if (!key || !next || !val || bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -ENOMEM;
	for (uint32_t n = 0;
	     !err && n < info.max_entries && bpf_map_get_next_key(fd, prev, next) == 0; n++) {
		memcpy(key, next, ksize);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, val) == 0)
			fn(key, val, arg);
	}
	free(key);
	free(next);
	free(val);
	return err;
}

int map_walk(int fd, size_t ksize, size_t vsize, map_walk_fn fn, void *arg)
{
	uint32_t batch = BATCH_BYTES / (ksize + vsize) ? BATCH_BYTES / (ksize + vsize) : 1;
	uint8_t *keys = malloc(batch * ksize), *vals = malloc(batch * vsize);
	uint64_t token = 0;
	bool first = true;
	int err = 0;

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (;;) {
		uint32_t count = batch;

		err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, vals, &count,
					   NULL);
		err = err ? -errno : 0;
		for (uint32_t i = 0; (!err || err == -ENOENT) && i < count; i++)
			fn(keys + i * ksize, vals + i * vsize, arg);
		if (err == -ENOENT) { /* the last batch */
			err = 0;
			break;
		}
		if (first && (err == -EINVAL || err == -EOPNOTSUPP || err == -524)) {
			/* no batch lookups here (524: ENOTSUPP, kernel-internal) */
			err = walk_keys(fd, ksize, vsize, fn, arg);
			break;
		}
		if (err)
			break;
		first = false;
	}
	free(keys);
	free(vals);
	return err;
}
