// SPDX-License-Identifier: GPL-2.0
/*
 * leaktop -a: every process, grouped per process.
 *
 * One set of BPF programs serves the whole machine: the thread tracer's
 * tracepoints see every task once, whatever the number of processes, and
 * uprobes go on each distinct object once, for every process mapping it
 * (pthread functions of each libc; runtime.gopark of each Go executable, so
 * only Go processes carry it; with --memory, each malloc provider). /proc is
 * scanned every tick: new processes are classified (Go or native) and their
 * objects probed, processes that exited or whose pid was reused are dropped
 * with their records, so state stays bounded over days.
 *
 * A process costs a few hundred bytes until it has something to show (a
 * thread created or left unjoined since attach, a goroutine census, sampled
 * memory); only then is its symbolizer opened.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "alloc.skel.h"
#include "collect/alloc_drain.h"
#include "probes/alloc_probes.h"
#include "lib/clock.h"
#include "collect/go_drain.h"
#include "probes/go_probes.h"
#include "goroutines.h"
#include "goroutines.skel.h"
#include "probes/probes.h"
#include "probes/providers.h"
#include "output/render.h"
#include "output/render_diff.h"
#include "store/snapdir.h"
#include "symbols/symbolize.h"
#include "session/overhead.h"
#include "session/run.h"
#include "session/system.h"
#include "collect/thread_drain.h"
#include "probes/thread_probes.h"
#include "threads.skel.h"
#include "fds.h"
#include "fds.skel.h"
#include "collect/fd_drain.h"
#include "collect/map_walk.h"
#include "probes/fd_probes.h"
#include "kmem.h"
#include "kmem.skel.h"
#include "collect/kmem_drain.h"
#include "probes/kmem_probes.h"
#include "probes/kfeatures.h"
#include "session/tracers.h"

#define MAX_OBJECTS 256
#define MAX_RECORD 1024	/* bytes of the largest map value read here */

struct proc {
	pid_t pid;
	unsigned long long starttime;	/* tells a reused pid apart */
	char comm[16];
	char *exe;		/* as the process maps it */
	bool ignored;		/* kernel thread, or unreadable */
	bool go;		/* Go with a known runtime layout */
	bool is_go;		/* Go, traced or not: its threads are the runtime's */
	bool seen;		/* in the current scan */
	bool active;		/* has records in the maps */
	struct symbolizer *sym;	/* opened once it has something to show */
	struct stack_cache stacks;
	struct thread_state ts;
	struct go_state gs;
	struct fd_state fs;
	struct kmem_state ks;
	struct history mem_history;
	struct diff_history changes;	/* -i: diff tables of the shown ones */
	uint64_t seq;		/* snapshots stored */
};

/* An object probed for every process that maps it. */
struct object {
	dev_t dev;
	ino_t ino;
	int what;	/* enum obj_kind */
};

enum obj_kind { OBJ_K_PTHREAD, OBJ_K_MALLOC, OBJ_K_MMAP, OBJ_K_CXX, OBJ_K_GO };

struct system {
	struct run run;
	const struct options *opt;
	struct threads_bpf *threads;
	struct goroutines_bpf *gor;
	struct alloc_bpf *alloc;
	struct fds_bpf *fds;
	struct kmem_bpf *kmem;
	struct kallsyms kallsyms;
	struct idmap koldest;	/* during a report: kmem_oldest */
	struct kmem_sites ksites;	/* during a tick or report: one read */
	struct proc **procs;
	int nprocs, cap;
	struct object objects[MAX_OBJECTS];
	int nobjects;
	FILE *tables;
};

/* Field 22 of /proc/PID/stat, and the comm; -errno when it is gone. */
static int read_stat(pid_t pid, unsigned long long *start, char *comm, size_t len)
{
	char path[64], buf[1024], *open, *close;
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	open = strchr(buf, '(');
	close = strrchr(buf, ')');
	if (!open || !close || close < open)
		return -EIO;
	snprintf(comm, len, "%.*s", (int)(close - open - 1), open + 1);
	/* After ") ": state is field 3, starttime field 22. */
	for (char *p = close + 2; *p && n < 19; p++)
		if (*p == ' ' && ++n == 19)
			*start = strtoull(p + 1, NULL, 10);
	return n == 19 ? 0 : -EIO;
}

