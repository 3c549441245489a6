/* SPDX-License-Identifier: GPL-2.0 */
/* The trace command: attach, drain on a timer, report. */
#ifndef LEAKTOP_TRACE_H
#define LEAKTOP_TRACE_H

int cmd_trace(int argc, char **argv);

#endif
