// SPDX-License-Identifier: GPL-2.0
/*
 * Folded stacks (the input of flamegraph.pl, speedscope and most flame
 * graph tools): one "root;caller;...;leaf weight" line per distinct stack,
 * and the view of a snapshot that every stack export shares.
 */
#include <stdlib.h>
#include <string.h>
#include "output/render.h"

static const char *const section_names[LT_S_N] = {
	[LT_S_MEMORY] = "memory", [LT_S_THREADS] = "threads",
	[LT_S_GOROUTINES] = "goroutines", [LT_S_GOHEAP] = "go_heap", [LT_S_FDS] = "fds",
	[LT_S_KERNEL] = "kernel",
};

const char *export_section_name(enum lt_section sec)
{
	return sec < LT_S_N ? section_names[sec] : "?";
}

const struct lt_group *export_groups(const struct lt_snapshot *s, enum lt_section sec, int *n)
{
	*n = 0;
	switch (sec) {
	case LT_S_MEMORY:
		*n = s->ngroups;
		return s->groups;
	case LT_S_THREADS:
		if (s->has_threads)
			*n = s->ntgroups;
		return s->tgroups;
	case LT_S_GOROUTINES:
		if (s->has_goroutines)
			*n = s->nggroups;
		return s->ggroups;
	case LT_S_GOHEAP:
		if (s->has_goheap)
			*n = s->nhsites;
		return s->hsites;
	case LT_S_FDS:
		if (s->has_fds)
			*n = s->nfgroups;
		return s->fgroups;
	case LT_S_KERNEL:
		if (s->has_kernel)
			*n = s->nkgroups;
		return s->kgroups;
	default:
		return NULL;
	}
}

int64_t export_weight(enum lt_section sec, const struct lt_group *g, enum lt_weight w)
{
	if ((sec == LT_S_MEMORY || sec == LT_S_GOHEAP || sec == LT_S_KERNEL) && w == LT_W_BYTES)
		return g->bytes;
	return g->count;
}

/* src into dst as one folded frame: ';' to ':', control characters to '?'. */
static const char *clean(char *dst, size_t len, const char *src)
{
	size_t i;

	if (!len)
		return dst;
	for (i = 0; src[i] && i + 1 < len; i++) {
		unsigned char c = src[i];

		dst[i] = c == ';' ? ':' : (c < 0x20 || c == 0x7f) ? '?' : c;
	}
	dst[i] = '\0';
	return dst;
}

const char *export_subsection(enum lt_section sec, const struct lt_group *g)
{
	if (sec == LT_S_THREADS)
		return group_kind_name(g->kind);
	if (sec == LT_S_GOROUTINES)
		return g->wait && g->wait[0] ? g->wait : "waiting";
	if (sec == LT_S_FDS)
		return g->fd_proto ? g->fd_proto : g->fd_kind;
	return NULL;
}

