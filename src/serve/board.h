/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What --listen serves: the board holds the newest generation of views,
 * one view per target (metric samples and two pprof profiles, rendered by
 * the session from a snapshot). The session publishes a whole generation
 * at once; HTTP threads take a reference to it and never touch session
 * state, so a slow client holds an old generation, not the tracer.
 */
#ifndef LEAKTOP_BOARD_H
#define LEAKTOP_BOARD_H

#include <stdbool.h>
#include <sys/types.h>
#include "lib/bytebuf.h"
#include "model/snapshot.h"

#define VIEW_LABELS 200

/* One metric series of a target: its family (serve/metrics.c) and the
 * labels beyond pid and comm, preformatted ("kind=\"socket\""). */
struct msample {
	int family;
	char labels[VIEW_LABELS];
	double value;
};

struct view {
	pid_t pid;
	char comm[32];
	double age_s;		/* how old its numbers were when published */
	struct msample *samples;
	int nsamples;
	struct bytebuf heap;	/* gzipped pprof heap profile */
	struct bytebuf counts;	/* gzipped pprof goroutine (count) profile */
};

struct generation {
	int refs;
	double mono;		/* when it was published */
	struct view *views;
	int nviews;
	pid_t helpers[256];	/* daemon: the session processes, counted as leaktop's own */
	int nhelpers;
};

struct board;

/* on_demand: a request finding the views older than a second asks the
 * session for new ones (board_fd) and waits up to two seconds for them. */
struct board *board_new(bool on_demand);
void board_free(struct board *b);
/* Readable when a client wants newer views; board_demand() reads it. */
int board_fd(const struct board *b);
/* True (once) when a client asked for newer views since the last call. */
bool board_demand(struct board *b);
/* Take views[0..n) (and their buffers) as the new generation. */
void board_publish(struct board *b, struct view *views, int n, const pid_t *helpers,
		   int nhelpers);
/* The newest generation, referenced (NULL before the first); put it back. */
struct generation *board_get(struct board *b);
void board_put(struct board *b, struct generation *g);

/* A view of snapshot s: its metric samples and both profiles. 0 or -errno. */
int view_make(struct view *v, const struct lt_snapshot *s);
void view_free(struct view *v);

#endif
