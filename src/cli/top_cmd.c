// SPDX-License-Identifier: GPL-2.0
/*
 * leaktop top: the options of trace, a report every second drawn on the
 * live screen instead of printed tables; the final report's exports
 * (--json...) are written when the user quits.
 */
#include "cli/options.h"
#include "cli/top_cmd.h"
#include "screen/screen.h"
#include "session/process.h"
#include "session/system.h"

int cmd_top(int argc, char **argv)
{
	struct options o = { 0 };
	int err = options_parse(argc, argv, &o);

	if (err)
		return err > 0 ? 0 : EXIT_BAD_INPUT;
	if (screen_check_tty())
		return EXIT_BAD_INPUT;
	o.screen = 1;
	o.quiet = 1;
	o.interval_s = 1;
	return o.all ? system_trace(&o) : process_trace(&o);
}
