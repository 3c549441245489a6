// SPDX-License-Identifier: GPL-2.0
/* The run loop shared by every trace session (session/run.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "lib/clock.h"
#include "screen/screen.h"
#include "serve/board.h"
#include "serve/http.h"
#include "session/overhead.h"
#include "session/run.h"
#include "session/tracers.h"

#define TICK_S 1.0

int session_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);	/* the terminal went away: still clean up */
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &target_sigmask);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* True when a signal other than SIGCHLD came: the session ends. */
static bool stop_signal(int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo != SIGCHLD)
			return true;
	return false;
}

/* The target's news: 1 when it is gone. At its exit stop its mappings
 * still exist: one more tick reads them before it goes. */
static bool target_gone(struct run *r, const struct session_ops *ops, void *s)
{
	int state;

	if (!r->target)
		return false;
	state = target_wait(r->target);
	if (state == TARGET_EXITING) {
		ops->tick(s);
		target_continue(r->target);
		return false;
	}
	return state == TARGET_EXITED;
}

/* A live watcher's news: a client wanting fresh views, keys pressed (or
 * a resize, which interrupts poll). True when the user quit. */
static bool watchers(struct run *r, const struct session_ops *ops, void *s,
		     const struct pollfd *p, int polled)
{
	if (board_demand(r->board) && ops->publish) {
		overhead_update(r);
		ops->publish(s);
	}
	if (r->screen && (polled < 0 || p[3].revents))
		return !screen_input(r->screen);
	return false;
}

static void report(struct run *r, const struct session_ops *ops, void *s, bool final)
{
	overhead_update(r);
	ops->report(s, final);
	if (final || r->opt->interval_s)
		overhead_say(r);
}

/* Returns when it is time for the final report. */
static void run_loop(struct run *r, const struct session_ops *ops, void *s, int sfd)
{
	const struct options *o = r->opt;
	double next_tick = mono_s(), next_table = r->start + o->interval_s;
	double end = o->duration_s ? r->start + o->duration_s : 0;

	for (;;) {
		struct pollfd p[4] = { { .fd = sfd, .events = POLLIN },
				       { .fd = r->target ? r->target->pidfd : -1,
					 .events = POLLIN },
				       { .fd = board_fd(r->board), .events = POLLIN },
				       { .fd = r->screen ? 0 : -1, .events = POLLIN } };
		double t = mono_s(), wake = next_tick;
		int polled;

		if (o->interval_s && next_table < wake)
			wake = next_table;
		if (end && end < wake)
			wake = end;
		polled = poll(p, 4, wake > t ? (int)((wake - t) * 1000) + 1 : 0);
		if (stop_signal(sfd) || target_gone(r, ops, s) || watchers(r, ops, s, p, polled))
			return;
		t = mono_s();
		if (end && t >= end)
			return;
		if (t >= next_tick) {
			ops->tick(s);
			next_tick = t + TICK_S;
		}
		if (o->interval_s && t >= next_table) {
			report(r, ops, s, false);
			next_table += o->interval_s;
		}
	}
}

void session_show(struct run *r, const struct lt_snapshot *snaps, int n)
{
	struct view *views;
	int k = 0;

	if (r->screen)
		screen_update(r->screen, snaps, n);
	if (!r->board)
		return;
	views = calloc(n ? n : 1, sizeof(*views));
	if (!views)
		return;
	for (int i = 0; i < n; i++)
		if (!view_make(&views[k], &snaps[i]))
			k++;
	board_publish(r->board, views, k, NULL, 0);
}

/* --listen: the server runs before anything is attached, so a port in
 * use is bad input with nothing to undo. */
static int serve_start(struct run *r)
{
	if (!r->opt->listen)
		return 0;
	r->board = board_new(true);
	if (!r->board)
		return -ENOMEM;
	r->http = http_start(r->opt->listen, r->board);
	return r->http ? 0 : -EINVAL;
}

static void serve_stop(struct run *r)
{
	http_stop(r->http);
	board_free(r->board);
	r->http = NULL;
	r->board = NULL;
}

int session_run(struct run *r, const struct session_ops *ops, void *s)
{
	int sfd, err;

	if (tracers_check_privileges(r->opt))
		return 1;
	/* Signals blocked first: the server's threads inherit the mask. */
	sfd = session_signals();
	if (serve_start(r)) {
		serve_stop(r);
		close(sfd);
		return EXIT_BAD_INPUT;
	}
	overhead_start(r);
	err = ops->start(s);
	r->start = mono_s();
	if (!err)
		overhead_expect(r);
	if (!err && r->opt->screen && !(r->screen = screen_new(r->opt)))
		err = 1;
	if (!err) {
		if (r->screen)	/* the first rows now, not in a second */
			report(r, ops, s, false);
		run_loop(r, ops, s, sfd);
		/* The terminal back before the final report and its exports. */
		screen_free(r->screen);
		r->screen = NULL;
		ops->tick(s);
		report(r, ops, s, true);
	}
	ops->finish(s);
	overhead_stop(r);
	serve_stop(r);
	close(sfd);
	return err;
}
