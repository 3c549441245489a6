// SPDX-License-Identifier: GPL-2.0
/* Where the thread tracer hooks in. */
#include <bpf/libbpf.h>
#include "probes.h"
#include "providers.h"
#include "thread_probes.h"
#include "threads.h"
#include "threads.skel.h"

int thread_probes_attach(struct threads_bpf *skel, pid_t pid, const struct providers *p)
{
	struct bpf_program *in = skel->progs.pthread_entry, *out = skel->progs.pthread_return;
	const char *obj = p->pthread_obj;
	const struct probe_req reqs[] = {
		{ "pthread_create", obj, in, out, 2, LT_TP_CREATE },
		{ "pthread_detach", obj, in, NULL, 1, LT_TP_DETACH },
		{ "pthread_join", obj, in, out, 1, LT_TP_JOIN },
		{ "pthread_tryjoin_np", obj, in, out, 1, LT_TP_JOIN },
		{ "pthread_timedjoin_np", obj, in, out, 1, LT_TP_JOIN },
		{ "pthread_clockjoin_np", obj, in, out, 1, LT_TP_JOIN },
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
