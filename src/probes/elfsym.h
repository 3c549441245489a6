/* SPDX-License-Identifier: GPL-2.0 */
/* Reading ELF files: function symbols, code bytes, dynamic dependencies. */
#ifndef LEAKTOP_ELFSYM_H
#define LEAKTOP_ELFSYM_H

#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>

struct elf_file {
	int fd;
	Elf *elf;
};

struct elf_func {
	uint64_t vaddr;
	uint64_t size;
	uint64_t offset;	/* file offset: what a uprobe is placed at */
};

int elf_file_open(const char *path, struct elf_file *ef);
void elf_file_close(struct elf_file *ef);
/* 0 and *out filled when path is a readable ELF file, -ENOEXEC when not. */
int elf_check(const char *path);
/* A defined function symbol, from .symtab or else .dynsym; with
 * exported_only, from .dynsym alone (what the dynamic linker binds to). */
int elf_find_func(struct elf_file *ef, const char *name, bool exported_only,
		  struct elf_func *out);
int elf_vaddr_to_offset(struct elf_file *ef, uint64_t vaddr, uint64_t *off);
/* DT_NEEDED names (caller frees each and the array) and DT_RUNPATH/RPATH. */
int elf_needed(struct elf_file *ef, char ***names, int *n, char **runpath);
bool elf_is_static(struct elf_file *ef);

#endif
