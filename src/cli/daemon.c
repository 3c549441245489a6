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
 * --listen serves each session's newest snapshot (leaktop_view_age_seconds
 * says how old); with --all the system-wide session serves live numbers.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
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
#include "serve/board.h"
#include "serve/http.h"
#include "session/run.h"
#include "store/snapdir.h"
#include "store/snapfile.h"

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
	int production;	/* sessions sample memory and say their cost */
	const char *listen;
};

struct session {
	pid_t target;	/* the traced process */
	pid_t child;	/* its leaktop trace session */
	char dir[PATH_MAX];	/* its snapshots */
	char served[PATH_MAX];	/* the snapshot file --listen serves of it */
};

static struct session sessions[MAX_SESSIONS];
static int nsessions;

static const char usage[] =
	"usage: leaktop daemon --dir DIR [--interval SECS] [--keep N]\n"
	"                      [-p PID]... [--comm NAME]... [--all [--memory]]\n"
	"                      [--listen [ADDR:]PORT] [--production]\n";

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
		{ "production", no_argument, NULL, 'P' },
		{ "listen", required_argument, NULL, 'l' },
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
		case 'P': o->production = 1; break;
		case 'l':
			o->listen = optarg;
			if (http_parse_listen(optarg, &(struct sockaddr_storage){ 0 }))
				return -EINVAL;
			break;
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
			 "--snapshot-dir", dir, "--keep", keep,
			 o->production ? "--production" : NULL, NULL };
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
	sessions[nsessions] = (struct session){ .target = target, .child = child };
	snprintf(sessions[nsessions++].dir, PATH_MAX, "%s", dir);
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
	char *argv[16] = { "leaktop", "trace", "-a", "--quiet", "-i", interval, "--snapshot-dir",
			   (char *)o->dir, "--keep", keep };
	int n = 10;

	if (o->memory)
		argv[n++] = "--memory";
	if (o->production)
		argv[n++] = "--production";
	if (o->listen) {
		argv[n++] = "--listen";
		argv[n++] = (char *)o->listen;
	}

	snprintf(interval, sizeof(interval), "%g", o->interval_s);
	snprintf(keep, sizeof(keep), "%d", o->keep);
	fprintf(stderr, "leaktop daemon: tracing every process into %s\n", o->dir);
	execv("/proc/self/exe", argv);
	fprintf(stderr, "leaktop: cannot run the system-wide session: %s\n", strerror(errno));
	return 1;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A view of each session's newest snapshot, published when one changed. */
static void publish(struct board *b)
{
	static int published = -1;
	struct view *views = calloc(nsessions + 1, sizeof(*views));
	pid_t helpers[MAX_SESSIONS];
	bool changed = published != nsessions;
	char path[PATH_MAX];
	int n = 0;

	for (int i = 0; i < nsessions; i++) {
		helpers[i] = sessions[i].child;
		if (snapdir_newest(sessions[i].dir, path, sizeof(path)))
			path[0] = '\0';
		changed |= strcmp(path, sessions[i].served) != 0;
		snprintf(sessions[i].served, sizeof(path), "%s", path);
	}
	for (int i = 0; changed && views && i < nsessions; i++) {
		struct snapfile *f;

		if (!sessions[i].served[0] || snapfile_read(sessions[i].served, &f, NULL))
			continue;
		if (!view_make(&views[n], snapfile_snapshot(f))) {
			views[n].age_s = fmax(0, wall_s() - snapfile_wall_ns(f) / 1e9);
			n++;
		}
		snapfile_free(f);
	}
	if (!changed || !views) {
		free(views);
		return;
	}
	published = nsessions;
	board_publish(b, views, n, helpers, nsessions);
}

int cmd_daemon(int argc, char **argv)
{
	struct daemon_opts o;
	struct http_server *http = NULL;
	struct board *board = NULL;
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
	sfd = session_signals();	/* first: the server's threads inherit the mask */
	if (o.listen) {	/* before any session: a port in use is bad input */
		board = board_new(false);
		http = board ? http_start(o.listen, board) : NULL;
		if (!http) {
			board_free(board);
			return EXIT_BAD_INPUT;
		}
	}
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
		if (board)
			publish(board);
		if (poll(&p, 1, 1000) > 0 && read(sfd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGCHLD)
			break;
		reap();
		if (!o.ncomms && !nsessions) {
			fprintf(stderr, "leaktop daemon: every target has exited\n");
			break;
		}
	}
	if (nsessions)
		fprintf(stderr, "leaktop daemon: stopping %d sessions\n", nsessions);
	stop_all();
	http_stop(http);
	board_free(board);
	return 0;
}
