// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark target: N x (malloc(32) through a noinline wrapper, touch,
 * free), timed inside the process so attach and start-up are excluded.
 * Prints "ns_per_pair <wall> cpu_ns_per_pair <cpu>": wall time
 * (CLOCK_MONOTONIC) and the process's CPU time, which includes the uprobe
 * traps and BPF programs run on its behalf but not the time other tasks
 * held the CPU, so it stays meaningful on a busy machine.
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

static double ns_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e9 + (b->tv_nsec - a->tv_nsec);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	struct timespec a, b, ca, cb;

	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
	for (long i = 0; i < n; i++) {
		char *p = bench_alloc(32);

		p[0] = (char)i;
		free(p);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("ns_per_pair %.1f cpu_ns_per_pair %.1f\n", ns_between(&a, &b) / n,
	       ns_between(&ca, &cb) / n);
	return 0;
}
