/* SPDX-License-Identifier: GPL-2.0 */
/* The files a report can be written to: JSON, folded stacks, pprof, SVG. */
#ifndef LEAKTOP_EXPORT_H
#define LEAKTOP_EXPORT_H

#include "output/render.h"
#include "model/snapshot.h"

struct export_opts {
	const char *json;	/* NULL, a path or "-" */
	const char *folded;
	const char *pprof;	/* memory and Go heap: a heap profile */
	const char *pprof_counts;	/* threads and goroutines: a count profile */
	const char *svg;
	enum lt_weight weight;	/* folded and SVG: bytes or counts for memory */
};

/* "bytes" or "count"; 0 or -EINVAL. */
int export_parse_weight(const char *arg, enum lt_weight *w);
/* Write every file asked for; 0, or -errno after a one-line message. */
int export_all(const struct export_opts *o, const struct lt_snapshot *s);

#endif
