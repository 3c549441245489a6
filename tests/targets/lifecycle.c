// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle: a process that changes under the tracer.
 *
 * Usage: lifecycle MODE [--wait] [--hold SECS]
 *
 * Every mode does its work once the --wait handshake is over (at once
 * without --wait), prints "done" on stdout, then waits for a line or EOF
 * on stdin (with --wait) or sleeps --hold SECS, and exits 0.
 *
 *   dlopen    loads libdl_leak.so (next to argv[0]) with dlopen and calls
 *             dl_leak(): DL_LEAK_COUNT (150) blocks of DL_LEAK_SIZE (3000)
 *             bytes at dl_leak_site, in the library.
 *   dlpause   as dlopen, but prints "loaded" after dlopen and reads one
 *             more line from stdin before calling dl_leak() (the test
 *             replaces the library file on disk meanwhile).
 *   fork      fork()s: the child leaks CHILD_COUNT (300) x CHILD_SIZE (700)
 *             bytes at child_leak and exits 0; the parent waits for it,
 *             then leaks PARENT_COUNT (100) x PARENT_SIZE (1000) bytes at
 *             parent_leak.
 *   exec      leaks PARENT_COUNT x BEFORE_SIZE (1100) at before_exec, then
 *             execs itself as "lifecycle after": the new program leaks
 *             AFTER_COUNT (120) x AFTER_SIZE (1500) bytes at after_exec,
 *             prints "after done" and exits 0 (EOF on stdin or --hold).
 *
 * Only raw syscalls print (common.h): stdio would allocate.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common.h"
#include "dl_leak.h"

#define CHILD_COUNT	300
#define CHILD_SIZE	700
#define PARENT_COUNT	100
#define PARENT_SIZE	1000
#define BEFORE_SIZE	1100
#define AFTER_COUNT	120
#define AFTER_SIZE	1500

static void *keep[CHILD_COUNT];

static NOINLINE void child_leak(void)
{
	for (int i = 0; i < CHILD_COUNT; i++)
		keep[i] = malloc(CHILD_SIZE);
	BARRIER();
}

static NOINLINE void parent_leak(void)
{
	for (int i = 0; i < PARENT_COUNT; i++)
		keep[i] = malloc(PARENT_SIZE);
	BARRIER();
}

static NOINLINE void before_exec(void)
{
	for (int i = 0; i < PARENT_COUNT; i++)
		keep[i] = malloc(BEFORE_SIZE);
	BARRIER();
}

static NOINLINE void after_exec(void)
{
	for (int i = 0; i < AFTER_COUNT; i++)
		keep[i] = malloc(AFTER_SIZE);
	BARRIER();
}

static void die(const char *what)
{
	tgt_write(2, "lifecycle: ");
	tgt_write(2, what);
	tgt_write(2, "\n");
	exit(1);
}

static void read_line(void)
{
	char c;

	while (read(0, &c, 1) == 1 && c != '\n')
		;
}

/* The library lives next to the executable. */
static void *load_lib(const char *argv0)
{
	char path[4096];
	const char *slash = strrchr(argv0, '/');
	int dir = slash ? (int)(slash - argv0) : 1;
	void *h;

	snprintf(path, sizeof(path), "%.*s/libdl_leak.so", dir, slash ? argv0 : ".");
	h = dlopen(path, RTLD_NOW);
	if (!h)
		die(dlerror());
	return h;
}

static void run_dlopen(const char *argv0, int pause)
{
	void *h = load_lib(argv0);
	void (*fn)(void) = (void (*)(void))dlsym(h, "dl_leak");

	if (!fn)
		die("dl_leak not found");
	if (pause) {
		tgt_write(1, "loaded\n");
		read_line();
	}
	fn();
}

static void run_fork(void)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		die("fork failed");
	if (pid == 0) {
		child_leak();
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		die("child failed");
	parent_leak();
}

static void run_exec(const char *argv0, char **rest)
{
	char *argv[8] = { (char *)argv0, "after" };
	int n = 2;

	before_exec();
	for (; *rest && n < 7; rest++)
		if (strcmp(*rest, "--wait") != 0)	/* no second handshake */
			argv[n++] = *rest;
	argv[n] = NULL;
	execv(argv0, argv);
	die("exec failed");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "after")) {
		target_start(argc - 1, argv + 1, 0);
		after_exec();
		tgt_write(1, "after done\n");
		read_line();
		target_finish();
		return 0;
	}
	target_start(argc - 1, argv + 1, 0);
	if (!strcmp(mode, "dlopen") || !strcmp(mode, "dlpause"))
		run_dlopen(argv[0], mode[2] == 'p');
	else if (!strcmp(mode, "fork"))
		run_fork();
	else if (!strcmp(mode, "exec"))
		run_exec(argv[0], argv + 2);
	else
		die("usage: lifecycle dlopen|dlpause|fork|exec [--wait] [--hold SECS]");
	tgt_write(1, "done\n");
	if (tgt_opts.wait)
		read_line();
	target_finish();
	return 0;
}
