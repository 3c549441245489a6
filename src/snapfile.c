// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot files: a fixed header, then a zlib-compressed payload of tagged
 * sections (a string table, the stacks, then the process, memory, threads,
 * goroutines and Go heap sections referring to them by index). The layout is
 * in docs/snapshot-format.md. The reader trusts no byte of a file: every
 * count is checked against the bytes that could hold it before anything is
 * allocated, every index against the table it points into.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "bytebuf.h"
#include "snapfile.h"

#define MAGIC		"LEAKTOP\0SNAP"
#define MAGIC_LEN	12
#define OFF_VERSION	12
#define OFF_FLAGS	16
#define OFF_PLEN	20	/* u64 payload length, uncompressed */
#define OFF_ZLEN	28	/* u64 stored (compressed) length */
#define OFF_PCRC	36	/* u32 CRC-32 of the uncompressed payload */
#define OFF_FCRC	40	/* u32 CRC-32 of header bytes 0..39 and the stored bytes */
#define HDR_LEN		44
#define MAX_PAYLOAD	(1u << 30)
#define MAX_RATIO	1032	/* deflate expands data at most this much */

#define FRAME_LEN	32
#define GROUP_LEN	45
#define SITE_LEN	29

#define TAG(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* In the order they are written and parsed: strings and stacks first. */
enum { SEC_STRS, SEC_STKS, SEC_PROC, SEC_MEM, SEC_THRD, SEC_GORO, SEC_GHEP, NSEC };

static const uint32_t sec_tags[NSEC] = {
	[SEC_STRS] = TAG('S', 'T', 'R', 'S'), [SEC_STKS] = TAG('S', 'T', 'K', 'S'),
	[SEC_PROC] = TAG('P', 'R', 'O', 'C'), [SEC_MEM] = TAG('M', 'E', 'M', ' '),
	[SEC_THRD] = TAG('T', 'H', 'R', 'D'), [SEC_GORO] = TAG('G', 'O', 'R', 'O'),
	[SEC_GHEP] = TAG('G', 'H', 'E', 'P'),
};

/* The four lost-event counters of a snapshot, in file order. */
enum { LOST_MEM, LOST_THR, LOST_GO, LOST_HEAP, NLOST };

struct snapfile {
	struct lt_snapshot snap;
	uint64_t wall_ns, seq;
	char *blob;		/* every string, NUL-terminated */
	const char **strs;	/* [nstrs] into blob */
	uint32_t nstrs;
	struct lt_stack *stacks;	/* [nstacks] */
	uint32_t nstacks;
	struct lt_frame *frames;	/* of all stacks */
	const char *names[NLOST][LT_MAX_LOST];
};

static void le_put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

