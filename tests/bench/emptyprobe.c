// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark floor: attach empty BPF programs at the entry and the return of
 * functions of one object, for one process only, and wait.
 *
 *   emptyprobe BPF_OBJ LIB SPEC,... -p PID     until SIGINT/SIGTERM
 *   emptyprobe BPF_OBJ LIB SPEC,... -- CMD...  until CMD exits
 *
 * SPEC is SYM[+OFF][:entry]: an entry and a return probe at SYM+OFF (a
 * return probe only needs the return address at *rsp, intact at any offset
 * before the prologue moves rsp), or the entry probe alone with ":entry". bpftrace 0.17 is not used for this because it installs its probes
 * in every process that maps LIB, load generators included.
 * Prints "ready" on stderr once attached.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int attach_sym(struct bpf_object *obj, const char *lib, char *spec, pid_t pid)
{
	struct bpf_program *entry = bpf_object__find_program_by_name(obj, "empty_entry");
	struct bpf_program *ret = bpf_object__find_program_by_name(obj, "empty_return");
	char *plus = strchr(spec, '+'), *colon = strchr(spec, ':');
	size_t off = plus ? strtoul(plus + 1, NULL, 0) : 0;
	int nprobes = colon ? 1 : 2;

	if (colon && strcmp(colon, ":entry")) {
		fprintf(stderr, "emptyprobe: bad probe spec '%s'\n", spec);
		return -EINVAL;
	}
	if (colon)
		*colon = '\0';
	if (plus)
		*plus = '\0';
	for (int r = 0; r < nprobes; r++) {
		LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = spec, .retprobe = r);
		struct bpf_program *p = r ? ret : entry;

		if (!bpf_program__attach_uprobe_opts(p, pid, lib, off, &o)) {
			fprintf(stderr, "emptyprobe: cannot attach %s+%zu in %s\n", spec, off, lib);
			return -errno;
		}
	}
	return 0;
}

static int attach_all(struct bpf_object *obj, const char *lib, char *syms, pid_t pid)
{
	char *save = NULL;

	for (char *s = strtok_r(syms, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		int err = attach_sym(obj, lib, s, pid);

		if (err)
			return err;
	}
	fprintf(stderr, "ready\n");
	return 0;
}

/* The child waits on a pipe so that the probes are in place before exec. */
static int run_cmd(struct bpf_object *obj, const char *lib, char *syms, char **cmd)
{
	int fds[2], status;
	char c;
	pid_t pid;

	if (pipe(fds))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(127);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	close(fds[0]);
	if (attach_all(obj, lib, syms, pid)) {
		kill(pid, SIGKILL);
		return -EINVAL;
	}
	if (write(fds[1], "g", 1) != 1)
		return -errno;
	close(fds[1]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	int err;

	if (argc < 6 || (strcmp(argv[4], "-p") && strcmp(argv[4], "--"))) {
		fprintf(stderr, "usage: emptyprobe BPF_OBJ LIB SYM[+OFF][:entry],... (-p PID | -- CMD...)\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "emptyprobe: cannot load %s\n", argv[1]);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!strcmp(argv[4], "--"))
		return run_cmd(obj, argv[2], argv[3], argv + 5);
	err = attach_all(obj, argv[2], argv[3], atoi(argv[5]));
	if (err)
		return 1;
	while (!stop)
		pause();
	bpf_object__close(obj);
	return 0;
}
