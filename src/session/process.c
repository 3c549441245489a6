// SPDX-License-Identifier: GPL-2.0
/*
 * One process traced (-p, -- CMD): take the target, resolve its allocator,
 * load and attach the BPF programs; then every tick symbolize new stacks
 * (so they outlive the process), print tables on the interval, and the
 * final report at the end (session/run.c decides when).
 */
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.skel.h"
#include "lib/clock.h"
#include "collect/alloc_drain.h"
#include "model/diff.h"
#include "store/snapdir.h"
#include "output/render_diff.h"
#include "probes/alloc_probes.h"
#include "cli/options.h"
#include "probes/probes.h"
#include "probes/providers.h"
#include "output/render.h"
#include "symbols/symbolize.h"
#include "target/target.h"
#include "collect/go_drain.h"
#include "collect/go_heap.h"
#include "goheap.skel.h"
#include "probes/go_probes.h"
#include "goroutines.skel.h"
#include "collect/thread_drain.h"
#include "probes/thread_probes.h"
#include "threads.skel.h"
#include "fds.skel.h"
#include "collect/fd_drain.h"
#include "probes/fd_probes.h"
#include "kmem.skel.h"
#include "collect/kmem_drain.h"
#include "probes/kmem_probes.h"
#include "session/process.h"
#include "session/run.h"
#include "probes/kfeatures.h"
#include "session/tracers.h"
#include "probes/cfi_tables.h"

struct session {
	struct run run;		/* run.target is &target */
	const struct options *opt;
	struct target target;
	struct providers prov;
	struct alloc_bpf *alloc;
	struct threads_bpf *threads;
	struct thread_state ts;
	struct goroutines_bpf *gor;
	struct go_state go;
	struct goheap_bpf *heap;
	struct goheap_state hs;
	struct fds_bpf *fds;
	struct fd_state fs;
	struct kmem_bpf *kmem;
	struct kallsyms kallsyms;
	struct kmem_state ks;
	bool is_go;		/* a Go binary (traced or not) */
	bool trace_go;		/* its runtime layout is known */
	bool has_malloc;	/* a malloc to probe (C, C++, cgo) */
	struct symbolizer *sym;
	struct cfi_tables *cfi;	/* NULL: frame pointers only */
	struct stack_cache stacks;
	struct history mem_history;	/* bytes per allocation site, per second */
	struct diff_history changes;	/* for the diff tables */
	uint64_t seq;		/* snapshots stored */
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
	skel->rodata->abi0 = !s->go.bin.regabi;
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
	s->has_malloc = providers_find(s->opt->pid, s->target.exe, &s->prov) == 0 &&
			!s->opt->no_memory;
	if (!s->has_malloc && !s->is_go && !s->opt->no_memory) {
		fprintf(stderr, "leaktop: %s uses no malloc we can find (no malloc/mmap exported)\n",
			s->target.exe);
		return -ENOEXEC;
	}
	return 0;
}

static int take_target(struct session *s)
{
	int err;

	if (s->opt->pid)
		err = target_attach(s->opt->pid, &s->target);
	else
		err = target_launch(s->opt->cmd, &s->target);
	if (err)
		return err;
	if (s->target.launched && target_trace_exit(&s->target)) {
		fprintf(stderr, "leaktop: cannot watch %s for its exit: %s\n", s->target.exe,
			strerror(errno));
		return -EPERM;
	}
	return choose_tracers(s);
}

static int kernel_drain(struct session *s, struct lt_snapshot *snap)
{
	struct idmap oldest = { 0 };
	struct kmem_sites all;
	int err;

	kmem_oldest(s->kmem, &oldest);
	kmem_sites_read(s->kmem, &all);
	err = kmem_drain(s->kmem, &s->ks, &all, &oldest, snap);
	kmem_sites_free(&all);
	idmap_free(&oldest);
	return err;
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
	snap->duration_s = mono_s() - s->run.start;
	snap->min_age_s = s->opt->min_age_s;
	snap->min_block_s = s->opt->min_block_s;
	snap->cost = s->run.cost;
	if (!s->alloc)
		alloc_lost_none(&snap->lost);
	if ((s->alloc &&
	     alloc_drain(s->alloc, s->sym, &s->stacks, &s->mem_history, s->opt->min_age_s, snap)) ||
	    (s->threads &&
	     threads_drain(s->threads, s->sym, &s->stacks, &s->ts, s->opt->min_block_s, snap)) ||
	    (s->gor && go_drain(s->gor, s->sym, &s->stacks, &s->go, s->opt->min_block_s, snap)) ||
	    (s->heap &&
	     goheap_drain(s->heap, s->sym, &s->stacks, &s->hs, snap)) ||
	    (s->fds && fds_drain(s->fds, s->sym, &s->stacks, &s->fs, snap)) ||
	    (s->kmem && kernel_drain(s, snap)))
		fprintf(stderr, "leaktop: reading the maps failed: %s\n", strerror(errno));
	snapshot_sort(snap);
}

