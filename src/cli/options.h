/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line options of the trace command. */
#ifndef LEAKTOP_OPTIONS_H
#define LEAKTOP_OPTIONS_H

#include <stdint.h>
#include <sys/types.h>
#include "output/export.h"

struct options {
	pid_t pid;		/* -p; 0 when starting a command */
	char **cmd;		/* -- CMD ARGS; NULL with -p */
	double duration_s;	/* 0: until the target exits or a signal */
	double interval_s;	/* 0: final report only */
	int top;
	double min_age_s;
	struct export_opts out;	/* --json, --folded, --pprof, --svg of the final report */
	const char *snapshot_dir;	/* one snapshot per report into it */
	int keep;		/* snapshots kept in snapshot_dir (0: all) */
	int quiet;		/* no tables (daemon sessions) */
	int no_memory;		/* leave native memory untraced */
	int no_fds;		/* leave file descriptors untraced */
	int kernel;		/* trace kernel memory too */
	uint32_t max_fds;
	int all;		/* -a: every process */
	int memory;		/* with -a: trace native memory too (opt-in) */
	int64_t sample_bytes;	/* mean bytes between tracked allocations;
				 * 0 all, -1 not given */
	int production;		/* sampled memory, the probes' cost measured */
	uint32_t max_allocs;
	uint32_t max_stacks;
	double min_block_s;	/* threads asleep this long count as blocked */
	uint32_t max_threads;
	int fp_only;		/* --frame-pointers: no CFI unwind tables */
	int verbose;
	const char *listen;	/* --listen ADDR:PORT: serve /metrics and pprof */
	int screen;		/* leaktop top: the live screen instead of tables */
};

/* 0 to run, 1 when --help/--version was served, -EINVAL after printing a
 * one-line reason. */
int options_parse(int argc, char **argv, struct options *o);
/* "512K", "4M", "1048576" -> bytes; -EINVAL after printing a reason. */
int options_parse_size(const char *arg, int64_t *out);

/* Exit status of bad usage or bad input (no such process, not ELF). */
#define EXIT_BAD_INPUT 2

#endif
