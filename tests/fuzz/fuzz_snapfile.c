// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the snapshot file reader, src/store/snapfile_read.c.
 *
 * The input is a snapshot file as is, unless its first byte is 0: then the
 * rest is a payload (docs/snapshot-format.md, "Payload: sections") that is
 * compressed and given a valid header and checksums here, so that the
 * mutations reach the section parsers instead of dying at a checksum.
 * Whatever the reader accepts is read back in full, every string and
 * every frame of every stack, so that the sanitizers see a bad pointer,
 * and must be what the renderers take for granted (a live snapshot's
 * shape, docs/snapshot-format.md): each section's groups of its own
 * kinds, no NULL stack where leaktop always has one. Otherwise abort.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "fuzz_file.h"
#include "store/snapfile.h"

#define HDR_LEN 44

static volatile uint64_t sink;

/* Fold v into sink, so that reading it is not optimized away. */
static void use(uint64_t v)
{
	sink += v;
}

static void le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

/* A version 1 file around payload p: *len bytes, malloc'ed; NULL if zlib
 * cannot compress it. */
static uint8_t *wrap(const uint8_t *p, size_t n, size_t *len)
{
	uLongf zlen = compressBound(n);
	uint8_t *img = malloc(HDR_LEN + zlen);
	uint32_t crc;

	if (!img || compress2(img + HDR_LEN, &zlen, p, n, Z_BEST_SPEED) != Z_OK) {
		free(img);
		return NULL;
	}
	memcpy(img, "LEAKTOP\0SNAP", 12);
	le(img + 12, 1, 4);
	le(img + 16, 0, 4);
	le(img + 20, n, 8);
	le(img + 28, zlen, 8);
	le(img + 36, crc32_z(0, p, n), 4);
	crc = crc32_z(0, img, 40);
	le(img + 40, crc32_z(crc, img + HDR_LEN, zlen), 4);
	*len = HDR_LEN + zlen;
	return img;
}

static void str(const char *s)
{
	if (s)
		use(strlen(s));
}

static void stack(const struct lt_stack *st)
{
	if (!st)
		return;
	for (int i = 0; i < st->nframes; i++) {
		const struct lt_frame *f = &st->frames[i];

		str(f->function);
		str(f->module);
		str(f->file);
		use(f->address);
		use(f->offset);
		use(f->line);
	}
}

/* The group kinds each section holds; those with a creation stack. */
#define KIND(k)		(1u << (k))
#define CREATED		(KIND(LT_G_UNJOINED) | KIND(LT_G_BLOCKED) | KIND(LT_G_RUNNING) | \
			 KIND(LT_G_GOROUTINE))

static void groups(const struct lt_group *g, int n, unsigned int kinds)
{
	for (int i = 0; i < n; i++) {
		if ((unsigned int)g[i].kind > LT_G_GOHEAP || !(kinds & KIND(g[i].kind)) ||
		    !g[i].stack || (!g[i].created_by && (CREATED & KIND(g[i].kind))))
			abort();
		stack(g[i].stack);
		stack(g[i].created_by);
		str(g[i].wait);
		str(g[i].why);
		str(group_kind_name(g[i].kind));
		use(g[i].bytes);
		use(g[i].count);
		use(g[i].leak);
	}
}

static void lost(const struct lt_lost_counts *l)
{
	for (int i = 0; i < l->n; i++) {
		str(l->names[i]);
		use(l->v[i]);
	}
}

static void walk(const struct lt_snapshot *s)
{
	str(s->comm);
	str(s->exe);
	str(s->allocator);
	str(s->go_version);
	lost(&s->lost);
	lost(&s->tlost);
	lost(&s->glost);
	lost(&s->hlost);
	groups(s->groups, s->ngroups, KIND(LT_G_ALLOC));
	groups(s->tgroups, s->ntgroups,
	       KIND(LT_G_UNJOINED) | KIND(LT_G_BLOCKED) | KIND(LT_G_RUNNING));
	groups(s->ggroups, s->nggroups, KIND(LT_G_GOROUTINE));
	groups(s->hsites, s->nhsites, KIND(LT_G_GOHEAP));
	for (int i = 0; i < s->nsites; i++) {
		if (!s->sites[i].created_by)
			abort();
		stack(s->sites[i].created_by);
		use(s->sites[i].live);
		use(s->sites[i].growing);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *img = NULL;
	struct snapfile *f;
	const char *msg = NULL;
	size_t len = size;

	if (size && data[0] == 0) {
		img = wrap(data + 1, size - 1, &len);
		if (!img)
			return 0;
		data = img;
	}
	if (snapfile_read(fuzz_file(data, len), &f, &msg) == 0) {
		walk(snapfile_snapshot(f));
		use(snapfile_wall_ns(f));
		use(snapfile_seq(f));
		snapfile_free(f);
	} else if (!msg || !*msg) {
		abort();	/* every failure has a reason to print */
	}
	free(img);
	return 0;
}
