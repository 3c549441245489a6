/* SPDX-License-Identifier: GPL-2.0 */
/* Placing and attaching the allocator uprobes. */
#ifndef LEAKTOP_PROBES_H
#define LEAKTOP_PROBES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct alloc_bpf;
struct allocator;

/* The API name of an enum lt_kind, as frames[0] shows it. */
const char *probe_kind_name(unsigned int kind);

/*
 * Where in a function to put its probe: the offset of the first
 * instruction the kernel emulates (push, jcc/jmp/call rel, nop), if every
 * path from the entry reaches it with %rsp, %rbp and the argument
 * registers (the first nargs) untouched and nothing else in the function
 * jumps into the skipped bytes; else 0. code holds the function's bytes.
 */
size_t probe_offset(const uint8_t *code, size_t len, int nargs);

/* Print where each probe goes (-v). */
extern int probes_verbose;

int probes_attach(struct alloc_bpf *skel, pid_t pid, const struct allocator *a);
void probes_detach(void);
/* How many probes are attached, for the report header. */
int probes_count(void);

#endif
