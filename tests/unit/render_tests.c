// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the stack exports (src/output/render_folded.c, render_pprof.c,
 * render_svg.c) on a synthetic snapshot with every section, awkward names
 * (';', spaces, '<', '&', newlines, a byte that is not UTF-8), frames
 * without a function, an empty stack and two groups that fold to one line.
 * The pprof files are read back by the system's `go tool pprof`, the SVG by
 * python3's xml.dom.minidom. The same snapshot as /metrics (serve/) and as
 * leaktop top's rows (screen/rows.c). Prints "ok NAME" or "FAIL NAME: why" per check
 * and returns the number of failures.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "check.h"
#include "output/render.h"
#include "screen/rows.h"
#include "serve/board.h"
#include "serve/metrics.h"

int render_tests(const char *tmpdir);



#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define LEAKY "/usr/local/bin/leaky"
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define GOBIN "/srv/gosvc"

/* Memory: the leak, then names that need care. */
static struct lt_frame f_leak[] = {
	{ "leak_site", LEAKY, 0x401136, 0x1136, "leaky.c", 10 },
	{ "worker_loop", LEAKY, 0x401200, 0x1200, "leaky.c", 20 },
	{ "main", LEAKY, 0x401300, 0x1300, "leaky.c", 30 },
	{ "__libc_start_call_main", LIBC, 0x7f0000029d90, 0x29d90, NULL, 0 },
};
/* The same functions at other addresses: the same folded line. */
static struct lt_frame f_leak2[] = {
	{ "leak_site", LEAKY, 0x401150, 0x1150, "leaky.c", 12 },
	{ "worker_loop", LEAKY, 0x401210, 0x1210, "leaky.c", 21 },
	{ "main", LEAKY, 0x401300, 0x1300, "leaky.c", 30 },
	{ "__libc_start_call_main", LIBC, 0x7f0000029d90, 0x29d90, NULL, 0 },
};
static struct lt_frame f_weird[] = {
	{ "std::vector<int; char>::push_back", LEAKY, 0x401400, 0x1400, NULL, 0 },
	{ "ns::f(a & b)\nsecond line", LEAKY, 0x401500, 0x1500, NULL, 0 },
	{ "has space \"quoted\" 'x' \xff tail", LEAKY, 0x401600, 0x1600, NULL, 0 },
	{ "main", LEAKY, 0x401300, 0x1300, "leaky.c", 30 },
};
static struct lt_frame f_nofunc[] = {
	{ NULL, LIBC, 0x7f0000012345, 0x12345, NULL, 0 },
	{ NULL, NULL, 0xdeadbeef, 0, NULL, 0 },
	{ "", LEAKY, 0x401700, 0x1700, NULL, 0 },
	{ "main", LEAKY, 0x401300, 0x1300, "leaky.c", 30 },
};

/* Threads */
static struct lt_frame f_create[] = {
	{ "pthread_create@@GLIBC_2.34", LIBC, 0x7f0000094000, 0x94000, NULL, 0 },
	{ "spawn_detached", LEAKY, 0x401800, 0x1800, "leaky.c", 40 },
	{ "main", LEAKY, 0x401300, 0x1300, "leaky.c", 30 },
};
static struct lt_frame f_blocked[] = {
	{ "__futex_abstimed_wait_common", LIBC, 0x7f0000091000, 0x91000, NULL, 0 },
	{ "pthread_cond_wait@@GLIBC_2.3.2", LIBC, 0x7f0000093000, 0x93000, NULL, 0 },
	{ "consumer", LEAKY, 0x401900, 0x1900, "leaky.c", 50 },
	{ "start_thread", LIBC, 0x7f0000094b00, 0x94b00, NULL, 0 },
	{ "clone3", LIBC, 0x7f0000126000, 0x126000, NULL, 0 },
};

