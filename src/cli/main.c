// SPDX-License-Identifier: GPL-2.0
/*
 * leaktop: subcommand dispatch, as perf and bpftool do. trace (the
 * default when no subcommand is named) traces a process; top shows it on a
 * live screen; report and diff
 * render stored snapshots; daemon traces continuously into snapshots;
 * check says which kernel features leaktop can use here.
 */
#include <string.h>
#include "cli/check_cmd.h"
#include "cli/daemon.h"
#include "cli/report_cmd.h"
#include "cli/top_cmd.h"
#include "cli/trace_cmd.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "trace", cmd_trace },
	{ "top", cmd_top },
	{ "report", cmd_report },
	{ "diff", cmd_diff },
	{ "daemon", cmd_daemon },
	{ "check", cmd_check },
};

int main(int argc, char **argv)
{
	for (size_t i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	return cmd_trace(argc, argv);
}
