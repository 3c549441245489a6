// SPDX-License-Identifier: GPL-2.0
/*
 * The trace command's life: check privileges, take the target, resolve its
 * allocator, load and attach the BPF programs, then every tick symbolize new
 * stacks (so they outlive the process), print tables on the interval, and
 * print the final report on a signal, the duration's end or the exit.
 */
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "alloc.skel.h"
#include "clock.h"
#include "alloc_drain.h"
#include "diff.h"
#include "snapdir.h"
#include "render_diff.h"
#include "alloc_probes.h"
#include "options.h"
#include "probes.h"
#include "providers.h"
#include "render.h"
#include "symbolize.h"
#include "target.h"
#include "go_drain.h"
#include "go_heap.h"
#include "goheap.skel.h"
#include "go_probes.h"
#include "goroutines.skel.h"
#include "thread_drain.h"
#include "thread_probes.h"
#include "threads.skel.h"
#include "system.h"
#include "trace.h"
#include "kfeatures.h"
#include "tracers.h"

#define TICK_MS 1000

struct session {
	struct options opt;
	struct target target;
	struct providers prov;
	struct alloc_bpf *alloc;
	struct threads_bpf *threads;
	struct thread_state ts;
	struct goroutines_bpf *gor;
	struct go_state go;
	struct goheap_bpf *heap;
	struct goheap_state hs;
	bool is_go;		/* a Go binary (traced or not) */
	bool trace_go;		/* its runtime layout is known */
	bool has_malloc;	/* a malloc to probe (C, C++, cgo) */
	struct symbolizer *sym;
	struct stack_cache stacks;
	struct history mem_history;	/* bytes per allocation site, per second */
	struct history heap_history;	/* Go heap in use per allocation stack */
	struct diff_history changes;	/* for the diff tables */
	uint64_t seq;		/* snapshots stored */
	double start;
	FILE *tables;	/* stdout, or stderr when JSON goes to stdout */
};

static int load_goheap(struct session *s)
{
	struct goheap_bpf *skel;
	int err;

	if (goheap_init(&s->hs, s->target.pid, &s->go.bin)) {
		fprintf(stderr, "leaktop: runtime.MemProfileRate not found: no Go heap sampling\n");
		return 0;
	}
	skel = goheap_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->malloc_size_in_rcx = s->go.bin.major == 1 && s->go.bin.minor >= 23;
	probes_prepare(skel->progs.goheap_entry);
	err = goheap_bpf__load(skel);
	if (err) {
		goheap_bpf__destroy(skel);
		return err;
	}
	s->heap = skel;
	return 0;
}

/* Which tracers fit the program: native memory where there is a malloc,
 * threads for native programs, goroutines for Go (whose threads are the
 * runtime's business). */
static int choose_tracers(struct session *s)
{
	int err = go_state_init(&s->go, s->target.pid, s->target.exe);

	s->is_go = err != -ENOEXEC && err != -ENOENT;
	s->trace_go = err == 0;
	/* A launched command is predicted from our environment (it inherits
	 * it); a running one is read from its own environment and mappings. */
	s->has_malloc = providers_find(s->opt.pid, s->target.exe, &s->prov) == 0 &&
			!s->opt.no_memory;
	if (!s->has_malloc && !s->is_go && !s->opt.no_memory) {
		fprintf(stderr, "leaktop: %s uses no malloc we can find (no malloc/mmap exported)\n",
			s->target.exe);
		return -ENOEXEC;
	}
	return 0;
}

static int take_target(struct session *s)
{
	int err;

	if (s->opt.pid)
		err = target_attach(s->opt.pid, &s->target);
	else
		err = target_launch(s->opt.cmd, &s->target);
	if (err)
		return err;
	if (s->target.launched && target_trace_exit(&s->target)) {
		fprintf(stderr, "leaktop: cannot watch %s for its exit: %s\n", s->target.exe,
			strerror(errno));
		return -EPERM;
	}
	return choose_tracers(s);
}

