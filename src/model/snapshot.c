// SPDX-License-Identifier: GPL-2.0
/* Helpers over the group model shared by every renderer. */
#include <math.h>
#include <stdlib.h>
#include "model/snapshot.h"

double sample_error(const struct lt_group *g)
{
	return g->samples > 0 ? 1 / sqrt((double)g->samples) : 0;
}

double cost_cpu_ns(const struct lt_cost *c)
{
	return (c->hits - c->ret_hits) * c->trap_ns + c->ret_hits * c->ret_ns + c->bpf_ns;
}

uint64_t lost_total(const struct lt_lost_counts *l)
{
	uint64_t n = 0;

	for (int i = 0; i < l->n; i++)
		n += l->v[i];
	return n;
}

const char *group_kind_name(enum lt_group_kind k)
{
	static const char *const names[] = {
		[LT_G_ALLOC] = "allocation", [LT_G_UNJOINED] = "unjoined",
		[LT_G_BLOCKED] = "blocked", [LT_G_RUNNING] = "running",
		[LT_G_GOROUTINE] = "goroutine", [LT_G_GOHEAP] = "go heap",
		[LT_G_FD] = "fd", [LT_G_KMEM] = "kernel memory",
	};

	return names[k];
}

static int by_bytes(const void *a, const void *b)
{
	const struct lt_group *x = a, *y = b;
	int64_t bx = x->bytes + x->pending_bytes, by = y->bytes + y->pending_bytes;

	/* held: in use, and for the Go heap what the next GC will judge */
	if (bx != by)
		return bx < by ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return 0;
}

static int leaks_first(const void *a, const void *b)
{
	const struct lt_group *x = a, *y = b;

	if (x->leak != y->leak)
		return x->leak ? -1 : 1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->kind - y->kind;
}

static int most_threads(const void *a, const void *b)
{
	const struct lt_site_count *x = a, *y = b;

	if (x->growing != y->growing)
		return x->growing ? -1 : 1;
	if (x->live + x->unjoined != y->live + y->unjoined)
		return x->live + x->unjoined < y->live + y->unjoined ? 1 : -1;
	return 0;
}

/* qsort's base must not be NULL, even for no elements: empty lists are. */
static void sort(void *base, size_t n, size_t size,
		 int (*cmp)(const void *, const void *))
{
	if (n)
		qsort(base, n, size, cmp);
}

void snapshot_sort(struct lt_snapshot *s)
{
	sort(s->groups, s->ngroups, sizeof(*s->groups), by_bytes);
	sort(s->tgroups, s->ntgroups, sizeof(*s->tgroups), leaks_first);
	sort(s->sites, s->nsites, sizeof(*s->sites), most_threads);
	sort(s->ggroups, s->nggroups, sizeof(*s->ggroups), leaks_first);
	sort(s->hsites, s->nhsites, sizeof(*s->hsites), by_bytes);
	sort(s->fgroups, s->nfgroups, sizeof(*s->fgroups), leaks_first);
	sort(s->kgroups, s->nkgroups, sizeof(*s->kgroups), by_bytes);
}

void snapshot_free(struct lt_snapshot *s)
{
	free(s->groups);
	free(s->tgroups);
	free(s->sites);
	free(s->ggroups);
	free(s->hsites);
	for (int i = 0; i < s->nfgroups; i++)
		free(s->fgroups[i].targets);
	free(s->fgroups);
	s->fgroups = NULL;
	s->nfgroups = 0;
	free(s->kgroups);
	s->kgroups = NULL;
	s->nkgroups = 0;
	s->ggroups = s->hsites = NULL;
	s->nggroups = s->nhsites = 0;
	s->groups = s->tgroups = NULL;
	s->sites = NULL;
	s->ngroups = s->ntgroups = s->nsites = 0;
}