/* Probe an object once for every process; 1 when newly probed. */
static int first_time(struct system *sys, const char *path, int what)
{
	struct stat st;

	if (!path || stat(path, &st))
		return 0;
	for (int i = 0; i < sys->nobjects; i++)
		if (sys->objects[i].dev == st.st_dev && sys->objects[i].ino == st.st_ino &&
		    sys->objects[i].what == what)
			return 0;
	if (sys->nobjects == MAX_OBJECTS) {
		fprintf(stderr, "leaktop: more than %d objects to probe: %s not traced\n",
			MAX_OBJECTS, path);
		return 0;
	}
	sys->objects[sys->nobjects++] = (struct object){ st.st_dev, st.st_ino, what };
	return 1;
}

/* Probe what a native process calls that no other process probed yet. */
static void probe_native(struct system *sys, struct proc *p)
{
	struct providers prov = { 0 }, fresh = { 0 };

	if (providers_find(p->pid, p->exe, &prov))
		return;
	if (sys->threads && first_time(sys, prov.pthread_obj, OBJ_K_PTHREAD)) {
		fresh.pthread_obj = prov.pthread_obj;
		thread_probes_attach_uprobes(sys->threads, 0, &fresh);
	}
	if (sys->alloc) {
		fresh.pthread_obj = NULL;
		if (first_time(sys, prov.malloc_obj, OBJ_K_MALLOC))
			fresh.malloc_obj = prov.malloc_obj;
		if (first_time(sys, prov.mmap_obj, OBJ_K_MMAP))
			fresh.mmap_obj = prov.mmap_obj;
		if (first_time(sys, prov.cxx_obj, OBJ_K_CXX))
			fresh.cxx_obj = prov.cxx_obj;
		if (fresh.malloc_obj || fresh.mmap_obj || fresh.cxx_obj)
			alloc_probes_attach(sys->alloc, 0, &fresh, false);
	}
	providers_free(&prov);
}

static struct proc *proc_new(struct system *sys, pid_t pid, unsigned long long start,
			     const char *comm)
{
	struct proc *p = calloc(1, sizeof(*p));
	char path[64], exe[PATH_MAX];
	ssize_t n;

	if (!p)
		return NULL;
	p->pid = p->ts.pid = pid;
	fd_state_init(&p->fs, pid);
	kmem_state_init(&p->ks, &sys->kallsyms, pid);
	p->starttime = start;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0) {		/* a kernel thread, or gone */
		p->ignored = true;
		return p;
	}
	exe[n] = '\0';
	p->exe = strdup(exe);
	/* Through /proc: the binary as the process sees it, in any mount
	 * namespace, even deleted. */
	n = go_state_init(&p->gs, pid, path);
	p->is_go = n != -ENOEXEC && n != -ENOENT;
	p->go = n == 0;
	if (p->go && sys->gor && first_time(sys, path, OBJ_K_GO))
		go_probes_attach(sys->gor, 0, &p->gs, path);
	if (!p->is_go)
		probe_native(sys, p);
	return p;
}

static void proc_free(struct proc *p)
{
	diff_history_free(&p->changes);
	if (p->go)
		go_state_free(&p->gs);
	thread_state_free(&p->ts);
	fd_state_free(&p->fs);
	kmem_state_free(&p->ks);
	history_free(&p->mem_history);
	stack_cache_free(&p->stacks);
	symbolizer_free(p->sym);
	free(p->exe);
	free(p);
}

static struct proc *find_proc(struct system *sys, pid_t pid)
{
	for (int i = 0; i < sys->nprocs; i++)
		if (sys->procs[i]->pid == pid)
			return sys->procs[i];
	return NULL;
}

