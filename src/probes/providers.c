// SPDX-License-Identifier: GPL-2.0
/* Resolve which object provides a function, the way ld.so binds it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "probes/providers.h"
#include "probes/elfsym.h"
#include "target/procmaps.h"

#define MAX_OBJS 256

static const char *const std_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
	"/lib", "/usr/lib", "/usr/local/lib", NULL,
};

struct walk {
	char *objs[MAX_OBJS];
	int n;
	char *env_libpath;	/* LD_LIBRARY_PATH of the target */
	char *env_preload;	/* LD_PRELOAD of the target */
	const struct procmaps *maps;	/* NULL when predicting */
	pid_t pid;
};

static int try_dir(const char *dir, size_t dlen, const char *name, char *out)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)dlen, dir, name) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	if (access(buf, R_OK) || !realpath(buf, out))
		return -ENOENT;
	return 0;
}

/* Search a ':'-separated list, with $ORIGIN replaced by origin. */
static int try_list(const char *list, const char *origin, const char *name, char *out)
{
	char dir[PATH_MAX];

	while (list && *list) {
		size_t len = strcspn(list, ":");

		if (strncmp(list, "$ORIGIN", 7) == 0 && len >= 7)
			snprintf(dir, sizeof(dir), "%s%.*s", origin, (int)len - 7, list + 7);
		else
			snprintf(dir, sizeof(dir), "%.*s", (int)len, list);
		if (try_dir(dir, strlen(dir), name, out) == 0)
			return 0;
		list += len + (list[len] == ':');
	}
	return -ENOENT;
}

static int resolve(struct walk *w, const char *name, const char *from,
		   const char *runpath, char *out)
{
	char origin[PATH_MAX];
	const char *slash = strrchr(from, '/');

	if (strchr(name, '/'))
		return realpath(name, out) ? 0 : -ENOENT;
	snprintf(origin, sizeof(origin), "%.*s", slash ? (int)(slash - from) : 1,
		 slash ? from : ".");
	if (try_list(w->env_libpath, origin, name, out) == 0 ||
	    try_list(runpath, origin, name, out) == 0)
		return 0;
	for (int i = 0; std_dirs[i]; i++)
		if (try_dir(std_dirs[i], strlen(std_dirs[i]), name, out) == 0)
			return 0;
	return -ENOENT;
}

static void add_obj(struct walk *w, const char *path)
{
	const struct mapping *m = NULL;
	char buf[96];

	/* A running process only binds to what it has actually mapped. */
	if (w->maps && !(m = procmaps_first(w->maps, path)))
		return;
	/* Replaced on disk since (an upgrade): probe and read the file the
	 * process has, through its /proc/PID/map_files link. */
	if (m && m->deleted)
		path = procmaps_file(w->pid, m, buf, sizeof(buf));
	for (int i = 0; path && i < w->n; i++)
		if (strcmp(w->objs[i], path) == 0)
			return;
	if (path && w->n < MAX_OBJS)
		w->objs[w->n++] = strdup(path);
}

static void add_needed(struct walk *w, const char *obj)
{
	struct elf_file ef;
	char **names, *runpath, path[PATH_MAX];
	int n;

	if (elf_file_open(obj, &ef))
		return;
	if (elf_needed(&ef, &names, &n, &runpath) == 0) {
		for (int i = 0; i < n; i++) {
			if (resolve(w, names[i], obj, runpath, path) == 0)
				add_obj(w, path);
			free(names[i]);
		}
		free(names);
		free(runpath);
	}
	elf_file_close(&ef);
}

static void add_preload(struct walk *w, const char *exe)
{
	char path[PATH_MAX], name[PATH_MAX];
	const char *p = w->env_preload;

	while (p && *p) {
		size_t len = strcspn(p, ": ");

		if (len && len < sizeof(name)) {
			snprintf(name, sizeof(name), "%.*s", (int)len, p);
			if (resolve(w, name, exe, NULL, path) == 0)
				add_obj(w, path);
		}
		p += len + (p[len] != '\0');
	}
}

static char *first_exporting(struct walk *w, const char *func)
{
	for (int i = 0; i < w->n; i++) {
		struct elf_file ef;
		struct elf_func fn;
		int err;

		if (elf_file_open(w->objs[i], &ef))
			continue;
		/* A static executable has no dynamic symbols: its own win. */
		err = elf_find_func(&ef, func, !elf_is_static(&ef), &fn);
		elf_file_close(&ef);
		if (err == 0)
			return strdup(w->objs[i]);
	}
	return NULL;
}

static char *environ_var(pid_t pid, const char *var)
{
	char path[64], *buf = NULL, *val = NULL;
	size_t len = 0, vlen = strlen(var);
	FILE *f;

	if (pid == 0) {
		val = getenv(var);
		return val ? strdup(val) : NULL;
	}
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	while (getdelim(&buf, &len, '\0', f) > 0)
		if (strncmp(buf, var, vlen) == 0 && buf[vlen] == '=') {
			val = strdup(buf + vlen + 1);
			break;
		}
	free(buf);
	fclose(f);
	return val;
}

int providers_find(pid_t pid, const char *exe, struct providers *a)
{
	struct walk w = { .n = 0 };
	struct procmaps pm = { 0 };
	int err = 0;

	if (pid > 0) {
		err = procmaps_read(pid, &pm);
		if (err)
			return err;
		w.maps = &pm;
		w.pid = pid;
	}
	w.env_libpath = environ_var(pid, "LD_LIBRARY_PATH");
	w.env_preload = environ_var(pid, "LD_PRELOAD");
	add_obj(&w, exe);
	add_preload(&w, exe);
	for (int i = 0; i < w.n; i++)	/* w.n grows: breadth first */
		add_needed(&w, w.objs[i]);
	a->malloc_obj = first_exporting(&w, "malloc");
	a->mmap_obj = first_exporting(&w, "mmap");
	a->cxx_obj = first_exporting(&w, "_Znwm");
	a->pthread_obj = first_exporting(&w, "pthread_create");
	if (!a->malloc_obj || !a->mmap_obj)
		err = -ENOENT;
	for (int i = 0; i < w.n; i++)
		free(w.objs[i]);
	free(w.env_libpath);
	free(w.env_preload);
	procmaps_free(&pm);
	return err;
}

void providers_free(struct providers *a)
{
	free(a->malloc_obj);
	free(a->mmap_obj);
	free(a->cxx_obj);
	free(a->pthread_obj);
	a->malloc_obj = a->mmap_obj = a->cxx_obj = a->pthread_obj = NULL;
}
