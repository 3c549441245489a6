// SPDX-License-Identifier: GPL-2.0
/*
 * pprof profile.proto (google/pprof proto/profile.proto), gzip-compressed,
 * as `go tool pprof` reads it. A profile has one set of sample types, so a
 * snapshot makes two:
 *  - render_pprof: memory sites and Go heap sites as a heap profile,
 *    sample types inuse_objects/count and inuse_space/bytes, period type
 *    space/bytes (Go's runtime/pprof heap convention without the alloc_*
 *    pair, which leaktop does not count);
 *  - render_pprof_counts: thread and goroutine groups as a count profile,
 *    sample type goroutine/count, period type goroutine/count, period 1
 *    (Go's goroutine profile convention; threads count the same way).
 * Every sample carries the label section = its folded root frame
 * ("memory", "go_heap", "threads:blocked", "goroutines:chan receive"), so
 * -tagfocus=section=go_heap picks a section and -tagroot=section puts it
 * at the root as in the folded and SVG exports; thread and goroutine
 * samples also carry leak = yes/no and blocked threads wait = the syscall.
 * Locations are one per distinct frame, leaf first in samples; each has a
 * line naming a function (the frame's name as in the folded export, so
 * unsymbolized frames read "libc.so.6+0x9a3f0"), and mappings say they
 * have functions so pprof does not try to symbolize them again. The
 * executable's mapping comes first: pprof takes it for the main binary.
 * A path of "-" writes to stdout.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "lib/bytebuf.h"
#include "output/render.h"

/* A protobuf message being encoded. */

enum { PB_VARINT = 0, PB_BYTES = 2 };

/* profile.proto field numbers */
enum {
	PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE, PROFILE_MAPPING, PROFILE_LOCATION,
	PROFILE_FUNCTION, PROFILE_STRING_TABLE, PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS, PROFILE_PERIOD_TYPE, PROFILE_PERIOD, PROFILE_COMMENT,
};
enum { VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT };
enum { SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE, SAMPLE_LABEL };
enum { LABEL_KEY = 1, LABEL_STR };
enum {
	MAPPING_ID = 1, MAPPING_MEMORY_START, MAPPING_MEMORY_LIMIT, MAPPING_FILE_OFFSET,
	MAPPING_FILENAME, MAPPING_BUILD_ID, MAPPING_HAS_FUNCTIONS, MAPPING_HAS_FILENAMES,
	MAPPING_HAS_LINE_NUMBERS,
};
enum { LOCATION_ID = 1, LOCATION_MAPPING_ID, LOCATION_ADDRESS, LOCATION_LINE };
enum { LINE_FUNCTION_ID = 1, LINE_LINE };
enum { FUNCTION_ID = 1, FUNCTION_NAME, FUNCTION_SYSTEM_NAME, FUNCTION_FILENAME };

static void pb_raw(struct bytebuf *b, const void *data, size_t n)
{
	bytebuf_put(b, data, n);
}

/* Base 128, low groups first; a negative int64 takes all ten bytes. */
static void pb_varint(struct bytebuf *b, uint64_t v)
{
	uint8_t buf[10];
	int n = 0;

	while (v >= 0x80) {
		buf[n++] = (v & 0x7f) | 0x80;
		v >>= 7;
	}
	buf[n++] = v;
	pb_raw(b, buf, n);
}

static void pb_key(struct bytebuf *b, int field, int type)
{
	pb_varint(b, (uint64_t)field << 3 | type);
}

/* A varint field; zero is proto3's default and is left out. */
static void pb_uint(struct bytebuf *b, int field, uint64_t v)
{
	if (!v)
		return;
	pb_key(b, field, PB_VARINT);
	pb_varint(b, v);
}

static void pb_bytes(struct bytebuf *b, int field, const void *data, size_t n)
{
	pb_key(b, field, PB_BYTES);
	pb_varint(b, n);
	pb_raw(b, data, n);
}

/* sub as a length-delimited field of b; sub is emptied for reuse. */
static void pb_msg(struct bytebuf *b, int field, struct bytebuf *sub)
{
	if (sub->err)
		b->err = sub->err;
	pb_bytes(b, field, sub->p, sub->len);
	sub->len = 0;
}

/* A packed repeated varint field: zeros included, they are values. */
static void pb_packed(struct bytebuf *b, int field, const uint64_t *v, int n, struct bytebuf *tmp)
{
	for (int i = 0; i < n; i++)
		pb_varint(tmp, v[i]);
	pb_msg(b, field, tmp);
}

