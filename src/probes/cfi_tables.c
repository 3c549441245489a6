// SPDX-License-Identifier: GPL-2.0
/*
 * Filling the CFI maps. One flat row array and a per-process mapping list
 * rather than a map per object: a map-in-map insert took ~10 ms on this
 * kernel (shared/notes/unwinding-in-bpf.md §2), a flat array costs one
 * update per row (libc: 28k rows, compiled in ~10 ms).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cfi.h"
#include "probes/cfi_tables.h"
#include "symbols/cfi_compile.h"
#include "target/procmaps.h"

#define CFI_ROWS (1u << 19)	/* 6 MiB of kernel memory; a C++ server
				 * with libc and libstdc++ needs ~70k */

struct cfi_obj {
	char key[64];		/* build-id in hex, else dev:inode:size:mtime */
	uint32_t first, count;
	uint32_t flags;
};

struct cfi_tables {
	int rows_fd, procs_fd;
	uint32_t used;		/* rows written */
	uint64_t rows_lost;
	struct cfi_obj *objs;
	int nobjs;
	uint64_t sig;		/* of the mappings last written */
	bool verbose;
};

struct cfi_tables *cfi_tables_new(bool verbose)
{
	struct cfi_tables *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->rows_fd = u->procs_fd = -1;
	u->verbose = verbose;
	return u;
}

int cfi_tables_prepare(struct cfi_tables *u, struct bpf_map *rows, struct bpf_map *procs)
{
	int err;

	if (u->rows_fd < 0)
		return bpf_map__set_max_entries(rows, CFI_ROWS);
	err = bpf_map__reuse_fd(rows, u->rows_fd);
	return err ? err : bpf_map__reuse_fd(procs, u->procs_fd);
}

void cfi_tables_loaded(struct cfi_tables *u, struct bpf_map *rows, struct bpf_map *procs)
{
	if (u->rows_fd >= 0)
		return;
	u->rows_fd = dup(bpf_map__fd(rows));
	u->procs_fd = dup(bpf_map__fd(procs));
}

static void obj_key(Elf *elf, int fd, char *key, size_t len)
{
	const uint8_t *id;
	struct stat st;
	ssize_t n = dwelf_elf_gnu_build_id(elf, (const void **)&id);

	if (n > 0) {
		for (ssize_t i = 0; i < n && (size_t)(2 * i + 3) < len; i++)
			snprintf(key + 2 * i, 3, "%02x", id[i]);
		return;
	}
	if (fstat(fd, &st) == 0)
		snprintf(key, len, "%lx:%lx:%lx:%lx", (unsigned long)st.st_dev,
			 (unsigned long)st.st_ino, (unsigned long)st.st_size,
			 (unsigned long)st.st_mtime);
}

/* Go code keeps frame pointers (golang/go#15840, since Go 1.7) and its
 * .eh_frame, when there is one, does not cover it all. */
static bool is_go(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstr;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstr))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstr, sh.sh_name) : NULL;

		if (name && (!strcmp(name, ".gopclntab") || !strcmp(name, ".go.buildinfo")))
			return true;
	}
	return false;
}

static int write_rows(struct cfi_tables *u, const struct cfi_table *t)
{
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t k = u->used + i;

		if (bpf_map_update_elem(u->rows_fd, &k, &t->rows[i], BPF_ANY))
			return -errno;
	}
	u->used += t->n;
	return 0;
}

/* An object without usable CFI keeps the frame-pointer walk, validated. */
static void compile_obj(struct cfi_tables *u, Elf *elf, const char *path, struct cfi_obj *o)
{
	struct cfi_table t;
	int err;

	o->flags = LT_CFI_FP;
	if (is_go(elf))
		return;
	err = cfi_compile(elf, &t);
	if (err) {
		if (u->verbose)
			fprintf(stderr, "leaktop: %s: no CFI rows (%s): frame pointers only\n",
				path, strerror(-err));
		return;
	}
	if (t.fp) {	/* no search needed: the same walk, cheaper */
		free(t.rows);
		return;
	}
	if (u->used + (uint64_t)t.n > CFI_ROWS) {
		fprintf(stderr, "leaktop: unwind table full: %s (%u rows) gets frame pointers only\n",
			path, t.n);
		u->rows_lost += t.n;
		free(t.rows);
		return;
	}
	o->first = u->used;
	err = write_rows(u, &t);
	if (!err) {
		o->count = t.n;
		o->flags = 0;
	}
	if (u->verbose)
		fprintf(stderr, "leaktop: %s: %u CFI rows (%u not followed)\n", path, t.n,
			t.unsupported);
	free(t.rows);
}

