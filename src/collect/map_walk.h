/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every element of a BPF hash map, read in batches: a walk by
 * bpf_map_get_next_key starts over whenever the key it stands on is
 * deleted, which under a stream of deletions (kernel memory with -a: every
 * kfree of the machine) never ends.
 */
#ifndef LEAKTOP_MAP_WALK_H
#define LEAKTOP_MAP_WALK_H

#include <stddef.h>

typedef void (*map_walk_fn)(const void *key, const void *val, void *arg);

/* fn for each element; 0 or -errno. Where the kernel has no batch lookup
 * (before 5.6), one key at a time, stopped after max_entries steps. */
int map_walk(int fd, size_t ksize, size_t vsize, map_walk_fn fn, void *arg);

#endif
