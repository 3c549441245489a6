// SPDX-License-Identifier: GPL-2.0
/* Goroutine census -> goroutine groups with verdicts. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/clock.h"
#include "collect/bpf_counters.h"
#include "go/go_census.h"
#include "collect/go_drain.h"
#include "goroutines.h"
#include "goroutines.skel.h"
#include "probes/probes.h"
#include "symbols/symbolize.h"

int go_state_init(struct go_state *gs, pid_t pid, const char *exe)
{
	int err;

	memset(gs, 0, sizeof(*gs));
	gs->pid = pid;
	err = gobin_open(exe, &gs->bin);
	if (err)
		return err;
	err = gobin_layout(&gs->bin, &gs->layout);
	if (err) {
		fprintf(stderr, "leaktop: %s is Go %s, whose runtime layout leaktop does not "
			"know (no DWARF, no table): goroutines not traced\n", exe,
			gs->bin.version[0] ? gs->bin.version : "(unknown version)");
		gobin_close(&gs->bin);
		return -ENOTSUP;
	}
	if (gobin_find_var(&gs->bin, "runtime.allgs", &gs->allgs))
		fprintf(stderr, "leaktop: runtime.allgs not found in %s: no goroutine census\n",
			exe);
	if (probes_verbose)
		fprintf(stderr, "leaktop: %s: Go %s from %s; runtime.g layout from %s; %s ABI%s\n",
			exe, gs->bin.version, gs->bin.version_from ? gs->bin.version_from : "?",
			gs->layout.source, gs->bin.regabi ? "register" : "stack (ABI0)",
			gs->bin.stripped ? "; stripped: functions from .gopclntab" : "");
	gs->attach_ns = mono_ns();
	return 0;
}

void go_state_free(struct go_state *gs)
{
	history_free(&gs->groups);
	idmap_free(&gs->system);
	gobin_close(&gs->bin);
}

/* A runtime goroutine (GC workers, finalizers, timers): its start
 * function is in package runtime, runtime.main excepted (traceback.go
 * isSystemGoroutine). */
static bool is_system(struct symbolizer *sym, struct go_state *gs, uint64_t startpc)
{
	uintptr_t v = (uintptr_t)idmap_get(&gs->system, startpc);
	const struct lt_frame *f;
	struct lt_stack *st;

	if (v)
		return v == 1;
	/* Named by .gopclntab, so that a stripped binary answers the same;
	 * the physical function is the last frame. */
	st = stack_from_ips(sym, &startpc, 1, false);
	f = st && st->nframes ? &st->frames[st->nframes - 1] : NULL;
	v = f && f->function && strncmp(f->function, "runtime.", 8) == 0 &&
	    strcmp(f->function, "runtime.main") != 0 ? 1 : 2;
	stack_free(st);
	idmap_put(&gs->system, startpc, (void *)v);
	return v == 1;
}

static const char *reason_name(const struct go_state *gs, const struct go_g *g)
{
	/* runtime2.go: _Gcopystack (8) is a running goroutine growing its
	 * stack, _Gpreempted (9) one suspended to resume. */
	static const char *const status[] = { "idle", "runnable", "running", "syscall",
					      NULL, NULL, NULL, NULL, "running", "runnable" };
	const char *r;

	if (g->status != GO_WAITING)
		return g->status < 10 && status[g->status] ? status[g->status] : "other";
	r = g->reason < 64 ? gs->layout.wait_reason[g->reason] : NULL;
	return r ? r : "waiting";
}

/* Key of the group a goroutine belongs to: reason, stack, creation site. */
static uint64_t group_key(const struct go_g *g)
{
	uint64_t k = id_mix(g->status, g->status == GO_WAITING ? g->reason : 0);

	for (int i = 0; i < g->nframes; i++)
		k = id_mix(k, g->ip[i]);
	return id_mix(k, g->gopc);
}

/* Waits that an idle worker also sits in; the others, held past
 * --min-block, mean the goroutine is stuck. */
static bool idle_wait(const char *r)
{
	static const char *const idle[] = {
		"chan receive", "select", "IO wait", "sleep", "sync.Cond.Wait", "running",
		"runnable", "syscall", "idle", NULL,
	};

	for (int i = 0; idle[i]; i++)
		if (strcmp(r, idle[i]) == 0)
			return true;
	return false;
}

static bool never_returns(const char *r)
{
	return strstr(r, "(nil chan)") || strcmp(r, "select (no cases)") == 0;
}

/* Forget parks of goroutines that are no longer parked (goids are never
 * reused, so the map would only grow). */
static void prune_parks(struct goroutines_bpf *skel, pid_t pid, struct idmap *waiting,
			uint64_t before)
{
	int fd = bpf_map__fd(skel->maps.parks);
	struct lt_park_key key, next, *prev = NULL;
	struct lt_park p;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		if (key.tgid == (uint32_t)pid && !idmap_get(waiting, key.goid) &&
		    bpf_map_lookup_elem(fd, &key, &p) == 0 && p.parked_ns < before) {
			bpf_map_delete_elem(fd, &key);
			continue;	/* prev stays: iteration goes on from there */
		}
		prev = &key;
	}
}

void go_tick(struct goroutines_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
	     struct go_state *gs)
{
	struct idmap counts = { 0 }, waiting = { 0 };
	uint64_t start = mono_ns();
	struct go_g *g = NULL;
	int n;

