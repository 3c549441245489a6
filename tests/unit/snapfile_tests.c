// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of src/store/snapfile_*.c: a rich synthetic snapshot (every section,
 * shared stacks, NULL frame fields, long strings, an empty group list)
 * written and read back field by field; the atomic write (mode, no
 * temporary left, clean failures); and the reader on hostile bytes: every
 * truncation, byte flips, a corrupted payload behind valid checksums,
 * foreign and empty files, huge declared lengths, newer versions. Prints
 * "ok NAME" or "FAIL NAME: why" per check and returns the number of
 * failures.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "check.h"
#include "store/snapfile.h"

int snapfile_tests(const char *tmpdir);

/* The header layout of docs/snapshot-format.md, version 1. */
#define SF_HDR_LEN   44
#define SF_OFF_VER   12
#define SF_OFF_FLAGS 16
#define SF_OFF_PLEN  20
#define SF_OFF_ZLEN  28
#define SF_OFF_PCRC  36
#define SF_OFF_FCRC  40

#define SF_FLIPS 3000



/* ---- the synthetic snapshot ---- */

struct fixture {
	struct lt_snapshot s;
	struct lt_stack st[6];
	struct lt_frame fr[12];
	struct lt_group groups[4], tgroups[3], hsites[2], fgroups[2], kgroups[1];
	struct lt_site_count sites[2];
	const char *names[6][LT_MAX_LOST];
	char long_fn[6000], long_file[3000], exe[4000];
	char libc[64], leaky[64], leaky_c[64], mod_copy[64];
};

static void set_frame(struct lt_frame *f, const char *fn, const char *mod, uint64_t addr,
		      uint64_t off, const char *file, int line)
{
	f->function = (char *)fn;
	f->module = (char *)mod;
	f->address = addr;
	f->offset = off;
	f->file = (char *)file;
	f->line = line;
}

/* size - 1 printable ASCII characters from c on (c <= 'k'), and a NUL. */
static void fill(char *dst, size_t size, char c)
{
	for (size_t i = 0; i + 1 < size; i++)
		dst[i] = c + i % 20;
	dst[size - 1] = 0;
}

static void set_group(struct lt_group *g, enum lt_group_kind kind, int64_t bytes, int64_t count,
		      double age, const struct lt_stack *st, const struct lt_stack *cb)
{
	memset(g, 0, sizeof(*g));
	g->kind = kind;
	g->bytes = bytes;
	g->count = count;
	g->oldest_age_s = age;
	g->stack = st;
	g->created_by = cb;
}

/* Stacks: A, A2 (A's content at other addresses), B (long strings), the
 * unknown stack, C (a creation site), G (Go). */
