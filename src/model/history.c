// SPDX-License-Identifier: GPL-2.0
/* Per-id sample rings and their trend. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "model/history.h"
#include "output/render.h"
#include "model/snapshot.h"

struct series {
	int n;
	int64_t v[HISTORY_LEN];	/* oldest first */
};

int history_add(struct history *h, uint64_t id, int64_t value)
{
	struct series *s = idmap_get(&h->ids, id);

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s || idmap_put(&h->ids, id, s)) {
			free(s);
			return -ENOMEM;
		}
	}
	if (s->n == HISTORY_LEN) {
		memmove(s->v, s->v + 1, (HISTORY_LEN - 1) * sizeof(s->v[0]));
		s->n--;
	}
	s->v[s->n++] = value;
	return 0;
}

int history_trend(const struct history *h, uint64_t id, struct trend *t)
{
	const struct series *s = idmap_get(&h->ids, id);

	memset(t, 0, sizeof(*t));
	if (!s || !s->n)
		return -ENOENT;
	t->n = s->n;
	t->first = s->v[0];
	t->last = s->v[s->n - 1];
	for (int i = 1; i < s->n; i++) {
		t->rises += s->v[i] > s->v[i - 1];
		t->falls += s->v[i] < s->v[i - 1];
	}
	return 0;
}

bool trend_growing(const struct trend *t)
{
	return t->n >= 3 && t->last > t->first && t->rises >= 2 && t->rises > 2 * t->falls;
}

void history_free(struct history *h)
{
	for (size_t i = 0; i < h->ids.cap; i++)
		if (h->ids.used[i])
			free(h->ids.vals[i]);
	idmap_free(&h->ids);
}

void history_judge(const struct history *h, uint64_t key, struct lt_group *g)
{
	struct trend t;
	char a[32], b[32], r[32];
	double rate;

	if (history_trend(h, key, &t) || t.n < 3) {
		snprintf(g->why, sizeof(g->why), "not enough history yet (%d s)", t.n);
		return;
	}
	rate = (double)(t.last - t.first) / (t.n - 1);
	human_bytes(t.first, a, sizeof(a));
	human_bytes(t.last, b, sizeof(b));
	human_bytes(rate, r, sizeof(r));
	g->leak = trend_growing(&t);
	if (g->leak)
		snprintf(g->why, sizeof(g->why), "grew in %d of the last %d s, +%s/s (%s -> %s)",
			 t.rises, t.n - 1, r, a, b);
	else if (t.last < t.first)
		snprintf(g->why, sizeof(g->why), "shrinking over %d s (%s -> %s)", t.n - 1, a, b);
	else
		snprintf(g->why, sizeof(g->why), "stable over %d s (%s -> %s)", t.n - 1, a, b);
}