/* Open addressing from byte strings to ids. */
struct slot {
	char *key;	/* NULL: empty; NUL-terminated copy */
	size_t klen;
	uint64_t hash, val;
};

struct table {
	struct slot *v;
	size_t cap, n;
};

static uint64_t fnv1a(const void *key, size_t n)
{
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static struct slot *table_find(const struct table *t, const void *key, size_t klen,
			       uint64_t hash)
{
	size_t i = hash & (t->cap - 1);

	while (t->v[i].key) {
		struct slot *s = &t->v[i];

		if (s->hash == hash && s->klen == klen && !memcmp(s->key, key, klen))
			return s;
		i = (i + 1) & (t->cap - 1);
	}
	return &t->v[i];
}

static int table_grow(struct table *t)
{
	struct table nt = { .cap = t->cap ? t->cap * 2 : 64 };

	nt.v = calloc(nt.cap, sizeof(*nt.v));
	if (!nt.v)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].key)
			*table_find(&nt, t->v[i].key, t->v[i].klen, t->v[i].hash) = t->v[i];
	nt.n = t->n;
	free(t->v);
	*t = nt;
	return 0;
}

/*
 * The slot of key, added with val when new (then *added is set). The key's
 * copy stays put while the table grows, so callers may keep pointers to it.
 */
static struct slot *table_get(struct table *t, const void *key, size_t klen, uint64_t val,
			      bool *added)
{
	uint64_t hash = fnv1a(key, klen);
	struct slot *s;

	*added = false;
	if ((t->n + 1) * 4 > t->cap * 3 && table_grow(t))
		return NULL;
	s = table_find(t, key, klen, hash);
	if (s->key)
		return s;
	s->key = malloc(klen + 1);
	if (!s->key)
		return NULL;
	memcpy(s->key, key, klen);
	s->key[klen] = '\0';
	s->klen = klen;
	s->hash = hash;
	s->val = val;
	t->n++;
	*added = true;
	return s;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].key);
	free(t->v);
}

struct mapping {
	uint64_t file;	/* string index */
	uint64_t start, limit, offset;
	bool files, lines;
};

struct function {
	uint64_t name, file;	/* string indices */
};

struct location {
	uint64_t mapping, address, function, line;
};

struct profile {
	struct bytebuf out, tmp, tmp2;
	struct table strings, functions, locations, mappings;
	const char **str;	/* by index: the keys of strings */
	struct mapping *map;
	struct function *fn;
	struct location *loc;
	size_t nstr, nmap, nfn, nloc;
	uint64_t *ids;	/* one sample's location ids */
	int nids;
	const char *exe;	/* the main binary: mapping 1 */
	int err;
};

