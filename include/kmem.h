/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-user contract of the kernel-memory tracer (bpf/kmem.bpf.c).
 *
 *   kallocs hash  struct lt_kkey          -> struct lt_kalloc  outstanding, since attach
 *   ksites  hash  struct lt_ksite_key     -> struct lt_ksite   per stack and process
 *   kstacks hash  stack id (a 64-bit hash) -> struct lt_kstack
 *   klost   percpu array  enum lt_klost
 *
 * With target_tgid only allocations made in that process's context are
 * followed (frees are matched wherever they happen); with 0 every
 * allocation but leaktop's own.
 */
#ifndef LEAKTOP_KMEM_H
#define LEAKTOP_KMEM_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum lt_ktype {
	LT_K_SLAB,   /* kmalloc, kmem_cache_alloc: by pointer */
	LT_K_PAGE,   /* mm_page_alloc: by pfn, PAGE_SIZE << order bytes */
	LT_K_PERCPU, /* percpu_alloc_percpu: by pointer */
};

struct lt_kkey {
	__u64 addr;
	__u64 type; /* enum lt_ktype: a pfn and a pointer never collide */
};

struct lt_kalloc {
	__u64 bytes;
	__u64 ts_ns; /* bpf_ktime_get_ns() at the allocation */
	__s64 stack; /* kstacks id; -1: none */
	__u32 tgid;  /* the process it was made for */
	__u32 pad;
};

/* A site is a kernel stack in one process's context (stack -1: none). */
struct lt_ksite_key {
	__s64 stack;
	__u32 tgid;
	__u32 pad;
};

struct lt_ksite {
	__s64 bytes; /* outstanding */
	__s64 count;
};

enum lt_klost {
	LT_KLOST_ALLOC_MAP_FULL,
	LT_KLOST_STACK_LOST, /* stack map full or no stack */
	LT_KLOST_SITE_MAP_FULL,
	LT_KLOST_MAX,
};

#define LT_KSTACK_DEPTH 127

/* Kept by our own 64-bit hash rather than in a stack-trace map, whose
 * bucket collisions lose the second stack (-EEXIST: 7% of 6.1's in the
 * kernel_files test under TCG). */
struct lt_kstack {
	__u32 nr;
	__u32 pad;
	__u64 ip[LT_KSTACK_DEPTH];
};

#endif /* LEAKTOP_KMEM_H */
