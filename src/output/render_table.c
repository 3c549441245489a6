// SPDX-License-Identifier: GPL-2.0
/* The interval and final text tables. */
#include <string.h>
#include "output/render.h"

#define WIDTH 80
#define STACK_COL 31	/* where stacks start in every table */
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

/* "; lost events N" ending the line, then the reasons when there are any. */
static void print_lost(FILE *f, const struct lt_lost_counts *l)
{
	fprintf(f, "; lost events %lu\n", lost_total(l));
	if (!lost_total(l))
		return;
	fprintf(f, "  lost:");
	for (int i = 0; i < l->n; i++)
		fprintf(f, " %s=%lu", l->names[i], l->v[i]);
	fprintf(f, "\n");
}

/* Frames [from, from + max) of st, the first on the current line. */
static void print_frames(FILE *f, const struct lt_stack *st, int from, int max)
{
	int n = st->nframes - from < max ? st->nframes - from : max;

	if (n <= 0)
		fprintf(f, "%s\n", st->nframes ? "[no more frames]" : "[unknown stack]");
	for (int i = 0; i < n; i++) {
		if (i)
			fprintf(f, "%*s", STACK_COL, "");
		print_frame(f, &st->frames[from + i]);
	}
	if (st->nframes - from > n && n > 0)
		fprintf(f, "%*s... %d more frames\n", STACK_COL, "", st->nframes - from - n);
}

static void print_wrapped(FILE *f, const char *label, const char *text);

static void print_group(FILE *f, const struct lt_group *g)
{
	char b[32], est[64];

	fprintf(f, "%10s %8ld %8.1fs  ", human_bytes(g->bytes, b, sizeof(b)), g->count,
		g->oldest_age_s);
	print_frames(f, g->stack, 0, MAX_TABLE_FRAMES);
	/* A verdict without history says nothing worth a line in a table. */
	if (g->why[0] && (g->leak || !strstr(g->why, "not enough history")))
		print_wrapped(f, g->leak ? "LEAK: " : "", g->why);
	if (g->samples) {
		snprintf(est, sizeof(est), "estimated from %ld samples, +-%.0f%%", g->samples,
			 100 * sample_error(g));
		print_wrapped(f, "", est);
	}
}

/* The top sites, likely leaks first, each part by bytes. */
static void print_memory_sites(FILE *f, const struct lt_snapshot *s, int top)
{
	int shown = 0;

	for (int pass = 1; pass >= 0; pass--)
		for (int i = 0; i < s->ngroups && shown < top; i++)
			if (s->groups[i].leak == pass) {
				print_group(f, &s->groups[i]);
				shown++;
			}
}

/* Text cut into lines that fit beside the stack column. */
static void print_wrapped(FILE *f, const char *label, const char *text)
{
	int room = WIDTH - STACK_COL, first = 1;

	while (*text) {
		int len = (int)strlen(text), cut = len;

		if (len > room - (first ? (int)strlen(label) : 2)) {
			cut = room - (first ? (int)strlen(label) : 2);
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = room - (first ? (int)strlen(label) : 2);
		}
		fprintf(f, "%*s%s%.*s\n", STACK_COL, "", first ? label : "  ", cut, text);
		text += cut;
		while (*text == ' ')
			text++;
		first = 0;
	}
}

static void print_thread_group(FILE *f, const struct lt_group *g)
{
	const struct lt_stack *cb = g->created_by;

	fprintf(f, "%-9s %6ld %7.1fs %-4s ", group_kind_name(g->kind), g->count, g->oldest_age_s,
		g->leak ? "yes" : "no");
	if (g->kind == LT_G_BLOCKED) {
		fprintf(f, "[%s]\n%*s", g->wait, STACK_COL, "");
		print_frames(f, g->stack, 0, MAX_TABLE_FRAMES - 2);
		fprintf(f, "%*screated by:\n%*s", STACK_COL, "", STACK_COL, "");
	}
	/* The creation stack without its first frame, pthread_create. */
	if (cb->nframes == 0)
		fprintf(f, "[before leaktop attached]\n");
	else
		print_frames(f, cb, 1, 3);
	print_wrapped(f, "why: ", g->why);
}

static void print_site_count(FILE *f, const struct lt_site_count *r)
{
	const struct lt_stack *cb = r->created_by;

	fprintf(f, "%6ld %8ld %+7ld %-7s ", r->live, r->unjoined, r->change,
		r->growing ? "rising" : "-");
	if (cb->nframes > 1)
		print_frame(f, &cb->frames[1]);	/* the pthread_create call site */
	else
		fprintf(f, "[before leaktop attached]\n");
}

