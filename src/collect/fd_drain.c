// SPDX-License-Identifier: GPL-2.0
/* fd maps + /proc/PID/fd -> fd groups with verdicts. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "collect/bpf_counters.h"
#include "collect/fd_drain.h"
#include "collect/map_walk.h"
#include "fds.h"
#include "fds.skel.h"
#include "lib/clock.h"
#include "lib/idmap.h"

/* An fd younger than this is in flight, not held: balanced open/close
 * pairs are never reported (their fd lives microseconds). */
#define FD_HELD_S  1.0
#define FD_TARGETS 3

struct open_fd {
	int fd;
	char link[256]; /* readlink of /proc/PID/fd/N */
};

struct fd_list {
	struct open_fd *v;
	int n, cap;
	uint64_t read_ns; /* when the listing started */
};

/* A socket's protocol and ends, by inode, from /proc/PID/net. */
struct sock_info {
	const char *proto;
	char ends[112];
};

struct builder {
	struct lt_group *g;
	uint64_t *key;
	int n, cap;
	struct idmap idx; /* key -> index + 1 */
};

static int list_fds(pid_t pid, struct fd_list *l)
{
	char path[64], link[340];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	l->read_ns = mono_ns();
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct open_fd *o;
		ssize_t n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 64;
			l->v = realloc(l->v, l->cap * sizeof(*l->v));
			if (!l->v)
				abort();
		}
		o = &l->v[l->n];
		n = readlink(link, o->link, sizeof(o->link) - 1);
		if (n < 0)
			continue; /* closed since readdir */
		o->link[n] = '\0';
		o->fd = atoi(e->d_name);
		l->n++;
	}
	closedir(d);
	return 0;
}

/* "0100007F:1F90" (IPv4) or 32 hex digits (IPv6) -> "127.0.0.1:8080". */
static void inet_end(const char *hex, char *out, size_t size)
{
	unsigned int a, port;
	const char *colon = strchr(hex, ':');

	if (!colon || sscanf(colon + 1, "%x", &port) != 1) {
		snprintf(out, size, "?");
		return;
	}
	if (colon - hex == 8 && sscanf(hex, "%8x", &a) == 1) {
		snprintf(out, size, "%u.%u.%u.%u:%u", a & 255, (a >> 8) & 255, (a >> 16) & 255,
			 a >> 24, port);
		return;
	}
	snprintf(out, size, "[%.*s]:%u", (int)(colon - hex), hex, port);
}

static void put_sock(struct idmap *socks, unsigned long inode, const char *proto, const char *ends)
{
	struct sock_info *si;

	if (!inode || idmap_get(socks, inode))
		return;
	si = calloc(1, sizeof(*si));
	if (!si)
		abort();
	si->proto = proto;
	snprintf(si->ends, sizeof(si->ends), "%s", ends);
	idmap_put(socks, inode, si);
}

/* /proc/PID/net/{tcp,udp}{,6}: "sl local rem st tx:rx tr:when retr uid timeout inode". */
static void read_inet(pid_t pid, const char *file, const char *proto, struct idmap *socks)
{
	char path[64], line[512], loc[64], rem[64], l[52], r[52], ends[112];
	unsigned long inode;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", pid, file);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %63s %63s %*x %*s %*s %*s %*u %*u %lu", loc, rem, &inode) ==
		    3) {
			inet_end(loc, l, sizeof(l));
			inet_end(rem, r, sizeof(r));
			snprintf(ends, sizeof(ends), "%s -> %s", l, r);
			put_sock(socks, inode, proto, ends);
		}
	fclose(f);
}

/* /proc/PID/net/unix: "Num RefCount Protocol Flags Type St Inode [Path]". */
static void read_unix(pid_t pid, struct idmap *socks)
{
	char path[64], line[512], name[256];
	unsigned long inode;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/net/unix", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		name[0] = '\0';
		n = sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %255s", &inode, name);
		if (n >= 1)
			put_sock(socks, inode, "unix", name[0] ? name : "unnamed");
	}
	fclose(f);
}

