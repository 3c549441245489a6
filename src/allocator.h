/* SPDX-License-Identifier: GPL-2.0 */
/* Which loaded object provides malloc (and mmap) to a process. */
#ifndef LEAKTOP_ALLOCATOR_H
#define LEAKTOP_ALLOCATOR_H

#include <sys/types.h>

struct allocator {
	char *malloc_obj;	/* object whose malloc family the process calls */
	char *mmap_obj;		/* object whose mmap/munmap/mremap it calls */
	char *cxx_obj;		/* object whose operator new it calls; NULL if none */
};

/*
 * Walk the objects in the dynamic linker's symbol lookup order (executable,
 * LD_PRELOAD, then DT_NEEDED breadth first) and take the first one that
 * exports malloc. pid > 0 reads a running process (its environment and
 * mappings: only objects it has mapped count); pid == 0 predicts it for exe
 * started with our own environment.
 */
int allocator_find(pid_t pid, const char *exe, struct allocator *a);
void allocator_free(struct allocator *a);

#endif
