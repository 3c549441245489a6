// SPDX-License-Identifier: GPL-2.0
/* Where the kernel-memory tracer hooks in. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "kmem.skel.h"
#include "probes/kmem_probes.h"
#include "probes/probes.h"

static int attach_all(struct bpf_program *const *progs, int n)
{
	int err = 0;

	for (int i = 0; i < n && !err; i++)
		err = probes_keep(progs[i]);
	return err;
}

int kmem_probes_attach(struct kmem_bpf *skel)
{
	/* Frees first: an allocation is only followed once its frees are. */
	struct bpf_program *const slab[] = {
	    skel->progs.kfree_tp,
	    skel->progs.kmem_cache_free_tp,
	    skel->progs.kmalloc_tp,
	    skel->progs.kmem_cache_alloc_tp,
	};
	struct bpf_program *const pages[] = {
	    skel->progs.page_free_tp,
	    skel->progs.page_free_batched_tp,
	    skel->progs.page_alloc_tp,
	};
	struct bpf_program *const percpu[] = {
	    skel->progs.percpu_free_tp,
	    skel->progs.percpu_alloc_tp,
	};
	int err = attach_all(slab, 4);

	if (err)
		return err;
	if (attach_all(pages, 3))
		fprintf(stderr,
			"leaktop: kernel pages not traced (mm_page_* tracepoints refused)\n");
	if (attach_all(percpu, 2))
		fprintf(stderr,
			"leaktop: kernel per-CPU memory not traced (percpu tracepoints refused)\n");
	return 0;
}

void kmem_probes_attach_or_off(struct kmem_bpf **skel)
{
	int err = kmem_probes_attach(*skel);

	if (!err)
		return;
	fprintf(stderr,
		"leaktop: kernel memory tracer off: cannot attach the kmem tracepoints: %s\n",
		strerror(-err));
	kmem_bpf__destroy(*skel); /* links already made stay harmless until detach */
	*skel = NULL;
}
