/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Addresses of a process to function, module and file:line. Modules are
 * opened while the process lives (symbolizer_refresh) and kept open, so
 * stacks can still be symbolized after it exits.
 */
#ifndef LEAKTOP_SYMBOLIZE_H
#define LEAKTOP_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "snapshot.h"

struct symbolizer;

struct symbolizer *symbolizer_new(pid_t pid);
/* Re-read the process's mappings and open newly loaded objects. */
int symbolizer_refresh(struct symbolizer *s);
/* Is addr inside code the process has mapped (now or earlier)? */
bool symbolizer_is_code(struct symbolizer *s, uint64_t addr);
/* Fill *f for addr; a return address is looked up at addr - 1 so that a
 * call at the end of a function is not charged to the next one. */
void symbolize(struct symbolizer *s, uint64_t addr, bool is_return, struct lt_frame *f);
void symbolizer_free(struct symbolizer *s);
/* Names and lines for an object libdwfl cannot fully read (a Go binary:
 * its .gopclntab names every function and line, stripped or not). namer
 * gets the ELF virtual address, returns a name it owns or NULL, and sets
 * *file (owned) and *line when it knows them. */
typedef const char *(*symbol_namer)(void *ctx, uint64_t vaddr, const char **file, int *line);
void symbolizer_set_namer(struct symbolizer *s, const char *path, symbol_namer namer, void *ctx);
/* The libdwfl session holding the modules (for the unwinder). */
struct Dwfl *symbolizer_dwfl(struct symbolizer *s);
/* Demangled copy of a C++ name, or a plain copy. */
char *demangle(const char *name);

#endif
