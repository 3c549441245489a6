/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-thread state of the BPF programs. Task storage (tracing programs:
 * 5.13) needs no delete and is freed with the thread; where the kernel
 * lacks it, userspace turns the same map into an LRU hash keyed by thread
 * id (tracers.c) and task_storage_ok off, so dead threads' entries are
 * evicted instead of freed. The verifier prunes the branch not taken:
 * task_storage_ok is read-only data it knows.
 */
#ifndef LEAKTOP_TASK_LOCAL_BPF_H
#define LEAKTOP_TASK_LOCAL_BPF_H

const volatile bool task_storage_ok = true;

#define TASK_LOCAL_GET(map, type, create)                                                   \
	({                                                                                 \
		type *v_ = NULL;                                                           \
		if (task_storage_ok) {                                                     \
			v_ = bpf_task_storage_get(&map, bpf_get_current_task_btf(), 0,     \
						  (create) ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0); \
		} else {                                                                   \
			__u32 tid_ = (__u32)bpf_get_current_pid_tgid();                    \
			v_ = bpf_map_lookup_elem(&map, &tid_);                             \
			if (!v_ && (create)) {                                             \
				type zero_ = {};                                           \
				bpf_map_update_elem(&map, &tid_, &zero_, BPF_NOEXIST);     \
				v_ = bpf_map_lookup_elem(&map, &tid_);                     \
			}                                                                  \
		}                                                                          \
		v_;                                                                        \
	})

#endif
