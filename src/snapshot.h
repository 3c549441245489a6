/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The group model: everything leaktop reports is a group of live things
 * sharing a stack, with counters. A snapshot is the groups of one process
 * at one moment plus totals and loss counters; every output renders one.
 */
#ifndef LEAKTOP_SNAPSHOT_H
#define LEAKTOP_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "alloc.h"

struct lt_frame {
	char *function;	/* demangled; NULL when unknown */
	char *module;	/* path of the ELF object; NULL when none */
	uint64_t address;	/* in the process */
	uint64_t offset;	/* address minus the module's load bias */
	char *file;	/* NULL when no debug info */
	int line;
};

struct lt_stack {
	int nframes;
	struct lt_frame *frames;	/* innermost first */
};

struct lt_group {
	int64_t bytes;
	int64_t count;
	double oldest_age_s;
	const struct lt_stack *stack;	/* owned by the stack cache */
};

struct lt_snapshot {
	pid_t pid;
	char comm[32];
	const char *exe;
	const char *allocator;
	double duration_s;
	bool exited;
	double min_age_s;
	int64_t bytes;	/* sum over groups */
	int64_t count;
	uint64_t lost[LT_LOST_MAX];
	int ngroups;
	struct lt_group *groups;	/* sorted by bytes, largest first */
};

uint64_t snapshot_lost_total(const struct lt_snapshot *s);
const char *snapshot_lost_name(int reason);
void snapshot_sort(struct lt_snapshot *s);
void snapshot_free(struct lt_snapshot *s);

#endif
