// SPDX-License-Identifier: GPL-2.0
/* The run loop shared by every trace session (session/run.h). */
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "lib/clock.h"
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

/* Returns when it is time for the final report. */
static void run_loop(struct run *r, const struct session_ops *ops, void *s, int sfd)
{
	const struct options *o = r->opt;
	double next_tick = mono_s(), next_table = r->start + o->interval_s;
	double end = o->duration_s ? r->start + o->duration_s : 0;

	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = r->target ? r->target->pidfd : -1,
					 .events = POLLIN } };
		double t = mono_s(), wake = next_tick;

		if (o->interval_s && next_table < wake)
			wake = next_table;
		if (end && end < wake)
			wake = end;
		poll(p, 2, wake > t ? (int)((wake - t) * 1000) + 1 : 0);
		if (stop_signal(sfd) || target_gone(r, ops, s))
			return;
		t = mono_s();
		if (end && t >= end)
			return;
		if (t >= next_tick) {
			ops->tick(s);
			next_tick = t + TICK_S;
		}
		if (o->interval_s && t >= next_table) {
			ops->report(s, false);
			next_table += o->interval_s;
		}
	}
}

int session_run(struct run *r, const struct session_ops *ops, void *s)
{
	int sfd, err;

	if (tracers_check_privileges(r->opt))
		return 1;
	sfd = session_signals();
	err = ops->start(s);
	r->start = mono_s();
	if (!err) {
		run_loop(r, ops, s, sfd);
		ops->tick(s);
		ops->report(s, true);
	}
	ops->finish(s);
	close(sfd);
	return err;
}
