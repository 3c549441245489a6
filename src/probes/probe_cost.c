// SPDX-License-Identifier: GPL-2.0
/*
 * The price of a probe hit, measured here, and what the attached programs
 * ran: so that --production can say what tracing costs on this machine
 * (0.2 us per emulated hit on one VM kind, 4.4 us on a PVM guest:
 * shared/notes/probe-costs.md and issue 17's measurements).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>
#include "probes/kfeatures.h"
#include "probes/probe_cost.h"
#include "probes/probes.h"
#include "target/procmaps.h"

#define CALLS  500 /* per round: 2.2 ms at 4.4 us a hit */
#define ROUNDS 3   /* the cheapest round: the least disturbed */

/* The calibration's victim, in assembly so that it starts with push %rbp
 * whatever the compiler's flags: an instruction the kernel emulates, as at
 * leaktop's placements (probes.c); a leaf function in C has none. */
asm(".pushsection .text\n"
    ".type trap_target, @function\n"
    "trap_target:\n"
    "	push %rbp\n"
    "	mov %rsp, %rbp\n"
    "	lea 1(%rdi), %eax\n"
    "	pop %rbp\n"
    "	ret\n"
    ".size trap_target, .-trap_target\n"
    ".popsection\n");
int trap_target(int x);

/* This thread's CPU time: the trap is spent in it, and time it waits for
 * a CPU (the target busy beside it) is not counted. */
static uint64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static double ns_per_call(int (*volatile fn)(int), int n)
{
	uint64_t t0 = thread_ns();
	int x = 0;

	for (int i = 0; i < n; i++)
		x = fn(x);
	return x == n ? (double)(thread_ns() - t0) / n : 0;
}

static double cheapest(int n)
{
	double best = 0, t;

	for (int i = 0; i < ROUNDS; i++) {
		t = ns_per_call(trap_target, n);
		if (!best || t < best)
			best = t;
	}
	return best;
}

/* The file and offset of our own trap_target, where the probe goes. */
static int locate(char *path, size_t len, uint64_t *off)
{
	uint64_t addr = (uintptr_t)trap_target;
	const struct mapping *m;
	struct procmaps pm;
	int err = procmaps_read(getpid(), &pm);

	if (err)
		return err;
	m = procmaps_find(&pm, addr);
	err = m && m->path ? 0 : -ENOENT;
	if (!err) {
		snprintf(path, len, "%s", m->path);
		*off = addr - m->start + m->pgoff;
	}
	procmaps_free(&pm);
	return err;
}

/* Before uprobe_multi (6.6): one perf-event uprobe running prog; the
 * uprobe PMU's "retprobe" format bit is config:0 (its sysfs format/). */
static int perf_uprobe(int prog, const char *path, uint64_t off, bool ret)
{
	struct perf_event_attr a = {.size = sizeof(a),
				    .sample_period = 1,
				    .config = ret,
				    .config1 = (uintptr_t)path,
				    .config2 = off};
	FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
	int fd, ok = f && fscanf(f, "%u", &a.type) == 1;

	if (f)
		fclose(f);
	if (!ok)
		return -ENOENT;
	fd = syscall(__NR_perf_event_open, &a, getpid(), -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog) || ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int attach_empty(const char *path, uint64_t off, bool ret)
{
	static const struct bpf_insn ret0[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	bool multi = feature_has(LT_FEAT_UPROBE_MULTI);
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = multi ? PROBES_TRACE_UPROBE_MULTI : 0);
	int prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", ret0, 2, &opts), link;

	if (prog < 0)
		return -errno;
	link = multi ? probes_multi_link(prog, path, &off, NULL, 1, getpid(),
					 ret ? PROBE_RETURN : PROBE_ENTRY)
		     : perf_uprobe(prog, path, off, ret);
	close(prog); /* the link holds it */
	return link;
}

/* An entry probe, then a return probe beside it: what each adds. */
int probe_cost_measure(struct lt_cost *c)
{
	char path[4096];
	uint64_t off;
	double bare, entry, both;
	int link[2], err = locate(path, sizeof(path), &off);

	if (err)
		return err;
	bare = cheapest(CALLS * 20);
	link[0] = attach_empty(path, off, false);
	if (link[0] < 0)
		return link[0];
	entry = cheapest(CALLS);
	link[1] = attach_empty(path, off, true);
	both = link[1] >= 0 ? cheapest(CALLS) : 0;
	close(link[0]);
	if (link[1] < 0)
		return link[1];
	close(link[1]);
	c->trap_ns = entry > bare ? entry - bare : 0;
	c->ret_ns = both > entry ? both - entry : 0;
	return c->trap_ns > 0 && c->ret_ns > 0 ? 0 : -EIO;
}

int probe_cost_stats_on(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	return fd < 0 ? -errno : fd;
}

void probe_cost_read(struct lt_cost *c)
{
	const struct bpf_program *p[128];
	int n = probes_programs(p, 128);

	c->hits = c->ret_hits = c->bpf_ns = 0;
	for (int i = 0; i < n; i++) {
		struct bpf_prog_info info = {0};
		uint32_t len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(p[i]), &info, &len))
			continue;
		/* Uprobe programs are kprobe-typed: each run is one trap.
		 * A session's runs are counted as entries (its returns
		 * run for sampled calls only). */
		if (info.type == BPF_PROG_TYPE_KPROBE)
			c->hits += info.run_cnt;
		if (strncmp(bpf_program__section_name(p[i]), "uretprobe", 9) == 0)
			c->ret_hits += info.run_cnt;
		c->bpf_ns += info.run_time_ns;
	}
}
