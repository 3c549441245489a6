// SPDX-License-Identifier: GPL-2.0
/* Thread maps -> thread groups with verdicts. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lib/clock.h"
#include "collect/bpf_counters.h"
#include "output/render.h"
#include "symbols/symbolize.h"
#include "probes/kfeatures.h"
#include "target/procmaps.h"
#include "collect/thread_drain.h"
#include "threads.skel.h"
#include "symbols/unwind.h"

#define MAX_UNWIND 64

/* What a thread sleeps in, for the "wait" column. */
static const char *wait_name(int64_t nr, uint32_t state)
{
	static const struct { int nr; const char *name; } sys[] = {
		{ 0, "read" }, { 1, "write" }, { 7, "poll" }, { 17, "pread64" },
		{ 23, "select" }, { 34, "pause" }, { 35, "nanosleep" }, { 43, "accept" },
		{ 45, "recvfrom" }, { 47, "recvmsg" }, { 61, "wait4" }, { 128, "rt_sigtimedwait" },
		{ 130, "rt_sigsuspend" }, { 202, "futex" }, { 230, "clock_nanosleep" },
		{ 232, "epoll_wait" }, { 270, "pselect6" }, { 271, "ppoll" }, { 281, "epoll_pwait" },
		{ 288, "accept4" }, { 441, "epoll_pwait2" },
	};

	for (size_t i = 0; nr >= 0 && i < sizeof(sys) / sizeof(sys[0]); i++)
		if (sys[i].nr == nr)
			return sys[i].name;
	if (nr >= 0)
		return "syscall";
	return state & 2 ? "uninterruptible" : "sleeping";
}

/* Run the census iterator over the threads of tgid (0: every process
 * leaktop traces), fn for each. */
static int census_walk(struct threads_bpf *skel, pid_t tgid,
		       void (*fn)(const struct lt_census *c, void *arg), void *arg)
{
	union bpf_iter_link_info linfo = { .task.pid = tgid };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo,
		    .link_info_len = sizeof(linfo));
	bool by_pid = tgid && feature_has(LT_FEAT_TASK_ITER_PID);	/* else BPF filters */
	struct bpf_link *link;
	struct lt_census c;
	int fd;

	if (bpf_program__fd(skel->progs.census) < 0)
		return -ENOTSUP;
	link = bpf_program__attach_iter(skel->progs.census, by_pid ? &opts : NULL);
	fd = link ? bpf_iter_create(bpf_link__fd(link)) : -1;
	if (fd < 0) {
		bpf_link__destroy(link);
		return -errno;
	}
	while (read(fd, &c, sizeof(c)) == sizeof(c))
		fn(&c, arg);
	close(fd);
	bpf_link__destroy(link);
	return 0;
}

struct census_add {
	int map;
	uint64_t now;
	int n;
};

static void census_add(const struct lt_census *c, void *arg)
{
	struct census_add *a = arg;
	struct lt_thread t = {
		.tgid = c->tgid,
		.pthread = c->pthread,
		.flags = LT_T_CENSUS | (c->tid == c->tgid ? LT_T_MAIN : 0),
		.state = c->state,
		.stack_bytes = c->stack_bytes,
		.stack_sp = c->regs[LT_R_SP],
	};
	uint64_t slept = c->now_ns > c->exec_start_ns ? c->now_ns - c->exec_start_ns : 0;

	/* The scheduler clock says when it last ran: its block began then. */
	if (c->state != 0)
		t.blocked_ns = a->now > slept ? a->now - slept : 1;
	/* A thread the programs already saw is theirs to describe. */
	if (bpf_map_update_elem(a->map, &c->tid, &t, BPF_NOEXIST) == 0)
		a->n++;
}

int threads_census(struct threads_bpf *skel)
{
	struct census_add a = { .map = bpf_map__fd(skel->maps.threads), .now = mono_ns() };
	uint64_t zero = 0;
	struct lt_tsite site;
	int err = census_walk(skel, skel->rodata->target_tgid, census_add, &a);

	if (err)
		return err;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.tsites), &zero, &site) == 0) {
		site.live += a.n;
		bpf_map_update_elem(bpf_map__fd(skel->maps.tsites), &zero, &site, BPF_EXIST);
	}
	return a.n;
}

/* The process's threads as they are now: asleep or not, and the user
 * registers and syscall of the sleeping ones (the switch program records
 * only when a block began). */
