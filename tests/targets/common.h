/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared start/finish logic of the leaktop test targets.
 *
 * Every target accepts:
 *   --wait       print "ready", then block until a line (or EOF) arrives on
 *                stdin or SIGUSR1 is received, so a test can attach with -p
 *   --hold SECS  sleep SECS seconds after the work, before exiting
 *   --busy       (idle only) churn balanced malloc/free between leaks
 *
 * Only raw syscalls (write/read/poll/nanosleep) are used here: stdio would
 * malloc its buffers and blur the ground truth of the targets.
 */
#ifndef LEAKTOP_TEST_COMMON_H
#define LEAKTOP_TEST_COMMON_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * noclone too: a ".constprop.0"/".isra.0" clone would change the symbol
 * name that the tests look for.
 */
#define NOINLINE __attribute__((noinline, noclone))

/* Placed after a call, keeps the compiler from turning it into a jump. */
#define BARRIER() asm volatile("" ::: "memory")

struct target_opts {
	int wait;
	int busy;
	unsigned int hold;
};

static struct target_opts tgt_opts;
static volatile sig_atomic_t tgt_go;
/* Stores through this keep malloc/free pairs from being optimised out. */
static void *volatile tgt_sink;

static inline void tgt_on_usr1(int sig)
{
	(void)sig;
	tgt_go = 1;
}

static inline void tgt_write(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= n;
	}
}

static inline void tgt_usage(const char *prog)
{
	tgt_write(2, "usage: ");
	tgt_write(2, prog);
	tgt_write(2, " [--wait] [--hold SECS] [--busy]\n");
	exit(2);
}

static inline void tgt_sleep_ms(unsigned long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Steady rounds: *next (CLOCK_MONOTONIC) moves on by ms, then we sleep until
 * it, so that a slow round does not slow the rate. */
static inline void tgt_next_round(struct timespec *next, long ms)
{
	next->tv_nsec += ms * 1000000L;
	while (next->tv_nsec >= 1000000000L) {
		next->tv_nsec -= 1000000000L;
		next->tv_sec++;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR)
		;
}

/*
 * Heartbeat while waiting: a probed, balanced malloc/free every 50 ms makes
 * the kernel map "[uprobes]" into the target once leaktop is attached, which
 * is how the tests tell that attaching is done.  Nothing stays outstanding.
 */
static NOINLINE void wait_tick(void)
{
	void *p = malloc(16);

	tgt_sink = p;
	free(p);
}

static inline void tgt_wait_for_go(void)
{
	char c;

	while (!tgt_go) {
		struct pollfd pfd;
		int n;

		pfd.fd = 0;
		pfd.events = POLLIN;
		pfd.revents = 0;
		n = poll(&pfd, 1, 50);
		if (n < 0 && errno != EINTR)
			return;
		if (n > 0) {
			/* Consume one line; EOF also means go. */
			while (read(0, &c, 1) == 1 && c != '\n')
				;
			return;
		}
		wait_tick();
	}
}

/*
 * Parse the common options and do the --wait handshake.  always_ready is
 * set by targets that print "ready" even without --wait (idle).
 */
static inline void target_start(int argc, char **argv, int always_ready)
{
	struct sigaction sa;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--wait")) {
			tgt_opts.wait = 1;
		} else if (!strcmp(argv[i], "--busy")) {
			tgt_opts.busy = 1;
		} else if (!strcmp(argv[i], "--hold") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 0)
				tgt_usage(argv[0]);
			tgt_opts.hold = (unsigned int)v;
		} else {
			tgt_usage(argv[0]);
		}
	}

	/* No SA_RESTART: SIGUSR1 must interrupt the poll() above. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tgt_on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	if (tgt_opts.wait || always_ready)
		tgt_write(1, "ready\n");
	if (tgt_opts.wait)
		tgt_wait_for_go();
}

static inline void target_finish(void)
{
	if (tgt_opts.hold)
		tgt_sleep_ms(tgt_opts.hold * 1000UL);
}

#endif /* LEAKTOP_TEST_COMMON_H */
