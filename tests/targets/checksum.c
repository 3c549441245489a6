// SPDX-License-Identifier: GPL-2.0
/*
 * checksum: allocator traffic whose result shows whether the tracer
 * changed anything in the process.
 *
 * Usage: checksum --rounds N | --seconds S  [--wait] [--hold SECS]
 *
 * Prints "ready" (always), does its rounds (after the --wait handshake;
 * SIGUSR1 ends them early), then prints "checksum <16 hex digits> rounds
 * <R>" and exits 0.
 *
 * A round picks one of 64 slots and an operation with a fixed PRNG:
 * malloc, calloc, realloc, posix_memalign or an anonymous mmap into an
 * empty slot, or realloc, mremap, free or munmap of a full one.  Every
 * block is filled with a pattern made from its slot and generation, and
 * checked before it is moved or released (realloc and mremap must keep
 * the old prefix); what is checked is folded into the checksum.  So for a
 * given R the checksum is fixed: any register, return value, stack or
 * memory the tracer disturbed shows as a different checksum or as
 * "checksum: corrupt ..." on stderr with exit status 1.  With --seconds
 * the number of rounds depends on speed: compare with a --rounds R run.
 *
 * Every 1024 rounds it sleeps 1 ms, so --seconds runs are not CPU bound.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common.h"

#define SLOTS		64
#define MAX_SIZE	4096

struct slot {
	unsigned char *p;
	size_t size;
	uint64_t gen;
	int mapped;	/* from mmap: munmap/mremap, not free/realloc */
};

static struct slot slots[SLOTS];
static uint64_t rng = 0x9e3779b97f4a7c15ULL, sum;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned char pattern(const struct slot *s, size_t i)
{
	return (unsigned char)(s->gen * 131 + i * 7 + (s->gen >> 8));
}

static void fill(struct slot *s, size_t from)
{
	for (size_t i = from; i < s->size; i++)
		s->p[i] = pattern(s, i);
}

static void verify(const struct slot *s, size_t upto, int n)
{
	char msg[128];

	for (size_t i = 0; i < upto; i++) {
		if (s->p[i] == pattern(s, i)) {
			sum = (sum ^ s->p[i]) * 0x100000001b3ULL;
			continue;
		}
		snprintf(msg, sizeof(msg), "checksum: corrupt slot %d byte %zu\n", n, i);
		tgt_write(2, msg);
		exit(1);
	}
}

static void check_null(const void *p, const char *what)
{
	if (p && p != MAP_FAILED)
		return;
	tgt_write(2, "checksum: ");
	tgt_write(2, what);
	tgt_write(2, " failed\n");
	exit(1);
}

static NOINLINE void create(struct slot *s, uint64_t r)
{
	void *p = NULL;

	s->size = 1 + r % MAX_SIZE;
	s->mapped = 0;
	switch ((r >> 16) % 5) {
	case 0:
		p = malloc(s->size);
		break;
	case 1:
		p = calloc(1, s->size);
		break;
	case 2:
		p = realloc(NULL, s->size);
		break;
	case 3:
		if (posix_memalign(&p, 64, s->size))
			p = NULL;
		break;
	default:
		p = mmap(NULL, s->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		s->mapped = 1;
	}
	check_null(p, "allocation");
	s->p = p;
	s->gen = next();
	fill(s, 0);
}

static NOINLINE void change(struct slot *s, uint64_t r, int n)
{
	size_t size = 1 + r % MAX_SIZE, keep = size < s->size ? size : s->size;
	void *p;

	verify(s, s->size, n);
	if ((r >> 16) % 2) {	/* release */
		if (s->mapped)
			munmap(s->p, s->size);
		else
			free(s->p);
		s->p = NULL;
		return;
	}
	if (s->mapped)
		p = mremap(s->p, s->size, size, MREMAP_MAYMOVE);
	else
		p = realloc(s->p, size);
	check_null(p, "resize");
	s->p = p;
	verify(s, keep, n);
	s->size = size;
	fill(s, keep);
}

static void round_once(void)
{
	uint64_t r = next();
	int n = r % SLOTS;

	if (slots[n].p)
		change(&slots[n], r >> 6, n);
	else
		create(&slots[n], r >> 6);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long rounds = -1, r;
	double seconds = 0, end;
	char line[80];
	int i, n = 1;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--rounds"))
			rounds = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
		else
			break;
	}
	if (rounds < 0 && seconds <= 0)
		tgt_usage("checksum --rounds N | --seconds S");
	argv[i - 1] = argv[0];
	n = argc - i + 1;
	target_start(n, argv + i - 1, 1);
	tgt_go = 0;	/* from here SIGUSR1 means: stop */
	end = now_s() + seconds;
	for (r = 0; !tgt_go && (rounds < 0 ? now_s() < end : r < rounds); r++) {
		round_once();
		if ((r & 1023) == 1023)
			tgt_sleep_ms(1);
	}
	for (i = 0; i < SLOTS; i++)	/* check what is left too */
		if (slots[i].p)
			verify(&slots[i], slots[i].size, i);
	snprintf(line, sizeof(line), "checksum %016llx rounds %ld\n",
		 (unsigned long long)sum, r);
	tgt_write(1, line);
	target_finish();
	return 0;
}
