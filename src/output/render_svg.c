// SPDX-License-Identifier: GPL-2.0
/*
 * A self-contained SVG flame graph: one graph per non-empty section,
 * stacked top to bottom, each with its root (the section) at the bottom and
 * callees above their callers. Widths are proportional to the weight; each
 * frame is a <g> holding a <title> (hover text), one <rect> and, when wide
 * enough, its cut-down name. Thread and goroutine graphs have the kind or
 * wait reason as the level above the root. Frames narrower than
 * MIN_WIDTH pixels are left out together with their callees.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "output/render.h"

#define SVG_WIDTH 1200
#define MARGIN 10
#define ROW 16		/* frame height in pixels */
#define FONT 11		/* monospace font size */
#define CHAR_W 6.6	/* its advance, 0.6 em */
#define HEADING 24	/* above each graph */
#define GAP 14		/* below each graph */
#define MIN_WIDTH 0.1

struct node {
	char *name;
	int64_t weight;
	struct node **kids;
	int nkids, cap;
};

struct graph {
	enum lt_section sec;
	struct node *root;
	int rows;	/* drawn levels, root included */
};

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (int i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n);
}

static struct node *node_new(const char *name)
{
	struct node *n = calloc(1, sizeof(*n));

	if (n && !(n->name = strdup(name))) {
		free(n);
		n = NULL;
	}
	return n;
}

/* The child of n named name, added when missing. */
static struct node *child(struct node *n, const char *name)
{
	struct node *k;

	for (int i = 0; i < n->nkids; i++)
		if (!strcmp(n->kids[i]->name, name))
			return n->kids[i];
	if (n->nkids == n->cap) {
		int cap = n->cap ? n->cap * 2 : 4;
		struct node **v = realloc(n->kids, cap * sizeof(*v));

		if (!v)
			return NULL;
		n->kids = v;
		n->cap = cap;
	}
	k = node_new(name);
	if (k)
		n->kids[n->nkids++] = k;
	return k;
}

/* g's stack, root first, under the section's root and subsection. */
static int add_stack(struct node *root, enum lt_section sec, const struct lt_group *g,
		     int64_t weight)
{
	const struct lt_stack *st = g->stack;
	const char *sub = export_subsection(sec, g);
	struct node *n = root;
	char name[1024];

	n->weight += weight;
	if (sub) {
		n = child(n, sub);
		if (!n)
			return -ENOMEM;
		n->weight += weight;
	}
	if (!st || st->nframes <= 0) {
		n = child(n, export_frame_name(name, sizeof(name), NULL));
		if (!n)
			return -ENOMEM;
		n->weight += weight;
	}
	for (int i = st ? st->nframes - 1 : -1; i >= 0; i--) {
		n = child(n, export_frame_name(name, sizeof(name), &st->frames[i]));
		if (!n)
			return -ENOMEM;
		n->weight += weight;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct node *x = *(const struct node *const *)a;
	const struct node *y = *(const struct node *const *)b;

	return strcmp(x->name, y->name);
}

/* Children in name order, as flame graphs have them; the levels drawn. */
static int arrange(struct node *n, double px_per_unit)
{
	int rows = 0;

	if (n->nkids > 1)
		qsort(n->kids, n->nkids, sizeof(*n->kids), by_name);
	for (int i = 0; i < n->nkids; i++) {
		int r;

		if (n->kids[i]->weight * px_per_unit < MIN_WIDTH)
			continue;
		r = arrange(n->kids[i], px_per_unit);
		if (r > rows)
			rows = r;
	}
	return rows + 1;
}

/*
 * Length of the UTF-8 character at s that XML 1.0 allows in text, or 0 when
 * the byte starts no such character (it is then written as '?').
 */
static int xml_char(const unsigned char *s)
{
	uint32_t c;
	int n;

	if (s[0] < 0x80)
		return s[0] >= 0x20 || s[0] == '\t' ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
		return 0;
	return n;
}

static int xml_len(const char *s)
{
	int chars = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; chars++) {
		int n = xml_char(p);

		p += n ? n : 1;
	}
	return chars;
}

/* s escaped as XML text, at most max characters of it (-1: all). */
static void xml_text(FILE *f, const char *s, int max)
{
	const unsigned char *p = (const unsigned char *)s;
	int chars = 0;

	while (*p && (max < 0 || chars < max)) {
		int n = xml_char(p);

		if (!n)
			fputc('?', f);
		else if (*p == '&')
			fputs("&amp;", f);
		else if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '>')
			fputs("&gt;", f);
		else if (*p == '"')
			fputs("&quot;", f);
		else if (*p == '\'')
			fputs("&apos;", f);
		else
			fwrite(p, 1, n, f);
		p += n ? n : 1;
		chars++;
	}
}

/* "12.3 KiB" for bytes, else the count and what it counts. */
static const char *amount(char *buf, size_t len, enum lt_section sec, enum lt_weight w,
			  int64_t v)
{
	static const char *const counted[LT_S_N] = {
		[LT_S_MEMORY] = "allocations", [LT_S_THREADS] = "threads",
		[LT_S_GOROUTINES] = "goroutines", [LT_S_GOHEAP] = "objects", [LT_S_FDS] = "fds",
		[LT_S_KERNEL] = "allocations",
	};
	char b[32];

	if ((sec == LT_S_MEMORY || sec == LT_S_GOHEAP || sec == LT_S_KERNEL) && w == LT_W_BYTES)
		snprintf(buf, len, "%ld bytes, %s", v, human_bytes(v, b, sizeof(b)));
	else
		snprintf(buf, len, "%ld %s", v, counted[sec]);
	return buf;
}