static int add_proc(struct system *sys, struct proc *p)
{
	if (sys->nprocs == sys->cap) {
		int cap = sys->cap ? sys->cap * 2 : 256;
		struct proc **v = realloc(sys->procs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		sys->procs = v;
		sys->cap = cap;
	}
	sys->procs[sys->nprocs++] = p;
	return 0;
}

/* Drop every record of the given processes from one map; records are
 * read as raw bytes and their tgid found at tgid_off in key or value. */
struct purge_walk {
	size_t ksize, tgid_off;
	bool in_key;
	const struct idmap *dead;
	uint8_t *keys;
	size_t n, cap;
};

static void note_dead(const void *key, const void *val, void *arg)
{
	struct purge_walk *w = arg;
	uint32_t tgid;

	memcpy(&tgid, (const uint8_t *)(w->in_key ? key : val) + w->tgid_off, sizeof(tgid));
	if (!tgid || !idmap_get(w->dead, tgid))
		return;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->keys = realloc(w->keys, w->cap * w->ksize);
		if (!w->keys)
			abort();
	}
	memcpy(w->keys + w->n++ * w->ksize, key, w->ksize);
}

static void purge_map(int fd, size_t ksize, size_t vsize, bool in_key, size_t tgid_off,
		      const struct idmap *dead)
{
	struct purge_walk w = { .ksize = ksize, .tgid_off = tgid_off, .in_key = in_key,
				.dead = dead };

	if (vsize > MAX_RECORD)
		return;
	map_walk(fd, ksize, vsize, note_dead, &w);
	for (size_t i = 0; i < w.n; i++)
		bpf_map_delete_elem(fd, w.keys + i * ksize);
	free(w.keys);
}

static void purge(struct system *sys, const struct idmap *dead)
{
	if (sys->threads) {
		purge_map(bpf_map__fd(sys->threads->maps.threads), sizeof(uint32_t),
			  sizeof(struct lt_thread), false, offsetof(struct lt_thread, tgid), dead);
		purge_map(bpf_map__fd(sys->threads->maps.tsites), sizeof(uint64_t),
			  sizeof(struct lt_tsite), false, offsetof(struct lt_tsite, tgid), dead);
		purge_map(bpf_map__fd(sys->threads->maps.pthreads), sizeof(struct lt_pthread_key),
			  sizeof(uint32_t), true, offsetof(struct lt_pthread_key, tgid), dead);
	}
	if (sys->gor)
		purge_map(bpf_map__fd(sys->gor->maps.parks), sizeof(struct lt_park_key),
			  sizeof(struct lt_park), true, offsetof(struct lt_park_key, tgid), dead);
	if (sys->alloc) {
		purge_map(bpf_map__fd(sys->alloc->maps.allocs), sizeof(struct lt_alloc_key),
			  sizeof(struct lt_alloc), true, offsetof(struct lt_alloc_key, tgid), dead);
		purge_map(bpf_map__fd(sys->alloc->maps.sites), sizeof(uint64_t),
			  sizeof(struct lt_site), false, offsetof(struct lt_site, tgid), dead);
	}
	if (sys->fds) {	/* fds keys: LT_FD_KEY, the tgid in the high half */
		purge_map(bpf_map__fd(sys->fds->maps.fds), sizeof(uint64_t), sizeof(struct lt_fd),
			  true, sizeof(uint32_t), dead);
		purge_map(bpf_map__fd(sys->fds->maps.fsites), sizeof(uint64_t),
			  sizeof(struct lt_fsite), false, offsetof(struct lt_fsite, tgid), dead);
	}
	if (sys->kmem) {
		purge_map(bpf_map__fd(sys->kmem->maps.kallocs), sizeof(struct lt_kkey),
			  sizeof(struct lt_kalloc), false, offsetof(struct lt_kalloc, tgid), dead);
		purge_map(bpf_map__fd(sys->kmem->maps.ksites), sizeof(struct lt_ksite_key),
			  sizeof(struct lt_ksite), true, offsetof(struct lt_ksite_key, tgid), dead);
	}
}

