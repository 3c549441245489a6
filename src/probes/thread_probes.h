/* SPDX-License-Identifier: GPL-2.0 */
/* Probes of the thread tracer (bpf/threads.bpf.c). */
#ifndef LEAKTOP_THREAD_PROBES_H
#define LEAKTOP_THREAD_PROBES_H

#include <sys/types.h>

struct threads_bpf;
struct providers;

/* sched tracepoints plus uprobes on pthread_create, pthread_detach and
 * the pthread_join family of the object providing them. */
int thread_probes_attach(struct threads_bpf *skel, pid_t pid, const struct providers *p);
/* The two halves: tracepoints (they see every task), and the uprobes in
 * p->pthread_obj for pid (0: every process mapping it). */
int thread_probes_attach_tracepoints(struct threads_bpf *skel);
int thread_probes_attach_uprobes(struct threads_bpf *skel, pid_t pid, const struct providers *p);

#endif