static void census_keep(const struct lt_census *c, void *arg)
{
	struct lt_census *copy;

	if (!c->state)
		return;
	copy = malloc(sizeof(*copy));
	if (copy && idmap_put(arg, c->tid, copy)) {
		free(copy);
		return;
	}
	if (copy)
		*copy = *c;
}

static void sleepers_free(struct idmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->used[i])
			free(m->vals[i]);
	idmap_free(m);
}

static const struct lt_stack *creation_stack(struct symbolizer *sym, struct stack_cache *c,
					     uint64_t id, const struct lt_tsite *s)
{
	return stack_cache_get(c, sym, id, &s->st, "pthread_create");
}

static bool site_growing(struct thread_state *ts, uint64_t site, struct trend *t)
{
	return site && history_trend(&ts->sites, site, t) == 0 && trend_growing(t);
}

/* One row of the per-site table; the change is since the last report
 * (idmap values are stored + 1 so that 0 means "never reported"). */
static void add_site_row(struct lt_snapshot *snap, struct thread_state *ts, uint64_t key,
			 const struct lt_tsite *s, const struct lt_stack *st)
{
	int64_t now = s->live + s->unjoined;
	int64_t before = (intptr_t)idmap_get(&ts->reported, key);
	struct lt_site_count *r;
	struct trend t;

	before = before ? before - 1 : 0;
	idmap_put(&ts->reported, key, (void *)(intptr_t)(now + 1));
	if (!now && now == before)
		return;
	snap->sites = realloc(snap->sites, (snap->nsites + 1) * sizeof(*snap->sites));
	if (!snap->sites)
		abort();
	r = &snap->sites[snap->nsites++];
	r->created_by = st;
	r->live = s->live;
	r->unjoined = s->unjoined;
	r->change = now - before;
	r->growing = site_growing(ts, key, &t);
}

/* Symbolize new creation sites; with sample, add to their histories; with
 * snap, one row per site. */
static void sync_sites(struct threads_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
		       struct thread_state *ts, bool sample, struct lt_snapshot *snap)
{
	int fd = bpf_map__fd(skel->maps.tsites);
	uint64_t key, next, *prev = NULL;
	struct lt_tsite s;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		const struct lt_stack *st;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &s) || s.tgid != (uint32_t)ts->pid)
			continue;
		st = creation_stack(sym, c, key, &s);
		if (sample)
			history_add(&ts->sites, key, s.live + s.unjoined);
		if (snap)
			add_site_row(snap, ts, key, &s, st);
	}
}

/*
 * Where the kernel has no bpf_find_vma, size the stacks of the process's
 * threads BPF recorded with only their sp, from /proc/PID/maps while it
 * can still be read (a launched one is held at its exit for this tick).
 */
static void size_stacks(struct threads_bpf *skel, struct thread_state *ts)
{
	int fd = bpf_map__fd(skel->maps.threads);
	struct procmaps pm = { 0 };
	const struct mapping *m;
	bool have_maps = false;
	struct lt_thread t;
	uint32_t tid, *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &tid) == 0) {
		prev = &tid;
		/* With -a the map holds every process: this state is ts->pid's. */
		if (bpf_map_lookup_elem(fd, &tid, &t) || t.tgid != (uint32_t)ts->pid ||
		    t.stack_bytes || !t.stack_sp || idmap_get(&ts->stacks, id_mix(tid, t.stack_sp)))
			continue;
		if (!have_maps && procmaps_read(ts->pid, &pm))
			return;
		have_maps = true;
		m = procmaps_find(&pm, t.stack_sp);
		if (m)
			idmap_put(&ts->stacks, id_mix(tid, t.stack_sp),
				  (void *)(uintptr_t)(m->end - m->start));
	}
	if (have_maps)
		procmaps_free(&pm);
}

static uint64_t stack_bytes(const struct thread_state *ts, uint32_t tid,
			    const struct lt_thread *t)
{
	if (t->stack_bytes || !t->stack_sp)
		return t->stack_bytes;
	return (uintptr_t)idmap_get(&ts->stacks, id_mix(tid, t->stack_sp));
}

void threads_tick(struct threads_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
		  struct thread_state *ts)
{
	sync_sites(skel, sym, c, ts, true, NULL);
	if (!skel->rodata->find_vma_ok)
		size_stacks(skel, ts);
}

/* Groups under construction, found by key, with their creation site. */
struct builder {
	struct lt_snapshot *snap;
	struct idmap idx;	/* key -> index + 1 */
	uint64_t *site;		/* creation stack id of each group */
	int cap;
};

