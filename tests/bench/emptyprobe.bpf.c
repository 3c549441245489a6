// SPDX-License-Identifier: GPL-2.0
/* Benchmark floor: programs that do nothing, so a hit costs only the trap. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("uprobe")
int empty_entry(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int empty_return(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