static uint64_t le_get(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/*
 * What the tracer produces and the renderers take for granted, so that
 * neither a writer nor a reader lets anything else through: each section
 * holds groups of its own kinds; every group has a stack, and thread and
 * goroutine groups and thread sites a creation stack (the unknown stack
 * has zero frames, it is never NULL).
 */
#define KIND(k)		(1u << (k))
#define MEM_KINDS	KIND(LT_G_ALLOC)
#define THREAD_KINDS	(KIND(LT_G_UNJOINED) | KIND(LT_G_BLOCKED) | KIND(LT_G_RUNNING))
#define GORO_KINDS	KIND(LT_G_GOROUTINE)
#define GOHEAP_KINDS	KIND(LT_G_GOHEAP)

static bool group_stacks_ok(const struct lt_group *g)
{
	return g->stack && (g->created_by || !(KIND(g->kind) & (THREAD_KINDS | GORO_KINDS)));
}

/* ---- writing ---- */

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
	if ((unsigned int)g->kind > LT_G_GOHEAP || !(kinds & KIND(g->kind)) ||
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
	put_strings(&w);
	err = w.err;
	for (int i = 0; i < NSEC && !err; i++)
		err = w.sec[i].err;
	for (int i = 0; i < NSEC && !err; i++) {
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

/* ---- reading ---- */

/* A bounded view of bytes; reading past the end yields zeros and sets bad. */
struct cur {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static uint64_t get_le(struct cur *c, int n)
{
	uint64_t v;

	if (c->len - c->off < (size_t)n) {
		c->bad = true;
		c->off = c->len;
		return 0;
	}
	v = le_get(c->p + c->off, n);
	c->off += n;
	return v;
}

static uint32_t get_u32(struct cur *c)
{
	return get_le(c, 4);
}

static uint64_t get_u64(struct cur *c)
{
	return get_le(c, 8);
}

static double get_f64(struct cur *c)
{
	uint64_t v = get_le(c, 8);
	double d;

	memcpy(&d, &v, sizeof(d));
	return d;
}

static size_t left(const struct cur *c)
{
	return c->len - c->off;
}

struct parser {
	struct snapfile *f;
	const char *msg;
	struct cur sec[NSEC];
	bool seen[NSEC];
};

static int bad(struct parser *p, const char *msg)
{
	p->msg = msg;
	return -EINVAL;
}

static int get_bool(struct parser *p, struct cur *c, bool *b)
{
	uint64_t v = get_le(c, 1);

	if (v > 1)
		return bad(p, "boolean neither 0 nor 1");
	*b = v;
	return 0;
}

static int get_str(struct parser *p, struct cur *c, const char **s)
{
	uint32_t r = get_u32(c);

	if (r > p->f->nstrs)
		return bad(p, "string index out of range");
	*s = r ? p->f->strs[r - 1] : NULL;
	return 0;
}

/* A string into a fixed array, cut to fit. */
static int get_chars(struct parser *p, struct cur *c, char *dst, size_t size)
{
	const char *s;
	size_t n;
	int err = get_str(p, c, &s);

	if (err || !s)
		return err;
	n = strnlen(s, size - 1);
	memcpy(dst, s, n);
	dst[n] = 0;
	return 0;
}

static int get_stack(struct parser *p, struct cur *c, const struct lt_stack **st)
{
	uint32_t r = get_u32(c);

	if (r > p->f->nstacks)
		return bad(p, "stack index out of range");
	*st = r ? &p->f->stacks[r - 1] : NULL;
	return 0;
}

static int parse_strings(struct parser *p, struct cur *c)
{
	struct snapfile *f = p->f;
	uint32_t n = get_u32(c);
	char *o;

	if (n > left(c) / 4)
		return bad(p, "string count exceeds its section");
	/* n strings of len bytes each take 4 + len; in the blob len + 1. */
	f->strs = calloc(n ? n : 1, sizeof(*f->strs));
	f->blob = malloc(c->len ? c->len : 1);
	if (!f->strs || !f->blob)
		return -ENOMEM;
	o = f->blob;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = get_u32(c);

		if (c->bad || len > left(c))
			return bad(p, "string exceeds its section");
		if (memchr(c->p + c->off, 0, len))
			return bad(p, "NUL byte inside a string");
		memcpy(o, c->p + c->off, len);
		o[len] = 0;
		f->strs[i] = o;
		o += len + 1;
		c->off += len;
	}
	f->nstrs = n;
	return 0;
}

static int parse_frame(struct parser *p, struct cur *c, struct lt_frame *fr)
{
	const char *fn = NULL, *mod = NULL, *file = NULL;
	int err;

	err = get_str(p, c, &fn);
	if (!err)
		err = get_str(p, c, &mod);
	fr->address = get_u64(c);
	fr->offset = get_u64(c);
	if (!err)
		err = get_str(p, c, &file);
	fr->line = (int32_t)get_u32(c);
	if (err)
		return err;
	/* The snapfile owns the strings; the frame type just is not const. */
	fr->function = (char *)fn;
	fr->module = (char *)mod;
	fr->file = (char *)file;
	return 0;
}

static int parse_stacks(struct parser *p, struct cur *c)
{
	struct snapfile *f = p->f;
	uint32_t n = get_u32(c), nfr = get_u32(c), used = 0;
	int err;

	if (c->bad)
		return 0;
	if (n > left(c) / 4 || nfr > left(c) / FRAME_LEN ||
	    (uint64_t)n * 4 + (uint64_t)nfr * FRAME_LEN != left(c))
		return bad(p, "stack counts do not match their section");
	f->stacks = calloc(n ? n : 1, sizeof(*f->stacks));
	f->frames = calloc(nfr ? nfr : 1, sizeof(*f->frames));
	if (!f->stacks || !f->frames)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct lt_stack *st = &f->stacks[i];
		uint32_t k = get_u32(c);

		if (k > nfr - used)
			return bad(p, "more frames than the stack section declares");
		st->nframes = k;
		st->frames = k ? &f->frames[used] : NULL;
		used += k;
		for (uint32_t j = 0; j < k; j++) {
			err = parse_frame(p, c, &st->frames[j]);
			if (err)
				return err;
		}
	}
	if (used != nfr)
		return bad(p, "fewer frames than the stack section declares");
	f->nstacks = n;
	return 0;
}

static int parse_lost(struct parser *p, struct cur *c, struct lt_lost_counts *l, int which)
{
	const char **names = p->f->names[which];
	uint32_t n = get_u32(c);
	int err;

	if (n > LT_MAX_LOST)
		return bad(p, "too many lost-event counters");
	l->n = n;
	l->names = names;
	for (uint32_t i = 0; i < n; i++) {
		err = get_str(p, c, &names[i]);
		if (err)
			return err;
		l->v[i] = get_u64(c);
	}
	return 0;
}

static int parse_group(struct parser *p, struct cur *c, struct lt_group *g, unsigned int kinds)
{
	uint32_t kind = get_u32(c);
	int err;

	if (kind > LT_G_GOHEAP)
		return bad(p, "unknown group kind");
	if (!(kinds & KIND(kind)))
		return bad(p, "group of a kind its section does not hold");
	g->kind = kind;
	err = get_bool(p, c, &g->leak);
	if (err)
		return err;
	g->bytes = (int64_t)get_u64(c);
	g->count = (int64_t)get_u64(c);
	g->oldest_age_s = get_f64(c);
	err = get_stack(p, c, &g->stack);
	if (!err)
		err = get_stack(p, c, &g->created_by);
	if (!err)
		err = get_str(p, c, &g->wait);
	if (!err)
		err = get_chars(p, c, g->why, sizeof(g->why));
	if (!err && !group_stacks_ok(g))
		err = bad(p, "group without its stack");
	return err;
}

/* n groups into *out, which the snapshot owns as soon as it is allocated. */
static int parse_groups(struct parser *p, struct cur *c, struct lt_group **out, int *nout,
			unsigned int kinds)
{
	uint32_t n = get_u32(c);
	int err;

	if (n > left(c) / GROUP_LEN)
		return bad(p, "group count exceeds its section");
	if (!n)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	*nout = n;
	for (uint32_t i = 0; i < n; i++) {
		err = parse_group(p, c, &(*out)[i], kinds);
		if (err)
			return err;
	}
	return 0;
}

static int parse_site(struct parser *p, struct cur *c, struct lt_site_count *r)
{
	int err = get_stack(p, c, &r->created_by);

	r->live = (int64_t)get_u64(c);
	r->unjoined = (int64_t)get_u64(c);
	r->change = (int64_t)get_u64(c);
	if (!err)
		err = get_bool(p, c, &r->growing);
	if (!err && !r->created_by)
		err = bad(p, "thread site without its creation stack");
	return err;
}

static int parse_sites(struct parser *p, struct cur *c, struct lt_snapshot *s)
{
	uint32_t n = get_u32(c);
	int err;

	if (n > left(c) / SITE_LEN)
		return bad(p, "site count exceeds its section");
	if (!n)
		return 0;
	s->sites = calloc(n, sizeof(*s->sites));
	if (!s->sites)
		return -ENOMEM;
	s->nsites = n;
	for (uint32_t i = 0; i < n; i++) {
		err = parse_site(p, c, &s->sites[i]);
		if (err)
			return err;
	}
	return 0;
}

static int parse_proc(struct parser *p, struct cur *c)
{
	struct lt_snapshot *s = &p->f->snap;
	int err;

	p->f->wall_ns = get_u64(c);
	p->f->seq = get_u64(c);
	s->pid = (int32_t)get_u32(c);
	err = get_chars(p, c, s->comm, sizeof(s->comm));
	if (!err)
		err = get_str(p, c, &s->exe);
	s->duration_s = get_f64(c);
	if (!err)
		err = get_bool(p, c, &s->exited);
	return err;
}

static int parse_memory(struct parser *p, struct cur *c)
{
	struct lt_snapshot *s = &p->f->snap;
	int err = get_str(p, c, &s->allocator);

	s->min_age_s = get_f64(c);
	s->bytes = (int64_t)get_u64(c);
	s->count = (int64_t)get_u64(c);
	if (!err)
		err = parse_lost(p, c, &s->lost, LOST_MEM);
	if (!err)
		err = parse_groups(p, c, &s->groups, &s->ngroups, MEM_KINDS);
	return err;
}

static int parse_threads(struct parser *p, struct cur *c)
{
	struct lt_snapshot *s = &p->f->snap;
	int err = get_bool(p, c, &s->has_threads);

	s->live_threads = (int32_t)get_u32(c);
	s->min_block_s = get_f64(c);
	if (!err)
		err = parse_lost(p, c, &s->tlost, LOST_THR);
	if (!err)
		err = parse_groups(p, c, &s->tgroups, &s->ntgroups, THREAD_KINDS);
	if (!err)
		err = parse_sites(p, c, s);
	return err;
}

static int parse_goroutines(struct parser *p, struct cur *c)
{
	struct lt_snapshot *s = &p->f->snap;
	int err = get_bool(p, c, &s->has_goroutines);

	if (!err)
		err = get_str(p, c, &s->go_version);
	s->goroutines = (int32_t)get_u32(c);
	if (!err)
		err = parse_lost(p, c, &s->glost, LOST_GO);
	if (!err)
		err = parse_groups(p, c, &s->ggroups, &s->nggroups, GORO_KINDS);
	return err;
}

static int parse_goheap(struct parser *p, struct cur *c)
{
	struct lt_snapshot *s = &p->f->snap;
	int err = get_bool(p, c, &s->has_goheap);

	s->goheap_rate = (int64_t)get_u64(c);
	if (!err)
		err = parse_lost(p, c, &s->hlost, LOST_HEAP);
	if (!err)
		err = parse_groups(p, c, &s->hsites, &s->nhsites, GOHEAP_KINDS);
	return err;
}

/* Find the known sections; unknown tags are skipped, as later versions may add some. */
static int index_sections(struct parser *p, const uint8_t *d, size_t len)
{
	struct cur c = { d, len, 0, false };

	while (left(&c)) {
		uint32_t tag = get_u32(&c), n = get_u32(&c);
		int i;

		if (c.bad || n > left(&c))
			return bad(p, "section exceeds the payload");
		for (i = 0; i < NSEC && sec_tags[i] != tag; i++)
			;
		if (i < NSEC && p->seen[i])
			return bad(p, "duplicate section");
		if (i < NSEC) {
			p->sec[i] = (struct cur){ d + c.off, n, 0, false };
			p->seen[i] = true;
		}
		c.off += n;
	}
	for (int i = 0; i < NSEC; i++)
		if (!p->seen[i])
			return bad(p, "missing section");
	return 0;
}

static int parse(struct parser *p, const uint8_t *d, size_t len)
{
	static int (*const parsers[NSEC])(struct parser *, struct cur *) = {
		[SEC_STRS] = parse_strings, [SEC_STKS] = parse_stacks,
		[SEC_PROC] = parse_proc, [SEC_MEM] = parse_memory,
		[SEC_THRD] = parse_threads, [SEC_GORO] = parse_goroutines,
		[SEC_GHEP] = parse_goheap,
	};
	int err;

	p->f = calloc(1, sizeof(*p->f));
	if (!p->f)
		return -ENOMEM;
	err = index_sections(p, d, len);
	for (int i = 0; i < NSEC && !err; i++) {
		struct cur *c = &p->sec[i];

		err = parsers[i](p, c);
		if (!err && c->bad)
			err = bad(p, "section shorter than its fields");
		if (!err && left(c))
			err = bad(p, "section longer than its fields");
	}
	return err;
}

static int read_full(int fd, void *buf, size_t n, size_t *got)
{
	*got = 0;
	while (*got < n) {
		ssize_t r = read(fd, (uint8_t *)buf + *got, n - *got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		*got += r;
	}
	return 0;
}

/* Magic, version, lengths: what can be judged from the first got bytes. */
static int check_header(struct parser *p, const uint8_t *h, size_t got)
{
	uint32_t version;
	uint64_t plen, zlen;

	if (memcmp(h, MAGIC, got < MAGIC_LEN ? got : MAGIC_LEN)) {
		p->msg = "not a leaktop snapshot (bad magic)";
		return -EPROTO;
	}
	if (got < OFF_VERSION + 4)
		return bad(p, "truncated header");
	version = le_get(h + OFF_VERSION, 4);
	if (version > SNAPFILE_VERSION) {
		p->msg = "written by a newer leaktop (format version too high)";
		return -ENOTSUP;
	}
	if (!version)
		return bad(p, "format version 0");
	if (got < HDR_LEN)
		return bad(p, "truncated header");
	plen = le_get(h + OFF_PLEN, 8);
	zlen = le_get(h + OFF_ZLEN, 8);
	if (!plen || plen > MAX_PAYLOAD)
		return bad(p, "payload length out of range");
	if (zlen > plen + plen / 1024 + 64 || plen > zlen * MAX_RATIO)
		return bad(p, "compressed length does not fit the payload length");
	return 0;
}

/* The stored bytes, checked against the file checksum. */
static int read_stored(struct parser *p, int fd, const uint8_t *h, uint8_t **out)
{
	uint64_t zlen = le_get(h + OFF_ZLEN, 8);
	uint8_t *z, extra;
	struct stat st;
	size_t got;
	uint32_t crc;
	int err;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size != HDR_LEN + zlen)
		return bad(p, "file length does not match the header");
	z = malloc(zlen);
	if (!z)
		return -ENOMEM;
	err = read_full(fd, z, zlen, &got);
	if (!err && got != zlen)
		err = bad(p, "truncated payload");
	if (!err)
		err = read_full(fd, &extra, 1, &got);
	if (!err && got)
		err = bad(p, "bytes after the payload");
	if (!err) {
		crc = crc32_z(crc32_z(0, h, OFF_FCRC), z, zlen);
		if (crc != le_get(h + OFF_FCRC, 4))
			err = bad(p, "file checksum mismatch");
	}
	if (err) {
		free(z);
		return err;
	}
	*out = z;
	return 0;
}

static int inflate_payload(struct parser *p, const uint8_t *h, const uint8_t *z, uint8_t **out)
{
	uLong zlen = le_get(h + OFF_ZLEN, 8), n = le_get(h + OFF_PLEN, 8), want = n;
	uint8_t *d = malloc(n);

	if (!d)
		return -ENOMEM;
	if (uncompress2(d, &n, z, &zlen) != Z_OK || n != want ||
	    zlen != le_get(h + OFF_ZLEN, 8)) {
		free(d);
		return bad(p, "payload does not decompress");
	}
	if (crc32_z(0, d, n) != le_get(h + OFF_PCRC, 4)) {
		free(d);
		return bad(p, "payload checksum mismatch");
	}
	*out = d;
	return 0;
}

/* Header, stored bytes, decompression: the payload in *out. */
static int load(struct parser *p, int fd, uint8_t **out, size_t *len)
{
	uint8_t h[HDR_LEN], *z = NULL;
	size_t got;
	int err;

	err = read_full(fd, h, HDR_LEN, &got);
	if (err)
		return err;
	err = check_header(p, h, got);
	if (!err)
		err = read_stored(p, fd, h, &z);
	if (err)
		return err;
	if (le_get(h + OFF_FLAGS, 4)) {
		free(z);
		p->msg = "unknown flags (written by a newer leaktop)";
		return -ENOTSUP;
	}
	err = inflate_payload(p, h, z, out);
	free(z);
	if (!err)
		*len = le_get(h + OFF_PLEN, 8);
	return err;
}

static const char *errno_msg(int err)
{
	switch (err) {
	case -ENOMEM: return "out of memory";
	case -ENOENT: return "no such file";
	case -EACCES: return "permission denied";
	case -EISDIR: return "is a directory";
	default: return "cannot read the file";
	}
}

int snapfile_read(const char *path, struct snapfile **out, const char **err_msg)
{
	struct parser p = { 0 };
	uint8_t *d = NULL;
	size_t len = 0;
	int fd, err;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	err = load(&p, fd, &d, &len);
	close(fd);
	if (!err)
		err = parse(&p, d, len);
	free(d);
	if (err)
		goto fail;
	*out = p.f;
	return 0;
fail:
	snapfile_free(p.f);
	if (err_msg)
		*err_msg = p.msg ? p.msg : errno_msg(err);
	return err;
}

const struct lt_snapshot *snapfile_snapshot(const struct snapfile *f)
{
	return &f->snap;
}

uint64_t snapfile_wall_ns(const struct snapfile *f)
{
	return f->wall_ns;
}

uint64_t snapfile_seq(const struct snapfile *f)
{
	return f->seq;
}

void snapfile_free(struct snapfile *f)
{
	if (!f)
		return;
	snapshot_free(&f->snap);
	free(f->frames);
	free(f->stacks);
	free(f->strs);
	free(f->blob);
	free(f);
}
