// SPDX-License-Identifier: GPL-2.0
/*
 * Stored snapshots rendered again: the same tables, JSON and exports as a
 * live run, from a file (on another machine, after the process is gone).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/options.h"
#include "model/diff.h"
#include "output/export.h"
#include "output/render.h"
#include "output/render_diff.h"
#include "cli/report_cmd.h"
#include "store/snapfile.h"


static const char report_usage[] =
	"usage: leaktop report SNAPSHOT [-n N] [--json FILE] [--folded FILE] [--pprof FILE]\n"
	"                               [--pprof-counts FILE] [--svg FILE] [--weight bytes|count]\n"
	"       leaktop diff OLD NEW [-n N] [--json FILE]\n";

enum { O_JSON = 256, O_FOLDED, O_PPROF, O_SVG, O_WEIGHT, O_PPROF_COUNTS };

static const struct option longopts[] = {
	{ "top", required_argument, NULL, 'n' },
	{ "json", required_argument, NULL, O_JSON },
	{ "folded", required_argument, NULL, O_FOLDED },
	{ "pprof", required_argument, NULL, O_PPROF },
	{ "pprof-counts", required_argument, NULL, O_PPROF_COUNTS },
	{ "svg", required_argument, NULL, O_SVG },
	{ "weight", required_argument, NULL, O_WEIGHT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse(int argc, char **argv, struct export_opts *o, int *top, int nfiles)
{
	int c;
	char *end;

	memset(o, 0, sizeof(*o));
	*top = 10;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			*top = strtol(optarg, &end, 10);
			if (*end || *top < 1)
				goto bad;
			break;
		case O_JSON: o->json = optarg; break;
		case O_FOLDED: o->folded = optarg; break;
		case O_PPROF: o->pprof = optarg; break;
		case O_PPROF_COUNTS: o->pprof_counts = optarg; break;
		case O_SVG: o->svg = optarg; break;
		case O_WEIGHT:
			if (export_parse_weight(optarg, &o->weight))
				goto bad;
			break;
		case 'h':
			fputs(report_usage, stdout);
			return 1;
		default:
			goto bad;
		}
	}
	if (argc - optind == nfiles)
		return 0;
bad:
	fprintf(stderr, "leaktop: bad arguments (try leaktop %s --help)\n", argv[0]);
	return -EINVAL;
}

/* The file as a snapshot, or a one-line reason and NULL. */
static struct snapfile *load(const char *path)
{
	struct snapfile *f = NULL;
	const char *why = NULL;
	int err = snapfile_read(path, &f, &why);

	if (err) {
		fprintf(stderr, "leaktop: %s: %s\n", path, why ? why : strerror(-err));
		return NULL;
	}
	return f;
}

int cmd_report(int argc, char **argv)
{
	struct export_opts o;
	struct snapfile *f;
	int top, err = parse(argc, argv, &o, &top, 1);

	if (err)
		return err > 0 ? 0 : EXIT_BAD_INPUT;
	f = load(argv[optind]);
	if (!f)
		return EXIT_BAD_INPUT;
	if (!o.json || strcmp(o.json, "-"))
		render_table(stdout, snapfile_snapshot(f), top);
	err = export_all(&o, snapfile_snapshot(f));
	snapfile_free(f);
	return err ? 1 : 0;
}

int cmd_diff(int argc, char **argv)
{
	struct export_opts o;
	struct snapfile *a, *b = NULL;
	struct lt_diff d;
	double secs;
	int top, err = parse(argc, argv, &o, &top, 2);

	if (err)
		return err > 0 ? 0 : EXIT_BAD_INPUT;
	a = load(argv[optind]);
	if (a)
		b = load(argv[optind + 1]);
	if (!a || !b) {
		snapfile_free(a);
		return EXIT_BAD_INPUT;
	}
	secs = (double)(snapfile_wall_ns(b) - snapfile_wall_ns(a)) / 1e9;
	err = diff_snapshots(snapfile_snapshot(a), snapfile_snapshot(b), secs, &d);
	if (!err && (!o.json || strcmp(o.json, "-")))
		render_diff_table(stdout, &d, NULL, top);
	if (!err && o.json) {
		FILE *out = strcmp(o.json, "-") ? fopen(o.json, "we") : stdout;

		if (!out) {
			fprintf(stderr, "leaktop: cannot write %s: %s\n", o.json, strerror(errno));
			err = -errno;
		} else {
			render_diff_json(out, &d);
			if (out != stdout)
				fclose(out);
		}
	}
	diff_free(&d);
	snapfile_free(a);
	snapfile_free(b);
	return err ? 1 : 0;
}
