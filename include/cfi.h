/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-user contract of bpf/cfi.bpf.h: CFI unwind tables for user
 * stacks through code without frame pointers.
 *
 * Maps (filled by userspace, src/probes/unwind_tables.c):
 *   cfi_rows   array  row index -> struct lt_cfi_row   every object's rows,
 *              each object a sorted run [first, first + count), shared by
 *              every process that maps it
 *   cfi_procs  array[1]  struct lt_cfi_proc          the traced process's
 *              code mappings, sorted by start; any other process (tgid not
 *              this one's) gets the frame-pointer walk
 *
 * One row says, from its pc on (object vaddr), how to find the caller:
 * CFA = rsp or rbp + cfa_off; the return address is at CFA - 8 (always on
 * x86-64, so not stored); the caller's rbp is unchanged or at CFA + rbp_off.
 */
#ifndef LEAKTOP_CFI_H
#define LEAKTOP_CFI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LT_CFI_MAPS	128	/* code mappings per process */
#define LT_CFI_BISECT	24	/* bisection steps: 16M rows per object */

enum lt_cfa {
	LT_CFA_NONE,	/* no rule here (gap, or one we do not follow): stop */
	LT_CFA_RSP,
	LT_CFA_RBP,
	LT_CFA_PLT10,	/* .plt: rsp + 8, + 8 more when (rip & 15) >= 10 */
	LT_CFA_PLT11,	/* same, threshold 11 */
	LT_CFA_END,	/* return address undefined: the outermost frame */
};

enum lt_cfi_rbp {
	LT_RBP_SAME,	/* the caller's rbp is this frame's */
	LT_RBP_AT,	/* saved at CFA + rbp_off */
	LT_RBP_LOST,	/* not recoverable */
};

struct lt_cfi_row {
	__u32 pc;	/* object vaddr where the row starts */
	__s32 cfa_off;
	__u8 cfa;	/* enum lt_cfa */
	__u8 rbp;	/* enum lt_cfi_rbp */
	__s16 rbp_off;
};

enum lt_cfi_map_flags {
	LT_CFI_FP = 1,	/* frame-pointer code (Go, or every function keeps rbp
			 * as its frame pointer): walk rbp, no search */
};

struct lt_cfi_map {
	__u64 start, end;	/* the mapping's addresses */
	__u64 bias;		/* address - object vaddr */
	__u32 first, count;	/* its object's rows in cfi_rows */
	__u32 flags;		/* enum lt_cfi_map_flags */
	__u32 pad;
};

struct lt_cfi_proc {
	__u32 n;
	__u32 tgid;	/* 0: no tables yet */
	struct lt_cfi_map m[LT_CFI_MAPS];
};

#endif /* LEAKTOP_CFI_H */
