// SPDX-License-Identifier: GPL-2.0
/*
 * CFI target, C: main -> run -> deep x6 -> remember_name -> strdup ->
 * malloc, strdup being Debian libc's (no frame pointers). Built with and
 * without frame pointers (cfi_chain, cfi_chain_nofp). Each batch keeps
 * BATCH names: one site, exactly BATCH allocations of 3 bytes per batch.
 * Protocol and options in cfi_chain.h.
 */
#include "cfi_chain.h"

static NOINLINE char *remember_name(int i, int keep)
{
	char name[4] = { 'n', (char)('0' + i % 10), '\0', '\0' };
	char *p = strdup(name);

	BARRIER();	/* work after the call: no tail call to strdup */
	if (keep)
		chain_kept[chain_nkept++ % (2 * BATCH)] = p;
	return p;
}

static NOINLINE char *deep(int d, int i, int keep)
{
	char *p = d ? deep(d - 1, i, keep) : remember_name(i, keep);

	BARRIER();
	return p;
}

static NOINLINE void run(int n, int keep)
{
	for (int i = 0; i < n; i++) {
		char *p = deep(CHAIN_DEPTH, i, keep);

		tgt_sink = p;
		if (!keep)
			free(p);
	}
}

static void bench(long n)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	run(n, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	chain_print_ns(((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--bench")) {
		bench(atol(argv[2]));
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--ref"))
		return chain_ref(run);
	target_start(argc, argv, 0);
	run(BATCH, 1);
	target_finish();
	return 0;
}
