/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Go heap in use by allocation site, from the runtime's own heap sampler.
 *
 * Most Go binaries are linked with the sampler switched off
 * (runtime.disableMemoryProfiling, so MemProfileRate is 0 after
 * schedinit); leaktop then sets runtime.MemProfileRate to 512 KiB in the
 * process, the runtime's own default, so the runtime samples one
 * allocation per 512 KiB on average and calls its profiling hooks for
 * those only: the cost is the runtime's normal profiling cost plus one
 * trap per sampled allocation and per sampled object swept. In-use counts
 * are per GC cycle, as in Go's own heap profile, and cover objects sampled
 * since attach. Those lag two GC cycles, which are rare in a program with
 * a large heap or GOGC: the sampled allocations no cycle has judged yet
 * are reported beside them as pending, so that growth shows at once.
 */
#ifndef LEAKTOP_GO_HEAP_H
#define LEAKTOP_GO_HEAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "model/history.h"
#include "model/snapshot.h"
#include "symbols/stacks.h"

struct goheap_bpf;
struct gobin;
struct symbolizer;

#define GOHEAP_DEFAULT_RATE (512 * 1024)

struct goheap_state {
	pid_t pid;
	uint64_t rate_addr;	/* runtime.MemProfileRate in the process */
	int64_t rate;		/* the sampling rate in force, 0 before it is */
	bool we_enabled;	/* leaktop switched the sampler on */
	struct history inuse;	/* per allocation stack: bytes in use */
	struct history pending;	/* and bytes no GC has judged yet */
};

int goheap_init(struct goheap_state *h, pid_t pid, struct gobin *bin);
/* Each tick: switch the sampler on once the runtime has initialised. */
void goheap_tick(struct goheap_state *h);
/* Switch it off again if leaktop switched it on. */
void goheap_stop(struct goheap_state *h);
void goheap_free(struct goheap_state *h);
int goheap_attach(struct goheap_bpf *skel, pid_t pid, struct gobin *bin, const char *exe);
/* Each tick: in-use and pending bytes per allocation stack into the
 * histories. */
void goheap_sample(struct goheap_bpf *skel, struct goheap_state *h);
/* Sites with verdicts from the histories. */
int goheap_drain(struct goheap_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
		 struct goheap_state *h, struct lt_snapshot *snap);

#endif
