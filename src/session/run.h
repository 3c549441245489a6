/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one run loop of every trace session: one process (-p, -- CMD, and
 * each daemon session, a child `leaktop trace -p`) or every process (-a).
 * Ticks every second, reports on the interval, and ends on SIGINT, SIGTERM
 * or SIGHUP, at --duration's end or when the target exits.
 */
#ifndef LEAKTOP_RUN_H
#define LEAKTOP_RUN_H

#include <stdbool.h>
#include "cli/options.h"
#include "model/snapshot.h"
#include "target/target.h"

struct board;
struct http_server;
struct screen;

struct session_ops {
	/* Take the target, load and attach: 0, or the exit status. */
	int (*start)(void *s);
	/* Every second, and once more at the end while the target lives:
	 * symbolize what is new while the mappings can still be read. */
	void (*tick)(void *s);
	/* On the interval, and once at the end (final). */
	void (*report)(void *s, bool final);
	/* Detach and free; also after a failed start. */
	void (*finish)(void *s);
	/* A client of --listen wants fresh numbers: snapshots for session_show. */
	void (*publish)(void *s);
};

struct run {
	const struct options *opt;
	struct target *target;	/* its exit ends the run; NULL: none (-a) */
	double start;		/* mono_s() when tracing began */
	struct board *board;	/* --listen: where views are published */
	struct http_server *http;
	struct screen *screen;	/* leaktop top: the live screen */
	int stats_fd;		/* --production: BPF run statistics held on */
	struct lt_cost cost;	/* --production: what the probes took so far */
};

/* Privileges, start, the loop, the final report, finish: the exit status. */
int session_run(struct run *r, const struct session_ops *ops, void *s);

/* Hand a report's snapshots (one per target) to whoever watches live:
 * the --listen board and the top screen. */
void session_show(struct run *r, const struct lt_snapshot *snaps, int n);

/* Block the signals that end a session (and SIGCHLD) and read them from
 * the returned signalfd; the mask before is kept in target_sigmask. */
int session_signals(void);

#endif
