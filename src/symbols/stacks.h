/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Symbolized stacks by stack id. Filled while the process lives (its
 * mappings can be read), read by every drain, freed at the end.
 */
#ifndef LEAKTOP_STACKS_H
#define LEAKTOP_STACKS_H

#include <stdbool.h>
#include "lib/idmap.h"
#include "model/snapshot.h"
#include "stack.h"

struct symbolizer;

struct stack_cache {
	struct idmap ids;
};

/* The stack for an id 0, or one that could not be built. */
extern const struct lt_stack lt_unknown_stack;

/*
 * The symbolized stack of id, built from raw frames on first sight: the
 * walk is cut at the first return address outside any code the process
 * mapped, and frames[0] is renamed name0 when given (a probe's entry
 * point has several symbol names: malloc, __libc_malloc...).
 */
const struct lt_stack *stack_cache_get(struct stack_cache *c, struct symbolizer *sym,
				       uint64_t id, const struct lt_frames *f, const char *name0);
/* Build one from plain addresses (frames[0] exact unless all_return, the
 * rest return addresses); not cached. */
struct lt_stack *stack_from_ips(struct symbolizer *sym, const uint64_t *ip, int n,
				bool all_return);
/* Cached by a hash of the addresses: for stacks read in userspace. */
const struct lt_stack *stack_cache_ips(struct stack_cache *c, struct symbolizer *sym,
				       const uint64_t *ip, int n, bool all_return);
/* The key of a stack as it is shown: its frames' addresses (and the API
 * named at frame 0). Two stacks the kernel recorded apart (a walk cut at
 * different garbage) that show the same have the same key. 0: unknown. */
uint64_t stack_shown_id(const struct lt_stack *st);
void stack_free(struct lt_stack *st);
void stack_cache_free(struct stack_cache *c);

#endif
