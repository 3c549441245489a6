/* SPDX-License-Identifier: GPL-2.0 */
/* leaktop report SNAPSHOT and leaktop diff OLD NEW: renderings of stored
 * snapshots. */
#ifndef LEAKTOP_REPORT_CMD_H
#define LEAKTOP_REPORT_CMD_H

int cmd_report(int argc, char **argv);
int cmd_diff(int argc, char **argv);

#endif