static int grow(void *pp, size_t n, size_t size)
{
	void **p = pp;
	void *q;

	/* Arrays grow at powers of two; n is the count about to be reached. */
	if (n & (n - 1))
		return 0;
	q = realloc(*p, (n ? n * 2 : 1) * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	return 0;
}

/* The string table index of s, "" being 0. */
static uint64_t str_id(struct profile *p, const char *s)
{
	struct slot *sl;
	bool added;

	if (!s || !*s || p->err)
		return 0;
	sl = table_get(&p->strings, s, strlen(s), p->nstr, &added);
	if (!sl || (added && grow(&p->str, p->nstr, sizeof(*p->str)))) {
		p->err = -ENOMEM;
		return 0;
	}
	if (added)
		p->str[p->nstr++] = sl->key;
	return sl->val;
}

static uint64_t mapping_id(struct profile *p, const struct lt_frame *fr)
{
	uint64_t file = str_id(p, fr->module);
	struct mapping *m;
	struct slot *sl;
	bool added;

	if (!file || p->err)
		return 0;
	sl = table_get(&p->mappings, &file, sizeof(file), p->nmap + 1, &added);
	if (!sl || (added && grow(&p->map, p->nmap, sizeof(*p->map)))) {
		p->err = -ENOMEM;
		return 0;
	}
	m = &p->map[sl->val - 1];
	if (added) {
		p->nmap++;
		*m = (struct mapping){ .file = file, .start = fr->address,
				       .limit = fr->address + 1, .offset = fr->offset };
	}
	/* The range its frames span; file_offset goes with memory_start. */
	if (fr->address < m->start) {
		m->start = fr->address;
		m->offset = fr->offset;
	}
	if (fr->address >= m->limit)
		m->limit = fr->address + 1;
	m->files |= fr->file != NULL;
	m->lines |= fr->file && fr->line > 0;
	return sl->val;
}

static uint64_t function_id(struct profile *p, const char *name, const char *file)
{
	struct function f = { str_id(p, name), str_id(p, file) };
	struct slot *sl;
	bool added;

	if (p->err)
		return 0;
	sl = table_get(&p->functions, &f, sizeof(f), p->nfn + 1, &added);
	if (!sl || (added && grow(&p->fn, p->nfn, sizeof(*p->fn)))) {
		p->err = -ENOMEM;
		return 0;
	}
	if (added)
		p->fn[p->nfn++] = f;
	return sl->val;
}

/* The location of one frame; fr NULL: the "[unknown stack]" pseudo-frame. */
static uint64_t location_id(struct profile *p, const struct lt_frame *fr)
{
	struct location l = { 0 };
	char name[1024];
	struct slot *sl;
	bool added;

	export_frame_name(name, sizeof(name), fr);
	if (fr) {
		l.mapping = mapping_id(p, fr);
		l.address = fr->address;
		l.line = fr->file && fr->line > 0 ? fr->line : 0;
	}
	l.function = function_id(p, name, fr ? fr->file : NULL);
	if (p->err)
		return 0;
	sl = table_get(&p->locations, &l, sizeof(l), p->nloc + 1, &added);
	if (!sl || (added && grow(&p->loc, p->nloc, sizeof(*p->loc)))) {
		p->err = -ENOMEM;
		return 0;
	}
	if (added)
		p->loc[p->nloc++] = l;
	return sl->val;
}

static void label(struct profile *p, const char *key, const char *value)
{
	uint64_t k = str_id(p, key), v = str_id(p, value);

	pb_uint(&p->tmp2, LABEL_KEY, k);
	pb_uint(&p->tmp2, LABEL_STR, v);
	pb_msg(&p->tmp, SAMPLE_LABEL, &p->tmp2);
}

/* One sample: g's stack leaf first, its values, its labels. */
static void sample(struct profile *p, enum lt_section sec, const struct lt_group *g,
		   const uint64_t *values, int nvalues)
{
	const struct lt_stack *st = g->stack;
	int n = st && st->nframes > 0 ? st->nframes : 1;
	char root[256];

	if (n > p->nids) {
		uint64_t *ids = realloc(p->ids, n * sizeof(*ids));

		if (!ids) {
			p->err = -ENOMEM;
			return;
		}
		p->ids = ids;
		p->nids = n;
	}
	for (int i = 0; i < n; i++)
		p->ids[i] = location_id(p, st && st->nframes > 0 ? &st->frames[i] : NULL);
	pb_packed(&p->tmp, SAMPLE_LOCATION_ID, p->ids, n, &p->tmp2);
	pb_packed(&p->tmp, SAMPLE_VALUE, values, nvalues, &p->tmp2);
	label(p, "section", export_root(root, sizeof(root), sec, g));
	if (sec == LT_S_THREADS || sec == LT_S_GOROUTINES || sec == LT_S_FDS)
		label(p, "leak", g->leak ? "yes" : "no");
	if (sec == LT_S_THREADS && g->kind == LT_G_BLOCKED && g->wait)
		label(p, "wait", g->wait);
	pb_msg(&p->out, PROFILE_SAMPLE, &p->tmp);
}

static void value_type(struct profile *p, int field, const char *type, const char *unit)
{
	pb_uint(&p->tmp, VALUE_TYPE_TYPE, str_id(p, type));
	pb_uint(&p->tmp, VALUE_TYPE_UNIT, str_id(p, unit));
	pb_msg(&p->out, field, &p->tmp);
}

static void comment(struct profile *p, const char *text)
{
	pb_key(&p->out, PROFILE_COMMENT, PB_VARINT);	/* unpacked: pprof takes both */
	pb_varint(&p->out, str_id(p, text));
}

/* Whether m is a shared library or pseudo-file rather than a program. */
static bool is_lib(const struct profile *p, const struct mapping *m)
{
	const char *f = p->str[m->file], *base = strrchr(f, '/');

	base = base ? base + 1 : f;
	return base[0] == '[' || strstr(base, ".so") != NULL;
}

/*
 * Mappings, locations, functions and strings the samples made. pprof takes
 * the first mapping for the main binary (the "File:" it prints, -list), so
 * that is the executable, else the first that is not a library; mapping ids
 * are renumbered to match.
 */
static void tables(struct profile *p)
{
	uint64_t *newid = calloc(p->nmap + 1, sizeof(*newid));
	size_t first = p->nmap;

	if (!newid) {
		p->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; p->exe && i < p->nmap && first == p->nmap; i++)
		if (!strcmp(p->str[p->map[i].file], p->exe))
			first = i;
	for (size_t i = 0; i < p->nmap && first == p->nmap; i++)
		if (!is_lib(p, &p->map[i]))
			first = i;
	if (first == p->nmap)
		first = 0;
	for (size_t i = 0, id = 2; i < p->nmap; i++)
		newid[i + 1] = i == first ? 1 : id++;
	for (size_t k = 0; k < p->nmap; k++) {
		size_t i = k == 0 ? first : k <= first ? k - 1 : k;
		const struct mapping *m = &p->map[i];

		pb_uint(&p->tmp, MAPPING_ID, k + 1);
		pb_uint(&p->tmp, MAPPING_MEMORY_START, m->start);
		pb_uint(&p->tmp, MAPPING_MEMORY_LIMIT, m->limit);
		pb_uint(&p->tmp, MAPPING_FILE_OFFSET, m->offset);
		pb_uint(&p->tmp, MAPPING_FILENAME, m->file);
		pb_uint(&p->tmp, MAPPING_HAS_FUNCTIONS, 1);
		pb_uint(&p->tmp, MAPPING_HAS_FILENAMES, m->files);
		pb_uint(&p->tmp, MAPPING_HAS_LINE_NUMBERS, m->lines);
		pb_msg(&p->out, PROFILE_MAPPING, &p->tmp);
	}
	for (size_t i = 0; i < p->nloc; i++) {
		const struct location *l = &p->loc[i];

		pb_uint(&p->tmp, LOCATION_ID, i + 1);
		pb_uint(&p->tmp, LOCATION_MAPPING_ID, newid[l->mapping]);
		pb_uint(&p->tmp, LOCATION_ADDRESS, l->address);
		pb_uint(&p->tmp2, LINE_FUNCTION_ID, l->function);
		pb_uint(&p->tmp2, LINE_LINE, l->line);
		pb_msg(&p->tmp, LOCATION_LINE, &p->tmp2);
		pb_msg(&p->out, PROFILE_LOCATION, &p->tmp);
	}
	for (size_t i = 0; i < p->nfn; i++) {
		pb_uint(&p->tmp, FUNCTION_ID, i + 1);
		pb_uint(&p->tmp, FUNCTION_NAME, p->fn[i].name);
		pb_uint(&p->tmp, FUNCTION_SYSTEM_NAME, p->fn[i].name);
		pb_uint(&p->tmp, FUNCTION_FILENAME, p->fn[i].file);
		pb_msg(&p->out, PROFILE_FUNCTION, &p->tmp);
	}
	/* Last: nothing adds strings after this. */
	for (size_t i = 0; i < p->nstr; i++)
		pb_bytes(&p->out, PROFILE_STRING_TABLE, p->str[i], strlen(p->str[i]));
	free(newid);
}

static int profile_init(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	if (grow(&p->str, 0, sizeof(*p->str)))
		return -ENOMEM;
	p->str[p->nstr++] = "";	/* never in the table: str_id answers 0 itself */
	return 0;
}

static void profile_free(struct profile *p)
{
	free(p->out.p);
	free(p->tmp.p);
	free(p->tmp2.p);
	table_free(&p->strings);
	table_free(&p->functions);
	table_free(&p->locations);
	table_free(&p->mappings);
	free(p->str);
	free(p->map);
	free(p->fn);
	free(p->loc);
	free(p->ids);
}

/* gzip of in into out, in memory (zlib's gzip wrapper: windowBits 15 + 16). */
static int gzip_buf(const struct bytebuf *in, struct bytebuf *out)
{
	z_stream z = { 0 };
	uint8_t chunk[16384];
	int ret;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = in->p;
	z.avail_in = in->len;	/* profiles stay far below 4 GiB (bytebuf max) */
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		ret = deflate(&z, Z_FINISH);
		bytebuf_put(out, chunk, sizeof(chunk) - z.avail_out);
	} while (ret == Z_OK);
	deflateEnd(&z);
	return ret == Z_STREAM_END ? out->err : -EIO;
}

