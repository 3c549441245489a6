// SPDX-License-Identifier: GPL-2.0
/*
 * Metric families of /metrics. Per target (labels pid, comm): what the
 * tables show, as gauges, and lost events as counters; site gauges carry
 * rank and site labels for the METRICS_TOP_SITES largest groups only, so a
 * target adds a bounded number of series whatever its stacks. Then
 * leaktop's own: targets, CPU and resident memory (daemon: with its
 * session processes), from /proc.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/clock.h"
#include "output/render.h"
#include "serve/metrics.h"

enum family {
	F_MEM_BYTES, F_MEM_ALLOCS, F_MEM_SITE, F_THREADS, F_LIVE_THREADS, F_GOROUTINES,
	F_GOHEAP, F_GOHEAP_PENDING, F_GOHEAP_SITE, F_FDS_OPEN, F_FDS, F_FD_SITE, F_KERNEL,
	F_LEAKS, F_LOST, F_TRACED, F_AGE, F_PROBE_HITS, F_PROBE_CPU, F_N
};

static const struct {
	const char *name, *type, *help;
} families[F_N] = {
	[F_MEM_BYTES] = { "leaktop_memory_outstanding_bytes", "gauge",
			  "Native heap and mmap bytes allocated and not freed (estimated when sampled)." },
	[F_MEM_ALLOCS] = { "leaktop_memory_outstanding_allocations", "gauge",
			   "Native allocations not freed." },
	[F_MEM_SITE] = { "leaktop_memory_site_bytes", "gauge",
			 "Outstanding bytes of the largest allocation sites (rank 1 largest)." },
	[F_THREADS] = { "leaktop_threads", "gauge",
			"Threads by state: unjoined (exited, never joined), blocked, running." },
	[F_LIVE_THREADS] = { "leaktop_live_threads", "gauge", "Live threads of the target." },
	[F_GOROUTINES] = { "leaktop_goroutines", "gauge", "User goroutines by wait reason." },
	[F_GOHEAP] = { "leaktop_go_heap_inuse_bytes", "gauge",
		       "Go heap in use, estimated from the runtime's sampler as of the last GC." },
	[F_GOHEAP_PENDING] = { "leaktop_go_heap_pending_bytes", "gauge",
			       "Sampled Go heap allocated since the last GC (judged at the next)." },
	[F_GOHEAP_SITE] = { "leaktop_go_heap_site_bytes", "gauge",
			    "Go heap in use at the largest allocation sites (rank 1 largest)." },
	[F_FDS_OPEN] = { "leaktop_fds_open", "gauge", "Open file descriptors (/proc/PID/fd)." },
	[F_FDS] = { "leaktop_fds", "gauge",
		    "Open file descriptors held a second or more, by kind." },
	[F_FD_SITE] = { "leaktop_fd_site_count", "gauge",
			"Open fds of the largest opening sites (rank 1 largest)." },
	[F_KERNEL] = { "leaktop_kernel_outstanding_bytes", "gauge",
		       "Kernel memory allocated in the target's context and not freed." },
	[F_LEAKS] = { "leaktop_leaking_groups", "gauge",
		      "Groups judged leaks, by section (memory, threads, goroutines, fds, kernel)." },
	[F_LOST] = { "leaktop_lost_events_total", "counter",
		     "Events the tracers could not record, by tracer and reason." },
	[F_TRACED] = { "leaktop_traced_seconds", "gauge", "How long the target has been traced." },
	[F_AGE] = { "leaktop_view_age_seconds", "gauge",
		    "Age of the numbers served for the target (daemon: since its last snapshot)." },
	[F_PROBE_HITS] = { "leaktop_probe_hits_total", "counter",
			   "Probe hits in the target, uprobe traps (--production)." },
	[F_PROBE_CPU] = { "leaktop_probe_cpu_seconds_total", "counter",
			  "CPU the probes took from the target: hits at the price measured at "
			  "start plus time in BPF (--production)." },
};

struct collector {
	struct view *v;
	int cap, err;
};

static void add(struct collector *c, enum family f, double value, const char *fmt, ...)
{
	struct msample *m;
	va_list ap;

	if (c->err)
		return;
	if (c->v->nsamples == c->cap) {
		int cap = c->cap ? c->cap * 2 : 32;
		void *p = realloc(c->v->samples, cap * sizeof(*m));

		if (!p) {
			c->err = -ENOMEM;
			return;
		}
		c->v->samples = p;
		c->cap = cap;
	}
	m = &c->v->samples[c->v->nsamples++];
	m->family = f;
	m->value = value;
	m->labels[0] = '\0';
	if (!fmt)
		return;
	va_start(ap, fmt);
	vsnprintf(m->labels, sizeof(m->labels), fmt, ap);
	va_end(ap);
}

/* A label value: backslash, quote and newline escaped, as the format says. */
static const char *label_value(char *buf, size_t len, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 3 < len; s++) {
		char c = *s == '\n' ? 'n' : *s;

		if (*s == '\\' || *s == '"' || *s == '\n')
			buf[o++] = '\\';
		buf[o++] = c;
	}
	buf[o] = '\0';
	return buf;
}

