/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Drain the allocation maps into a snapshot. Per-stack totals come from
 * the kernel's sites map; the per-address map is walked only for ages
 * (oldest allocation, --min-age), in batches.
 */
#ifndef LEAKTOP_DRAIN_H
#define LEAKTOP_DRAIN_H

#include "idmap.h"
#include "snapshot.h"

struct alloc_bpf;
struct symbolizer;

/* Symbolized stacks by stack id: filled while the process lives. */
struct stack_cache {
	struct idmap ids;
};

/* Symbolize stacks seen for the first time (cheap; run every tick). */
int drain_new_stacks(struct alloc_bpf *skel, struct symbolizer *sym, struct stack_cache *c);
int drain_snapshot(struct alloc_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
		   double min_age_s, struct lt_snapshot *snap);
void stack_cache_free(struct stack_cache *c);
/* Build a symbolized stack from raw frames (exposed for unit tests). */
struct lt_stack *stack_symbolize(struct symbolizer *sym, const struct lt_site *site);

#endif
