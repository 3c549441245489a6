// SPDX-License-Identifier: GPL-2.0
/* Reading goroutines out of a live Go process through /proc/PID/mem. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "go/go_census.h"
#include "target/procmem.h"
#include "go/gobin.h"

#define G_READ 512	/* bytes of runtime.g read: every field used lies below */
#define MAX_GS (1 << 20)
#define GSCAN 0x1000

static int rd(int fd, uint64_t addr, void *buf, size_t len)
{
	return pread(fd, buf, len, addr) == (ssize_t)len ? 0 : -EFAULT;
}

static uint64_t field(const uint8_t *g, int off, int size)
{
	uint64_t v = 0;

	if (off < 0 || off + size > G_READ)
		return 0;
	memcpy(&v, g + off, size);
	return v;
}

/* Frame-pointer walk of a parked goroutine from its saved pc, sp and bp;
 * each step must go up the stack, and stops at the first that does not. */
static void walk(int fd, struct go_g *out, uint64_t pc, uint64_t sp, uint64_t bp)
{
	uint64_t pair[2];

	out->nframes = 0;
	if (!pc)
		return;
	out->ip[out->nframes++] = pc;
	while (out->nframes < GO_MAX_FRAMES && bp > sp && !(bp & 7)) {
		if (rd(fd, bp, pair, sizeof(pair)) || pair[1] < 4096)
			break;
		out->ip[out->nframes++] = pair[1];
		sp = bp;
		bp = pair[0];
	}
}

static int read_g(int fd, const struct go_layout *l, uint64_t addr, struct go_g *out)
{
	uint8_t g[G_READ];
	int sched = l->g_sched;

	if (rd(fd, addr, g, sizeof(g)))
		return -EFAULT;
	memset(out, 0, sizeof(*out));
	out->g = addr;
	out->status = field(g, l->g_atomicstatus, 4) & ~GSCAN;
	out->goid = field(g, l->g_goid, 8);
	out->reason = field(g, l->g_waitreason, 1);
	out->gopc = field(g, l->g_gopc, 8);
	out->startpc = field(g, l->g_startpc, 8);
	if (out->status == GO_WAITING)
		walk(fd, out, field(g, sched + l->gobuf_pc, 8), field(g, sched + l->gobuf_sp, 8),
		     field(g, sched + l->gobuf_bp, 8));
	return 0;
}

int go_census(pid_t pid, const struct go_layout *l, uint64_t allgs, struct go_g **out)
{
	uint64_t hdr[2], *gs = NULL;	/* the slice: {array, len, cap} */
	struct go_g *res = NULL;
	/* The traced program's memory, not whatever the PID runs now. */
	int fd = procmem_get(pid), n = 0;

	if (fd < 0)
		return fd;
	if (rd(fd, allgs, hdr, sizeof(hdr)) || hdr[1] > MAX_GS)
		goto out;
	gs = calloc(hdr[1] ? hdr[1] : 1, sizeof(*gs));
	res = calloc(hdr[1] ? hdr[1] : 1, sizeof(*res));
	if (!gs || !res || rd(fd, hdr[0], gs, hdr[1] * sizeof(*gs)))
		goto out;
	for (uint64_t i = 0; i < hdr[1]; i++)
		if (gs[i] && read_g(fd, l, gs[i], &res[n]) == 0 && res[n].status != GO_DEAD &&
		    res[n].goid)
			n++;
out:
	procmem_put(fd);
	free(gs);
	*out = res;
	return n;
}
