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

/* One process's kernel-memory sites, across reports. */
struct kmem_state {
	const struct kallsyms *ks; /* shared; empty: frames by address */
	int pid;
	struct history sites; /* stack id + 2 -> outstanding bytes, per second */
	struct idmap stacks;  /* stack id + 2 -> struct lt_stack *, symbolized once */
};

/* Every process's sites, read from the map in one walk (with -a, one walk
 * serves every process): pid -> struct kmem_list. */
struct kmem_sites {
	struct idmap by_pid;
};

/* /proc/kallsyms into ks; says in one line when it cannot be read. */
void kmem_symbols_load(struct kallsyms *ks);
void kmem_state_init(struct kmem_state *k, const struct kallsyms *ks, int pid);
void kmem_sites_read(struct kmem_bpf *skel, struct kmem_sites *all);
void kmem_sites_free(struct kmem_sites *all);
void kmem_tick(struct kmem_state *k, const struct kmem_sites *all);
/* The oldest outstanding allocation of every site of every process, for
 * kmem_drain: kmem_site_id(stack, tgid) -> ts + 1. */
void kmem_oldest(struct kmem_bpf *skel, struct idmap *oldest);
int kmem_drain(struct kmem_bpf *skel, struct kmem_state *k, const struct kmem_sites *all,
	       const struct idmap *oldest, struct lt_snapshot *snap);
void kmem_state_free(struct kmem_state *k);

#endif
