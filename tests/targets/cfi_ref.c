// SPDX-License-Identifier: GPL-2.0
/*
 * The reference unwinder of the CFI tests: stop PID at its next call of
 * ADDR (a breakpoint), unwind it there with libdwfl (.eh_frame and debug
 * files, no frame pointers needed: dwfl_getthread_frames), print the
 * frames' pcs in hex on one line, innermost first, and let it go.
 *
 * Usage: cfi_ref PID ADDR. Prints "armed" once the breakpoint is in.
 */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

static int print_frame(Dwfl_Frame *state, void *arg)
{
	Dwarf_Addr pc;
	bool activation;

	(void)arg;
	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	printf(" 0x%lx", (unsigned long)pc);
	return DWARF_CB_OK;
}

static int unwind(pid_t pid)
{
	static char *debuginfo_path;
	static const Dwfl_Callbacks cb = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.debuginfo_path = &debuginfo_path,
	};
	Dwfl *dwfl = dwfl_begin(&cb);

	if (!dwfl || dwfl_linux_proc_report(dwfl, pid) || dwfl_report_end(dwfl, NULL, NULL) ||
	    dwfl_linux_proc_attach(dwfl, pid, true))
		return -1;
	printf("frames");
	dwfl_getthread_frames(dwfl, pid, print_frame, NULL);
	printf("\n");
	dwfl_end(dwfl);
	return 0;
}

static int fail(const char *what)
{
	fprintf(stderr, "cfi_ref: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct user_regs_struct regs;
	uint64_t addr;
	pid_t pid;
	long word;
	int st;

	if (argc != 3)
		return 2;
	pid = atoi(argv[1]);
	addr = strtoull(argv[2], NULL, 0);
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) || ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
		return fail("attach");
	if (waitpid(pid, &st, __WALL) != pid)
		return fail("wait");
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, NULL);
	if (errno || ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)((word & ~0xffL) | 0xcc)))
		return fail("breakpoint");
	if (ptrace(PTRACE_CONT, pid, NULL, NULL))
		return fail("continue");
	printf("armed\n");
	fflush(stdout);
	for (;;) {
		if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st))
			return fail("wait for the breakpoint");
		if (WSTOPSIG(st) == SIGTRAP && !(st >> 16) &&
		    !ptrace(PTRACE_GETREGS, pid, NULL, &regs) && regs.rip - 1 == addr)
			break;
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)((st >> 16) ? 0 : WSTOPSIG(st)));
	}
	regs.rip = addr;
	if (ptrace(PTRACE_SETREGS, pid, NULL, &regs) ||
	    ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)word))
		return fail("restore");
	unwind(pid);
	fflush(stdout);
	return ptrace(PTRACE_DETACH, pid, NULL, NULL) ? fail("detach") : 0;
}
