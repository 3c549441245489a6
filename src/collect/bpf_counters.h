/* SPDX-License-Identifier: GPL-2.0 */
/* Per-CPU event counters kept by the BPF programs (lost events). */
#ifndef LEAKTOP_BPF_COUNTERS_H
#define LEAKTOP_BPF_COUNTERS_H

#include "model/snapshot.h"

/* Sum over CPUs of the n counters of a per-CPU array map, named names. */
void counters_read(int map_fd, const char *const *names, int n, struct lt_lost_counts *out);

#endif
