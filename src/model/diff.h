/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What changed between two snapshots of one process: groups matched by
 * identity (kind, stack, creation stack, wait), with the change in bytes
 * and count and the rate over the time between them.
 */
#ifndef LEAKTOP_DIFF_H
#define LEAKTOP_DIFF_H

#include <stdint.h>
#include "model/snapshot.h"

struct lt_change {
	const struct lt_group *old, *new;	/* NULL when absent on that side */
	int64_t dbytes, dcount;
	double bytes_per_s;
};

struct lt_diff {
	double seconds;		/* between the two snapshots */
	int n;
	struct lt_change *c;	/* largest growth in bytes, then count, first */
};

/* A group's identity, the same for a live and a stored snapshot. */
uint64_t group_identity(const struct lt_group *g);
/* Every group of every section of old and new, matched. */
int diff_snapshots(const struct lt_snapshot *old, const struct lt_snapshot *new, double seconds,
		   struct lt_diff *d);
void diff_free(struct lt_diff *d);

#endif
