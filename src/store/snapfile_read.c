// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a snapshot file. The reader trusts no byte of a file: every
 * count is checked against the bytes that could hold it before anything is
 * allocated, every index against the table it points into.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "lib/bytebuf.h"
#include "store/snapfile.h"
#include "store/snapfile_format.h"

/* The four lost-event counters of a snapshot, in file order. */
enum { LOST_MEM, LOST_THR, LOST_GO, LOST_HEAP, LOST_FD, LOST_KMEM, NLOST };

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

	if (kind > LT_G_KMEM)
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

static int parse_gpending(struct parser *p, struct cur *c)
{
	struct lt_snapshot *s = &p->f->snap;
	uint32_t n;

	if (!p->seen[SEC_GPND])
		return 0;
	s->goheap_cycles = (int64_t)get_u64(c);
	n = get_u32(c);
	if (!c->bad && n != (uint32_t)s->nhsites)
		return bad(p, "pending figures for another number of Go heap sites");
	for (uint32_t i = 0; i < n && !c->bad; i++) {
		s->hsites[i].pending_bytes = (int64_t)get_u64(c);
		s->hsites[i].pending_count = (int64_t)get_u64(c);
	}
	return 0;
}

static int parse_fd_fields(struct parser *p, struct cur *c, struct lt_group *g)
{
	const char *t = NULL;
	int err = get_str(p, c, &g->fd_kind);

	if (!err)
		err = get_str(p, c, &g->fd_proto);
	if (!err)
		err = get_str(p, c, &t);
	if (!err && !g->fd_kind)
		err = bad(p, "fd group without its kind");
	if (!err && t) {
		g->targets = strdup(t);
		if (!g->targets)
			err = -ENOMEM;
	}
	return err;
}

static int parse_fds(struct parser *p, struct cur *c)
{
	struct lt_snapshot *s = &p->f->snap;
	int err;

	if (!p->seen[SEC_FDS])
		return 0;
	err = get_bool(p, c, &s->has_fds);
	s->fds_open = (int32_t)get_u32(c);
	if (!err)
		err = parse_lost(p, c, &s->flost, LOST_FD);
	if (!err)
		err = parse_groups(p, c, &s->fgroups, &s->nfgroups, FD_KINDS);
	for (int i = 0; !err && i < s->nfgroups; i++)
		err = parse_fd_fields(p, c, &s->fgroups[i]);
	return err;
}

static int parse_kernel(struct parser *p, struct cur *c)
{
	struct lt_snapshot *s = &p->f->snap;
	int err;

	if (!p->seen[SEC_KMEM])
		return 0;
	err = get_bool(p, c, &s->has_kernel);
	s->kbytes = (int64_t)get_u64(c);
	s->kcount = (int64_t)get_u64(c);
	if (!err)
		err = parse_lost(p, c, &s->klost, LOST_KMEM);
	if (!err)
		err = parse_groups(p, c, &s->kgroups, &s->nkgroups, KMEM_KINDS);
	for (int i = 0; !err && i < s->nkgroups; i++) {
		s->kgroups[i].pid = (int32_t)get_u32(c);
		err = get_chars(p, c, s->kgroups[i].comm, sizeof(s->kgroups[i].comm));
	}
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
		if (!p->seen[i] && !SEC_OPTIONAL(i))
			return bad(p, "missing section");
	return 0;
}

static int parse(struct parser *p, const uint8_t *d, size_t len)
{
	static int (*const parsers[NSEC])(struct parser *, struct cur *) = {
		[SEC_STRS] = parse_strings, [SEC_STKS] = parse_stacks,
		[SEC_PROC] = parse_proc, [SEC_MEM] = parse_memory,
		[SEC_THRD] = parse_threads, [SEC_GORO] = parse_goroutines,
		[SEC_GHEP] = parse_goheap, [SEC_GPND] = parse_gpending,
		[SEC_FDS] = parse_fds, [SEC_KMEM] = parse_kernel,
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