/* New processes in, exited and reused ones out. */
static void scan(struct system *sys)
{
	struct idmap dead = { 0 };
	DIR *d = opendir("/proc");
	struct dirent *e;
	int kept = 0;

	if (!d)
		return;
	for (int i = 0; i < sys->nprocs; i++)
		sys->procs[i]->seen = false;
	while ((e = readdir(d))) {
		unsigned long long start = 0;
		char comm[64];
		pid_t pid;
		struct proc *p;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = atoi(e->d_name);
		if (pid == getpid() || read_stat(pid, &start, comm, sizeof(comm)))
			continue;
		p = find_proc(sys, pid);
		/* A reused pid, or an exec (a new comm): classified afresh. */
		if (p && (p->starttime != start || strcmp(p->comm, comm) != 0)) {
			idmap_put(&dead, pid, (void *)1);
			p->pid = 0;
			p = NULL;
		}
		if (!p && (p = proc_new(sys, pid, start, comm)) && add_proc(sys, p)) {
			proc_free(p);
			p = NULL;
		}
		if (p)
			p->seen = true;
	}
	closedir(d);
	for (int i = 0; i < sys->nprocs; i++) {
		struct proc *p = sys->procs[i];

		if (p->seen && p->pid) {
			sys->procs[kept++] = p;
			continue;
		}
		if (p->pid)
			idmap_put(&dead, p->pid, (void *)1);
		proc_free(p);
	}
	sys->nprocs = kept;
	if (dead.n) {
		purge(sys, &dead);
		/* Debug info of the dropped processes was malloc'd in large
		 * numbers: give the pages back rather than keep them over days. */
		malloc_trim(0);
	}
	idmap_free(&dead);
}

static bool is_alive(pid_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	return access(path, F_OK) == 0;
}

/* Processes with records in the maps (a creation site or a memory site
 * since attach), and every Go process (its goroutines are read each tick). */
static void collect_tgids(int fd, size_t vsize, size_t off, struct idmap *out)
{
	uint64_t key, next, *prev = NULL;
	uint8_t val[MAX_RECORD];
	uint32_t tgid;

	if (vsize > sizeof(val)) {
		fprintf(stderr, "leaktop: internal: a %zu-byte record does not fit\n", vsize);
		return;
	}
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, val))
			continue;
		memcpy(&tgid, val + off, sizeof(tgid));
		if (tgid)
			idmap_put(out, tgid, (void *)1);
	}
}

/*
 * Processes holding FD_ACTIVE_MIN fds or more opened since attach, each for
 * a second or more: an fd leak passes that soon, while a process that keeps
 * a few new files open stays cheap (its symbols are opened only when it is
 * active: the test runner's, with libpython's DWARF, cost 40 MB).
 */
#define FD_ACTIVE_NS 1000000000ULL
#define FD_ACTIVE_MIN 16
struct holders {
	struct idmap counts;	/* tgid -> fds held */
	uint64_t now;
};

static void note_holder(const void *k, const void *v, void *arg)
{
	const struct lt_fd *fd = v;
	struct holders *h = arg;
	uint32_t tgid = *(const uint64_t *)k >> 32;

	if (h->now - fd->opened_ns >= FD_ACTIVE_NS)
		idmap_put(&h->counts, tgid, (char *)idmap_get(&h->counts, tgid) + 1);
}

static void collect_fd_holders(int fd, struct idmap *out)
{
	struct holders h = { .now = mono_ns() };

	map_walk(fd, sizeof(uint64_t), sizeof(struct lt_fd), note_holder, &h);
	for (size_t i = 0; i < h.counts.cap; i++)
		if (h.counts.used[i] && (uintptr_t)h.counts.vals[i] >= FD_ACTIVE_MIN)
			idmap_put(out, h.counts.keys[i], (void *)1);
	idmap_free(&h.counts);
}

/*
 * Mark the processes with records; drop the records of processes that are
 * gone, including those that lived and died between two scans (a process
 * we never saw leaves creation sites and unjoined threads behind).
 */
