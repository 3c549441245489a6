/* SPDX-License-Identifier: GPL-2.0 */
/* One process traced: -p PID, or -- CMD started held at a gate. */
#ifndef LEAKTOP_PROCESS_H
#define LEAKTOP_PROCESS_H

#include "cli/options.h"

/* Runs until a signal, --duration or the target's exit; the exit status. */
int process_trace(const struct options *o);

#endif
