// SPDX-License-Identifier: GPL-2.0
/*
 * Writing a snapshot file: the payload encoded section by section (strings
 * and stacks interned once), compressed, and put in place atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "lib/bytebuf.h"
#include "store/snapfile.h"
#include "store/snapfile_format.h"

static void put_le(struct bytebuf *b, uint64_t v, int n)
{
	uint8_t t[8];

	le_put(t, v, n);
	bytebuf_put(b, t, n);
}

static void put_u8(struct bytebuf *b, uint8_t v)
{
	put_le(b, v, 1);
}

static void put_u32(struct bytebuf *b, uint32_t v)
{
	put_le(b, v, 4);
}

static void put_u64(struct bytebuf *b, uint64_t v)
{
	put_le(b, v, 8);
}

static void put_f64(struct bytebuf *b, double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	put_le(b, v, 8);
}

/* Interning: items found again by content hash, numbered in insertion order. */
struct item {
	const void *key;	/* the chars of a string, or a struct lt_stack */
	size_t len;
	uint64_t hash;
};

struct table {
	struct item *items;
	uint32_t n, cap;
	uint32_t *slot;		/* item index + 1; 0: free */
	size_t nslots;		/* a power of two, more than twice n */
	bool (*eq)(const struct item *a, const struct item *b);
};

