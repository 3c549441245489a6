/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The goroutines of a Go process, read from its memory: runtime.allgs,
 * each g's status, goid, wait reason, creation and start PCs, and for a
 * parked goroutine its stack, walked by frame pointers from g.sched (Go
 * keeps frame pointers on amd64).
 */
#ifndef LEAKTOP_GO_CENSUS_H
#define LEAKTOP_GO_CENSUS_H

#include <stdint.h>
#include <sys/types.h>

struct go_layout;

#define GO_MAX_FRAMES 48

/* runtime.g atomicstatus values (src/runtime/runtime2.go) */
enum { GO_IDLE, GO_RUNNABLE, GO_RUNNING, GO_SYSCALL, GO_WAITING, GO_DEAD = 6 };

struct go_g {
	uint64_t g;	/* address of the runtime.g */
	uint64_t goid;
	uint32_t status;	/* without the _Gscan bit */
	uint32_t reason;
	uint64_t gopc;	/* the go statement that created it */
	uint64_t startpc;
	int nframes;	/* parked: its stack, innermost first */
	uint64_t ip[GO_MAX_FRAMES];
};

/* All goroutines that are not dead; *out is malloc'd. allgs is the
 * runtime.allgs address in the process. Returns the count or -errno. */
int go_census(pid_t pid, const struct go_layout *l, uint64_t allgs, struct go_g **out);

#endif
