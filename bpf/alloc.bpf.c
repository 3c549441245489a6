// SPDX-License-Identifier: GPL-2.0
/*
 * Outstanding native allocations, aggregated per call stack in the kernel.
 *
 * Entry uprobes remember each allocator call per thread (size, stack);
 * return uprobes charge the returned block to its stack's site; free and
 * munmap release it. Nested allocator calls (realloc -> malloc, malloc ->
 * mmap) only bump a depth counter, so the outer call is the one charged.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "alloc.h"
#include "cfi.bpf.h"
#include "task_local.bpf.h"

#define MAP_ANONYMOUS 0x20
#define PROT_NONE 0
#define PAGE_MASK_4K 4095ULL
char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);	/* resized by userspace: --max-allocs */
	__type(key, struct lt_alloc_key);
	__type(value, struct lt_alloc);
} allocs SEC(".maps");

/* Not preallocated: a new stack is rare, and --max-stacks of them
 * preallocated cost 39 MiB of kernel memory for the 17 a server used. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);	/* resized by userspace: --max-stacks + 1 */
	__type(key, __u64);
	__type(value, struct lt_site);
} sites SEC(".maps");

/* Per-thread call state in task storage: no hashing, no delete per call
 * (a record is reused and marked idle), freed by the kernel with the
 * thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lt_inflight);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_LOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_draws);
} draws SEC(".maps");

/* 0: track every allocation; else the mean bytes between tracked ones. */
const volatile __u64 sample_bytes;
/* Tracing every process (-a): site ids mix in the tgid; leaktop's own
 * allocations are left out. */
const volatile bool all_procs;
const volatile __u32 self_tgid;
/*
 * Session links (alloc_session): an unsampled call smaller than this skips
 * its return trap. 128 KiB is glibc's smallest
 * mmap threshold (malloc/malloc.c DEFAULT_MMAP_THRESHOLD_MIN): a smaller
 * call maps no chunk of its own, so nothing nests in it but arena
 * reservations, which are PROT_NONE and not counted by alloc_session.
 */
#define SESSION_SKIP_MAX (128 << 10)

/* -p with an allocator other than glibc: the span of its code. An mmap it
 * makes outside any call we follow (inside one whose return was skipped)
 * is its own arena, not the program's memory. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_text_range);
} alloc_text SEC(".maps");

/* Linux 6.13; weak: the program is not loaded where it is missing. */
extern bool bpf_session_is_return(void) __ksym __weak;

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* Scratch for building a site: too big for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_site);
} scratch SEC(".maps");

/*
 * One process (not -a): the address space traced, taken from the first
 * event (the probes go in before the program runs or while it runs).
 * After an exec the probes fire in the new program too (same thread
 * group): its calls are not ours to charge, and userspace ends the trace
 * when it notices.
 */
__u64 traced_mm;

static __always_inline int other_program(void)
{
	/* A trusted pointer: a direct load, no helper call per allocation. */
	__u64 mm = (__u64)bpf_get_current_task_btf()->mm;

	if (!traced_mm)
		__sync_val_compare_and_swap(&traced_mm, 0, mm);
	return traced_mm != mm;
}

/* Stack id of the current call, its site created on first sight; 0 when
 * the sites map is full (charged to the unknown site, counted as lost). */
static __always_inline __u64 stack_id(struct pt_regs *ctx, __u32 kind)
{
	__u32 zero = 0;
	struct lt_site *s = bpf_map_lookup_elem(&scratch, &zero);
	__u64 h;

	if (!s)
		return 0;
	s->st.kind = kind;
	s->tgid = current_tgid();
	cfi_walk(ctx, &s->st, s->tgid);
	h = frames_hash(&s->st, all_procs ? s->tgid : 0);
	if (bpf_map_lookup_elem(&sites, &h))
		return h;
	s->bytes = 0;
	s->count = 0;
	if (bpf_map_update_elem(&sites, &h, s, BPF_NOEXIST) == 0)
		return h;
	if (bpf_map_lookup_elem(&sites, &h))	/* another CPU won the race */
		return h;
	lt_count_lost(&lost, LT_LOST_STACK_MAP_FULL);
	return 0;
}

static __always_inline void site_add(__u64 id, __s64 bytes, __s64 count)
{
	struct lt_site *s = bpf_map_lookup_elem(&sites, &id);

	if (!s) {
		id = 0;
		s = bpf_map_lookup_elem(&sites, &id);
		if (!s)
			return;
	}
	__sync_fetch_and_add(&s->bytes, bytes);
	__sync_fetch_and_add(&s->count, count);
}