/* Goroutines */
static struct lt_frame f_chansend[] = {
	{ "runtime.gopark", GOBIN, 0x43a000, 0x3a000, "runtime/proc.go", 363 },
	{ "runtime.chansend", GOBIN, 0x405000, 0x5000, "runtime/chan.go", 259 },
	{ "runtime.chansend1", GOBIN, 0x404000, 0x4000, "runtime/chan.go", 145 },
	{ "main.leaky", GOBIN, 0x45e000, 0x5e000, "/src/main.go", 12 },
	{ "runtime.goexit", GOBIN, 0x460000, 0x60000, "runtime/asm_amd64.s", 1594 },
};
static struct lt_frame f_select[] = {
	{ "runtime.gopark", GOBIN, 0x43a000, 0x3a000, "runtime/proc.go", 363 },
	{ "runtime.selectgo", GOBIN, 0x44a000, 0x4a000, "runtime/select.go", 328 },
	{ "main.worker", GOBIN, 0x45f000, 0x5f000, "/src/main.go", 30 },
	{ "runtime.goexit", GOBIN, 0x460000, 0x60000, "runtime/asm_amd64.s", 1594 },
};
static struct lt_frame f_gomain[] = {
	{ "main.main", GOBIN, 0x45d000, 0x5d000, "/src/main.go", 40 },
};

/* Go heap */
static struct lt_frame f_makebuf[] = {
	{ "main.makeBuf", GOBIN, 0x45c000, 0x5c000, "/src/main.go", 50 },
	{ "main.main", GOBIN, 0x45d000, 0x5d000, "/src/main.go", 41 },
	{ "runtime.main", GOBIN, 0x436000, 0x36000, "runtime/proc.go", 250 },
	{ "runtime.goexit", GOBIN, 0x460000, 0x60000, "runtime/asm_amd64.s", 1594 },
};
static struct lt_frame f_marshal[] = {
	{ "encoding/json.Marshal", GOBIN, 0x4a0000, 0xa0000, "encoding/json/encode.go", 160 },
	{ "main.main", GOBIN, 0x45d000, 0x5d000, "/src/main.go", 42 },
	{ "runtime.main", GOBIN, 0x436000, 0x36000, "runtime/proc.go", 250 },
	{ "runtime.goexit", GOBIN, 0x460000, 0x60000, "runtime/asm_amd64.s", 1594 },
};

static struct lt_stack st_leak = { N(f_leak), f_leak }, st_leak2 = { N(f_leak2), f_leak2 },
	st_weird = { N(f_weird), f_weird }, st_nofunc = { N(f_nofunc), f_nofunc },
	st_empty = { 0, NULL }, st_create = { N(f_create), f_create },
	st_blocked = { N(f_blocked), f_blocked }, st_chansend = { N(f_chansend), f_chansend },
	st_select = { N(f_select), f_select }, st_gomain = { N(f_gomain), f_gomain },
	st_makebuf = { N(f_makebuf), f_makebuf }, st_marshal = { N(f_marshal), f_marshal };

