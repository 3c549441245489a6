/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Snapshot files: one struct lt_snapshot stored on disk, symbolized, so that
 * it can be read back after the process is gone and on another machine.
 * Format in docs/snapshot-format.md.
 */
#ifndef LEAKTOP_SNAPFILE_H
#define LEAKTOP_SNAPFILE_H

#include <stdint.h>
#include "model/snapshot.h"

#define SNAPFILE_VERSION 1

/* A snapshot read from a file owns everything it points to (stacks, frames,
 * strings, lost-counter names). */
struct snapfile;

/*
 * Write s to path atomically: a temporary file ".NAME.tmp.XXXXXX" in the
 * directory of path (NAME its last component) with mode 0600, fsync,
 * rename; no half-written file is ever visible under path. wall_ns is the snapshot's CLOCK_REALTIME time in ns,
 * seq a sequence number chosen by the caller. 0 or -errno (-EINVAL: s is
 * inconsistent, -EFBIG: larger than the format allows).
 */
int snapfile_write(const char *path, const struct lt_snapshot *s, uint64_t wall_ns,
		   uint64_t seq);

/*
 * Read path: 0 and *out on success, or -EINVAL (corrupted or truncated),
 * -EPROTO (not a snapshot file), -ENOTSUP (a newer format version), -ENOMEM,
 * -errno of open/read. On error *out is NULL and *err_msg (if err_msg is
 * not NULL) a short static reason.
 */
int snapfile_read(const char *path, struct snapfile **out, const char **err_msg);

const struct lt_snapshot *snapfile_snapshot(const struct snapfile *f);
uint64_t snapfile_wall_ns(const struct snapfile *f);
uint64_t snapfile_seq(const struct snapfile *f);
void snapfile_free(struct snapfile *f);

#endif
