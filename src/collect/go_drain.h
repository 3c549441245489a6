/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Goroutine groups of a Go process: a census of its goroutines (each tick
 * and at each report) grouped by (wait reason, blocking stack, creation
 * site), with park times from the gopark probe and verdicts from each
 * group's history. System goroutines are left out as Go's goroutine
 * profile leaves them out.
 */
#ifndef LEAKTOP_GO_DRAIN_H
#define LEAKTOP_GO_DRAIN_H

#include <stdbool.h>
#include <sys/types.h>
#include "go/gobin.h"
#include "model/history.h"
#include "lib/idmap.h"
#include "model/snapshot.h"
#include "symbols/stacks.h"

struct goroutines_bpf;
struct symbolizer;

struct go_state {
	pid_t pid;
	struct gobin bin;
	struct go_layout layout;
	uint64_t allgs;		/* runtime.allgs in the process */
	uint64_t attach_ns;	/* parks before this have no known time */
	struct history groups;	/* group key -> count */
	struct idmap system;	/* startpc -> 1 system, 2 user */
};

/* 0 when pid runs a Go binary we can read; -ENOEXEC when not Go;
 * -ENOTSUP (after saying so) when its runtime layout is unknown. */
int go_state_init(struct go_state *gs, pid_t pid, const char *exe);
void go_tick(struct goroutines_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
	     struct go_state *gs);
int go_drain(struct goroutines_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
	     struct go_state *gs, double min_block_s, struct lt_snapshot *snap);
void go_state_free(struct go_state *gs);

#endif
