// SPDX-License-Identifier: GPL-2.0
/*
 * realloc_grow: realloc corner cases.
 *
 * Ground truth at exit:
 *   grow_buffer          realloc, 1 allocation, 65536 bytes (grown from 16
 *                        by doubling at one call site; earlier sizes freed)
 *   grow_big             realloc, 1 allocation, 1048576 bytes (grown from
 *                        262144: glibc serves these with mmap and grows
 *                        them with mremap internally, which must not show
 *                        up as mmap/mremap sites)
 *   realloc_fail_origin  malloc, 1 allocation, 4096 bytes (the block that
 *                        a failing realloc in realloc_fail leaves alone)
 *   realloc_fail         nothing (its realloc fails)
 *   realloc_zero         nothing: malloc(777) then realloc(p, 0), which
 *                        glibc treats as free
 * The program itself never calls mmap or mremap.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common.h"

/* volatile: the compiler must not reason about these sizes. */
static volatile size_t grow_limit = 65536;
static volatile size_t big_limit = 1048576;
static volatile size_t huge_size = SIZE_MAX / 2;
static volatile size_t zero_size;

void *kept_grow;
void *kept_big;
void *kept_fail;
void *volatile zero_result;
int fail_ok;

NOINLINE void grow_buffer(void)
{
	void *p = NULL;
	size_t n;

	/* One realloc call site for every size, starting from NULL. */
	for (n = 16; n <= grow_limit; n *= 2)
		p = realloc(p, n);
	kept_grow = p;
}

NOINLINE void grow_big(void)
{
	void *p = NULL;
	size_t n;

	for (n = 262144; n <= big_limit; n *= 2)
		p = realloc(p, n);
	kept_big = p;
}

NOINLINE void realloc_fail_origin(void)
{
	kept_fail = malloc(4096);
}

NOINLINE void realloc_fail(void)
{
	void *q;

	realloc_fail_origin();
	q = realloc(kept_fail, huge_size);
	if (q)
		kept_fail = q;
	fail_ok = !q;
}

NOINLINE void realloc_zero(void)
{
	void *q = malloc(777);

	zero_result = realloc(q, zero_size);
}

int main(int argc, char **argv)
{
	target_start(argc, argv, 0);
	grow_buffer();
	grow_big();
	realloc_fail();
	realloc_zero();
	/* Tell whoever reads stderr that the ground truth does not hold. */
	if (!fail_ok)
		tgt_write(2, "realloc_grow: huge realloc worked\n");
	if (zero_result)
		tgt_write(2, "realloc_grow: realloc(p, 0) did not free\n");
	target_finish();
	return 0;
}