static const struct cfi_obj *object(struct cfi_tables *u, const char *path)
{
	struct cfi_obj o = { .flags = LT_CFI_FP }, *grown, *found = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;

	if (fd < 0)
		return NULL;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	obj_key(elf, fd, o.key, sizeof(o.key));
	for (int i = 0; i < u->nobjs && !found; i++)
		if (!strcmp(u->objs[i].key, o.key))
			found = &u->objs[i];
	if (found)
		goto out;
	compile_obj(u, elf, path, &o);
	grown = realloc(u->objs, (u->nobjs + 1) * sizeof(*grown));
	if (grown) {
		u->objs = grown;
		u->objs[u->nobjs] = o;
		found = &u->objs[u->nobjs++];
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return found;
}

/* Object vaddr of m->start: through the PT_LOAD holding file offset pgoff. */
static int map_bias(const char *path, const struct mapping *m, uint64_t *bias)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = -ENOENT;
	Elf *elf = fd < 0 ? NULL : elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t nph = 0;
	GElf_Phdr ph;

	if (elf && elf_getphdrnum(elf, &nph) == 0) {
		for (size_t i = 0; i < nph; i++) {
			if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD ||
			    m->pgoff < (ph.p_offset & ~0xfffULL) ||
			    m->pgoff >= ph.p_offset + ph.p_filesz)
				continue;
			*bias = m->start - (m->pgoff - ph.p_offset + ph.p_vaddr);
			err = 0;
			break;
		}
	}
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	return err;
}

static uint64_t maps_sig(const struct procmaps *pm)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < pm->n; i++)
		if (pm->m[i].exec)
			h = (h ^ pm->m[i].start ^ (pm->m[i].end << 1)) * 0x100000001b3ULL;
	return h;
}

static void add_map(struct cfi_tables *u, pid_t pid, const struct mapping *m,
		    struct lt_cfi_proc *p)
{
	const struct cfi_obj *o;
	struct lt_cfi_map *e;
	char buf[96];
	const char *path;
	uint64_t bias;

	if (!m->exec || !m->path || m->uprobes || m->path[0] != '/')
		return;
	if (p->n == LT_CFI_MAPS)
		return;
	path = procmaps_file(pid, m, buf, sizeof(buf));
	o = path ? object(u, path) : NULL;
	if (!o)
		return;
	if (map_bias(path, m, &bias))
		return;
	e = &p->m[p->n];
	e->bias = bias;
	e->start = m->start;
	e->end = m->end;
	e->first = o->first;
	e->count = o->count;
	e->flags = o->flags;
	p->n++;
}

int cfi_tables_update(struct cfi_tables *u, pid_t pid)
{
	struct lt_cfi_proc *p;
	struct procmaps pm;
	uint32_t key = 0;
	uint64_t sig;
	int err;

	if (u->rows_fd < 0)
		return 0;
	err = procmaps_read(pid, &pm);
	if (err)
		return err;
	sig = maps_sig(&pm);
	if (sig == u->sig) {
		procmaps_free(&pm);
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		procmaps_free(&pm);
		return -ENOMEM;
	}
	p->tgid = pid;
	for (int i = 0; i < pm.n; i++)	/* /proc/PID/maps is sorted by address */
		add_map(u, pid, &pm.m[i], p);
	procmaps_free(&pm);
	err = bpf_map_update_elem(u->procs_fd, &key, p, BPF_ANY) ? -errno : 0;
	free(p);
	if (!err)
		u->sig = sig;
	return err;
}

uint64_t cfi_tables_rows_lost(const struct cfi_tables *u)
{
	return u ? u->rows_lost : 0;
}

void cfi_tables_free(struct cfi_tables *u)
{
	if (!u)
		return;
	if (u->rows_fd >= 0)
		close(u->rows_fd);
	if (u->procs_fd >= 0)
		close(u->procs_fd);
	free(u->objs);
	free(u);
}