/* The snapshot; leak_bytes sets the leak's size so two can be compared. */
static void build(struct lt_snapshot *s, struct lt_group *mem, struct lt_group *thr,
		  struct lt_group *gor, struct lt_group *heap, int64_t leak_bytes)
{
	const struct lt_group m[] = {
		{ .kind = LT_G_ALLOC, .bytes = leak_bytes, .count = leak_bytes / 1024,
		  .stack = &st_leak },
		{ .kind = LT_G_ALLOC, .bytes = 1000, .count = 1, .stack = &st_weird },
		{ .kind = LT_G_ALLOC, .bytes = 300, .count = 3, .stack = &st_nofunc },
		{ .kind = LT_G_ALLOC, .bytes = 100, .count = 1, .stack = &st_empty },
		{ .kind = LT_G_ALLOC, .bytes = 24, .count = 1, .stack = &st_leak2 },
		{ .kind = LT_G_ALLOC, .bytes = 0, .count = 0, .stack = &st_leak },
	};
	const struct lt_group t[] = {
		{ .kind = LT_G_UNJOINED, .bytes = 5 << 23, .count = 5, .stack = &st_create,
		  .created_by = &st_create, .leak = true },
		{ .kind = LT_G_BLOCKED, .count = 2, .stack = &st_blocked, .created_by = &st_create,
		  .wait = "futex" },
		{ .kind = LT_G_RUNNING, .count = 1, .stack = &st_create, .created_by = &st_create },
	};
	const struct lt_group g[] = {
		{ .kind = LT_G_GOROUTINE, .count = 100, .stack = &st_chansend,
		  .created_by = &st_gomain, .wait = "chan send", .leak = true },
		{ .kind = LT_G_GOROUTINE, .count = 3, .stack = &st_select,
		  .created_by = &st_gomain, .wait = "select" },
		{ .kind = LT_G_GOROUTINE, .count = 1, .stack = &st_empty,
		  .created_by = &st_gomain, .wait = "odd <wait>; & co\n" },
	};
	const struct lt_group h[] = {
		{ .kind = LT_G_GOHEAP, .bytes = 1 << 20, .count = 2048, .stack = &st_makebuf },
		{ .kind = LT_G_GOHEAP, .bytes = 4096, .count = 1, .stack = &st_marshal },
	};

	memcpy(mem, m, sizeof(m));
	memcpy(thr, t, sizeof(t));
	memcpy(gor, g, sizeof(g));
	memcpy(heap, h, sizeof(h));
	memset(s, 0, sizeof(*s));
	s->pid = 4242;
	s->exe = LEAKY;
	snprintf(s->comm, sizeof(s->comm), "le<a>k&y");
	s->duration_s = 12.5;
	s->groups = mem;
	s->ngroups = N(m);
	for (int i = 0; i < N(m); i++) {
		s->bytes += m[i].bytes;
		s->count += m[i].count;
	}
	s->has_threads = true;
	s->tgroups = thr;
	s->ntgroups = N(t);
	s->has_goroutines = true;
	s->ggroups = gor;
	s->nggroups = N(g);
	s->has_goheap = true;
	s->goheap_rate = 512 * 1024;
	s->hsites = heap;
	s->nhsites = N(h);
}

#define NMEM 6
#define NTHR 3
#define NGOR 3
#define NHEAP 2

struct snap {
	struct lt_snapshot s;
	struct lt_group mem[NMEM], thr[NTHR], gor[NGOR], heap[NHEAP];
};

static void snap_build(struct snap *x, int64_t leak_bytes)
{
	build(&x->s, x->mem, x->thr, x->gor, x->heap, leak_bytes);
}

static int64_t sum(const struct lt_group *g, int n, bool bytes)
{
	int64_t t = 0;

	for (int i = 0; i < n; i++)
		t += bytes ? g[i].bytes : g[i].count;
	return t;
}

/* One folded line: "^[^\n]+ [0-9]+$", its frames sane; the weight or -1. */
static int64_t folded_line(const char *l, char *why, size_t len)
{
	const char *sp = strrchr(l, ' ');
	char *end;
	int64_t w;

	if (!sp || sp == l || !sp[1] || sp[1] == '-') {
		snprintf(why, len, "no \"stack weight\" in [%s]", l);
		return -1;
	}
	w = strtoll(sp + 1, &end, 10);
	if (*end) {
		snprintf(why, len, "weight not an integer in [%s]", l);
		return -1;
	}
	if (l[0] == ';' || sp[-1] == ';' || memmem(l, sp - l, ";;", 2)) {
		snprintf(why, len, "empty frame in [%s]", l);
		return -1;
	}
	for (const char *p = l; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(why, len, "control character in [%s]", l);
			return -1;
		}
	return w;
}

static const char *const roots[LT_S_N] = { "memory", "threads:", "goroutines:", "go_heap" };

