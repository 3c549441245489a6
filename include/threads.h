/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-user contract of bpf/threads.bpf.c: threads of the traced process,
 * their creation sites, joins, detaches, exits and blocks.
 *
 * Maps:
 *   threads  hash  tid           -> struct lt_thread   one record per thread
 *   tsites   hash  stack id      -> struct lt_tsite    per creation site
 *   pthreads hash  (pthread_t, tgid) -> tid            for join/detach
 *   tlost    percpu array  enum lt_tlost
 *
 * A record is deleted once nothing can be reported about the thread:
 * exited and (joined or detached). Creation site 0 is "unknown" (threads
 * that existed before leaktop attached, the main thread).
 *
 * With target_tgid 0 every process but leaktop is traced (-a): records
 * carry their tgid and site ids mix it in, so userspace splits the maps
 * per process.
 */
#ifndef LEAKTOP_THREADS_H
#define LEAKTOP_THREADS_H

#include "stack.h"

/* User registers saved at a block, in the kernel's pt_regs order subset
 * the unwinder needs (DWARF numbering is done in userspace). */
enum lt_reg { LT_R_IP, LT_R_SP, LT_R_BP, LT_R_BX, LT_R_R12, LT_R_R13, LT_R_R14, LT_R_R15,
	      LT_R_AX, LT_R_CX, LT_R_DX, LT_R_SI, LT_R_DI, LT_R_R8, LT_R_R9, LT_R_R10,
	      LT_R_R11, LT_NREGS };

/* Which pthread function a uprobe sits on (its BPF cookie). */
enum lt_tprobe { LT_TP_CREATE, LT_TP_DETACH, LT_TP_JOIN };

enum lt_tflag {
	LT_T_DETACHED = 1,	/* created detached or pthread_detach'ed */
	LT_T_JOINED = 2,	/* a pthread_join for it returned 0 */
	LT_T_CENSUS = 4,	/* existed before attach: joinability unknown */
	LT_T_EXITED = 8,
	LT_T_MAIN = 16,		/* the process's first thread */
};

enum lt_tlost {
	LT_TLOST_THREAD_MAP_FULL,	/* a thread not followed */
	LT_TLOST_STACK_MAP_FULL,	/* a creation stack not stored: site 0 */
	LT_TLOST_MAX,
};

struct lt_thread {
	__u32 tgid;		/* its process */
	__u32 pad;
	__u64 pthread;		/* pthread_t (the thread pointer, %fs base) */
	__u64 create_stack;	/* creation site stack id; 0 unknown */
	__u64 created_ns;	/* CLOCK_MONOTONIC; 0 unknown */
	__u64 exited_ns;	/* 0 while alive */
	__u64 blocked_ns;	/* when it went to sleep; 0 when not blocked */
	__u64 stack_bytes;	/* size of the mapping holding its stack; 0 unknown */
	__u64 stack_sp;		/* its stack pointer at creation (no bpf_find_vma) */
	__u32 flags;		/* enum lt_tflag */
	__u32 state;		/* task state at the block */
};

/* pthread_t values repeat across processes. */
struct lt_pthread_key {
	__u64 pthread;
	__u32 tgid;
	__u32 pad;
};

struct lt_tsite {
	__u32 tgid;		/* the process whose site it is (0: site 0) */
	__u32 pad;
	__s64 live;		/* threads alive now */
	__s64 unjoined;		/* exited, joinable, not joined */
	__u64 created;		/* threads created since attach */
	struct lt_frames st;	/* st.ip[0]: pthread_create */
};

/* What the census iterator writes per thread of the target: at attach for
 * the threads already there, at each report for the registers and
 * syscall of the sleeping ones. */
struct lt_census {
	__u32 tid;
	__u32 tgid;
	__u32 state;
	__u32 pad;
	__u64 pthread;
	__u64 exec_start_ns;	/* scheduler clock: when it last ran */
	__u64 now_ns;		/* scheduler-comparable now */
	__u64 stack_bytes;
	__s64 syscall;
	__u64 regs[LT_NREGS];
};

#endif /* LEAKTOP_THREADS_H */
