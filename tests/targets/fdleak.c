// SPDX-License-Identifier: GPL-2.0
/*
 * fdleak: file-descriptor leaks of three kinds next to balanced fd traffic.
 *
 * Options (besides --wait and --hold of common.h):
 *   --seconds N  run N seconds of rounds (default 4, at most 40, which
 *                keeps every leaked fd under the usual limit of 1024)
 *
 * Before "ready", open_early_eventfds() opens PRE_EVENTFDS (3) eventfds
 * with eventfd(0, 0) and keeps them: they exist before a tracer attaches
 * with -p.  After --wait's go (if any), start_listener() opens a TCP
 * listener on 127.0.0.1, ephemeral port, which stays open to the end.
 * Then ROUNDS_PER_S (5) rounds a second, for N seconds, on an absolute
 * schedule (rounds at 0, 0.2, ..., N - 0.2 s), each call from its own
 * NOINLINE function, in this order:
 *   leak_file            open(FILE, O_RDONLY), kept          1 fd
 *   leak_tcp             socket(AF_INET, SOCK_STREAM) and
 *                        connect() to the listener, kept     1 fd
 *     accept_and_close   accept4() on the listener, closed   0 fds
 *   leak_pipe            pipe(), both ends kept              2 fds
 *   balanced_file        open, read a few bytes, close       0 fds
 *   balanced_socketpair  socketpair(AF_UNIX, SOCK_STREAM),
 *                        1 byte across, both ends closed     0 fds
 * FILE is /etc/hostname, or /etc/passwd if there is none (chosen once,
 * with access(), so no open() ever fails).
 *
 * Then main writes, in one write(2) to stdout,
 *   "fdleak files=F tcp=T pipes=P early=3\n"
 * sleeps --hold SECS and exits 0 without closing anything.
 *
 * Ground truth, default run (N = 4, R = 5 * N = 20 rounds): F = R (20)
 * at leak_file, T = R (20) at leak_tcp, P = 2 * R (40) at leak_pipe, 3 at
 * open_early_eventfds (opened before attaching), 1 listening socket at
 * start_listener; nothing outstanding at accept_and_close, balanced_file
 * or balanced_socketpair.  Any failing syscall: one line on stderr, exit 1.
 */
#define _GNU_SOURCE	/* accept4 */
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "common.h"

#define PRE_EVENTFDS	3
#define ROUNDS_PER_S	5
#define PERIOD_MS	(1000 / ROUNDS_PER_S)
#define MAX_SECONDS	40
#define MAX_ROUNDS	(MAX_SECONDS * ROUNDS_PER_S)
#define READ_BYTES	8

static const char *file_path;
static int listen_fd = -1;
static struct sockaddr_in listen_addr;

/* The kept fds: never closed. */
int early_fds[PRE_EVENTFDS];
int file_fds[MAX_ROUNDS];
int tcp_fds[MAX_ROUNDS];
int pipe_fds[MAX_ROUNDS][2];
static unsigned int n_files, n_tcp, n_pipes;

/* Decimal of v into buf (at least 11 bytes), NUL-terminated. */
static char *utoa(unsigned int v, char *buf)
{
	char tmp[10];
	int n = 0, i = 0;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		buf[i++] = tmp[--n];
	buf[i] = '\0';
	return buf;
}

/* Append s at *pos in buf; the caller sizes buf. */
static void put(char *buf, size_t *pos, const char *s)
{
	size_t len = strlen(s);

	memcpy(buf + *pos, s, len);
	*pos += len;
	buf[*pos] = '\0';
}

static void die(const char *what)
{
	char num[12];
	char line[128];
	size_t pos = 0;

	line[0] = '\0';
	put(line, &pos, "fdleak: ");
	put(line, &pos, what);
	put(line, &pos, " failed (errno ");
	put(line, &pos, utoa((unsigned int)errno, num));
	put(line, &pos, ")\n");
	tgt_write(2, line);
	exit(1);
}

static void usage(void)
{
	tgt_write(2, "usage: fdleak [--seconds N] [--wait] [--hold SECS]\n");
	exit(2);
}

