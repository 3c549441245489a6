// SPDX-License-Identifier: GPL-2.0
/*
 * File descriptors of the traced process: which call stack opened each fd
 * still open, and when.
 *
 * One program at the exit of every syscall (tp_btf/sys_exit) compares the
 * process first, then looks at the syscall number: an fd-making call that
 * succeeded records its fd(s) with the opening stack, a close that
 * succeeded drops its record. The stack is the user stack of the syscall
 * (ip[0] in the libc wrapper: open, socket, pipe...), unwound with CFI.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "fds.h"
#include "cfi.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid; /* 0: every process but self_tgid */
const volatile __u32 self_tgid;

/* x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
enum {
	NR_open = 2,
	NR_close = 3,
	NR_pipe = 22,
	NR_dup = 32,
	NR_dup2 = 33,
	NR_socket = 41,
	NR_accept = 43,
	NR_socketpair = 53,
	NR_fcntl = 72,
	NR_creat = 85,
	NR_epoll_create = 213,
	NR_inotify_init = 253,
	NR_openat = 257,
	NR_signalfd = 282,
	NR_timerfd_create = 283,
	NR_eventfd = 284,
	NR_accept4 = 288,
	NR_signalfd4 = 289,
	NR_eventfd2 = 290,
	NR_epoll_create1 = 291,
	NR_dup3 = 292,
	NR_pipe2 = 293,
	NR_inotify_init1 = 294,
	NR_perf_event_open = 298,
	NR_fanotify_init = 300,
	NR_open_by_handle_at = 304,
	NR_memfd_create = 319,
	NR_userfaultfd = 323,
	NR_io_uring_setup = 425,
	NR_pidfd_open = 434,
	NR_openat2 = 437,
	NR_pidfd_getfd = 438,
	NR_memfd_secret = 447,
};

/* fcntl commands that make a new fd (include/uapi/linux/fcntl.h). */
#define F_DUPFD		0
#define F_DUPFD_CLOEXEC 1030

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* resized by userspace: --max-fds */
	__type(key, __u64);
	__type(value, struct lt_fd);
} fds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4097);
	__type(key, __u64);
	__type(value, struct lt_fsite);
} fsites SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} fexecs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_FLOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} flost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_fsite);
} fscratch SEC(".maps");

/* The opening stack of the current syscall, interned; 0 when fsites is full. */
static __always_inline __u64 intern_open_stack(struct pt_regs *regs, __u32 tgid)
{
	__u32 zero = 0;
	struct lt_fsite *s = bpf_map_lookup_elem(&fscratch, &zero);
	__u64 h;

	if (!s)
		return 0;
	s->st.kind = 0;
	s->tgid = tgid;
	cfi_walk_inside(regs, &s->st, tgid);
	/* Each process its own sites, even running the same code. */
	h = frames_hash(&s->st, target_tgid ? 0 : tgid);
	s->opened = s->closed = 0;
	return lt_intern(&fsites, &h, s, &flost, LT_FLOST_STACK_MAP_FULL) ? 0 : h;
}

static __always_inline void count_site(__u64 site, int opened)
{
	struct lt_fsite *s = bpf_map_lookup_elem(&fsites, &site);

	if (!s)
		return;
	if (opened)
		__sync_fetch_and_add(&s->opened, 1);
	else
		__sync_fetch_and_add(&s->closed, 1);
}

static __always_inline void on_open(__u32 tgid, int fd, __u64 site, __u32 nr)
{
	struct lt_fd v = {.site = site, .opened_ns = bpf_ktime_get_ns(), .nr = nr};
	__u64 key = LT_FD_KEY(tgid, fd);
	struct lt_fd *old;

	if (fd < 0)
		return;
	/* An fd reused without a close we saw (dup2 over it, close_range)
	 * replaces its record; looked for only when the insert fails. */
	if (bpf_map_update_elem(&fds, &key, &v, BPF_NOEXIST)) {
		old = bpf_map_lookup_elem(&fds, &key);
		if (!old) {
			lt_count_lost(&flost, LT_FLOST_FD_MAP_FULL);
			return;
		}
		count_site(old->site, 0);
		*old = v;
	}
	count_site(site, 1);
}

static __always_inline void on_close(__u32 tgid, int fd)
{
	__u64 key = LT_FD_KEY(tgid, fd);
	struct lt_fd *v = bpf_map_lookup_elem(&fds, &key);

	if (!v)
		return;
	count_site(v->site, 0);
	bpf_map_delete_elem(&fds, &key);
}

/* pipe, pipe2, socketpair: the two fds the kernel wrote to user memory. */
static __always_inline void on_pair(__u32 tgid, __u64 uaddr, struct pt_regs *regs, __u32 nr)
{
	int pair[2];
	__u64 site;

	if (bpf_probe_read_user(pair, sizeof(pair), (void *)uaddr))
		return;
	site = intern_open_stack(regs, tgid);
	on_open(tgid, pair[0], site, nr);
	on_open(tgid, pair[1], site, nr);
}

/* Does syscall nr with these arguments return a new fd? */
static __always_inline int makes_fd(__u32 nr, struct pt_regs *regs)
{
	switch (nr) {
	case NR_open:
	case NR_openat:
	case NR_openat2:
	case NR_creat:
	case NR_open_by_handle_at:
	case NR_socket:
	case NR_accept:
	case NR_accept4:
	case NR_dup:
	case NR_dup2:
	case NR_dup3:
	case NR_epoll_create:
	case NR_epoll_create1:
	case NR_eventfd:
	case NR_eventfd2:
	case NR_timerfd_create:
	case NR_memfd_create:
	case NR_memfd_secret:
	case NR_inotify_init:
	case NR_inotify_init1:
	case NR_fanotify_init:
	case NR_perf_event_open:
	case NR_userfaultfd:
	case NR_io_uring_setup:
	case NR_pidfd_open:
	case NR_pidfd_getfd: return 1;
	case NR_signalfd:
	case NR_signalfd4: /* fd -1: a new one, else changes fd */
		return (int)BPF_CORE_READ(regs, di) == -1;
	case NR_fcntl: {
		int cmd = (int)BPF_CORE_READ(regs, si);

		return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC;
	}
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(fd_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 nr;

	if ((target_tgid ? tgid != target_tgid : tgid == self_tgid) || ret < 0)
		return 0;
	nr = BPF_CORE_READ(regs, orig_ax);
	if (nr == NR_close) {
		on_close(tgid, (int)BPF_CORE_READ(regs, di));
		return 0;
	}
	if (nr == NR_pipe || nr == NR_pipe2) {
		on_pair(tgid, BPF_CORE_READ(regs, di), regs, nr);
		return 0;
	}
	if (nr == NR_socketpair) {
		on_pair(tgid, BPF_CORE_READ(regs, r10), regs, nr);
		return 0;
	}
	if (makes_fd(nr, regs))
		on_open(tgid, (int)ret, intern_open_stack(regs, tgid), nr);
	return 0;
}

/* The fds a process keeps over an exec were opened by the program before. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(fd_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	__u64 now = bpf_ktime_get_ns();

	if (target_tgid ? tgid != target_tgid : tgid == self_tgid)
		return 0;
	bpf_map_update_elem(&fexecs, &tgid, &now, BPF_ANY);
	return 0;
}
