// SPDX-License-Identifier: GPL-2.0
/* /proc/kallsyms, text symbols only, sorted for lookups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "symbols/kallsyms.h"

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int add(struct kallsyms *k, size_t *cap, uint64_t addr, const char *name, const char *module)
{
	struct ksym *s;

	if (k->n == *cap) {
		*cap = *cap ? *cap * 2 : 65536;
		s = realloc(k->v, *cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		k->v = s;
	}
	s = &k->v[k->n++];
	s->addr = addr;
	s->name = strdup(name);
	s->module = module[0] ? strdup(module) : NULL;
	return s->name ? 0 : -ENOMEM;
}

int kallsyms_load(struct kallsyms *k)
{
	char line[512], name[256], module[128], type;
	unsigned long long addr;
	bool nonzero = false;
	size_t cap = 0;
	FILE *f = fopen("/proc/kallsyms", "re");
	int err = 0;

	memset(k, 0, sizeof(*k));
	if (!f)
		return -errno;
	while (!err && fgets(line, sizeof(line), f)) {
		module[0] = '\0';
		if (sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name, module) < 3)
			continue;
		if (type != 't' && type != 'T')
			continue;
		nonzero |= addr != 0;
		err = add(k, &cap, addr, name, module);
	}
	fclose(f);
	if (!err && !nonzero)
		err = -EPERM;
	if (err) {
		kallsyms_free(k);
		return err;
	}
	qsort(k->v, k->n, sizeof(*k->v), by_addr);
	return 0;
}

const struct ksym *kallsyms_find(const struct kallsyms *k, uint64_t addr)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) { /* the last symbol at or below addr */
		size_t mid = lo + (hi - lo) / 2;

		if (k->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &k->v[lo - 1] : NULL;
}

struct lt_stack *kallsyms_stack(const struct kallsyms *k, const uint64_t *ip, int n)
{
	struct lt_stack *st = calloc(1, sizeof(*st));

	if (!st || !(st->frames = calloc(n ? n : 1, sizeof(*st->frames))))
		abort();
	for (int i = 0; i < n && ip[i]; i++) {
		const struct ksym *s = kallsyms_find(k, ip[i]);
		struct lt_frame *fr = &st->frames[st->nframes++];

		fr->address = ip[i];
		fr->function = s ? strdup(s->name) : NULL;
		fr->module = strdup(s && s->module ? s->module : "[kernel]");
		fr->offset = s ? ip[i] - s->addr : ip[i];
	}
	return st;
}

void kallsyms_free(struct kallsyms *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].name);
		free(k->v[i].module);
	}
	free(k->v);
	memset(k, 0, sizeof(*k));
}
