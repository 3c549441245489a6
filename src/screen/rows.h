/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rows of leaktop top: every group of every target's snapshot, flat,
 * with what a screen needs as text (kind, site, frames) and a growth rate
 * per second kept across refreshes (a group is known again by its target,
 * kind and stack text), so the screen never holds snapshot memory.
 */
#ifndef LEAKTOP_ROWS_H
#define LEAKTOP_ROWS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/idmap.h"
#include "model/snapshot.h"
#include "output/render.h"

enum rows_view { RV_ALL, RV_MEMORY, RV_THREADS, RV_GOROUTINES, RV_FDS, RV_N };
enum rows_sort { RS_LEAKS, RS_SIZE, RS_GROWTH, RS_AGE, RS_N };

struct row {
	uint64_t key;		/* target, kind and stack: the same group next time */
	pid_t pid;
	char comm[16];
	enum lt_section sec;
	char kind[32];		/* "memory", "threads:blocked", "fds:socket"... */
	int64_t bytes, count;
	bool by_bytes;		/* memory sections: size and growth are bytes */
	double growth;		/* per second, smoothed over a few refreshes */
	double age_s;		/* of its oldest member */
	bool leak;
	char why[192];
	char site[160];		/* "leak_site < do_leaks < main": the program's frames */
	int nframes;		/* stack, then "created by" and its frames */
	char **frames;
};

/* A target's totals, for the screen's header. */
struct rows_target {
	pid_t pid;
	char comm[16];
	double duration_s;
	int64_t bytes;
	int live_threads, goroutines, fds_open;
	uint64_t lost;		/* events lost by every tracer */
};

struct rows {
	struct row *v;
	int n;
	struct rows_target *targets;
	int ntargets;
	struct idmap memo;	/* key -> struct rate */
	double t;		/* when the rows were made */
};

/* Replace the rows by the groups of snaps[0..n) taken at now (mono s). */
int rows_update(struct rows *r, const struct lt_snapshot *snaps, int n, double now);
/* Likely leaks first then size; size (bytes, then count); growth; age. */
void rows_sort(struct rows *r, enum rows_sort by);
bool rows_in_view(const struct row *w, enum rows_view v);
const char *rows_view_name(enum rows_view v);
const char *rows_sort_name(enum rows_sort s);
void rows_free(struct rows *r);

#endif
