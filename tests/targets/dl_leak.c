// SPDX-License-Identifier: GPL-2.0
/*
 * libdl_leak.so: a library that lifecycle.c loads with dlopen only after
 * leaktop has attached.  dl_leak() leaks DL_LEAK_COUNT blocks of
 * DL_LEAK_SIZE bytes with malloc at dl_leak_site.
 */
#include <stdlib.h>

#include "dl_leak.h"

#define NOINLINE __attribute__((noinline, noclone))

void *dl_leaks[DL_LEAK_COUNT];

NOINLINE void dl_leak_site(int i)
{
	dl_leaks[i] = malloc(DL_LEAK_SIZE);
}

NOINLINE void dl_leak(void)
{
	for (int i = 0; i < DL_LEAK_COUNT; i++)
		dl_leak_site(i);
	asm volatile("" ::: "memory");
}