/* Which section a line's root frame names, or -1. */
static int line_section(const char *l)
{
	for (int i = 0; i < LT_S_N; i++) {
		size_t n = strlen(roots[i]);

		if (!strncmp(l, roots[i], n) &&
		    (roots[i][n - 1] == ':' ? l[n] && l[n] != ';' : l[n] == ';'))
			return i;
	}
	return -1;
}

static char *render_to_string(const struct lt_snapshot *s, enum lt_weight w)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	render_folded(f, s, w);
	fclose(f);
	return buf;
}

/* The number of distinct frame nodes (prefixes) in folded text, per section. */
static int count_prefixes(const char *text, int per_section[LT_S_N])
{
	char **seen = NULL;
	int nseen = 0, total = 0;
	char *copy = strdup(text), *save = NULL;

	memset(per_section, 0, LT_S_N * sizeof(int));
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int sec = line_section(l);
		char *sp = strrchr(l, ' ');

		*sp = '\0';
		for (char *p = l;; p++) {
			if (*p != ';' && *p)
				continue;
			char c = *p;
			bool dup = false;

			*p = '\0';
			for (int i = 0; i < nseen && !dup; i++)
				dup = !strcmp(seen[i], l);
			if (!dup) {
				seen = realloc(seen, (nseen + 1) * sizeof(*seen));
				seen[nseen++] = strdup(l);
				if (sec >= 0)
					per_section[sec]++;
				total++;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	for (int i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	free(copy);
	return total;
}

static void test_folded(const struct lt_snapshot *s)
{
	char *text = render_to_string(s, LT_W_BYTES), *copy, *save = NULL, why[512] = "";
	int64_t got[LT_S_N] = { 0 }, want[LT_S_N] = { 0 };
	int lines = 0, bad = 0, unrooted = 0, dups = 0;
	char *prev = NULL;

	want[LT_S_MEMORY] = s->bytes;
	want[LT_S_THREADS] = sum(s->tgroups, s->ntgroups, false);
	want[LT_S_GOROUTINES] = sum(s->ggroups, s->nggroups, false);
	want[LT_S_GOHEAP] = sum(s->hsites, s->nhsites, true);
	copy = strdup(text);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int64_t w = folded_line(l, why, sizeof(why));
		int sec = line_section(l);
		char *sp = strrchr(l, ' ');

		lines++;
		if (w < 0) {
			bad++;
			continue;
		}
		if (sec < 0) {
			unrooted++;
			snprintf(why, sizeof(why), "no section root in [%s]", l);
			continue;
		}
		got[sec] += w;
		*sp = '\0';
		if (prev && !strcmp(prev, l))
			dups++;
		prev = l;
	}
	unit_check(lines > 0 && !bad, "folded_line_format", "%s", why);
	unit_check(!unrooted, "folded_section_root", "%s", why);
	unit_check(!dups, "folded_merged", "%d stacks printed twice", dups);
	unit_check(!memcmp(got, want, sizeof(got)), "folded_section_totals",
		 "memory %ld/%ld threads %ld/%ld goroutines %ld/%ld go_heap %ld/%ld",
		 got[0], want[0], got[1], want[1], got[2], want[2], got[3], want[3]);
	unit_check(strstr(text, "\nmemory;__libc_start_call_main;main;worker_loop;leak_site 40984\n")
		 != NULL, "folded_root_first_merged", "no merged leak line in:\n%s", text);
	unit_check(strstr(text, "memory;main;has space \"quoted\" 'x' \xff tail;"
			"ns::f(a & b)?second line;std::vector<int: char>::push_back 1000\n") &&
		 strstr(text, "memory;main;leaky+0x1700;0xdeadbeef;libc.so.6+0x12345 300\n") &&
		 strstr(text, "memory;[unknown stack] 100\n"),
		 "folded_frame_names", "names not as expected:\n%s", text);
	unit_check(strstr(text, "\nthreads:blocked;clone3;start_thread;consumer;") &&
		 strstr(text, "\nthreads:unjoined;main;spawn_detached;pthread_create@@GLIBC_2.34 5\n") &&
		 strstr(text, "\ngoroutines:chan send;runtime.goexit;main.leaky;") &&
		 strstr(text, "\ngoroutines:odd <wait>: & co?;[unknown stack] 1\n") &&
		 strstr(text, "\ngo_heap;runtime.goexit;runtime.main;main.main;main.makeBuf 1048576\n"),
		 "folded_sections", "section lines missing:\n%s", text);
	free(copy);
	free(text);

	text = render_to_string(s, LT_W_COUNT);
	memset(got, 0, sizeof(got));
	copy = strdup(text);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int64_t w = folded_line(l, why, sizeof(why));
		int sec = line_section(l);

		if (w >= 0 && sec >= 0)
			got[sec] += w;
	}
	unit_check(got[LT_S_MEMORY] == s->count && got[LT_S_THREADS] == want[LT_S_THREADS] &&
		 got[LT_S_GOHEAP] == sum(s->hsites, s->nhsites, false), "folded_counts",
		 "memory %ld/%ld threads %ld go_heap %ld", got[0], s->count, got[1], got[3]);
	free(copy);
	free(text);
}

/* Runs cmd (stderr along); its output, and its exit status in *status. */
static char *run(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	char *out = NULL;
	size_t len = 0, n;
	char buf[4096];
	FILE *m;

	*status = -1;
	if (!p)
		return strdup("");
	m = open_memstream(&out, &len);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, m);
	fclose(m);
	n = pclose(p);
	*status = WIFEXITED((int)n) ? WEXITSTATUS((int)n) : 128;
	return out;
}