/* "leak_site < do_leaks < main": up to three of the program's frames. */
static const char *site_label(char *buf, size_t len, const struct lt_stack *st)
{
	char name[128], raw[256] = "";
	int skip = export_own_frames(st);
	size_t o = 0;

	for (int i = skip; st && i < st->nframes && i < skip + 3 && o < sizeof(raw); i++)
		o += snprintf(raw + o, sizeof(raw) - o, "%s%s", i > skip ? " < " : "",
			      export_frame_name(name, sizeof(name), &st->frames[i]));
	if (!st || !st->nframes)
		snprintf(raw, sizeof(raw), "[unknown stack]");
	return label_value(buf, len, raw);
}

/* The largest groups of a section, by bytes (w) or count, as site gauges.
 * Groups come sorted (memory and Go heap by bytes, fds leaks first). */
static void top_sites(struct collector *c, enum family f, const struct lt_group *g, int n,
		      bool bytes)
{
	char site[VIEW_LABELS - 24];

	for (int i = 0; i < n && i < METRICS_TOP_SITES; i++)
		add(c, f, bytes ? g[i].bytes : g[i].count, "rank=\"%d\",site=\"%s\"", i + 1,
		    site_label(site, sizeof(site), g[i].stack));
}

static void lost(struct collector *c, const char *tracer, const struct lt_lost_counts *l)
{
	for (int i = 0; i < l->n; i++)
		add(c, F_LOST, l->v[i], "tracer=\"%s\",reason=\"%s\"", tracer, l->names[i]);
}

static int leaks(const struct lt_group *g, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += g[i].leak;
	return k;
}

/* Sum of counts per distinct name (kind, wait reason), one sample each. */
static void by_name(struct collector *c, enum family f, const char *label,
		    const struct lt_group *g, int n, const char *(*name)(const struct lt_group *))
{
	char v[64];

	for (int i = 0; i < n; i++) {
		int64_t sum = 0;
		bool seen = false;

		for (int j = 0; j < i && !seen; j++)
			seen = !strcmp(name(&g[j]), name(&g[i]));
		if (seen)
			continue;
		for (int j = i; j < n; j++)
			if (!strcmp(name(&g[j]), name(&g[i])))
				sum += g[j].count;
		add(c, f, sum, "%s=\"%s\"", label, label_value(v, sizeof(v), name(&g[i])));
	}
}

static const char *thread_state(const struct lt_group *g)
{
	return g->kind == LT_G_UNJOINED ? "unjoined" : g->kind == LT_G_BLOCKED ? "blocked" :
									   "running";
}

static const char *wait_reason(const struct lt_group *g)
{
	return g->wait ? g->wait : "unknown";
}

static const char *fd_kind(const struct lt_group *g)
{
	return g->fd_kind ? g->fd_kind : "unknown";
}

static void threads(struct collector *c, const struct lt_snapshot *s)
{
	static const char *const states[] = { "unjoined", "blocked", "running" };

	/* every state, even at 0: a series that vanishes reads as "no data" */
	for (int k = 0; k < 3; k++) {
		int64_t sum = 0;

		for (int i = 0; i < s->ntgroups; i++)
			if (!strcmp(thread_state(&s->tgroups[i]), states[k]))
				sum += s->tgroups[i].count;
		add(c, F_THREADS, sum, "state=\"%s\"", states[k]);
	}
	add(c, F_LIVE_THREADS, s->live_threads, NULL);
	lost(c, "threads", &s->tlost);
	add(c, F_LEAKS, leaks(s->tgroups, s->ntgroups), "section=\"threads\"");
}

