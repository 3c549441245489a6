/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LEAKTOP_TOP_CMD_H
#define LEAKTOP_TOP_CMD_H

/* leaktop top: the trace session on a live screen. */
int cmd_top(int argc, char **argv);

#endif
