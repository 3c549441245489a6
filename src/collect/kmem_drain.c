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
	uint64_t ip[LT_KSTACK_DEPTH] = {0};
	const struct lt_stack *st = idmap_get(&k->stacks, (uint64_t)(id + 2));
	struct lt_stack *made;
	uint32_t key = (uint32_t)id;
	int n = 0;

	if (st)
		return st;
	if (id < 0 || bpf_map_lookup_elem(bpf_map__fd(skel->maps.kstacks), &key, ip))
		return &lt_unknown_stack;
	while (n < LT_KSTACK_DEPTH && ip[n])
		n++;
	made = kallsyms_stack(k->ks, ip, n);
	idmap_put(&k->stacks, (uint64_t)(id + 2), made);
	return made;
}

void kmem_tick(struct kmem_bpf *skel, struct kmem_state *k)
{
	int fd = bpf_map__fd(skel->maps.ksites);
	struct lt_ksite_key key, next, *prev = NULL;
	struct lt_ksite s;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (key.tgid == (uint32_t)k->pid && bpf_map_lookup_elem(fd, &key, &s) == 0)
			history_add(&k->sites, (uint64_t)(key.stack + 2), s.bytes);
	}
}

void kmem_oldest(struct kmem_bpf *skel, struct idmap *oldest)
{
	int fd = bpf_map__fd(skel->maps.kallocs);
	struct lt_kkey key, next, *prev = NULL;
	struct lt_kalloc a;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		uint64_t id, was;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &a))
			continue;
		id = site_id(a.stack < 0 ? -1 : a.stack, a.tgid);
		was = (uintptr_t)idmap_get(oldest, id);
		if (!was || a.ts_ns + 1 < was)
			idmap_put(oldest, id, (void *)(uintptr_t)(a.ts_ns + 1));
	}
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

int kmem_drain(struct kmem_bpf *skel, struct kmem_state *k, const struct idmap *oldest,
	       struct lt_snapshot *snap)
{
	int fd = bpf_map__fd(skel->maps.ksites), cap = 0;
	struct lt_ksite_key key, next, *prev = NULL;
	uint64_t now = mono_ns();
	struct lt_ksite s;
	char comm[16];

	snap->has_kernel = true;
	process_comm(k->pid, comm, sizeof(comm));
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct lt_group *g;
		uint64_t ts;

		key = next;
		prev = &key;
		if (key.tgid != (uint32_t)k->pid || bpf_map_lookup_elem(fd, &key, &s) ||
		    s.count <= 0)
			continue;
		g = add_site(snap, &cap);
		g->kind = LT_G_KMEM;
		g->bytes = s.bytes;
		g->count = s.count;
		g->stack = site_stack(skel, k, key.stack);
		g->pid = k->pid;
		memcpy(g->comm, comm, sizeof(g->comm));
		ts = (uintptr_t)idmap_get(oldest, site_id(key.stack, key.tgid));
		g->oldest_age_s = ts && now > ts - 1 ? (now - (ts - 1)) / 1e9 : 0;
		history_judge(&k->sites, (uint64_t)(key.stack + 2), g);
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
