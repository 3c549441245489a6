// SPDX-License-Identifier: GPL-2.0
/* Parse and validate the command line; --help reads like a man page. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/options.h"
#include "serve/http.h"

static const char usage_text[] =
"NAME\n"
"    leaktop - show what a running process leaks\n"
"\n"
"SYNOPSIS\n"
"    leaktop [trace] [OPTIONS] -p PID\n"
"    leaktop [trace] [OPTIONS] -- CMD [ARGS...]\n"
"    leaktop [trace] [OPTIONS] -a [--memory]\n"
"    leaktop top [OPTIONS] -p PID | -- CMD [ARGS...] | -a\n"
"    leaktop report SNAPSHOT [--json F] [--folded F] [--pprof F] [--svg F]\n"
"    leaktop diff OLD NEW [--json F]\n"
"    leaktop daemon --dir DIR [--interval S] [--keep N] [-p PID]... [--comm NAME]...\n"
"    leaktop daemon --dir DIR [--interval S] [--keep N] --all [--memory]\n"
"                   (either form: [--listen [ADDR:]PORT] [--production])\n"
"    leaktop check [--json]   (kernel features: present, missing, what each costs)\n"
"\n"
"DESCRIPTION\n"
"    leaktop traces the native heap and anonymous mmap allocations of one\n"
"    process with uprobes and BPF, and shows the allocations that are still\n"
"    outstanding, grouped by call stack and sorted by bytes. It attaches to a\n"
"    running process with -p, or starts CMD and traces it from its first\n"
"    allocation. It hooks the object that provides malloc to the process\n"
"    (glibc, jemalloc, tcmalloc, a static allocator...).\n"
"\n"
"    It also follows the process's threads: threads that exited but were\n"
"    never joined nor detached (by creation site, with the stack memory they\n"
"    pin), threads asleep longer than --min-block (by blocking stack, unwound\n"
"    with DWARF CFI, and creation site), and live threads per creation site.\n"
"    A group is called a leak when its creation site's thread count keeps\n"
"    rising, when threads stay unjoined past --min-block, or when they wait\n"
"    on a lock that long; an idle pool of a fixed size is not. Threads that\n"
"    were already asleep when leaktop attached are found by a census.\n"
"\n"
"    leaktop top shows the same groups on a live full-screen view, refreshed\n"
"    every second, the likely leaks first: m memory, t threads, g goroutines,\n"
"    f fds, a all; s changes the sort (leaks, size, growth, age); arrows and\n"
"    Enter open a group's full stack; q quits (writing --json if given).\n"
"\n"
"    With --listen, leaktop serves what it traces over HTTP, as a Go service\n"
"    does: /metrics (Prometheus text format), /debug/pprof/heap and\n"
"    /debug/pprof/goroutine (go tool pprof, Parca, Pyroscope), ?pid= picking\n"
"    the process with -a or the daemon.\n"
"\n"
"    It stops on Ctrl-C,\n"
"    SIGTERM, the end of --duration or the exit of the process, and prints a\n"
"    final report in every case. Needs root (CAP_BPF, CAP_PERFMON and\n"
"    CAP_SYS_ADMIN on kernels that split them).\n"
"\n"
"OPTIONS\n"
"    -p, --pid PID        attach to the running process PID\n"
"    -a, --all            trace every process (threads, goroutines, fds; native\n"
"                         memory with --memory), tables grouped per process\n"
"        --memory         with -a: trace native memory of every process too:\n"
"                         every malloc and free of the machine takes a trap,\n"
"                         so it is sampled (--sample-bytes 512K) by default\n"
"        --sample-bytes N track one allocation per N bytes on average\n"
"                         (Poisson sampling, K/M/G suffixes; 0: all, the\n"
"                         default with -p and CMD) and scale the estimates\n"
"    -d, --duration SECS  stop after SECS seconds and print the final report\n"
"    -i, --interval SECS  also print the table every SECS seconds\n"
"    -n, --top N          show the N largest sites (default 10)\n"
"        --min-age SECS   count only allocations older than SECS (default 0)\n"
"        --json FILE      write the final report as JSON to FILE; '-' writes it\n"
"                         to standard output and the tables to standard error\n"
"        --folded FILE    the final report as folded stacks (flamegraph.pl,\n"
"                         speedscope); memory weighted by --weight\n"
"        --pprof FILE     memory and Go heap of the final report as a gzipped\n"
"                         heap profile.proto for go tool pprof (-top, -traces,\n"
"                         -diff_base)\n"
"        --pprof-counts FILE  threads and goroutines as a count profile\n"
"        --svg FILE       the final report as a flame graph\n"
"        --weight W       bytes (default) or count, for memory in --folded/--svg\n"
"        --snapshot-dir DIR  store a snapshot at every report (-i) in DIR\n"
"                         (mode 0700); read them with leaktop report/diff\n"
"        --keep N         keep the newest N snapshots in DIR (default: all)\n"
"        --quiet          print no tables\n"
"        --listen [ADDR:]PORT  serve /metrics and /debug/pprof/ over HTTP at\n"
"                         ADDR (default 127.0.0.1; [::1]:PORT for IPv6)\n"
"        --no-memory      do not trace native memory (threads, goroutines only)\n"
"        --no-fds         do not trace file descriptors\n"
"        --kernel         also trace kernel memory (slab, pages, per-CPU) by\n"
"                         kernel stack: allocated in the process's context, or\n"
"                         every process's with -a or with no target\n"
"        --max-fds N      open fds followed at once (default 262144)\n"
"        --max-allocs N   outstanding allocations tracked (default 1048576);\n"
"                         more are counted as lost events, never dropped silently\n"
"        --max-stacks N   distinct allocation stacks kept (default 65536)\n"
"        --min-block SECS threads asleep this long are reported as blocked\n"
"                         (default 5)\n"
"        --max-threads N  threads followed at once (default 16384)\n"
"        --frame-pointers walk stacks by frame pointers only, without the\n"
"                         CFI tables (.eh_frame) that complete stacks through\n"
"                         code built without them\n"
"    -v, --verbose        say which object and offset each probe is placed at\n"
"    -h, --help           show this help\n"
"        --version        show the version\n"
"\n"
"EXIT STATUS\n"
"    0 success; 2 bad usage or bad input (no such process, not an ELF\n"
"    executable, command not found); 1 any other failure.\n"
"\n"
"EXAMPLES\n"
"    leaktop -p 1234 -i 5             tables every 5 s until Ctrl-C\n"
"    leaktop -d 30 --json out.json -- ./server --port 8080\n"
"\n"
"    JSON schema: docs/json-report.md in the source tree.\n";

enum { OPT_MIN_AGE = 256, OPT_JSON, OPT_MAX_ALLOCS, OPT_MAX_STACKS, OPT_VERSION, OPT_MIN_BLOCK,
       OPT_MAX_THREADS, OPT_FOLDED, OPT_PPROF, OPT_SVG, OPT_WEIGHT, OPT_SNAPDIR, OPT_KEEP,
       OPT_QUIET, OPT_NO_MEMORY, OPT_PPROF_COUNTS, OPT_MEMORY, OPT_SAMPLE_BYTES,
       OPT_FRAME_POINTERS, OPT_NO_FDS, OPT_MAX_FDS, OPT_KERNEL, OPT_LISTEN, OPT_PRODUCTION };

static const struct option longopts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "all", no_argument, NULL, 'a' },
	{ "memory", no_argument, NULL, OPT_MEMORY },
	{ "sample-bytes", required_argument, NULL, OPT_SAMPLE_BYTES },
	{ "production", no_argument, NULL, OPT_PRODUCTION },
	{ "duration", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, 'i' },
	{ "top", required_argument, NULL, 'n' },
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "folded", required_argument, NULL, OPT_FOLDED },
	{ "pprof", required_argument, NULL, OPT_PPROF },
	{ "pprof-counts", required_argument, NULL, OPT_PPROF_COUNTS },
	{ "svg", required_argument, NULL, OPT_SVG },
	{ "weight", required_argument, NULL, OPT_WEIGHT },
	{ "snapshot-dir", required_argument, NULL, OPT_SNAPDIR },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "no-memory", no_argument, NULL, OPT_NO_MEMORY },
	{ "no-fds", no_argument, NULL, OPT_NO_FDS },
	{ "kernel", no_argument, NULL, OPT_KERNEL },
	{ "max-fds", required_argument, NULL, OPT_MAX_FDS },
	{ "max-allocs", required_argument, NULL, OPT_MAX_ALLOCS },
	{ "max-stacks", required_argument, NULL, OPT_MAX_STACKS },
	{ "min-block", required_argument, NULL, OPT_MIN_BLOCK },
	{ "max-threads", required_argument, NULL, OPT_MAX_THREADS },
	{ "frame-pointers", no_argument, NULL, OPT_FRAME_POINTERS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "leaktop: invalid %s '%s' (try --help)\n", what, arg);
	return -EINVAL;
}

static int parse_secs(const char *arg, const char *what, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0)
		return bad(what, arg);
	*out = v;
	return 0;
}

static int parse_uint(const char *arg, const char *what, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		return bad(what, arg);
	*out = v;
	return 0;
}

int options_parse_size(const char *arg, int64_t *out)
{
	static const char units[] = "KMG";
	char *end;
	long long v;
	const char *u;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || v < 0)
		return bad("size", arg);
	if (*end && (u = strchr(units, *end))) {
		for (int i = 0; i <= u - units; i++) {
			if (v > (1LL << 40))
				return bad("size", arg);
			v <<= 10;
		}
		end++;
		if (*end == 'i')	/* KiB, MiB... */
			end++;
		if (*end == 'B')
			end++;
	}
	if (*end)
		return bad("size", arg);
	*out = v;
	return 0;
}