static void render_threads(FILE *f, const struct lt_snapshot *s, int top)
{
	int n = s->ntgroups < top ? s->ntgroups : top;
	int m = s->nsites < top ? s->nsites : top;

	fprintf(f, "threads: %d live; blocked means asleep over %.1fs", s->live_threads,
		s->min_block_s);
	print_lost(f, &s->tlost);
	if (!s->ntgroups && !s->nsites) {
		fprintf(f, "\n");
		return;
	}
	fprintf(f, "\n%-9s %6s %8s %-4s  %s\n", "KIND", "COUNT", "OLDEST", "LEAK",
		"STACK / CREATED BY (innermost first)");
	for (int i = 0; i < n; i++)
		print_thread_group(f, &s->tgroups[i]);
	if (s->ntgroups > n)
		fprintf(f, "(%d more thread groups; -n to show more)\n", s->ntgroups - n);
	fprintf(f, "\n%6s %8s %7s %-7s  %s\n", "LIVE", "UNJOINED", "CHANGE", "TREND",
		"CREATION SITE");
	for (int i = 0; i < m; i++)
		print_site_count(f, &s->sites[i]);
	fprintf(f, "\n");
}

static void print_goroutine_group(FILE *f, const struct lt_group *g)
{
	fprintf(f, "%-16s %6ld %7.1fs %-4s ", g->wait, g->count, g->oldest_age_s,
		g->leak ? "yes" : "no");
	print_frames(f, g->stack, 0, MAX_TABLE_FRAMES - 2);
	fprintf(f, "%*screated by: ", STACK_COL, "");
	if (g->created_by->nframes)
		print_frame(f, &g->created_by->frames[0]);
	else
		fprintf(f, "?\n");
	print_wrapped(f, "why: ", g->why);
}

static void render_goroutines(FILE *f, const struct lt_snapshot *s, int top)
{
	int n = s->nggroups < top ? s->nggroups : top;

	fprintf(f, "goroutines: %d (Go %s); blocked means parked over %.1fs", s->goroutines,
		s->go_version && s->go_version[0] ? s->go_version : "?", s->min_block_s);
	print_lost(f, &s->glost);
	if (!s->nggroups) {
		fprintf(f, "\n");
		return;
	}
	fprintf(f, "\n%-16s %6s %8s %-4s  %s\n", "WAIT", "COUNT", "OLDEST", "LEAK",
		"STACK (innermost first)");
	for (int i = 0; i < n; i++)
		print_goroutine_group(f, &s->ggroups[i]);
	if (s->nggroups > n)
		fprintf(f, "(%d more goroutine groups; -n to show more)\n", s->nggroups - n);
	fprintf(f, "\n");
}

static void render_goheap(FILE *f, const struct lt_snapshot *s, int top)
{
	int n = s->nhsites < top ? s->nhsites : top;
	char b[32];

	if (!s->goheap_rate) {
		fprintf(f, "go heap: the runtime's sampler is not on yet\n\n");
		return;
	}
	fprintf(f, "go heap in use, 1 sample/%s (estimated), %ld GC cycle%s",
		human_bytes(s->goheap_rate, b, sizeof(b)), s->goheap_cycles,
		s->goheap_cycles == 1 ? "" : "s");
	print_lost(f, &s->hlost);
	fprintf(f, "\n%10s %8s %9s  %s\n", "BYTES", "OBJECTS", "PENDING", "STACK (innermost first)");
	for (int i = 0; i < n; i++) {
		const struct lt_group *g = &s->hsites[i];
		char pb[32];

		/* PENDING: allocated since the GC before last, judged by the next */
		fprintf(f, "%10s %8ld %9s  ", human_bytes(g->bytes, b, sizeof(b)), g->count,
			human_bytes(g->pending_bytes, pb, sizeof(pb)));
		print_frames(f, g->stack, 0, MAX_TABLE_FRAMES);
		if (g->why[0])
			print_wrapped(f, g->leak ? "LEAK: " : "", g->why);
	}
	fprintf(f, "\n");
}

