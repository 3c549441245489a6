// SPDX-License-Identifier: GPL-2.0
/* Helpers over the group model shared by every renderer. */
#include <stdlib.h>
#include "snapshot.h"

static const char *const lost_names[LT_LOST_MAX] = {
	[LT_LOST_ALLOC_MAP_FULL] = "alloc_map_full",
	[LT_LOST_STACK_MAP_FULL] = "stack_map_full",
	[LT_LOST_INFLIGHT_FULL] = "inflight_full",
};

uint64_t snapshot_lost_total(const struct lt_snapshot *s)
{
	uint64_t n = 0;

	for (int i = 0; i < LT_LOST_MAX; i++)
		n += s->lost[i];
	return n;
}

const char *snapshot_lost_name(int reason)
{
	return reason >= 0 && reason < LT_LOST_MAX ? lost_names[reason] : "?";
}

static int by_bytes(const void *a, const void *b)
{
	const struct lt_group *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return 0;
}

void snapshot_sort(struct lt_snapshot *s)
{
	qsort(s->groups, s->ngroups, sizeof(*s->groups), by_bytes);
}

void snapshot_free(struct lt_snapshot *s)
{
	free(s->groups);
	s->groups = NULL;
	s->ngroups = 0;
}
