// SPDX-License-Identifier: GPL-2.0
/* Parse /proc/PID/maps: which file backs an address, and where it is loaded. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "target/procmaps.h"

#define DELETED " (deleted)"

static int parse_line(char *line, struct mapping *m)
{
	char perms[8];
	int off = 0, tail;

	if (sscanf(line, "%lx-%lx %7s %lx %*s %*s%n", &m->start, &m->end, perms,
		   &m->pgoff, &off) != 4)
		return -EINVAL;
	m->exec = perms[2] == 'x';
	line += off;
	line += strspn(line, " \t");
	line[strcspn(line, "\n")] = '\0';
	/* A file removed or replaced (renamed over) since it was mapped. */
	tail = (int)strlen(line) - (int)strlen(DELETED);
	m->deleted = tail > 0 && strcmp(line + tail, DELETED) == 0;
	if (m->deleted)
		line[tail] = '\0';
	m->uprobes = strcmp(line, "[uprobes]") == 0;
	/* Only real files: "[heap]", "[stack]", "[vdso]" have no ELF to read. */
	m->path = line[0] == '/' ? strdup(line) : NULL;
	return 0;
}

/*
 * The file the mapping shows, whatever its path holds now: a library
 * replaced on disk since (a package upgrade) is still read as mapped.
 * Falls back to the path where /proc/PID/map_files cannot be opened.
 */
const char *procmaps_file(pid_t pid, const struct mapping *m, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/%d/map_files/%lx-%lx", pid, m->start, m->end);
	if (access(buf, R_OK) == 0)
		return buf;
	return m->deleted ? NULL : m->path;
}

int procmaps_read(pid_t pid, struct procmaps *pm)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	int n = 0, size = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	pm->m = NULL;
	while (getline(&line, &cap, f) > 0) {
		if (n == size) {
			size = size ? size * 2 : 64;
			pm->m = realloc(pm->m, size * sizeof(*pm->m));
			if (!pm->m)
				abort();
		}
		if (parse_line(line, &pm->m[n]) == 0)
			n++;
	}
	free(line);
	fclose(f);
	pm->n = n;
	return 0;
}

void procmaps_free(struct procmaps *pm)
{
	for (int i = 0; i < pm->n; i++)
		free(pm->m[i].path);
	free(pm->m);
	pm->m = NULL;
	pm->n = 0;
}

const struct mapping *procmaps_find(const struct procmaps *pm, uint64_t addr)
{
	int lo = 0, hi = pm->n - 1;

	/* The kernel lists mappings sorted by address. */
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct mapping *m = &pm->m[mid];

		if (addr < m->start)
			hi = mid - 1;
		else if (addr >= m->end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

const struct mapping *procmaps_first(const struct procmaps *pm, const char *path)
{
	for (int i = 0; i < pm->n; i++)
		if (pm->m[i].path && strcmp(pm->m[i].path, path) == 0)
			return &pm->m[i];
	return NULL;
}
