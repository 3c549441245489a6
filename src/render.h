/* SPDX-License-Identifier: GPL-2.0 */
/* Renderings of a snapshot: one function per output format. */
#ifndef LEAKTOP_RENDER_H
#define LEAKTOP_RENDER_H

#include <stdio.h>
#include "snapshot.h"

/* Top-N table of allocation sites, 80 columns wide. */
void render_table(FILE *f, const struct lt_snapshot *s, int top);
/* The JSON report (docs/json-report.md). */
void render_json(FILE *f, const struct lt_snapshot *s);
/* "12.3 KiB" style, into buf. */
const char *human_bytes(double bytes, char *buf, size_t len);

#endif