static int parse_one(int c, const char *arg, struct options *o)
{
	long v = 0;
	int err = 0;

	switch (c) {
	case 'p':
		err = parse_uint(arg, "PID", 1, 0x7fffffff, &v);
		o->pid = v;
		return err;
	case 'd':
		err = parse_secs(arg, "duration", &o->duration_s);
		return err ? err : o->duration_s > 0 ? 0 : bad("duration", arg);
	case 'i':
		err = parse_secs(arg, "interval", &o->interval_s);
		return err ? err : o->interval_s > 0 ? 0 : bad("interval", arg);
	case 'n':
		err = parse_uint(arg, "top count", 1, 1000000, &v);
		o->top = v;
		return err;
	case 'v':
		o->verbose = 1;
		return 0;
	case 'a':
		o->all = 1;
		return 0;
	case OPT_MEMORY:
		o->memory = 1;
		return 0;
	case OPT_SAMPLE_BYTES:
		return options_parse_size(arg, &o->sample_bytes);
	case OPT_PRODUCTION:
		o->production = 1;
		return 0;
	case OPT_MIN_AGE:
		return parse_secs(arg, "minimum age", &o->min_age_s);
	case OPT_JSON:
		o->out.json = arg;
		return 0;
	case OPT_FOLDED:
		o->out.folded = arg;
		return 0;
	case OPT_PPROF:
		o->out.pprof = arg;
		return 0;
	case OPT_PPROF_COUNTS:
		o->out.pprof_counts = arg;
		return 0;
	case OPT_SVG:
		o->out.svg = arg;
		return 0;
	case OPT_WEIGHT:
		return export_parse_weight(arg, &o->out.weight) ? bad("weight", arg) : 0;
	case OPT_SNAPDIR:
		o->snapshot_dir = arg;
		return 0;
	case OPT_KEEP:
		err = parse_uint(arg, "--keep", 0, 1000000, &v);
		o->keep = v;
		return err;
	case OPT_QUIET:
		o->quiet = 1;
		return 0;
	case OPT_LISTEN:
		o->listen = arg;
		return http_parse_listen(arg, &(struct sockaddr_storage){ 0 });
	case OPT_NO_MEMORY:
		o->no_memory = 1;
		return 0;
	case OPT_FRAME_POINTERS:
		o->fp_only = 1;
		return 0;
	case OPT_NO_FDS:
		o->no_fds = 1;
		return 0;
	case OPT_KERNEL:
		o->kernel = 1;
		return 0;
	case OPT_MAX_FDS:
		err = parse_uint(arg, "--max-fds", 1, 1L << 24, &v);
		o->max_fds = v;
		return err;
	case OPT_MAX_ALLOCS:
		err = parse_uint(arg, "--max-allocs", 1, 1L << 27, &v);
		o->max_allocs = v;
		return err;
	case OPT_MIN_BLOCK:
		return parse_secs(arg, "minimum block time", &o->min_block_s);
	case OPT_MAX_THREADS:
		err = parse_uint(arg, "--max-threads", 1, 1L << 22, &v);
		o->max_threads = v;
		return err;
	case OPT_MAX_STACKS:
		err = parse_uint(arg, "--max-stacks", 1, 1L << 22, &v);
		o->max_stacks = v;
		return err;
	}
	fprintf(stderr, "leaktop: unknown option (try --help)\n");
	return -EINVAL;
}

