// SPDX-License-Identifier: GPL-2.0
/* Raw frames -> symbolized stacks, cached by stack id. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "symbols/stacks.h"
#include "symbols/symbolize.h"

const struct lt_stack lt_unknown_stack = { 0, NULL };

#define MAX_INLINED 8	/* frames one address may expand to */

struct lt_stack *stack_from_ips(struct symbolizer *sym, const uint64_t *ip, int n,
				bool all_return)
{
	struct lt_stack *st = calloc(1, sizeof(*st));
	int cap = n * MAX_INLINED + 1;

	if (!st)
		return NULL;
	st->frames = calloc(cap, sizeof(*st->frames));
	if (!st->frames) {
		free(st);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		/* The real return address is in the kernel's hands: skip it. */
		if (i > 0 && symbolizer_is_trampoline(sym, ip[i]))
			continue;
		/* The kernel walk checked the frame chain's shape; a return
		 * address outside any code the process mapped means the chain
		 * went through code without frame pointers: cut it there. */
		if (i > 0 && !symbolizer_is_code(sym, ip[i]))
			break;
		st->nframes += symbolize_frames(sym, ip[i], i > 0 || all_return,
						&st->frames[st->nframes], MAX_INLINED);
	}
	return st;
}

static bool has_unknown_module(const struct lt_stack *st, int n)
{
	if (st->nframes < n)	/* cut: an address outside known code */
		return true;
	for (int i = 0; i < st->nframes; i++)
		if (!st->frames[i].module)
			return true;
	return false;
}

/*
 * Symbolize, and if an address lies in no module we know, read the
 * mappings again and retry once: the stack may come from a library mapped
 * since the last refresh (a launched program's libc, between our first
 * look at its mappings and its first malloc).
 */
static struct lt_stack *build(struct symbolizer *sym, const uint64_t *ip, int n, bool all_return)
{
	static double last;	/* at most one extra refresh per 100 ms: code
				 * without frame pointers gives cut stacks too */
	struct lt_stack *st = stack_from_ips(sym, ip, n, all_return);
	struct timespec ts;
	double now;

	if (!st || !has_unknown_module(st, n))
		return st;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec + ts.tv_nsec / 1e9;
	if (now - last < 0.1 || symbolizer_refresh(sym))
		return st;
	last = now;
	stack_free(st);
	return stack_from_ips(sym, ip, n, all_return);
}

const struct lt_stack *stack_cache_get(struct stack_cache *c, struct symbolizer *sym,
				       uint64_t id, const struct lt_frames *f, const char *name0)
{
	struct lt_stack *st = idmap_get(&c->ids, id);
	int n;

	if (st)
		return st;
	if (id == 0 || !f)
		return &lt_unknown_stack;
	n = f->nr < LT_MAX_FRAMES ? f->nr : LT_MAX_FRAMES;
	st = build(sym, (const uint64_t *)f->ip, n, false);
	if (!st)
		return &lt_unknown_stack;
	if (name0 && st->nframes > 0) {
		free(st->frames[0].function);
		st->frames[0].function = strdup(name0);
	}
	idmap_put(&c->ids, id, st);
	return st;
}

const struct lt_stack *stack_cache_ips(struct stack_cache *c, struct symbolizer *sym,
				       const uint64_t *ip, int n, bool all_return)
{
	uint64_t id = 0x5eed ^ all_return;
	struct lt_stack *st;

	for (int i = 0; i < n; i++)
		id = (id ^ ip[i]) * 0x9e3779b97f4a7c15ULL;
	st = idmap_get(&c->ids, id);
	if (st)
		return st;
	st = build(sym, ip, n, all_return);
	if (!st)
		return &lt_unknown_stack;
	idmap_put(&c->ids, id, st);
	return st;
}

uint64_t stack_shown_id(const struct lt_stack *st)
{
	uint64_t h = 0x84222325cbf29ce4ULL;
	const char *f0;

	if (!st || !st->nframes)
		return 0;
	for (f0 = st->frames[0].function; f0 && *f0; f0++)	/* the API named */
		h = (h ^ (unsigned char)*f0) * 0x100000001b3ULL;
	for (int i = 0; i < st->nframes; i++)
		h = (h ^ st->frames[i].address) * 0x9e3779b97f4a7c15ULL;
	return h ? h : 1;
}

void stack_free(struct lt_stack *st)
{
	if (!st || st == &lt_unknown_stack)
		return;
	for (int i = 0; i < st->nframes; i++) {
		free(st->frames[i].function);
		free(st->frames[i].module);
		free(st->frames[i].file);
	}
	free(st->frames);
	free(st);
}

void stack_cache_free(struct stack_cache *c)
{
	for (size_t i = 0; i < c->ids.cap; i++)
		if (c->ids.used[i])
			stack_free(c->ids.vals[i]);
	idmap_free(&c->ids);
}
