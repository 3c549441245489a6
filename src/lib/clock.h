/* SPDX-License-Identifier: GPL-2.0 */
/* CLOCK_MONOTONIC: the clock bpf_ktime_get_ns() reads, so ages computed
 * in userspace compare with timestamps taken in BPF. */
#ifndef LEAKTOP_CLOCK_H
#define LEAKTOP_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline double mono_s(void)
{
	return mono_ns() / 1e9;
}

#endif
