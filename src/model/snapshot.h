/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The group model: everything leaktop reports is a group of live things
 * sharing a stack, with counters. A snapshot is the groups of one process
 * at one moment plus totals and loss counters; every output renders one.
 */
#ifndef LEAKTOP_SNAPSHOT_H
#define LEAKTOP_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "alloc.h"
#include "threads.h"

struct lt_frame {
	char *function;	/* demangled; NULL when unknown */
	char *module;	/* path of the ELF object; NULL when none */
	uint64_t address;	/* in the process */
	uint64_t offset;	/* address minus the module's load bias */
	char *file;	/* NULL when no debug info */
	int line;
};

struct lt_stack {
	int nframes;
	struct lt_frame *frames;	/* innermost first */
};

enum lt_group_kind {
	LT_G_ALLOC,	/* outstanding allocations of one stack */
	LT_G_UNJOINED,	/* exited threads nobody joined, by creation site */
	LT_G_BLOCKED,	/* threads asleep past --min-block, by blocking stack */
	LT_G_RUNNING,	/* other live threads, by creation site */
	LT_G_GOROUTINE,	/* goroutines by wait reason, stack, creation site */
	LT_G_GOHEAP,	/* Go heap in use by allocation stack (estimated) */
	LT_G_FD,	/* open file descriptors by kind and opening stack */
	LT_G_KMEM,	/* kernel memory outstanding by kernel stack */
};

struct lt_group {
	enum lt_group_kind kind;
	uint64_t site;		/* live only: the tracer's id for the group's stack */
	int64_t bytes;		/* alloc: outstanding; unjoined: stack memory pinned */
	int64_t count;
	double oldest_age_s;
	int64_t samples;	/* sampled memory: allocations the estimate rests on */
	/* Go heap: sampled allocations no GC cycle has judged yet (live or
	 * garbage: known at the next GC), beside bytes/count in use */
	int64_t pending_bytes, pending_count;
	const struct lt_stack *stack;	/* alloc, blocked: that stack; threads: creation */
	const struct lt_stack *created_by;	/* threads: the creation stack */
	const char *wait;	/* blocked: the syscall or state it sleeps in */
	const char *fd_kind;	/* fd: file, socket, pipe, eventfd... */
	const char *fd_proto;	/* fd sockets: tcp, udp, unix; else NULL */
	char *targets;		/* fd: up to 3 examples (paths, peers), one per line; owned */
	int pid;		/* kernel memory: the process of the site's first allocation */
	char comm[16];
	bool leak;		/* the verdict, with why in words */
	char why[192];
};

/* Live and unjoined threads of one creation site, and the change since the
 * previous report: where a leak of threads shows as growth. */
struct lt_site_count {
	const struct lt_stack *created_by;
	int64_t live, unjoined, change;
	bool growing;
};

#define LT_MAX_LOST 4

/* Lost-event counters of one tracer, by reason, with the reasons' names. */
struct lt_lost_counts {
	int n;
	const char *const *names;
	uint64_t v[LT_MAX_LOST];
};

uint64_t lost_total(const struct lt_lost_counts *l);
/* Relative standard error of a sampled group's estimate: its samples are
 * a Poisson count, so 1 / sqrt(samples); 0 when not sampled. */
double sample_error(const struct lt_group *g);

/* What the probes cost the traced code so far (--production). */
struct lt_cost {
	bool known;		/* the kernel's run statistics are on */
	double trap_ns;		/* one uprobe hit, measured at start; 0 unknown */
	double ret_ns;		/* one uretprobe hit, measured at start */
	uint64_t hits;		/* uprobe and uretprobe programs' runs */
	uint64_t ret_hits;	/* of which uretprobes' */
	uint64_t bpf_ns;	/* time in every attached program */
};

/* The CPU the probes took: entry hits and return hits at their measured
 * prices, plus the time in BPF. */
double cost_cpu_ns(const struct lt_cost *c);

struct lt_snapshot {
	pid_t pid;
	char comm[32];
	const char *exe;
	const char *allocator;
	const char *degraded;	/* kernel features missing, comma-joined; NULL unknown */
	double duration_s;
	bool exited;
	double min_age_s;
	int64_t sample_bytes;	/* memory sampled one per this many bytes; 0 all */
	bool no_memory;		/* memory not traced (-a without --memory): no table */
	int64_t bytes;	/* sum over groups */
	int64_t count;
	struct lt_lost_counts lost;	/* memory */
	int ngroups;
	struct lt_group *groups;	/* memory: sorted by bytes, largest first */
	bool has_threads;
	int live_threads;
	double min_block_s;
	struct lt_lost_counts tlost;	/* threads */
	int ntgroups;
	struct lt_group *tgroups;	/* threads: likely leaks first */
	int nsites;
	struct lt_site_count *sites;	/* threads per creation site, most first */
	bool has_goroutines;
	const char *go_version;
	int goroutines;		/* user goroutines */
	int nggroups;
	struct lt_group *ggroups;	/* goroutines: likely leaks first */
	struct lt_lost_counts glost;
	bool has_goheap;
	int64_t goheap_rate;	/* bytes per sample; 0: sampler not on yet */
	int64_t goheap_cycles;	/* GC cycles ended since attach */
	int nhsites;
	struct lt_group *hsites;	/* Go heap: by bytes in use */
	struct lt_lost_counts hlost;
	bool has_fds;
	int fds_open;		/* open now, from /proc/PID/fd */
	int nfgroups;
	struct lt_group *fgroups;	/* fds: likely leaks first */
	struct lt_lost_counts flost;
	bool has_kernel;
	int64_t kbytes, kcount;	/* kernel memory outstanding */
	int nkgroups;
	struct lt_group *kgroups;	/* kernel memory: by bytes */
	struct lt_lost_counts klost;
	struct lt_cost cost;	/* known only for one process traced */
};

const char *group_kind_name(enum lt_group_kind k);
/* Memory groups by bytes; thread groups leaks first, then by count. */
void snapshot_sort(struct lt_snapshot *s);
void snapshot_free(struct lt_snapshot *s);

#endif
