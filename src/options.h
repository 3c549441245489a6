/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line options of the trace command. */
#ifndef LEAKTOP_OPTIONS_H
#define LEAKTOP_OPTIONS_H

#include <stdint.h>
#include <sys/types.h>

struct options {
	pid_t pid;		/* -p; 0 when starting a command */
	char **cmd;		/* -- CMD ARGS; NULL with -p */
	double duration_s;	/* 0: until the target exits or a signal */
	double interval_s;	/* 0: final report only */
	int top;
	double min_age_s;
	const char *json;	/* NULL, a path, or "-" */
	uint32_t max_allocs;
	uint32_t max_stacks;
	double min_block_s;	/* threads asleep this long count as blocked */
	uint32_t max_threads;
	int verbose;
};

/* 0 to run, 1 when --help/--version was served, -EINVAL after printing a
 * one-line reason. */
int options_parse(int argc, char **argv, struct options *o);

#endif
