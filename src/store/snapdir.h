/* SPDX-License-Identifier: GPL-2.0 */
/* A directory of numbered snapshots of one target, oldest removed first. */
#ifndef LEAKTOP_SNAPDIR_H
#define LEAKTOP_SNAPDIR_H

#include <stddef.h>
#include <stdint.h>
#include "model/snapshot.h"

/*
 * Store s as DIR/snap-NNNNNN.lts (created 0700 if missing; files 0600:
 * snapshots reveal program internals), keep the newest keep files (0: all).
 * When the disk is full, the oldest snapshot makes room for the newest.
 * 0, or -errno after a one-line message.
 */
int snapdir_store(const char *dir, const struct lt_snapshot *s, uint64_t seq, int keep);

/* The path of the newest snapshot in dir: 0, -ENOENT (none) or -errno. */
int snapdir_newest(const char *dir, char *path, size_t len);

#endif