static struct lt_group *group_for(struct builder *b, uint64_t key, enum lt_group_kind kind,
				  uint64_t site)
{
	uintptr_t i = (uintptr_t)idmap_get(&b->idx, key);
	struct lt_group *g;

	if (i)
		return &b->snap->tgroups[i - 1];
	if (b->snap->ntgroups == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 32;
		b->snap->tgroups = realloc(b->snap->tgroups, b->cap * sizeof(*g));
		b->site = realloc(b->site, b->cap * sizeof(*b->site));
		if (!b->snap->tgroups || !b->site)
			abort();
	}
	b->site[b->snap->ntgroups] = site;
	g = &b->snap->tgroups[b->snap->ntgroups++];
	memset(g, 0, sizeof(*g));
	g->kind = kind;
	idmap_put(&b->idx, key, (void *)(uintptr_t)b->snap->ntgroups);
	return g;
}

/* The blocking stack of a sleeping thread, unwound once per block. */
static const struct lt_stack *blocking_stack(struct symbolizer *sym, struct stack_cache *c,
					     struct thread_state *ts, uint32_t tid,
					     const struct lt_thread *t, const struct lt_census *now)
{
	uint64_t key = id_mix(tid, t->blocked_ns), ip[MAX_UNWIND];
	const struct lt_stack *st = idmap_get(&ts->unwound, key);
	int n;

	if (st)
		return st;
	n = unwind_thread(sym, ts->pid, tid, (const uint64_t *)now->regs, ip, MAX_UNWIND);
	if (n <= 0)
		return &lt_unknown_stack;
	st = stack_cache_ips(c, sym, ip, n, false);
	idmap_put(&ts->unwound, key, (void *)st);
	return st;
}

/*
 * A thread whose whole stack is libc's clone trampoline has not entered its
 * start routine yet: the kernel holds it on the way out of clone (seen once
 * in CI on a thread spawned every 250 ms: one group of 1, frames [__clone3]),
 * which no program can block on forever.
 */
static bool not_started(const struct lt_stack *st)
{
	static const char *const entry_fns[] = { "__clone3", "__clone", "clone", "clone3", NULL };
	const char *fn = st->nframes == 1 ? st->frames[0].function : NULL;

	for (int i = 0; fn && entry_fns[i]; i++)
		if (strcmp(fn, entry_fns[i]) == 0)
			return true;
	return false;
}

/* The stack a thread blocked min_block_s or more sleeps in; NULL if it
 * does not count as blocked. */
static const struct lt_stack *sleeping_stack(struct symbolizer *sym, struct stack_cache *c,
					     struct thread_state *ts, uint32_t tid,
					     const struct lt_thread *t, double blocked,
					     double min_block_s, const struct lt_census *asleep)
{
	const struct lt_stack *st;

	if (!t->blocked_ns || blocked < min_block_s || !asleep)
		return NULL;
	st = blocking_stack(sym, c, ts, tid, t, asleep);
	return not_started(st) ? NULL : st;
}

static void add_thread(struct builder *b, struct symbolizer *sym, struct stack_cache *c,
		       struct thread_state *ts, uint32_t tid, const struct lt_thread *t,
		       uint64_t now, double min_block_s, const struct idmap *sleepers)
{
	const struct lt_stack *created = idmap_get(&c->ids, t->create_stack);
	double blocked = t->blocked_ns ? (now - t->blocked_ns) / 1e9 : 0;
	const struct lt_census *asleep = idmap_get(sleepers, tid);
	const struct lt_stack *st;
	struct lt_group *g;
	double age;

	if (!created)
		created = &lt_unknown_stack;
	if (t->flags & LT_T_EXITED) {
		g = group_for(b, id_mix(1, t->create_stack), LT_G_UNJOINED, t->create_stack);
		g->stack = g->created_by = created;
		g->bytes += stack_bytes(ts, tid, t);
		age = (now - t->exited_ns) / 1e9;
	} else if ((st = sleeping_stack(sym, c, ts, tid, t, blocked, min_block_s, asleep))) {
		g = group_for(b, id_mix(id_mix(2, (uintptr_t)st), t->create_stack), LT_G_BLOCKED,
			      t->create_stack);
		g->stack = st;
		g->created_by = created;
		g->wait = wait_name(asleep->syscall, asleep->state);
		age = blocked;
	} else {
		g = group_for(b, id_mix(3, t->create_stack), LT_G_RUNNING, t->create_stack);
		g->stack = g->created_by = created;
		age = t->created_ns ? (now - t->created_ns) / 1e9 : 0;
	}
	g->count++;
	if (age > g->oldest_age_s)
		g->oldest_age_s = age;
}

