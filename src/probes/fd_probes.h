/* SPDX-License-Identifier: GPL-2.0 */
/* Where the fd tracer hooks in: the exit of every syscall. */
#ifndef LEAKTOP_FD_PROBES_H
#define LEAKTOP_FD_PROBES_H

struct fds_bpf;

int fd_probes_attach(struct fds_bpf *skel);

#endif
