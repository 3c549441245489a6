// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: src/symbols/cfi_compile.c on arbitrary bytes, the
 * .eh_frame_hdr and .eh_frame of a target's objects compiled into unwind
 * rows; every row read back so that the sanitizers see a bad one.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "symbols/cfi_compile.h"
#include "fuzz_file.h"

static volatile uint64_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = open(fuzz_file(data, size), O_RDONLY);
	struct cfi_table t;
	Elf *elf;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && cfi_compile(elf, &t) == 0) {
		for (uint32_t i = 0; i < t.n; i++) {
			sink += t.rows[i].pc + t.rows[i].cfa + t.rows[i].cfa_off;
			sink += t.rows[i].rbp + t.rows[i].rbp_off;
			if (i && t.rows[i].pc < t.rows[i - 1].pc)
				abort();	/* the walker bisects: sorted */
		}
		free(t.rows);
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return 0;
}