int metrics_collect(struct view *v, const struct lt_snapshot *s)
{
	struct collector c = { .v = v };

	add(&c, F_TRACED, s->duration_s, NULL);
	if (s->cost.known) {
		add(&c, F_PROBE_HITS, s->cost.hits, NULL);
		add(&c, F_PROBE_CPU, cost_cpu_ns(&s->cost) / 1e9, NULL);
	}
	if (!s->no_memory) {
		add(&c, F_MEM_BYTES, s->bytes, NULL);
		add(&c, F_MEM_ALLOCS, s->count, NULL);
		top_sites(&c, F_MEM_SITE, s->groups, s->ngroups, true);
		lost(&c, "memory", &s->lost);
		add(&c, F_LEAKS, leaks(s->groups, s->ngroups), "section=\"memory\"");
	}
	if (s->has_threads)
		threads(&c, s);
	if (s->has_goroutines) {
		by_name(&c, F_GOROUTINES, "wait", s->ggroups, s->nggroups, wait_reason);
		lost(&c, "goroutines", &s->glost);
		add(&c, F_LEAKS, leaks(s->ggroups, s->nggroups), "section=\"goroutines\"");
	}
	if (s->has_goheap) {
		int64_t inuse = 0, pending = 0;

		for (int i = 0; i < s->nhsites; i++) {
			inuse += s->hsites[i].bytes;
			pending += s->hsites[i].pending_bytes;
		}
		add(&c, F_GOHEAP, inuse, NULL);
		add(&c, F_GOHEAP_PENDING, pending, NULL);
		top_sites(&c, F_GOHEAP_SITE, s->hsites, s->nhsites, true);
		lost(&c, "go_heap", &s->hlost);
	}
	if (s->has_fds) {
		add(&c, F_FDS_OPEN, s->fds_open, NULL);
		by_name(&c, F_FDS, "kind", s->fgroups, s->nfgroups, fd_kind);
		top_sites(&c, F_FD_SITE, s->fgroups, s->nfgroups, false);
		lost(&c, "fds", &s->flost);
		add(&c, F_LEAKS, leaks(s->fgroups, s->nfgroups), "section=\"fds\"");
	}
	if (s->has_kernel) {
		add(&c, F_KERNEL, s->kbytes, NULL);
		lost(&c, "kernel", &s->klost);
		add(&c, F_LEAKS, leaks(s->kgroups, s->nkgroups), "section=\"kernel\"");
	}
	return c.err;
}

static void printf_buf(struct bytebuf *out, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		bytebuf_put(out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* CPU seconds (user + system) and resident bytes of pid, from its stat. */
static int proc_usage(pid_t pid, double *cpu, double *rss)
{
	unsigned long ut, st;
	long pages;
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* comm may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
			 "%*d %*d %*d %*d %*d %*d %*u %*u %ld", &ut, &st, &pages) != 3)
		return -EINVAL;
	*cpu += (double)(ut + st) / sysconf(_SC_CLK_TCK);
	*rss += (double)pages * sysconf(_SC_PAGESIZE);
	return 0;
}

static void self(struct bytebuf *out, const struct generation *g)
{
	double cpu = 0, rss = 0;

	proc_usage(getpid(), &cpu, &rss);
	for (int i = 0; g && i < g->nhelpers; i++)
		proc_usage(g->helpers[i], &cpu, &rss);
	printf_buf(out, "# HELP leaktop_targets Processes with numbers served.\n"
		   "# TYPE leaktop_targets gauge\nleaktop_targets %d\n", g ? g->nviews : 0);
	printf_buf(out, "# HELP leaktop_cpu_seconds_total CPU time leaktop used (daemon: with its "
		   "sessions).\n# TYPE leaktop_cpu_seconds_total counter\n"
		   "leaktop_cpu_seconds_total %.2f\n", cpu);
	printf_buf(out, "# HELP leaktop_resident_bytes Resident memory of leaktop (daemon: with "
		   "its sessions).\n# TYPE leaktop_resident_bytes gauge\n"
		   "leaktop_resident_bytes %.0f\n", rss);
	printf_buf(out, "# HELP leaktop_build_info leaktop's version.\n"
		   "# TYPE leaktop_build_info gauge\nleaktop_build_info{version=\"%s\"} 1\n",
		   LEAKTOP_VERSION);
}

/* A family's HELP and TYPE lines, before its first series only. */
static void family_head(struct bytebuf *out, int f, bool *done)
{
	if (*done)
		return;
	*done = true;
	printf_buf(out, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
		   families[f].name, families[f].type);
}

static void series(struct bytebuf *out, int f, const struct view *v, const char *labels,
		   double value)
{
	char comm[64];

	printf_buf(out, "%s{pid=\"%d\",comm=\"%s\"%s%s} %.17g\n", families[f].name, v->pid,
		   label_value(comm, sizeof(comm), v->comm), labels[0] ? "," : "", labels, value);
}

void metrics_render(struct bytebuf *out, const struct generation *g)
{
	double now = mono_s();

	for (int f = 0; g && f < F_N; f++) {
		bool head = false;

		for (int i = 0; i < g->nviews; i++) {
			const struct view *v = &g->views[i];

			if (f == F_AGE) {	/* at serve time: how stale */
				family_head(out, f, &head);
				series(out, f, v, "", now - g->mono + v->age_s);
			}
			for (int j = 0; j < v->nsamples; j++)
				if (v->samples[j].family == f) {
					family_head(out, f, &head);
					series(out, f, v, v->samples[j].labels, v->samples[j].value);
				}
		}
	}
	self(out, g);
}