static __always_inline struct lt_alloc_key akey(__u64 addr)
{
	return (struct lt_alloc_key){ .addr = addr, .tgid = all_procs ? current_tgid() : 0 };
}

static __always_inline void charge(__u64 addr, __u64 size, __u64 id, __u64 ts)
{
	struct lt_alloc a = { .size = size, .ts_ns = ts, .stack_id = id };
	struct lt_alloc_key k = akey(addr);
	struct lt_alloc *old;

	/* The common case in one map operation; a block still held at this
	 * address was freed unseen: drop it first. */
	if (bpf_map_update_elem(&allocs, &k, &a, BPF_NOEXIST) == 0) {
		site_add(id, size, 1);
		return;
	}
	old = bpf_map_lookup_elem(&allocs, &k);
	if (old && bpf_map_delete_elem(&allocs, &k) == 0)
		site_add(old->stack_id, -(__s64)old->size, -1);
	if (bpf_map_update_elem(&allocs, &k, &a, BPF_ANY)) {
		lt_count_lost(&lost, LT_LOST_ALLOC_MAP_FULL);
		return;
	}
	site_add(id, size, 1);
}

/* Remove addr's record; returns 1 and fills *out when one was held. */
static __always_inline int take(__u64 addr, struct lt_alloc *out)
{
	struct lt_alloc_key k = akey(addr);
	struct lt_alloc *a = bpf_map_lookup_elem(&allocs, &k);

	if (!a)
		return 0;
	*out = *a;
	return bpf_map_delete_elem(&allocs, &k) == 0;
}

/* Put back a block a failed realloc/munmap/mremap released at entry. */
static __always_inline void restore(__u64 addr, struct lt_alloc *a)
{
	struct lt_alloc_key k = akey(addr);

	bpf_map_update_elem(&allocs, &k, a, BPF_ANY);
}

static __always_inline void uncharge(struct lt_alloc *a)
{
	site_add(a->stack_id, -(__s64)a->size, -1);
}

static __always_inline struct lt_inflight *current_call(int create)
{
	return TASK_LOCAL_GET(inflight, struct lt_inflight, create);
}

/*
 * Is an outer allocator call in progress on this thread? A record left
 * active by a call whose return never came (a longjmp out of a signal
 * handler, a return probe not yet attached) expires after STALE_NS, so it
 * cannot swallow every later call as "nested".
 */
#define STALE_NS 2000000000ULL
static __always_inline int in_call(struct lt_inflight *f)
{
	if (!f || !f->active)
		return 0;
	if (bpf_ktime_get_ns() - f->start_ns < STALE_NS)
		return 1;
	f->active = 0;
	return 0;
}

static __always_inline bool from_allocator(struct pt_regs *ctx)
{
	__u32 zero = 0;
	struct lt_text_range *r = bpf_map_lookup_elem(&alloc_text, &zero);
	__u64 ra = 0;

	if (!r || !r->hi || in_call(current_call(0)))
		return false;
	/* The placement leaves %rsp as at the call: [rsp] is the return address. */
	bpf_probe_read_user(&ra, sizeof(ra), (void *)PT_REGS_SP(ctx));
	return ra >= r->lo && ra < r->hi;
}

static __always_inline __s64 next_distance(void)
{
	__u32 zero = 0;
	struct lt_draws *t = bpf_map_lookup_elem(&draws, &zero);
	__u64 d;

	if (!t)
		return sample_bytes;
	d = t->d[bpf_get_prandom_u32() & (LT_DRAWS - 1)];
	return d ? d : 1;
}

/*
 * Is this allocation one of the sample? Unsampled calls skip the stack
 * walk and the map updates, which are most of a tracked call's cost; they
 * still nest, and realloc still releases a sampled old block.
 */
static __always_inline __u32 take_sample(struct lt_inflight *f, __u32 kind, __u64 size)
{
	if (!sample_bytes || kind == LT_MUNMAP || kind == LT_MREMAP || kind == LT_PTHREAD_CREATE)
		return 1;
	if (f->sample_left <= 0)
		f->sample_left = next_distance();
	if ((__s64)size < f->sample_left) {
		f->sample_left -= size;
		return 0;
	}
	f->sample_left = next_distance();
	return 1;
}

/* Session mode: nothing for the return to do (not tracked, no old block,
 * nothing that can nest but reservations). */