static char *pprof(const char *tmpdir, const char *args, int *status)
{
	char *cmd, *out;

	if (asprintf(&cmd, "HOME='%s' GOCACHE='%s/gocache' go tool pprof %s 2>&1", tmpdir,
		     tmpdir, args) < 0) {
		*status = -1;
		return strdup("out of memory");
	}
	out = run(cmd, status);
	free(cmd);
	return out;
}

/* The line of out holding word, for messages; out itself if none. */
static const char *line_of(const char *out, const char *word)
{
	const char *p = strstr(out, word);

	if (!p)
		return out;
	while (p > out && p[-1] != '\n')
		p--;
	return p;
}

static void test_pprof(const char *tmpdir)
{
	char old_path[1024], new_path[1024], counts_path[1024], args[4096];
	struct snap x;
	int st, err;
	char *out;

	snprintf(old_path, sizeof(old_path), "%s/old.pb.gz", tmpdir);
	snprintf(new_path, sizeof(new_path), "%s/new.pb.gz", tmpdir);
	snprintf(counts_path, sizeof(counts_path), "%s/counts.pb.gz", tmpdir);
	snap_build(&x, 8192);
	err = render_pprof(old_path, &x.s);
	snap_build(&x, 40960);
	err = err ? err : render_pprof(new_path, &x.s);
	err = err ? err : render_pprof_counts(counts_path, &x.s);
	unit_check(!err, "pprof_write", "%s", strerror(-err));
	if (err)
		return;

	out = run("command -v go", &st);
	unit_check(st == 0, "pprof_go_present",
		 "no `go` on PATH: install golang-go to check pprof output (%s)", out);
	free(out);
	if (st)
		return;

	/* -unit=B: plain byte counts to compare with. */
	snprintf(args, sizeof(args), "-top -unit=B '%s'", new_path);
	out = pprof(tmpdir, args, &st);
	unit_check(st == 0 && strstr(out, "Type: inuse_space") && strstr(out, "leak_site") &&
		 strstr(out, "main.makeBuf"), "pprof_top",
		 "status %d:\n%s", st, out);
	unit_check(strstr(line_of(out, "leak_site"), "40984B") != NULL, "pprof_top_values",
		 "leak_site not 40984B:\n%s", out);
	free(out);

	/* pprof shortens C++ names in reports; these it leaves alone. */
	snprintf(args, sizeof(args), "-top -nodefraction=0 '%s'", new_path);
	out = pprof(tmpdir, args, &st);
	unit_check(st == 0 && strstr(out, "libc.so.6+0x12345") && strstr(out, "0xdeadbeef") &&
		 strstr(out, "leaky+0x1700") && strstr(out, "[unknown stack]"),
		 "pprof_frame_names", "status %d:\n%s", st, out);
	free(out);

	snprintf(args, sizeof(args), "-top -sample_index=inuse_objects '%s'", new_path);
	out = pprof(tmpdir, args, &st);
	unit_check(st == 0 && strstr(line_of(out, "main.makeBuf"), "2048"), "pprof_objects",
		 "status %d:\n%s", st, out);
	free(out);

	snprintf(args, sizeof(args), "-traces '%s'", new_path);
	out = pprof(tmpdir, args, &st);
	unit_check(st == 0 && strstr(out, "leak_site") && strstr(out, "worker_loop") &&
		 strstr(out, "section:") && strstr(out, "go_heap"), "pprof_traces",
		 "status %d:\n%s", st, out);
	/* Leaf first: leak_site is printed before its callers. */
	unit_check(strstr(out, "leak_site") < strstr(out, "worker_loop"), "pprof_leaf_first",
		 "%s", out);
	free(out);

	snprintf(args, sizeof(args), "-top -unit=B -tagfocus=section=go_heap '%s'", new_path);
	out = pprof(tmpdir, args, &st);
	unit_check(st == 0 && strstr(out, "main.makeBuf") && !strstr(out, "leak_site"),
		 "pprof_section_label", "status %d:\n%s", st, out);
	free(out);

	snprintf(args, sizeof(args), "-top -unit=B -diff_base '%s' '%s'", old_path, new_path);
	out = pprof(tmpdir, args, &st);
	unit_check(st == 0 && strstr(line_of(out, "leak_site"), "32768B") &&
		 !strstr(out, "main.makeBuf"), "pprof_diff_base",
		 "status %d, want leak_site +32768B only:\n%s", st, out);
	free(out);

	snprintf(args, sizeof(args), "-top '%s'", counts_path);
	out = pprof(tmpdir, args, &st);
	unit_check(st == 0 && strstr(out, "Type: goroutine") && strstr(out, "File: leaky\n") &&
		 strstr(line_of(out, "main.leaky"), " 100 ") && strstr(out, "spawn_detached"),
		 "pprof_counts_top", "status %d:\n%s", st, out);
	free(out);

	snprintf(args, sizeof(args), "-traces -tagfocus=leak=yes '%s'", counts_path);
	out = pprof(tmpdir, args, &st);
	unit_check(st == 0 && strstr(out, "goroutines:chan send") &&
		 strstr(out, "threads:unjoined") && !strstr(out, "main.worker"),
		 "pprof_counts_labels", "status %d:\n%s", st, out);
	free(out);
}

