// SPDX-License-Identifier: GPL-2.0
/* Snapshots flattened into the rows of leaktop top (screen/rows.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "screen/rows.h"

/* Growth is smoothed with this time constant: a leak of steady rate shows
 * its rate after a few seconds, one burst fades out in about as long. */
#define GROWTH_TAU_S 5.0
/* Groups remembered for their growth; past this the memory starts over. */
#define MEMO_MAX 65536

struct rate {
	double value, t, growth;
};

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return id_mix(h, 0x2f);
}

static void free_rows(struct row *v, int n)
{
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < v[i].nframes; j++)
			free(v[i].frames[j]);
		free(v[i].frames);
	}
	free(v);
}

static void memo_clear(struct idmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->used[i])
			free(m->vals[i]);
	idmap_free(m);
	memset(m, 0, sizeof(*m));
}

/* "leak_site (leaky.c:42)": a frame as the detail screen lists it. */
static char *frame_text(const struct lt_frame *fr)
{
	char name[512], *out;

	export_frame_name(name, sizeof(name), fr);
	if (fr && fr->file && fr->line > 0) {
		const char *base = strrchr(fr->file, '/');

		if (asprintf(&out, "%s (%s:%d)", name, base ? base + 1 : fr->file, fr->line) < 0)
			return NULL;
		return out;
	}
	return strdup(name);
}

