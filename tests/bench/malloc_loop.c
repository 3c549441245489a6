// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark target: N x (malloc(32) through a noinline wrapper, touch,
 * free), timed inside the process with CLOCK_MONOTONIC so attach and
 * start-up are excluded. Prints "ns_per_pair <value>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((noinline)) void *bench_alloc(size_t n)
{
	void *p = malloc(n);

	asm volatile("" : : "r"(p) : "memory");
	return p;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		char *p = bench_alloc(32);

		p[0] = (char)i;
		free(p);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("ns_per_pair %.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
