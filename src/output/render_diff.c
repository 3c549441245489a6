// SPDX-License-Identifier: GPL-2.0
/* Diff tables: what grew between two snapshots. */
#include <string.h>
#include "output/render.h"
#include "output/render_diff.h"

#define LABEL_WIDTH 34

static const char *fname(const struct lt_stack *st, int i)
{
	if (!st || i >= st->nframes)
		return NULL;
	return st->frames[i].function ? st->frames[i].function : st->frames[i].module;
}

/* A short name for a group: where it comes from, in one line. */
static void label(const struct lt_group *g, char *buf, size_t len)
{
	const char *a = fname(g->stack, 0), *b = fname(g->stack, 1);
	const char *by = fname(g->created_by, g->kind == LT_G_GOROUTINE ? 0 : 1);

	switch (g->kind) {
	case LT_G_ALLOC:
	case LT_G_GOHEAP:
		snprintf(buf, len, "%s <- %s", a ? a : "?", b ? b : "?");
		break;
	case LT_G_KMEM:	/* frame 0 is the allocator: its caller says more */
		a = fname(g->stack, 1);
		b = fname(g->stack, 2);
		snprintf(buf, len, "kernel %s <- %s", a ? a : "?", b ? b : "?");
		break;
	case LT_G_GOROUTINE:
		snprintf(buf, len, "%s, by %s", g->wait ? g->wait : "?", by ? by : "?");
		break;
	case LT_G_FD:
		snprintf(buf, len, "%s fd <- %s", g->fd_proto ? g->fd_proto : g->fd_kind,
			 b ? b : "?");
		break;
	default:
		snprintf(buf, len, "%s thr, by %s", group_kind_name(g->kind), by ? by : "?");
	}
	if (strlen(buf) > LABEL_WIDTH)
		strcpy(buf + LABEL_WIDTH - 3, "...");
}

static const struct lt_change *find(const struct lt_diff *d, const struct lt_group *g)
{
	uint64_t id = group_identity(g);

	for (int i = 0; d && i < d->n; i++) {
		const struct lt_group *x = d->c[i].new ? d->c[i].new : d->c[i].old;

		if (group_identity(x) == id)
			return &d->c[i];
	}
	return NULL;
}

/* "+1.5 KiB" or "-3 B" */
static const char *signed_bytes(int64_t v, char *buf, size_t len)
{
	char b[32];

	snprintf(buf, len, "%s%s", v >= 0 ? "+" : "", human_bytes(v, b, sizeof(b)));
	return buf;
}

void render_diff_table(FILE *f, const struct lt_diff *prev, const struct lt_diff *first,
		       int top)
{
	char b1[40], b2[40], b3[32], name[96];
	int shown = 0;

	fprintf(f, "changes since the previous report (%.1fs) and since the first (%.1fs):\n",
		prev->seconds, first ? first->seconds : 0);
	fprintf(f, "%10s %11s %10s %6s  %s\n", "PREV", "FIRST", "RATE/s", "COUNT", "GROUP");
	for (int i = 0; i < prev->n && shown < top; i++) {
		const struct lt_change *c = &prev->c[i];
		const struct lt_group *g = c->new ? c->new : c->old;
		const struct lt_change *since = find(first, g);

		if (!c->dbytes && !c->dcount && (!since || (!since->dbytes && !since->dcount)))
			continue;
		signed_bytes(c->dbytes, b1, sizeof(b1));
		signed_bytes(since ? since->dbytes : 0, b2, sizeof(b2));
		human_bytes(since ? since->bytes_per_s : c->bytes_per_s, b3, sizeof(b3));
		label(g, name, sizeof(name));
		fprintf(f, "%10s %11s %10s %+6ld  %s\n", b1, b2, b3, c->dcount, name);
		shown++;
	}
	if (!shown)
		fprintf(f, "(no change)\n");
	fprintf(f, "\n");
}

static void json_change(FILE *f, const struct lt_change *c)
{
	const struct lt_group *g = c->new ? c->new : c->old;
	char name[96];

	label(g, name, sizeof(name));
	fprintf(f, "    {\"kind\": \"%s\", \"group\": ", group_kind_name(g->kind));
	json_str(f, name);
	fprintf(f, ", \"old_bytes\": %ld, \"new_bytes\": %ld, \"delta_bytes\": %ld, "
		"\"old_count\": %ld, \"new_count\": %ld, \"delta_count\": %ld, "
		"\"bytes_per_s\": %.3f, \"leak\": %s}",
		c->old ? c->old->bytes : 0, c->new ? c->new->bytes : 0, c->dbytes,
		c->old ? c->old->count : 0, c->new ? c->new->count : 0, c->dcount, c->bytes_per_s,
		c->new && c->new->leak ? "true" : "false");
}

void render_diff_json(FILE *f, const struct lt_diff *d)
{
	fprintf(f, "{\n  \"schema\": 1,\n  \"seconds\": %.3f,\n  \"changes\": [", d->seconds);
	for (int i = 0; i < d->n; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_change(f, &d->c[i]);
	}
	fputs("\n  ]\n}\n", f);
}

void render_changes(FILE *f, struct diff_history *h, struct lt_snapshot *snap, int top)
{
	const struct lt_snapshot *base = h->prev.duration_s ? &h->prev : &h->first;
	struct lt_diff prev, first;

	if (!h->have_first) {
		h->first = *snap;
		h->have_first = true;
		memset(snap, 0, sizeof(*snap));
		return;
	}
	diff_snapshots(base, snap, snap->duration_s - base->duration_s, &prev);
	diff_snapshots(&h->first, snap, snap->duration_s - h->first.duration_s, &first);
	render_diff_table(f, &prev, &first, top);
	diff_free(&prev);
	diff_free(&first);
	snapshot_free(&h->prev);
	h->prev = *snap;
	memset(snap, 0, sizeof(*snap));
}

void diff_history_free(struct diff_history *h)
{
	snapshot_free(&h->first);
	snapshot_free(&h->prev);
	memset(h, 0, sizeof(*h));
}