static int add_frames(struct row *w, const struct lt_stack *st, const char *title)
{
	int n = (st ? st->nframes : 0) + (title ? 1 : 0);
	char **f;

	if (!st && !title)
		return 0;
	f = realloc(w->frames, (w->nframes + n + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	w->frames = f;
	if (title)
		f[w->nframes++] = strdup(title);
	if (!st || !st->nframes)
		f[w->nframes++] = frame_text(NULL);
	for (int i = 0; st && i < st->nframes; i++)
		f[w->nframes++] = frame_text(&st->frames[i]);
	return 0;
}

static void site_of(struct row *w, const struct lt_stack *st)
{
	char name[128];
	size_t o = 0;

	snprintf(w->site, sizeof(w->site), "[unknown stack]");
	for (int i = export_own_frames(st), k = 0; st && i < st->nframes && k < 4; i++, k++)
		o += snprintf(w->site + o, sizeof(w->site) - o, "%s%s", k ? " < " : "",
			      export_frame_name(name, sizeof(name), &st->frames[i]));
}

static uint64_t row_key(const struct row *w)
{
	uint64_t h = hash_str(id_mix(w->pid, w->sec), w->kind);

	for (int i = 0; i < w->nframes; i++)
		h = hash_str(h, w->frames[i]);
	return h;
}

/* The growth of w since it was last seen, smoothed; 0 the first time. */
static void growth(struct rows *r, struct row *w, double now)
{
	double value = w->by_bytes ? w->bytes : w->count, a;
	struct rate *m = idmap_get(&r->memo, w->key);

	if (!m) {
		if (r->memo.n >= MEMO_MAX)
			memo_clear(&r->memo);
		m = calloc(1, sizeof(*m));
		if (!m || idmap_put(&r->memo, w->key, m)) {
			free(m);
			return;
		}
		*m = (struct rate){ .value = value, .t = now };
		return;
	}
	if (now - m->t < 0.05) {	/* the same instant: nothing to learn */
		w->growth = m->growth;
		return;
	}
	a = 1 - exp(-(now - m->t) / GROWTH_TAU_S);
	m->growth += a * ((value - m->value) / (now - m->t) - m->growth);
	m->value = value;
	m->t = now;
	w->growth = m->growth;
}

static int add_row(struct rows *r, int *cap, const struct lt_snapshot *s, enum lt_section sec,
		   const struct lt_group *g)
{
	struct row *w;

	if (r->n == *cap) {
		int c = *cap ? *cap * 2 : 64;
		struct row *v = realloc(r->v, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		*cap = c;
	}
	w = &r->v[r->n++];
	memset(w, 0, sizeof(*w));
	w->pid = s->pid;
	snprintf(w->comm, sizeof(w->comm), "%s", s->comm);
	w->sec = sec;
	export_root(w->kind, sizeof(w->kind), sec, g);
	w->bytes = g->bytes;
	w->count = g->count;
	w->by_bytes = sec == LT_S_MEMORY || sec == LT_S_GOHEAP || sec == LT_S_KERNEL;
	w->age_s = g->oldest_age_s;
	w->leak = g->leak;
	snprintf(w->why, sizeof(w->why), "%s", g->why);
	if (add_frames(w, g->stack, NULL) ||
	    (g->created_by && g->created_by != g->stack &&
	     add_frames(w, g->created_by, "created by:")))
		return -ENOMEM;
	site_of(w, g->stack);
	w->key = row_key(w);
	return 0;
}

static void add_target(struct rows_target *t, const struct lt_snapshot *s)
{
	memset(t, 0, sizeof(*t));
	t->pid = s->pid;
	snprintf(t->comm, sizeof(t->comm), "%s", s->comm);
	t->duration_s = s->duration_s;
	t->bytes = s->bytes + s->kbytes;
	for (int i = 0; i < s->nhsites; i++)
		t->bytes += s->hsites[i].bytes;
	t->live_threads = s->live_threads;
	t->goroutines = s->goroutines;
	t->fds_open = s->fds_open;
	t->lost = lost_total(&s->lost) + lost_total(&s->tlost) + lost_total(&s->glost) +
		  lost_total(&s->hlost) + lost_total(&s->flost) + lost_total(&s->klost);
}

int rows_update(struct rows *r, const struct lt_snapshot *snaps, int n, double now)
{
	struct rows_target *t = calloc(n ? n : 1, sizeof(*t));
	int cap = 0, err = 0;

	if (!t)
		return -ENOMEM;
	free_rows(r->v, r->n);
	free(r->targets);
	r->v = NULL;
	r->n = 0;
	r->targets = t;
	r->ntargets = n;
	r->t = now;
	for (int i = 0; i < n; i++) {
		add_target(&t[i], &snaps[i]);
		for (int sec = 0; sec < LT_S_N && !err; sec++) {
			int ng;
			const struct lt_group *g = export_groups(&snaps[i], sec, &ng);

			for (int j = 0; j < ng && !err; j++)
				err = add_row(r, &cap, &snaps[i], sec, &g[j]);
		}
	}
	for (int i = 0; i < r->n; i++)
		growth(r, &r->v[i], now);
	return err;
}

static int cmp_num(double a, double b)
{
	return (a < b) - (a > b);	/* larger first */
}

static int by_size(const struct row *a, const struct row *b)
{
	if (a->bytes != b->bytes)
		return cmp_num(a->bytes, b->bytes);
	if (a->count != b->count)
		return cmp_num(a->count, b->count);
	return (a->key > b->key) - (a->key < b->key);	/* stable across refreshes */
}

static int by_leaks(const void *x, const void *y)
{
	const struct row *a = x, *b = y;

	return a->leak != b->leak ? b->leak - a->leak : by_size(a, b);
}

static int by_size_q(const void *x, const void *y)
{
	return by_size(x, y);
}

static int by_growth(const void *x, const void *y)
{
	const struct row *a = x, *b = y;

	return a->growth != b->growth ? cmp_num(a->growth, b->growth) : by_size(a, b);
}

static int by_age(const void *x, const void *y)
{
	const struct row *a = x, *b = y;

	return a->age_s != b->age_s ? cmp_num(a->age_s, b->age_s) : by_size(a, b);
}

void rows_sort(struct rows *r, enum rows_sort by)
{
	static int (*const cmp[RS_N])(const void *, const void *) = {
		[RS_LEAKS] = by_leaks, [RS_SIZE] = by_size_q, [RS_GROWTH] = by_growth,
		[RS_AGE] = by_age,
	};

	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), cmp[by]);
}

bool rows_in_view(const struct row *w, enum rows_view v)
{
	switch (v) {
	case RV_MEMORY:
		return w->by_bytes;
	case RV_THREADS:
		return w->sec == LT_S_THREADS;
	case RV_GOROUTINES:
		return w->sec == LT_S_GOROUTINES;
	case RV_FDS:
		return w->sec == LT_S_FDS;
	default:
		return true;
	}
}

const char *rows_view_name(enum rows_view v)
{
	static const char *const names[RV_N] = { "all", "memory", "threads", "goroutines",
						 "fds" };

	return names[v];
}

const char *rows_sort_name(enum rows_sort s)
{
	static const char *const names[RS_N] = { "leaks", "size", "growth", "age" };

	return names[s];
}

void rows_free(struct rows *r)
{
	free_rows(r->v, r->n);
	free(r->targets);
	memo_clear(&r->memo);
	memset(r, 0, sizeof(*r));
}
