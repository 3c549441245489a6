/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Short histories of counters per group id, sampled once a second, and the
 * trend a verdict is built from: does the count keep rising?
 */
#ifndef LEAKTOP_HISTORY_H
#define LEAKTOP_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/idmap.h"

#define HISTORY_LEN 16

struct history {
	struct idmap ids;	/* id -> struct series */
};

struct trend {
	int n;		/* samples kept (at most HISTORY_LEN) */
	int rises;	/* samples higher than the one before */
	int falls;	/* samples lower than the one before */
	int64_t first, last;
};

int history_add(struct history *h, uint64_t id, int64_t value);
/* 0 and *t filled when id has samples. */
int history_trend(const struct history *h, uint64_t id, struct trend *t);
/* Higher than at the start, rising at least twice, rarely falling. */
bool trend_growing(const struct trend *t);
void history_free(struct history *h);

struct lt_group;
/* The verdict on a group whose size h samples under key: growing steadily
 * (a likely leak), stable or shrinking, with the evidence in g->why. */
void history_judge(const struct history *h, uint64_t key, struct lt_group *g);

#endif
