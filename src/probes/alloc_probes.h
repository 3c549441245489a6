/* SPDX-License-Identifier: GPL-2.0 */
/* Uprobes of the allocation tracer (bpf/alloc.bpf.c). */
#ifndef LEAKTOP_ALLOC_PROBES_H
#define LEAKTOP_ALLOC_PROBES_H

#include <stdbool.h>
#include <sys/types.h>

struct alloc_bpf;
struct providers;

/* The API name of an enum lt_kind, as frames[0] shows it. */
const char *probe_kind_name(unsigned int kind);
/* launched: a command held at its exec, its libraries not mapped yet. */
int alloc_probes_attach(struct alloc_bpf *skel, pid_t pid, const struct providers *p,
			bool launched);

#endif
