/* SPDX-License-Identifier: GPL-2.0 */
/* leaktop check: the kernel features leaktop uses, present or not. */
#ifndef LEAKTOP_CHECK_CMD_H
#define LEAKTOP_CHECK_CMD_H

int cmd_check(int argc, char **argv);

#endif
