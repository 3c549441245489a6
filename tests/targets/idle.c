// SPDX-License-Identifier: GPL-2.0
/*
 * idle: a long-running target for -p attach, duration, interval, signal
 * and --min-age tests.  Prints "ready" at once (then, with --wait, waits
 * for the go), then every 0.1 s leaks 50 blocks of 512 bytes in
 * late_leak(), until killed.
 *
 * Ground truth: every outstanding block is a 512-byte malloc at late_leak,
 * so for any tracing window bytes == 512 * allocations at late_leak, and
 * allocations grow by about 500 per second.  Nothing is ever freed.
 */
#include <stdlib.h>

#include "common.h"

#define BATCH		50
#define BLOCK_SIZE	512
#define PERIOD_MS	100

/* Blocks are chained through their first word to stay reachable. */
static void *chain;

NOINLINE void late_leak(void)
{
	int i;

	for (i = 0; i < BATCH; i++) {
		void **p = malloc(BLOCK_SIZE);

		*p = chain;
		chain = p;
	}
}

int main(int argc, char **argv)
{
	target_start(argc, argv, 1);
	for (;;) {
		late_leak();
		tgt_sleep_ms(PERIOD_MS);
	}
	return 0;
}