static void test_svg(const char *tmpdir, const struct lt_snapshot *s)
{
	char path[1024], cmd[2048], *text, *folded, *out;
	int per[LT_S_N], nodes, rects = 0, st, err;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/flame.svg", tmpdir);
	f = fopen(path, "w");
	if (!f) {
		unit_check(0, "svg_write", "%s: %s", path, strerror(errno));
		return;
	}
	err = render_svg(f, s, LT_W_BYTES);
	fclose(f);
	unit_check(!err, "svg_write", "%s", strerror(-err));

	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' "
		 "'%s' 2>&1", path);
	out = run(cmd, &st);
	unit_check(st == 0, "svg_well_formed", "status %d: %s", st, out);
	free(out);

	f = fopen(path, "r");
	text = NULL;
	if (f) {
		getdelim(&text, &len, '\0', f);
		fclose(f);
	}
	if (!text) {
		unit_check(0, "svg_rects", "cannot read %s back", path);
		return;
	}
	for (const char *p = text; (p = strstr(p, "<rect")); p++)
		rects++;
	/* Folded prefixes are the frame nodes, but for the extra "threads" and
	 * "goroutines" roots above the kinds and wait reasons. */
	folded = render_to_string(s, LT_W_BYTES);
	nodes = count_prefixes(folded, per);
	nodes += (per[LT_S_THREADS] > 0) + (per[LT_S_GOROUTINES] > 0);
	unit_check(rects == nodes && nodes > 30, "svg_rects", "%d <rect>s for %d frame nodes",
		 rects, nodes);
	unit_check(strstr(text, "std::vector&lt;int: char&gt;::push_back") &&
		 strstr(text, "ns::f(a &amp; b)?second line") &&
		 strstr(text, "<title>leak_site (40984 bytes"), "svg_titles",
		 "escaped titles missing");
	unit_check(strstr(text, "memory: 42384 bytes") && strstr(text, "threads: 8 threads") &&
		 strstr(text, "goroutines: 104 goroutines") && strstr(text, "go_heap: 1052672 bytes"),
		 "svg_sections", "a section heading is missing");
	free(folded);
	free(text);

	/* Nothing to draw: still a well-formed SVG. */
	{
		struct lt_snapshot empty = { .pid = 1 };

		f = fopen(path, "w");
		err = f ? render_svg(f, &empty, LT_W_BYTES) : -errno;
		if (f)
			fclose(f);
		out = run(cmd, &st);
		unit_check(!err && st == 0, "svg_empty", "status %d: %s", st, out);
		free(out);
	}
}

