/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User stacks through code without frame pointers: a CFI walk over the
 * rows userspace compiled from each object's .eh_frame (include/cfi.h).
 * Per frame: the code mapping of the return address (the last one is
 * tried first, then a bisection), then in frame-pointer code one rbp step,
 * else the object's row (a bisection) and its rule. The walk ends at a row
 * we cannot follow (a gap between functions, a signal frame) and at the
 * outermost frame. Code in no mapping of the tables (JIT, or mapped since
 * the last tick) gets a validated frame-pointer step; userspace cuts a
 * stack at the first address outside the process's code.
 * A process without tables (Go, -a) gets the frame-pointer walk.
 */
#ifndef LEAKTOP_CFI_BPF_H
#define LEAKTOP_CFI_BPF_H

#include "cfi.h"
#include "stack.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);	/* resized by userspace */
	__type(key, __u32);
	__type(value, struct lt_cfi_row);
} cfi_rows SEC(".maps");

/* One process per session: an array, whose lookup the verifier inlines
 * (a hash lookup per frame cost more). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_cfi_proc);
} cfi_procs SEC(".maps");

static __always_inline const struct lt_cfi_proc *cfi_proc(__u32 tgid)
{
	__u32 zero = 0;
	const struct lt_cfi_proc *p = bpf_map_lookup_elem(&cfi_procs, &zero);

	return p && p->tgid == tgid && tgid ? p : NULL;
}

/* Index of the mapping holding pc, or -1. */
static __always_inline int cfi_find_map(const struct lt_cfi_proc *p, __u64 pc)
{
	__u32 lo = 0, hi = p->n, mid;
	const struct lt_cfi_map *m;

	if (hi > LT_CFI_MAPS)
		hi = LT_CFI_MAPS;
	if (hi == 0)
		return -1;
	for (int k = 0; k < 8; k++) {	/* log2(LT_CFI_MAPS) + 1 */
		if (hi - lo <= 1)
			break;
		mid = lo + (hi - lo) / 2;
		if (p->m[mid & (LT_CFI_MAPS - 1)].start <= pc)
			lo = mid;
		else
			hi = mid;
	}
	lo &= LT_CFI_MAPS - 1;
	m = &p->m[lo];
	return pc >= m->start && pc < m->end ? (int)lo : -1;
}

/* The last row at or before rel in m's object. */
static __always_inline const struct lt_cfi_row *cfi_find_row(const struct lt_cfi_map *m,
							     __u32 rel)
{
	__u32 lo = m->first, hi = m->first + m->count, mid;
	const struct lt_cfi_row *r;

	if (!m->count)
		return NULL;
	for (int k = 0; k < LT_CFI_BISECT; k++) {
		if (hi - lo <= 1)
			break;
		mid = lo + (hi - lo) / 2;
		r = bpf_map_lookup_elem(&cfi_rows, &mid);
		if (!r)
			return NULL;
		if (r->pc <= rel)
			lo = mid;
		else
			hi = mid;
	}
	r = bpf_map_lookup_elem(&cfi_rows, &lo);
	return r && r->pc <= rel ? r : NULL;
}

struct cfi_regs {
	__u64 sp, fp, ret;
	__u32 tgid;
	__u32 map;	/* index of the last mapping found + 1, 0 none */
};

/* One frame up from the return address in c->ret: 0, or -1 to stop. m
 * NULL: code mapped since the tables were written (a dlopen between two
 * ticks): a frame-pointer step, validated, as without tables. */
