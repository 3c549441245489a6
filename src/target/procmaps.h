/* SPDX-License-Identifier: GPL-2.0 */
/* The mappings of a process, read from /proc/PID/maps. */
#ifndef LEAKTOP_PROCMAPS_H
#define LEAKTOP_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mapping {
	uint64_t start, end, pgoff;
	bool exec;
	bool deleted;	/* the file at path is no longer the one mapped */
	bool uprobes;	/* the kernel's uprobe page ("[uprobes]"): return
			 * probe trampoline and out-of-line steps */
	char *path;	/* NULL for anonymous mappings */
};

struct procmaps {
	struct mapping *m;
	int n;
};

int procmaps_read(pid_t pid, struct procmaps *pm);
void procmaps_free(struct procmaps *pm);
const struct mapping *procmaps_find(const struct procmaps *pm, uint64_t addr);
/* The first mapping of path (the lowest address): its load base. */
const struct mapping *procmaps_first(const struct procmaps *pm, const char *path);
/* A path that opens the file mapped at m (buf holds it when it is the
 * /proc/PID/map_files link); NULL when none does. */
const char *procmaps_file(pid_t pid, const struct mapping *m, char *buf, size_t len);

#endif
