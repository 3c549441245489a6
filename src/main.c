// SPDX-License-Identifier: GPL-2.0
/* leaktop: subcommand dispatch. Today the only command is trace, which is
 * also what runs when no subcommand is named. */
#include "trace.h"

int main(int argc, char **argv)
{
	return cmd_trace(argc, argv);
}
