/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Drain the kernel-memory maps into sites: outstanding bytes and
 * allocations per kernel stack (symbolized from /proc/kallsyms), the
 * oldest age, and a verdict from each site's history of bytes.
 */
#ifndef LEAKTOP_KMEM_DRAIN_H
#define LEAKTOP_KMEM_DRAIN_H

#include "lib/idmap.h"
#include "model/history.h"
#include "model/snapshot.h"
#include "symbols/kallsyms.h"

struct kmem_bpf;

struct kmem_state {
	struct kallsyms ks;   /* empty when unreadable: frames unnamed */
	struct history sites; /* stack id -> outstanding bytes, per second */
	struct idmap stacks;  /* stack id + 2 -> struct lt_stack *, symbolized once */
};

/* Says in one line when kernel symbols cannot be read. */
void kmem_state_init(struct kmem_state *k);
void kmem_tick(struct kmem_bpf *skel, struct kmem_state *k);
int kmem_drain(struct kmem_bpf *skel, struct kmem_state *k, struct lt_snapshot *snap);
void kmem_state_free(struct kmem_state *k);

#endif
