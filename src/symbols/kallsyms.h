/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel addresses to function names, from /proc/kallsyms. */
#ifndef LEAKTOP_KALLSYMS_H
#define LEAKTOP_KALLSYMS_H

#include <stddef.h>
#include <stdint.h>
#include "model/snapshot.h"

struct ksym {
	uint64_t addr;
	char *name;
	char *module; /* NULL: vmlinux */
};

struct kallsyms {
	struct ksym *v; /* sorted by addr */
	size_t n;
};

/* 0, or -errno; -EPERM when the addresses read as zeros (kptr_restrict). */
int kallsyms_load(struct kallsyms *k);
const struct ksym *kallsyms_find(const struct kallsyms *k, uint64_t addr);
/* n return addresses (innermost first) as a stack; frames[i].offset is
 * the offset into the function. */
struct lt_stack *kallsyms_stack(const struct kallsyms *k, const uint64_t *ip, int n);
void kallsyms_free(struct kallsyms *k);

#endif
