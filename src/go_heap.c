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
#include "bpf_counters.h"
#include "gobin.h"
#include "go_heap.h"
#include "goheap.h"
#include "goheap.skel.h"
#include "idmap.h"
#include "history.h"
#include "probes.h"
#include "procmem.h"

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

/* In-use estimate of every bucket, per stack: fn(stack id, bytes, objects). */
static void each_bucket(struct goheap_bpf *skel, const struct goheap_state *h,
			void (*fn)(void *arg, uint64_t stack, const struct lt_frames *f,
				   double bytes, double objs),
			void *arg)
{
	int fd = bpf_map__fd(skel->maps.hbuckets), sfd = bpf_map__fd(skel->maps.hstacks);
	uint64_t key, next, *prev = NULL, cycle = 0;
	uint32_t k = LT_HCYCLE;
	struct lt_hbucket b;
	struct lt_frames f;

	bpf_map_lookup_elem(bpf_map__fd(skel->maps.hcycle), &k, &cycle);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		int64_t live;
		double objs;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &b))
			continue;
		live = lt_hbucket_published(&b, cycle) - b.frees;
		if (live <= 0)
			continue;
		if (bpf_map_lookup_elem(sfd, &b.stack_id, &f))
			f.nr = 0;
		objs = live * scale(b.size, h->rate);
		fn(arg, b.stack_id, &f, objs * b.size, objs);
	}
}

struct sampler {
	struct idmap sum;	/* stack id -> bytes */
};

static void sample_one(void *arg, uint64_t stack, const struct lt_frames *f, double bytes,
		       double objs)
{
	struct sampler *sm = arg;

	(void)f;
	(void)objs;
	idmap_put(&sm->sum, stack, (void *)((uintptr_t)idmap_get(&sm->sum, stack) +
					    (uintptr_t)llround(bytes)));
}

void goheap_sample(struct goheap_bpf *skel, const struct goheap_state *h, struct history *hist)
{
	struct sampler sm = { { 0 } };

	each_bucket(skel, h, sample_one, &sm);
	for (size_t i = 0; i < sm.sum.cap; i++)
		if (sm.sum.used[i])
			history_add(hist, sm.sum.keys[i], (uintptr_t)sm.sum.vals[i]);
	idmap_free(&sm.sum);
}

struct drainer {
	struct lt_snapshot *snap;
	struct symbolizer *sym;
	struct stack_cache *c;
	struct idmap idx;	/* stack id -> site index + 1 */
};

static void drain_one(void *arg, uint64_t stack, const struct lt_frames *f, double bytes,
		      double objs)
{
	struct drainer *d = arg;
	uintptr_t i = (uintptr_t)idmap_get(&d->idx, stack);
	struct lt_snapshot *snap = d->snap;
	struct lt_group *g;

	if (!i) {
		snap->hsites = realloc(snap->hsites, (snap->nhsites + 1) * sizeof(*g));
		if (!snap->hsites)
			abort();
		g = &snap->hsites[snap->nhsites++];
		memset(g, 0, sizeof(*g));
		g->kind = LT_G_GOHEAP;
		g->site = stack;
		g->stack = f->nr > SAMPLER_FRAMES ?
			stack_cache_ips(d->c, d->sym, (const uint64_t *)f->ip + SAMPLER_FRAMES,
					f->nr - SAMPLER_FRAMES, true) : &lt_unknown_stack;
		i = snap->nhsites;
		idmap_put(&d->idx, stack, (void *)i);
	}
	g = &snap->hsites[i - 1];
	g->count += llround(objs);
	g->bytes += llround(bytes);
}

int goheap_drain(struct goheap_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
		 struct goheap_state *h, const struct history *hist, struct lt_snapshot *snap)
{
	static const char *const names[LT_HLOST_MAX] = {
		[LT_HLOST_BUCKET_MAP_FULL] = "bucket_map_full",
		[LT_HLOST_STACK_MAP_FULL] = "stack_map_full",
	};
	struct drainer d = { .snap = snap, .sym = sym, .c = c };

	snap->has_goheap = true;
	counters_read(bpf_map__fd(skel->maps.hlost), names, LT_HLOST_MAX, &snap->hlost);
	snap->goheap_rate = h->rate;
	each_bucket(skel, h, drain_one, &d);
	idmap_free(&d.idx);
	for (int i = 0; i < snap->nhsites; i++)
		history_judge(hist, snap->hsites[i].site, &snap->hsites[i]);
	return 0;
}
