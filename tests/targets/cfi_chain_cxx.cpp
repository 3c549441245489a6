// SPDX-License-Identifier: GPL-2.0
/*
 * CFI target, C++: main -> run -> deep x6 -> Cache::remember -> operator
 * new (libstdc++, no frame pointers) -> malloc. Built with and without
 * frame pointers (cfi_chain_cxx, cfi_chain_cxx_nofp). Each batch keeps
 * BATCH entries of 48 bytes: one site. Protocol in cfi_chain.h.
 */
#include "cfi_chain.h"

struct Entry {
	int key;
	char pad[44];
};

class Cache {
public:
	NOINLINE Entry *remember(int key, int keep)
	{
		Entry *e = new Entry();

		e->key = key;
		BARRIER();
		if (keep)
			chain_kept[chain_nkept++ % (2 * BATCH)] = e;
		return e;
	}
};

static Cache cache;

static NOINLINE Entry *deep(int d, int i, int keep)
{
	Entry *e = d ? deep(d - 1, i, keep) : cache.remember(i, keep);

	BARRIER();
	return e;
}

static NOINLINE void run(int n, int keep)
{
	for (int i = 0; i < n; i++) {
		Entry *e = deep(CHAIN_DEPTH, i, keep);

		tgt_sink = e;
		if (!keep)
			delete e;
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--ref"))
		return chain_ref(run);
	target_start(argc, argv, 0);
	run(BATCH, 1);
	target_finish();
	return 0;
}
