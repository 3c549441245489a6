/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unwind a sleeping thread of the target with DWARF CFI (.eh_frame), from
 * the user registers the kernel saved when it went to sleep and its live
 * stack read through /proc/PID/mem. Works through code without frame
 * pointers (Debian's libc), where a frame-pointer walk stops.
 */
#ifndef LEAKTOP_UNWIND_H
#define LEAKTOP_UNWIND_H

#include <stdint.h>
#include <sys/types.h>
#include "threads.h"

struct symbolizer;

/* Fills ip[] (innermost first) and returns how many, or -errno. */
int unwind_thread(struct symbolizer *sym, pid_t pid, pid_t tid, const uint64_t regs[LT_NREGS],
		  uint64_t *ip, int max);

#endif
