// SPDX-License-Identifier: GPL-2.0
/*
 * Threads of the traced process: where each was created, whether it was
 * joined or detached, when it exited, and when and where it blocks.
 *
 * sched tracepoints see creation, exit and every context switch; uprobes on
 * pthread_create (creation stack, detached attribute), pthread_detach and
 * the pthread_join family (return value) say which exited threads nobody
 * will join. Every program checks the process first: other processes pay
 * one comparison per event.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "threads.h"
#include "cfi.bpf.h"
#include "task_local.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define TASK_RUNNING 0
/* glibc's struct pthread_attr: { struct sched_param schedparam; int
 * schedpolicy; int flags; ... } with ATTR_FLAG_DETACHSTATE 0x0001
 * (glibc sysdeps/nptl/internaltypes.h, unchanged since 2.x). */
#define PTHREAD_ATTR_FLAGS_OFF 8
#define ATTR_FLAG_DETACHSTATE 1

const volatile __u32 target_tgid;	/* 0: every process but self_tgid */
const volatile __u32 self_tgid;
/* bpf_find_vma (5.17): else userspace sizes stacks from /proc/PID/maps. */
const volatile bool find_vma_ok = true;
#define PF_KTHREAD 0x00200000

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);	/* resized by userspace: --max-threads */
	__type(key, __u32);
	__type(value, struct lt_thread);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4097);
	__type(key, __u64);
	__type(value, struct lt_tsite);
} tsites SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);	/* resized with threads */
	__type(key, struct lt_pthread_key);
	__type(value, __u32);
} pthreads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_TLOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tlost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_tsite);
} tscratch SEC(".maps");

/* The pthread_create or pthread_join call a thread is inside. */
struct tcall {
	__u64 create_stack;
	__u64 join_arg;
	__u32 creating;
	__u32 detached;
	__u32 joining;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tcall);
} tcalls SEC(".maps");

/* t is a trusted pointer (tracepoint argument, iterator): direct reads. */
static __always_inline int ours(struct task_struct *t)
{
	__u32 tgid = t->tgid;

	if (target_tgid)
		return tgid == target_tgid;
	return tgid != self_tgid && !(t->flags & PF_KTHREAD);
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline struct tcall *current_tcall(int create)
{
	return TASK_LOCAL_GET(tcalls, struct tcall, create);
}

static __always_inline struct lt_tsite *tsite(__u64 id)
{
	struct lt_tsite *s = bpf_map_lookup_elem(&tsites, &id);

	if (s || id == 0)
		return s;
	id = 0;
	return bpf_map_lookup_elem(&tsites, &id);
}

/* Creation site of the current pthread_create call, interned. */
static __always_inline __u64 intern_create_stack(struct pt_regs *ctx)
{
	__u32 zero = 0;
	struct lt_tsite *s = bpf_map_lookup_elem(&tscratch, &zero);
	__u64 h;

	if (!s)
		return 0;
	s->st.kind = 0;
	s->tgid = current_tgid();
	cfi_walk(ctx, &s->st, s->tgid);
	/* Each process its own sites, even running the same code. */
	h = frames_hash(&s->st, target_tgid ? 0 : s->tgid);
	if (bpf_map_lookup_elem(&tsites, &h))
		return h;
	s->live = s->unjoined = 0;
	s->created = 0;
	if (bpf_map_update_elem(&tsites, &h, s, BPF_NOEXIST) == 0 ||
	    bpf_map_lookup_elem(&tsites, &h))
		return h;
	lt_count_lost(&tlost, LT_TLOST_STACK_MAP_FULL);
	return 0;
}

static __always_inline int on_create(struct pt_regs *ctx, void *attr)
{
	struct tcall *c = current_tcall(1);
	__u32 flags = 0;

	if (!c)
		return 0;
	if (attr)
		bpf_probe_read_user(&flags, sizeof(flags), attr + PTHREAD_ATTR_FLAGS_OFF);
	c->create_stack = intern_create_stack(ctx);
	c->detached = flags & ATTR_FLAG_DETACHSTATE;
	c->creating = 1;
	return 0;
}

static __always_inline void forget(__u32 tid, struct lt_thread *t)
{
	struct lt_pthread_key pk = { .pthread = t->pthread, .tgid = t->tgid };

	bpf_map_delete_elem(&threads, &tid);
	if (pk.pthread)
		bpf_map_delete_elem(&pthreads, &pk);
}

/* An exited joinable thread is joined or detached now: nothing left to
 * report about it. */
static __always_inline void settle_exited(__u32 tid, struct lt_thread *t)
{
	struct lt_tsite *s;

	if (!(t->flags & LT_T_EXITED))
		return;
	s = tsite(t->create_stack);
	if (s)
		__sync_fetch_and_sub(&s->unjoined, 1);
	forget(tid, t);
}

/* task_struct.state became __state in 5.14 (2f064a59a1). */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

static __always_inline unsigned int task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___old *)t, state);
}

