/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-user contract of the file-descriptor tracer (bpf/fds.bpf.c).
 *
 *   fds    hash  LT_FD_KEY(tgid, fd) -> struct lt_fd     every fd opened since attach
 *   fsites hash  stack id            -> struct lt_fsite  per opening stack
 *   fexecs lru hash  tgid         -> u64 ns       its last exec
 *   flost  percpu array  enum lt_flost
 *
 * The kernel sees opens and closes; what an fd is (file, socket, pipe...)
 * and which fds were open before attach userspace reads from /proc/PID/fd
 * at each report, which also drops records of fds closed where no close
 * was seen (close_range, exec of CLOEXEC fds, SCM_RIGHTS). A record older
 * than its process's last exec has the stack of the program before: it
 * counts as opened before attach. Site 0 is "unknown" (stack map full).
 */
#ifndef LEAKTOP_FDS_H
#define LEAKTOP_FDS_H

#include "stack.h"

#define LT_FD_KEY(tgid, fd) (((__u64)(tgid) << 32) | (__u32)(fd))

struct lt_fd {
	__u64 site;	 /* opening stack id in fsites */
	__u64 opened_ns; /* bpf_ktime_get_ns() at the open */
	__u32 nr;	 /* the syscall that made it */
	__u32 pad;
};

struct lt_fsite {
	__u32 tgid;
	__u32 pad;
	__u64 opened;	     /* fds opened here since attach */
	__u64 closed;	     /* of those, closed */
	struct lt_frames st; /* st.ip[0]: the syscall wrapper */
};

enum lt_flost {
	LT_FLOST_FD_MAP_FULL,
	LT_FLOST_STACK_MAP_FULL,
	LT_FLOST_MAX,
};

#endif /* LEAKTOP_FDS_H */