static void fixture_stacks(struct fixture *x)
{
	struct lt_frame *fr = x->fr;

	strcpy(x->libc, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	strcpy(x->mod_copy, x->libc);
	strcpy(x->leaky, "/work/main/tests/targets/build/leaky");
	strcpy(x->leaky_c, "/work/main/tests/targets/leaky.c");
	fill(x->long_fn, sizeof(x->long_fn), 'a');
	fill(x->long_file, sizeof(x->long_file), 'A');
	set_frame(&fr[0], "malloc", x->libc, 0x7f3a1c2a8930, 0x98930, NULL, 0);
	set_frame(&fr[1], "leak_site", x->leaky, 0x55d0c1e011a9, 0x11a9, x->leaky_c, 14);
	set_frame(&fr[2], NULL, NULL, 0xdeadbeef, 0xdeadbeef, NULL, 0);
	set_frame(&fr[3], "malloc", x->mod_copy, 0x7f3a1c2a8930, 0x98930, NULL, 0);
	set_frame(&fr[4], "leak_site", x->leaky, 0x55d0c1e011a9, 0x11a9, x->leaky_c, 14);
	set_frame(&fr[5], NULL, NULL, 0xdeadbeef, 0xdeadbeef, NULL, 0);
	set_frame(&fr[6], x->long_fn, x->libc, UINT64_MAX, 0, x->long_file, -1);
	set_frame(&fr[7], "read", x->libc, 0x7f3a1c2b0000, 0xa0000, NULL, 0);
	set_frame(&fr[8], "pthread_create", x->libc, 0x7f3a1c290000, 0x80000, NULL, 0);
	set_frame(&fr[9], "spawn_pipe_blocker", x->leaky, 0x55d0c1e01300, 0x1300, x->leaky_c,
		  2147483647);
	set_frame(&fr[10], "main.leak", x->leaky, 0x4a0000, 0x4a0000, "/src/leak.go", 42);
	set_frame(&fr[11], "runtime.mallocgc", NULL, 0x40a000, 0x40a000, "", 0);
	x->st[0] = (struct lt_stack){ 3, &fr[0] };
	x->st[1] = (struct lt_stack){ 3, &fr[3] };
	x->st[2] = (struct lt_stack){ 2, &fr[6] };
	x->st[3] = (struct lt_stack){ 0, NULL };
	x->st[4] = (struct lt_stack){ 2, &fr[8] };
	x->st[5] = (struct lt_stack){ 2, &fr[10] };
}

static void fixture_lost(struct fixture *x)
{
	static const char *const n[6][LT_MAX_LOST] = {
		{ "alloc_map_full", "stack_map_full", "inflight_full" },
		{ "thread_map_full", "stack_map_full" },
		{ "goroutine_map_full" },
		{ "sample_map_full", "stack_map_full", "free_unmatched", "gc_missed" },
		{ "fd_map_full", "stack_map_full" },
		{ "alloc_map_full", "stack_lost", "site_map_full" },
	};

	memcpy(x->names, n, sizeof(n));
	x->s.lost = (struct lt_lost_counts){ 3, x->names[0], { 0, 7, UINT64_MAX } };
	x->s.tlost = (struct lt_lost_counts){ 2, x->names[1], { 1, 2 } };
	x->s.glost = (struct lt_lost_counts){ 0, NULL, { 0 } };
	x->s.hlost = (struct lt_lost_counts){ 4, x->names[3], { 4, 3, 2, 1 } };
	x->s.flost = (struct lt_lost_counts){ 2, x->names[4], { 0, 9 } };
	x->s.klost = (struct lt_lost_counts){ 3, x->names[5], { 1, 0, 2 } };
}

static void fixture_groups(struct fixture *x)
{
	struct lt_stack *st = x->st;
	struct lt_group *t = x->tgroups;

	set_group(&x->groups[0], LT_G_ALLOC, 102400, 100, 2.91, &st[0], NULL);
	set_group(&x->groups[1], LT_G_ALLOC, INT64_MAX, INT64_MIN, 1e300, &st[2], NULL);
	set_group(&x->groups[2], LT_G_ALLOC, 4096, 1, 0.1, &st[1], NULL);
	set_group(&x->groups[3], LT_G_ALLOC, -5, 0, -0.0, &st[3], NULL);
	set_group(&t[0], LT_G_BLOCKED, 0, 16, 6.0, &st[2], &st[4]);
	t[0].wait = "read";
	t[0].leak = true;
	strcpy(t[0].why, "blocked in read; threads from its creation site rose from 5 to 16");
	set_group(&t[1], LT_G_UNJOINED, 41943040, 5, 3.0, &st[4], &st[4]);
	t[1].leak = true;
	fill(t[1].why, sizeof(t[1].why), 'k');
	set_group(&t[2], LT_G_RUNNING, 0, 2, 0.25, &st[4], &st[4]);
	t[2].wait = "";
	x->sites[0] = (struct lt_site_count){ &st[4], 3, 5, -2, true };
	x->sites[1] = (struct lt_site_count){ &st[0], 0, 0, 0, false };
	set_group(&x->hsites[0], LT_G_GOHEAP, 1 << 20, 8, 12.5, &st[5], NULL);
	set_group(&x->hsites[1], LT_G_GOHEAP, 512, 1, 0.0, &st[3], NULL);
	strcpy(x->hsites[1].why, "sampled \xe2\x80\x94 \xc3\xbcnic\xc3\xb6" "de");
	x->hsites[1].pending_bytes = 3 << 20;
	x->hsites[1].pending_count = 6;
	set_group(&x->fgroups[0], LT_G_FD, 0, 25, 3.5, &st[4], NULL);
	x->fgroups[0].fd_kind = "socket";
	x->fgroups[0].fd_proto = "tcp";
	x->fgroups[0].targets = strdup("127.0.0.1:1 -> 127.0.0.1:2\n127.0.0.1:3 -> 127.0.0.1:2\n");
	set_group(&x->fgroups[1], LT_G_FD, 0, 3, 9.0, &st[3], NULL);
	x->fgroups[1].fd_kind = "eventfd";
	set_group(&x->kgroups[0], LT_G_KMEM, 3072, 16, 3.0, &st[0], NULL);
	x->kgroups[0].pid = 4242;
	strcpy(x->kgroups[0].comm, "fdleak");
}

static struct fixture *fixture_new(void)
{
	struct fixture *x = calloc(1, sizeof(*x));
	struct lt_snapshot *s;

	if (!x)
		return NULL;
	s = &x->s;
	fixture_stacks(x);
	fixture_lost(x);
	fixture_groups(x);
	s->pid = 4242;
	fill(s->comm, sizeof(s->comm), 'c');
	fill(x->exe, sizeof(x->exe), 'e');
	x->exe[0] = '/';
	s->exe = x->exe;
	s->allocator = x->libc;
	s->duration_s = 3.01;
	s->exited = true;
	s->min_age_s = 0.5;
	s->bytes = 106495;
	s->count = 101;
	s->ngroups = 4;
	s->groups = x->groups;
	s->has_threads = true;
	s->live_threads = 53;
	s->min_block_s = 1.0;
	s->ntgroups = 3;
	s->tgroups = x->tgroups;
	s->nsites = 2;
	s->sites = x->sites;
	s->has_goroutines = true;
	s->go_version = "go1.19.8";
	s->goroutines = 12;
	s->nggroups = 0;	/* an empty section */
	s->has_goheap = true;
	s->goheap_rate = 524288;
	s->goheap_cycles = 7;
	s->nhsites = 2;
	s->hsites = x->hsites;
	s->has_fds = true;
	s->fds_open = 31;
	s->nfgroups = 2;
	s->fgroups = x->fgroups;
	s->has_kernel = true;
	s->kbytes = 3072;
	s->kcount = 16;
	s->nkgroups = 1;
	s->kgroups = x->kgroups;
	return x;
}

/* Poisoned before it is freed: nothing read back may point into it. */
static void fixture_free(struct fixture *x)
{
	if (!x)
		return;
	free(x->fgroups[0].targets);
	memset(x, 0xa5, sizeof(*x));
	free(x);
}

/* ---- comparison: NULL when equal, else the first field that differs ---- */

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool dbl_same(double a, double b)
{
	return !memcmp(&a, &b, sizeof(a));
}

static bool stack_same(const struct lt_stack *a, const struct lt_stack *b)
{
	if (!a || !b)
		return a == b;
	if (a->nframes != b->nframes)
		return false;
	for (int i = 0; i < a->nframes; i++) {
		const struct lt_frame *x = &a->frames[i], *y = &b->frames[i];

		if (x->address != y->address || x->offset != y->offset || x->line != y->line ||
		    !str_same(x->function, y->function) || !str_same(x->module, y->module) ||
		    !str_same(x->file, y->file))
			return false;
	}
	return true;
}

static const char *lost_diff(const struct lt_lost_counts *a, const struct lt_lost_counts *b)
{
	if (a->n != b->n)
		return "lost n";
	for (int i = 0; i < a->n; i++) {
		if (a->v[i] != b->v[i])
			return "lost value";
		if (!str_same(a->names ? a->names[i] : NULL, b->names ? b->names[i] : NULL))
			return "lost name";
	}
	return NULL;
}

static const char *groups_diff(const struct lt_group *a, const struct lt_group *b, int n)
{
	for (int i = 0; i < n; i++) {
		const struct lt_group *x = &a[i], *y = &b[i];

		if (x->kind != y->kind || x->leak != y->leak)
			return "group kind/leak";
		if (x->bytes != y->bytes || x->count != y->count)
			return "group bytes/count";
		if (x->pending_bytes != y->pending_bytes || x->pending_count != y->pending_count)
			return "group pending_bytes/pending_count";
		if (!dbl_same(x->oldest_age_s, y->oldest_age_s))
			return "group oldest_age_s";
		if (!stack_same(x->stack, y->stack) || !stack_same(x->created_by, y->created_by))
			return "group stack/created_by";
		if (!str_same(x->wait, y->wait) || strcmp(x->why, y->why))
			return "group wait/why";
		if (!str_same(x->fd_kind, y->fd_kind) || !str_same(x->fd_proto, y->fd_proto) ||
		    !str_same(x->targets, y->targets))
			return "group fd_kind/fd_proto/targets";
		if (x->pid != y->pid || strcmp(x->comm, y->comm))
			return "group pid/comm";
	}
	return NULL;
}

static const char *sites_diff(const struct lt_snapshot *a, const struct lt_snapshot *b)
{
	if (a->nsites != b->nsites)
		return "nsites";
	for (int i = 0; i < a->nsites; i++) {
		const struct lt_site_count *x = &a->sites[i], *y = &b->sites[i];

		if (x->live != y->live || x->unjoined != y->unjoined || x->change != y->change ||
		    x->growing != y->growing || !stack_same(x->created_by, y->created_by))
			return "site";
	}
	return NULL;
}

static const char *head_diff(const struct lt_snapshot *a, const struct lt_snapshot *b)
{
	if (a->pid != b->pid || strcmp(a->comm, b->comm) || !str_same(a->exe, b->exe))
		return "pid/comm/exe";
	if (!str_same(a->allocator, b->allocator) || a->exited != b->exited)
		return "allocator/exited";
	if (!dbl_same(a->duration_s, b->duration_s) || !dbl_same(a->min_age_s, b->min_age_s))
		return "duration_s/min_age_s";
	if (a->bytes != b->bytes || a->count != b->count)
		return "bytes/count";
	if (a->has_threads != b->has_threads || a->live_threads != b->live_threads ||
	    !dbl_same(a->min_block_s, b->min_block_s))
		return "threads header";
	if (a->has_goroutines != b->has_goroutines || !str_same(a->go_version, b->go_version) ||
	    a->goroutines != b->goroutines)
		return "goroutines header";
	if (a->has_goheap != b->has_goheap || a->goheap_rate != b->goheap_rate ||
	    a->goheap_cycles != b->goheap_cycles)
		return "go heap header";
	if (a->has_fds != b->has_fds || a->fds_open != b->fds_open)
		return "fds header";
	if (a->has_kernel != b->has_kernel || a->kbytes != b->kbytes || a->kcount != b->kcount ||
	    a->nkgroups != b->nkgroups)
		return "kernel header";
	if (a->ngroups != b->ngroups || a->ntgroups != b->ntgroups ||
	    a->nggroups != b->nggroups || a->nhsites != b->nhsites || a->nfgroups != b->nfgroups)
		return "group counts";
	return NULL;
}

static const char *snap_diff(const struct lt_snapshot *a, const struct lt_snapshot *b)
{
	const char *d = head_diff(a, b);

	if (!d)
		d = lost_diff(&a->lost, &b->lost);
	if (!d)
		d = lost_diff(&a->tlost, &b->tlost);
	if (!d)
		d = lost_diff(&a->glost, &b->glost);
	if (!d)
		d = lost_diff(&a->hlost, &b->hlost);
	if (!d)
		d = groups_diff(a->groups, b->groups, a->ngroups);
	if (!d)
		d = groups_diff(a->tgroups, b->tgroups, a->ntgroups);
	if (!d)
		d = groups_diff(a->ggroups, b->ggroups, a->nggroups);
	if (!d)
		d = groups_diff(a->hsites, b->hsites, a->nhsites);
	if (!d)
		d = lost_diff(&a->flost, &b->flost);
	if (!d)
		d = groups_diff(a->fgroups, b->fgroups, a->nfgroups);
	if (!d)
		d = lost_diff(&a->klost, &b->klost);
	if (!d)
		d = groups_diff(a->kgroups, b->kgroups, a->nkgroups);
	if (!d)
		d = sites_diff(a, b);
	return d;
}

/* Every byte a successfully read snapshot points to, touched (for ASan). */
static size_t touch_stack(const struct lt_stack *st)
{
	size_t n = 0;

	if (!st)
		return 0;
	for (int i = 0; i < st->nframes; i++) {
		const struct lt_frame *f = &st->frames[i];

		n += (f->function ? strlen(f->function) : 0) + (f->module ? strlen(f->module) : 0) +
		     (f->file ? strlen(f->file) : 0) + f->address;
	}
	return n;
}

static size_t touch_groups(const struct lt_group *g, int n)
{
	size_t sum = 0;

	for (int i = 0; i < n; i++)
		sum += touch_stack(g[i].stack) + touch_stack(g[i].created_by) +
		       (g[i].wait ? strlen(g[i].wait) : 0) + strlen(g[i].why) + g[i].kind;
	return sum;
}

static size_t touch_lost(const struct lt_lost_counts *l)
{
	size_t n = lost_total(l);

	for (int i = 0; i < l->n; i++)
		n += l->names[i] ? strlen(l->names[i]) : 0;
	return n;
}

static size_t touch(const struct lt_snapshot *s)
{
	size_t n = strlen(s->comm) + (s->exe ? strlen(s->exe) : 0) +
		   (s->allocator ? strlen(s->allocator) : 0) +
		   (s->go_version ? strlen(s->go_version) : 0);

	n += touch_lost(&s->lost) + touch_lost(&s->tlost) + touch_lost(&s->glost) +
	     touch_lost(&s->hlost);
	n += touch_groups(s->groups, s->ngroups) + touch_groups(s->tgroups, s->ntgroups) +
	     touch_groups(s->ggroups, s->nggroups) + touch_groups(s->hsites, s->nhsites);
	for (int i = 0; i < s->nsites; i++)
		n += touch_stack(s->sites[i].created_by) + s->sites[i].live;
	return n;
}

/* ---- files ---- */

static int load_bytes(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t n = 0, cap = 0, r;

	if (!f)
		return -errno;
	do {
		if (n == cap) {
			uint8_t *q = realloc(p, cap = cap ? 2 * cap : 4096);

			if (!q) {
				free(p);
				fclose(f);
				return -ENOMEM;
			}
			p = q;
		}
		r = fread(p + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	*out = p;
	*len = n;
	return 0;
}

static int store_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int err = 0;

	if (!f)
		return -errno;
	if (n && fwrite(p, 1, n, f) != n)
		err = -EIO;
	if (fclose(f) && !err)
		err = -EIO;
	return err;
}

static void le_store(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

static uint64_t le_load(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Both checksums of a file image made right again after an edit. */
static void fix_crcs(uint8_t *img, size_t len, const uint8_t *payload, size_t plen)
{
	uint32_t crc;

	if (payload)
		le_store(img + SF_OFF_PCRC, crc32_z(0, payload, plen), 4);
	crc = crc32_z(0, img, SF_OFF_FCRC);
	le_store(img + SF_OFF_FCRC, crc32_z(crc, img + SF_HDR_LEN, len - SF_HDR_LEN), 4);
}

/* A file image holding payload with valid checksums, as the writer makes it. */
static uint8_t *pack(const uint8_t *payload, size_t plen, size_t *len)
{
	uLongf zlen = compressBound(plen);
	uint8_t *img = malloc(SF_HDR_LEN + zlen);

	if (!img)
		return NULL;
	if (compress2(img + SF_HDR_LEN, &zlen, payload, plen, 6) != Z_OK) {
		free(img);
		return NULL;
	}
	memcpy(img, "LEAKTOP\0SNAP", 12);
	le_store(img + SF_OFF_VER, 1, 4);
	le_store(img + SF_OFF_FLAGS, 0, 4);
	le_store(img + SF_OFF_PLEN, plen, 8);
	le_store(img + SF_OFF_ZLEN, zlen, 8);
	*len = SF_HDR_LEN + zlen;
	fix_crcs(img, *len, payload, plen);
	return img;
}

/* The uncompressed payload of a file image. */
static uint8_t *unpack(const uint8_t *img, size_t len, size_t *plen)
{
	uLongf n = le_load(img + SF_OFF_PLEN, 8);
	uint8_t *p = malloc(n);

	if (!p)
		return NULL;
	if (uncompress(p, &n, img + SF_HDR_LEN, len - SF_HDR_LEN) != Z_OK) {
		free(p);
		return NULL;
	}
	*plen = n;
	return p;
}

/* Read path; the snapfile is checked, touched and freed. */
static int try_read(const char *path, const char **msg)
{
	struct snapfile *f = (struct snapfile *)&f;
	int err;

	*msg = NULL;
	err = snapfile_read(path, &f, msg);
	if (err) {
		if (f || !*msg)
			return -EFAULT;	/* *out must be NULL, err_msg set */
		return err;
	}
	touch(snapfile_snapshot(f));
	snapfile_free(f);
	return 0;
}

static int try_bytes(const char *path, const void *p, size_t n, const char **msg)
{
	int err = store_bytes(path, p, n);

	return err ? err : try_read(path, msg);
}

static int count_temps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strstr(e->d_name, ".tmp.") != NULL;
	closedir(d);
	return n;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) && errno == EISDIR)
			remove_tree(path);
	}
	closedir(d);
	rmdir(dir);
}

