// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: src/go/gobin*.c on arbitrary bytes, through every entry
 * point the tracer uses on a Go executable: open (buildinfo, pclntab),
 * the runtime.g layout (DWARF, compressed or not, else the tables), the
 * runtime variables (from .symtab and from decoding the runtime's code),
 * and functions by name and by address with their inlined frames and
 * file:line. Every string returned is read in full.
 */
#include <stdio.h>
#include <string.h>
#include "fuzz_file.h"
#include "go/gobin.h"

#define NPCS	24	/* addresses tried in each function found */
#define NFRAMES	8

/* What the tracer looks up, the functions of tests/unit/go/hello.go, and
 * ABI0 names (pclntab wrapper pairs). */
static const char *const funcs[] = {
	"runtime.main", "runtime.goexit.abi0", "runtime.gopark", "runtime.newproc1",
	"runtime.mallocgc", "runtime.allgadd", "runtime.forEachG", "runtime.profilealloc",
	"main.main", "main.leakySend", "main.lockers.func1", "sync.(*Mutex).lockSlow",
	"runtime.memmove.abi0", "runtime.memmove",
};
static const char *const vars[] = {
	"runtime.allgs", "runtime.allglen", "runtime.allgptr", "runtime.MemProfileRate",
	"runtime.buildVersion",
};

static volatile uint64_t sink;

/* Fold v into sink, so that reading it is not optimized away. */
static void use(uint64_t v)
{
	sink += v;
}

static void str(const char *s)
{
	if (s)
		use(strlen(s));
}

static void layout(struct gobin *g)
{
	struct go_layout l;
	int tls;

	if (gobin_layout_code(g, &l) == 0)
		use(l.g_startpc + l.gobuf_bp);
	if (gobin_tls_g(g, &tls) == 0)
		use(tls);
	use(gobin_version_guess(g));
	if (gobin_layout(g, &l))
		return;
	use(l.g_goid);
	use(l.g_sched);
	use(l.gobuf_pc);
	for (int i = 0; i < GO_WAIT_REASONS; i++)
		str(l.wait_reason[i]);
	str(l.source);
}

static void variables(struct gobin *g)
{
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		uint64_t va;

		if (gobin_find_var(g, vars[i], &va) == 0)
			use(va);
		if (gobin_find_var_code(g, vars[i], &va) == 0)
			use(va);
	}
}

/* What symbolizing an address inside the function gives. */
static void at_pc(struct gobin *g, uint64_t pc)
{
	struct go_frame fr[NFRAMES];
	const char *file;
	uint64_t entry;
	int n, line;

	str(gobin_func_at(g, pc, &entry));
	if (gobin_func_line(g, pc, &file, &line) == 0)
		str(file);
	n = gobin_frames_at(g, pc, fr, NFRAMES);
	for (int i = 0; i < n; i++) {
		str(fr[i].function);
		str(fr[i].file);
		use(fr[i].line);
	}
}

static void functions(struct gobin *g)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		uint64_t va, size, off, step;

		if (gobin_find_func(g, funcs[i], &va, &size, &off))
			continue;
		step = size / NPCS ? size / NPCS : 1;
		for (uint64_t k = 0; k < NPCS && k * step <= size; k++)
			at_pc(g, va + k * step);
		at_pc(g, va - 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gobin g;

	if (gobin_open(fuzz_file(data, size), &g))
		return 0;
	str(g.version);
	use(g.major);
	use(g.minor);
	use(g.stripped);
	use(g.has_dwarf);
	functions(&g);
	variables(&g);
	layout(&g);
	gobin_close(&g);
	return 0;
}