static void read_sockets(pid_t pid, struct idmap *socks)
{
	read_inet(pid, "tcp", "tcp", socks);
	read_inet(pid, "tcp6", "tcp", socks);
	read_inet(pid, "udp", "udp", socks);
	read_inet(pid, "udp6", "udp", socks);
	read_unix(pid, socks);
}

static void socks_free(struct idmap *socks)
{
	for (size_t i = 0; i < socks->cap; i++)
		if (socks->used[i])
			free(socks->vals[i]);
	idmap_free(socks);
}

/* What an fd is, from its /proc link; *target: what to show of it. */
static const char *fd_kind(const char *link, const struct idmap *socks, const char **proto,
			   const char **target)
{
	static const struct {
		const char *link, *kind;
	} anon[] = {
	    {"anon_inode:[eventfd]", "eventfd"},
	    {"anon_inode:[eventpoll]", "epoll"},
	    {"anon_inode:[timerfd]", "timerfd"},
	    {"anon_inode:[signalfd]", "signalfd"},
	};
	unsigned long inode;

	*proto = NULL;
	*target = link;
	if (sscanf(link, "socket:[%lu]", &inode) == 1) {
		const struct sock_info *si = idmap_get(socks, inode);

		if (si) {
			*proto = si->proto;
			*target = si->ends;
		}
		return "socket";
	}
	if (strncmp(link, "pipe:", 5) == 0)
		return "pipe";
	for (size_t i = 0; i < sizeof(anon) / sizeof(anon[0]); i++)
		if (strcmp(link, anon[i].link) == 0)
			return anon[i].kind;
	if (strncmp(link, "anon_inode:", 11) == 0)
		return "anon";
	if (strncmp(link, "/memfd:", 7) == 0)
		return "memfd";
	return link[0] == '/' ? "file" : "other";
}

static struct lt_group *group_for(struct builder *b, uint64_t key)
{
	uintptr_t i = (uintptr_t)idmap_get(&b->idx, key);

	if (i)
		return &b->g[i - 1];
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 16;
		b->g = realloc(b->g, b->cap * sizeof(*b->g));
		b->key = realloc(b->key, b->cap * sizeof(*b->key));
		if (!b->g || !b->key)
			abort();
	}
	memset(&b->g[b->n], 0, sizeof(*b->g));
	b->g[b->n].kind = LT_G_FD;
	b->key[b->n] = key;
	idmap_put(&b->idx, key, (void *)(uintptr_t)(b->n + 1));
	return &b->g[b->n++];
}

/* Up to FD_TARGETS distinct examples, one per line. */
static void add_target(struct lt_group *g, const char *t)
{
	size_t len = g->targets ? strlen(g->targets) : 0;
	int lines = 0;

	for (const char *p = g->targets; p && (p = strchr(p, '\n')); p++)
		lines++;
	if (lines >= FD_TARGETS)
		return;
	for (const char *p = g->targets; p && *p;) {
		const char *nl = strchr(p, '\n');

		if ((size_t)(nl - p) == strlen(t) && strncmp(p, t, nl - p) == 0)
			return;
		p = nl + 1;
	}
	g->targets = realloc(g->targets, len + strlen(t) + 2);
	if (!g->targets)
		abort();
	sprintf(g->targets + len, "%s\n", t);
}

static const struct lt_stack *open_stack(struct fds_bpf *skel, struct symbolizer *sym,
					 struct stack_cache *c, uint64_t site)
{
	struct lt_fsite s;

	if (!site || bpf_map_lookup_elem(bpf_map__fd(skel->maps.fsites), &site, &s))
		return &lt_unknown_stack;
	return stack_cache_get(c, sym, site, &s.st, NULL);
}

static uint64_t kind_id(const char *kind, const char *proto)
{
	uint64_t h = 5381;

	for (const char *p = kind; *p; p++)
		h = h * 33 + (unsigned char)*p;
	for (const char *p = proto; p && *p; p++)
		h = h * 33 + (unsigned char)*p;
	return h;
}

/* Fields 4 (ppid) and 22 (start time, clock ticks since boot) of
 * /proc/PID/stat; ppid 0 when unreadable. */