static void report(void *ctx, bool final)
{
	struct session *s = ctx;
	struct lt_snapshot snap;

	build_snapshot(s, &snap);
	if (!s->opt->quiet)
		render_table(s->tables, &snap, s->opt->top);
	if (final)
		export_all(&s->opt->out, &snap);
	if (s->opt->snapshot_dir)
		snapdir_store(s->opt->snapshot_dir, &snap, ++s->seq, s->opt->keep);
	if (s->opt->interval_s && !s->opt->quiet)
		render_changes(s->tables, &s->changes, &snap, s->opt->top);
	session_show(&s->run, &snap, 1);
	snapshot_free(&snap);
}

/* Between reports, for a --listen client. */
static void publish(void *ctx)
{
	struct session *s = ctx;
	struct lt_snapshot snap;

	build_snapshot(s, &snap);
	session_show(&s->run, &snap, 1);
	snapshot_free(&snap);
}

/* Symbolize what is new while the process's mappings can still be read. */
static void tick(void *ctx)
{
	struct session *s = ctx;

	if (s->target.exited)
		return;
	symbolizer_refresh(s->sym);
	if (s->cfi)
		cfi_tables_update(s->cfi, s->target.pid);	/* dlopen */
	if (s->alloc)
		alloc_tick(s->alloc, s->target.pid, s->sym, &s->stacks, &s->mem_history);
	if (s->threads)
		threads_tick(s->threads, s->sym, &s->stacks, &s->ts);
	if (s->gor)
		go_tick(s->gor, s->sym, &s->stacks, &s->go);
	if (s->heap) {
		goheap_tick(&s->hs);
		goheap_sample(s->heap, &s->hs);
	}
	if (s->fds)
		fds_tick(s->fds, s->sym, &s->stacks, &s->fs);
	if (s->kmem) {
		struct kmem_sites all;

		kmem_sites_read(s->kmem, &all);
		kmem_tick(&s->ks, &all);
		kmem_sites_free(&all);
	}
}

/* A load that fails with the CFI walk is tried once more without the
 * tables: stacks by frame pointers, said in one line, rather than no
 * tracer. */
static void cfi_off(struct session *s, int err)
{
	fprintf(stderr, "leaktop: CFI stack unwinding off (%s): frame pointers only\n",
		strerror(-err));
	cfi_tables_free(s->cfi);
	s->cfi = NULL;
}

static int load_alloc(struct session *s)
{
	int err = tracers_load_alloc(s->opt, s->target.pid, s->cfi, &s->alloc);

	if (err && err != -ESRCH && s->cfi &&
	    !tracers_load_alloc(s->opt, s->target.pid, NULL, &s->alloc)) {
		cfi_off(s, err);
		err = 0;
	}
	return err;
}

static int load_threads(struct session *s)
{
	int err = tracers_load_threads(s->opt, s->target.pid, s->cfi, &s->threads);

	if (err && err != -ESRCH && err != -ENOTSUP && s->cfi &&
	    !tracers_load_threads(s->opt, s->target.pid, NULL, &s->threads)) {
		cfi_off(s, err);
		err = 0;
	}
	return err;
}

static int load_fds(struct session *s)
{
	int err = tracers_load_fds(s->opt, s->target.pid, s->cfi, &s->fds);

	if (err && err != -ESRCH && s->cfi &&
	    !tracers_load_fds(s->opt, s->target.pid, NULL, &s->fds)) {
		cfi_off(s, err);
		err = 0;
	}
	fd_state_init(&s->fs, s->target.pid);
	return err;
}

static int load_all(struct session *s)
{
	int err = 0, loaded = 0;

	if (!s->opt->fp_only)
		s->cfi = cfi_tables_new(s->opt->verbose);
	if (s->has_malloc)
		err = tracer_off("memory tracer", load_alloc(s), &loaded);
	if (err != -ESRCH && !s->is_go) {
		err = tracer_off("thread tracer", load_threads(s), &loaded);
		s->ts.pid = s->target.pid;
	}
	if (err != -ESRCH && s->trace_go)
		err = tracer_off("goroutine tracer", tracers_load_goroutines(s->opt, &s->gor),
				 &loaded);
	if (err != -ESRCH && s->trace_go)
		err = tracer_off("Go heap tracer", load_goheap(s), &loaded);
	if (err != -ESRCH && !s->opt->no_fds)
		err = tracer_off("fd tracer", load_fds(s), &loaded);
	if (err != -ESRCH && s->opt->kernel) {
		err = tracer_off("kernel memory tracer",
				 tracers_load_kmem(s->opt, s->target.pid, &s->kmem), &loaded);
		if (s->kmem) {
			kmem_symbols_load(&s->kallsyms);
			kmem_state_init(&s->ks, &s->kallsyms, s->target.pid);
		}
	}
	return tracers_loaded(err, loaded);
}

