// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel memory: slab objects (kmalloc, kmem_cache_alloc), pages
 * (mm_page_alloc) and per-CPU chunks allocated and not freed since attach,
 * by kernel stack. The kmem tracepoints fire for every allocation of the
 * machine: an allocation checks the process first, a free is one hash
 * lookup.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kmem.h"
#include "stack.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid; /* 0: every process but self_tgid */
const volatile __u32 self_tgid;
#define PAGE_BYTES 4096

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* resized by userspace: --max-allocs */
	__type(key, struct lt_kkey);
	__type(value, struct lt_kalloc);
} kallocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* resized: --max-stacks */
	__type(key, struct lt_ksite_key);
	__type(value, struct lt_ksite);
} ksites SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* resized: --max-stacks */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __s64);
	__type(value, struct lt_kstack);
} kstacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_kstack);
} kscratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_KLOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} klost SEC(".maps");

/* The current kernel stack's id in kstacks; -1 (counted lost: the
 * allocation is kept under the unknown stack) when it cannot be had. */
static __always_inline __s64 kernel_stack(void *ctx)
{
	__u32 zero = 0;
	struct lt_kstack *s = bpf_map_lookup_elem(&kscratch, &zero);
	__u64 h = 0xcbf29ce484222325ULL;
	long n;

	if (!s)
		return -1;
	n = bpf_get_stack(ctx, s->ip, sizeof(s->ip), 0);
	if (n <= 0) {
		lt_count_lost(&klost, LT_KLOST_STACK_LOST);
		return -1;
	}
	s->nr = n / sizeof(__u64);
	for (int i = 0; i < LT_KSTACK_DEPTH; i++) {
		if (i >= s->nr)
			break;
		h = hash_ip(h, s->ip[i]);
	}
	if ((__s64)h < 0) /* ids are never negative: -1 is "none" */
		h >>= 1;
	return lt_intern(&kstacks, &h, s, &klost, LT_KLOST_STACK_LOST) ? -1 : (__s64)h;
}

static __always_inline struct lt_ksite *ksite(__s64 stack, __u32 tgid, int create)
{
	struct lt_ksite_key key = {.stack = stack < 0 ? -1 : stack, .tgid = tgid};
	struct lt_ksite *s = bpf_map_lookup_elem(&ksites, &key), zero = {};

	if (s || !create)
		return s;
	if (lt_intern(&ksites, &key, &zero, &klost, LT_KLOST_SITE_MAP_FULL))
		return NULL;
	return bpf_map_lookup_elem(&ksites, &key);
}

static __always_inline int on_free(__u64 type, __u64 addr)
{
	struct lt_kkey k = {.addr = addr, .type = type};
	struct lt_kalloc *a = bpf_map_lookup_elem(&kallocs, &k);
	struct lt_ksite *s;

	if (!a)
		return 0;
	s = ksite(a->stack, a->tgid, 0);
	if (s) {
		__sync_fetch_and_add(&s->bytes, -(__s64)a->bytes);
		__sync_fetch_and_add(&s->count, -1);
	}
	bpf_map_delete_elem(&kallocs, &k);
	return 0;
}

/* A record already there is an object whose free we missed (freed through
 * a path without a tracepoint): it is gone. Looked for only when the insert
 * fails, not before every allocation. 0, or -1: the map is full. */
static __always_inline int insert_alloc(struct lt_kkey *k, struct lt_kalloc *a)
{
	if (!bpf_map_update_elem(&kallocs, k, a, BPF_NOEXIST))
		return 0;
	if (!bpf_map_lookup_elem(&kallocs, k))
		return -1;
	on_free(k->type, k->addr);
	return bpf_map_update_elem(&kallocs, k, a, BPF_NOEXIST) ? -1 : 0;
}

static __always_inline int on_alloc(void *ctx, __u64 type, __u64 addr, __u64 bytes)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct lt_kkey k = {.addr = addr, .type = type};
	struct lt_kalloc a = {.bytes = bytes, .tgid = tgid};
	struct lt_ksite *s;

	if (target_tgid ? tgid != target_tgid : tgid == self_tgid)
		return 0;
	if (!addr)
		return 0;
	a.stack = kernel_stack(ctx);
	a.ts_ns = bpf_ktime_get_ns();
	s = ksite(a.stack, tgid, 1);
	if (!s)
		return 0;
	if (insert_alloc(&k, &a)) {
		lt_count_lost(&klost, LT_KLOST_ALLOC_MAP_FULL);
		return 0;
	}
	__sync_fetch_and_add(&s->bytes, bytes);
	__sync_fetch_and_add(&s->count, 1);
	return 0;
}

SEC("tracepoint/kmem/kmalloc")
int kmalloc_tp(struct trace_event_raw_kmalloc *ctx)
{
	return on_alloc(ctx, LT_K_SLAB, (__u64)BPF_CORE_READ(ctx, ptr),
			BPF_CORE_READ(ctx, bytes_alloc));
}

SEC("tracepoint/kmem/kmem_cache_alloc")
int kmem_cache_alloc_tp(struct trace_event_raw_kmem_cache_alloc *ctx)
{
	return on_alloc(ctx, LT_K_SLAB, (__u64)BPF_CORE_READ(ctx, ptr),
			BPF_CORE_READ(ctx, bytes_alloc));
}

SEC("tracepoint/kmem/kfree")
int kfree_tp(struct trace_event_raw_kfree *ctx)
{
	return on_free(LT_K_SLAB, (__u64)BPF_CORE_READ(ctx, ptr));
}

SEC("tracepoint/kmem/kmem_cache_free")
int kmem_cache_free_tp(struct trace_event_raw_kmem_cache_free *ctx)
{
	return on_free(LT_K_SLAB, (__u64)BPF_CORE_READ(ctx, ptr));
}

SEC("tracepoint/kmem/mm_page_alloc")
int page_alloc_tp(struct trace_event_raw_mm_page_alloc *ctx)
{
	__u32 order = BPF_CORE_READ(ctx, order);

	return on_alloc(ctx, LT_K_PAGE, BPF_CORE_READ(ctx, pfn), (__u64)PAGE_BYTES << (order & 31));
}

SEC("tracepoint/kmem/mm_page_free")
int page_free_tp(struct trace_event_raw_mm_page_free *ctx)
{
	return on_free(LT_K_PAGE, BPF_CORE_READ(ctx, pfn));
}

/* bytes_alloc is newer than the tracepoint: size where it is missing. */
/* Pages freed by the batch (a list of pages at once): one event each. */
SEC("tracepoint/kmem/mm_page_free_batched")
int page_free_batched_tp(struct trace_event_raw_mm_page_free_batched *ctx)
{
	return on_free(LT_K_PAGE, BPF_CORE_READ(ctx, pfn));
}

SEC("tracepoint/percpu/percpu_alloc_percpu")
int percpu_alloc_tp(struct trace_event_raw_percpu_alloc_percpu *ctx)
{
	__u64 bytes = bpf_core_field_exists(ctx->bytes_alloc) ? BPF_CORE_READ(ctx, bytes_alloc)
							      : BPF_CORE_READ(ctx, size);

	return on_alloc(ctx, LT_K_PERCPU, (__u64)BPF_CORE_READ(ctx, ptr), bytes);
}

SEC("tracepoint/percpu/percpu_free_percpu")
int percpu_free_tp(struct trace_event_raw_percpu_free_percpu *ctx)
{
	return on_free(LT_K_PERCPU, (__u64)BPF_CORE_READ(ctx, ptr));
}
