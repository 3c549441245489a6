/* SPDX-License-Identifier: GPL-2.0 */
/* Where the kernel-memory tracer hooks in: the kmem and percpu tracepoints. */
#ifndef LEAKTOP_KMEM_PROBES_H
#define LEAKTOP_KMEM_PROBES_H

struct kmem_bpf;

/* Slab tracepoints are required (-errno when refused); pages and per-CPU
 * chunks are optional: each missing one says so in one line. */
int kmem_probes_attach(struct kmem_bpf *skel);
/* Attach, or say in one line why not and destroy the tracer (*skel NULL). */
void kmem_probes_attach_or_off(struct kmem_bpf **skel);

#endif