static int table_grow(struct table *t)
{
	size_t nslots = t->nslots ? 2 * t->nslots : 64;
	uint32_t *slot = calloc(nslots, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->n; i++) {
		size_t j = t->items[i].hash & (nslots - 1);

		while (slot[j])
			j = (j + 1) & (nslots - 1);
		slot[j] = i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->nslots = nslots;
	return 0;
}

static int table_append(struct table *t, const struct item *it)
{
	uint32_t cap = t->cap ? 2 * t->cap : 64;
	struct item *items;

	if (t->n >= MAX_PAYLOAD / 4)
		return -EFBIG;
	if (t->n == t->cap) {
		items = realloc(t->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		t->items = items;
		t->cap = cap;
	}
	t->items[t->n++] = *it;
	return 0;
}

/* The index of it in t, added if new (*added). 0 or -errno. */
static int table_intern(struct table *t, const struct item *it, uint32_t *idx, bool *added)
{
	size_t j;
	int err;

	*added = false;
	if (2 * ((size_t)t->n + 1) > t->nslots) {
		err = table_grow(t);
		if (err)
			return err;
	}
	for (j = it->hash & (t->nslots - 1); t->slot[j]; j = (j + 1) & (t->nslots - 1)) {
		const struct item *o = &t->items[t->slot[j] - 1];

		if (o->hash == it->hash && t->eq(o, it)) {
			*idx = t->slot[j] - 1;
			return 0;
		}
	}
	err = table_append(t, it);
	if (err)
		return err;
	t->slot[j] = t->n;
	*idx = t->n - 1;
	*added = true;
	return 0;
}

static void table_free(struct table *t)
{
	free(t->items);
	free(t->slot);
}

#define FNV_INIT 0xcbf29ce484222325ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	size_t len = s ? strlen(s) : SIZE_MAX;

	h = fnv(h, &len, sizeof(len));
	return s ? fnv(h, s, len) : h;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool chars_eq(const struct item *a, const struct item *b)
{
	return a->len == b->len && !memcmp(a->key, b->key, a->len);
}

static bool frame_eq(const struct lt_frame *a, const struct lt_frame *b)
{
	return a->address == b->address && a->offset == b->offset && a->line == b->line &&
	       str_eq(a->function, b->function) && str_eq(a->module, b->module) &&
	       str_eq(a->file, b->file);
}

static bool ptr_eq(const struct item *a, const struct item *b)
{
	return a->key == b->key;
}

static bool stack_eq(const struct item *a, const struct item *b)
{
	const struct lt_stack *x = a->key, *y = b->key;

	if (x == y)
		return true;
	if (x->nframes != y->nframes)
		return false;
	for (int i = 0; i < x->nframes; i++)
		if (!frame_eq(&x->frames[i], &y->frames[i]))
			return false;
	return true;
}

static uint64_t stack_hash(const struct lt_stack *st)
{
	uint64_t h = fnv(FNV_INIT, &st->nframes, sizeof(st->nframes));

	for (int i = 0; i < st->nframes; i++) {
		const struct lt_frame *f = &st->frames[i];

		h = fnv(h, &f->address, sizeof(f->address));
		h = fnv(h, &f->offset, sizeof(f->offset));
		h = fnv(h, &f->line, sizeof(f->line));
		h = hash_str(h, f->function);
		h = hash_str(h, f->module);
		h = hash_str(h, f->file);
	}
	return h;
}

struct writer {
	struct bytebuf sec[NSEC];	/* section bodies */
	struct table strs, stks;
	struct table ptrs;	/* stack pointers seen: len is the stack's index */
	uint32_t nframes;
	int err;		/* sticky: -EINVAL, -ENOMEM, -EFBIG */
};

static void wr_fail(struct writer *w, int err)
{
	if (!w->err)
		w->err = err;
}

/* String reference: 0 for NULL, else 1 + index in the string table. */
static uint32_t str_ref_n(struct writer *w, const char *s, size_t len)
{
	struct item it = { s, len, 0 };
	uint32_t idx;
	bool added;
	int err;

	if (!s)
		return 0;
	if (len > MAX_PAYLOAD) {
		wr_fail(w, -EFBIG);
		return 0;
	}
	it.hash = fnv(FNV_INIT, s, len);
	err = table_intern(&w->strs, &it, &idx, &added);
	if (err) {
		wr_fail(w, err);
		return 0;
	}
	return idx + 1;
}

static uint32_t str_ref(struct writer *w, const char *s)
{
	return str_ref_n(w, s, s ? strlen(s) : 0);
}

static void put_stack(struct writer *w, const struct lt_stack *st)
{
	struct bytebuf *b = &w->sec[SEC_STKS];

	put_u32(b, st->nframes);
	for (int i = 0; i < st->nframes; i++) {
		const struct lt_frame *f = &st->frames[i];

		put_u32(b, str_ref(w, f->function));
		put_u32(b, str_ref(w, f->module));
		put_u64(b, f->address);
		put_u64(b, f->offset);
		put_u32(b, str_ref(w, f->file));
		put_u32(b, (uint32_t)f->line);
	}
	w->nframes += st->nframes;
}

/* The index of a stack's content, stored on first sight. 0 or -errno. */
static int stack_content(struct writer *w, const struct lt_stack *st, uint32_t *idx)
{
	struct item it = { st, 0, 0 };
	bool added;
	int err;

	if (st->nframes < 0 || (st->nframes && !st->frames))
		return -EINVAL;
	if ((uint32_t)st->nframes > MAX_PAYLOAD / FRAME_LEN)
		return -EFBIG;
	it.hash = stack_hash(st);
	err = table_intern(&w->stks, &it, idx, &added);
	if (!err && added)
		put_stack(w, st);
	return err;
}

/* Stack reference: 0 for NULL, else 1 + index; each content stored once.
 * Groups mostly share stack pointers: those are looked up first. */
static uint32_t stack_ref(struct writer *w, const struct lt_stack *st)
{
	uint64_t m = (uintptr_t)st * 0x9e3779b97f4a7c15ULL;
	struct item it = { st, 0, m ^ m >> 32 };	/* aligned: mix in high bits */
	uint32_t idx, content;
	bool added;
	int err;

	if (!st)
		return 0;
	err = table_intern(&w->ptrs, &it, &idx, &added);
	if (!err && !added)
		return w->ptrs.items[idx].len + 1;
	if (!err)
		err = stack_content(w, st, &content);
	if (err) {
		wr_fail(w, err);
		return 0;
	}
	w->ptrs.items[idx].len = content;
	return content + 1;
}

static void put_lost(struct writer *w, struct bytebuf *b, const struct lt_lost_counts *l)
{
	if (l->n < 0 || l->n > LT_MAX_LOST) {
		wr_fail(w, -EINVAL);
		return;
	}
	put_u32(b, l->n);
	for (int i = 0; i < l->n; i++) {
		put_u32(b, str_ref(w, l->names ? l->names[i] : NULL));
		put_u64(b, l->v[i]);
	}
}

static void put_group(struct writer *w, struct bytebuf *b, const struct lt_group *g,
		      unsigned int kinds)
{
	if ((unsigned int)g->kind > LT_G_KMEM || !(kinds & KIND(g->kind)) ||
	    !group_stacks_ok(g)) {
		wr_fail(w, -EINVAL);
		return;
	}
	put_u32(b, g->kind);
	put_u8(b, g->leak);
	put_u64(b, g->bytes);
	put_u64(b, g->count);
	put_f64(b, g->oldest_age_s);
	put_u32(b, stack_ref(w, g->stack));
	put_u32(b, stack_ref(w, g->created_by));
	put_u32(b, str_ref(w, g->wait));
	put_u32(b, str_ref_n(w, g->why, strnlen(g->why, sizeof(g->why))));
}

static void put_groups(struct writer *w, struct bytebuf *b, const struct lt_group *g, int n,
		       unsigned int kinds)
{
	if (n < 0 || (n && !g)) {
		wr_fail(w, -EINVAL);
		return;
	}
	put_u32(b, n);
	for (int i = 0; i < n; i++)
		put_group(w, b, &g[i], kinds);
}

static void put_sites(struct writer *w, struct bytebuf *b, const struct lt_site_count *r, int n)
{
	if (n < 0 || (n && !r)) {
		wr_fail(w, -EINVAL);
		return;
	}
	put_u32(b, n);
	for (int i = 0; i < n; i++) {
		if (!r[i].created_by)
			wr_fail(w, -EINVAL);
		put_u32(b, stack_ref(w, r[i].created_by));
		put_u64(b, r[i].live);
		put_u64(b, r[i].unjoined);
		put_u64(b, r[i].change);
		put_u8(b, r[i].growing);
	}
}

static void put_proc(struct writer *w, const struct lt_snapshot *s, uint64_t wall_ns,
		     uint64_t seq)
{
	struct bytebuf *b = &w->sec[SEC_PROC];

	put_u64(b, wall_ns);
	put_u64(b, seq);
	put_u32(b, (uint32_t)s->pid);
	put_u32(b, str_ref_n(w, s->comm, strnlen(s->comm, sizeof(s->comm))));
	put_u32(b, str_ref(w, s->exe));
	put_f64(b, s->duration_s);
	put_u8(b, s->exited);
}

static void put_memory(struct writer *w, const struct lt_snapshot *s)
{
	struct bytebuf *b = &w->sec[SEC_MEM];

	put_u32(b, str_ref(w, s->allocator));
	put_f64(b, s->min_age_s);
	put_u64(b, s->bytes);
	put_u64(b, s->count);
	put_lost(w, b, &s->lost);
	put_groups(w, b, s->groups, s->ngroups, MEM_KINDS);
}

static void put_threads(struct writer *w, const struct lt_snapshot *s)
{
	struct bytebuf *b = &w->sec[SEC_THRD];

	put_u8(b, s->has_threads);
	put_u32(b, (uint32_t)s->live_threads);
	put_f64(b, s->min_block_s);
	put_lost(w, b, &s->tlost);
	put_groups(w, b, s->tgroups, s->ntgroups, THREAD_KINDS);
	put_sites(w, b, s->sites, s->nsites);
}

static void put_goroutines(struct writer *w, const struct lt_snapshot *s)
{
	struct bytebuf *b = &w->sec[SEC_GORO];

	put_u8(b, s->has_goroutines);
	put_u32(b, str_ref(w, s->go_version));
	put_u32(b, (uint32_t)s->goroutines);
	put_lost(w, b, &s->glost);
	put_groups(w, b, s->ggroups, s->nggroups, GORO_KINDS);
}

static void put_goheap(struct writer *w, const struct lt_snapshot *s)
{
	struct bytebuf *b = &w->sec[SEC_GHEP];

	put_u8(b, s->has_goheap);
	put_u64(b, s->goheap_rate);
	put_lost(w, b, &s->hlost);
	put_groups(w, b, s->hsites, s->nhsites, GOHEAP_KINDS);
}

/* The Go heap's pending figures, site by site in GHEP's order. */
static void put_gpending(struct writer *w, const struct lt_snapshot *s)
{
	struct bytebuf *b = &w->sec[SEC_GPND];

	put_u64(b, s->goheap_cycles);
	put_u32(b, s->nhsites);
	for (int i = 0; i < s->nhsites; i++) {
		put_u64(b, s->hsites[i].pending_bytes);
		put_u64(b, s->hsites[i].pending_count);
	}
}

/* Open fds: the groups, then each group's kind, protocol and targets. */
static void put_fds(struct writer *w, const struct lt_snapshot *s)
{
	struct bytebuf *b = &w->sec[SEC_FDS];

	put_u8(b, s->has_fds);
	put_u32(b, (uint32_t)s->fds_open);
	put_lost(w, b, &s->flost);
	put_groups(w, b, s->fgroups, s->nfgroups, FD_KINDS);
	for (int i = 0; i < s->nfgroups; i++) {
		if (!s->fgroups[i].fd_kind)
			wr_fail(w, -EINVAL);
		put_u32(b, str_ref(w, s->fgroups[i].fd_kind));
		put_u32(b, str_ref(w, s->fgroups[i].fd_proto));
		put_u32(b, str_ref(w, s->fgroups[i].targets));
	}
}

/* Kernel memory: totals, the sites, then each site's process. */
static void put_kernel(struct writer *w, const struct lt_snapshot *s)
{
	struct bytebuf *b = &w->sec[SEC_KMEM];

	put_u8(b, s->has_kernel);
	put_u64(b, s->kbytes);
	put_u64(b, s->kcount);
	put_lost(w, b, &s->klost);
	put_groups(w, b, s->kgroups, s->nkgroups, KMEM_KINDS);
	for (int i = 0; i < s->nkgroups; i++) {
		const struct lt_group *g = &s->kgroups[i];

		put_u32(b, (uint32_t)g->pid);
		put_u32(b, str_ref_n(w, g->comm, strnlen(g->comm, sizeof(g->comm))));
	}
}

static void put_strings(struct writer *w)
{
	struct bytebuf *b = &w->sec[SEC_STRS];

	for (uint32_t i = 0; i < w->strs.n; i++) {
		put_u32(b, w->strs.items[i].len);
		bytebuf_put(b, w->strs.items[i].key, w->strs.items[i].len);
	}
}

static void put_section(struct bytebuf *out, int sec, const uint8_t *head, size_t nhead,
			const struct bytebuf *body)
{
	put_u32(out, sec_tags[sec]);
	put_u32(out, nhead + body->len);
	bytebuf_put(out, head, nhead);
	bytebuf_put(out, body->p, body->len);
}

/* The uncompressed payload of s, in out. 0 or -errno. */
static int encode(const struct lt_snapshot *s, uint64_t wall_ns, uint64_t seq, struct bytebuf *out)
{
	struct writer w = { .strs.eq = chars_eq, .stks.eq = stack_eq, .ptrs.eq = ptr_eq };
	uint8_t head[8];
	int err;

	put_proc(&w, s, wall_ns, seq);
	put_memory(&w, s);
	put_threads(&w, s);
	put_goroutines(&w, s);
	put_goheap(&w, s);
	put_gpending(&w, s);
	put_fds(&w, s);
	put_kernel(&w, s);
	put_strings(&w);
	err = w.err;
	for (int i = 0; i < NSEC && !err; i++)
		err = w.sec[i].err;
	for (int k = 0; k < NSEC && !err; k++) {
		int i = sec_file_order[k];
		size_t nhead = 0;

		if (i == SEC_STRS) {
			le_put(head, w.strs.n, 4);
			nhead = 4;
		} else if (i == SEC_STKS) {
			le_put(head, w.stks.n, 4);
			le_put(head + 4, w.nframes, 4);
			nhead = 8;
		}
		put_section(out, i, head, nhead, &w.sec[i]);
		err = out->err;
	}
	for (int i = 0; i < NSEC; i++)
		free(w.sec[i].p);
	table_free(&w.strs);
	table_free(&w.stks);
	table_free(&w.ptrs);
	return err;
}

/* The whole file: header and compressed payload, in *img. 0 or -errno. */
static int build_image(const struct bytebuf *payload, uint8_t **img, size_t *len)
{
	uLongf zlen = compressBound(payload->len);
	uint8_t *p = malloc(HDR_LEN + zlen);
	uint32_t crc;

	if (!p)
		return -ENOMEM;
	if (compress2(p + HDR_LEN, &zlen, payload->p, payload->len, Z_BEST_SPEED) !=
	    Z_OK) {
		free(p);
		return -ENOMEM;
	}
	memcpy(p, MAGIC, MAGIC_LEN);
	le_put(p + OFF_VERSION, SNAPFILE_VERSION, 4);
	le_put(p + OFF_FLAGS, 0, 4);
	le_put(p + OFF_PLEN, payload->len, 8);
	le_put(p + OFF_ZLEN, zlen, 8);
	le_put(p + OFF_PCRC, crc32_z(0, payload->p, payload->len), 4);
	crc = crc32_z(0, p, OFF_FCRC);
	le_put(p + OFF_FCRC, crc32_z(crc, p + HDR_LEN, zlen), 4);
	*img = p;
	*len = HDR_LEN + zlen;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (!w)
			return -EIO;
		p += w;
		n -= w;
	}
	return 0;
}

/* Make the rename durable; the file is in place whatever this returns. */
static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : slash - path) : strdup(".");
	int fd;

	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Write img to a temporary file beside path, ".NAME.tmp.XXXXXX", and rename
 * it over path. */
static int replace_file(const char *path, const uint8_t *img, size_t len)
{
	const char *slash = strrchr(path, '/');
	int fd, err, dirlen = slash ? slash + 1 - path : 0;
	char *tmp;

	/* Hidden, so that nothing listing the directory takes it for a file. */
	if (asprintf(&tmp, "%.*s.%s.tmp.XXXXXX", dirlen, path, path + dirlen) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	err = fchmod(fd, 0600) ? -errno : 0;
	if (!err)
		err = write_all(fd, img, len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	else
		sync_dir(path);
	free(tmp);
	return err;
}

int snapfile_write(const char *path, const struct lt_snapshot *s, uint64_t wall_ns, uint64_t seq)
{
	struct bytebuf payload = { .max = MAX_PAYLOAD };
	uint8_t *img = NULL;
	size_t len;
	int err;

	if (!path || !*path || !s)
		return -EINVAL;
	err = encode(s, wall_ns, seq, &payload);
	if (!err)
		err = build_image(&payload, &img, &len);
	free(payload.p);
	if (!err)
		err = replace_file(path, img, len);
	free(img);
	return err;
}