static void mark_active(struct system *sys)
{
	struct idmap act = { 0 }, any = { 0 }, gone = { 0 };

	if (sys->threads)
		collect_tgids(bpf_map__fd(sys->threads->maps.tsites), sizeof(struct lt_tsite),
			      offsetof(struct lt_tsite, tgid), &act);
	if (sys->alloc)
		collect_tgids(bpf_map__fd(sys->alloc->maps.sites), sizeof(struct lt_site),
			      offsetof(struct lt_site, tgid), &act);
	if (sys->fds)
		collect_fd_holders(bpf_map__fd(sys->fds->maps.fds), &act);
	for (size_t i = 0; sys->kmem && i < sys->ksites.by_pid.cap; i++)
		if (sys->ksites.by_pid.used[i] && sys->ksites.by_pid.keys[i])
			idmap_put(&act, sys->ksites.by_pid.keys[i], (void *)1);
	/* Every thread has a record (census, forks): liveness only. */
	if (sys->threads)
		collect_tgids(bpf_map__fd(sys->threads->maps.threads), sizeof(struct lt_thread),
			      offsetof(struct lt_thread, tgid), &any);
	for (int pass = 0; pass < 2; pass++) {
		const struct idmap *m = pass ? &any : &act;

		for (size_t i = 0; i < m->cap; i++)
			if (m->used[i] && !find_proc(sys, m->keys[i]) && !is_alive(m->keys[i]))
				idmap_put(&gone, m->keys[i], (void *)1);
	}
	if (gone.n)
		purge(sys, &gone);
	for (int i = 0; i < sys->nprocs; i++) {
		struct proc *p = sys->procs[i];

		p->active = !p->ignored && (p->go || idmap_get(&act, p->pid));
	}
	idmap_free(&act);
	idmap_free(&any);
	idmap_free(&gone);
}

static bool open_symbolizer(struct proc *p)
{
	if (p->sym)
		return true;
	p->sym = symbolizer_new(p->pid);
	if (!p->sym)
		return false;
	if (p->go)
		tracers_name_go(p->sym, p->exe, &p->gs.bin);
	return true;
}

static void tick(void *ctx)
{
	struct system *sys = ctx;

	scan(sys);
	if (sys->kmem)
		kmem_sites_read(sys->kmem, &sys->ksites);
	mark_active(sys);
	for (int i = 0; i < sys->nprocs; i++) {
		struct proc *p = sys->procs[i];

		if (!p->active || !open_symbolizer(p))
			continue;
		symbolizer_refresh(p->sym);
		if (!p->is_go && sys->threads)
			threads_tick(sys->threads, p->sym, &p->stacks, &p->ts);
		if (p->go && sys->gor)
			go_tick(sys->gor, p->sym, &p->stacks, &p->gs);
		if (sys->alloc)
			alloc_tick(sys->alloc, p->pid, p->sym, &p->stacks, &p->mem_history);
		if (sys->fds)
			fds_tick(sys->fds, p->sym, &p->stacks, &p->fs);
		if (sys->kmem)
			kmem_tick(&p->ks, &sys->ksites);
	}
	if (sys->kmem)
		kmem_sites_free(&sys->ksites);
}

static void proc_snapshot(struct system *sys, struct proc *p, struct lt_snapshot *snap)
{
	const struct options *o = sys->opt;

	memset(snap, 0, sizeof(*snap));
	snap->pid = p->pid;
	snap->degraded = kfeatures_degraded();
	snprintf(snap->comm, sizeof(snap->comm), "%s", p->comm);
	snap->exe = p->exe;
	snap->duration_s = mono_s() - sys->run.start;
	snap->min_age_s = o->min_age_s;
	snap->min_block_s = o->min_block_s;
	snap->no_memory = !sys->alloc;
	if (!sys->alloc)
		alloc_lost_none(&snap->lost);
	if ((sys->alloc &&
	     alloc_drain(sys->alloc, p->sym, &p->stacks, &p->mem_history, o->min_age_s, snap)) ||
	    (!p->is_go && sys->threads &&
	     threads_drain(sys->threads, p->sym, &p->stacks, &p->ts, o->min_block_s, snap)) ||
	    (p->go && sys->gor && go_drain(sys->gor, p->sym, &p->stacks, &p->gs, o->min_block_s, snap)) ||
	    (sys->fds && fds_drain(sys->fds, p->sym, &p->stacks, &p->fs, snap)) ||
	    (sys->kmem && kmem_drain(sys->kmem, &p->ks, &sys->ksites, &sys->koldest, snap)))
		fprintf(stderr, "leaktop: reading the maps for pid %d failed: %s\n", p->pid,
			strerror(errno));
	snapshot_sort(snap);
}

static int leaks_in(const struct lt_group *g, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += g[i].leak;
	return k;
}

