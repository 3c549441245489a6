// SPDX-License-Identifier: GPL-2.0
/*
 * threads_unjoined: joinable threads that exit and are never joined, next
 * to threads that are joined or detached in the three usual ways.
 *
 * In this order, each from its own NOINLINE spawner that calls
 * pthread_create itself:
 *   spawn_unjoined       5 joinable threads running short_task(), which
 *                        returns at once; never joined, never detached
 *   spawn_joined         3 threads, joined about 200 ms after they exited
 *                        (well within --min-block 1: listed at most while
 *                        waiting, never a leak, gone once joined)
 *   spawn_detached       3 threads, pthread_detach()ed right after
 *                        pthread_create (each may or may not have exited
 *                        yet: either way never unjoined)
 *   spawn_detached_attr  2 threads created with PTHREAD_CREATE_DETACHED
 * Then main waits until it is the only thread left (every thread above has
 * exited), and sleeps --hold SECS (default 0) before exiting.
 *
 * Ground truth during the hold and at exit:
 *   unjoined: exactly 5 threads, all with the creation stack
 *             pthread_create <- spawn_unjoined <- main, each still keeping
 *             its stack mapped (glibc frees it at join only)
 *   no unjoined thread created by spawn_joined, spawn_detached or
 *   spawn_detached_attr; 1 live thread (main, sleeping in nanosleep)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>

#include "common.h"

#define N_UNJOINED	5
#define N_JOINED	3
#define N_DETACHED	3
#define N_DETACHED_ATTR	2
#define JOIN_DELAY_MS	200
#define EXIT_WAIT_MS	5000

/* Kept so that nothing could join them; never used again. */
pthread_t unjoined[N_UNJOINED];
static volatile long task_sink;

static void die(const char *what)
{
	tgt_write(2, "threads_unjoined: ");
	tgt_write(2, what);
	tgt_write(2, " failed\n");
	exit(1);
}

NOINLINE void *short_task(void *arg)
{
	task_sink = (long)arg;
	return NULL;
}

NOINLINE void spawn_unjoined(void)
{
	long i;

	/* One pthread_create call site: one creation stack for all 5. */
#pragma GCC unroll 1
	for (i = 0; i < N_UNJOINED; i++)
		if (pthread_create(&unjoined[i], NULL, short_task, (void *)i))
			die("pthread_create");
	BARRIER();
}

NOINLINE void spawn_joined(void)
{
	pthread_t t[N_JOINED];
	long i;

	for (i = 0; i < N_JOINED; i++)
		if (pthread_create(&t[i], NULL, short_task, (void *)i))
			die("pthread_create");
	/* Let them exit first: exited, not yet joined, then joined. */
	tgt_sleep_ms(JOIN_DELAY_MS);
	for (i = 0; i < N_JOINED; i++)
		if (pthread_join(t[i], NULL))
			die("pthread_join");
	BARRIER();
}

NOINLINE void spawn_detached(void)
{
	pthread_t t;
	long i;

	for (i = 0; i < N_DETACHED; i++) {
		if (pthread_create(&t, NULL, short_task, (void *)i))
			die("pthread_create");
		if (pthread_detach(t))
			die("pthread_detach");
	}
	BARRIER();
}

NOINLINE void spawn_detached_attr(void)
{
	pthread_attr_t attr;
	pthread_t t;
	long i;

	if (pthread_attr_init(&attr) ||
	    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED))
		die("pthread_attr");
	for (i = 0; i < N_DETACHED_ATTR; i++)
		if (pthread_create(&t, &attr, short_task, (void *)i))
			die("pthread_create");
	pthread_attr_destroy(&attr);
	BARRIER();
}

/* "Threads:" of /proc/self/status, read with raw syscalls; -1 on error. */
static int live_threads(void)
{
	char buf[8192], *p;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	p = strstr(buf, "\nThreads:");
	return p ? atoi(p + strlen("\nThreads:")) : -1;
}

/* Until main is the only thread: the detached ones are gone too. */
static void wait_for_exits(void)
{
	unsigned int waited;

	for (waited = 0; waited < EXIT_WAIT_MS; waited += 10) {
		if (live_threads() == 1)
			return;
		tgt_sleep_ms(10);
	}
	die("waiting for the threads to exit");
}

int main(int argc, char **argv)
{
	target_start(argc, argv, 0);
	spawn_unjoined();
	spawn_joined();
	spawn_detached();
	spawn_detached_attr();
	wait_for_exits();
	target_finish();
	return 0;
}
