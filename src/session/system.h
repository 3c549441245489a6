/* SPDX-License-Identifier: GPL-2.0 */
/* leaktop -a: every process traced by one set of BPF programs, reported
 * per process. */
#ifndef LEAKTOP_SYSTEM_H
#define LEAKTOP_SYSTEM_H

#include "cli/options.h"

/* Runs until a signal or --duration; the exit status. */
int system_trace(const struct options *o);

#endif
