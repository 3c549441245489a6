// SPDX-License-Identifier: GPL-2.0
/* What --production costs, measured and said (session/overhead.h). */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "lib/clock.h"
#include "output/render.h"
#include "probes/probe_cost.h"
#include "probes/probes.h"
#include "session/overhead.h"
#include "session/run.h"

/* The rate the expected cost is quoted at: a busy service's mallocs. */
#define QUOTED_RATE 10000

void overhead_start(struct run *r)
{
	r->stats_fd = -1;
	if (!r->opt->production)
		return;
	r->stats_fd = probe_cost_stats_on();
	if (r->stats_fd < 0)
		fprintf(stderr,
			"leaktop: the probes' running cost is not counted: the kernel's "
			"BPF run statistics are refused (%s)\n",
			strerror(-r->stats_fd));
}

/* Hits of one malloc and its free: entry and free, and the return unless
 * a session skips it (unsampled calls, sampled mode only). */
static int hits_per_pair(const struct options *o, const char **how)
{
	bool skipped = o->sample_bytes && probes_sessions();

	*how = skipped ? "entry and free; an unsampled call's return skipped by its uprobe session"
		       : "entry, return and free";
	return skipped ? 2 : 3;
}

void overhead_say_memory(const struct options *o, const struct lt_cost *c)
{
	char b[32];
	const char *how;
	int n = hits_per_pair(o, &how);
	double pair_ns = c ? 2 * c->trap_ns + (n == 3 ? c->ret_ns : 0) : 0;

	fprintf(stderr, "leaktop: %s", o->all ? "native memory of every process: " : "");
	if (o->sample_bytes)
		fprintf(stderr, "sampled, one allocation per %s tracked (--sample-bytes); ",
			human_bytes(o->sample_bytes, b, sizeof(b)));
	else
		fprintf(stderr, "every allocation tracked; ");
	fprintf(stderr, "%d probe hits per malloc+free (%s)", n, how);
	if (pair_ns)
		fprintf(stderr, ", %.1f us: %d mallocs/s cost ~%.1f%% of one CPU", pair_ns / 1e3,
			QUOTED_RATE, QUOTED_RATE * pair_ns / 1e7);
	fputc('\n', stderr);
}

/* The memory tracer is attached (a Go program may have no malloc). */
static bool memory_traced(void)
{
	const struct bpf_program *p[128];
	int n = probes_programs(p, 128);

	for (int i = 0; i < n; i++)
		if (strncmp(bpf_program__name(p[i]), "alloc_", 6) == 0)
			return true;
	return false;
}

void overhead_expect(struct run *r)
{
	int err;

	if (!r->opt->production)
		return;
	err = probe_cost_measure(&r->cost);
	if (err) {
		r->cost.trap_ns = r->cost.ret_ns = 0;
		fprintf(stderr,
			"leaktop: production: the cost of a probe hit could not be measured "
			"(%s): only hits and time in BPF are counted\n",
			strerror(-err));
		return;
	}
	fprintf(stderr,
		"leaktop: production: a probe hit costs %.2f us on this machine, a "
		"return probe's %.2f (measured now); threads, goroutines and fds are traced in "
		"full (their events are rare)\n",
		r->cost.trap_ns / 1e3, r->cost.ret_ns / 1e3);
	if (memory_traced())
		overhead_say_memory(r->opt, &r->cost);
}

void overhead_update(struct run *r)
{
	if (r->stats_fd < 0)
		return;
	probe_cost_read(&r->cost);
	r->cost.known = true;
}

void overhead_say(const struct run *r)
{
	const struct lt_cost *c = &r->cost;
	double secs = mono_s() - r->start;

	if (!c->known || r->screen)
		return;
	fprintf(stderr, "leaktop: probes so far: %lu hits (%.0f/s)", c->hits,
		secs > 0 ? c->hits / secs : 0);
	if (c->trap_ns)
		fprintf(stderr, ", %lu of them returns, at %.2f and %.2f us", c->ret_hits,
			c->trap_ns / 1e3, c->ret_ns / 1e3);
	fprintf(stderr, " + %.3f s in BPF = %.1f%% of one CPU over %.1f s\n", c->bpf_ns / 1e9,
		secs > 0 ? cost_cpu_ns(c) / 1e7 / secs : 0, secs);
}

void overhead_stop(struct run *r)
{
	if (r->stats_fd >= 0)
		close(r->stats_fd);
	r->stats_fd = -1;
}
