// SPDX-License-Identifier: GPL-2.0
/* BPF maps -> groups. Nothing here knows about output formats. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alloc.skel.h"
#include "drain.h"
#include "probes.h"
#include "symbolize.h"

#define BATCH 4096

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* bpf_ktime_get_ns's clock */
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct lt_stack *stack_symbolize(struct symbolizer *sym, const struct lt_site *site)
{
	struct lt_stack *st = calloc(1, sizeof(*st));
	int n = site->nr < LT_MAX_FRAMES ? site->nr : LT_MAX_FRAMES;

	if (!st)
		return NULL;
	st->frames = calloc(n ? n : 1, sizeof(*st->frames));
	if (!st->frames) {
		free(st);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		/* The kernel walk checked the frame chain's shape; a return
		 * address outside any code the process mapped means the chain
		 * went through code without frame pointers: cut it there. */
		if (i > 0 && !symbolizer_is_code(sym, site->ip[i]))
			break;
		symbolize(sym, site->ip[i], i > 0, &st->frames[i]);
		st->nframes++;
	}
	/* frames[0] is the probe: name it by the entry point it sits on
	 * (glibc has several names for one address: __libc_malloc...). */
	if (st->nframes > 0) {
		free(st->frames[0].function);
		st->frames[0].function = strdup(probe_kind_name(site->kind));
	}
	return st;
}

static const struct lt_stack unknown_stack = { 0, NULL };

static const struct lt_stack *cached_stack(struct symbolizer *sym, struct stack_cache *c,
					   uint64_t id, const struct lt_site *site)
{
	struct lt_stack *st = idmap_get(&c->ids, id);

	if (st || id == 0)
		return st ? st : &unknown_stack;
	st = stack_symbolize(sym, site);
	if (st)
		idmap_put(&c->ids, id, st);
	return st ? st : &unknown_stack;
}

int drain_new_stacks(struct alloc_bpf *skel, struct symbolizer *sym, struct stack_cache *c)
{
	int fd = bpf_map__fd(skel->maps.sites);
	uint64_t key, next, *prev = NULL;
	struct lt_site site;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (key == 0 || idmap_get(&c->ids, key))
			continue;
		if (bpf_map_lookup_elem(fd, &key, &site) == 0)
			cached_stack(sym, c, key, &site);
	}
	return 0;
}

static void read_lost(struct alloc_bpf *skel, uint64_t *lost)
{
	int fd = bpf_map__fd(skel->maps.lost), ncpu = libbpf_num_possible_cpus();
	uint64_t *v = calloc(ncpu > 0 ? ncpu : 1, sizeof(*v));

	for (uint32_t r = 0; v && r < LT_LOST_MAX; r++) {
		lost[r] = 0;
		if (bpf_map_lookup_elem(fd, &r, v))
			continue;
		for (int i = 0; i < ncpu; i++)
			lost[r] += v[i];
	}
	free(v);
}

/* One group per live site; idx maps stack id -> group index + 1. */
static int collect_sites(struct alloc_bpf *skel, struct symbolizer *sym,
			 struct stack_cache *c, struct lt_snapshot *snap, struct idmap *idx)
{
	int fd = bpf_map__fd(skel->maps.sites);
	uint64_t key, next, *prev = NULL;
	struct lt_site site;
	int cap = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct lt_group *g;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &site) || site.count <= 0)
			continue;
		if (snap->ngroups == cap) {
			cap = cap ? cap * 2 : 256;
			snap->groups = realloc(snap->groups, cap * sizeof(*snap->groups));
			if (!snap->groups)
				return -ENOMEM;
		}
		g = &snap->groups[snap->ngroups++];
		g->bytes = site.bytes;
		g->count = site.count;
		g->oldest_age_s = 0;
		g->stack = cached_stack(sym, c, key, &site);
		idmap_put(idx, key, (void *)(uintptr_t)snap->ngroups);
	}
	return 0;
}

static void age_record(struct lt_snapshot *snap, struct idmap *idx, const struct lt_alloc *a,
		       uint64_t now, uint64_t min_age_ns)
{
	uintptr_t i = (uintptr_t)idmap_get(idx, a->stack_id);
	struct lt_group *g;
	double age;

	if (!i)
		return;
	g = &snap->groups[i - 1];
	age = now > a->ts_ns ? (now - a->ts_ns) / 1e9 : 0;
	if (min_age_ns && now - a->ts_ns < min_age_ns)
		return;
	if (min_age_ns) {	/* totals are rebuilt from old enough records */
		g->bytes += a->size;
		g->count++;
	}
	if (age > g->oldest_age_s)
		g->oldest_age_s = age;
}

/* Walk the per-address map in batches for ages. */
static int walk_allocs(struct alloc_bpf *skel, struct lt_snapshot *snap, struct idmap *idx,
		       uint64_t min_age_ns)
{
	int fd = bpf_map__fd(skel->maps.allocs);
	uint64_t keys[BATCH], in = 0, out = 0, now = now_ns();
	static struct lt_alloc vals[BATCH];
	void *pin = NULL;
	int err;

	do {
		uint32_t n = BATCH;

		err = bpf_map_lookup_batch(fd, pin, &out, keys, vals, &n, NULL);
		if (err && errno != ENOENT)
			return -errno;
		for (uint32_t i = 0; i < n; i++)
			age_record(snap, idx, &vals[i], now, min_age_ns);
		in = out;
		pin = &in;
	} while (!err);
	return 0;
}

int drain_snapshot(struct alloc_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
		   double min_age_s, struct lt_snapshot *snap)
{
	uint64_t min_age_ns = min_age_s * 1e9;
	struct idmap idx = { 0 };
	int err;

	snap->ngroups = 0;
	snap->groups = NULL;
	snap->min_age_s = min_age_s;
	read_lost(skel, snap->lost);
	err = collect_sites(skel, sym, c, snap, &idx);
	if (!err && min_age_ns)
		for (int i = 0; i < snap->ngroups; i++)
			snap->groups[i].bytes = snap->groups[i].count = 0;
	if (!err)
		err = walk_allocs(skel, snap, &idx, min_age_ns);
	idmap_free(&idx);
	if (err)
		return err;
	snap->bytes = snap->count = 0;
	for (int i = 0; i < snap->ngroups; i++) {
		if (snap->groups[i].count <= 0) {	/* all too young */
			snap->groups[i--] = snap->groups[--snap->ngroups];
			continue;
		}
		snap->bytes += snap->groups[i].bytes;
		snap->count += snap->groups[i].count;
	}
	snapshot_sort(snap);
	return 0;
}

static void stack_free(struct lt_stack *st)
{
	for (int i = 0; i < st->nframes; i++) {
		free(st->frames[i].function);
		free(st->frames[i].module);
		free(st->frames[i].file);
	}
	free(st->frames);
	free(st);
}

void stack_cache_free(struct stack_cache *c)
{
	for (size_t i = 0; i < c->ids.cap; i++)
		if (c->ids.used[i])
			stack_free(c->ids.vals[i]);
	idmap_free(&c->ids);
}