static int leaks_of(const struct lt_snapshot *s)
{
	return leaks_in(s->groups, s->ngroups) + leaks_in(s->tgroups, s->ntgroups) +
	       leaks_in(s->ggroups, s->nggroups) + leaks_in(s->fgroups, s->nfgroups) +
	       leaks_in(s->kgroups, s->nkgroups);
}

/* Something beyond threads that run and goroutines that wait as usual. */
static bool worth_showing(const struct lt_snapshot *s)
{
	if (leaks_of(s) || s->ngroups || s->nkgroups)
		return true;
	for (int i = 0; i < s->ntgroups; i++)
		if (s->tgroups[i].kind != LT_G_RUNNING)
			return true;
	return false;
}

static int by_leaks(const void *a, const void *b)
{
	const struct lt_snapshot *x = a, *y = b;

	if (leaks_of(x) != leaks_of(y))
		return leaks_of(y) - leaks_of(x);
	return (y->bytes > x->bytes) - (y->bytes < x->bytes);
}

static void store(struct system *sys, struct proc *p, const struct lt_snapshot *snap)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/%s-%d", sys->opt->snapshot_dir, p->comm, p->pid);
	snapdir_store(dir, snap, ++p->seq, sys->opt->keep);
}

static void write_json(const char *path, const struct lt_snapshot *snaps, int n)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "we");

	if (!f) {
		fprintf(stderr, "leaktop: cannot write %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "{\"schema\": 1, \"system_wide\": true, \"processes\": [\n");
	for (int i = 0; i < n; i++) {
		if (i)
			fputs(",\n", f);
		render_json(f, &snaps[i]);
	}
	fprintf(f, "]}\n");
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
}

/* Snapshots of the processes worth showing, most leaks first: their
 * number, or -ENOMEM; *active counts those with records. */
static int take_snapshots(struct system *sys, struct lt_snapshot **out, int *active)
{
	struct lt_snapshot *snaps = calloc(sys->nprocs + 1, sizeof(*snaps));
	int n = 0;

	*out = snaps;
	if (!snaps)
		return -ENOMEM;
	if (sys->kmem) {
		kmem_oldest(sys->kmem, &sys->koldest);
		kmem_sites_read(sys->kmem, &sys->ksites);
	}
	*active = 0;
	for (int i = 0; i < sys->nprocs; i++) {
		struct proc *p = sys->procs[i];

		if (!p->active || !p->sym)
			continue;
		++*active;
		proc_snapshot(sys, p, &snaps[n]);
		if (!worth_showing(&snaps[n])) {
			snapshot_free(&snaps[n]);
			continue;
		}
		n++;
	}
	idmap_free(&sys->koldest);
	if (sys->kmem)
		kmem_sites_free(&sys->ksites);
	qsort(snaps, n, sizeof(*snaps), by_leaks);
	return n;
}

static void snapshots_free(struct lt_snapshot *snaps, int n)
{
	for (int i = 0; i < n; i++)
		snapshot_free(&snaps[i]);
	free(snaps);
}

static void render_tables(struct system *sys, struct lt_snapshot *snaps, int n, int active)
{
	int gos = 0;

	for (int i = 0; i < sys->nprocs; i++)
		gos += sys->procs[i]->is_go;
	fprintf(sys->tables,
		"leaktop -a after %.1fs: %d processes (%d Go), %d with records, %d to show%s\n\n",
		mono_s() - sys->run.start, sys->nprocs, gos, active, n,
		sys->alloc ? "" : "; memory not traced (--memory)");
	for (int i = 0; i < n && i < sys->opt->top; i++) {
		struct proc *p = find_proc(sys, snaps[i].pid);

		render_table(sys->tables, &snaps[i], sys->opt->top);
		if (sys->opt->interval_s && p)	/* takes the snapshot */
			render_changes(sys->tables, &p->changes, &snaps[i], sys->opt->top);
	}
	if (n > sys->opt->top)
		fprintf(sys->tables, "(%d more processes; -n to show more)\n\n", n - sys->opt->top);
}

static void report(void *ctx, bool final)
{
	struct system *sys = ctx;
	struct lt_snapshot *snaps;
	int active, n = take_snapshots(sys, &snaps, &active);

	if (n < 0)
		return;
	for (int i = 0; sys->opt->snapshot_dir && i < n; i++) {
		struct proc *p = find_proc(sys, snaps[i].pid);

		if (p)
			store(sys, p, &snaps[i]);
	}
	if (final && sys->opt->out.json)
		write_json(sys->opt->out.json, snaps, n);
	if (!sys->opt->quiet)
		render_tables(sys, snaps, n, active);
	session_show(&sys->run, snaps, n);
	snapshots_free(snaps, n);
}

/* Between reports, for a --listen client. */
static void publish(void *ctx)
{
	struct system *sys = ctx;
	struct lt_snapshot *snaps;
	int active, n = take_snapshots(sys, &snaps, &active);

	if (n >= 0) {
		session_show(&sys->run, snaps, n);
		snapshots_free(snaps, n);
	}
}

/* Each tracer that loads serves the whole machine; one that cannot is
 * turned off with one line and the others go on. */
static int load_all(struct system *sys)
{
	const struct options *o = sys->opt;
	int err, loaded = 0;

	err = tracer_off("thread tracer", tracers_load_threads(o, 0, NULL, &sys->threads), &loaded);
	if (!err) {
		err = thread_probes_attach_tracepoints(sys->threads);
		if (err) {
			fprintf(stderr, "leaktop: thread tracer off: cannot attach the sched "
				"tracepoints: %s\n", strerror(-err));
			threads_bpf__destroy(sys->threads);
			sys->threads = NULL;
			loaded--;
		}
	}
	if (err != -ESRCH)
		err = tracer_off("goroutine tracer", tracers_load_goroutines(o, &sys->gor),
				 &loaded);
	if (err != -ESRCH && o->memory)
		err = tracer_off("memory tracer", tracers_load_alloc(o, 0, NULL, &sys->alloc), &loaded);
	if (err != -ESRCH && !o->no_fds) {
		err = tracer_off("fd tracer", tracers_load_fds(o, 0, NULL, &sys->fds), &loaded);
		if (!err && (err = fd_probes_attach(sys->fds))) {
			fprintf(stderr, "leaktop: fd tracer off: cannot attach sys_exit: %s\n",
				strerror(-err));
			fds_bpf__destroy(sys->fds);
			sys->fds = NULL;
			loaded--;
		}
	}
	if (err != -ESRCH && o->kernel) {
		err = tracer_off("kernel memory tracer", tracers_load_kmem(o, 0, &sys->kmem),
				 &loaded);
		if (sys->kmem)
			kmem_probes_attach_or_off(&sys->kmem);
		if (sys->kmem)
			kmem_symbols_load(&sys->kallsyms);
	}
	return tracers_loaded(err, loaded);
}

static int start(void *ctx)
{
	struct system *sys = ctx;

	sys->tables = sys->opt->out.json && strcmp(sys->opt->out.json, "-") == 0 ? stderr
										   : stdout;
	features_say_degraded();
	if (load_all(sys))
		return 1;
	if (sys->threads)
		threads_census(sys->threads);
	if (sys->alloc && !sys->opt->production)	/* else with its cost: overhead.c */
		overhead_say_memory(sys->opt, NULL);
	tick(sys);
	fprintf(stderr, "leaktop: tracing every process: %d processes, %d probe links\n",
		sys->nprocs, probes_count());
	return 0;
}

static void finish(void *ctx)
{
	struct system *sys = ctx;

	probes_detach();
	for (int i = 0; i < sys->nprocs; i++)
		proc_free(sys->procs[i]);
	free(sys->procs);
	alloc_bpf__destroy(sys->alloc);
	threads_bpf__destroy(sys->threads);
	goroutines_bpf__destroy(sys->gor);
	fds_bpf__destroy(sys->fds);
	kmem_bpf__destroy(sys->kmem);
	kallsyms_free(&sys->kallsyms);
}

static const struct session_ops system_ops = {
	.start = start, .tick = tick, .report = report, .finish = finish, .publish = publish,
};

int system_trace(const struct options *o)
{
	struct system sys = { .opt = o };

	sys.run = (struct run){ .opt = o };
	return session_run(&sys.run, &system_ops, &sys);
}