static __always_inline int skips_return(struct lt_inflight *f, __u32 kind, __u64 size)
{
	if (f->sampled || f->has_old || size >= SESSION_SKIP_MAX)
		return 0;
	return kind != LT_MMAP && kind != LT_MREMAP && kind != LT_MUNMAP &&
	       kind != LT_PTHREAD_CREATE;
}

/* 0: its return must run (a session skips it on 1). */
static __always_inline int on_entry(struct pt_regs *ctx, __u32 kind, __u64 size, __u64 arg,
				    int take_old, bool session)
{
	struct lt_inflight *f = current_call(1);

	if (!f) {
		lt_count_lost(&lost, LT_LOST_INFLIGHT_FULL);
		return 1;
	}
	if (in_call(f)) {	/* called from inside another allocator call */
		f->depth++;
		return 0;
	}
	f->kind = kind;
	f->size = size;
	f->arg = arg;
	f->depth = 0;
	f->sampled = take_sample(f, kind, size);
	f->stack_id = f->sampled ? stack_id(ctx, kind) : 0;
	/* Realloc-like calls release the old block at entry so a racing
	 * allocation of the same address on another thread is not lost; the
	 * record is put back at return if the call fails. */
	f->has_old = take_old && arg ? take(arg, &f->old) : 0;
	if (session && skips_return(f, kind, size))
		return 1;
	f->start_ns = bpf_ktime_get_ns();	/* also the block's birth time */
	f->active = 1;
	return 0;
}

/* A file mapping is not tracked, but it still nests. */
static __always_inline int nest_only(void)
{
	struct lt_inflight *cur = current_call(0);

	if (!in_call(cur))
		return 1;
	cur->depth++;
	return 0;
}

static __always_inline int on_free(__u64 ptr)
{
	struct lt_alloc a;

	if (!ptr)
		return 0;
	/* realloc(p, 0) frees through free(); its return accounts for it. */
	if (in_call(current_call(0)))
		return 0;
	if (take(ptr, &a))
		uncharge(&a);
	return 1;
}

static __always_inline __u64 pages(__u64 len)
{
	return (len + PAGE_MASK_4K) & ~PAGE_MASK_4K;
}

/*
 * One entry program for every entry point, told apart by the attach
 * cookie (enum lt_kind): one program verifies and loads once, and all the
 * entry probes of an object go in one uprobe_multi link, detached with one
 * grace period instead of one each (0.15 s each measured here).
 */
static __always_inline int entry(struct pt_regs *ctx, __u64 a0, __u64 a1, __u64 a2, __u64 a3,
				 bool session)
{
	__u32 kind = (__u32)bpf_get_attach_cookie(ctx);

	if (all_procs ? current_tgid() == self_tgid : other_program())
		return 1;
	switch (kind) {
	case LT_FREE:
		return on_free(a0);
	case LT_MALLOC:
	case LT_VALLOC:
	case LT_PVALLOC:
	case LT_NEW:
	case LT_NEW_ARRAY:
		return on_entry(ctx, kind, a0, 0, 0, session);
	case LT_ALIGNED_ALLOC:
	case LT_MEMALIGN:	/* (alignment, size) */
		return on_entry(ctx, kind, a1, 0, 0, session);
	case LT_CALLOC:
		return on_entry(ctx, kind, a0 * a1, 0, 0, session);
	case LT_REALLOC:
		return on_entry(ctx, kind, a1, a0, 1, session);
	case LT_REALLOCARRAY:
		return on_entry(ctx, kind, a1 * a2, a0, 1, session);
	case LT_POSIX_MEMALIGN:	/* (memptr, alignment, size) */
		return on_entry(ctx, kind, a2, a0, 0, session);
	case LT_MMAP:		/* (addr, len, prot, flags, ...) */
		if (!(a3 & MAP_ANONYMOUS) || (session && a2 == PROT_NONE))
			return nest_only();
		if (session && from_allocator(ctx))
			return 1;
		return on_entry(ctx, kind, pages(a1), 0, 0, session);
	case LT_MREMAP:		/* (old, old_len, new_len, ...) */
		return on_entry(ctx, kind, pages(a2), a0, 1, session);
	case LT_MUNMAP:
		return on_entry(ctx, kind, pages(a1), a0, 1, session);
	case LT_PTHREAD_CREATE:	/* only so that its mmap nests */
		return on_entry(ctx, kind, 0, 0, 0, session);
	}
	return 1;
}