int options_parse(int argc, char **argv, struct options *o)
{
	int c, err;

	memset(o, 0, sizeof(*o));
	o->top = 10;
	o->max_allocs = 1 << 20;
	o->max_stacks = 1 << 16;
	o->min_block_s = 5;
	o->max_threads = 1 << 14;
	o->max_fds = 1 << 18;
	o->sample_bytes = -1;
	opterr = 0;
	/* '+': stop at the command's first word, its options are its own. */
	while ((c = getopt_long(argc, argv, "+p:d:i:n:avh", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		if (c == OPT_VERSION) {
			printf("leaktop %s\n", LEAKTOP_VERSION);
			return 1;
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, "leaktop: bad option '%s' (try --help)\n", argv[optind - 1]);
			return -EINVAL;
		}
		err = parse_one(c, optarg ? optarg : "", o);
		if (err)
			return err;
	}
	if (optind < argc)
		o->cmd = &argv[optind];
	if (!!o->pid + !!o->cmd + o->all > 1) {
		fprintf(stderr, "leaktop: give one of -p PID, -a or a command\n");
		return -EINVAL;
	}
	/* Kernel memory with no process named: every process's (bcc
	 * memleak's default mode), grouped per process. */
	if (o->kernel && !o->pid && !o->cmd)
		o->all = 1;
	if (!o->pid && !o->cmd && !o->all) {
		fprintf(stderr, "leaktop: no target: give -p PID, -a or -- CMD (try --help)\n");
		return -EINVAL;
	}
	if (o->all && (o->out.folded || o->out.pprof || o->out.pprof_counts || o->out.svg)) {
		fprintf(stderr, "leaktop: -a writes --json only (per process: use daemon and report)\n");
		return -EINVAL;
	}
	if (o->production && o->all && !o->no_memory)
		o->memory = 1;
	if (o->memory && !o->all) {
		fprintf(stderr, "leaktop: --memory goes with -a (memory is traced by default)\n");
		return -EINVAL;
	}
	/* 512 KiB: Go's default runtime.MemProfileRate (runtime/mprof.go). */
	if (o->sample_bytes < 0)
		o->sample_bytes = o->all || o->production ? 512 * 1024 : 0;
	return 0;
}
