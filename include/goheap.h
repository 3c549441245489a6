/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-user contract of bpf/goheap.bpf.c: the Go runtime's own heap
 * samples (one allocation per MemProfileRate bytes on average), followed
 * through the runtime's profiling hooks, per runtime profile bucket.
 *
 *   mProf_Malloc(p, size)  a sampled allocation: remember its stack
 *   setprofilebucket(p, b) the runtime's bucket for it: b -> our record
 *   mProf_Free(b, size)    a sampled object was swept
 *   gcMarkTermination      a GC cycle ends: the cycle counter moves on
 *
 * As in Go's own heap profile, an allocation counts as in use only once a
 * GC cycle has judged it: it is published two cycle ends after it was
 * made, by which time a garbage one has been swept (and counted freed);
 * otherwise every allocation since the last GC would look in use.
 *
 * Maps:
 *   hbuckets hash  bucket address -> struct lt_hbucket
 *   hstacks  hash  stack id -> struct lt_frames
 *   hpending hash  tid -> struct lt_hpending (mProf_Malloc to setprofilebucket,
 *                  which runs on the same thread on the system stack)
 *   hlost    percpu array enum lt_hlost
 */
#ifndef LEAKTOP_GOHEAP_H
#define LEAKTOP_GOHEAP_H

#include "stack.h"

/* Which hook a probe sits on (its BPF cookie). */
enum lt_hprobe { LT_HP_MALLOC, LT_HP_SETBUCKET, LT_HP_FREE, LT_HP_GC };

/* Index of the GC cycle counter in the hcycle array. */
#define LT_HCYCLE 0

enum lt_hlost {
	LT_HLOST_BUCKET_MAP_FULL,
	LT_HLOST_STACK_MAP_FULL,
	LT_HLOST_MAX,
};

struct lt_hbucket {
	__u64 stack_id;
	__u64 size;		/* object size of this bucket */
	__u64 cycle;		/* GC cycle of cur */
	__s64 cur, prev;	/* sampled allocations of cycles cycle, cycle - 1 */
	__s64 published;	/* sampled allocations of older cycles */
	__s64 frees;		/* sampled objects swept */
};

/* Allocations of a bucket judged by GC by cycle now (userspace and BPF). */
static inline __s64 lt_hbucket_published(const struct lt_hbucket *b, __u64 now)
{
	if (now >= b->cycle + 2)
		return b->published + b->prev + b->cur;
	if (now == b->cycle + 1)
		return b->published + b->prev;
	return b->published;
}

struct lt_hpending {
	__u64 stack_id;
	__u64 size;
};

#endif /* LEAKTOP_GOHEAP_H */