const char *export_root(char *buf, size_t len, enum lt_section sec, const struct lt_group *g)
{
	const char *sub = export_subsection(sec, g);
	char raw[256];

	if (!sub)
		return clean(buf, len, export_section_name(sec));
	snprintf(raw, sizeof(raw), "%s:%s", export_section_name(sec), sub);
	return clean(buf, len, raw);
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

const char *export_frame_name(char *buf, size_t len, const struct lt_frame *fr)
{
	char raw[1024];

	if (!fr)
		snprintf(raw, sizeof(raw), "[unknown stack]");
	else if (fr->function && fr->function[0])
		snprintf(raw, sizeof(raw), "%s", fr->function);
	else if (fr->module && fr->module[0])
		snprintf(raw, sizeof(raw), "%s+0x%lx", basename_of(fr->module), fr->offset);
	else
		snprintf(raw, sizeof(raw), "0x%lx", fr->address);
	return clean(buf, len, raw);
}

/* Where the program's own frames start: past the library or runtime
 * frames the stack begins with (malloc, pthread_create, runtime.gopark). */
int export_own_frames(const struct lt_stack *st)
{
	int i = 0;

	for (; st && i + 1 < st->nframes; i++) {
		const struct lt_frame *fr = &st->frames[i];
		bool lib = fr->module && (!strncmp(fr->module, "/lib", 4) ||
					  !strncmp(fr->module, "/usr/lib", 8));
		bool rt = fr->function && (!strncmp(fr->function, "runtime.", 8) ||
					   !strncmp(fr->function, "sync.", 5) ||
					   !strncmp(fr->function, "internal/", 9));

		if (!lib && !rt)
			break;
	}
	return i;
}

struct folded_line {
	char *stack;
	int64_t weight;
};

struct folded {
	struct folded_line *v;
	int n, cap;
	char *buf;	/* the line being built */
	size_t len, cap_buf;
};

static int append(struct folded *fo, const char *s)
{
	size_t n = strlen(s);

	if (fo->len + n + 1 > fo->cap_buf) {
		size_t cap = fo->cap_buf ? fo->cap_buf : 256;
		char *p;

		while (fo->len + n + 1 > cap)
			cap *= 2;
		p = realloc(fo->buf, cap);
		if (!p)
			return -1;
		fo->buf = p;
		fo->cap_buf = cap;
	}
	memcpy(fo->buf + fo->len, s, n + 1);
	fo->len += n;
	return 0;
}

/* The stack of g root first, behind its section's root frame. */
static int add_group(struct folded *fo, enum lt_section sec, const struct lt_group *g,
		     int64_t weight)
{
	const struct lt_stack *st = g->stack;
	char name[1024];
	int err;

	fo->len = 0;
	err = append(fo, export_root(name, sizeof(name), sec, g));
	if (!st || st->nframes <= 0) {
		err |= append(fo, ";");
		err |= append(fo, export_frame_name(name, sizeof(name), NULL));
	}
	for (int i = st ? st->nframes - 1 : -1; i >= 0; i--) {
		err |= append(fo, ";");
		err |= append(fo, export_frame_name(name, sizeof(name), &st->frames[i]));
	}
	if (err)
		return -1;
	if (fo->n == fo->cap) {
		int cap = fo->cap ? fo->cap * 2 : 64;
		struct folded_line *v = realloc(fo->v, cap * sizeof(*v));

		if (!v)
			return -1;
		fo->v = v;
		fo->cap = cap;
	}
	fo->v[fo->n].stack = strdup(fo->buf);
	if (!fo->v[fo->n].stack)
		return -1;
	fo->v[fo->n++].weight = weight;
	return 0;
}

static int by_stack(const void *a, const void *b)
{
	const struct folded_line *x = a, *y = b;

	return strcmp(x->stack, y->stack);
}

void render_folded(FILE *f, const struct lt_snapshot *s, enum lt_weight w)
{
	struct folded fo = { 0 };
	int i = 0;

	for (enum lt_section sec = 0; sec < LT_S_N; sec++) {
		const struct lt_group *g;
		int n;

		g = export_groups(s, sec, &n);
		for (int j = 0; j < n; j++) {
			int64_t weight = export_weight(sec, &g[j], w);

			if (weight > 0 && add_group(&fo, sec, &g[j], weight)) {
				fprintf(stderr, "leaktop: folded stacks: out of memory\n");
				goto out;
			}
		}
	}
	/* Different groups can fold to one line: same names, other addresses. */
	if (fo.n > 1)
		qsort(fo.v, fo.n, sizeof(*fo.v), by_stack);
	while (i < fo.n) {
		int64_t sum = fo.v[i].weight;
		int j = i + 1;

		while (j < fo.n && !strcmp(fo.v[j].stack, fo.v[i].stack))
			sum += fo.v[j++].weight;
		fprintf(f, "%s %ld\n", fo.v[i].stack, sum);
		i = j;
	}
out:
	for (i = 0; i < fo.n; i++)
		free(fo.v[i].stack);
	free(fo.v);
	free(fo.buf);
	fflush(f);
}