static void print_fd_group(FILE *f, const struct lt_group *g)
{
	char kind[24];

	snprintf(kind, sizeof(kind), "%s%s%s", g->fd_kind, g->fd_proto ? "/" : "",
		 g->fd_proto ? g->fd_proto : "");
	/* STACK_COL wide */
	fprintf(f, "%-10s %5ld %7.1fs %-4s ", kind, g->count, g->oldest_age_s,
		g->leak ? "yes" : "no");
	if (g->stack->nframes)
		print_frames(f, g->stack, 0, MAX_TABLE_FRAMES - 2);
	else
		fprintf(f, "[open before attach, or untraced]\n");
	for (const char *t = g->targets; t && *t;) {
		int n = strcspn(t, "\n"), room = WIDTH - STACK_COL;

		if (n > room)
			fprintf(f, "%*s%.*s...\n", STACK_COL, "", room - 3, t);
		else
			fprintf(f, "%*s%.*s\n", STACK_COL, "", n, t);
		t += n + (t[n] == '\n');
	}
	print_wrapped(f, "why: ", g->why);
}

static void render_fds(FILE *f, const struct lt_snapshot *s, int top)
{
	int n = s->nfgroups < top ? s->nfgroups : top;

	fprintf(f, "file descriptors: %d open", s->fds_open);
	print_lost(f, &s->flost);
	if (!s->nfgroups) {
		fprintf(f, "\n\n");
		return;
	}
	fprintf(f, "\n%-10s %5s %8s %-4s %s\n", "KIND", "COUNT", "OLDEST", "LEAK",
		"OPENED AT (innermost first) / TARGETS");
	for (int i = 0; i < n; i++)
		print_fd_group(f, &s->fgroups[i]);
	if (s->nfgroups > n)
		fprintf(f, "(%d more fd groups; -n to show more)\n", s->nfgroups - n);
	fprintf(f, "\n");
}

static void render_kernel(FILE *f, const struct lt_snapshot *s, int top)
{
	int n = s->nkgroups < top ? s->nkgroups : top;
	char b[32];

	fprintf(f, "kernel memory: %s in %ld allocation%s, %d site%s",
		human_bytes(s->kbytes, b, sizeof(b)), s->kcount, s->kcount == 1 ? "" : "s",
		s->nkgroups, s->nkgroups == 1 ? "" : "s");
	print_lost(f, &s->klost);
	fprintf(f, "\n%10s %8s %9s  %s\n", "BYTES", "ALLOCS", "OLDEST", "KERNEL STACK (innermost first)");
	for (int i = 0; i < n; i++) {
		const struct lt_group *g = &s->kgroups[i];

		fprintf(f, "%10s %8ld %8.1fs  ", human_bytes(g->bytes, b, sizeof(b)), g->count,
			g->oldest_age_s);
		print_frames(f, g->stack, 0, MAX_TABLE_FRAMES);
		fprintf(f, "%*sby pid %d (%s)\n", STACK_COL, "", g->pid, g->comm);
		if (g->why[0])
			print_wrapped(f, g->leak ? "LEAK: " : "", g->why);
	}
	if (s->nkgroups > n)
		fprintf(f, "(%d more kernel sites; -n to show more)\n", s->nkgroups - n);
	fprintf(f, "\n");
}

static void render_memory(FILE *f, const struct lt_snapshot *s, int top)
{
	char b[32];
	int n = s->ngroups < top ? s->ngroups : top;

	fprintf(f, "outstanding %s in %ld allocation%s at %d site%s",
		human_bytes(s->bytes, b, sizeof(b)), s->count, s->count == 1 ? "" : "s",
		s->ngroups, s->ngroups == 1 ? "" : "s");
	if (s->min_age_s > 0)
		fprintf(f, " older than %.1fs", s->min_age_s);
	if (s->sample_bytes)
		fprintf(f, ",\nestimated from one allocation per %s tracked",
			human_bytes(s->sample_bytes, b, sizeof(b)));
	print_lost(f, &s->lost);
	fprintf(f, "\n%10s %8s %9s  %s\n", "BYTES", "ALLOCS", "OLDEST", "STACK (innermost first)");
	print_memory_sites(f, s, n);
	if (s->ngroups > n)
		fprintf(f, "(%d more sites; -n to show more)\n", s->ngroups - n);
	fprintf(f, "\n");
}

void render_table(FILE *f, const struct lt_snapshot *s, int top)
{
	fprintf(f, "leaktop: pid %d (%s) after %.1fs%s\n", s->pid, s->comm, s->duration_s,
		s->exited ? ", process exited" : "");
	if (!s->no_memory)
		render_memory(f, s, top);
	if (s->has_threads)
		render_threads(f, s, top);
	if (s->has_goroutines)
		render_goroutines(f, s, top);
	if (s->has_goheap)
		render_goheap(f, s, top);
	if (s->has_fds)
		render_fds(f, s, top);
	if (s->has_kernel)
		render_kernel(f, s, top);
	fflush(f);
}
