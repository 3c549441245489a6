// SPDX-License-Identifier: GPL-2.0
/* Switching on the Go runtime's heap sampler and reading its samples. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "collect/bpf_counters.h"
#include "go/gobin.h"
#include "collect/go_heap.h"
#include "goheap.h"
#include "goheap.skel.h"
#include "lib/idmap.h"
#include "model/history.h"
#include "output/render.h"
#include "probes/probes.h"
#include "target/procmem.h"

/* Frames of the sampler itself above mallocgc: mProf_Malloc, profilealloc. */
#define SAMPLER_FRAMES 2

/* Through the descriptor bound to the traced program: a write never
 * lands in a program the process exec'ed or in a process that got its PID. */
static int mem_rw(pid_t pid, uint64_t addr, int64_t *v, bool write)
{
	int fd = procmem_get(pid);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = write ? pwrite(fd, v, sizeof(*v), addr) : pread(fd, v, sizeof(*v), addr);
	procmem_put(fd);
	return n == sizeof(*v) ? 0 : -EFAULT;
}

int goheap_init(struct goheap_state *h, pid_t pid, struct gobin *bin)
{
	memset(h, 0, sizeof(*h));
	h->pid = pid;
	return gobin_find_var(bin, "runtime.MemProfileRate", &h->rate_addr);
}

/*
 * Every tick, not once: a binary linked without MemProfile starts with the
 * default rate in its data and schedinit zeroes it during start-up, after
 * a launched command's first tick may have seen 512 KiB.
 */
void goheap_tick(struct goheap_state *h)
{
	int64_t v = 0, want = GOHEAP_DEFAULT_RATE;

	if (!h->rate_addr || mem_rw(h->pid, h->rate_addr, &v, false))
		return;
	if (v > 0) {	/* sampling: ours, or the program's own (pprof) */
		h->rate = v;
		return;
	}
	if (mem_rw(h->pid, h->rate_addr, &want, true) == 0) {
		h->rate = want;
		h->we_enabled = true;
	}
}

void goheap_free(struct goheap_state *h)
{
	history_free(&h->inuse);
	history_free(&h->pending);
}

void goheap_stop(struct goheap_state *h)
{
	int64_t off = 0;

	/* Leave the runtime as we found it: no sampling cost after us. */
	if (h->we_enabled)
		mem_rw(h->pid, h->rate_addr, &off, true);
	h->we_enabled = false;
}

int goheap_attach(struct goheap_bpf *skel, pid_t pid, struct gobin *bin, const char *exe)
{
	static const struct { const char *fn; int cookie; } hooks[] = {
		{ "runtime.mProf_Malloc", LT_HP_MALLOC },
		{ "runtime.setprofilebucket", LT_HP_SETBUCKET },
		{ "runtime.mProf_Free", LT_HP_FREE },
		{ "runtime.gcMarkTermination", LT_HP_GC },
	};
	struct probe_req r[4];
	uint64_t vaddr;

	for (int i = 0; i < 4; i++) {
		r[i] = (struct probe_req){ .symbol = hooks[i].fn, .obj = exe,
					   .entry = skel->progs.goheap_entry, .nargs = 4,
					   .cookie = hooks[i].cookie };
		if (gobin_find_func(bin, hooks[i].fn, &vaddr, &r[i].func_size, &r[i].func_off))
			return -ENOENT;
	}
	return probes_attach(r, 4, pid);
}

/* pprof's unbiasing of a heap sample (runtime/pprof protomem.go
 * scaleHeapSample): each sample of size s at rate r stands for
 * 1 / (1 - exp(-s/r)) objects. */
static double scale(uint64_t size, int64_t rate)
{
	if (rate <= 1 || size == 0)
		return 1;
	return 1 / (1 - exp(-(double)size / rate));
}

/* One bucket's estimate: objects in use (judged by a GC) and pending (not
 * judged yet: allocated in this cycle or the one before). */
struct hest {
	uint64_t stack;
	const struct lt_frames *f;
	double bytes, objs, pend_bytes, pend_objs;
};

static uint64_t gc_cycles(struct goheap_bpf *skel)
{
	uint32_t k = LT_HCYCLE;
	uint64_t cycle = 0;

	bpf_map_lookup_elem(bpf_map__fd(skel->maps.hcycle), &k, &cycle);
	return cycle;
}

/* The estimates of every bucket: fn(arg, estimate). */
static void each_bucket(struct goheap_bpf *skel, const struct goheap_state *h,
			void (*fn)(void *arg, const struct hest *e), void *arg)
{
	int fd = bpf_map__fd(skel->maps.hbuckets), sfd = bpf_map__fd(skel->maps.hstacks);
	uint64_t key, next, *prev = NULL, cycle = gc_cycles(skel);
	struct lt_hbucket b;
	struct lt_frames f;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		int64_t judged, live, pend;
		struct hest e = { .f = &f };
		double k;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &b))
			continue;
		judged = lt_hbucket_published(&b, cycle);
		live = judged - b.frees;
		pend = b.published + b.prev + b.cur - judged;
		if (live <= 0 && pend <= 0)
			continue;
		if (bpf_map_lookup_elem(sfd, &b.stack_id, &f))
			f.nr = 0;
		k = scale(b.size, h->rate);
		e.stack = b.stack_id;
		e.objs = live > 0 ? live * k : 0;
		e.pend_objs = pend > 0 ? pend * k : 0;
		e.bytes = e.objs * b.size;
		e.pend_bytes = e.pend_objs * b.size;
		fn(arg, &e);
	}
}

