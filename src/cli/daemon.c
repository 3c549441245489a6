// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon supervises one trace session per target: a child leaktop
 * (this same binary) with --snapshot-dir DIR/COMM-PID, --keep and --quiet.
 * Targets come from -p (fixed PIDs) and --comm (executable names, found
 * again every interval, so restarted processes are followed). --all is
 * one system-wide session instead (trace -a, session/system.c): one set of
 * programs for the whole machine rather than one per process.
 * A session ends with its target; SIGTERM/SIGINT stop every session, each
 * writing a last snapshot. It runs in the foreground and logs to stderr,
 * as systemd expects (scripts/leaktop.service).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cli/options.h"
#include "cli/daemon.h"
#include "session/run.h"

#define MAX_SESSIONS 256
#define MAX_NAMES 32

struct daemon_opts {
	const char *dir;
	double interval_s;
	int keep;
	pid_t pids[MAX_NAMES];
	int npids;
	const char *comms[MAX_NAMES];
	int ncomms;
	int all;
	int memory;	/* with --all: trace native memory too (heavy) */
};

struct session {
	pid_t target;	/* the traced process */
	pid_t child;	/* its leaktop trace session */
};

static struct session sessions[MAX_SESSIONS];
static int nsessions;

static const char usage[] =
	"usage: leaktop daemon --dir DIR [--interval SECS] [--keep N]\n"
	"                      [-p PID]... [--comm NAME]... [--all [--memory]]\n";

static int parse(int argc, char **argv, struct daemon_opts *o)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "interval", required_argument, NULL, 'i' },
		{ "keep", required_argument, NULL, 'k' },
		{ "pid", required_argument, NULL, 'p' },
		{ "comm", required_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'a' },
		{ "memory", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->interval_s = 60;
	o->keep = 100;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D': o->dir = optarg; break;
		case 'i':
			o->interval_s = strtod(optarg, &end);
			if (*end || o->interval_s <= 0)
				goto bad;
			break;
		case 'k':
			o->keep = strtol(optarg, &end, 10);
			if (*end || o->keep < 1)
				goto bad;
			break;
		case 'p':
			if (o->npids == MAX_NAMES)
				goto bad;
			o->pids[o->npids] = strtol(optarg, &end, 10);
			if (*end || o->pids[o->npids++] <= 0)
				goto bad;
			break;
		case 'c':
			if (o->ncomms == MAX_NAMES)
				goto bad;
			o->comms[o->ncomms++] = optarg;
			break;
		case 'a': o->all = 1; break;
		case 'm': o->memory = 1; break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			goto bad;
		}
	}
	if (o->all && (o->npids || o->ncomms))
		goto bad;
	if (o->memory && !o->all)
		goto bad;
	if (o->dir && optind == argc && (o->npids || o->ncomms || o->all))
		return 0;
bad:
	fprintf(stderr, "leaktop: daemon needs --dir DIR and targets: -p and --comm, or --all "
		"[--memory]\n");
	return -EINVAL;
}

static int read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return ok ? 0 : -EIO;
}

static struct session *session_of(pid_t target)
{
	for (int i = 0; i < nsessions; i++)
		if (sessions[i].target == target)
			return &sessions[i];
	return NULL;
}