/* b's bytes at path, by way of a temporary file renamed; "-": stdout. */
static int write_all(const char *path, const struct bytebuf *b)
{
	size_t len = strlen(path), off = 0;
	bool out = !strcmp(path, "-");
	char *tmp = NULL;
	int fd, err = 0;

	if (out) {
		fflush(stdout);
		fd = STDOUT_FILENO;
	} else {
		tmp = malloc(len + 8);
		if (!tmp)
			return -ENOMEM;
		memcpy(tmp, path, len);
		memcpy(tmp + len, ".XXXXXX", 8);
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0 || fchmod(fd, 0644))
			err = -errno;
	}
	while (!err && off < b->len) {
		ssize_t n = write(fd, b->p + off, b->len - off);

		if (n < 0 && errno != EINTR)
			err = -errno;
		off += n > 0 ? n : 0;
	}
	if (out)
		return err;
	if (fd >= 0 && close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err && fd >= 0)
		unlink(tmp);
	free(tmp);
	return err;
}

static void header(struct profile *p, const struct lt_snapshot *s)
{
	struct timespec ts;
	char text[256];

	p->exe = s->exe;
	clock_gettime(CLOCK_REALTIME, &ts);
	pb_uint(&p->out, PROFILE_TIME_NANOS, ts.tv_sec * 1000000000ULL + ts.tv_nsec);
	pb_uint(&p->out, PROFILE_DURATION_NANOS, (uint64_t)(s->duration_s * 1e9));
	snprintf(text, sizeof(text), "leaktop %s: pid %d (%s)%s", LEAKTOP_VERSION, s->pid,
		 s->comm, s->exited ? ", process exited" : "");
	comment(p, text);
}

