// SPDX-License-Identifier: GPL-2.0
/*
 * Go heap by allocation site, from the runtime's own sampler: the probes
 * sit on the profiling hooks, which run once per sampled allocation (one
 * per 512 KiB allocated by default), never on every allocation. Entry
 * probes only: no uretprobe on Go code.
 *
 * Go register ABI: arguments in RAX, RBX, RCX... mProf_Malloc is
 * (p, size) up to Go 1.22 and (mp, p, size) from 1.23 (userspace says
 * which); setprofilebucket(p, b); mProf_Free(b, size). Go 1.16 passes
 * them on the stack (abi0).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "goheap.h"
#include "stack.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 malloc_size_in_rcx;	/* Go >= 1.23 */
const volatile __u32 abi0;	/* Go <= 1.16: arguments on the stack */

/* Argument i (from 0) of an ABI0 function at its entry: 8(SP) + 8i. */
static __always_inline __u64 stack_arg(struct pt_regs *ctx, int i)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)(ctx->sp + 8 + 8 * i));
	return v;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct lt_hbucket);
} hbuckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct lt_frames);
} hstacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct lt_hpending);
} hpending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hcycle SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_HLOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} hlost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_frames);
} hscratch SEC(".maps");

static __always_inline __u64 intern_stack(struct pt_regs *ctx)
{
	__u64 id = lt_intern_frames(ctx, &hscratch, &hstacks);

	if (!id)
		lt_count_lost(&hlost, LT_HLOST_STACK_MAP_FULL);
	return id;
}

static __always_inline int on_malloc(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 cx = ctx->cx, bx = ctx->bx;
	struct lt_hpending p;

	/* Both loaded before choosing: the verifier refuses a ctx pointer the
	 * compiler would otherwise offset by the choice. */
	asm volatile("" : "+r"(cx), "+r"(bx));
	p.size = abi0 ? stack_arg(ctx, 1) : malloc_size_in_rcx ? cx : bx;
	p.stack_id = intern_stack(ctx);

	bpf_map_update_elem(&hpending, &tid, &p, BPF_ANY);
	return 0;
}

static __always_inline __u64 gc_cycle(void)
{
	__u32 k = LT_HCYCLE;
	__u64 *c = bpf_map_lookup_elem(&hcycle, &k);

	return c ? *c : 0;
}

/* Roll the bucket's per-cycle counts forward to this cycle, then count.
 * Sampled allocations are rare (one per 512 KiB), so the unlocked update
 * races only with another sample of the same bucket on another CPU. */
static __always_inline void count_alloc(struct lt_hbucket *b)
{
	__u64 now = gc_cycle();

	if (now != b->cycle) {
		b->published = lt_hbucket_published(b, now);
		b->prev = now == b->cycle + 1 ? b->cur : 0;
		b->cur = 0;
		b->cycle = now;
	}
	b->cur++;
}

static __always_inline int on_gc(void)
{
	__u32 k = LT_HCYCLE;
	__u64 *c = bpf_map_lookup_elem(&hcycle, &k);

	if (c)
		__sync_fetch_and_add(c, 1);
	return 0;
}

static __always_inline int on_setbucket(__u64 bucket)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lt_hpending *p = bpf_map_lookup_elem(&hpending, &tid);
	struct lt_hbucket *b, nb = {};

	if (!p)
		return 0;
	b = bpf_map_lookup_elem(&hbuckets, &bucket);
	if (!b) {
		nb.stack_id = p->stack_id;
		nb.size = p->size;
		nb.cycle = gc_cycle();
		if (bpf_map_update_elem(&hbuckets, &bucket, &nb, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&hbuckets, &bucket)) {
			lt_count_lost(&hlost, LT_HLOST_BUCKET_MAP_FULL);
			bpf_map_delete_elem(&hpending, &tid);
			return 0;
		}
		b = bpf_map_lookup_elem(&hbuckets, &bucket);
		if (!b)
			return 0;
	}
	count_alloc(b);
	bpf_map_delete_elem(&hpending, &tid);
	return 0;
}

static __always_inline int on_free(__u64 bucket)
{
	struct lt_hbucket *b = bpf_map_lookup_elem(&hbuckets, &bucket);

	/* A bucket from before attach is not ours: its objects were never
	 * counted in, so they are not counted out. */
	if (b)
		__sync_fetch_and_add(&b->frees, 1);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(goheap_entry)
{
	switch (bpf_get_attach_cookie(ctx)) {
	case LT_HP_MALLOC:
		return on_malloc(ctx);
	case LT_HP_SETBUCKET:	/* (p RAX, b RBX) */
		return on_setbucket(abi0 ? stack_arg(ctx, 1) : ctx->bx);
	case LT_HP_FREE:	/* (b RAX, size RBX) */
		return on_free(abi0 ? stack_arg(ctx, 0) : ctx->ax);
	case LT_HP_GC:
		return on_gc();
	}
	return 0;
}
