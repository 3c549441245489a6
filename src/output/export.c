// SPDX-License-Identifier: GPL-2.0
/* One place that turns --json/--folded/--pprof/--svg into files. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "output/export.h"

int export_parse_weight(const char *arg, enum lt_weight *w)
{
	if (strcmp(arg, "bytes") == 0)
		*w = LT_W_BYTES;
	else if (strcmp(arg, "count") == 0)
		*w = LT_W_COUNT;
	else
		return -EINVAL;
	return 0;
}

/* path, or stdout for "-"; NULL after saying why. */
static FILE *open_out(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "we") : stdout;

	if (!f)
		fprintf(stderr, "leaktop: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

static int close_out(FILE *f, const char *path)
{
	int err = ferror(f) ? -EIO : 0;

	if (f == stdout)
		err = fflush(f) ? -errno : err;
	else
		err = fclose(f) ? -errno : err;
	if (err)
		fprintf(stderr, "leaktop: writing %s failed\n", path);
	return err;
}

int export_all(const struct export_opts *o, const struct lt_snapshot *s)
{
	FILE *f;
	int err = 0;

	if (o->json && (f = open_out(o->json))) {
		render_json(f, s);
		err = close_out(f, o->json) ?: err;
	} else if (o->json) {
		err = -EIO;
	}
	if (o->folded && (f = open_out(o->folded))) {
		render_folded(f, s, o->weight);
		err = close_out(f, o->folded) ?: err;
	} else if (o->folded) {
		err = -EIO;
	}
	if (o->svg && (f = open_out(o->svg))) {
		int e = render_svg(f, s, o->weight);

		err = close_out(f, o->svg) ?: e ?: err;
	} else if (o->svg) {
		err = -EIO;
	}
	if (o->pprof && render_pprof(o->pprof, s)) {
		fprintf(stderr, "leaktop: cannot write %s\n", o->pprof);
		err = -EIO;
	}
	if (o->pprof_counts && render_pprof_counts(o->pprof_counts, s)) {
		fprintf(stderr, "leaktop: cannot write %s\n", o->pprof_counts);
		err = -EIO;
	}
	return err;
}
