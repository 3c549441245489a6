/* SPDX-License-Identifier: GPL-2.0 */
/* Renderings of what changed between snapshots (src/diff.h). */
#ifndef LEAKTOP_RENDER_DIFF_H
#define LEAKTOP_RENDER_DIFF_H

#include <stdbool.h>
#include <stdio.h>
#include "model/diff.h"

/* The interval diff table: change since the previous report and since the
 * first, per group, largest growth first; top rows at most. */
void render_diff_table(FILE *f, const struct lt_diff *prev, const struct lt_diff *first,
		       int top);
/* The snapshots a live session diffs against. */
struct diff_history {
	struct lt_snapshot first, prev;
	bool have_first;
};

/*
 * With -i: the first snapshot is kept; every later one gets the diff table
 * against the previous and the first, then becomes the previous. Takes
 * snap over (leaves it empty).
 */
void render_changes(FILE *f, struct diff_history *h, struct lt_snapshot *snap, int top);
void diff_history_free(struct diff_history *h);
/* A two-snapshot diff as JSON (leaktop diff --json). */
void render_diff_json(FILE *f, const struct lt_diff *d);

#endif