static int attach_all(struct session *s)
{
	pid_t pid = s->target.pid;
	int err = 0;

	if (s->alloc)
		err = alloc_probes_attach(s->alloc, pid, &s->prov, s->target.launched);
	if (!err && s->threads)
		err = thread_probes_attach(s->threads, pid, &s->prov);
	if (!err && s->gor)
		err = go_probes_attach(s->gor, pid, &s->go, s->target.exe);
	if (!err && s->heap)
		err = goheap_attach(s->heap, pid, &s->go.bin, s->target.exe);
	if (!err && s->fds)
		err = fd_probes_attach(s->fds);
	if (!err && s->kmem)
		kmem_probes_attach_or_off(&s->kmem);
	/* After the programs: a thread they saw first is theirs to describe. */
	if (!err && s->threads)
		threads_census(s->threads);
	return err;
}

static int load_and_attach(struct session *s)
{
	int err = load_all(s);

	if (err)
		return 1;
	s->sym = symbolizer_new(s->target.pid);
	if (!s->sym)
		return 1;
	if (s->is_go && s->trace_go)
		tracers_name_go(s->sym, s->target.exe, &s->go.bin);
	if (!s->target.launched) {
		symbolizer_refresh(s->sym);
		if (s->cfi)
			cfi_tables_update(s->cfi, s->target.pid);
	}
	if (attach_all(s))
		return 1;
	if (target_release(&s->target, s->opt->cmd))
		return EXIT_BAD_INPUT;
	if (s->target.launched) {	/* held at its exec: its own mappings */
		/* Its libraries are mapped by its entry point: tables for
		 * them before its first call of its own. */
		if (s->cfi && target_run_to_entry(&s->target) == 0)
			cfi_tables_update(s->cfi, s->target.pid);
		symbolizer_refresh(s->sym);
		target_continue(&s->target);
	}
	return 0;
}

static void finish(void *ctx)
{
	struct session *s = ctx;

	if (s->heap && !s->target.exited)
		goheap_stop(&s->hs);
	probes_detach();
	if (s->target.launched && !s->target.exited && s->target.gate >= 0)
		target_abort(&s->target);
	alloc_bpf__destroy(s->alloc);
	threads_bpf__destroy(s->threads);
	goroutines_bpf__destroy(s->gor);
	goheap_bpf__destroy(s->heap);
	fds_bpf__destroy(s->fds);
	fd_state_free(&s->fs);
	kmem_bpf__destroy(s->kmem);
	kmem_state_free(&s->ks);
	kallsyms_free(&s->kallsyms);
	thread_state_free(&s->ts);
	if (s->trace_go)
		go_state_free(&s->go);
	symbolizer_free(s->sym);
	cfi_tables_free(s->cfi);
	diff_history_free(&s->changes);
	stack_cache_free(&s->stacks);
	history_free(&s->mem_history);
	goheap_free(&s->hs);
	providers_free(&s->prov);
	target_close(&s->target);
}

/* Take the target, then trace it; 0, or the exit status. */
static int start(void *ctx)
{
	struct session *s = ctx;
	int err;

	s->tables = s->opt->out.json && strcmp(s->opt->out.json, "-") == 0 ? stderr : stdout;
	err = take_target(s);
	if (err) {
		target_abort(&s->target);
		return err == -EPERM ? 1 : EXIT_BAD_INPUT;
	}
	features_say_degraded();	/* the input was good: now it matters */
	err = load_and_attach(s);
	if (err)
		return err;
	fprintf(stderr, "leaktop: tracing pid %d (%s): %d probe links, allocator %s\n",
		s->target.pid, s->target.comm, probes_count(),
		s->prov.malloc_obj ? s->prov.malloc_obj : "none");
	return 0;
}

static const struct session_ops process_ops = {
	.start = start, .tick = tick, .report = report, .finish = finish, .publish = publish,
};

int process_trace(const struct options *o)
{
	struct session s = { .opt = o };

	s.run = (struct run){ .opt = o, .target = &s.target };
	return session_run(&s.run, &process_ops, &s);
}
