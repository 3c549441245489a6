// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel feature detection by trying: each probe loads a two-instruction
 * program or makes one link and reads the kernel's answer. Versions do
 * not predict it: on this machine kind (6.18, vendor build) iter/task
 * loads and iter/bpf_map_elem is refused with EPERM before the verifier
 * runs (shared/notes/kernel-features.md §1).
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "probes/kfeatures.h"
#include "probes/probes.h"

/* Helper ids of include/uapi/linux/bpf.h (stable ABI numbers). */
enum {
	HELPER_TASK_STORAGE_GET = 156,
	HELPER_GET_ATTACH_COOKIE = 174,
	HELPER_TASK_PT_REGS = 175,
	HELPER_FIND_VMA = 180,
};

static const struct {
	const char *name;
	bool required;
	const char *cost;
} info[LT_FEAT_MAX] = {
    [LT_FEAT_BTF] = {"btf", true, "nothing traces: CO-RE programs need kernel BTF"},
    [LT_FEAT_COOKIE] = {"bpf_cookie", true,
			"nothing traces: probes are told apart by their cookie"},
    [LT_FEAT_TASK_ITER] =
	{"task_iter", false,
	 "threads: no census: blocked threads and threads there at attach unseen"},
    [LT_FEAT_TASK_PT_REGS] = {"task_pt_regs", false,
			      "threads: thread tracer off (no user registers)"},
    [LT_FEAT_MAP_ITER] = {"map_elem_iter", false,
			  "memory: ages walked from userspace (slower reports)"},
    [LT_FEAT_UPROBE_MULTI] = {"uprobe_multi", false,
			      "perf-event uprobes, one link each (slower detach)"},
    [LT_FEAT_UPROBE_MULTI_PID] = {"uprobe_multi_pid", false,
				  "-p: perf-event uprobes (multi-link pid filter broken)"},
    [LT_FEAT_TASK_ITER_PID] = {"task_iter_pid", false,
			       "threads: census walks every task, filtered in BPF"},
    [LT_FEAT_TASK_STORAGE] = {"task_storage", false,
			      "per-thread call state in an LRU hash by thread id"},
    [LT_FEAT_FIND_VMA] = {"find_vma", false, "threads: stack sizes read from /proc/PID/maps"},
    [LT_FEAT_SWITCH_STATE] = {"switch_prev_state", false,
			      "threads: sleep state read from the task at the switch"},
    [LT_FEAT_UPROBE_SESSION] = {"uprobe_session", false,
				"sampled memory: every call also takes a return trap"},
};

static struct lt_feature_result results[LT_FEAT_MAX];
static bool probed;

static const struct bpf_insn ret0[] = {
    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
    {.code = BPF_JMP | BPF_EXIT},
};

static int load(enum bpf_prog_type type, struct bpf_prog_load_opts *opts,
		const struct bpf_insn *insns, size_t n)
{
	int fd = bpf_prog_load(type, NULL, "GPL", insns, n, opts);

	return fd < 0 ? -errno : fd;
}

/* A helper exists for kprobe programs unless the verifier says it does
 * not know it; any other complaint (uninitialised arguments) means it
 * does. The wordings are the kernel's, old and new (libbpf 1.1 knows only
 * the old ones and reports present what a newer kernel refuses). */
static int probe_helper(int id)
{
	struct bpf_insn insns[] = {
	    {.code = BPF_JMP | BPF_CALL, .imm = id},
	    ret0[0],
	    ret0[1],
	};
	char log[4096] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 1);
	int fd = load(BPF_PROG_TYPE_KPROBE, &opts, insns, 3);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (strstr(log, "invalid func") || strstr(log, "unknown func") ||
	    strstr(log, "cannot use helper"))
		return -ENOENT;
	return log[0] ? 0 : fd; /* no log: refused before the verifier */
}

static int load_iter(struct btf *vmlinux, const char *target)
{
	char fn[64];
	int id;
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_ITER);

	snprintf(fn, sizeof(fn), "bpf_iter_%s", target);
	id = btf__find_by_name_kind(vmlinux, fn, BTF_KIND_FUNC);
	if (id < 0)
		return -ENOENT;
	opts.attach_btf_id = id;
	return load(BPF_PROG_TYPE_TRACING, &opts, ret0, 2);
}

/* Attach an iterator program and read it to its end. */
static int run_iter(int prog, union bpf_iter_link_info *linfo)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .iter_info = linfo,
		    .iter_info_len = linfo ? sizeof(*linfo) : 0);
	int link = bpf_link_create(prog, 0, BPF_TRACE_ITER, &opts), fd, err = 0;
	char buf[64];

	if (link < 0)
		return -errno;
	fd = bpf_iter_create(link);
	if (fd < 0)
		err = -errno;
	while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		;
	if (fd >= 0)
		close(fd);
	close(link);
	return err;
}

static int probe_map_iter(struct btf *vmlinux)
{
	int prog = load_iter(vmlinux, "bpf_map_elem"), map, err;
	union bpf_iter_link_info linfo = {0};

	if (prog < 0)
		return prog;
	map = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 8, 8, 1, NULL);
	if (map < 0) {
		close(prog);
		return -errno;
	}
	linfo.map.map_fd = map;
	err = run_iter(prog, &linfo);
	close(map);
	close(prog);
	return err;
}

static void probe_task_iter(struct btf *vmlinux)
{
	int prog = load_iter(vmlinux, "task");
	union bpf_iter_link_info linfo = {0};

	results[LT_FEAT_TASK_ITER].err = prog < 0 ? prog : run_iter(prog, NULL);
	if (prog < 0) {
		results[LT_FEAT_TASK_ITER_PID].err = prog;
		return;
	}
	/* Before 6.1 the kernel refuses the unknown tail of link_info. */
	linfo.task.pid = getpid();
	results[LT_FEAT_TASK_ITER_PID].err = run_iter(prog, &linfo);
	close(prog);
}

