/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CFI unwind tables of bpf/cfi.bpf.h: each code object's rows compiled
 * once (keyed by build-id) into cfi_rows, and the traced process's code
 * mappings into cfi_procs. The memory and thread tracers share one pair
 * of maps: the first tracer loaded creates them, the next reuses them.
 */
#ifndef LEAKTOP_CFI_TABLES_H
#define LEAKTOP_CFI_TABLES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_map;
struct cfi_tables;

struct cfi_tables *cfi_tables_new(bool verbose);
/* Before a tracer's load: size its maps, or point them at the shared ones. */
int cfi_tables_prepare(struct cfi_tables *u, struct bpf_map *rows, struct bpf_map *procs);
/* After a successful load: the first tracer's maps become the shared ones. */
void cfi_tables_loaded(struct cfi_tables *u, struct bpf_map *rows, struct bpf_map *procs);
/* Tables for pid's code mappings, when they changed since the last call:
 * 0 or -errno. */
int cfi_tables_update(struct cfi_tables *u, pid_t pid);
/* Rows that did not fit (their objects get the frame-pointer walk). */
uint64_t cfi_tables_rows_lost(const struct cfi_tables *u);
void cfi_tables_free(struct cfi_tables *u);

#endif