NOINLINE void open_early_eventfds(void)
{
	int i;

	for (i = 0; i < PRE_EVENTFDS; i++) {
		early_fds[i] = eventfd(0, 0);
		if (early_fds[i] < 0)
			die("eventfd");
	}
	BARRIER();
}

NOINLINE void start_listener(void)
{
	socklen_t len = sizeof(listen_addr);

	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0)
		die("socket (listener)");
	memset(&listen_addr, 0, sizeof(listen_addr));
	listen_addr.sin_family = AF_INET;
	listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_addr.sin_port = 0;
	if (bind(listen_fd, (struct sockaddr *)&listen_addr, sizeof(listen_addr)))
		die("bind");
	if (listen(listen_fd, 16))
		die("listen");
	if (getsockname(listen_fd, (struct sockaddr *)&listen_addr, &len))
		die("getsockname");
	BARRIER();
}

NOINLINE void accept_and_close(void)
{
	int fd;

	do
		fd = accept4(listen_fd, NULL, NULL, 0);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		die("accept4");
	if (close(fd))
		die("close (accepted)");
	BARRIER();
}

NOINLINE void leak_file(void)
{
	int fd = open(file_path, O_RDONLY);

	if (fd < 0)
		die("open (leak_file)");
	file_fds[n_files++] = fd;
	BARRIER();
}

NOINLINE void leak_tcp(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket (leak_tcp)");
	if (connect(fd, (struct sockaddr *)&listen_addr, sizeof(listen_addr)))
		die("connect");
	BARRIER();
	tcp_fds[n_tcp++] = fd;
	accept_and_close();
	BARRIER();
}

NOINLINE void leak_pipe(void)
{
	if (pipe(pipe_fds[n_pipes / 2]))
		die("pipe");
	n_pipes += 2;
	BARRIER();
}

NOINLINE void balanced_file(void)
{
	char buf[READ_BYTES];
	ssize_t n;
	int fd = open(file_path, O_RDONLY);

	if (fd < 0)
		die("open (balanced_file)");
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die("read (balanced_file)");
	if (close(fd))
		die("close (balanced_file)");
	BARRIER();
}

NOINLINE void balanced_socketpair(void)
{
	int sv[2];
	char c = 'x';
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair");
	do
		n = write(sv[0], &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		die("write (socketpair)");
	do
		n = read(sv[1], &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		die("read (socketpair)");
	if (close(sv[0]) || close(sv[1]))
		die("close (socketpair)");
	BARRIER();
}

NOINLINE void run_rounds(unsigned int seconds)
{
	struct timespec next;
	unsigned int i;

	clock_gettime(CLOCK_MONOTONIC, &next);
	/* One call site per function: one stack per kind. */
#pragma GCC unroll 1
	for (i = 0; i < seconds * ROUNDS_PER_S; i++) {
		leak_file();
		BARRIER();
		leak_tcp();
		BARRIER();
		leak_pipe();
		BARRIER();
		balanced_file();
		BARRIER();
		balanced_socketpair();
		BARRIER();
		tgt_next_round(&next, PERIOD_MS);
	}
}

static void report(void)
{
	char num[12];
	char line[128];
	size_t pos = 0;

	line[0] = '\0';
	put(line, &pos, "fdleak files=");
	put(line, &pos, utoa(n_files, num));
	put(line, &pos, " tcp=");
	put(line, &pos, utoa(n_tcp, num));
	put(line, &pos, " pipes=");
	put(line, &pos, utoa(n_pipes, num));
	put(line, &pos, " early=");
	put(line, &pos, utoa(PRE_EVENTFDS, num));
	put(line, &pos, "\n");
	tgt_write(1, line);
}

int main(int argc, char **argv)
{
	char *rest[argc + 1];
	int i, nrest = 1;
	unsigned int seconds = 4;

	/* Own options out, the common ones on to target_start(). */
	rest[0] = argv[0];
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 0 || v > MAX_SECONDS)
				usage();
			seconds = (unsigned int)v;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	rest[nrest] = NULL;

	file_path = access("/etc/hostname", R_OK) ? "/etc/passwd" : "/etc/hostname";
	open_early_eventfds();
	BARRIER();
	target_start(nrest, rest, 0);
	start_listener();
	BARRIER();
	run_rounds(seconds);
	BARRIER();
	report();
	target_finish();
	return 0;
}
