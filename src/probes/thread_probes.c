// SPDX-License-Identifier: GPL-2.0
/* Where the thread tracer hooks in. */
#include <bpf/libbpf.h>
#include "probes/probes.h"
#include "probes/providers.h"
#include "probes/thread_probes.h"
#include "threads.h"
#include "threads.skel.h"

int thread_probes_attach_tracepoints(struct threads_bpf *skel)
{
	int err;

	/* The tracepoints filter on the process inside: they see every task. */
	err = probes_keep(skel->progs.thread_fork);
	if (!err)
		err = probes_keep(skel->progs.thread_exit);
	if (!err)
		err = probes_keep(bpf_program__autoload(skel->progs.thread_switch) ?
					  skel->progs.thread_switch :
					  skel->progs.thread_switch_nostate);
	return err;
}

int thread_probes_attach_uprobes(struct threads_bpf *skel, pid_t pid, const struct providers *p)
{
	struct bpf_program *in = skel->progs.pthread_entry, *out = skel->progs.pthread_return;
	const char *obj = p->pthread_obj;
#define REQ(sym_, ret_, nargs_, kind_) \
	{ .symbol = sym_, .obj = obj, .entry = in, .ret = ret_, .nargs = nargs_, .cookie = kind_ }
	const struct probe_req reqs[] = {
		REQ("pthread_create", out, 2, LT_TP_CREATE),
		REQ("pthread_detach", NULL, 1, LT_TP_DETACH),
		REQ("pthread_join", out, 1, LT_TP_JOIN),
		REQ("pthread_tryjoin_np", out, 1, LT_TP_JOIN),
		REQ("pthread_timedjoin_np", out, 1, LT_TP_JOIN),
		REQ("pthread_clockjoin_np", out, 1, LT_TP_JOIN),
	};
#undef REQ

	return probes_attach(reqs, sizeof(reqs) / sizeof(reqs[0]), pid);
}

int thread_probes_attach(struct threads_bpf *skel, pid_t pid, const struct providers *p)
{
	int err = thread_probes_attach_tracepoints(skel);

	return err ? err : thread_probes_attach_uprobes(skel, pid, p);
}
