/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The traced process's memory through one /proc/PID/mem descriptor, opened
 * once the target runs the program we trace. Such a descriptor stays bound
 * to the address space it was opened on: once the process execs another
 * program, or exits and its PID goes to another process, reads and writes
 * through it fail instead of reaching the wrong program.
 */
#ifndef LEAKTOP_PROCMEM_H
#define LEAKTOP_PROCMEM_H

#include <stdbool.h>
#include <sys/types.h>

/* Bind to pid's current address space; 0 or -errno. */
int procmem_bind(pid_t pid);
/* A descriptor of pid's memory: the bound one, or for a process not
 * bound (leaktop -a traces many) one opened now; -errno on failure. Give
 * it back with procmem_put. */
int procmem_get(pid_t pid);
void procmem_put(int fd);
/* The bound address space is gone: pid exec'ed or exited. False when
 * nothing is bound (binding failed: then nobody can tell). */
bool procmem_gone(pid_t pid);
void procmem_close(void);

#endif
