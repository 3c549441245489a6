// SPDX-License-Identifier: GPL-2.0
/* Allocation maps -> memory groups. Nothing here knows about output formats. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lib/clock.h"
#include "alloc.skel.h"
#include "collect/alloc_drain.h"
#include "collect/bpf_counters.h"
#include "probes/alloc_probes.h"
#include "symbols/symbolize.h"

#define BATCH 4096

static const struct lt_stack *site_stack(struct symbolizer *sym, struct stack_cache *c,
					 uint64_t id, const struct lt_site *site)
{
	return stack_cache_get(c, sym, id, &site->st, probe_kind_name(site->st.kind));
}

/*
 * With sampling, an allocation of size s was tracked with probability
 * 1 - exp(-s / rate): each tracked one stands for 1 / that many (the
 * scaling pprof applies to Go heap profiles).
 */
static double sample_weight(double size, double rate)
{
	if (!rate)
		return 1;
	return 1 / -expm1(-(size > 1 ? size : 1) / rate);
}

/* A site's estimated bytes from its totals, by its mean allocation size. */
static double site_estimate(const struct lt_site *site, double rate)
{
	if (!rate || site->count <= 0)
		return site->bytes;
	return site->bytes * sample_weight((double)site->bytes / site->count, rate);
}

void alloc_set_sampling(struct alloc_bpf *skel, int64_t rate)
{
	struct lt_draws d;
	uint32_t zero = 0;

	/* Quantiles of the exponential distribution of mean rate. */
	for (int i = 0; i < LT_DRAWS; i++)
		d.d[i] = (uint64_t)(-log1p(-(i + 0.5) / LT_DRAWS) * rate) + 1;
	bpf_map_update_elem(bpf_map__fd(skel->maps.draws), &zero, &d, BPF_ANY);
}

/* Per tick, each shown stack's estimate into h: sites the kernel kept
 * apart but that show the same stack are one series. */
int alloc_tick(struct alloc_bpf *skel, pid_t pid, struct symbolizer *sym, struct stack_cache *c,
	       struct history *h)
{
	int fd = bpf_map__fd(skel->maps.sites), n = 0, cap = 0;
	uint64_t key, next, *prev = NULL;
	struct { uint64_t id; double v; } *sum = NULL, *grown;
	struct idmap seen = { 0 };
	struct lt_site site;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		uintptr_t i;
		uint64_t id;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &site) || site.tgid != (uint32_t)pid)
			continue;
		id = key ? stack_shown_id(site_stack(sym, c, key, &site)) : 0;
		i = (uintptr_t)idmap_get(&seen, id);
		if (!i) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				grown = realloc(sum, cap * sizeof(*sum));
				if (!grown)
					break;
				sum = grown;
			}
			sum[n].id = id;
			sum[n].v = 0;
			i = ++n;
			idmap_put(&seen, id, (void *)i);
		}
		sum[i - 1].v += site_estimate(&site, skel->rodata->sample_bytes);
	}
	for (int i = 0; i < n; i++)
		history_add(h, sum[i].id, llround(sum[i].v));
	idmap_free(&seen);
	free(sum);
	return 0;
}

static const char *const lost_names[LT_LOST_MAX] = {
	[LT_LOST_ALLOC_MAP_FULL] = "alloc_map_full",
	[LT_LOST_STACK_MAP_FULL] = "stack_map_full",
	[LT_LOST_INFLIGHT_FULL] = "inflight_full",
};

void alloc_lost_none(struct lt_lost_counts *l)
{
	memset(l, 0, sizeof(*l));
	l->n = LT_LOST_MAX;
	l->names = lost_names;
}

/*
 * One group per stack as shown (stack_shown_id), so that no difference
 * the report does not show splits a call site; idx maps every kernel
 * stack id to its group's index + 1.
 */
