/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Drain the allocation maps into memory groups. Per-stack totals come from
 * the kernel's sites map; the per-address map is walked only for ages
 * (oldest allocation, --min-age), in batches.
 */
#ifndef LEAKTOP_ALLOC_DRAIN_H
#define LEAKTOP_ALLOC_DRAIN_H

#include <sys/types.h>
#include "model/history.h"
#include "model/snapshot.h"
#include "symbols/stacks.h"

struct alloc_bpf;
struct symbolizer;

/* Track one allocation per rate bytes on average (after load, before
 * attach); the drains scale what they read by the same rate. */
void alloc_set_sampling(struct alloc_bpf *skel, int64_t rate);
/* Every tick: sample each site's bytes into h, symbolize new stacks. */
int alloc_tick(struct alloc_bpf *skel, pid_t pid, struct symbolizer *sym, struct stack_cache *c,
	       struct history *h);
/* Groups with verdicts from h: growing steadily, stable or shrinking. */
int alloc_drain(struct alloc_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
		const struct history *h, double min_age_s, struct lt_snapshot *snap);

/* The memory section's counters when memory is not traced (a pure Go
 * program has no malloc): every reason, all zero. */
void alloc_lost_none(struct lt_lost_counts *l);

#endif