static __always_inline int cfi_step(const struct lt_cfi_map *m, struct cfi_regs *c)
{
	const struct lt_cfi_row *r;
	__u64 cfa, pair[2];

	if (!m || (m->flags & LT_CFI_FP)) {
		cfa = c->fp + 16;
	} else {
		/* ret - 1: the call, not what follows it (maybe another
		 * function after a noreturn call). */
		r = cfi_find_row(m, c->ret - 1 - m->bias);
		if (!r)
			return -1;
		if (r->cfa == LT_CFA_RSP)
			cfa = c->sp + r->cfa_off;
		else if (r->cfa == LT_CFA_RBP)
			cfa = c->fp + r->cfa_off;
		else
			return -1;	/* the outermost frame, or no rule */
		if (r->rbp == LT_RBP_AT && r->rbp_off != -16) {
			if (bpf_probe_read_user(&c->fp, 8, (void *)(cfa + r->rbp_off)))
				return -1;
		} else if (r->rbp == LT_RBP_LOST) {
			c->fp = 0;
		}
		if (r->rbp != LT_RBP_AT || r->rbp_off != -16) {
			if (cfa <= c->sp || cfa - c->sp > MAX_FRAME_BYTES || (cfa & 7))
				return -1;
			if (bpf_probe_read_user(&c->ret, 8, (void *)(cfa - 8)))
				return -1;
			c->sp = cfa;
			return 0;
		}
	}
	/* rbp saved just under the return address: one read for both (the
	 * frame-pointer fast path). */
	if (cfa <= c->sp || cfa - c->sp > MAX_FRAME_BYTES || (cfa & 7))
		return -1;
	if (bpf_probe_read_user(pair, sizeof(pair), (void *)(cfa - 16)))
		return -1;
	c->fp = pair[0];
	c->ret = pair[1];
	c->sp = cfa;
	return 0;
}

/*
 * One frame up: 0, or -1 to stop. A global function, so the verifier
 * checks it once and not once per frame and call site (inlined into the
 * frame loop, the walk exceeded the 1M-instruction budget).
 */
__noinline int cfi_frame(struct cfi_regs *c)
{
	const struct lt_cfi_proc *p;
	const struct lt_cfi_map *m = NULL;
	struct cfi_regs r;	/* on the BPF stack: 6.1 takes no helper
				 * buffer in an argument's memory */
	__u64 pc;
	int i, err;

	if (!c)
		return -1;
	r = *c;
	p = cfi_proc(r.tgid);
	if (!p)
		return -1;
	pc = r.ret - 1;
	if (r.map) {	/* consecutive frames are mostly in one object */
		m = &p->m[(r.map - 1) & (LT_CFI_MAPS - 1)];
		if (pc < m->start || pc >= m->end)
			m = NULL;
	}
	if (!m) {
		i = cfi_find_map(p, pc);
		r.map = i + 1;
		m = i < 0 ? NULL : &p->m[i & (LT_CFI_MAPS - 1)];
	}
	err = cfi_step(m, &r);
	*c = r;
	return err;
}

/*
 * The probe ip, *(rsp) (probes sit before any push or stack adjustment,
 * src/probes/probes.c, so the CFA is rsp + 8 there), then one return
 * address per step.
 */
static __always_inline void cfi_walk(struct pt_regs *regs, struct lt_frames *s, __u32 tgid)
{
	struct cfi_regs c = { .tgid = tgid };
	__u32 n = 1;

	if (!cfi_proc(tgid)) {
		walk_user_stack(regs, s);
		return;
	}
	s->ip[0] = PT_REGS_IP(regs);
	c.sp = PT_REGS_SP(regs);
	c.fp = PT_REGS_FP(regs);
	if (bpf_probe_read_user(&c.ret, 8, (void *)c.sp) || !user_text_like(c.ret))
		goto out;
	s->ip[n++] = c.ret;
	c.sp += 8;
	for (int i = 0; i < LT_MAX_FRAMES - 2; i++) {
		if (cfi_frame(&c) || !user_text_like(c.ret) || n >= LT_MAX_FRAMES)
			break;
		s->ip[n++] = c.ret;
	}
out:
	s->nr = n;
}

/*
 * From user registers saved anywhere in a function (a syscall's): frame 0's
 * own row gives its CFA, so the first step is a table step too (ret is
 * ip + 1 because a step looks up ret - 1). Without tables, frame pointers
 * only: *(rsp) is no return address there.
 */
static __always_inline void cfi_walk_inside(struct pt_regs *regs, struct lt_frames *s, __u32 tgid)
{
	struct cfi_regs c = { .tgid = tgid };
	bool tables = cfi_proc(tgid);
	__u32 n = 1;

	s->ip[0] = PT_REGS_IP(regs);
	c.sp = PT_REGS_SP(regs);
	c.fp = PT_REGS_FP(regs);
	c.ret = s->ip[0] + 1;
	for (int i = 0; i < LT_MAX_FRAMES - 1; i++) {
		if ((tables ? cfi_frame(&c) : cfi_step(NULL, &c)) || !user_text_like(c.ret) ||
		    n >= LT_MAX_FRAMES)
			break;
		s->ip[n++] = c.ret;
	}
	s->nr = n;
}

#endif /* LEAKTOP_CFI_BPF_H */
