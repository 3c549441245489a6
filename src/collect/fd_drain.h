/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Drain the fd maps into fd groups: every fd open now (from /proc/PID/fd,
 * so the count is exact) by kind and opening stack; fds open before attach
 * or made by a call not traced have no stack. Verdicts from each group's
 * history of open counts, sampled once a second.
 */
#ifndef LEAKTOP_FD_DRAIN_H
#define LEAKTOP_FD_DRAIN_H

#include <stdint.h>
#include <sys/types.h>
#include "model/history.h"
#include "model/snapshot.h"
#include "symbols/stacks.h"

struct fds_bpf;
struct symbolizer;

struct fd_state {
	pid_t pid;
	pid_t ppid;		/* fds without a record of their own may be inherited */
	uint64_t start_ns;	/* its fork, CLOCK_MONOTONIC: what it inherited is older */
	uint64_t attach_ns;    /* CLOCK_MONOTONIC at attach: ages of the census */
	struct history groups; /* group key -> fds open */
};

void fd_state_init(struct fd_state *fs, pid_t pid);
/* Once a second: reconcile with /proc, sample every group's count. */
void fds_tick(struct fds_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
	      struct fd_state *fs);
int fds_drain(struct fds_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
	      struct fd_state *fs, struct lt_snapshot *snap);
void fd_state_free(struct fd_state *fs);

#endif
