/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stack capture shared by the BPF programs: the probe ip, *(rsp) (the
 * return address into the direct caller, which a frame-pointer walk from
 * function entry misses: the callee has not pushed %rbp yet), then the
 * caller chain from %rbp. Each step is validated (aligned, strictly
 * upward, bounded, user address) and the walk is cut at the first bad one
 * rather than report garbage.
 */
#ifndef LEAKTOP_STACK_BPF_H
#define LEAKTOP_STACK_BPF_H

#include "stack.h"

/* Largest distance between two frame pointers we accept: a frame bigger
 * than this is taken as a garbage %rbp from code built without frame
 * pointers, and the walk stops there. */
#define MAX_FRAME_BYTES (8ULL << 20)
#define USER_TOP 0x800000000000ULL

static __always_inline int user_text_like(__u64 a)
{
	return a > 4096 && a < USER_TOP;
}

static __always_inline void walk_user_stack(struct pt_regs *regs, struct lt_frames *s)
{
	__u64 sp = PT_REGS_SP(regs), fp = PT_REGS_FP(regs), ret = 0;
	__u64 pair[2];
	__u32 n = 1;

	s->ip[0] = PT_REGS_IP(regs);
	if (bpf_probe_read_user(&ret, sizeof(ret), (void *)sp) == 0 && user_text_like(ret))
		s->ip[n++] = ret;
	for (int i = 0; i < LT_MAX_FRAMES - 2; i++) {
		if ((fp & 7) || fp <= sp || fp - sp > MAX_FRAME_BYTES || fp >= USER_TOP)
			break;
		if (bpf_probe_read_user(pair, sizeof(pair), (void *)fp))
			break;
		if (!user_text_like(pair[1]))
			break;
		if (n < LT_MAX_FRAMES)
			s->ip[n++] = pair[1];
		sp = fp;
		fp = pair[0];
	}
	s->nr = n;
}

/* Stack id: a 64-bit hash of the frames and kind, never 0 (0 = unknown);
 * seed (the tgid when tracing every process) keeps processes apart. */
/* One address into a stack hash. */
static __always_inline __u64 hash_ip(__u64 h, __u64 ip)
{
	h ^= ip;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static __always_inline __u64 frames_hash(const struct lt_frames *s, __u32 seed)
{
	__u64 h = (0xcbf29ce484222325ULL ^ s->kind) + ((__u64)seed << 32);

	for (int i = 0; i < LT_MAX_FRAMES; i++) {
		if (i >= s->nr)
			break;
		h = hash_ip(h, s->ip[i]);
	}
	return h ? h : 1;
}

/* One more event of reason lost, in a per-CPU array of counters. */
static __always_inline void lt_count_lost(void *lost_map, __u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(lost_map, &reason);

	if (n)
		*n += 1;
}

/* key in map (val put there if it was not): 0, or -1 after counting the
 * loss (the map is full). The second lookup covers another CPU's insert. */
static __always_inline int lt_intern(void *map, const void *key, const void *val,
				     void *lost_map, __u32 reason)
{
	if (bpf_map_lookup_elem(map, key) || bpf_map_update_elem(map, key, val, BPF_NOEXIST) == 0 ||
	    bpf_map_lookup_elem(map, key))
		return 0;
	lt_count_lost(lost_map, reason);
	return -1;
}

/*
 * The current stack's id in stacks, a hash of struct lt_frames, built in
 * scratch (a one-entry per-CPU array: too big for the BPF stack); 0 when
 * stacks is full.
 */
static __always_inline __u64 lt_intern_frames(struct pt_regs *ctx, void *scratch, void *stacks)
{
	__u32 zero = 0;
	struct lt_frames *s = bpf_map_lookup_elem(scratch, &zero);
	__u64 h;

	if (!s)
		return 0;
	s->kind = 0;
	walk_user_stack(ctx, s);
	h = frames_hash(s, 0);
	if (bpf_map_lookup_elem(stacks, &h) || bpf_map_update_elem(stacks, &h, s, BPF_NOEXIST) == 0 ||
	    bpf_map_lookup_elem(stacks, &h))
		return h;
	return 0;
}

#endif /* LEAKTOP_STACK_BPF_H */