static void build_snapshot(struct session *s, struct lt_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap->pid = s->target.pid;
	snprintf(snap->comm, sizeof(snap->comm), "%s", s->target.comm);
	snap->exe = s->target.exe;
	snap->allocator = s->prov.malloc_obj;
	snap->degraded = kfeatures_degraded();
	snap->exited = s->target.exited;
	snap->duration_s = mono_s() - s->start;
	snap->min_age_s = s->opt.min_age_s;
	snap->min_block_s = s->opt.min_block_s;
	if (!s->alloc)
		alloc_lost_none(&snap->lost);
	if ((s->alloc &&
	     alloc_drain(s->alloc, s->sym, &s->stacks, &s->mem_history, s->opt.min_age_s, snap)) ||
	    (s->threads &&
	     threads_drain(s->threads, s->sym, &s->stacks, &s->ts, s->opt.min_block_s, snap)) ||
	    (s->gor && go_drain(s->gor, s->sym, &s->stacks, &s->go, s->opt.min_block_s, snap)) ||
	    (s->heap &&
	     goheap_drain(s->heap, s->sym, &s->stacks, &s->hs, &s->heap_history, snap)))
		fprintf(stderr, "leaktop: reading the maps failed: %s\n", strerror(errno));
	snapshot_sort(snap);
}

static void report(struct session *s, bool final)
{
	struct lt_snapshot snap;

	build_snapshot(s, &snap);
	if (!s->opt.quiet)
		render_table(s->tables, &snap, s->opt.top);
	if (final)
		export_all(&s->opt.out, &snap);
	if (s->opt.snapshot_dir)
		snapdir_store(s->opt.snapshot_dir, &snap, ++s->seq, s->opt.keep);
	if (s->opt.interval_s && !s->opt.quiet)
		render_changes(s->tables, &s->changes, &snap, s->opt.top);
	snapshot_free(&snap);
}

/* Symbolize what is new while the process's mappings can still be read. */
static void tick(struct session *s)
{
	symbolizer_refresh(s->sym);
	if (s->alloc)
		alloc_tick(s->alloc, s->target.pid, s->sym, &s->stacks, &s->mem_history);
	if (s->threads)
		threads_tick(s->threads, s->sym, &s->stacks, &s->ts);
	if (s->gor)
		go_tick(s->gor, s->sym, &s->stacks, &s->go);
	if (s->heap) {
		goheap_tick(&s->hs);
		goheap_sample(s->heap, &s->hs, &s->heap_history);
	}
}

static int signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);	/* the terminal went away: still clean up */
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &target_sigmask);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Returns when it is time for the final report. */
static void run_loop(struct session *s, int sfd)
{
	double next_tick = mono_s(), next_table = s->start + s->opt.interval_s;
	double end = s->opt.duration_s ? s->start + s->opt.duration_s : 0;

	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = s->target.pidfd, .events = POLLIN } };
		struct signalfd_siginfo si;
		double t = mono_s(), wake = next_tick;
		int state;

		if (s->opt.interval_s && next_table < wake)
			wake = next_table;
		if (end && end < wake)
			wake = end;
		poll(p, 2, wake > t ? (int)((wake - t) * 1000) + 1 : 0);
		while (read(sfd, &si, sizeof(si)) == sizeof(si))
			if (si.ssi_signo != SIGCHLD)
				return;
		state = target_wait(&s->target);
		if (state == TARGET_EXITING) {
			tick(s);
			target_continue(&s->target);
			continue;
		}
		if (state == TARGET_EXITED)
			return;
		t = mono_s();
		if (end && t >= end)
			return;
		if (t >= next_tick) {
			tick(s);
			next_tick = t + TICK_MS / 1000.0;
		}
		if (s->opt.interval_s && t >= next_table) {
			report(s, false);
			next_table += s->opt.interval_s;
		}
	}
}

/* A tracer that cannot load is turned off with one line; the others go
 * on. Only when none loads is it an error. */
static int tracer_off(const char *what, int err, int *loaded)
{
	if (!err) {
		(*loaded)++;
		return 0;
	}
	if (err != -ESRCH)
		fprintf(stderr, "leaktop: %s off: cannot load its BPF programs: %s\n", what,
			strerror(-err));
	return err;
}