static void parent_of(struct fd_state *fs)
{
	char path[64], buf[1024], *p;
	unsigned long long start;
	int ppid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", fs->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	if (p && sscanf(p + 1,
			" %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
			"%*d %*d %*d %llu",
			&ppid, &start) == 2) {
		fs->ppid = ppid;
		fs->start_ns = start * (1000000000ULL / sysconf(_SC_CLK_TCK));
	}
	fclose(f);
}

/* The record of fd: its own, else (a fork keeps its parent's fds) the
 * parent's for the same fd, if the parent still has it; then only if
 * opened since the process's last exec. */
static bool fd_record(struct fds_bpf *skel, const struct fd_state *fs, int fd, uint64_t exec_ns,
		      struct lt_fd *v)
{
	int map = bpf_map__fd(skel->maps.fds);
	uint64_t key = LT_FD_KEY(fs->pid, fd);

	if (bpf_map_lookup_elem(map, &key, v)) {
		key = LT_FD_KEY(fs->ppid, fd);
		if (!fs->ppid || bpf_map_lookup_elem(map, &key, v) || v->opened_ns > fs->start_ns)
			return false;
	}
	return v->opened_ns >= exec_ns;
}

/* One fd into its group. */
static void add_fd(struct builder *b, struct fds_bpf *skel, struct symbolizer *sym,
		   struct stack_cache *c, struct fd_state *fs, const struct open_fd *o,
		   const struct idmap *socks, uint64_t now, uint64_t exec_ns)
{
	const char *proto, *target, *kind = fd_kind(o->link, socks, &proto, &target);
	uint64_t site = 0, opened = fs->attach_ns;
	struct lt_fd v;
	struct lt_group *g;
	double age;

	if (fd_record(skel, fs, o->fd, exec_ns, &v)) {
		site = v.site ? v.site : 1; /* 1: traced, stack lost */
		opened = v.opened_ns;
	}
	g = group_for(b, id_mix(kind_id(kind, proto), site));
	if (!g->stack) {
		g->stack = site > 1 ? open_stack(skel, sym, c, site) : &lt_unknown_stack;
		g->site = site;
		g->fd_kind = kind;
		g->fd_proto = proto;
	}
	age = now > opened ? (now - opened) / 1e9 : 0;
	g->count++;
	if (age > g->oldest_age_s)
		g->oldest_age_s = age;
	add_target(g, target);
}

struct closed_walk {
	const struct fd_state *fs;
	const struct fd_list *l;
	struct idmap open; /* fd + 1 */
	uint64_t *gone;
	int n, cap;
};

static void note_closed(const void *k, const void *v, void *arg)
{
	uint64_t key = *(const uint64_t *)k;
	const struct lt_fd *fd = v;
	struct closed_walk *w = arg;

	if ((key >> 32) != (uint64_t)w->fs->pid || fd->opened_ns >= w->l->read_ns ||
	    idmap_get(&w->open, (uint32_t)key + 1ULL))
		return;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->gone = realloc(w->gone, w->cap * sizeof(*w->gone));
		if (!w->gone)
			abort();
	}
	w->gone[w->n++] = key;
}

/* Records of fds gone from /proc that were opened before the listing:
 * closed where we saw no close (close_range, CLOEXEC at exec). */
static void forget_closed(struct fds_bpf *skel, struct fd_state *fs, const struct fd_list *l)
{
	int fd = bpf_map__fd(skel->maps.fds);
	struct closed_walk w = {.fs = fs, .l = l};

	for (int i = 0; i < l->n; i++)
		idmap_put(&w.open, (uint64_t)l->v[i].fd + 1, (void *)1);
	map_walk(fd, sizeof(uint64_t), sizeof(struct lt_fd), note_closed, &w);
	for (int i = 0; i < w.n; i++)
		bpf_map_delete_elem(fd, &w.gone[i]);
	free(w.gone);
	idmap_free(&w.open);
}

static void build(struct builder *b, struct fds_bpf *skel, struct symbolizer *sym,
		  struct stack_cache *c, struct fd_state *fs, struct fd_list *l)
{
	struct idmap socks = {0};
	bool any_socket = false;
	uint32_t tgid = fs->pid;
	uint64_t now, exec_ns = 0;