/* The value of the series starting with prefix ("name{...labels"). */
static double series_value(const char *text, const char *prefix, bool *found)
{
	const char *p = text;

	*found = false;
	while ((p = strstr(p, prefix))) {
		if (p == text || p[-1] == '\n') {
			const char *v = strstr(p, "} ");

			*found = v && v < strchr(p, '\n');
			return *found ? strtod(v + 2, NULL) : 0;
		}
		p++;
	}
	return 0;
}

/* Every line a comment, "name{labels} value" or "name value"; HELP once
 * per family. */
static bool exposition_ok(const char *text, char *why, size_t len)
{
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n'), *close;
		char name[128], head[160];

		if (!nl) {
			snprintf(why, len, "no newline at the end");
			return false;
		}
		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%127s", name);
			snprintf(head, sizeof(head), "# HELP %s ", name);
			if (strstr(nl, head)) {
				snprintf(why, len, "HELP of %s twice", name);
				return false;
			}
		} else if (line[0] != '#') {
			size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyz_");

			close = memchr(line, '}', nl - line);
			if (!n || (line[n] == '{' ? !close || close[1] != ' ' : line[n] != ' ')) {
				snprintf(why, len, "bad series line %.*s", (int)(nl - line), line);
				return false;
			}
		}
		line = nl + 1;
	}
	return true;
}

