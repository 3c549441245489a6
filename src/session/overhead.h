/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --production's account of its own cost: the price of a probe hit
 * measured at start and the overhead it means, then with each report what
 * the probes took so far (the kernel's run counts and times).
 */
#ifndef LEAKTOP_OVERHEAD_H
#define LEAKTOP_OVERHEAD_H

struct run;
struct options;
struct lt_cost;

/* Before the probes go in: the kernel's run statistics on. */
void overhead_start(struct run *r);
/* Once tracing: measure a hit, say what it costs per event, one line. */
void overhead_expect(struct run *r);
/* Before a report: r->cost as of now. */
void overhead_update(struct run *r);
/* After a report: one line with the cost so far. */
void overhead_say(const struct run *r);
void overhead_stop(struct run *r);
/* One line: how native memory is traced and the probe hits per malloc and
 * free; with c, what they cost here. */
void overhead_say_memory(const struct options *o, const struct lt_cost *c);

#endif
