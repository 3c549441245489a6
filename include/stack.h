/* SPDX-License-Identifier: GPL-2.0 */
/* A user call stack as the BPF programs record it (shared contract). */
#ifndef LEAKTOP_STACK_H
#define LEAKTOP_STACK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LT_MAX_FRAMES 64

struct lt_frames {
	__u32 nr;	/* valid entries of ip[] */
	__u32 kind;	/* what ip[0] is: the probe's entry point (program-specific) */
	__u64 ip[LT_MAX_FRAMES];	/* innermost first: probe ip, direct caller, ... */
};

#endif /* LEAKTOP_STACK_H */
