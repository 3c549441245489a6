/* SPDX-License-Identifier: GPL-2.0 */
/* The traced process: validate a PID, or start a command held at a gate
 * until the probes are attached; notice its exit. */
#ifndef LEAKTOP_TARGET_H
#define LEAKTOP_TARGET_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct target {
	pid_t pid;
	int pidfd;	/* readable once the process has exited */
	bool launched;	/* we started it, so we reap it */
	int gate;	/* write end: one byte lets the child exec */
	int exec_err;	/* read end: errno of a failed exec, EOF on success */
	bool exited;	/* or exec'ed: the traced program is gone */
	bool exec_stopped;	/* a launched target held at its exec stop */
	char exe[PATH_MAX];
	char comm[32];
};

/* -EINVAL/-ENOENT/-ENOEXEC etc. after printing a one-line reason. */
int target_attach(pid_t pid, struct target *t);
int target_launch(char **argv, struct target *t);
/* Open the gate of a launched target and wait for its exec, where it
 * stays stopped until target_continue; fails if its exec failed. For an
 * attached one: fails if it exited or exec'ed while the probes were
 * placed. */
int target_release(struct target *t, char **argv);
/* Kill a launched target that never passed its gate. */
void target_abort(struct target *t);
enum { TARGET_RUNNING, TARGET_EXITING, TARGET_EXITED };

/* Signal mask the launched command starts with (ours before blocking). */
extern sigset_t target_sigmask;
/* Stop a launched target at its exit, while its mappings still exist, and
 * at its execs. */
int target_trace_exit(struct target *t);
/* Non-blocking: TARGET_EXITING at the exit stop (call target_continue
 * after reading what is needed), TARGET_EXITED once gone (reaped) or once
 * it exec'ed another program (said on stderr). */
int target_wait(struct target *t);
/* A launched target held at its exec runs to its entry point (ld.so has
 * mapped its libraries by then) and stops there again, held. */
int target_run_to_entry(struct target *t);
void target_continue(struct target *t);
void target_close(struct target *t);

#endif
