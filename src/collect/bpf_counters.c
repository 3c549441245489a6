// SPDX-License-Identifier: GPL-2.0
/* Reading the per-CPU lost-event arrays every BPF program keeps. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <string.h>
#include "collect/bpf_counters.h"

void counters_read(int map_fd, const char *const *names, int n, struct lt_lost_counts *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t v[ncpu > 0 ? ncpu : 1];

	memset(out, 0, sizeof(*out));
	out->n = n < LT_MAX_LOST ? n : LT_MAX_LOST;
	out->names = names;
	for (uint32_t r = 0; r < (uint32_t)out->n; r++) {
		if (bpf_map_lookup_elem(map_fd, &r, v))
			continue;
		for (int i = 0; i < ncpu; i++)
			out->v[r] += v[i];
	}
}
