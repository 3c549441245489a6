// SPDX-License-Identifier: GPL-2.0
/* Kernel-memory maps -> kernel memory sites with verdicts. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "collect/bpf_counters.h"
#include "collect/kmem_drain.h"
#include "collect/map_walk.h"
#include "kmem.h"
#include "kmem.skel.h"
#include "lib/clock.h"
#include "symbols/stacks.h"

void kmem_symbols_load(struct kallsyms *ks)
{
	int err = kallsyms_load(ks);

	if (err)
		fprintf(stderr,
			"leaktop: kernel symbols unreadable (%s): kernel frames by address\n",
			err == -EPERM ? "kptr_restrict hides them" : strerror(-err));
}

void kmem_state_init(struct kmem_state *k, const struct kallsyms *ks, int pid)
{
	memset(k, 0, sizeof(*k));
	k->ks = ks;
	k->pid = pid;
}

static uint64_t site_id(int64_t stack, uint32_t tgid)
{
	return id_mix((uint64_t)(stack + 2), tgid);
}

/* Stack id -1 is "no stack" (the stack map was full). */
static const struct lt_stack *site_stack(struct kmem_bpf *skel, struct kmem_state *k, int64_t id)
{
	const struct lt_stack *st = idmap_get(&k->stacks, (uint64_t)(id + 2));
	struct lt_kstack ks;
	struct lt_stack *made;

	if (st)
		return st;
	if (id < 0 || bpf_map_lookup_elem(bpf_map__fd(skel->maps.kstacks), &id, &ks))
		return &lt_unknown_stack;
	made = kallsyms_stack(k->ks, (const uint64_t *)ks.ip,
			      ks.nr < LT_KSTACK_DEPTH ? ks.nr : LT_KSTACK_DEPTH);
	idmap_put(&k->stacks, (uint64_t)(id + 2), made);
	return made;
}

struct kmem_entry {
	int64_t stack;
	struct lt_ksite s;
};

struct kmem_list {
	int n, cap;
	struct kmem_entry *v;
};

static void add_entry(const void *k, const void *v, void *arg)
{
	const struct lt_ksite_key *key = k;
	struct kmem_sites *all = arg;
	struct kmem_list *l = idmap_get(&all->by_pid, key->tgid);

	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l || idmap_put(&all->by_pid, key->tgid, l))
			abort();
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			abort();
	}
	l->v[l->n].stack = key->stack;
	memcpy(&l->v[l->n++].s, v, sizeof(struct lt_ksite));
}

void kmem_sites_read(struct kmem_bpf *skel, struct kmem_sites *all)
{
	memset(all, 0, sizeof(*all));
	map_walk(bpf_map__fd(skel->maps.ksites), sizeof(struct lt_ksite_key),
		 sizeof(struct lt_ksite), add_entry, all);
}

void kmem_sites_free(struct kmem_sites *all)
{
	for (size_t i = 0; i < all->by_pid.cap; i++) {
		struct kmem_list *l = all->by_pid.used[i] ? all->by_pid.vals[i] : NULL;

		if (l)
			free(l->v);
		free(l);
	}
	idmap_free(&all->by_pid);
}

void kmem_tick(struct kmem_state *k, const struct kmem_sites *all)
{
	const struct kmem_list *l = idmap_get(&all->by_pid, (uint32_t)k->pid);

	for (int i = 0; l && i < l->n; i++)
		history_add(&k->sites, (uint64_t)(l->v[i].stack + 2), l->v[i].s.bytes);
}

static void older(const void *k, const void *v, void *arg)
{
	const struct lt_kalloc *a = v;
	uint64_t id = site_id(a->stack < 0 ? -1 : a->stack, a->tgid);
	uint64_t was = (uintptr_t)idmap_get(arg, id);

	(void)k;
	if (!was || a->ts_ns + 1 < was)
		idmap_put(arg, id, (void *)(uintptr_t)(a->ts_ns + 1));
}

void kmem_oldest(struct kmem_bpf *skel, struct idmap *oldest)
{
	map_walk(bpf_map__fd(skel->maps.kallocs), sizeof(struct lt_kkey), sizeof(struct lt_kalloc),
		 older, oldest);
}

static void process_comm(int pid, char *out, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(out, size, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, size, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

static struct lt_group *add_site(struct lt_snapshot *snap, int *cap)
{
	if (snap->nkgroups == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		snap->kgroups = realloc(snap->kgroups, *cap * sizeof(*snap->kgroups));
		if (!snap->kgroups)
			abort();
	}
	memset(&snap->kgroups[snap->nkgroups], 0, sizeof(*snap->kgroups));
	return &snap->kgroups[snap->nkgroups++];
}

static const char *const klost_names[LT_KLOST_MAX] = {
    [LT_KLOST_ALLOC_MAP_FULL] = "alloc_map_full",
    [LT_KLOST_STACK_LOST] = "stack_lost",
    [LT_KLOST_SITE_MAP_FULL] = "site_map_full",
};

int kmem_drain(struct kmem_bpf *skel, struct kmem_state *k, const struct kmem_sites *all,
	       const struct idmap *oldest, struct lt_snapshot *snap)
{
	const struct kmem_list *l = idmap_get(&all->by_pid, (uint32_t)k->pid);
	uint64_t now = mono_ns();
	int cap = 0;
	char comm[16];

	snap->has_kernel = true;
	process_comm(k->pid, comm, sizeof(comm));
	for (int i = 0; l && i < l->n; i++) {
		const struct kmem_entry *e = &l->v[i];
		struct lt_group *g;
		uint64_t ts;

		if (e->s.count <= 0)
			continue;
		g = add_site(snap, &cap);
		g->kind = LT_G_KMEM;
		g->bytes = e->s.bytes;
		g->count = e->s.count;
		g->stack = site_stack(skel, k, e->stack);
		g->pid = k->pid;
		memcpy(g->comm, comm, sizeof(g->comm));
		ts = (uintptr_t)idmap_get(oldest, site_id(e->stack, k->pid));
		g->oldest_age_s = ts && now > ts - 1 ? (now - (ts - 1)) / 1e9 : 0;
		history_judge(&k->sites, (uint64_t)(e->stack + 2), g);
		snap->kbytes += g->bytes;
		snap->kcount += g->count;
	}
	counters_read(bpf_map__fd(skel->maps.klost), klost_names, LT_KLOST_MAX, &snap->klost);
	return 0;
}

void kmem_state_free(struct kmem_state *k)
{
	for (size_t i = 0; i < k->stacks.cap; i++)
		if (k->stacks.used[i])
			stack_free(k->stacks.vals[i]);
	idmap_free(&k->stacks);
	history_free(&k->sites);
}