struct sampler {
	struct idmap inuse, pending;	/* stack id -> bytes */
};

static void add_bytes(struct idmap *m, uint64_t stack, double bytes)
{
	idmap_put(m, stack, (void *)((uintptr_t)idmap_get(m, stack) + (uintptr_t)llround(bytes)));
}

static void sample_one(void *arg, const struct hest *e)
{
	struct sampler *sm = arg;

	add_bytes(&sm->inuse, e->stack, e->bytes);
	add_bytes(&sm->pending, e->stack, e->pend_bytes);
}

static void to_history(struct idmap *m, struct history *hist)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->used[i])
			history_add(hist, m->keys[i], (uintptr_t)m->vals[i]);
	idmap_free(m);
}

void goheap_sample(struct goheap_bpf *skel, struct goheap_state *h)
{
	struct sampler sm = { { 0 }, { 0 } };

	each_bucket(skel, h, sample_one, &sm);
	to_history(&sm.inuse, &h->inuse);
	to_history(&sm.pending, &h->pending);
}

struct drainer {
	struct lt_snapshot *snap;
	struct symbolizer *sym;
	struct stack_cache *c;
	struct idmap idx;	/* stack id -> site index + 1 */
};

static void drain_one(void *arg, const struct hest *e)
{
	struct drainer *d = arg;
	uintptr_t i = (uintptr_t)idmap_get(&d->idx, e->stack);
	struct lt_snapshot *snap = d->snap;
	const struct lt_frames *f = e->f;
	struct lt_group *g;

	if (!i) {
		snap->hsites = realloc(snap->hsites, (snap->nhsites + 1) * sizeof(*g));
		if (!snap->hsites)
			abort();
		g = &snap->hsites[snap->nhsites++];
		memset(g, 0, sizeof(*g));
		g->kind = LT_G_GOHEAP;
		g->site = e->stack;
		g->stack = f->nr > SAMPLER_FRAMES ?
			stack_cache_ips(d->c, d->sym, (const uint64_t *)f->ip + SAMPLER_FRAMES,
					f->nr - SAMPLER_FRAMES, true) : &lt_unknown_stack;
		i = snap->nhsites;
		idmap_put(&d->idx, e->stack, (void *)i);
	}
	g = &snap->hsites[i - 1];
	g->count += llround(e->objs);
	g->bytes += llround(e->bytes);
	g->pending_count += llround(e->pend_objs);
	g->pending_bytes += llround(e->pend_bytes);
}

/* In use not growing (or not known yet) but pending growing: say so. The
 * verdict stays with the in-use figures, which a GC has judged; pending
 * bytes may yet be garbage. */
static void judge_pending(const struct goheap_state *h, struct lt_group *g, uint64_t cycles)
{
	char r[32], inuse[sizeof(g->why)];
	struct trend t;

	if (g->leak || history_trend(&h->pending, g->site, &t) || !trend_growing(&t))
		return;
	human_bytes((double)(t.last - t.first) / (t.n - 1), r, sizeof(r));
	memcpy(inuse, g->why, sizeof(inuse));
	snprintf(g->why, sizeof(g->why), "grows +%s/s pending the next GC (%lu GC cycle%s "
		 "since attach); in use: %.60s", r, (unsigned long)cycles,
		 cycles == 1 ? "" : "s", inuse);
}

int goheap_drain(struct goheap_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
		 struct goheap_state *h, struct lt_snapshot *snap)
{
	static const char *const names[LT_HLOST_MAX] = {
		[LT_HLOST_BUCKET_MAP_FULL] = "bucket_map_full",
		[LT_HLOST_STACK_MAP_FULL] = "stack_map_full",
	};
	struct drainer d = { .snap = snap, .sym = sym, .c = c };

	snap->has_goheap = true;
	counters_read(bpf_map__fd(skel->maps.hlost), names, LT_HLOST_MAX, &snap->hlost);
	snap->goheap_rate = h->rate;
	snap->goheap_cycles = gc_cycles(skel);
	each_bucket(skel, h, drain_one, &d);
	idmap_free(&d.idx);
	for (int i = 0; i < snap->nhsites; i++) {
		history_judge(&h->inuse, snap->hsites[i].site, &snap->hsites[i]);
		judge_pending(h, &snap->hsites[i], snap->goheap_cycles);
	}
	return 0;
}