static __always_inline int stack_vma_cb(struct task_struct *task, struct vm_area_struct *vma,
					void *data)
{
	*(__u64 *)data = BPF_CORE_READ(vma, vm_end) - BPF_CORE_READ(vma, vm_start);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(thread_fork, struct task_struct *parent, struct task_struct *child)
{
	struct lt_thread t = {};
	struct lt_pthread_key pk;
	struct lt_tsite *s;
	struct pt_regs *r;
	struct tcall *c;
	__u32 tid;

	tid = BPF_CORE_READ(child, pid);
	t.tgid = BPF_CORE_READ(child, tgid);
	if (!ours(child))
		return 0;
	/* A new process's first thread is not a thread it created; with
	 * every process traced it is still one of its live threads. */
	if (tid == t.tgid) {
		t.flags = LT_T_MAIN;
		t.created_ns = bpf_ktime_get_ns();
		if (!target_tgid && bpf_map_update_elem(&threads, &tid, &t, BPF_ANY))
			lt_count_lost(&tlost, LT_TLOST_THREAD_MAP_FULL);
		return 0;
	}
	/* clone(CLONE_SETTLS) already set the new thread's %fs base, which
	 * glibc makes the thread's pthread_t. */
	t.pthread = BPF_CORE_READ(child, thread.fsbase);
	t.created_ns = bpf_ktime_get_ns();
	c = current_tcall(0);
	if (c && c->creating) {
		t.create_stack = c->create_stack;
		if (c->detached)
			t.flags |= LT_T_DETACHED;
	}
	r = (struct pt_regs *)bpf_task_pt_regs(child);
	t.stack_sp = BPF_CORE_READ(r, sp);
	if (find_vma_ok)
		bpf_find_vma(child, t.stack_sp, stack_vma_cb, &t.stack_bytes, 0);
	if (bpf_map_update_elem(&threads, &tid, &t, BPF_ANY)) {
		lt_count_lost(&tlost, LT_TLOST_THREAD_MAP_FULL);
		return 0;
	}
	pk = (struct lt_pthread_key){ .pthread = t.pthread, .tgid = t.tgid };
	if (t.pthread)
		bpf_map_update_elem(&pthreads, &pk, &tid, BPF_ANY);
	s = tsite(t.create_stack);
	if (s) {
		__sync_fetch_and_add(&s->live, 1);
		__sync_fetch_and_add(&s->created, 1);
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(thread_exit, struct task_struct *task)
{
	struct lt_thread *t;
	struct lt_tsite *s;
	__u32 tid;

	if (!ours(task))
		return 0;
	tid = BPF_CORE_READ(task, pid);
	t = bpf_map_lookup_elem(&threads, &tid);
	if (!t)
		return 0;
	s = tsite(t->create_stack);
	if (s)
		__sync_fetch_and_sub(&s->live, 1);
	/* Nothing to report once joined, detached, or of unknown kind. */
	if (t->flags & (LT_T_DETACHED | LT_T_JOINED | LT_T_CENSUS | LT_T_MAIN)) {
		forget(tid, t);
		return 0;
	}
	t->flags |= LT_T_EXITED;
	t->exited_ns = bpf_ktime_get_ns();
	t->blocked_ns = 0;
	if (s)
		__sync_fetch_and_add(&s->unjoined, 1);
	return 0;
}

static __always_inline void save_regs(__u64 *regs, struct pt_regs *r)
{
	regs[LT_R_IP] = BPF_CORE_READ(r, ip);
	regs[LT_R_SP] = BPF_CORE_READ(r, sp);
	regs[LT_R_BP] = BPF_CORE_READ(r, bp);
	regs[LT_R_BX] = BPF_CORE_READ(r, bx);
	regs[LT_R_R12] = BPF_CORE_READ(r, r12);
	regs[LT_R_R13] = BPF_CORE_READ(r, r13);
	regs[LT_R_R14] = BPF_CORE_READ(r, r14);
	regs[LT_R_R15] = BPF_CORE_READ(r, r15);
	regs[LT_R_AX] = BPF_CORE_READ(r, ax);
	regs[LT_R_CX] = BPF_CORE_READ(r, cx);
	regs[LT_R_DX] = BPF_CORE_READ(r, dx);
	regs[LT_R_SI] = BPF_CORE_READ(r, si);
	regs[LT_R_DI] = BPF_CORE_READ(r, di);
	regs[LT_R_R8] = BPF_CORE_READ(r, r8);
	regs[LT_R_R9] = BPF_CORE_READ(r, r9);
	regs[LT_R_R10] = BPF_CORE_READ(r, r10);
	regs[LT_R_R11] = BPF_CORE_READ(r, r11);
}

/*
 * A traced thread going to sleep records when, nothing more: this runs at
 * every context switch of the machine with -a (678 ns per switch when it
 * also copied the user registers; they stay in the sleeping task's pt_regs
 * anyway, and the census iterator reads them for the threads userspace
 * unwinds). Running again clears it.
 */
static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next,
				     unsigned int prev_state)
{
	struct lt_thread *t;
	__u32 tid;

	if (prev_state != TASK_RUNNING && ours(prev)) {
		tid = prev->pid;
		t = bpf_map_lookup_elem(&threads, &tid);
		if (t) {
			t->blocked_ns = bpf_ktime_get_ns();
			t->state = prev_state;
		}
	}
	if (ours(next)) {
		tid = next->pid;
		t = bpf_map_lookup_elem(&threads, &tid);
		if (t)
			t->blocked_ns = 0;
	}
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(thread_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	return on_switch(prev, next, prev_state);
}

/* Kernels before 5.18 (fa2c3254d7cf) pass no prev_state: read the task's
 * own, which a wakeup racing the switch can already have reset. */
SEC("tp_btf/sched_switch")
int BPF_PROG(thread_switch_nostate, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	return on_switch(prev, next, task_state(prev));
}

static __always_inline __u32 *pthread_tid(__u64 pt)
{
	struct lt_pthread_key pk = { .pthread = pt, .tgid = current_tgid() };

	return bpf_map_lookup_elem(&pthreads, &pk);
}

static __always_inline int on_detach(__u64 pt)
{
	__u32 *tid = pthread_tid(pt);
	struct lt_thread *t;

	if (!tid)
		return 0;
	t = bpf_map_lookup_elem(&threads, tid);
	if (!t)
		return 0;
	t->flags |= LT_T_DETACHED;
	settle_exited(*tid, t);
	return 0;
}

static __always_inline int on_join(__u64 pt)
{
	struct tcall *c = current_tcall(1);

	if (c) {
		c->join_arg = pt;
		c->joining = 1;
	}
	return 0;
}

/* One entry program for the pthread functions, told apart by the attach
 * cookie (enum lt_tprobe), so they share one uprobe_multi link. */
SEC("uprobe")
int BPF_KPROBE(pthread_entry, __u64 a0, __u64 a1)
{
	if (!target_tgid && current_tgid() == self_tgid)
		return 0;
	switch (bpf_get_attach_cookie(ctx)) {
	case LT_TP_CREATE:	/* (thread, attr, start, arg) */
		return on_create(ctx, (void *)a1);
	case LT_TP_DETACH:
		return on_detach(a0);
	case LT_TP_JOIN:
		return on_join(a0);
	}
	return 0;
}

/* Joined only if it returned 0: tryjoin says EBUSY while it runs. */
static __always_inline int on_join_return(struct tcall *c, long ret)
{
	struct lt_thread *t;
	__u32 *tid;

	if (!c->joining)
		return 0;
	c->joining = 0;
	if (ret != 0)
		return 0;
	tid = pthread_tid(c->join_arg);
	if (!tid)
		return 0;
	t = bpf_map_lookup_elem(&threads, tid);
	if (!t)
		return 0;
	t->flags |= LT_T_JOINED;
	/* The joiner can return before the exit tracepoint ran: then the
	 * exit path forgets the thread. */
	settle_exited(*tid, t);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(pthread_return, long ret)
{
	struct tcall *c = current_tcall(0);

	if (!c)
		return 0;
	if (bpf_get_attach_cookie(ctx) == LT_TP_CREATE) {
		/* pthread_create's own work is done once clone returned to it. */
		c->creating = 0;
		return 0;
	}
	return on_join_return(c, ret);
}

/* Census at attach: every thread of the target, with its state and user
 * registers, so threads blocked before we came are seen. */
SEC("iter/task")
int census(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct lt_census c = {};
	struct pt_regs *r;

	if (!task || !ours(task))
		return 0;
	c.tid = task->pid;
	c.tgid = task->tgid;
	c.state = task_state(task);
	c.pthread = task->thread.fsbase;
	c.exec_start_ns = task->se.exec_start;
	/* "Now" on the scheduler's clock: we are running, so our own last
	 * accounting update is at most a tick old. */
	c.now_ns = bpf_get_current_task_btf()->se.exec_start;
	r = (struct pt_regs *)bpf_task_pt_regs(task);
	c.syscall = (__s64)BPF_CORE_READ(r, orig_ax);
	save_regs(c.regs, r);
	if (find_vma_ok)
		bpf_find_vma(task, c.regs[LT_R_SP], stack_vma_cb, &c.stack_bytes, 0);
	bpf_seq_write(ctx->meta->seq, &c, sizeof(c));
	return 0;
}
