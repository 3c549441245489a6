/* SPDX-License-Identifier: GPL-2.0 */
/* Placing, attaching and detaching uprobes on the target's functions. */
#ifndef LEAKTOP_PROBES_H
#define LEAKTOP_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_program;
struct bpf_link;

/* One function to probe. */
struct probe_req {
	const char *symbol;		/* as exported: "malloc", "_Znwm" */
	const char *obj;		/* the object providing it; NULL: skip */
	struct bpf_program *entry;
	struct bpf_program *ret;	/* NULL: no return probe */
	/* A uprobe session program (entry and return in one, Linux 6.13):
	 * used instead of entry and ret where the kernel has them. */
	struct bpf_program *session;
	int nargs;			/* argument registers the entry reads */
	uint64_t cookie;		/* bpf_get_attach_cookie() in both */
	uint64_t func_off, func_size;	/* when known (stripped Go): no symbol lookup */
};

/* Print where each probe goes (-v). */
extern int probes_verbose;

/*
 * Where in a function to put its probe: the offset of the first
 * instruction the kernel emulates (push, jcc/jmp/call rel, nop), if every
 * path from the entry reaches it with %rsp, %rbp and the argument
 * registers (the first nargs) untouched and nothing else in the function
 * jumps into the skipped bytes; else 0. code holds the function's bytes.
 */
size_t probe_offset(const uint8_t *code, size_t len, int nargs);

/* Before load: let prog be attached through uprobe_multi links, where
 * the kernel has them. */
void probes_prepare(struct bpf_program *prog);
/* BPF_TRACE_UPROBE_MULTI, which Debian's libbpf 1.1 headers predate. */
#define PROBES_TRACE_UPROBE_MULTI 48
#define PROBES_TRACE_UPROBE_SESSION 57	/* include/uapi/linux/bpf.h, 6.13 */

/* What a multi link runs its program at: entry, return, or both (a
 * session: the entry's return value 1 skips the return). */
enum probe_mode { PROBE_ENTRY, PROBE_RETURN, PROBE_SESSION };
/* One uprobe_multi link by the bpf syscall: its fd, or -errno. */
int probes_multi_link(int prog_fd, const char *path, const uint64_t *offs,
		      const uint64_t *cookies, int n, int pid, enum probe_mode mode);
/* Before load: a session program loads where the kernel has sessions;
 * elsewhere it is left out (its requests take their entry and ret). */
void probes_prepare_session(struct bpf_program *prog);
/* Attach every request present in its object (aliases once), in process
 * pid only, or in every process mapping the object when pid is 0. */
int probes_attach(const struct probe_req *reqs, int n, pid_t pid);
/* Attach prog where its section says (tracepoints), kept so that
 * probes_detach ends it. */
int probes_keep(struct bpf_program *prog);
/* The programs behind the links, each once: up to max in out, the count. */
int probes_programs(const struct bpf_program **out, int max);
/* Session links are used (probes_prepare_session loads its program). */
bool probes_sessions(void);
void probes_detach(void);
/* How many links are attached. */
int probes_count(void);

#endif