static void test_metrics(void)
{
	struct generation g = { .refs = 1, .nviews = 1 };
	struct bytebuf out = { 0 };
	struct view v;
	struct snap x;
	char why[256] = "";
	bool found;
	double val;
	int err;

	snap_build(&x, 40960);
	err = view_make(&v, &x.s);
	unit_check(!err && v.heap.len > 20 && v.counts.len > 20, "metrics_view",
		   "view_make: %d, profiles of %zu and %zu bytes", err, v.heap.len, v.counts.len);
	if (err)
		return;
	g.views = &v;
	metrics_render(&out, &g);
	bytebuf_put(&out, "", 1);
	unit_check(!out.err && exposition_ok((char *)out.p, why, sizeof(why)), "metrics_format",
		   "%s", why);
	val = series_value((char *)out.p, "leaktop_memory_outstanding_bytes{pid=\"4242\"", &found);
	unit_check(found && val == x.s.bytes, "metrics_bytes", "found %d, %g != %ld", found,
		   val, (long)x.s.bytes);
	val = series_value((char *)out.p, "leaktop_goroutines{pid=\"4242\",comm=\"le<a>k&y\","
			   "wait=\"chan send\"", &found);
	unit_check(found && val == 100, "metrics_goroutines", "found %d, %g", found, val);
	unit_check(strstr((char *)out.p, "wait=\"odd <wait>; & co\\n\"") != NULL,
		   "metrics_escape", "a newline in a label value is not escaped");
	val = series_value((char *)out.p, "leaktop_threads{pid=\"4242\",comm=\"le<a>k&y\","
			   "state=\"unjoined\"", &found);
	unit_check(found && val == 5, "metrics_threads", "found %d, %g", found, val);
	val = series_value((char *)out.p, "leaktop_memory_site_bytes{pid=\"4242\",comm=\"le<a>k&y\","
			   "rank=\"1\",site=\"leak_site < worker_loop < main\"", &found);
	unit_check(found && val == 40960, "metrics_site", "found %d, %g", found, val);
	bytebuf_free(&out);
	view_free(&v);
}

static const struct row *row_named(const struct rows *r, const char *kind, const char *site)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].kind, kind) && !strncmp(r->v[i].site, site, strlen(site)))
			return &r->v[i];
	return NULL;
}

static void test_rows(void)
{
	struct rows r = { 0 };
	const struct row *w;
	struct snap a, b;
	int mem = 0, err;

	snap_build(&a, 40960);
	snap_build(&b, 40960 + 10240);
	err = rows_update(&r, &a.s, 1, 100.0);
	err = err ? err : rows_update(&r, &b.s, 1, 101.0);
	unit_check(!err && r.n == NMEM + NTHR + NGOR + NHEAP, "rows_all", "%d rows, err %d", r.n,
		   err);
	w = row_named(&r, "memory", "leak_site < worker_loop");
	/* 10 KiB in 1 s, smoothed with tau 5 s: 10240 * (1 - e^-0.2) = 1856 */
	unit_check(w && w->growth > 1800 && w->growth < 1900, "rows_growth", "growth %g",
		   w ? w->growth : -1);
	w = row_named(&r, "go_heap", "");
	unit_check(w && w->growth == 0, "rows_steady", "growth of an unchanged group %g",
		   w ? w->growth : -1);
	rows_sort(&r, RS_LEAKS);
	unit_check(r.v[0].leak && r.v[1].leak && !r.v[2].leak, "rows_leaks_first",
		   "rows 0-2 leak: %d %d %d", r.v[0].leak, r.v[1].leak, r.v[2].leak);
	rows_sort(&r, RS_GROWTH);
	unit_check(!strcmp(r.v[0].kind, "memory") && r.v[0].growth > 0, "rows_by_growth",
		   "first %s %g", r.v[0].kind, r.v[0].growth);
	for (int i = 0; i < r.n; i++)
		mem += rows_in_view(&r.v[i], RV_MEMORY);
	unit_check(mem == NMEM + NHEAP, "rows_view", "%d rows in the memory view", mem);
	w = row_named(&r, "goroutines:chan send", "");
	for (int i = 0; w && i < w->nframes; i++)
		mem += !strcmp(w->frames[i], "created by:") && i + 1 < w->nframes;
	unit_check(mem == NMEM + NHEAP + 1, "rows_created_by", "goroutine rows list their creator");
	rows_free(&r);
}

int render_tests(const char *tmpdir)
{
	struct snap x;

	int before = unit_failures;
	snap_build(&x, 40960);
	test_folded(&x.s);
	test_pprof(tmpdir);
	test_svg(tmpdir, &x.s);
	test_metrics();
	test_rows();
	return unit_failures - before;
}
