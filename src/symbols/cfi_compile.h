/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Compile an object's .eh_frame into the unwind rows the BPF walker reads
 * (include/cfi.h): one row per change of the CFA or rbp rule, sorted by
 * pc, gaps between functions as LT_CFA_NONE rows.
 */
#ifndef LEAKTOP_CFI_COMPILE_H
#define LEAKTOP_CFI_COMPILE_H

#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>
#include "cfi.h"

struct cfi_table {
	struct lt_cfi_row *rows;
	uint32_t n;
	bool fp;	/* every rule is a frame-pointer one (see LT_CFI_FP) */
	uint32_t unsupported;	/* rows we cannot follow (made LT_CFA_NONE) */
};

/* 0, or -ENOENT (no .eh_frame_hdr), -ENOTSUP (an encoding we do not
 * read), -ENOMEM; t->rows is the caller's to free. */
int cfi_compile(Elf *elf, struct cfi_table *t);

/* 0 when every CFA instruction of the .eh_frame section names registers
 * and opcodes libdw can run cheaply (cfi_screen.c); -ENOTSUP, -ENOENT. */
int cfi_screen(Elf *elf);

#endif
