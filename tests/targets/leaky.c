// SPDX-License-Identifier: GPL-2.0
/*
 * leaky: one real leak next to a lot of balanced traffic.
 *
 * Ground truth at exit:
 *   leak_site      malloc, 200 allocations, 200 * 1000 = 200000 bytes,
 *                  stack malloc <- leak_site <- do_leaks <- main
 *   balanced_work  malloc, 100000 allocations of 64..512 bytes (size
 *                  64 + (i * 37) % 449), all freed: nothing outstanding
 *
 * Also built with -fomit-frame-pointer as leaky_nofp.
 */
#include <stdlib.h>

#include "common.h"

#define LEAK_COUNT	200
#define LEAK_SIZE	1000
#define BALANCED_ROUNDS	100000
#define RING_SLOTS	16

void *leaks[LEAK_COUNT];
static void *ring[RING_SLOTS];

NOINLINE void leak_site(int i)
{
	leaks[i] = malloc(LEAK_SIZE);
}

NOINLINE void do_leaks(void)
{
	int i;

	for (i = 0; i < LEAK_COUNT; i++)
		leak_site(i);
	BARRIER();
}

/*
 * Frees hit a pseudo-random slot so that blocks die out of allocation
 * order, the way real programs interleave them.
 */
NOINLINE void balanced_work(void)
{
	unsigned int i, slot;

	for (i = 0; i < BALANCED_ROUNDS; i++) {
		size_t size = 64 + (i * 37) % 449;

		slot = (i * 2654435761u) >> 28;
		free(ring[slot]);
		ring[slot] = malloc(size);
	}
	for (slot = 0; slot < RING_SLOTS; slot++) {
		free(ring[slot]);
		ring[slot] = NULL;
	}
	BARRIER();
}

int main(int argc, char **argv)
{
	target_start(argc, argv, 0);
	do_leaks();
	balanced_work();
	target_finish();
	return 0;
}