static int collect_sites(struct alloc_bpf *skel, struct symbolizer *sym,
			 struct stack_cache *c, struct lt_snapshot *snap, struct idmap *idx)
{
	int fd = bpf_map__fd(skel->maps.sites);
	uint64_t key, next, *prev = NULL, id;
	struct idmap shown = { 0 };
	struct lt_site site;
	int cap = 0, err = 0;

	while (!err && bpf_map_get_next_key(fd, prev, &next) == 0) {
		const struct lt_stack *st;
		struct lt_group *g;
		uintptr_t i;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &site) || site.count <= 0 ||
		    site.tgid != (uint32_t)snap->pid)
			continue;
		st = site_stack(sym, c, key, &site);
		id = key ? stack_shown_id(st) : 0;
		i = (uintptr_t)idmap_get(&shown, id);
		if (i) {
			snap->groups[i - 1].bytes += site.bytes;
			snap->groups[i - 1].count += site.count;
			err = idmap_put(idx, key, (void *)i);
			continue;
		}
		if (snap->ngroups == cap) {
			cap = cap ? cap * 2 : 256;
			snap->groups = realloc(snap->groups, cap * sizeof(*snap->groups));
			if (!snap->groups) {
				err = -ENOMEM;
				break;
			}
		}
		g = &snap->groups[snap->ngroups++];
		memset(g, 0, sizeof(*g));
		g->kind = LT_G_ALLOC;
		g->site = id;
		g->bytes = site.bytes;
		g->count = site.count;
		g->stack = st;
		i = snap->ngroups;
		err = idmap_put(&shown, id, (void *)i);
		if (!err)
			err = idmap_put(idx, key, (void *)i);
	}
	idmap_free(&shown);
	return err;
}

/* Per-address walk: ages, and the totals rebuilt when records must be
 * filtered (--min-age) or weighted (sampling). */
struct walk {
	struct lt_snapshot *snap;
	struct idmap *idx;
	uint64_t now, min_age_ns;
	double rate;
	bool rebuild;
	double *bytes, *count;	/* per group, when rebuilding */
};

static void age_record(struct walk *w, const struct lt_alloc *a)
{
	uintptr_t i = (uintptr_t)idmap_get(w->idx, a->stack_id);
	struct lt_group *g;
	double age, weight;

	if (!i)
		return;
	g = &w->snap->groups[i - 1];
	age = w->now > a->ts_ns ? (w->now - a->ts_ns) / 1e9 : 0;
	if (w->min_age_ns && w->now - a->ts_ns < w->min_age_ns)
		return;
	if (w->rebuild) {
		weight = sample_weight(a->size, w->rate);
		w->bytes[i - 1] += a->size * weight;
		w->count[i - 1] += weight;
		g->samples++;
	}
	if (age > g->oldest_age_s)
		g->oldest_age_s = age;
}

/* Walk the per-address map in batches. */
static int walk_allocs(struct alloc_bpf *skel, struct walk *w)
{
	int fd = bpf_map__fd(skel->maps.allocs);
	static struct lt_alloc_key keys[BATCH];
	static struct lt_alloc vals[BATCH];
	uint64_t in = 0, out = 0;
	void *pin = NULL;
	int err;

	do {
		uint32_t n = BATCH;

		err = bpf_map_lookup_batch(fd, pin, &out, keys, vals, &n, NULL);
		if (err && errno != ENOENT)
			return -errno;
		for (uint32_t i = 0; i < n; i++)
			age_record(w, &vals[i]);
		in = out;
		pin = &in;
	} while (!err);
	return 0;
}

/* Empty the ages map before an iterator run. */
static void clear_map(int fd)
{
	uint64_t key;

	while (bpf_map_get_next_key(fd, NULL, &key) == 0)
		if (bpf_map_delete_elem(fd, &key))
			break;
}

