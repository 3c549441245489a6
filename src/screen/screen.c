// SPDX-License-Identifier: GPL-2.0
/* Drawing and keys of leaktop top (screen/screen.h). */
#include <curses.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/clock.h"
#include "output/render.h"
#include "screen/rows.h"
#include "screen/screen.h"

#define MIN_COLS 60
#define MIN_LINES 10
#define HEAD_LINES 3	/* title, totals, column heads */
#define KEY_ESC 27

struct screen {
	SCREEN *term;
	struct rows rows;
	enum rows_view view;
	enum rows_sort sort;
	uint64_t selected;	/* key of the selected row: kept across refreshes */
	int cursor, first;	/* the selection and the first row shown, in view */
	bool detail;		/* the selected row's full stack is open */
	int detail_first;	/* its first line shown */
	const struct options *opt;
	int saved_stderr;	/* the terminal's; stderr goes to log meanwhile */
	FILE *log;
};

int screen_check_tty(void)
{
	if (isatty(0) && isatty(1))
		return 0;
	fprintf(stderr, "leaktop: top needs a terminal on stdin and stdout (use leaktop trace "
		"for tables, --json for a report)\n");
	return -ENOTTY;
}

/* What leaktop says while the screen is up would scribble over it: kept
 * in a file and printed when the terminal is back. */
static void hold_stderr(struct screen *sc)
{
	fflush(stderr);
	sc->saved_stderr = -1;
	sc->log = tmpfile();
	if (!sc->log)
		return;
	sc->saved_stderr = dup(2);
	if (sc->saved_stderr < 0 || dup2(fileno(sc->log), 2) < 0) {
		fclose(sc->log);
		sc->log = NULL;
	}
}

