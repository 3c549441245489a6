// SPDX-License-Identifier: GPL-2.0
/* Where the thread tracer hooks in. */
#include <bpf/libbpf.h>
#include "probes.h"
#include "providers.h"
#include "thread_probes.h"
#include "threads.skel.h"

int thread_probes_attach(struct threads_bpf *skel, pid_t pid, const struct providers *p)
{
	struct bpf_program *join = skel->progs.pthread_join_entry;
	struct bpf_program *join_ret = skel->progs.pthread_join_return;
	const struct probe_req reqs[] = {
		{ "pthread_create", p->pthread_obj, skel->progs.pthread_create_entry,
		  skel->progs.pthread_create_return, 2, 0 },
		{ "pthread_detach", p->pthread_obj, skel->progs.pthread_detach_entry, NULL, 1, 0 },
		{ "pthread_join", p->pthread_obj, join, join_ret, 1, 0 },
		{ "pthread_tryjoin_np", p->pthread_obj, join, join_ret, 1, 0 },
		{ "pthread_timedjoin_np", p->pthread_obj, join, join_ret, 1, 0 },
		{ "pthread_clockjoin_np", p->pthread_obj, join, join_ret, 1, 0 },
	};
	int err;

	/* The tracepoints filter on the process inside: they see every task. */
	err = probes_keep(bpf_program__attach(skel->progs.thread_fork));
	if (!err)
		err = probes_keep(bpf_program__attach(skel->progs.thread_exit));
	if (!err)
		err = probes_keep(bpf_program__attach(skel->progs.thread_switch));
	if (!err)
		err = probes_attach(reqs, sizeof(reqs) / sizeof(reqs[0]), pid);
	return err;
}