	if (list_fds(fs->pid, l))
		return;
	/* Its last exec, once: fds opened before it are the old program's. */
	bpf_map_lookup_elem(bpf_map__fd(skel->maps.fexecs), &tgid, &exec_ns);
	forget_closed(skel, fs, l);
	for (int i = 0; i < l->n && !any_socket; i++)
		any_socket = strncmp(l->v[i].link, "socket:", 7) == 0;
	if (any_socket)
		read_sockets(fs->pid, &socks);
	now = mono_ns();
	for (int i = 0; i < l->n; i++)
		add_fd(b, skel, sym, c, fs, &l->v[i], &socks, now, exec_ns);
	socks_free(&socks);
}

static void builder_free(struct builder *b, bool keep_groups)
{
	if (!keep_groups) {
		for (int i = 0; i < b->n; i++)
			free(b->g[i].targets);
		free(b->g);
	}
	free(b->key);
	idmap_free(&b->idx);
}

void fd_state_init(struct fd_state *fs, pid_t pid)
{
	memset(fs, 0, sizeof(*fs));
	fs->pid = pid;
	parent_of(fs);
	fs->attach_ns = mono_ns();
}

void fds_tick(struct fds_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
	      struct fd_state *fs)
{
	struct builder b = {0};
	struct fd_list l = {0};

	build(&b, skel, sym, c, fs, &l);
	for (int i = 0; i < b.n; i++)
		history_add(&fs->groups, b.key[i], b.g[i].count);
	builder_free(&b, false);
	free(l.v);
}

static void judge(struct lt_group *g, const struct fd_state *fs, uint64_t key,
		  const struct lt_fsite *s)
{
	struct trend t;

	g->leak = history_trend(&fs->groups, key, &t) == 0 && trend_growing(&t);
	if (g->leak)
		snprintf(g->why, sizeof(g->why),
			 "open fds from this stack rose from %ld to %ld over "
			 "%d s",
			 t.first, t.last, t.n - 1);
	else if (g->site == 0)
		snprintf(g->why, sizeof(g->why),
			 "open before leaktop attached (or by a call not "
			 "traced), not growing");
	else
		snprintf(g->why, sizeof(g->why), "open %.1fs, not growing", g->oldest_age_s);
	if (s && g->site > 1)
		snprintf(g->why + strlen(g->why), sizeof(g->why) - strlen(g->why),
			 "; %llu opened, %llu closed since attach", (unsigned long long)s->opened,
			 (unsigned long long)s->closed);
}

static const char *const flost_names[LT_FLOST_MAX] = {
    [LT_FLOST_FD_MAP_FULL] = "fd_map_full",
    [LT_FLOST_STACK_MAP_FULL] = "stack_map_full",
};

int fds_drain(struct fds_bpf *skel, struct symbolizer *sym, struct stack_cache *c,
	      struct fd_state *fs, struct lt_snapshot *snap)
{
	struct builder b = {0};
	struct fd_list l = {0};
	int kept = 0;

	build(&b, skel, sym, c, fs, &l);
	snap->has_fds = true;
	snap->fds_open = l.n;
	for (int i = 0; i < b.n; i++) {
		struct lt_group *g = &b.g[i];
		struct lt_fsite s, *sp = NULL;

		if (g->site > 1 &&
		    bpf_map_lookup_elem(bpf_map__fd(skel->maps.fsites), &g->site, &s) == 0)
			sp = &s;
		judge(g, fs, b.key[i], sp);
		if (!g->leak && g->site && g->oldest_age_s < FD_HELD_S) {
			free(g->targets); /* in flight */
			continue;
		}
		b.g[kept++] = *g;
	}
	snap->fgroups = b.g;
	snap->nfgroups = kept;
	builder_free(&b, true);
	free(l.v);
	counters_read(bpf_map__fd(skel->maps.flost), flost_names, LT_FLOST_MAX, &snap->flost);
	return 0;
}

void fd_state_free(struct fd_state *fs)
{
	history_free(&fs->groups);
}
