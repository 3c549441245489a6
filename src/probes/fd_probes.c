// SPDX-License-Identifier: GPL-2.0
/* Where the fd tracer hooks in. */
#include <bpf/libbpf.h>
#include "fds.skel.h"
#include "probes/fd_probes.h"
#include "probes/probes.h"

/* One tracepoint for every fd-making syscall: it filters on the process
 * before anything else, so other processes pay one comparison. */
int fd_probes_attach(struct fds_bpf *skel)
{
	int err = probes_keep(skel->progs.fd_exec);

	return err ? err : probes_keep(skel->progs.fd_sys_exit);
}
