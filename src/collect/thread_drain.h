/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Drain the thread maps into thread groups: unjoined threads by creation
 * site, threads asleep past --min-block by blocking stack (unwound with
 * CFI), the other live threads by creation site; verdicts from each
 * creation site's history of live + unjoined counts.
 */
#ifndef LEAKTOP_THREAD_DRAIN_H
#define LEAKTOP_THREAD_DRAIN_H

#include <sys/types.h>
#include "model/history.h"
#include "lib/idmap.h"
#include "model/snapshot.h"
#include "symbols/stacks.h"

struct threads_bpf;
struct symbolizer;

struct thread_state {
	pid_t pid;		/* the process: the maps may hold others (-a) */
	struct history sites;	/* creation site -> live + unjoined */
	struct idmap unwound;	/* (tid, blocked_ns) -> its blocking stack */
	struct idmap reported;	/* creation site -> live + unjoined at the last report */
	struct idmap stacks;	/* tid -> stack mapping bytes, where BPF has no find_vma */
};

/* Take the census of threads that existed before attach. */
int threads_census(struct threads_bpf *skel);
/* Once a second: sample the creation sites, symbolize new ones. */
void threads_tick(struct threads_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
		  struct thread_state *ts);
int threads_drain(struct threads_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
		  struct thread_state *ts, double min_block_s, struct lt_snapshot *snap);
void thread_state_free(struct thread_state *ts);

#endif
