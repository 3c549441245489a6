// SPDX-License-Identifier: GPL-2.0
/* Target processes: attach by PID or launch behind a gate. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "elfsym.h"
#include "target.h"

extern char **environ;
sigset_t target_sigmask;

static int open_pidfd(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static void read_comm(struct target *t)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", t->pid);
	f = fopen(path, "re");
	if (f && fgets(t->comm, sizeof(t->comm), f))
		t->comm[strcspn(t->comm, "\n")] = '\0';
	if (f)
		fclose(f);
}

int target_attach(pid_t pid, struct target *t)
{
	char link[64];
	ssize_t n;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->gate = t->exec_err = -1;
	if (pid == getpid()) {
		fprintf(stderr, "leaktop: refusing to trace itself (pid %d)\n", pid);
		return -EINVAL;
	}
	if (kill(pid, 0) && errno == ESRCH) {
		fprintf(stderr, "leaktop: no such process: %d\n", pid);
		return -ESRCH;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, t->exe, sizeof(t->exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "leaktop: pid %d has no executable (a kernel thread?)\n", pid);
		return -EINVAL;
	}
	t->exe[n] = '\0';
	if (elf_check(t->exe)) {
		fprintf(stderr, "leaktop: pid %d runs %s, which is not a readable ELF file\n",
			pid, t->exe);
		return -ENOEXEC;
	}
	read_comm(t);
	t->pidfd = open_pidfd(pid);
	if (t->pidfd < 0) {
		fprintf(stderr, "leaktop: no such process: %d\n", pid);
		return -ESRCH;
	}
	return 0;
}

/* Like execvp's PATH search, but done before fork so errors are ours. */
static int find_command(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return access(out, X_OK) ? -errno : 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(out, len, "%.*s/%s", (int)n, n ? path : ".", cmd);
		if (access(out, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -ENOENT;
}

/* The child: wait at the gate, then exec. Only raw syscalls run here:
 * the probes may already be in this copy of our address space, and a
 * malloc before exec would be charged to the target. */
static void child(int gate, int err_fd, const char *path, char **argv)
{
	char go;

	/* Die with leaktop while gated; once running, outlive it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(gate, &go, 1) != 1)
		_exit(127);
	prctl(PR_SET_PDEATHSIG, 0);
	sigprocmask(SIG_SETMASK, &target_sigmask, NULL);
	execve(path, argv, environ);
	go = errno;
	if (write(err_fd, &go, 1) < 0)
		_exit(127);
	_exit(127);
}

int target_launch(char **argv, struct target *t)
{
	int gate[2], err[2], e;

	memset(t, 0, sizeof(*t));
	t->gate = t->exec_err = t->pidfd = -1;
	e = find_command(argv[0], t->exe, sizeof(t->exe));
	if (e) {
		fprintf(stderr, "leaktop: cannot execute %s: %s\n", argv[0], strerror(-e));
		return e;
	}
	if (elf_check(t->exe)) {
		fprintf(stderr, "leaktop: %s is not an ELF executable\n", t->exe);
		return -ENOEXEC;
	}
	if (pipe2(gate, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -errno;
	t->pid = fork();
	if (t->pid < 0)
		return -errno;
	if (t->pid == 0)
		child(gate[0], err[1], t->exe, argv);
	close(gate[0]);
	close(err[1]);
	t->gate = gate[1];
	t->exec_err = err[0];
	t->launched = true;
	t->pidfd = open_pidfd(t->pid);
	snprintf(t->comm, sizeof(t->comm), "%s", strrchr(t->exe, '/') + 1);
	return t->pidfd < 0 ? -errno : 0;
}

int target_release(struct target *t, char **argv)
{
	char go = 1, e;
	ssize_t n;

	if (write(t->gate, &go, 1) != 1)
		return -errno;
	close(t->gate);
	t->gate = -1;
	n = read(t->exec_err, &e, 1);	/* EOF: exec closed it (CLOEXEC) */
	close(t->exec_err);
	t->exec_err = -1;
	if (n == 1) {
		fprintf(stderr, "leaktop: cannot execute %s: %s\n", argv[0], strerror(e));
		waitpid(t->pid, NULL, 0);
		t->exited = true;
		return -e;
	}
	return 0;
}

void target_abort(struct target *t)
{
	if (!t->launched || t->exited)
		return;
	if (t->gate >= 0) {
		close(t->gate);	/* the child reads EOF and exits */
		t->gate = -1;
	}
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	t->exited = true;
}

/* A launched target is ptraced for its exit event: the one moment its
 * mappings can still be read after its last allocation. */
int target_trace_exit(struct target *t)
{
	return ptrace(PTRACE_SEIZE, t->pid, NULL, (void *)PTRACE_O_TRACEEXIT) ? -errno : 0;
}

int target_wait(struct target *t)
{
	int st;
	pid_t r;

	if (t->exited)
		return TARGET_EXITED;
	if (!t->launched) {
		struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

		if (poll(&p, 1, 0) > 0)
			t->exited = true;
		return t->exited ? TARGET_EXITED : TARGET_RUNNING;
	}
	r = waitpid(t->pid, &st, WNOHANG | __WALL);
	if (r != t->pid)
		return TARGET_RUNNING;
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		t->exited = true;
		return TARGET_EXITED;
	}
	if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_EXIT)
		return TARGET_EXITING;
	/* A signal for the target, not for us: deliver it. */
	ptrace(PTRACE_CONT, t->pid, NULL,
	       (void *)(long)((st >> 16) ? 0 : WSTOPSIG(st)));
	return TARGET_RUNNING;
}

void target_continue(struct target *t)
{
	ptrace(PTRACE_CONT, t->pid, NULL, NULL);
}

void target_close(struct target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->gate >= 0)
		close(t->gate);
	if (t->exec_err >= 0)
		close(t->exec_err);
	t->pidfd = t->gate = t->exec_err = -1;
}
