/* SPDX-License-Identifier: GPL-2.0 */
/* leaktop daemon: continuous tracing into per-target snapshot directories. */
#ifndef LEAKTOP_DAEMON_H
#define LEAKTOP_DAEMON_H

int cmd_daemon(int argc, char **argv);

#endif
