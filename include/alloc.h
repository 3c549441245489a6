/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-user contract of bpf/alloc.bpf.c: outstanding native allocations.
 *
 * Maps (sizes set by userspace before load):
 *   allocs   hash  (address, tgid) -> struct lt_alloc  one record per live block
 *   sites    hash  stack id -> struct lt_site    per-stack totals + frames
 *   inflight task storage    -> struct lt_inflight allocator call in progress
 *   lost     percpu array   enum lt_lost         events that could not be recorded
 *   draws    array[1]       struct lt_draws      sampling distances (--sample-bytes)
 *   ages     hash  stack id -> struct lt_age     per-site totals and oldest
 *            birth, filled by the alloc_ages map iterator at each report
 *
 * Stack id 0 is the "unknown stack" site: userspace creates it before the
 * programs run; allocations whose stack cannot be stored are charged there.
 * When every process is traced (-a), site ids mix in the tgid and each
 * site says whose it is.
 */
#ifndef LEAKTOP_ALLOC_H
#define LEAKTOP_ALLOC_H

#include "stack.h"

/* Which allocator entry point a probe sits on (the uprobe's BPF cookie). */
enum lt_kind {
	LT_MALLOC,
	LT_CALLOC,
	LT_REALLOC,
	LT_REALLOCARRAY,
	LT_POSIX_MEMALIGN,
	LT_ALIGNED_ALLOC,
	LT_MEMALIGN,
	LT_VALLOC,
	LT_PVALLOC,
	LT_MMAP,
	LT_MREMAP,
	LT_MUNMAP,
	LT_FREE,
	LT_NEW,		/* C++ operator new (all variants) */
	LT_NEW_ARRAY,	/* C++ operator new[] */
	LT_PTHREAD_CREATE,	/* not charged: the thread stack it maps belongs
				 * to the thread report, not to memory */
	LT_KIND_MAX,
};

enum lt_lost {
	LT_LOST_ALLOC_MAP_FULL,	/* allocation not tracked: allocs map full */
	LT_LOST_STACK_MAP_FULL,	/* stack not stored: charged to site 0 */
	LT_LOST_INFLIGHT_FULL,	/* no per-thread storage: call not followed */
	LT_LOST_MAX,
};

struct lt_alloc_key {
	__u64 addr;
	__u32 tgid;	/* addresses repeat across processes */
	__u32 pad;
};

struct lt_alloc {
	__u64 size;
	__u64 ts_ns;	/* CLOCK_MONOTONIC at the allocation */
	__u64 stack_id;
};

struct lt_site {
	__u32 tgid;	/* the process whose site it is */
	__u32 pad;
	__s64 bytes;	/* outstanding bytes, updated atomically */
	__s64 count;	/* outstanding allocations */
	struct lt_frames st;	/* st.kind: enum lt_kind of st.ip[0] */
};

/* alloc_text's value: [lo, hi) of the allocator's code in the target. */
struct lt_text_range {
	__u64 lo, hi;
};

struct lt_inflight {
	__u64 size;
	__u64 arg;	/* old pointer (realloc, mremap, munmap) or memptr */
	__u64 stack_id;
	__u32 kind;
	__u32 depth;	/* nested allocator calls still to return */
	__u32 has_old;	/* old holds the released block's record */
	__u32 active;	/* a call is in progress on this thread */
	__u32 sampled;	/* the call's block is to be tracked */
	__u32 pad;
	__u64 start_ns;	/* when the outermost call entered */
	__s64 sample_left;	/* bytes to the next sampled allocation; 0 unset */
	struct lt_alloc old;
};

/* What the alloc_ages iterator folds per site from the per-address map. */
struct lt_age {
	__u64 bytes;
	__u64 count;
	__u64 oldest_ns;	/* earliest birth (CLOCK_MONOTONIC) */
};

/*
 * Sampling by bytes: the distance to the next sampled allocation is drawn
 * from an exponential distribution of mean --sample-bytes (as Go's
 * runtime.MemProfileRate and tcmalloc do), so an allocation of size s is
 * tracked with probability 1 - exp(-s / rate) whatever came before it.
 * Userspace fills d[] with the distribution's quantiles; the BPF side picks
 * one at random per draw.
 */
#define LT_DRAWS 1024
struct lt_draws {
	__u64 d[LT_DRAWS];
};

#endif /* LEAKTOP_ALLOC_H */
