// SPDX-License-Identifier: GPL-2.0
/*
 * Goroutine parks of a Go process: one uprobe on runtime.gopark, through
 * which channel operations, select, sync primitives, timers and network
 * waits all park. No uretprobe ever goes on Go code: goroutine stacks move
 * and a hijacked return address crashes the target.
 *
 * Go's register ABI (Go >= 1.17): arguments in RAX, RBX, RCX, ...; the
 * current g in R14. gopark(unlockf, lock, reason waitReason, ...) has its
 * reason in CL. Go 1.16 passes arguments on the stack (ABI0) and keeps g
 * in TLS: the cookie says which. The probe sits after the stack-bound check, on the jbe
 * (emulated), where %rsp still points at the return address.
 *
 * The program records when, why and from where (gopc) a goroutine parked,
 * nothing more: a frame-pointer walk here tripled the cost of a park
 * (channel ping-pong: 2.2 us per park with it), and the blocking stack of
 * a goroutine still parked is in its g.sched, read at the drain.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "goroutines.h"
#include "stack.bpf.h"

char LICENSE[] SEC("license") = "GPL";


struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);	/* resized by userspace: --max-goroutines */
	__type(key, struct lt_park_key);
	__type(value, struct lt_park);
} parks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_GLOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} glost SEC(".maps");

/* Go <= 1.16 keeps g in thread-local storage, at a fixed offset from the
 * FS base (-8 in static binaries: the offset the prologue's `mov %fs:off`
 * names, which userspace decodes). */
static __always_inline __u64 go_tls_g(__s16 off)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u64 fsbase = BPF_CORE_READ(t, thread.fsbase), g = 0;

	bpf_probe_read_user(&g, sizeof(g), (void *)(fsbase + off));
	return g;
}

SEC("uprobe")
int BPF_KPROBE(gopark_entry)
{
	/* Offsets in runtime.g of this binary's Go version (DWARF or tables). */
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 goid_off = cookie & 0xffff, gopc_off = (cookie >> 16) & 0xffff;
	struct lt_park_key k = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct lt_park p = {}, *old;

	if (cookie & LT_GO_ABI0) {
		p.g = go_tls_g((__s16)(cookie >> 32));
		/* gopark(unlockf, lock, reason, ...): reason at 8(SP) + 16 */
		bpf_probe_read_user(&p.reason, 1, (void *)(ctx->sp + 24));
	} else {
		p.g = ctx->r14;
		p.reason = ctx->cx & 0xff;
	}
	if (bpf_probe_read_user(&k.goid, sizeof(k.goid), (void *)(p.g + goid_off)) || !k.goid)
		return 0;	/* g0 or unreadable: not a goroutine */
	p.parked_ns = bpf_ktime_get_ns();
	/* Parked before: same g, same creation site (goids are never reused),
	 * so two stores instead of a hash update: 601 -> 306 ns per park
	 * (bpf_stats, Go channel ping-pong). */
	old = bpf_map_lookup_elem(&parks, &k);
	if (old && old->g == p.g) {
		old->reason = p.reason;
		old->parked_ns = p.parked_ns;
		return 0;
	}
	bpf_probe_read_user(&p.gopc, sizeof(p.gopc), (void *)(p.g + gopc_off));
	if (bpf_map_update_elem(&parks, &k, &p, BPF_ANY))
		lt_count_lost(&glost, LT_GLOST_PARK_MAP_FULL);
	return 0;
}