/* Linking the directory "/" fails with EBADF only where uprobe_multi
 * exists; pid -1 is refused first (EINVAL) only where its pid filter was
 * fixed (6.10, 46ba0e49b642). The same tests as libbpf's features.c. */
static void probe_uprobe_multi(void)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = PROBES_TRACE_UPROBE_MULTI);
	uint64_t off = 0;
	int prog = load(BPF_PROG_TYPE_KPROBE, &opts, ret0, 2), err;

	if (prog < 0) {
		results[LT_FEAT_UPROBE_MULTI].err = results[LT_FEAT_UPROBE_MULTI_PID].err = prog;
		return;
	}
	err = probes_multi_link(prog, "/", &off, NULL, 1, 0, PROBE_ENTRY);
	results[LT_FEAT_UPROBE_MULTI].err = err == -EBADF ? 0 : err >= 0 ? -EINVAL : err;
	err = probes_multi_link(prog, "/", &off, NULL, 1, -1, PROBE_ENTRY);
	results[LT_FEAT_UPROBE_MULTI_PID].err = results[LT_FEAT_UPROBE_MULTI].err
						    ? results[LT_FEAT_UPROBE_MULTI].err
						: err == -EINVAL ? 0
								 : -ENOTSUP;
	if (err >= 0)
		close(err);
	close(prog);
}

/* The same test for session links (6.13, attach type 57): EBADF for "/"
 * only where the kernel knows the attach type. */
static void probe_uprobe_session(void)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = PROBES_TRACE_UPROBE_SESSION);
	uint64_t off = 0;
	int prog = load(BPF_PROG_TYPE_KPROBE, &opts, ret0, 2), err;

	if (prog < 0) {
		results[LT_FEAT_UPROBE_SESSION].err = prog;
		return;
	}
	err = probes_multi_link(prog, "/", &off, NULL, 1, 0, PROBE_SESSION);
	results[LT_FEAT_UPROBE_SESSION].err = err == -EBADF ? 0 : err >= 0 ? -EINVAL : err;
	if (err >= 0)
		close(err);
	close(prog);
}

/* sched_switch gained prev_state in 5.18 (fa2c3254d7cf): its BTF
 * prototype then has five parameters, the context pointer first. */
static int probe_switch_state(struct btf *vmlinux)
{
	int id = btf__find_by_name_kind(vmlinux, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
	const struct btf_type *t;

	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(vmlinux, id);
	t = t ? btf__type_by_id(vmlinux, t->type) : NULL; /* pointer */
	t = t ? btf__type_by_id(vmlinux, t->type) : NULL; /* prototype */
	if (!t || !btf_is_func_proto(t))
		return -ENOENT;
	return btf_vlen(t) >= 5 ? 0 : -ENOENT;
}

static void force_missing(void)
{
	const char *env = getenv("LEAKTOP_FORCE_MISSING");
	char *copy, *tok, *save = NULL;

	if (!env || !*env)
		return;
	copy = strdup(env);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		for (int f = 0; f < LT_FEAT_MAX; f++)
			if (strcmp(tok, info[f].name) == 0 ||
			    (strcmp(tok, "all") == 0 && !info[f].required &&
			     f != LT_FEAT_TASK_PT_REGS && f != LT_FEAT_TASK_ITER))
				results[f].forced = true;
	free(copy);
}

void features_probe(void)
{
	struct btf *vmlinux;

	if (probed)
		return;
	probed = true;
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		for (int f = 0; f < LT_FEAT_MAX; f++)
			results[f].err = -ENOENT; /* nothing is tried without BTF */
		return;
	}
	results[LT_FEAT_COOKIE].err = probe_helper(HELPER_GET_ATTACH_COOKIE);
	results[LT_FEAT_TASK_PT_REGS].err = probe_helper(HELPER_TASK_PT_REGS);
	results[LT_FEAT_TASK_STORAGE].err = probe_helper(HELPER_TASK_STORAGE_GET);
	results[LT_FEAT_FIND_VMA].err = probe_helper(HELPER_FIND_VMA);
	results[LT_FEAT_MAP_ITER].err = probe_map_iter(vmlinux);
	probe_task_iter(vmlinux);
	probe_uprobe_multi();
	probe_uprobe_session();
	results[LT_FEAT_SWITCH_STATE].err = probe_switch_state(vmlinux);
	btf__free(vmlinux);
	force_missing();
}

bool feature_has(enum lt_feature f)
{
	features_probe();
	return !results[f].err && !results[f].forced;
}

const struct lt_feature_result *feature_result(enum lt_feature f)
{
	features_probe();
	return &results[f];
}

const char *feature_name(enum lt_feature f)
{
	return info[f].name;
}

const char *feature_cost(enum lt_feature f)
{
	return info[f].cost;
}

bool feature_required(enum lt_feature f)
{
	return info[f].required;
}

const char *kfeatures_degraded(void)
{
	static char list[512];
	size_t used = 0;

	list[0] = 0;
	for (int f = 0; f < LT_FEAT_MAX && used < sizeof(list); f++)
		if (!feature_has(f))
			used += snprintf(list + used, sizeof(list) - used, "%s%s", used ? "," : "",
					 info[f].name);
	return list;
}

void features_say_degraded(void)
{
	const char *list = kfeatures_degraded();

	if (list[0] && feature_has(LT_FEAT_BTF)) /* else the load says why */
		fprintf(stderr,
			"leaktop: degraded (kernel lacks or refuses %s): "
			"`leaktop check` says what each costs\n",
			list);
}
