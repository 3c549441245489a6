// SPDX-License-Identifier: GPL-2.0
/*
 * threads_stuck: threads that block forever, piling up at a steady rate,
 * next to an idle pool of fixed size.
 *
 * Options (besides --wait and --hold of common.h):
 *   --seconds N  spawn blockers for N seconds (default 4)
 *   --preblock   see below; not together with --wait
 *
 * After --wait's go (if any), start_pool() creates POOL_SIZE (4) pool_worker
 * threads that wait on pool_cond, which is never signalled.  Main then
 * locks held_lock for good, and every 0.25 s for --seconds N seconds
 * (4 * N rounds, on an absolute schedule: rounds at 0, 0.25, ...,
 * N - 0.25 s) creates one thread of each kind, each from its own NOINLINE
 * spawner calling pthread_create itself:
 *   spawn_pipe_blocker   block_on_pipe:  read() on a pipe nobody writes to
 *                                        (the write end stays open)
 *   spawn_mutex_blocker  block_on_mutex: pthread_mutex_lock(&held_lock)
 *   spawn_cond_blocker   block_on_cond:  pthread_cond_wait(&never_cond)
 * (never_cond and its mutex are not the pool's).  Then main sleeps --hold
 * SECS (after the N seconds) and exits.
 *
 * --preblock: the pool, then 6 blockers of each kind at once; "ready" is
 * printed only once all 22 threads have announced that they are about to
 * block, plus 0.5 s; then main sleeps until killed.  For attaching to a
 * process whose threads are already blocked.
 *
 * Threads name themselves (comm) so that tests can count them in
 * /proc/PID/task/TID/comm: "pool", "blk_pipe", "blk_mutex", "blk_cond".
 *
 * Ground truth, default run, once the N seconds are over: 4 pool threads,
 * 4 * N (16 for N = 4) of each blocker kind, 1 + 4 + 3 * 4 * N live threads
 * (49), every thread but main blocked forever.  Blocker counts grow by 4 a
 * second while spawning, the pool's never.  With --preblock: 4 pool
 * threads, exactly 6 of each blocker kind, 23 live threads.  Every thread
 * is joinable and none ever exits, so nothing is ever unjoined.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "common.h"

#define POOL_SIZE	4
#define PERIOD_MS	250
#define PREBLOCK_EACH	6
#define PREBLOCK_SETTLE	500
#define MAX_SECONDS	3600

static int pipe_fds[2];
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t never_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never_cond = PTHREAD_COND_INITIALIZER;
static int never_signalled;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static int pool_work;
pthread_t pool[POOL_SIZE];
/* Threads about to block (set just before the blocking call). */
static int about_to_block;

static void die(const char *what)
{
	tgt_write(2, "threads_stuck: ");
	tgt_write(2, what);
	tgt_write(2, "\n");
	exit(1);
}

static void usage(void)
{
	tgt_write(2, "usage: threads_stuck [--seconds N] [--preblock] [--wait] [--hold SECS]\n");
	exit(2);
}

static void starting(const char *name)
{
	prctl(PR_SET_NAME, name, 0, 0, 0);
}

static void announce_block(void)
{
	__atomic_add_fetch(&about_to_block, 1, __ATOMIC_SEQ_CST);
}

NOINLINE void *pool_worker(void *arg)
{
	(void)arg;
	starting("pool");
	pthread_mutex_lock(&pool_lock);
	announce_block();
	while (!pool_work)
		pthread_cond_wait(&pool_cond, &pool_lock);
	pthread_mutex_unlock(&pool_lock);
	return NULL;
}

NOINLINE void *block_on_pipe(void *arg)
{
	char c;

	(void)arg;
	starting("blk_pipe");
	announce_block();
	while (read(pipe_fds[0], &c, 1) < 0 && errno == EINTR)
		;
	BARRIER();
	return NULL;
}

NOINLINE void *block_on_mutex(void *arg)
{
	(void)arg;
	starting("blk_mutex");
	announce_block();
	pthread_mutex_lock(&held_lock);
	pthread_mutex_unlock(&held_lock);
	return NULL;
}

NOINLINE void *block_on_cond(void *arg)
{
	(void)arg;
	starting("blk_cond");
	pthread_mutex_lock(&never_lock);
	announce_block();
	while (!never_signalled)
		pthread_cond_wait(&never_cond, &never_lock);
	pthread_mutex_unlock(&never_lock);
	return NULL;
}

NOINLINE void start_pool(void)
{
	int i;

	for (i = 0; i < POOL_SIZE; i++)
		if (pthread_create(&pool[i], NULL, pool_worker, NULL))
			die("pthread_create failed");
	BARRIER();
}

NOINLINE void spawn_pipe_blocker(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, block_on_pipe, NULL))
		die("pthread_create failed");
	BARRIER();
}

NOINLINE void spawn_mutex_blocker(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, block_on_mutex, NULL))
		die("pthread_create failed");
	BARRIER();
}

NOINLINE void spawn_cond_blocker(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, block_on_cond, NULL))
		die("pthread_create failed");
	BARRIER();
}

NOINLINE void steady_spawning(unsigned int seconds)
{
	struct timespec next;
	unsigned int i;

	clock_gettime(CLOCK_MONOTONIC, &next);
	/* One call site per spawner: one creation stack per kind. */
#pragma GCC unroll 1
	for (i = 0; i < seconds * (1000 / PERIOD_MS); i++) {
		spawn_pipe_blocker();
		spawn_mutex_blocker();
		spawn_cond_blocker();
		tgt_next_round(&next, PERIOD_MS);
	}
}

NOINLINE void preblock(void)
{
	int i;

	for (i = 0; i < PREBLOCK_EACH; i++) {
		spawn_pipe_blocker();
		spawn_mutex_blocker();
		spawn_cond_blocker();
	}
	while (__atomic_load_n(&about_to_block, __ATOMIC_SEQ_CST) < POOL_SIZE + 3 * PREBLOCK_EACH)
		tgt_sleep_ms(10);
	/* From "about to" to asleep in the kernel. */
	tgt_sleep_ms(PREBLOCK_SETTLE);
	tgt_write(1, "ready\n");
	for (;;)
		tgt_sleep_ms(3600 * 1000UL);
}

int main(int argc, char **argv)
{
	char *rest[argc + 1];
	int i, nrest = 1, pre = 0, wait = 0;
	unsigned int seconds = 4;

	/* Own options out, the common ones on to target_start(). */
	rest[0] = argv[0];
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 0 || v > MAX_SECONDS)
				usage();
			seconds = (unsigned int)v;
		} else if (!strcmp(argv[i], "--preblock")) {
			pre = 1;
		} else {
			if (!strcmp(argv[i], "--wait"))
				wait = 1;
			rest[nrest++] = argv[i];
		}
	}
	rest[nrest] = NULL;
	if (pre && wait)
		usage();

	if (pipe(pipe_fds))
		die("pipe failed");
	target_start(nrest, rest, 0);
	start_pool();
	pthread_mutex_lock(&held_lock);
	if (pre)
		preblock();
	steady_spawning(seconds);
	target_finish();
	return 0;
}
