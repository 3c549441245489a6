// SPDX-License-Identifier: GPL-2.0
/* Target processes: attach by PID or launch behind a gate. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <elf.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include "probes/elfsym.h"
#include "target/procmem.h"
#include "target/target.h"

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

/* Still the process the pidfd names (a pidfd reads ready once it exits). */
static bool alive(const struct target *t)
{
	struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

	return t->pidfd >= 0 && poll(&p, 1, 0) == 0;
}

/*
 * Exiting (PF_EXITING in the flags of /proc/PID/stat): its memory is
 * released before it becomes a zombie and its pidfd turns readable, a
 * moment in which it would look as if it had exec'ed.
 */
static bool exiting(pid_t pid)
{
	char path[64], buf[512], *p;
	unsigned long flags;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strrchr(buf, ')');	/* the name may hold anything */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return true;
	return flags & 0x4;	/* PF_EXITING */
}

/*
 * The pidfd is opened first and checked last: what was read in between
 * (executable, name, memory) belongs to that process, not to one that got
 * its PID after it exited.
 */
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
	t->pidfd = open_pidfd(pid);
	if (t->pidfd < 0 || !alive(t)) {
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
	procmem_bind(pid);
	if (!alive(t)) {
		fprintf(stderr, "leaktop: pid %d exited while leaktop attached\n", pid);
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

/*
 * A launched command stops at its exec (PTRACE_O_TRACEEXEC): from there on
 * its mappings are the program's, no longer our copy's, and its memory is
 * the one to bind to. It stays stopped until target_continue, so that
 * they can be read before it runs (and maybe execs again).
 */
static int wait_exec(struct target *t)
{
	int st;

	for (;;) {
		if (waitpid(t->pid, &st, __WALL) != t->pid)
			return -errno;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			t->exited = true;	/* killed at once: an empty report */
			return 0;
		}
		if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_EXEC)
			break;
		ptrace(PTRACE_CONT, t->pid, NULL, (void *)(long)((st >> 16) ? 0 : WSTOPSIG(st)));
	}
	procmem_bind(t->pid);
	return 0;
}

/* An attached process must have outlived the attach: the probes went to
 * whatever process had its PID when they were placed. */
static int check_attached(struct target *t)
{
	if (!alive(t) || (procmem_gone(t->pid) && exiting(t->pid))) {
		fprintf(stderr, "leaktop: pid %d exited while leaktop attached\n", t->pid);
		return -ESRCH;
	}
	if (procmem_gone(t->pid)) {
		fprintf(stderr, "leaktop: pid %d exec'ed another program while leaktop attached\n",
			t->pid);
		return -ESRCH;
	}
	return 0;
}

int target_release(struct target *t, char **argv)
{
	char go = 1, e;
	ssize_t n;

	if (!t->launched)
		return check_attached(t);
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
	return wait_exec(t);
}

void target_abort(struct target *t)
{
	int status;

	if (!t->launched || t->exited)
		return;
	if (t->gate >= 0) {
		close(t->gate);	/* the child reads EOF and exits */
		t->gate = -1;
	}
	kill(t->pid, SIGKILL);
	/* Traced for its exit event, it stops there once more: reap it, so
	 * nothing of it outlives us. */
	while (waitpid(t->pid, &status, 0) == t->pid && !WIFEXITED(status) &&
	       !WIFSIGNALED(status))
		ptrace(PTRACE_CONT, t->pid, 0, 0);
	t->exited = true;
}

/* A launched target is ptraced for its exit event: the one moment its
 * mappings can still be read after its last allocation; and for its execs. */
#define TRACE_OPTS (PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC)

/* Until target_continue it also dies with us (EXITKILL): a tracer killed
 * between the gate and the first continue would otherwise leave it to run
 * untraced (CI: kill_launched, leaktop SIGKILLed while held at exec). */
int target_trace_exit(struct target *t)
{
	return ptrace(PTRACE_SEIZE, t->pid, NULL, (void *)(TRACE_OPTS | PTRACE_O_EXITKILL)) ?
		       -errno : 0;
}

/*
 * The traced program is gone once the process runs another one: the
 * probes, the stacks and the symbols were all for the old one. The trace
 * ends there with its report; the new program runs on untraced.
 */