/* Does the stack wait for a lock (as opposed to work, I/O or a signal)? */
static bool waits_for_lock(const struct lt_stack *st)
{
	static const char *const lock_fns[] = {
		"pthread_mutex_lock", "__pthread_mutex_lock", "__lll_lock_wait",
		"pthread_rwlock_rdlock", "pthread_rwlock_wrlock", "__pthread_rwlock_rdlock",
		"__pthread_rwlock_wrlock", NULL,
	};

	for (int i = 0; i < st->nframes && i < 6; i++)
		for (int j = 0; st->frames[i].function && lock_fns[j]; j++)
			if (strcmp(st->frames[i].function, lock_fns[j]) == 0)
				return true;
	return false;
}

static void judge(struct lt_group *g, const struct trend *t, bool growing, double min_block_s)
{
	char grow[96] = "";
	char b[32];

	if (growing)
		snprintf(grow, sizeof(grow), "threads from its creation site rose from %ld to %ld over %ds",
			 t->first, t->last, t->n - 1);
	switch (g->kind) {
	case LT_G_UNJOINED:
		g->leak = growing || g->oldest_age_s >= min_block_s;
		snprintf(g->why, sizeof(g->why),
			 "%ld thread%s exited (oldest %.1fs ago) and %s never joined nor detached; "
			 "%s of stack stays mapped%s%s", g->count, g->count == 1 ? "" : "s",
			 g->oldest_age_s, g->count == 1 ? "was" : "were",
			 human_bytes(g->bytes, b, sizeof(b)), growing ? "; " : "", grow);
		return;
	case LT_G_BLOCKED:
		if (growing) {
			g->leak = true;
			snprintf(g->why, sizeof(g->why), "blocked in %s; %s", g->wait, grow);
		} else if (waits_for_lock(g->stack)) {
			g->leak = true;
			snprintf(g->why, sizeof(g->why),
				 "waiting %.1fs for a lock nobody releases", g->oldest_age_s);
		} else {
			snprintf(g->why, sizeof(g->why), "blocked in %s up to %.1fs, count not growing%s",
				 g->wait, g->oldest_age_s,
				 g->count > 1 ? " (an idle pool looks like this)" : "");
		}
		return;
	default:
		g->leak = growing;
		if (growing)
			snprintf(g->why, sizeof(g->why), "%s", grow);
		else
			snprintf(g->why, sizeof(g->why), "live, count not growing");
	}
}

static const char *const tlost_names[LT_TLOST_MAX] = {
	[LT_TLOST_THREAD_MAP_FULL] = "thread_map_full",
	[LT_TLOST_STACK_MAP_FULL] = "stack_map_full",
};

int threads_drain(struct threads_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
		  struct thread_state *ts, double min_block_s, struct lt_snapshot *snap)
{
	int fd = bpf_map__fd(skel->maps.threads);
	struct builder b = { .snap = snap };
	uint32_t key, next, *prev = NULL;
	uint64_t now = mono_ns();
	struct idmap sleepers = { 0 };
	struct lt_thread t;

	snap->has_threads = true;
	snap->min_block_s = min_block_s;
	snap->live_threads = 0;
	counters_read(bpf_map__fd(skel->maps.tlost), tlost_names, LT_TLOST_MAX, &snap->tlost);
	sync_sites(skel, sym, c, ts, false, snap);
	census_walk(skel, ts->pid, census_keep, &sleepers);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &t) || t.tgid != (uint32_t)ts->pid)
			continue;
		snap->live_threads += !(t.flags & LT_T_EXITED);
		add_thread(&b, sym, c, ts, key, &t, now, min_block_s, &sleepers);
	}
	for (int i = 0; i < snap->ntgroups; i++) {
		struct trend tr;
		bool growing = site_growing(ts, b.site[i], &tr);

		judge(&snap->tgroups[i], &tr, growing, min_block_s);
	}
	idmap_free(&b.idx);
	sleepers_free(&sleepers);
	free(b.site);
	return 0;
}

void thread_state_free(struct thread_state *ts)
{
	history_free(&ts->sites);
	idmap_free(&ts->unwound);
	idmap_free(&ts->reported);
	idmap_free(&ts->stacks);
}