SEC("uprobe")
int BPF_KPROBE(alloc_entry, __u64 a0, __u64 a1, __u64 a2, __u64 a3)
{
	entry(ctx, a0, a1, a2, a3, false);
	return 0;	/* a plain uprobe's return value is not ours to use */
}

static __always_inline void finish_munmap(struct lt_inflight *f, long ret)
{
	struct lt_alloc *o = &f->old;

	if (!f->has_old)
		return;
	if (ret != 0) {	/* failed: the region is still there */
		restore(f->arg, o);
		return;
	}
	uncharge(o);
	/* Unmapping the head of a region leaves its tail mapped. */
	if (f->size < o->size)
		charge(f->arg + f->size, o->size - f->size, o->stack_id, o->ts_ns);
}

static __always_inline void finish_move(struct lt_inflight *f, __u64 ret, int failed)
{
	if (failed) {
		if (f->has_old)
			restore(f->arg, &f->old);
		return;
	}
	if (f->has_old)
		uncharge(&f->old);
	if (ret && f->size && f->sampled)
		charge(ret, f->size, f->stack_id, f->start_ns);
}

static __always_inline int on_return(long ret)
{
	struct lt_inflight *f = current_call(0);
	__u64 ptr = 0;

	/* Entries of another program are filtered: none is active here. */
	if (!f || !f->active)
		return 0;
	if (f->depth) {
		f->depth--;
		return 0;
	}
	f->active = 0;

	switch (f->kind) {
	case LT_REALLOC:
	case LT_REALLOCARRAY:
		/* NULL with size 0 means the old block was freed (glibc). */
		finish_move(f, ret, ret == 0 && f->size != 0);
		return 0;
	case LT_MREMAP:
		/* Only a region we track is followed: a file mapping is not. */
		if (f->has_old)
			finish_move(f, ret, ret == -1);
		return 0;
	case LT_MUNMAP:
		finish_munmap(f, ret);
		return 0;
	case LT_POSIX_MEMALIGN:
		if (ret != 0 || bpf_probe_read_user(&ptr, sizeof(ptr), (void *)f->arg))
			return 0;
		break;
	case LT_MMAP:
		if (ret == -1)
			return 0;
		ptr = ret;
		break;
	case LT_PTHREAD_CREATE:
		return 0;
	default:
		ptr = ret;
	}
	if (ptr && f->sampled)
		charge(ptr, f->size, f->stack_id, f->start_ns);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_return, long ret)
{
	return on_return(ret);
}

/*
 * Entry and return in one link (Linux 6.13): an entry that returns 1 takes
 * no return trap. Measured here (PVM guest, malloc(32)+free loop, empty
 * session program): 5.4 us per pair with the return, 4.4 without.
 */
SEC("uprobe")
int BPF_KPROBE(alloc_session, __u64 a0, __u64 a1, __u64 a2, __u64 a3)
{
	if (bpf_session_is_return())
		return on_return(PT_REGS_RC(ctx));
	return entry(ctx, a0, a1, a2, a3, true);
}

/*
 * Ages at report time without copying the per-address map out: this
 * iterator walks it in the kernel and folds each block into its site's
 * row of ages (a million blocks were 76% of leaktop's CPU when copied out
 * in batches). Userspace clears ages and sets the filters first.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);	/* resized by userspace: as sites */
	__type(key, __u64);
	__type(value, struct lt_age);
} ages SEC(".maps");

__u64 age_born_before;	/* --min-age: only blocks born before this; 0 all */
__u32 age_tgid;		/* -a: only this process's blocks */

SEC("iter/bpf_map_elem")
int alloc_ages(struct bpf_iter__bpf_map_elem *ctx)
{
	struct lt_alloc_key *k = ctx->key;
	struct lt_alloc *a = ctx->value;
	struct lt_age zero = {}, *g;
	__u64 id;

	if (!k || !a)
		return 0;
	if ((age_tgid && k->tgid != age_tgid) || (age_born_before && a->ts_ns >= age_born_before))
		return 0;
	id = a->stack_id;
	g = bpf_map_lookup_elem(&ages, &id);
	if (!g) {
		bpf_map_update_elem(&ages, &id, &zero, BPF_NOEXIST);
		g = bpf_map_lookup_elem(&ages, &id);
		if (!g)
			return 0;
	}
	g->bytes += a->size;
	g->count++;
	if (!g->oldest_ns || a->ts_ns < g->oldest_ns)
		g->oldest_ns = a->ts_ns;
	return 0;
}