static void release_stderr(struct screen *sc)
{
	char buf[4096];
	size_t n;

	if (!sc->log)
		return;
	fflush(stderr);
	dup2(sc->saved_stderr, 2);
	close(sc->saved_stderr);
	rewind(sc->log);
	while ((n = fread(buf, 1, sizeof(buf), sc->log)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(sc->log);
}

struct screen *screen_new(const struct options *o)
{
	struct screen *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	sc->opt = o;
	sc->term = newterm(NULL, stdout, stdin);
	if (!sc->term) {
		fprintf(stderr, "leaktop: cannot use this terminal (TERM=%s)\n",
			getenv("TERM") ? getenv("TERM") : "");
		free(sc);
		return NULL;
	}
	cbreak();	/* Ctrl-C still a signal: the session ends as in trace */
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	hold_stderr(sc);
	return sc;
}

void screen_free(struct screen *sc)
{
	if (!sc)
		return;
	endwin();
	delscreen(sc->term);
	release_stderr(sc);
	rows_free(&sc->rows);
	free(sc);
}

/* The rows of the current view, in order: their indexes into rows.v. */
static int visible(const struct screen *sc, int *idx)
{
	int n = 0;

	for (int i = 0; i < sc->rows.n; i++)
		if (rows_in_view(&sc->rows.v[i], sc->view))
			idx[n++] = i;
	return n;
}

static const char *short_bytes(int64_t b, char *buf, size_t len)
{
	return b ? human_bytes(b, buf, len) : "-";
}

static const char *rate_text(const struct row *w, char *buf, size_t len)
{
	char b[32];

	if (fabs(w->growth) < (w->by_bytes ? 1 : 0.05))
		return "-";
	if (w->by_bytes)
		snprintf(buf, len, "%s%s/s", w->growth > 0 ? "+" : "-",
			 human_bytes(fabs(w->growth), b, sizeof(b)));
	else
		snprintf(buf, len, "%+.1f/s", w->growth);
	return buf;
}

static const char *age_text(double s, char *buf, size_t len)
{
	if (s <= 0)
		return "-";
	if (s < 120)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 7200)
		snprintf(buf, len, "%.0fm", s / 60);
	else
		snprintf(buf, len, "%.0fh", s / 3600);
	return buf;
}

static void draw_title(struct screen *sc)
{
	const struct rows *r = &sc->rows;
	char b[32];

	attron(A_BOLD);
	if (r->ntargets == 1)
		mvprintw(0, 0, "leaktop top  pid %d (%s)  %.0fs", r->targets[0].pid,
			 r->targets[0].comm, r->targets[0].duration_s);
	else
		mvprintw(0, 0, "leaktop top  %d processes", r->ntargets);
	attroff(A_BOLD);
	printw("  view %s  sort %s", rows_view_name(sc->view), rows_sort_name(sc->sort));
	move(1, 0);
	if (r->ntargets == 1) {
		const struct rows_target *t = &r->targets[0];

		printw("memory %s  threads %d  goroutines %d  fds %d", human_bytes(t->bytes, b,
		       sizeof(b)), t->live_threads, t->goroutines, t->fds_open);
		if (t->lost)
			printw("  LOST %llu events", (unsigned long long)t->lost);
	} else {
		uint64_t lost = 0;

		for (int i = 0; i < r->ntargets; i++)
			lost += r->targets[i].lost;
		printw("%d groups", r->n);
		if (lost)
			printw("  LOST %llu events", (unsigned long long)lost);
	}
}

/* "goroutines:chan receive" as "go chan receive": the kind column is short. */
static const char *kind_text(const char *kind, char *buf, size_t len)
{
	static const char *const longer[][2] = {
		{ "goroutines:", "go " }, { "threads:", "thread " }, { "fds:", "fd " },
	};

	for (size_t i = 0; i < sizeof(longer) / sizeof(longer[0]); i++)
		if (!strncmp(kind, longer[i][0], strlen(longer[i][0]))) {
			snprintf(buf, len, "%s%s", longer[i][1], kind + strlen(longer[i][0]));
			return buf;
		}
	return kind;
}

#define ROW_FMT "%-4s %-16.16s %9s %6s %9s %5s %s"

static void draw_row(const struct screen *sc, int y, const struct row *w, bool sel)
{
	char b[32], c[24], g[32], a[16], k[48], p[16] = "", line[1024];

	snprintf(c, sizeof(c), "%ld", (long)w->count);
	if (sc->rows.ntargets > 1)
		snprintf(p, sizeof(p), "%-7d ", w->pid);
	snprintf(line, sizeof(line), ROW_FMT "%s", w->leak ? "LEAK" : "",
		 kind_text(w->kind, k, sizeof(k)), short_bytes(w->bytes, b, sizeof(b)), c,
		 rate_text(w, g, sizeof(g)), age_text(w->age_s, a, sizeof(a)), p, w->site);
	if (sel)
		attron(A_REVERSE);
	else if (w->leak)
		attron(A_BOLD);
	mvaddnstr(y, 0, line, COLS);
	for (int x = strlen(line); sel && x < COLS; x++)
		addch(' ');
	attroff(A_REVERSE | A_BOLD);
}

static void draw_table(struct screen *sc)
{
	int *idx = calloc(sc->rows.n + 1, sizeof(*idx)), n, room = LINES - HEAD_LINES - 1;

	if (!idx)
		return;
	n = visible(sc, idx);
	sc->cursor = 0;
	for (int i = 0; i < n; i++)
		if (sc->rows.v[idx[i]].key == sc->selected)
			sc->cursor = i;
	if (sc->cursor >= n)
		sc->cursor = n ? n - 1 : 0;
	if (sc->cursor < sc->first)
		sc->first = sc->cursor;
	if (sc->cursor >= sc->first + room)
		sc->first = sc->cursor - room + 1;
	if (sc->first > 0 && sc->first > n - room)
		sc->first = n > room ? n - room : 0;
	attron(A_UNDERLINE);
	mvprintw(2, 0, ROW_FMT "%-*s", "", "KIND", "BYTES", "COUNT", "GROWTH", "AGE",
		 sc->rows.ntargets > 1 ? "PID     " : "", COLS > 55 ? COLS - 55 : 0, "SITE");
	attroff(A_UNDERLINE);
	if (!n)
		mvprintw(HEAD_LINES, 0, "  (nothing in this view yet)");
	for (int i = sc->first; i < n && i < sc->first + room; i++)
		draw_row(sc, HEAD_LINES + i - sc->first, &sc->rows.v[idx[i]], i == sc->cursor);
	if (n)
		sc->selected = sc->rows.v[idx[sc->cursor]].key;
	free(idx);
}

static const struct row *selected_row(const struct screen *sc)
{
	for (int i = 0; i < sc->rows.n; i++)
		if (sc->rows.v[i].key == sc->selected && rows_in_view(&sc->rows.v[i], sc->view))
			return &sc->rows.v[i];
	return NULL;
}

/* The verdict, wrapped at the screen's width. */
static int draw_why(int y, const char *why)
{
	int len = strlen(why), w = COLS - 2;

	for (int o = 0; o < len && y < LINES - 1; o += w)
		mvaddnstr(y++, 2, why + o, w);
	return y;
}

static void draw_detail(struct screen *sc)
{
	const struct row *w = selected_row(sc);
	char b[32], g[32], a[16];
	int y = HEAD_LINES - 1;

	if (!w) {
		sc->detail = false;
		return;
	}
	attron(A_BOLD);
	mvprintw(y++, 0, "%s%s  pid %d (%s)", w->leak ? "LEAK  " : "", w->kind, w->pid, w->comm);
	attroff(A_BOLD);
	mvprintw(y++, 0, "bytes %s  count %ld  growth %s  oldest %s", short_bytes(w->bytes, b,
		 sizeof(b)), (long)w->count, rate_text(w, g, sizeof(g)),
		 age_text(w->age_s, a, sizeof(a)));
	if (w->why[0])
		y = draw_why(y, w->why);
	mvprintw(y++, 0, "stack (innermost first):");
	if (sc->detail_first > w->nframes - 1)
		sc->detail_first = w->nframes > 0 ? w->nframes - 1 : 0;
	for (int i = sc->detail_first; i < w->nframes && y < LINES - 1; i++)
		mvaddnstr(y++, 2, w->frames[i], COLS - 2);
}

static void draw(struct screen *sc)
{
	erase();
	if (COLS < MIN_COLS || LINES < MIN_LINES) {
		mvprintw(0, 0, "terminal too small (%dx%d): %dx%d at least", COLS, LINES, MIN_COLS,
			 MIN_LINES);
		refresh();
		return;
	}
	draw_title(sc);
	if (sc->detail)
		draw_detail(sc);
	if (!sc->detail)
		draw_table(sc);
	attron(A_REVERSE);
	mvaddnstr(LINES - 1, 0, sc->detail ?
		  " up/down scroll  Esc/Enter back  q quit " :
		  " m memory  t threads  g goroutines  f fds  a all  s sort  Enter stack  q quit ",
		  COLS);
	attroff(A_REVERSE);
	refresh();
}

void screen_update(struct screen *sc, const struct lt_snapshot *snaps, int n)
{
	rows_update(&sc->rows, snaps, n, mono_s());
	rows_sort(&sc->rows, sc->sort);
	draw(sc);
}

/* Move the selection by d rows within the view. */
static void move_cursor(struct screen *sc, int d)
{
	int *idx = calloc(sc->rows.n + 1, sizeof(*idx)), n, c;

	if (!idx)
		return;
	n = visible(sc, idx);
	c = sc->cursor + d;
	if (c >= n)
		c = n - 1;
	if (c < 0)
		c = 0;
	if (n)
		sc->selected = sc->rows.v[idx[c]].key;
	free(idx);
}

static void set_view(struct screen *sc, enum rows_view v)
{
	sc->view = v;
	sc->first = 0;
	sc->selected = 0;
	sc->detail = false;
}

/* One key; false for quit. */
static bool key(struct screen *sc, int k)
{
	int page = LINES - HEAD_LINES - 2;

	if (k == 'q' || k == 'Q')
		return false;
	if (sc->detail) {
		if (k == KEY_ESC || k == '\n' || k == KEY_ENTER || k == KEY_BACKSPACE ||
		    k == 127 || k == KEY_LEFT)
			sc->detail = false;
		else if (k == KEY_DOWN || k == 'j')
			sc->detail_first++;
		else if ((k == KEY_UP || k == 'k') && sc->detail_first > 0)
			sc->detail_first--;
		return true;
	}
	switch (k) {
	case 'a': set_view(sc, RV_ALL); break;
	case 'm': set_view(sc, RV_MEMORY); break;
	case 't': set_view(sc, RV_THREADS); break;
	case 'g': set_view(sc, RV_GOROUTINES); break;
	case 'f': set_view(sc, RV_FDS); break;
	case 's':
		sc->sort = (sc->sort + 1) % RS_N;
		rows_sort(&sc->rows, sc->sort);
		break;
	case KEY_DOWN: case 'j': move_cursor(sc, 1); break;
	case KEY_UP: case 'k': move_cursor(sc, -1); break;
	case KEY_NPAGE: move_cursor(sc, page); break;
	case KEY_PPAGE: move_cursor(sc, -page); break;
	case '\n': case KEY_ENTER: case KEY_RIGHT:
		sc->detail = selected_row(sc) != NULL;
		sc->detail_first = 0;
		break;
	}
	return true;
}

bool screen_input(struct screen *sc)
{
	int k;

	while ((k = getch()) != ERR)
		if (k != KEY_RESIZE && !key(sc, k))
			return false;
	draw(sc);
	return true;
}