/* The fill of a frame: the section's hue, varied by name. */
static void fill(char *buf, size_t len, enum lt_section sec, const char *name, bool synthetic)
{
	static const int base[LT_S_N][3] = {
		[LT_S_MEMORY] = { 40, 170, 70 },	/* greens */
		[LT_S_THREADS] = { 70, 120, 200 },	/* blues */
		[LT_S_GOROUTINES] = { 50, 175, 185 },	/* aquas */
		[LT_S_GOHEAP] = { 215, 140, 40 },	/* oranges */
		[LT_S_FDS] = { 150, 90, 190 },	/* purples */
		[LT_S_KERNEL] = { 200, 70, 60 },	/* reds */
	};
	static const int spread[3] = { 40, 60, 50 };
	unsigned int h = 2166136261u;
	double v;

	if (synthetic) {
		snprintf(buf, len, "rgb(190,190,190)");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	v = (h % 1000) / 1000.0;
	snprintf(buf, len, "rgb(%d,%d,%d)", base[sec][0] + (int)(spread[0] * v),
		 base[sec][1] + (int)(spread[1] * v), base[sec][2] + (int)(spread[2] * (1 - v)));
}

struct draw {
	FILE *f;
	enum lt_section sec;
	enum lt_weight w;
	double px_per_unit;
	int64_t total;
	double bottom;	/* y of the root row */
};

static void draw_node(const struct draw *d, const struct node *n, double x, int depth)
{
	double width = n->weight * d->px_per_unit, y = d->bottom - depth * ROW;
	int room = (int)((width - 6) / CHAR_W), len = xml_len(n->name);
	char buf[96], colour[32];

	fill(colour, sizeof(colour), d->sec, n->name, depth == 0 ||
	     (depth == 1 && (d->sec == LT_S_THREADS || d->sec == LT_S_GOROUTINES ||
			     d->sec == LT_S_FDS)));
	fputs("<g><title>", d->f);
	xml_text(d->f, n->name, -1);
	fprintf(d->f, " (%s, %.2f%%)</title>", amount(buf, sizeof(buf), d->sec, d->w, n->weight),
		100.0 * n->weight / d->total);
	fprintf(d->f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"%s\" rx=\"2\"/>",
		x, y, width, ROW - 1, colour);
	if (room >= 3) {
		fprintf(d->f, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + ROW - 4.5);
		if (len > room) {
			xml_text(d->f, n->name, room - 2);
			fputs("..", d->f);
		} else {
			xml_text(d->f, n->name, -1);
		}
		fputs("</text>", d->f);
	}
	fputs("</g>\n", d->f);
	for (int i = 0; i < n->nkids; i++) {
		const struct node *k = n->kids[i];

		if (k->weight * d->px_per_unit < MIN_WIDTH)
			continue;
		draw_node(d, k, x, depth + 1);
		x += k->weight * d->px_per_unit;
	}
}

int render_svg(FILE *f, const struct lt_snapshot *s, enum lt_weight w)
{
	struct graph g[LT_S_N];
	double usable = SVG_WIDTH - 2 * MARGIN, top = MARGIN;
	int ng = 0, height = 2 * MARGIN, err = 0;
	char buf[96];

	for (enum lt_section sec = 0; sec < LT_S_N && !err; sec++) {
		const struct lt_group *grp;
		struct node *root;
		int n;

		grp = export_groups(s, sec, &n);
		root = node_new(export_section_name(sec));
		if (!root) {
			err = -ENOMEM;
			break;
		}
		for (int i = 0; i < n && !err; i++) {
			int64_t weight = export_weight(sec, &grp[i], w);

			if (weight > 0)
				err = add_stack(root, sec, &grp[i], weight);
		}
		if (err || root->weight <= 0) {
			node_free(root);
			continue;
		}
		g[ng].sec = sec;
		g[ng].root = root;
		g[ng].rows = arrange(root, usable / root->weight);
		height += HEADING + g[ng].rows * ROW + GAP;
		ng++;
	}
	if (err)
		goto out;
	if (!ng)
		height += HEADING;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" style=\"background-color:#fff\">\n",
		SVG_WIDTH, height, SVG_WIDTH, height);
	fprintf(f, "<style>text{font-family:monospace;font-size:%dpx;fill:#000;"
		"pointer-events:none}rect:hover{stroke:#000;stroke-width:0.5}"
		"text.h{font-size:%dpx}</style>\n", FONT, FONT + 3);
	fputs("<title>leaktop ", f);
	xml_text(f, s->comm, -1);
	fprintf(f, " (pid %d)</title>\n", s->pid);
	if (!ng)
		fprintf(f, "<text class=\"h\" x=\"%d\" y=\"%.1f\">leaktop: no stacks</text>\n",
			MARGIN, top + HEADING - 8);
	for (int i = 0; i < ng; i++) {
		struct draw d = {
			.f = f, .sec = g[i].sec, .w = w, .total = g[i].root->weight,
			.px_per_unit = usable / g[i].root->weight,
		};

		fprintf(f, "<text class=\"h\" x=\"%d\" y=\"%.1f\">", MARGIN, top + HEADING - 8);
		xml_text(f, export_section_name(d.sec), -1);
		fprintf(f, ": %s in total</text>\n", amount(buf, sizeof(buf), d.sec, w, d.total));
		top += HEADING;
		d.bottom = top + (g[i].rows - 1) * ROW;
		draw_node(&d, g[i].root, MARGIN, 0);
		top += g[i].rows * ROW + GAP;
	}
	fputs("</svg>\n", f);
	fflush(f);
	if (ferror(f))
		err = -EIO;
out:
	for (int i = 0; i < ng; i++)
		node_free(g[i].root);
	return err;
}
