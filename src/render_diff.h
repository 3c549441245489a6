/* SPDX-License-Identifier: GPL-2.0 */
/* Renderings of what changed between snapshots (src/diff.h). */
#ifndef LEAKTOP_RENDER_DIFF_H
#define LEAKTOP_RENDER_DIFF_H

#include <stdio.h>
#include "diff.h"

/* The interval diff table: change since the previous report and since the
 * first, per group, largest growth first; top rows at most. */
void render_diff_table(FILE *f, const struct lt_diff *prev, const struct lt_diff *first,
		       int top);
/* A two-snapshot diff as JSON (leaktop diff --json). */
void render_diff_json(FILE *f, const struct lt_diff *d);

#endif