/* Start a trace session for target, unless one runs already. */
static void start_session(const struct daemon_opts *o, pid_t target)
{
	char comm[64] = "?", dir[PATH_MAX], pid[16], interval[32], keep[16];
	char *argv[] = { "leaktop", "trace", "--quiet", "-p", pid, "-i", interval,
			 "--snapshot-dir", dir, "--keep", keep, NULL };
	pid_t child, parent = getpid();

	if (session_of(target) || nsessions == MAX_SESSIONS || target == getpid())
		return;
	if (read_comm(target, comm, sizeof(comm)))
		return;
	snprintf(dir, sizeof(dir), "%s/%s-%d", o->dir, comm, target);
	snprintf(pid, sizeof(pid), "%d", target);
	snprintf(interval, sizeof(interval), "%g", o->interval_s);
	snprintf(keep, sizeof(keep), "%d", o->keep);
	child = fork();
	if (child == 0) {
		/* A session must not outlive the daemon, even one killed:
		 * SIGTERM makes it write its last snapshot and detach. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	if (child < 0)
		return;
	sessions[nsessions++] = (struct session){ .target = target, .child = child };
	fprintf(stderr, "leaktop daemon: tracing %s (pid %d) into %s\n", comm, target, dir);
}

static int wanted(const struct daemon_opts *o, pid_t pid)
{
	char comm[64];

	if (read_comm(pid, comm, sizeof(comm)))
		return 0;
	for (int i = 0; i < o->ncomms; i++)
		if (strcmp(comm, o->comms[i]) == 0)
			return 1;
	return 0;
}

/* Find targets by name (again every interval: they restart). */
static void scan(const struct daemon_opts *o)
{
	DIR *d;
	struct dirent *e;

	if (!o->ncomms)
		return;
	d = opendir("/proc");
	while (d && (e = readdir(d))) {
		pid_t pid = strtol(e->d_name, NULL, 10);

		if (pid > 0 && pid != getpid() && getppid() != pid && !session_of(pid) &&
		    wanted(o, pid))
			start_session(o, pid);
	}
	if (d)
		closedir(d);
}

/* Forget sessions that ended (their target exited, or they failed). */
static void reap(void)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (int i = 0; i < nsessions; i++)
			if (sessions[i].child == pid) {
				fprintf(stderr, "leaktop daemon: session for pid %d ended (%d)\n",
					sessions[i].target,
					WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
				sessions[i] = sessions[--nsessions];
				break;
			}
}

static void stop_all(void)
{
	for (int i = 0; i < nsessions; i++)
		kill(sessions[i].child, SIGTERM);
	while (nsessions > 0 && wait(NULL) > 0)
		reap();
	while (waitpid(-1, NULL, 0) > 0)
		;
}

/* --all: this process becomes the system-wide session; its snapshots go
 * to DIR/COMM-PID as the per-process sessions' do. */
static int run_system(const struct daemon_opts *o)
{
	char interval[32], keep[16];
	char *argv[] = { "leaktop", "trace", "-a", "--quiet", "-i", interval, "--snapshot-dir",
			 (char *)o->dir, "--keep", keep, o->memory ? "--memory" : NULL, NULL };

	snprintf(interval, sizeof(interval), "%g", o->interval_s);
	snprintf(keep, sizeof(keep), "%d", o->keep);
	fprintf(stderr, "leaktop daemon: tracing every process into %s\n", o->dir);
	execv("/proc/self/exe", argv);
	fprintf(stderr, "leaktop: cannot run the system-wide session: %s\n", strerror(errno));
	return 1;
}

int cmd_daemon(int argc, char **argv)
{
	struct daemon_opts o;
	int sfd, err = parse(argc, argv, &o);

	if (err)
		return err > 0 ? 0 : EXIT_BAD_INPUT;
	if (mkdir(o.dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "leaktop: cannot create %s: %s\n", o.dir, strerror(errno));
		return EXIT_BAD_INPUT;
	}
	chmod(o.dir, 0700);
	if (o.all)
		return run_system(&o);
	sfd = session_signals();
	for (int i = 0; i < o.npids; i++)
		start_session(&o, o.pids[i]);
	if (!o.ncomms && !nsessions) {
		fprintf(stderr, "leaktop: none of the given processes exists\n");
		return EXIT_BAD_INPUT;
	}
	for (;;) {
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		struct signalfd_siginfo si;

		scan(&o);
		if (poll(&p, 1, 1000) > 0 && read(sfd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGCHLD)
			break;
		reap();
		if (!o.ncomms && !nsessions) {
			fprintf(stderr, "leaktop daemon: every target has exited\n");
			return 0;
		}
	}
	fprintf(stderr, "leaktop daemon: stopping %d sessions\n", nsessions);
	stop_all();
	return 0;
}
