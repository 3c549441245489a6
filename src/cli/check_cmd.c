// SPDX-License-Identifier: GPL-2.0
/*
 * leaktop check: what this kernel lets leaktop do, one line a feature,
 * as `bpftool feature probe` does. Exit 0 when every capability works,
 * 1 when some degrade, 2 when nothing can trace.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli/check_cmd.h"
#include "probes/kfeatures.h"
#include "cli/options.h"
#include "output/render.h"
#include "session/tracers.h"

static const char *verdict(const struct lt_feature_result *r)
{
	if (r->forced)
		return "forced off";
	if (!r->err)
		return "present";
	return r->err == -EPERM || r->err == -EACCES ? "refused" : "missing";
}

static void print_line(enum lt_feature f)
{
	const struct lt_feature_result *r = feature_result(f);

	printf("%-18s %s", feature_name(f), verdict(r));
	if (r->err && !r->forced)
		printf(" (%s)", strerror(-r->err));
	if (!feature_has(f))
		printf(": %s", feature_cost(f));
	putchar('\n');
}

static void print_json(int status)
{
	printf("{\n  \"status\": %d,\n  \"features\": [", status);
	for (int f = 0; f < LT_FEAT_MAX; f++) {
		const struct lt_feature_result *r = feature_result(f);

		printf("%s\n    {\"name\": \"%s\", \"state\": \"%s\", \"errno\": %d, "
		       "\"required\": %s, \"cost\": ",
		       f ? "," : "", feature_name(f), verdict(r), -r->err,
		       feature_required(f) ? "true" : "false");
		if (feature_has(f))
			fputs("null", stdout);
		else
			json_str(stdout, feature_cost(f));
		putchar('}');
	}
	puts("\n  ]\n}");
}

int cmd_check(int argc, char **argv)
{
	struct options o = {0};
	bool json = false;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
			continue;
		}
		fprintf(stderr,
			"leaktop check: unknown argument '%s' (usage: leaktop check [--json])\n",
			argv[i]);
		return EXIT_BAD_INPUT;
	}
	if (tracers_check_privileges(&o))
		return EXIT_BAD_INPUT;
	for (int f = 0; f < LT_FEAT_MAX; f++)
		if (!feature_has(f))
			status = feature_required(f) ? 2 : status ? status : 1;
	if (json) {
		print_json(status);
		return status;
	}
	for (int f = 0; f < LT_FEAT_MAX; f++)
		print_line(f);
	printf("%s\n", status == 0   ? "every capability works"
		       : status == 1 ? "some capabilities degrade (see above); tracing works"
				     : "nothing can trace on this kernel");
	return status;
}
