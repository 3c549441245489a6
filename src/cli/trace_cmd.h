/* SPDX-License-Identifier: GPL-2.0 */
/* The trace command: one process (-p, -- CMD) or every process (-a). */
#ifndef LEAKTOP_TRACE_CMD_H
#define LEAKTOP_TRACE_CMD_H

int cmd_trace(int argc, char **argv);

#endif
