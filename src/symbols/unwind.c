// SPDX-License-Identifier: GPL-2.0
/* CFI unwinding with libdwfl's attach-state API over our own registers
 * and memory reader, on the symbolizer's modules. */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "target/procmem.h"
#include "symbols/symbolize.h"
#include "symbols/unwind.h"

struct unwind_ctx {
	int mem_fd;
	pid_t tid;
	const uint64_t *regs;
	uint64_t *ip;
	int n, max;
	int attached;
};

static struct unwind_ctx ctx;	/* libdwfl calls back with it */

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_arg)
{
	(void)dwfl;
	(void)arg;
	if (*thread_arg)
		return 0;
	*thread_arg = &ctx;
	return ctx.tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_arg)
{
	(void)dwfl;
	(void)arg;
	*thread_arg = &ctx;
	return tid == ctx.tid;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *out, void *arg)
{
	(void)dwfl;
	(void)arg;
	return pread(ctx.mem_fd, out, sizeof(*out), addr) == sizeof(*out);
}

/* DWARF register numbers of x86-64: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip. */
static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	const uint64_t *r = ctx.regs;
	Dwarf_Word d[17] = {
		r[LT_R_AX], r[LT_R_DX], r[LT_R_CX], r[LT_R_BX], r[LT_R_SI], r[LT_R_DI],
		r[LT_R_BP], r[LT_R_SP], r[LT_R_R8], r[LT_R_R9], r[LT_R_R10], r[LT_R_R11],
		r[LT_R_R12], r[LT_R_R13], r[LT_R_R14], r[LT_R_R15], r[LT_R_IP],
	};

	(void)arg;
	dwfl_thread_state_register_pc(thread, r[LT_R_IP]);
	return dwfl_thread_state_registers(thread, 0, 17, d);
}

static const Dwfl_Thread_Callbacks callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

static int on_frame(Dwfl_Frame *frame, void *arg)
{
	Dwarf_Addr pc;
	bool activation;

	(void)arg;
	if (!dwfl_frame_pc(frame, &pc, &activation) || ctx.n >= ctx.max)
		return DWARF_CB_ABORT;
	ctx.ip[ctx.n++] = pc;
	return DWARF_CB_OK;
}

int unwind_thread(struct symbolizer *sym, pid_t pid, pid_t tid, const uint64_t regs[LT_NREGS],
		  uint64_t *ip, int max)
{
	Dwfl *dwfl = symbolizer_dwfl(sym);

	/* The traced program's memory, not whatever the PID runs now. */
	ctx.mem_fd = procmem_get(pid);
	if (ctx.mem_fd < 0)
		return ctx.mem_fd;
	/* libdwfl allows one attach per session: its callbacks read ctx. */
	if (!ctx.attached)
		ctx.attached = dwfl_attach_state(dwfl, NULL, pid, &callbacks, NULL);
	ctx.tid = tid;
	ctx.regs = regs;
	ctx.ip = ip;
	ctx.n = 0;
	ctx.max = max;
	if (ctx.attached)
		dwfl_getthread_frames(dwfl, tid, on_frame, NULL);
	procmem_put(ctx.mem_fd);
	if (ctx.n == 0 && max > 0)	/* no CFI at all: at least where it sleeps */
		ip[ctx.n++] = regs[LT_R_IP];
	return ctx.n;
}
