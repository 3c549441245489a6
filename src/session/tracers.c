// SPDX-License-Identifier: GPL-2.0
/* Load the BPF tracers, sized by the options, for one process or all. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "alloc.skel.h"
#include "collect/alloc_drain.h"
#include "probes/kfeatures.h"
#include "go/gobin.h"
#include "goroutines.skel.h"
#include "probes/probes.h"
#include "symbols/symbolize.h"
#include "threads.skel.h"
#include "fds.skel.h"
#include "kmem.skel.h"
#include "probes/cfi_tables.h"
#include "session/tracers.h"

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	fputs("leaktop: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

/* Name what is missing rather than fail later with EPERM. */
int tracers_check_privileges(const struct options *o)
{
	static const struct { int bit; const char *name; } need[] = {
		{ 39, "CAP_BPF" }, { 38, "CAP_PERFMON" }, { 21, "CAP_SYS_ADMIN" },
	};
	unsigned long long eff = 0;
	char line[256], missing[128] = "";
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	if (f)
		fclose(f);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!(eff & (1ULL << need[i].bit)))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s", missing[0] ? ", " : "", need[i].name);
	libbpf_set_print(libbpf_log);
	probes_verbose = o->verbose;
	if (!missing[0])
		return 0;
	fprintf(stderr, "leaktop: missing capability %s: run as root\n", missing);
	return -EPERM;
}

int tracer_off(const char *what, int err, int *loaded)
{
	if (!err) {
		(*loaded)++;
		return 0;
	}
	if (err != -ESRCH)
		fprintf(stderr, "leaktop: %s off: cannot load its BPF programs: %s\n", what,
			strerror(-err));
	return err;
}

int tracers_loaded(int err, int loaded)
{
	if (err == -ESRCH)	/* libbpf's answer when it finds no vmlinux BTF */
		fprintf(stderr, "leaktop: cannot load BPF programs: the kernel exposes no BTF "
			"(/sys/kernel/btf/vmlinux); leaktop needs CONFIG_DEBUG_INFO_BTF=y\n");
	if (err == -ESRCH || !loaded)
		return err ? err : -ENOTSUP;
	return 0;
}

/* Without task storage the per-thread map becomes an LRU hash by tid,
 * as big as the threads followed (task_local.bpf.h). */
static void task_local_fallback(struct bpf_map *m, bool *ok, int entries)
{
	*ok = feature_has(LT_FEAT_TASK_STORAGE);
	if (*ok)
		return;
	bpf_map__set_type(m, BPF_MAP_TYPE_LRU_HASH);
	bpf_map__set_map_flags(m, 0);
	bpf_map__set_max_entries(m, entries);
}

int tracers_load_alloc(const struct options *o, pid_t pid, struct cfi_tables *cfi,
		       struct alloc_bpf **out)
{
	struct alloc_bpf *skel = alloc_bpf__open();
	struct lt_site unknown = { .tgid = pid };
	uint64_t zero = 0;
	int err;

	if (!skel)
		return -errno;
	probes_prepare(skel->progs.alloc_entry);
	probes_prepare(skel->progs.alloc_return);
	/* Sampled: unsampled calls skip their return trap where sessions exist. */
	if (o->sample_bytes)
		probes_prepare_session(skel->progs.alloc_session);
	else
		bpf_program__set_autoload(skel->progs.alloc_session, false);
	bpf_map__set_max_entries(skel->maps.allocs, o->max_allocs);
	bpf_map__set_max_entries(skel->maps.sites, o->max_stacks + 1);
	bpf_map__set_max_entries(skel->maps.ages, o->max_stacks + 1);
	skel->rodata->sample_bytes = o->sample_bytes;
	skel->rodata->all_procs = pid == 0;
	skel->rodata->self_tgid = getpid();
	task_local_fallback(skel->maps.inflight, &skel->rodata->task_storage_ok, o->max_threads);
	/* Optional: ages are walked from userspace where it cannot load. */
	bpf_program__set_autoload(skel->progs.alloc_ages, feature_has(LT_FEAT_MAP_ITER));
	err = cfi ? cfi_tables_prepare(cfi, skel->maps.cfi_rows, skel->maps.cfi_procs) : 0;
	if (!err)
		err = alloc_bpf__load(skel);
	if (!err && cfi)
		cfi_tables_loaded(cfi, skel->maps.cfi_rows, skel->maps.cfi_procs);
	if (!err)
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.sites), &zero, &unknown, BPF_ANY);
	if (!err && o->sample_bytes)
		alloc_set_sampling(skel, o->sample_bytes);
	if (err) {
		alloc_bpf__destroy(skel);
		return err < 0 ? err : -errno;
	}
	*out = skel;
	return 0;
}

