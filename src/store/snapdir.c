// SPDX-License-Identifier: GPL-2.0
/* Numbered snapshot files in a private directory, with retention. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "store/snapdir.h"
#include "store/snapfile.h"

static int is_snap(const char *name)
{
	size_t n = strlen(name);

	return strncmp(name, "snap-", 5) == 0 && n > 9 && strcmp(name + n - 4, ".lts") == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the snapshots in dir, oldest first (the numbers are padded). */
static int list(const char *dir, char ***names)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	*names = NULL;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!is_snap(e->d_name))
			continue;
		*names = realloc(*names, (n + 1) * sizeof(char *));
		if (!*names)
			abort();
		(*names)[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(*names, n, sizeof(char *), by_name);
	return n;
}

/* Remove the oldest files until at most keep remain; how many went. */
static int prune(const char *dir, int keep)
{
	char **names, path[PATH_MAX];
	int n = list(dir, &names), gone = 0;

	for (int i = 0; i < n; i++) {
		if (i < n - keep) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			gone += unlink(path) == 0;
		}
		free(names[i]);
	}
	free(names);
	return gone;
}

static int list_count(const char *dir)
{
	char **names;
	int n = list(dir, &names);

	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return n;
}

int snapdir_newest(const char *dir, char *path, size_t len)
{
	char **names;
	int n = list(dir, &names);

	if (n > 0)
		snprintf(path, len, "%s/%s", dir, names[n - 1]);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return n > 0 ? 0 : n < 0 ? n : -ENOENT;
}

static int make_private_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return (st.st_mode & 077) ? (chmod(dir, 0700) ? -errno : 0) : 0;
}

static bool full(int err)
{
	return err == -ENOSPC || err == -EDQUOT;
}

int snapdir_store(const char *dir, const struct lt_snapshot *s, uint64_t seq, int keep)
{
	char path[PATH_MAX];
	struct timespec now;
	uint64_t wall;
	int err = make_private_dir(dir), dropped = 0, left;

	if (err) {
		fprintf(stderr, "leaktop: snapshot directory %s: %s\n", dir, strerror(-err));
		return err;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	wall = now.tv_sec * 1000000000ULL + now.tv_nsec;
	snprintf(path, sizeof(path), "%s/snap-%06lu.lts", dir, seq);
	err = snapfile_write(path, s, wall, seq);
	/* Disk full: the newest data matters most; drop the oldest snapshots
	 * one at a time until this one fits or none is left. */
	while (full(err) && (left = list_count(dir)) > 0 && prune(dir, left - 1) > 0) {
		dropped++;
		err = snapfile_write(path, s, wall, seq);
	}
	if (dropped)
		fprintf(stderr, "leaktop: %s is full: removed the %d oldest snapshot%s%s\n", dir,
			dropped, dropped == 1 ? "" : "s", err ? "" : " to make room");
	if (err)
		fprintf(stderr, "leaktop: cannot write snapshot %s: %s\n", path, strerror(-err));
	if (keep > 0)
		prune(dir, keep);
	return err;
}
