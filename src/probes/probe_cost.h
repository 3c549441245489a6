/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What leaktop's probes cost the code they trace: the price of one uprobe
 * hit, measured on this machine at start (it varies 20x between machine
 * kinds: shared/notes/probe-costs.md), and the kernel's run counts and
 * times of the programs attached (BPF_ENABLE_STATS, Linux 5.8).
 */
#ifndef LEAKTOP_PROBE_COST_H
#define LEAKTOP_PROBE_COST_H

#include "model/snapshot.h"

/* Time calls of a function of leaktop's own with an empty program at its
 * entry, then at its return too, against the same calls bare: c->trap_ns
 * and c->ret_ns, 0 or -errno. ~15 ms on a slow machine. */
int probe_cost_measure(struct lt_cost *c);
/* Turn the kernel's run statistics on while the fd is open: fd or -errno. */
int probe_cost_stats_on(void);
/* Runs and time so far of the programs behind the links probes.c holds. */
void probe_cost_read(struct lt_cost *c);

#endif