/* Ages and, with --min-age, totals, folded in the kernel by alloc_ages. */
static int ages_in_kernel(struct alloc_bpf *skel, struct lt_snapshot *snap, struct idmap *idx,
			  uint64_t min_age_ns)
{
	union bpf_iter_link_info linfo = { .map.map_fd = bpf_map__fd(skel->maps.allocs) };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo,
		    .link_info_len = sizeof(linfo));
	int ages = bpf_map__fd(skel->maps.ages), fd;
	uint64_t now = mono_ns();
	struct bpf_link *link;
	char buf[64];

	clear_map(ages);
	skel->bss->age_born_before = min_age_ns ? now - min_age_ns : 0;
	skel->bss->age_tgid = skel->rodata->all_procs ? snap->pid : 0;
	link = bpf_program__attach_iter(skel->progs.alloc_ages, &opts);
	fd = link ? bpf_iter_create(bpf_link__fd(link)) : -1;
	if (fd < 0) {
		bpf_link__destroy(link);
		return -errno;
	}
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	bpf_link__destroy(link);
	for (int i = 0; min_age_ns && i < snap->ngroups; i++)
		snap->groups[i].bytes = snap->groups[i].count = 0;
	/* Per kernel stack id, folded into its group. */
	for (uint64_t *prev = NULL, key, next; bpf_map_get_next_key(ages, prev, &next) == 0;
	     prev = &key) {
		uintptr_t i = (uintptr_t)idmap_get(idx, next);
		struct lt_group *g;
		struct lt_age a;

		key = next;
		if (!i || bpf_map_lookup_elem(ages, &key, &a))
			continue;
		g = &snap->groups[i - 1];
		if (min_age_ns) {
			g->bytes += a.bytes;
			g->count += a.count;
		}
		if (a.oldest_ns && now > a.oldest_ns && (now - a.oldest_ns) / 1e9 > g->oldest_age_s)
			g->oldest_age_s = (now - a.oldest_ns) / 1e9;
	}
	return 0;
}

static int walk_and_total(struct alloc_bpf *skel, struct lt_snapshot *snap, struct idmap *idx,
			  uint64_t min_age_ns)
{
	struct walk w = { .snap = snap, .idx = idx, .now = mono_ns(), .min_age_ns = min_age_ns,
			  .rate = snap->sample_bytes, .rebuild = min_age_ns || snap->sample_bytes };
	int err;

	if (w.rebuild) {
		w.bytes = calloc(snap->ngroups + 1, sizeof(double));
		w.count = calloc(snap->ngroups + 1, sizeof(double));
		if (!w.bytes || !w.count) {
			free(w.bytes);
			free(w.count);
			return -ENOMEM;
		}
	}
	err = walk_allocs(skel, &w);
	for (int i = 0; w.rebuild && i < snap->ngroups; i++) {
		snap->groups[i].bytes = llround(w.bytes[i]);
		snap->groups[i].count = llround(w.count[i]);
		if (!snap->sample_bytes)
			snap->groups[i].samples = 0;
	}
	free(w.bytes);
	free(w.count);
	return err;
}

int alloc_drain(struct alloc_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
		const struct history *h, double min_age_s, struct lt_snapshot *snap)
{
	uint64_t min_age_ns = min_age_s * 1e9;
	struct idmap idx = { 0 };
	int err;

	snap->min_age_s = min_age_s;
	snap->sample_bytes = skel->rodata->sample_bytes;
	counters_read(bpf_map__fd(skel->maps.lost), lost_names, LT_LOST_MAX, &snap->lost);
	err = collect_sites(skel, sym, c, snap, &idx);
	/* Sampled records need floating-point weights: few, read out here. */
	if (!err && !snap->sample_bytes && bpf_program__fd(skel->progs.alloc_ages) >= 0)
		err = ages_in_kernel(skel, snap, &idx, min_age_ns);
	else if (!err)
		err = walk_and_total(skel, snap, &idx, min_age_ns);
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
		history_judge(h, snap->groups[i].site, &snap->groups[i]);
	}
	return 0;
}