static int execed(struct target *t)
{
	char link[64], exe[PATH_MAX] = "?";
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", t->pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 1] = '\0';
	fprintf(stderr, "leaktop: pid %d (%s) exec'ed %s: the trace ends here, the new program "
		"runs on untraced\n", t->pid, t->comm, exe);
	t->exited = true;
	return TARGET_EXITED;
}

/* An exec the ptrace stop did not show (-p, or a thread that was not
 * traced): the bound address space went away while the process lives. */
static int check_image(struct target *t)
{
	if (!procmem_gone(t->pid) || !alive(t) || exiting(t->pid))
		return TARGET_RUNNING;
	return execed(t);
}

int target_wait(struct target *t)
{
	int st;
	pid_t r;

	if (t->exited)
		return TARGET_EXITED;
	if (!t->launched) {
		if (!alive(t)) {
			t->exited = true;
			return TARGET_EXITED;
		}
		return check_image(t);
	}
	r = waitpid(t->pid, &st, WNOHANG | __WALL);
	if (r != t->pid)
		return check_image(t);
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		t->exited = true;
		return TARGET_EXITED;
	}
	if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_EXIT)
		return TARGET_EXITING;
	if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_EXEC) {
		t->exec_stopped = true;	/* held until the probes are gone */
		return execed(t);
	}
	/* A signal for the target, not for us: deliver it. */
	ptrace(PTRACE_CONT, t->pid, NULL,
	       (void *)(long)((st >> 16) ? 0 : WSTOPSIG(st)));
	return TARGET_RUNNING;
}

static int auxv_entry(pid_t pid, uint64_t *entry)
{
	uint64_t av[2];
	char path[64];
	int fd, err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (read(fd, av, sizeof(av)) == sizeof(av) && av[0] != AT_NULL) {
		if (av[0] == AT_ENTRY) {
			*entry = av[1];
			err = 0;
			break;
		}
	}
	close(fd);
	return err;
}

/* Continue to the breakpoint at entry, passing signals on; 0 there. */
static int wait_trap(struct target *t, uint64_t entry)
{
	struct user_regs_struct regs;
	long sig = 0;
	int st;

	for (;;) {
		if (ptrace(PTRACE_CONT, t->pid, NULL, (void *)sig) && errno != ESRCH)
			return -errno;
		sig = 0;
		if (waitpid(t->pid, &st, __WALL) != t->pid)
			return -errno;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			t->exited = true;
			return -ESRCH;
		}
		if (!WIFSTOPPED(st) || (st >> 16) == PTRACE_EVENT_EXIT)
			return -ESRCH;
		if (WSTOPSIG(st) != SIGTRAP || (st >> 16)) {
			if (!(st >> 16))	/* a signal for the target */
				sig = WSTOPSIG(st);
			continue;
		}
		if (ptrace(PTRACE_GETREGS, t->pid, NULL, &regs))
			return -errno;
		if (regs.rip - 1 != entry)
			continue;
		regs.rip = entry;
		return ptrace(PTRACE_SETREGS, t->pid, NULL, &regs) ? -errno : 0;
	}
}

int target_run_to_entry(struct target *t)
{
	uint64_t entry = 0;
	long word;
	int err;

	if (!t->launched || t->exited || auxv_entry(t->pid, &entry))
		return -ENOENT;
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, t->pid, (void *)entry, NULL);
	if (errno)
		return -errno;
	if (ptrace(PTRACE_POKETEXT, t->pid, (void *)entry, (void *)((word & ~0xffL) | 0xcc)))
		return -errno;
	err = wait_trap(t, entry);
	if (!t->exited)
		ptrace(PTRACE_POKETEXT, t->pid, (void *)entry, (void *)word);
	return err;
}

/* Running, it outlives us. */
void target_continue(struct target *t)
{
	ptrace(PTRACE_SETOPTIONS, t->pid, NULL, (void *)TRACE_OPTS);
	ptrace(PTRACE_CONT, t->pid, NULL, NULL);
}

void target_close(struct target *t)
{
	if (t->exec_stopped)
		ptrace(PTRACE_DETACH, t->pid, NULL, NULL);
	t->exec_stopped = false;
	procmem_close();
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->gate >= 0)
		close(t->gate);
	if (t->exec_err >= 0)
		close(t->exec_err);
	t->pidfd = t->gate = t->exec_err = -1;
}
