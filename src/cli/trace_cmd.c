// SPDX-License-Identifier: GPL-2.0
/* leaktop trace: parse the options, run the session they name. */
#include "cli/options.h"
#include "cli/trace_cmd.h"
#include "session/process.h"
#include "session/system.h"

int cmd_trace(int argc, char **argv)
{
	struct options o = { 0 };
	int err = options_parse(argc, argv, &o);

	if (err)
		return err > 0 ? 0 : EXIT_BAD_INPUT;
	return o.all ? system_trace(&o) : process_trace(&o);
}
