/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-user contract of bpf/goheap.bpf.c: the Go runtime's own heap
 * samples (one allocation per MemProfileRate bytes on average), followed
 * through the runtime's profiling hooks, per runtime profile bucket.
 *
 *   mProf_Malloc(p, size)  a sampled allocation: remember its stack
 *   setprofilebucket(p, b) the runtime's bucket for it: b -> our record
 *   mProf_Free(b, size)    a sampled object was swept
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
enum lt_hprobe { LT_HP_MALLOC, LT_HP_SETBUCKET, LT_HP_FREE };

enum lt_hlost {
	LT_HLOST_BUCKET_MAP_FULL,
	LT_HLOST_STACK_MAP_FULL,
	LT_HLOST_MAX,
};

struct lt_hbucket {
	__u64 stack_id;
	__u64 size;		/* object size of this bucket */
	__s64 allocs;		/* sampled allocations seen */
	__s64 frees;		/* sampled objects swept */
};

struct lt_hpending {
	__u64 stack_id;
	__u64 size;
};

#endif /* LEAKTOP_GOHEAP_H */
