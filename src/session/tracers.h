/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Open, size and load the BPF tracers, for one process (pid > 0) or for
 * every process but leaktop (pid 0, -a). Shared by the process session and
 * the system-wide session.
 */
#ifndef LEAKTOP_TRACERS_H
#define LEAKTOP_TRACERS_H

#include <sys/types.h>
#include "cli/options.h"

struct alloc_bpf;
struct threads_bpf;
struct goroutines_bpf;
struct fds_bpf;
struct kmem_bpf;
struct symbolizer;
struct gobin;
struct cfi_tables;

/* Root, or the capabilities BPF and uprobes need: 0, or -EPERM after
 * naming what is missing. Also routes libbpf's messages to stderr. */
int tracers_check_privileges(const struct options *o);
/* A tracer that cannot load is turned off with one line and the others go
 * on: err passed through, *loaded counted on success. -ESRCH (no BTF)
 * stops every tracer. */
int tracer_off(const char *what, int err, int *loaded);
/* After the tracers: 0 when one loaded and the kernel has BTF, else the
 * error, said in one line. */
int tracers_loaded(int err, int loaded);
/* cfi: the unwind tables the tracer's stacks use; NULL for frame pointers
 * only. */
int tracers_load_alloc(const struct options *o, pid_t pid, struct cfi_tables *cfi,
		       struct alloc_bpf **out);
int tracers_load_threads(const struct options *o, pid_t pid, struct cfi_tables *cfi,
			 struct threads_bpf **out);
int tracers_load_fds(const struct options *o, pid_t pid, struct cfi_tables *cfi,
		     struct fds_bpf **out);
/* Kernel memory allocated in pid's context (0: every process's). */
int tracers_load_kmem(const struct options *o, pid_t pid, struct kmem_bpf **out);
int tracers_load_goroutines(const struct options *o, struct goroutines_bpf **out);
/* Name exe's frames from its .gopclntab (stripped or not), inlined calls
 * expanded, as the Go runtime names them. */
void tracers_name_go(struct symbolizer *sym, const char *exe, struct gobin *bin);

#endif