static int finish(struct profile *p, struct bytebuf *gz)
{
	int err;

	tables(p);
	err = p->err ? p->err : p->out.err ? p->out.err : p->tmp.err ? p->tmp.err : p->tmp2.err;
	if (!err)
		err = gzip_buf(&p->out, gz);
	profile_free(p);
	return err;
}

int pprof_heap(struct bytebuf *gz, const struct lt_snapshot *s)
{
	static const enum lt_section secs[] = { LT_S_MEMORY, LT_S_GOHEAP, LT_S_KERNEL };
	struct profile p;
	char text[256];
	int err = profile_init(&p);

	if (err)
		return err;
	header(&p, s);
	value_type(&p, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(&p, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
	value_type(&p, PROFILE_PERIOD_TYPE, "space", "bytes");
	pb_uint(&p.out, PROFILE_PERIOD, 1);
	comment(&p, "memory: outstanding allocations, counted exactly");
	if (s->has_goheap) {
		snprintf(text, sizeof(text),
			 "go_heap: estimates scaled from the runtime's sampler, one sample per %ld bytes",
			 s->goheap_rate);
		comment(&p, text);
	}
	if (s->has_kernel)
		comment(&p, "kernel: kernel memory allocated in the process's context, by kernel stack");
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		const struct lt_group *g;
		int n;

		g = export_groups(s, secs[i], &n);
		for (int j = 0; j < n; j++) {
			uint64_t v[2] = { g[j].count, g[j].bytes };

			if (g[j].count > 0 || g[j].bytes > 0)
				sample(&p, secs[i], &g[j], v, 2);
		}
	}
	return finish(&p, gz);
}

int pprof_counts(struct bytebuf *gz, const struct lt_snapshot *s)
{
	static const enum lt_section secs[] = { LT_S_THREADS, LT_S_GOROUTINES, LT_S_FDS };
	struct profile p;
	int err = profile_init(&p);

	if (err)
		return err;
	header(&p, s);
	value_type(&p, PROFILE_SAMPLE_TYPE, "goroutine", "count");
	value_type(&p, PROFILE_PERIOD_TYPE, "goroutine", "count");
	pb_uint(&p.out, PROFILE_PERIOD, 1);
	comment(&p, "threads, goroutines and open fds by group; label section tells which");
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		const struct lt_group *g;
		int n;

		g = export_groups(s, secs[i], &n);
		for (int j = 0; j < n; j++) {
			uint64_t v = g[j].count;

			if (g[j].count > 0)
				sample(&p, secs[i], &g[j], &v, 1);
		}
	}
	return finish(&p, gz);
}

static int render_file(const char *path, const struct lt_snapshot *s,
		       int (*profile)(struct bytebuf *, const struct lt_snapshot *))
{
	struct bytebuf gz = { 0 };
	int err = profile(&gz, s);

	if (!err)
		err = write_all(path, &gz);
	bytebuf_free(&gz);
	return err;
}

int render_pprof(const char *path, const struct lt_snapshot *s)
{
	return render_file(path, s, pprof_heap);
}

int render_pprof_counts(const char *path, const struct lt_snapshot *s)
{
	return render_file(path, s, pprof_counts);
}
