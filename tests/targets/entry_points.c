// SPDX-License-Identifier: GPL-2.0
/*
 * entry_points: one function per allocator entry point, each leaking a
 * distinct size so the sites can be told apart.  Every function calls its
 * entry point from a single call site in a loop.
 *
 * Ground truth at exit (caller, frames[0], allocations, bytes):
 *   use_malloc          malloc          3  3 * 1111   = 3333
 *   use_calloc          calloc          3  3 * 3000   = 9000  (3 x 1000)
 *   use_realloc_null    realloc         3  3 * 1313   = 3939
 *   use_reallocarray    reallocarray    3  3 * 1400   = 4200  (7 x 200)
 *   use_posix_memalign  posix_memalign  3  3 * 1515   = 4545
 *   use_aligned_alloc   aligned_alloc   3  3 * 1664   = 4992
 *   use_memalign        memalign        3  3 * 1717   = 5151
 *   use_valloc          valloc          3  3 * 1818   = 5454
 *   use_pvalloc         pvalloc         3  3 * 1919   = 5757  (requested
 *                                                       size, not rounded)
 *   use_mmap            mmap            3  3 * 5 pages (2 more unmapped)
 *   use_mremap          mremap          2  2 * 6 pages (from 2-page mmaps
 *                                          at the same function: nothing
 *                                          left at those)
 *   use_big_malloc      malloc          4  4 * 300000 = 1200000 (glibc
 *                                          mmaps these internally: no mmap
 *                                          site may come from that)
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "common.h"

#define REPEAT	3

static void *volatile null_ptr;
/* volatile loop bounds: an unrolled loop would make several call sites. */
static volatile int repeat = REPEAT;
static volatile int n_mmap = 5;
static volatile int n_mremap = 2;
static volatile int n_big = 4;

void *kept_malloc[REPEAT];
void *kept_calloc[REPEAT];
void *kept_realloc[REPEAT];
void *kept_reallocarray[REPEAT];
void *kept_posix_memalign[REPEAT];
void *kept_aligned_alloc[REPEAT];
void *kept_memalign[REPEAT];
void *kept_valloc[REPEAT];
void *kept_pvalloc[REPEAT];
void *kept_mmap[5];
void *kept_mremap[2];
void *kept_big[4];
int posix_memalign_rc;

NOINLINE void use_malloc(void)
{
	int i;

	for (i = 0; i < repeat; i++)
		kept_malloc[i] = malloc(1111);
}

NOINLINE void use_calloc(void)
{
	int i;

	for (i = 0; i < repeat; i++)
		kept_calloc[i] = calloc(3, 1000);
}

/* null_ptr is volatile so realloc(NULL, n) is not folded into malloc(n). */
NOINLINE void use_realloc_null(void)
{
	int i;

	for (i = 0; i < repeat; i++)
		kept_realloc[i] = realloc(null_ptr, 1313);
}

NOINLINE void use_reallocarray(void)
{
	int i;

	for (i = 0; i < repeat; i++)
		kept_reallocarray[i] = reallocarray(null_ptr, 7, 200);
}

NOINLINE void use_posix_memalign(void)
{
	int i;

	for (i = 0; i < repeat; i++)
		posix_memalign_rc |= posix_memalign(&kept_posix_memalign[i],
						    64, 1515);
}

NOINLINE void use_aligned_alloc(void)
{
	int i;

	for (i = 0; i < repeat; i++)
		kept_aligned_alloc[i] = aligned_alloc(64, 1664);
}

NOINLINE void use_memalign(void)
{
	int i;

	for (i = 0; i < repeat; i++)
		kept_memalign[i] = memalign(128, 1717);
}

NOINLINE void use_valloc(void)
{
	int i;

	for (i = 0; i < repeat; i++)
		kept_valloc[i] = valloc(1818);
}

NOINLINE void use_pvalloc(void)
{
	int i;

	for (i = 0; i < repeat; i++)
		kept_pvalloc[i] = pvalloc(1919);
}

/* Five maps from one call site, the last two unmapped again. */
NOINLINE void use_mmap(void)
{
	size_t len = 5 * (size_t)sysconf(_SC_PAGESIZE);
	int i;

	for (i = 0; i < n_mmap; i++)
		kept_mmap[i] = mmap(NULL, len, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (i = 3; i < 5; i++) {
		munmap(kept_mmap[i], len);
		kept_mmap[i] = NULL;
	}
	BARRIER();
}

NOINLINE void use_mremap(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int i;

	for (i = 0; i < n_mremap; i++) {
		void *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		kept_mremap[i] = mremap(p, 2 * page, 6 * page, MREMAP_MAYMOVE);
	}
	BARRIER();
}

NOINLINE void use_big_malloc(void)
{
	int i;

	for (i = 0; i < n_big; i++)
		kept_big[i] = malloc(300000);
	BARRIER();
}

int main(int argc, char **argv)
{
	target_start(argc, argv, 0);
	use_malloc();
	use_calloc();
	use_realloc_null();
	use_reallocarray();
	use_posix_memalign();
	use_aligned_alloc();
	use_memalign();
	use_valloc();
	use_pvalloc();
	use_mmap();
	use_mremap();
	use_big_malloc();
	target_finish();
	return 0;
}
