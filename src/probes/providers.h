/* SPDX-License-Identifier: GPL-2.0 */
/* Which loaded object provides each probed function to a process. */
#ifndef LEAKTOP_PROVIDERS_H
#define LEAKTOP_PROVIDERS_H

#include <sys/types.h>

struct providers {
	char *malloc_obj;	/* object whose malloc family the process calls */
	char *mmap_obj;		/* object whose mmap/munmap/mremap it calls */
	char *cxx_obj;		/* object whose operator new it calls; NULL if none */
	char *pthread_obj;	/* object whose pthread_create it calls; NULL if none */
};

/*
 * Walk the objects in the dynamic linker's symbol lookup order (executable,
 * LD_PRELOAD, then DT_NEEDED breadth first) and take the first one that
 * exports malloc. pid > 0 reads a running process (its environment and
 * mappings: only objects it has mapped count); pid == 0 predicts it for exe
 * started with our own environment.
 */
int providers_find(pid_t pid, const char *exe, struct providers *a);
void providers_free(struct providers *a);

#endif
