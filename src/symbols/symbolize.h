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
#include "model/snapshot.h"

struct symbolizer;

struct symbolizer *symbolizer_new(pid_t pid);
/* Re-read the process's mappings and open newly loaded objects. */
int symbolizer_refresh(struct symbolizer *s);
/* Is addr inside code the process has mapped (now or earlier)? */
bool symbolizer_is_code(struct symbolizer *s, uint64_t addr);
/* Is addr in the kernel's uprobe page? A return address there is the
 * return probe trampoline standing in for a probed function's caller
 * (an allocator called from inside another probed allocator). */
bool symbolizer_is_trampoline(struct symbolizer *s, uint64_t addr);
/* Fill *f for addr; a return address is looked up at addr - 1 so that a
 * call at the end of a function is not charged to the next one. */
void symbolize(struct symbolizer *s, uint64_t addr, bool is_return, struct lt_frame *f);
/* The same, with the calls inlined at addr expanded: up to max frames,
 * innermost first; returns how many (at least 1). */
int symbolize_frames(struct symbolizer *s, uint64_t addr, bool is_return, struct lt_frame *out,
		     int max);
void symbolizer_free(struct symbolizer *s);
/* Frames for an object whose own tables say more than its ELF symbols (a
 * Go binary: .gopclntab names every function, line and inlined call, the
 * way the runtime does, stripped or not). namer gets the ELF virtual
 * address and fills function (malloc'd), file (malloc'd) and line of up to
 * max frames, inlined callees first; returns how many. */
typedef int (*symbol_namer)(void *ctx, uint64_t vaddr, struct lt_frame *out, int max);
void symbolizer_set_namer(struct symbolizer *s, const char *path, symbol_namer namer, void *ctx);
/* The libdwfl session holding the modules (for the unwinder). */
struct Dwfl *symbolizer_dwfl(struct symbolizer *s);
/* Demangled copy of a C++ name, or a plain copy. */
char *demangle(const char *name);

#endif
