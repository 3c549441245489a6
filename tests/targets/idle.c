// SPDX-License-Identifier: GPL-2.0
/*
 * idle: a long-running target for -p attach, duration, interval, signal
 * and --min-age tests.  Prints "ready" at once (then, with --wait, waits
 * for the go), then every 0.1 s leaks 50 blocks of 512 bytes in
 * late_leak(), until killed.
 *
 * With --busy the 0.1 s between batches is spent in busy_churn(), mallocs
 * of 512 bytes freed again in a tight loop, instead of sleeping: attaching
 * then lands in the middle of allocator calls, as with a busy server.
 *
 * Ground truth: every outstanding block is a 512-byte malloc at late_leak,
 * so for any tracing window bytes == 512 * allocations at late_leak, and
 * allocations grow by about 500 per second.  Nothing is ever freed.
 * busy_churn holds at most CHURN_SLOTS (16) blocks of 512 bytes at a time.
 */
#include <stdlib.h>

#include "common.h"

#define BATCH		50
#define BLOCK_SIZE	512
#define PERIOD_MS	100
#define CHURN_SLOTS	16

/* Blocks are chained through their first word to stay reachable. */
static void *chain;
static void *churn_ring[CHURN_SLOTS];

NOINLINE void late_leak(void)
{
	int i;

	for (i = 0; i < BATCH; i++) {
		void **p = malloc(BLOCK_SIZE);

		*p = chain;
		chain = p;
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

NOINLINE void busy_churn(unsigned int ms)
{
	double end = now_ms() + ms;
	unsigned int i = 0;

	while (now_ms() < end) {
		/* Few clock reads: keep the loop allocator bound. */
		for (int j = 0; j < 64; j++, i++) {
			unsigned int slot = i % CHURN_SLOTS;

			free(churn_ring[slot]);
			churn_ring[slot] = malloc(BLOCK_SIZE);
		}
	}
	BARRIER();
}

int main(int argc, char **argv)
{
	target_start(argc, argv, 1);
	for (;;) {
		late_leak();
		if (tgt_opts.busy)
			busy_churn(PERIOD_MS);
		else
			tgt_sleep_ms(PERIOD_MS);
	}
	return 0;
}