static uint64_t sf_rand_state = 0x9e3779b97f4a7c15ULL;

static uint64_t sf_rand(void)
{
	uint64_t x = sf_rand_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	sf_rand_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* ---- the tests ---- */

static void test_roundtrip(const char *dir)
{
	struct fixture *x = fixture_new(), *want = fixture_new();
	struct snapfile *f = NULL;
	const struct lt_snapshot *s;
	const char *msg = NULL, *d;
	char path[4096];
	struct stat st;
	int err;

	if (!x || !want) {
		unit_check(0, "snapfile_roundtrip", "out of memory");
		return;
	}
	snprintf(path, sizeof(path), "%s/rich.snap", dir);
	err = snapfile_write(path, &x->s, 1732230000123456789ULL, 77);
	fixture_free(x);
	unit_check(!err, "snapfile_write", "%s", strerror(-err));
	unit_check(!stat(path, &st) && (st.st_mode & 07777) == 0600, "snapfile_mode_0600",
		 "mode %o", st.st_mode & 07777);
	unit_check(count_temps(dir) == 0, "snapfile_no_temp_left", "temporary files remain");
	err = snapfile_read(path, &f, &msg);
	unit_check(!err && f, "snapfile_read", "%s: %s", strerror(-err), msg);
	if (err || !f) {
		fixture_free(want);
		return;
	}
	s = snapfile_snapshot(f);
	d = snap_diff(&want->s, s);
	unit_check(!d, "snapfile_roundtrip_fields", "%s differs", d);
	unit_check(snapfile_wall_ns(f) == 1732230000123456789ULL && snapfile_seq(f) == 77,
		 "snapfile_roundtrip_meta", "wall_ns %lu seq %lu", snapfile_wall_ns(f),
		 snapfile_seq(f));
	/* A and A2 have one content: stored once, read back as one stack. */
	unit_check(s->groups[0].stack == s->groups[2].stack &&
		 s->tgroups[0].created_by == s->sites[0].created_by &&
		 s->tgroups[1].stack == s->tgroups[1].created_by &&
		 s->groups[0].stack != s->groups[1].stack,
		 "snapfile_stacks_shared", "shared stacks read back apart");
	unit_check(s->groups[0].stack->frames[0].module == s->groups[1].stack->frames[0].module &&
		 s->allocator == s->groups[0].stack->frames[0].module,
		 "snapfile_strings_shared", "one string read back as copies");
	unit_check(s->lost.names && s->lost.names != want->s.lost.names &&
		 s->lost.names[0] != want->s.lost.names[0] && s->hlost.n == LT_MAX_LOST,
		 "snapfile_owns_names", "lost names not owned by the snapfile");
	unit_check(s->nggroups == 0 && !s->ggroups && s->has_goroutines && s->glost.n == 0,
		 "snapfile_empty_section", "goroutine section not empty");
	snapfile_free(f);
	fixture_free(want);
}

static void test_overwrite_and_empty(const char *dir)
{
	struct lt_snapshot empty = { 0 };
	struct fixture *x = fixture_new();
	struct snapfile *f = NULL;
	const char *msg = NULL, *d = "not read";
	char path[4096];
	int err;

	snprintf(path, sizeof(path), "%s/replace.snap", dir);
	err = x ? snapfile_write(path, &x->s, 1, 1) : -ENOMEM;
	if (!err)
		err = snapfile_write(path, &empty, 2, 2);
	if (!err)
		err = snapfile_read(path, &f, &msg);
	if (!err)
		d = snap_diff(&empty, snapfile_snapshot(f));
	unit_check(!err && !d && snapfile_seq(f) == 2 && !snapfile_snapshot(f)->exe &&
		 !snapfile_snapshot(f)->groups,
		 "snapfile_overwrite_empty_snapshot", "%s / %s", err ? strerror(-err) : "ok",
		 d ? d : "seq");
	snapfile_free(f);
	fixture_free(x);
}

static void test_write_failures(const char *dir)
{
	struct fixture *x = fixture_new();
	char path[4096];
	struct stat st;
	int err;

	if (!x)
		return;
	snprintf(path, sizeof(path), "%s/no/such/dir/x.snap", dir);
	err = snapfile_write(path, &x->s, 0, 0);
	unit_check(err == -ENOENT && stat(path, &st), "snapfile_write_missing_dir", "got %d", err);
	/* The rename fails after the temporary file was written. */
	snprintf(path, sizeof(path), "%s/target_is_dir", dir);
	mkdir(path, 0700);
	err = snapfile_write(path, &x->s, 0, 0);
	unit_check(err == -EISDIR && count_temps(dir) == 0, "snapfile_write_rename_fails_clean",
		 "got %d, %d temporary files", err, count_temps(dir));
	snprintf(path, sizeof(path), "%s/bad.snap", dir);
	x->s.tlost.n = LT_MAX_LOST + 1;
	err = snapfile_write(path, &x->s, 0, 0);
	x->s.tlost.n = 2;
	x->groups[1].kind = (enum lt_group_kind)99;
	unit_check(err == -EINVAL && snapfile_write(path, &x->s, 0, 0) == -EINVAL &&
		 stat(path, &st) && count_temps(dir) == 0,
		 "snapfile_write_rejects_inconsistent", "got %d", err);
	fixture_free(x);
}

/* A small file: one site, one thread group, a few strings. */
static int small_file(const char *path)
{
	struct lt_frame fr[2] = { { "malloc", "/lib/libc.so.6", 0x1000, 0x10, NULL, 0 },
				  { "f", "/bin/x", 0x2000, 0x20, "x.c", 3 } };
	struct lt_stack st = { 2, fr };
	struct lt_group g = { .kind = LT_G_ALLOC, .bytes = 64, .count = 2, .stack = &st };
	struct lt_group t = { .kind = LT_G_BLOCKED, .count = 1, .stack = &st,
			      .created_by = &st, .wait = "read", .why = "w" };
	struct lt_snapshot s = { .pid = 7, .comm = "x", .exe = "/bin/x", .ngroups = 1,
				 .groups = &g, .has_threads = true, .ntgroups = 1,
				 .tgroups = &t };

	return snapfile_write(path, &s, 5, 6);
}

static void test_truncated(const char *dir, const uint8_t *img, size_t len)
{
	char path[4096];
	const char *msg;
	size_t bad = SIZE_MAX;
	int err = 0;

	snprintf(path, sizeof(path), "%s/trunc.snap", dir);
	for (size_t n = 0; n < len && bad == SIZE_MAX; n++) {
		err = try_bytes(path, img, n, &msg);
		if (err != -EINVAL)
			bad = n;
	}
	unit_check(bad == SIZE_MAX, "snapfile_truncated_every_prefix",
		 "prefix of %zu/%zu bytes gave %d", bad, len, err);
	err = try_bytes(path, "", 0, &msg);
	unit_check(err == -EINVAL, "snapfile_empty_file", "got %d", err);
}

static int flip_expect(const uint8_t *img, size_t pos, uint8_t x)
{
	uint8_t v[4];

	if (pos < SF_OFF_VER)
		return -EPROTO;
	if (pos >= SF_OFF_VER + 4)
		return -EINVAL;
	memcpy(v, img + SF_OFF_VER, 4);
	v[pos - SF_OFF_VER] ^= x;
	return le_load(v, 4) > 1 ? -ENOTSUP : -EINVAL;
}

static void test_flips(const char *dir, const uint8_t *img, size_t len)
{
	uint8_t *c = malloc(len);
	char path[4096];
	const char *msg;
	int err = 0, want = 0, nbad = 0;
	size_t pos = 0;

	if (!c)
		return;
	snprintf(path, sizeof(path), "%s/flip.snap", dir);
	for (int i = 0; i < SF_FLIPS; i++) {
		uint8_t x = 1 + sf_rand() % 255;
		size_t p = sf_rand() % len;

		memcpy(c, img, len);
		c[p] ^= x;
		err = try_bytes(path, c, len, &msg);
		if (err != flip_expect(img, p, x) && !nbad++) {
			want = flip_expect(img, p, x);
			pos = p;
		}
	}
	unit_check(!nbad, "snapfile_byte_flips", "%d of %d wrong, first at byte %zu: %d, want %d",
		 nbad, SF_FLIPS, pos, err, want);
	free(c);
}

/* Corruption behind valid checksums: the parser itself on hostile bytes. */
static void test_payload_fuzz(const char *dir, const uint8_t *img, size_t len)
{
	size_t plen, n, bad = SIZE_MAX;
	uint8_t *p = unpack(img, len, &plen), *q, *f;
	char path[4096];
	const char *msg;
	int err = 0, nok = 0, nwrong = 0;

	if (!p || !(q = malloc(plen))) {
		unit_check(0, "snapfile_payload_fuzz", "cannot unpack");
		free(p);
		return;
	}
	snprintf(path, sizeof(path), "%s/fuzz.snap", dir);
	for (size_t k = 1; k < plen && bad == SIZE_MAX; k++) {
		f = pack(p, k, &n);
		err = f ? try_bytes(path, f, n, &msg) : -ENOMEM;
		if (err != -EINVAL)
			bad = k;
		free(f);
	}
	unit_check(bad == SIZE_MAX, "snapfile_payload_truncated", "payload of %zu/%zu gave %d",
		 bad, plen, err);
	for (int i = 0; i < SF_FLIPS; i++) {
		int flips = 1 + sf_rand() % 4;

		memcpy(q, p, plen);
		while (flips--)
			q[sf_rand() % plen] ^= 1 + sf_rand() % 255;
		f = pack(q, plen, &n);
		err = f ? try_bytes(path, f, n, &msg) : -ENOMEM;
		nok += !err;
		nwrong += err && err != -EINVAL;
		free(f);
	}
	unit_check(!nwrong, "snapfile_payload_fuzz", "%d of %d runs gave neither 0 nor -EINVAL",
		 nwrong, SF_FLIPS);
	printf("# payload fuzz: %d of %d corrupted payloads still parsed\n", nok, SF_FLIPS);
	free(p);
	free(q);
}

static uint8_t *with_section(const uint8_t *img, size_t len, const char *tag, size_t *n)
{
	size_t plen;
	uint8_t *p = unpack(img, len, &plen), *q, *f = NULL;

	if (!p)
		return NULL;
	q = realloc(p, plen + 8 + 5);
	if (q) {
		memcpy(q + plen, tag, 4);
		le_store(q + plen + 4, 5, 4);
		memcpy(q + plen + 8, "extra", 5);
		f = pack(q, plen + 13, n);
		p = q;
	}
	free(p);
	return f;
}

static void test_sections(const char *dir, const uint8_t *img, size_t len)
{
	char path[4096];
	const char *msg;
	uint8_t *f;
	size_t n;
	int err;

	snprintf(path, sizeof(path), "%s/sections.snap", dir);
	f = with_section(img, len, "XTRA", &n);
	err = f ? try_bytes(path, f, n, &msg) : -ENOMEM;
	unit_check(!err, "snapfile_unknown_section_skipped", "got %d", err);
	free(f);
	f = with_section(img, len, "PROC", &n);
	err = f ? try_bytes(path, f, n, &msg) : -ENOMEM;
	unit_check(err == -EINVAL, "snapfile_duplicate_section", "got %d", err);
	free(f);
}

static void test_header(const char *dir, const uint8_t *img, size_t len)
{
	uint8_t *c = malloc(len + 1);
	char path[4096];
	const char *msg = NULL;
	int e1, e2, e3;

	if (!c)
		return;
	snprintf(path, sizeof(path), "%s/header.snap", dir);
	/* Declared lengths far beyond the file, checksums made right. */
	memcpy(c, img, len);
	le_store(c + SF_OFF_PLEN, 1ULL << 40, 8);
	fix_crcs(c, len, NULL, 0);
	e1 = try_bytes(path, c, len, &msg);
	memcpy(c, img, len);
	le_store(c + SF_OFF_ZLEN, 1ULL << 62, 8);
	fix_crcs(c, len, NULL, 0);
	e2 = try_bytes(path, c, len, &msg);
	memcpy(c, img, len);
	le_store(c + SF_OFF_PLEN, 1ULL << 30, 8);
	fix_crcs(c, len, NULL, 0);
	e3 = try_bytes(path, c, len, &msg);
	unit_check(e1 == -EINVAL && e2 == -EINVAL && e3 == -EINVAL, "snapfile_huge_length",
		 "got %d %d %d", e1, e2, e3);
	memcpy(c, img, len);
	le_store(c + SF_OFF_VER, 2, 4);
	fix_crcs(c, len, NULL, 0);
	e1 = try_bytes(path, c, len, &msg);
	unit_check(e1 == -ENOTSUP, "snapfile_newer_version", "got %d", e1);
	memcpy(c, img, len);
	le_store(c + SF_OFF_FLAGS, 1, 4);
	fix_crcs(c, len, NULL, 0);
	e1 = try_bytes(path, c, len, &msg);
	unit_check(e1 == -ENOTSUP, "snapfile_unknown_flags", "got %d", e1);
	memcpy(c, img, len);
	c[len] = 0;
	e1 = try_bytes(path, c, len + 1, &msg);
	unit_check(e1 == -EINVAL, "snapfile_trailing_bytes", "got %d", e1);
	free(c);
}

static void test_foreign(const char *dir)
{
	char path[4096];
	const char *msg;
	int e1, e2, e3, e4;

	e1 = try_read("/bin/true", &msg);
	snprintf(path, sizeof(path), "%s/text.snap", dir);
	e2 = try_bytes(path, "hello, world\n", 13, &msg);
	snprintf(path, sizeof(path), "%s/absent.snap", dir);
	e3 = try_read(path, &msg);
	e4 = try_read(dir, &msg);
	unit_check(e1 == -EPROTO && e2 == -EPROTO, "snapfile_foreign_file", "got %d %d", e1, e2);
	unit_check(e3 == -ENOENT && e4 == -EISDIR, "snapfile_missing_or_dir", "got %d %d", e3, e4);
}

static void test_hostile(const char *dir)
{
	char path[4096];
	uint8_t *img = NULL;
	size_t len = 0;
	int err;

	snprintf(path, sizeof(path), "%s/small.snap", dir);
	err = small_file(path);
	if (!err)
		err = load_bytes(path, &img, &len);
	unit_check(!err && len > SF_HDR_LEN, "snapfile_small_file", "%s", strerror(-err));
	if (err)
		return;
	test_truncated(dir, img, len);
	test_flips(dir, img, len);
	test_payload_fuzz(dir, img, len);
	test_sections(dir, img, len);
	test_header(dir, img, len);
	test_foreign(dir);
	free(img);
}

int snapfile_tests(const char *tmpdir)
{
	char dir[2048];

	int before = unit_failures;
	snprintf(dir, sizeof(dir), "%s/leaktop-snapfile-XXXXXX", tmpdir);
	if (!mkdtemp(dir)) {
		unit_check(0, "snapfile_tmpdir", "%s: %s", dir, strerror(errno));
		return unit_failures - before;
	}
	test_roundtrip(dir);
	test_overwrite_and_empty(dir);
	test_write_failures(dir);
	test_hostile(dir);
	unit_check(count_temps(dir) == 0, "snapfile_no_temp_left_at_end", "temporary files remain");
	remove_tree(dir);
	return unit_failures - before;
}
