/* SPDX-License-Identifier: GPL-2.0 */
/* Renderings of a snapshot: one function per output format. */
#ifndef LEAKTOP_RENDER_H
#define LEAKTOP_RENDER_H

#include <stdio.h>
#include "model/snapshot.h"

/* Top-N table of allocation sites, 80 columns wide. */
void render_table(FILE *f, const struct lt_snapshot *s, int top);
/* s as a JSON string, escaped; null for NULL. */
void json_str(FILE *f, const char *s);
/* The JSON report (docs/json-report.md). */
void render_json(FILE *f, const struct lt_snapshot *s);
/* "12.3 KiB" style, into buf. */
const char *human_bytes(double bytes, char *buf, size_t len);

/*
 * Stack exports: folded stacks, pprof and an SVG flame graph. Sections are
 * memory sites, thread groups, goroutine groups and Go heap sites; every
 * stack starts (root first) with a frame naming its section: "memory",
 * "threads:blocked", "goroutines:chan send", "go_heap".
 */
enum lt_weight {
	LT_W_BYTES,	/* memory and Go heap in bytes; threads, goroutines counted */
	LT_W_COUNT,	/* everything counted: allocations, objects, threads */
};

enum lt_section {
	LT_S_MEMORY, LT_S_THREADS, LT_S_GOROUTINES, LT_S_GOHEAP, LT_S_FDS, LT_S_KERNEL, LT_S_N
};

/* "memory", "threads", "goroutines", "go_heap". */
const char *export_section_name(enum lt_section sec);
/* The groups of a section; sections not traced have none. */
const struct lt_group *export_groups(const struct lt_snapshot *s, enum lt_section sec, int *n);
/* A group's weight: w for memory and Go heap, its count otherwise. */
int64_t export_weight(enum lt_section sec, const struct lt_group *g, enum lt_weight w);
/* The root frame naming g's section and kind or wait reason, into buf. */
const char *export_root(char *buf, size_t len, enum lt_section sec, const struct lt_group *g);
/* The second part of that root, the kind or wait reason; NULL for memory and Go heap. */
const char *export_subsection(enum lt_section sec, const struct lt_group *g);
/*
 * A frame's name: its function, else module basename+0xoffset, else its
 * address; NULL fr: "[unknown stack]". Never empty; ';' becomes ':' and
 * control characters '?', so it fits in a folded line. Into buf.
 */
const char *export_frame_name(char *buf, size_t len, const struct lt_frame *fr);

/* The index of a stack's first frame of the program's own, past the
 * library and runtime frames it begins with (malloc, pthread_create,
 * runtime.gopark); its last frame if all are. */
int export_own_frames(const struct lt_stack *st);

/* Folded stacks, one "root;...;leaf weight" line per distinct stack. */
void render_folded(FILE *f, const struct lt_snapshot *s, enum lt_weight w);
/*
 * gzip-compressed pprof profile.proto at path, written to a temporary file
 * and renamed. render_pprof: memory and Go heap sites as a heap profile
 * (inuse_objects/count, inuse_space/bytes); render_pprof_counts: thread and
 * goroutine groups as a count profile (goroutine/count). Samples carry a
 * "section" label ("memory", "threads:blocked", ...). "-": stdout.
 * 0 or -errno.
 */
int render_pprof(const char *path, const struct lt_snapshot *s);
int render_pprof_counts(const char *path, const struct lt_snapshot *s);
struct bytebuf;
/* The same two profiles, gzip-compressed, appended to gz (served over HTTP). */
int pprof_heap(struct bytebuf *gz, const struct lt_snapshot *s);
int pprof_counts(struct bytebuf *gz, const struct lt_snapshot *s);
/* A self-contained SVG flame graph per non-empty section. 0 or -errno. */
int render_svg(FILE *f, const struct lt_snapshot *s, enum lt_weight w);

#endif
