/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Optional kernel features, detected once by trying them (a tiny program
 * load, a link attempt, a BTF lookup), never from the kernel's version:
 * vendor kernels backport features and local policy refuses some
 * (shared/notes/kernel-features.md). Each missing feature turns off one
 * program and costs one capability; the tracers ask feature_has().
 */
#ifndef LEAKTOP_KFEATURES_H
#define LEAKTOP_KFEATURES_H

#include <stdbool.h>

enum lt_feature {
	LT_FEAT_BTF,		  /* /sys/kernel/btf/vmlinux: CO-RE */
	LT_FEAT_COOKIE,		  /* bpf_get_attach_cookie */
	LT_FEAT_TASK_ITER,	  /* iter/task: the thread census */
	LT_FEAT_TASK_PT_REGS,	  /* bpf_task_pt_regs */
	LT_FEAT_MAP_ITER,	  /* iter/bpf_map_elem: ages in the kernel */
	LT_FEAT_UPROBE_MULTI,	  /* uprobe_multi links */
	LT_FEAT_UPROBE_MULTI_PID, /* their pid filter follows every thread */
	LT_FEAT_TASK_ITER_PID,	  /* task iterator filtered by pid */
	LT_FEAT_TASK_STORAGE,	  /* task storage maps in tracing programs */
	LT_FEAT_FIND_VMA,	  /* bpf_find_vma */
	LT_FEAT_SWITCH_STATE,	  /* sched_switch's prev_state argument */
	LT_FEAT_UPROBE_SESSION,	  /* uprobe session links (6.13) */
	LT_FEAT_MAX,
};

/* What a probe found: present, or why not. */
struct lt_feature_result {
	int err;     /* 0 present; -ENOENT etc. missing; -EPERM refused */
	bool forced; /* turned off by LEAKTOP_FORCE_MISSING */
};

/* Probe every feature (once; later calls return the cached answers).
 * LEAKTOP_FORCE_MISSING=name,name,..., read for the tests only, makes the
 * named features answer missing so their fallbacks run; "all" names every
 * optional one whose fallback keeps its capability (not task_iter, whose
 * absence loses the census, nor task_pt_regs: no thread tracer). */
void features_probe(void);
bool feature_has(enum lt_feature f);
const struct lt_feature_result *feature_result(enum lt_feature f);
const char *feature_name(enum lt_feature f);
/* What leaktop does without it, one line. */
const char *feature_cost(enum lt_feature f);
/* Without it nothing traces (BTF, cookies). */
bool feature_required(enum lt_feature f);
/* Names of the missing features joined by ",", "" when none. */
const char *kfeatures_degraded(void);
/* One stderr line when a trace runs degraded, naming what is off. */
void features_say_degraded(void);

#endif
