/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-user contract of bpf/goroutines.bpf.c: when and where each
 * goroutine of a Go process last parked.
 *
 * Maps:
 *   parks   hash  (goid, tgid) -> struct lt_park  the goroutine's last park
 *
 * The probe's cookie carries the runtime.g offsets of its binary (enum
 * below), so one program serves Go processes of every version.
 *   glost   percpu array  enum lt_glost
 *
 * There is no wake probe: whether a goroutine is still parked is checked
 * in userspace against its g (status, goid) in the process's memory.
 */
#ifndef LEAKTOP_GOROUTINES_H
#define LEAKTOP_GOROUTINES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum lt_glost {
	LT_GLOST_PARK_MAP_FULL,		/* a park not recorded */
	LT_GLOST_MAX,
};

/* Cookie of the gopark probe: g.goid offset | g.gopc offset << 16, and for
 * the stack ABI of Go <= 1.16 (ABI0: g in TLS, arguments on the stack)
 * LT_GO_ABI0 with g's offset from the FS base (s16) at bits 32-47. */
#define LT_GO_COOKIE(goid_off, gopc_off) ((__u64)(goid_off) | (__u64)(gopc_off) << 16)
#define LT_GO_ABI0 (1ULL << 48)
#define LT_GO_COOKIE_ABI0(goid_off, gopc_off, tls_off) \
	(LT_GO_COOKIE(goid_off, gopc_off) | LT_GO_ABI0 | (__u64)(__u16)(tls_off) << 32)

struct lt_park_key {
	__u64 goid;
	__u32 tgid;	/* goids repeat across processes */
	__u32 pad;
};

struct lt_park {
	__u64 g;		/* the runtime.g, to check it is still parked */
	__u64 gopc;		/* its creation site: the go statement's PC */
	__u64 parked_ns;	/* CLOCK_MONOTONIC */
	__u32 reason;		/* gopark's waitReason */
	__u32 pad;
};

#endif /* LEAKTOP_GOROUTINES_H */
