// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark target: N blocks of 64 bytes (default 1000000) allocated from
 * 16 call stacks and kept, then "ready" written to READY_FILE, then idle
 * until killed. leaktop then tracks N outstanding allocations.
 * Usage: hold [N] [READY_FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SITES 16

/* Recursion depth = site, so each site has its own stack. */
__attribute__((noinline)) void *hold_alloc(int depth)
{
	void *p;

	if (depth > 0)
		p = hold_alloc(depth - 1);
	else
		p = malloc(64);
	asm volatile("" : : "r"(p) : "memory");
	return p;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	void **keep = calloc(n, sizeof(*keep));
	FILE *f;

	if (!keep)
		return 1;
	for (long i = 0; i < n; i++) {
		keep[i] = hold_alloc(i % SITES);
		if (!keep[i])
			return 1;
	}
	if (argc > 2) {
		f = fopen(argv[2], "w");
		if (!f)
			return 1;
		fprintf(f, "ready %ld\n", n);
		fclose(f);
	}
	for (;;)
		pause();
}
