/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The snapshot file format shared by snapfile_write.c and snapfile_read.c:
 * a fixed header, then a zlib-compressed payload of tagged sections (a
 * string table, the stacks, then the process, memory, threads, goroutines
 * and Go heap sections referring to them by index). The layout is in
 * docs/snapshot-format.md.
 */
#ifndef LEAKTOP_SNAPFILE_FORMAT_H
#define LEAKTOP_SNAPFILE_FORMAT_H

#include <stdbool.h>
#include <stdint.h>
#include "model/snapshot.h"

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
enum { SEC_STRS, SEC_STKS, SEC_PROC, SEC_MEM, SEC_THRD, SEC_GORO, SEC_GHEP, SEC_GPND, SEC_FDS,
       SEC_KMEM, NSEC };

/* Added later, so optional: files from before it read as zeros. */
#define SEC_OPTIONAL(i)	((i) == SEC_GPND || (i) == SEC_FDS || (i) == SEC_KMEM)

/* The order sections are written in (they are parsed in enum order). An
 * optional section is never last, so that a payload cut at a section's
 * end always lacks a required one. */
static const int sec_file_order[NSEC] = {
	SEC_STRS, SEC_STKS, SEC_PROC, SEC_MEM, SEC_THRD, SEC_GORO, SEC_GPND, SEC_FDS, SEC_KMEM,
	SEC_GHEP,
};

static const uint32_t sec_tags[NSEC] = {
	[SEC_STRS] = TAG('S', 'T', 'R', 'S'), [SEC_STKS] = TAG('S', 'T', 'K', 'S'),
	[SEC_PROC] = TAG('P', 'R', 'O', 'C'), [SEC_MEM] = TAG('M', 'E', 'M', ' '),
	[SEC_THRD] = TAG('T', 'H', 'R', 'D'), [SEC_GORO] = TAG('G', 'O', 'R', 'O'),
	[SEC_GHEP] = TAG('G', 'H', 'E', 'P'), [SEC_GPND] = TAG('G', 'P', 'N', 'D'),
	[SEC_FDS] = TAG('F', 'D', 'S', ' '), [SEC_KMEM] = TAG('K', 'M', 'E', 'M'),
};

static inline void le_put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

static inline uint64_t le_get(const uint8_t *p, int n)
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
#define FD_KINDS	KIND(LT_G_FD)
#define KMEM_KINDS	KIND(LT_G_KMEM)

static inline bool group_stacks_ok(const struct lt_group *g)
{
	return g->stack && (g->created_by || !(KIND(g->kind) & (THREAD_KINDS | GORO_KINDS)));
}

#endif