	(void)c;
	if (!gs->allgs)
		return;
	n = go_census(gs->pid, &gs->layout, gs->allgs, &g);
	for (int i = 0; i < n; i++) {
		uint64_t k;

		if (g[i].status == GO_WAITING)
			idmap_put(&waiting, g[i].goid, (void *)1);
		if (is_system(sym, gs, g[i].startpc))
			continue;
		k = group_key(&g[i]);
		idmap_put(&counts, k, (void *)((uintptr_t)idmap_get(&counts, k) + 1));
	}
	for (size_t i = 0; i < counts.cap; i++)
		if (counts.used[i])
			history_add(&gs->groups, counts.keys[i], (uintptr_t)counts.vals[i]);
	if (n >= 0)
		prune_parks(skel, gs->pid, &waiting, start);
	idmap_free(&counts);
	idmap_free(&waiting);
	free(g);
}

/* When it parked: from the gopark probe if it saw this park, else it was
 * parked before we attached (age is then at least our run time). */
static double park_age(struct goroutines_bpf *skel, struct go_state *gs, const struct go_g *g,
		       uint64_t now, bool *known)
{
	struct lt_park_key k = { .goid = g->goid, .tgid = gs->pid };
	struct lt_park p;

	*known = bpf_map_lookup_elem(bpf_map__fd(skel->maps.parks), &k, &p) == 0 &&
		 p.g == g->g && p.gopc == g->gopc && p.reason == g->reason;
	if (*known)
		return (now - p.parked_ns) / 1e9;
	return (now - gs->attach_ns) / 1e9;
}

static void judge(struct lt_group *g, struct go_state *gs, uint64_t key, double min_block_s)
{
	struct trend t;
	bool growing = history_trend(&gs->groups, key, &t) == 0 && trend_growing(&t);

	if (growing) {
		g->leak = true;
		snprintf(g->why, sizeof(g->why), "%s: count rose from %ld to %ld over %ds", g->wait,
			 t.first, t.last, t.n - 1);
	} else if (never_returns(g->wait)) {
		g->leak = true;
		snprintf(g->why, sizeof(g->why), "%s can never return", g->wait);
	} else if (!idle_wait(g->wait) && g->oldest_age_s >= min_block_s) {
		g->leak = true;
		snprintf(g->why, sizeof(g->why), "stuck in %s for %.1fs: nobody will wake it",
			 g->wait, g->oldest_age_s);
	} else {
		snprintf(g->why, sizeof(g->why), "%s, count not growing%s", g->wait,
			 g->count > 1 && strcmp(g->wait, "chan receive") == 0 ?
				 " (an idle worker pool looks like this)" : "");
	}
}

static struct lt_group *group_for(struct lt_snapshot *snap, struct idmap *idx, uint64_t key,
				  uint64_t **keys, int *cap)
{
	uintptr_t i = (uintptr_t)idmap_get(idx, key);
	struct lt_group *g;

	if (i)
		return &snap->ggroups[i - 1];
	if (snap->nggroups == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		snap->ggroups = realloc(snap->ggroups, *cap * sizeof(*g));
		*keys = realloc(*keys, *cap * sizeof(**keys));
		if (!snap->ggroups || !*keys)
			abort();
	}
	(*keys)[snap->nggroups] = key;
	g = &snap->ggroups[snap->nggroups++];
	memset(g, 0, sizeof(*g));
	g->kind = LT_G_GOROUTINE;
	idmap_put(idx, key, (void *)(uintptr_t)snap->nggroups);
	return g;
}

int go_drain(struct goroutines_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
	     struct go_state *gs, double min_block_s, struct lt_snapshot *snap)
{
	struct idmap idx = { 0 };
	uint64_t now = mono_ns(), *keys = NULL;
	struct go_g *g = NULL;
	int n, cap = 0;

	static const char *const names[LT_GLOST_MAX] = {
		[LT_GLOST_PARK_MAP_FULL] = "park_map_full",
	};

	snap->has_goroutines = true;
	snap->go_version = gs->bin.version;
	counters_read(bpf_map__fd(skel->maps.glost), names, LT_GLOST_MAX, &snap->glost);
	n = gs->allgs ? go_census(gs->pid, &gs->layout, gs->allgs, &g) : 0;
	for (int i = 0; i < n; i++) {
		struct lt_group *grp;
		bool known;
		double age = 0;

		if (is_system(sym, gs, g[i].startpc))
			continue;
		snap->goroutines++;
		if (g[i].status == GO_WAITING) {
			age = park_age(skel, gs, &g[i], now, &known);
			if (known && age < min_block_s)
				continue;	/* a wait that may just be work */
		}
		grp = group_for(snap, &idx, group_key(&g[i]), &keys, &cap);
		if (!grp->count) {
			grp->wait = reason_name(gs, &g[i]);
			grp->stack = stack_cache_ips(c, sym, g[i].ip, g[i].nframes, true);
			grp->created_by = stack_cache_ips(c, sym, &g[i].gopc, 1, true);
		}
		grp->count++;
		if (age > grp->oldest_age_s)
			grp->oldest_age_s = age;
	}
	for (int i = 0; i < snap->nggroups; i++)
		judge(&snap->ggroups[i], gs, keys[i], min_block_s);
	idmap_free(&idx);
	free(keys);
	free(g);
	return 0;
}
