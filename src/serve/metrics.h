/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus text exposition (format 0.0.4) of the served views: metric
 * samples are collected per target from a snapshot, and rendered family by
 * family across targets (the format wants a family's series together).
 */
#ifndef LEAKTOP_METRICS_H
#define LEAKTOP_METRICS_H

#include "lib/bytebuf.h"
#include "model/snapshot.h"
#include "serve/board.h"

/* The bounded set of sites labelled per target and section. */
#define METRICS_TOP_SITES 5

/* v->samples from s. 0 or -ENOMEM. */
int metrics_collect(struct view *v, const struct lt_snapshot *s);
/* The whole exposition of g (NULL: no views yet) into out. */
void metrics_render(struct bytebuf *out, const struct generation *g);

#endif
