// SPDX-License-Identifier: GPL-2.0
/*
 * storm: an allocation storm with exact counts.
 *
 * Usage: storm THREADS KEEP CHURN [--wait] [--hold SECS]
 *
 * THREADS threads are started (each makes one malloc/free first, so that
 * its malloc arena exists) before "ready" is printed.  After the --wait
 * handshake, in two phases separated by a barrier:
 *   keep   every thread mallocs KEEP blocks of KEEP_SIZE (32) bytes at
 *          keep_site and keeps them all;
 *   churn  every thread mallocs and frees CHURN blocks of CHURN_SIZE (48)
 *          bytes at churn_site, one at a time.
 * Then main prints "done" and, with --wait, waits for a line or EOF on
 * stdin, frees nothing and exits 0 (or sleeps --hold SECS first).
 *
 * Ground truth after the handshake: THREADS * (KEEP + CHURN) mallocs,
 * THREADS * CHURN frees, THREADS * KEEP blocks outstanding at keep_site,
 * none at churn_site, and no other allocator call until "done".  With the
 * per-address map full by the end of the keep phase, every churn malloc
 * is lost: tracked + lost == THREADS * (KEEP + CHURN).
 */
#include <pthread.h>
#include <stdlib.h>

#include "common.h"

#define KEEP_SIZE	32
#define CHURN_SIZE	48
#define MAX_THREADS	64

static long keep_n, churn_n;
static pthread_barrier_t start_line, half_way;

struct worker {
	pthread_t tid;
	void **blocks;
};

static NOINLINE void keep_site(void **blocks, long n)
{
	for (long i = 0; i < n; i++)
		blocks[i] = malloc(KEEP_SIZE);
	BARRIER();
}

static NOINLINE void churn_site(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(CHURN_SIZE);

		tgt_sink = p;
		free(p);
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;

	free(malloc(CHURN_SIZE));	/* the thread's arena, before attach */
	pthread_barrier_wait(&start_line);
	keep_site(w->blocks, keep_n);
	pthread_barrier_wait(&half_way);
	churn_site(churn_n);
	return NULL;
}

static long number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 0)
		tgt_usage("storm THREADS KEEP CHURN");
	return v;
}

int main(int argc, char **argv)
{
	static struct worker w[MAX_THREADS];
	long threads;

	if (argc < 4)
		tgt_usage("storm THREADS KEEP CHURN");
	threads = number(argv[1]);
	keep_n = number(argv[2]);
	churn_n = number(argv[3]);
	if (threads < 1 || threads > MAX_THREADS)
		tgt_usage("storm THREADS KEEP CHURN");
	pthread_barrier_init(&start_line, NULL, threads + 1);
	pthread_barrier_init(&half_way, NULL, threads);
	for (long i = 0; i < threads; i++) {
		w[i].blocks = malloc((keep_n ? keep_n : 1) * sizeof(void *));
		if (!w[i].blocks || pthread_create(&w[i].tid, NULL, work, &w[i]))
			return 1;
	}
	argv[3] = argv[0];
	target_start(argc - 3, argv + 3, 0);
	pthread_barrier_wait(&start_line);
	for (long i = 0; i < threads; i++)
		pthread_join(w[i].tid, NULL);
	tgt_write(1, "done\n");
	if (tgt_opts.wait) {
		char c;

		while (read(0, &c, 1) == 1 && c != '\n')
			;
	}
	target_finish();
	return 0;
}
