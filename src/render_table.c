// SPDX-License-Identifier: GPL-2.0
/* The interval and final text tables. */
#include <string.h>
#include "render.h"

#define WIDTH 80
#define STACK_COL 31
#define MAX_TABLE_FRAMES 8

const char *human_bytes(double b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while ((b >= 1024 || b <= -1024) && u < 4) {
		b /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f B", b);
	else
		snprintf(buf, len, "%.1f %s", b, unit[u]);
	return buf;
}

static const char *basename_of(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path;
}

/* One frame as "function (file:line)", else "module+0xoff", cut to fit. */
static void print_frame(FILE *f, const struct lt_frame *fr)
{
	char buf[512];
	int room = WIDTH - STACK_COL;

	if (fr->function && fr->file)
		snprintf(buf, sizeof(buf), "%s (%s:%d)", fr->function, basename_of(fr->file),
			 fr->line);
	else if (fr->function)
		snprintf(buf, sizeof(buf), "%s", fr->function);
	else if (fr->module)
		snprintf(buf, sizeof(buf), "%s+0x%lx", basename_of(fr->module), fr->offset);
	else
		snprintf(buf, sizeof(buf), "0x%lx", fr->address);
	if ((int)strlen(buf) > room)
		strcpy(buf + room - 3, "...");
	fprintf(f, "%s\n", buf);
}

static void print_group(FILE *f, const struct lt_group *g)
{
	const struct lt_stack *st = g->stack;
	char b[32];
	int n = st->nframes < MAX_TABLE_FRAMES ? st->nframes : MAX_TABLE_FRAMES;

	fprintf(f, "%10s %8ld %8.1fs  ", human_bytes(g->bytes, b, sizeof(b)), g->count,
		g->oldest_age_s);
	if (st->nframes == 0)
		fprintf(f, "[unknown stack]\n");
	for (int i = 0; i < n; i++) {
		if (i)
			fprintf(f, "%*s", STACK_COL, "");
		print_frame(f, &st->frames[i]);
	}
	if (st->nframes > n)
		fprintf(f, "%*s... %d more frames\n", STACK_COL, "", st->nframes - n);
}

void render_table(FILE *f, const struct lt_snapshot *s, int top)
{
	char b[32];
	int n = s->ngroups < top ? s->ngroups : top;

	fprintf(f, "leaktop: pid %d (%s) after %.1fs%s\n", s->pid, s->comm, s->duration_s,
		s->exited ? ", process exited" : "");
	fprintf(f, "outstanding %s in %ld allocation%s at %d site%s",
		human_bytes(s->bytes, b, sizeof(b)), s->count, s->count == 1 ? "" : "s",
		s->ngroups, s->ngroups == 1 ? "" : "s");
	if (s->min_age_s > 0)
		fprintf(f, " older than %.1fs", s->min_age_s);
	fprintf(f, "; lost events %lu\n", snapshot_lost_total(s));
	if (snapshot_lost_total(s)) {
		fprintf(f, "  lost:");
		for (int i = 0; i < LT_LOST_MAX; i++)
			fprintf(f, " %s=%lu", snapshot_lost_name(i), s->lost[i]);
		fprintf(f, "\n");
	}
	fprintf(f, "\n%10s %8s %9s  %s\n", "BYTES", "ALLOCS", "OLDEST", "STACK (innermost first)");
	for (int i = 0; i < n; i++)
		print_group(f, &s->groups[i]);
	if (s->ngroups > n)
		fprintf(f, "(%d more sites; -n to show more)\n", s->ngroups - n);
	fprintf(f, "\n");
	fflush(f);
}
