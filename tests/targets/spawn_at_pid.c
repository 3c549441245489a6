// SPDX-License-Identifier: GPL-2.0
/*
 * spawn_at_pid: run a program under a chosen PID, to test what leaktop does
 * when the PID it was given is reused by another process.
 *
 * Usage: spawn_at_pid PID PROG [ARGS...]
 *
 * clone3() with set_tid (Linux 5.5, needs CAP_SYS_ADMIN) creates the child
 * with exactly PID, which must be free; the child execs PROG (keeping
 * stdin, stdout and stderr) and this process exits 0 at once, leaving the
 * child to whoever reaps orphans.  Exit status 1 if PID is taken.
 */
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct clone_args ca;
	pid_t want, got;

	if (argc < 3) {
		fprintf(stderr, "usage: spawn_at_pid PID PROG [ARGS...]\n");
		return 2;
	}
	want = atoi(argv[1]);
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uintptr_t)&want;
	ca.set_tid_size = 1;
	got = syscall(SYS_clone3, &ca, sizeof(ca));
	if (got < 0) {
		fprintf(stderr, "spawn_at_pid: clone3 with pid %d: %s\n", want, strerror(errno));
		return 1;
	}
	if (got == 0) {
		execv(argv[2], argv + 2);
		_exit(127);
	}
	return 0;
}
