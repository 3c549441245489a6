/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the CFI stack targets (cfi_chain.c, cfi_chain_cxx.cpp): a call
 * chain ten frames deep down to one allocation site, and the protocol of
 * the tests:
 *   --ref      print "ready", wait for a line without allocating anything
 *              (cfi_ref's breakpoint catches the first allocation after
 *              it), run one batch, print "done1"; wait for a line (with
 *              the heartbeat of --wait), one more batch, "done2"; exit
 *              after one more line
 *   --bench N  N allocate+free pairs through the chain; prints "ns/pair X"
 */
#ifndef LEAKTOP_CFI_CHAIN_H
#define LEAKTOP_CFI_CHAIN_H

#include "common.h"

#define CHAIN_DEPTH 6	/* deep() frames: with main, run, the site, ~10 */
#define BATCH 100

static void *chain_kept[2 * BATCH];
static int chain_nkept;

static inline int chain_read_line(void)
{
	char c;
	ssize_t n;

	while ((n = read(0, &c, 1)) == 1 && c != '\n')
		;
	return n >= 0;
}

static inline void chain_print_ns(double ns)
{
	char buf[64];
	unsigned long v = (unsigned long)(ns * 10);
	int i = sizeof(buf) - 1;

	buf[i--] = '\0';
	buf[i--] = '\n';
	buf[i--] = '0' + v % 10;
	buf[i--] = '.';
	v /= 10;
	do {
		buf[i--] = '0' + v % 10;
		v /= 10;
	} while (v);
	tgt_write(1, "ns/pair ");
	tgt_write(1, buf + i + 1);
}

/* --ref (see the top); run is the target's batch. */
static inline int chain_ref(void (*run)(int n, int keep))
{
	tgt_write(1, "ready\n");
	/* volatile: no unrolling, one call site of run for both batches,
	 * so that both have the same stack */
	for (volatile int k = 0; k < 2; k++) {
		if (k)
			tgt_wait_for_go();
		else
			chain_read_line();
		run(BATCH, 1);
		tgt_write(1, k ? "done2\n" : "done1\n");
	}
	tgt_wait_for_go();
	return 0;
}

#endif
