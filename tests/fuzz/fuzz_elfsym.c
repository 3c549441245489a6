// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: src/probes/elfsym.c on arbitrary bytes. Every lookup the
 * tracer makes on a target's ELF files (function symbols, exported or not,
 * vaddr to file offset, DT_NEEDED and run paths, static or not), with the
 * results read back in full so that the sanitizers see any bad pointer.
 */
#include <stdlib.h>
#include <string.h>
#include "probes/elfsym.h"
#include "fuzz_file.h"

/* Names the probes look up, and one no file has. */
static const char *const names[] = { "malloc", "free", "main", "_start",
				     "pthread_create", "runtime.main", "no such symbol" };

static volatile uint64_t sink;

/* Fold v into sink, so that reading it is not optimized away. */
static void use(uint64_t v)
{
	sink += v;
}

static void lookups(struct elf_file *ef)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (int exported = 0; exported < 2; exported++) {
			struct elf_func fn = { 0 };
			uint64_t off;

			if (elf_find_func(ef, names[i], exported, &fn) == 0) {
				use(fn.vaddr);
				use(fn.size);
				use(fn.offset);
			}
			if (elf_vaddr_to_offset(ef, fn.vaddr + fn.size / 2, &off) == 0)
				use(off);
		}
	}
}

static void needed(struct elf_file *ef)
{
	char **deps, *runpath;
	int n;

	if (elf_needed(ef, &deps, &n, &runpath) == 0) {
		for (int i = 0; i < n; i++) {
			use(deps[i] ? strlen(deps[i]) : 0);
			free(deps[i]);
		}
		use(runpath ? strlen(runpath) : 0);
	}
	free(deps);
	free(runpath);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct elf_file ef;

	if (elf_check(path))
		return 0;
	if (elf_file_open(path, &ef))
		return 0;
	lookups(&ef);
	needed(&ef);
	use(elf_is_static(&ef));
	elf_file_close(&ef);
	return 0;
}
