// SPDX-License-Identifier: GPL-2.0
/* Matching groups across snapshots by identity. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "model/diff.h"
#include "lib/idmap.h"

static uint64_t mix_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;
}

/* Symbolized, not raw: addresses differ between runs, names do not; the
 * module offset tells apart frames without a name. */
static uint64_t mix_stack(uint64_t h, const struct lt_stack *st)
{
	for (int i = 0; st && i < st->nframes; i++) {
		const struct lt_frame *f = &st->frames[i];

		h = mix_str(h, f->function);
		if (!f->function)
			h = (mix_str(h, f->module) ^ f->offset) * 0x100000001b3ULL;
	}
	return h;
}

uint64_t group_identity(const struct lt_group *g)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ g->kind;

	h = mix_stack(h, g->stack);
	h = mix_stack(h ^ 0x5a, g->created_by);
	h = mix_str(mix_str(h, g->fd_kind), g->fd_proto);
	return mix_str(h, g->wait);
}

static int add(struct lt_diff *d, int *cap)
{
	if (d->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		d->c = realloc(d->c, *cap * sizeof(*d->c));
		if (!d->c)
			return -ENOMEM;
	}
	memset(&d->c[d->n], 0, sizeof(*d->c));
	return d->n++;
}

static void each_group(const struct lt_snapshot *s,
		       void (*fn)(const struct lt_group *g, void *arg), void *arg)
{
	const struct { const struct lt_group *g; int n; } sec[] = {
		{ s->groups, s->ngroups }, { s->tgroups, s->ntgroups },
		{ s->ggroups, s->nggroups }, { s->hsites, s->nhsites },
		{ s->fgroups, s->nfgroups }, { s->kgroups, s->nkgroups },
	};

	for (size_t i = 0; i < sizeof(sec) / sizeof(sec[0]); i++)
		for (int j = 0; j < sec[i].n; j++)
			fn(&sec[i].g[j], arg);
}

struct matcher {
	struct lt_diff *d;
	struct idmap idx;	/* identity -> index + 1 */
	int cap;
	int err;
};

static void add_old(const struct lt_group *g, void *arg)
{
	struct matcher *m = arg;
	int i = add(m->d, &m->cap);

	if (i < 0) {
		m->err = i;
		return;
	}
	m->d->c[i].old = g;
	idmap_put(&m->idx, group_identity(g), (void *)(uintptr_t)(i + 1));
}

static void add_new(const struct lt_group *g, void *arg)
{
	struct matcher *m = arg;
	uintptr_t i = (uintptr_t)idmap_get(&m->idx, group_identity(g));

	if (!i) {
		int k = add(m->d, &m->cap);

		if (k < 0) {
			m->err = k;
			return;
		}
		i = k + 1;
	}
	m->d->c[i - 1].new = g;
}

static int by_growth(const void *a, const void *b)
{
	const struct lt_change *x = a, *y = b;

	if (x->dbytes != y->dbytes)
		return x->dbytes < y->dbytes ? 1 : -1;
	if (x->dcount != y->dcount)
		return x->dcount < y->dcount ? 1 : -1;
	return 0;
}

int diff_snapshots(const struct lt_snapshot *old, const struct lt_snapshot *new, double seconds,
		   struct lt_diff *d)
{
	struct matcher m = { .d = d };

	memset(d, 0, sizeof(*d));
	d->seconds = seconds;
	each_group(old, add_old, &m);
	each_group(new, add_new, &m);
	idmap_free(&m.idx);
	for (int i = 0; i < d->n; i++) {
		struct lt_change *c = &d->c[i];

		c->dbytes = (c->new ? c->new->bytes : 0) - (c->old ? c->old->bytes : 0);
		c->dcount = (c->new ? c->new->count : 0) - (c->old ? c->old->count : 0);
		c->bytes_per_s = seconds > 0 ? c->dbytes / seconds : 0;
	}
	if (d->n > 1)
		qsort(d->c, d->n, sizeof(*d->c), by_growth);
	return m.err;
}

void diff_free(struct lt_diff *d)
{
	free(d->c);
	d->c = NULL;
	d->n = 0;
}