int tracers_load_threads(const struct options *o, pid_t pid, struct cfi_tables *cfi,
			 struct threads_bpf **out)
{
	struct threads_bpf *skel = threads_bpf__open();
	struct lt_tsite unknown = { .tgid = pid };
	uint64_t zero = 0;
	int err;

	if (!skel)
		return -errno;
	if (!feature_has(LT_FEAT_TASK_PT_REGS)) {
		threads_bpf__destroy(skel);
		return -ENOTSUP;
	}
	skel->rodata->target_tgid = pid;
	skel->rodata->self_tgid = getpid();
	probes_prepare(skel->progs.pthread_entry);
	probes_prepare(skel->progs.pthread_return);
	bpf_map__set_max_entries(skel->maps.threads, o->max_threads);
	bpf_map__set_max_entries(skel->maps.pthreads, o->max_threads);
	task_local_fallback(skel->maps.tcalls, &skel->rodata->task_storage_ok, o->max_threads);
	skel->rodata->find_vma_ok = feature_has(LT_FEAT_FIND_VMA);
	bpf_program__set_autoload(skel->progs.census, feature_has(LT_FEAT_TASK_ITER));
	bpf_program__set_autoload(skel->progs.thread_switch, feature_has(LT_FEAT_SWITCH_STATE));
	bpf_program__set_autoload(skel->progs.thread_switch_nostate,
				  !feature_has(LT_FEAT_SWITCH_STATE));
	err = cfi ? cfi_tables_prepare(cfi, skel->maps.cfi_rows, skel->maps.cfi_procs) : 0;
	if (!err)
		err = threads_bpf__load(skel);
	if (!err && cfi)
		cfi_tables_loaded(cfi, skel->maps.cfi_rows, skel->maps.cfi_procs);
	if (!err)
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.tsites), &zero, &unknown, BPF_ANY);
	if (err) {
		threads_bpf__destroy(skel);
		return err < 0 ? err : -errno;
	}
	*out = skel;
	return 0;
}

int tracers_load_fds(const struct options *o, pid_t pid, struct cfi_tables *cfi,
		     struct fds_bpf **out)
{
	struct fds_bpf *skel = fds_bpf__open();
	int err;

	if (!skel)
		return -errno;
	skel->rodata->target_tgid = pid;
	skel->rodata->self_tgid = getpid();
	bpf_map__set_max_entries(skel->maps.fds, o->max_fds);
	bpf_map__set_max_entries(skel->maps.fsites, o->max_stacks + 1);
	err = cfi ? cfi_tables_prepare(cfi, skel->maps.cfi_rows, skel->maps.cfi_procs) : 0;
	if (!err)
		err = fds_bpf__load(skel);
	if (!err && cfi)
		cfi_tables_loaded(cfi, skel->maps.cfi_rows, skel->maps.cfi_procs);
	if (err) {
		fds_bpf__destroy(skel);
		return err < 0 ? err : -errno;
	}
	*out = skel;
	return 0;
}

int tracers_load_kmem(const struct options *o, pid_t pid, struct kmem_bpf **out)
{
	struct kmem_bpf *skel = kmem_bpf__open();
	int err;

	if (!skel)
		return -errno;
	skel->rodata->target_tgid = pid;
	skel->rodata->self_tgid = getpid();
	bpf_map__set_max_entries(skel->maps.kallocs, o->max_allocs);
	bpf_map__set_max_entries(skel->maps.ksites, o->max_stacks + 1);
	bpf_map__set_max_entries(skel->maps.kstacks, o->max_stacks);
	err = kmem_bpf__load(skel);
	if (err) {
		kmem_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int tracers_load_goroutines(const struct options *o, struct goroutines_bpf **out)
{
	struct goroutines_bpf *skel = goroutines_bpf__open();
	int err;

	if (!skel)
		return -errno;
	probes_prepare(skel->progs.gopark_entry);
	bpf_map__set_max_entries(skel->maps.parks, o->max_threads * 4);
	err = goroutines_bpf__load(skel);
	if (err) {
		goroutines_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

static int go_namer(void *ctx, uint64_t vaddr, struct lt_frame *out, int max)
{
	struct go_frame gf[16];
	int n = gobin_frames_at(ctx, vaddr, gf, max < 16 ? max : 16);

	for (int i = 0; i < n; i++) {
		out[i].function = strdup(gf[i].function);
		if (gf[i].file && gf[i].line > 0) {
			out[i].file = strdup(gf[i].file);
			out[i].line = gf[i].line;
		}
	}
	return n;
}

void tracers_name_go(struct symbolizer *sym, const char *exe, struct gobin *bin)
{
	symbolizer_set_namer(sym, exe, go_namer, bin);
}