static int load_all(struct session *s)
{
	int err = 0, loaded = 0;

	if (s->has_malloc)
		err = tracer_off("memory tracer", tracers_load_alloc(&s->opt, s->target.pid,
								     &s->alloc), &loaded);
	if (err != -ESRCH && !s->is_go) {
		err = tracer_off("thread tracer", tracers_load_threads(&s->opt, s->target.pid,
								       &s->threads), &loaded);
		s->ts.pid = s->target.pid;
	}
	if (err != -ESRCH && s->trace_go)
		err = tracer_off("goroutine tracer", tracers_load_goroutines(&s->opt, &s->gor),
				 &loaded);
	if (err != -ESRCH && s->trace_go)
		err = tracer_off("Go heap tracer", load_goheap(s), &loaded);
	if (err == -ESRCH)	/* libbpf's answer when it finds no vmlinux BTF */
		fprintf(stderr, "leaktop: cannot load BPF programs: the kernel exposes no BTF "
			"(/sys/kernel/btf/vmlinux); leaktop needs CONFIG_DEBUG_INFO_BTF=y\n");
	if (err == -ESRCH || !loaded)
		return err ? err : -ENOTSUP;
	return 0;
}

static int attach_all(struct session *s)
{
	pid_t pid = s->target.pid;
	int err = 0;

	if (s->alloc)
		err = alloc_probes_attach(s->alloc, pid, &s->prov);
	if (!err && s->threads)
		err = thread_probes_attach(s->threads, pid, &s->prov);
	if (!err && s->gor)
		err = go_probes_attach(s->gor, pid, &s->go, s->target.exe);
	if (!err && s->heap)
		err = goheap_attach(s->heap, pid, &s->go.bin, s->target.exe);
	/* After the programs: a thread they saw first is theirs to describe. */
	if (!err && s->threads)
		threads_census(s->threads);
	return err;
}

static int start(struct session *s)
{
	int err = load_all(s);

	if (err)
		return 1;
	s->sym = symbolizer_new(s->target.pid);
	if (!s->sym)
		return 1;
	if (s->is_go && s->trace_go)
		tracers_name_go(s->sym, s->target.exe, &s->go.bin);
	if (!s->target.launched)
		symbolizer_refresh(s->sym);
	if (attach_all(s))
		return 1;
	if (target_release(&s->target, s->opt.cmd))
		return EXIT_BAD_INPUT;
	if (s->target.launched) {	/* held at its exec: its own mappings */
		symbolizer_refresh(s->sym);
		target_continue(&s->target);
	}
	return 0;
}

static void finish(struct session *s)
{
	if (s->heap && !s->target.exited)
		goheap_stop(&s->hs);
	probes_detach();
	if (s->target.launched && !s->target.exited && s->target.gate >= 0)
		target_abort(&s->target);
	alloc_bpf__destroy(s->alloc);
	threads_bpf__destroy(s->threads);
	goroutines_bpf__destroy(s->gor);
	goheap_bpf__destroy(s->heap);
	thread_state_free(&s->ts);
	if (s->trace_go)
		go_state_free(&s->go);
	symbolizer_free(s->sym);
	diff_history_free(&s->changes);
	stack_cache_free(&s->stacks);
	history_free(&s->mem_history);
	history_free(&s->heap_history);
	providers_free(&s->prov);
	target_close(&s->target);
}

int cmd_trace(int argc, char **argv)
{
	struct session s = { 0 };
	int err, sfd;

	err = options_parse(argc, argv, &s.opt);
	if (err)
		return err > 0 ? 0 : EXIT_BAD_INPUT;
	if (s.opt.all)
		return system_run(&s.opt);
	s.tables = s.opt.out.json && strcmp(s.opt.out.json, "-") == 0 ? stderr : stdout;
	if (tracers_check_privileges(&s.opt))
		return 1;
	sfd = signal_fd();
	err = take_target(&s);
	if (err) {
		target_abort(&s.target);
		finish(&s);
		return err == -EPERM ? 1 : EXIT_BAD_INPUT;
	}
	features_say_degraded();	/* the input was good: now it matters */
	err = start(&s);
	s.start = mono_s();
	if (!err) {
		fprintf(stderr, "leaktop: tracing pid %d (%s): %d probe links, allocator %s\n", s.target.pid,
			s.target.comm, probes_count(),
			s.prov.malloc_obj ? s.prov.malloc_obj : "none");
		run_loop(&s, sfd);
		if (!s.target.exited)
			tick(&s);
		report(&s, true);
	}
	finish(&s);
	close(sfd);
	return err;
}
