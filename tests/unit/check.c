// SPDX-License-Identifier: GPL-2.0
/* The unit tests' single way to report a check. */
#include <stdarg.h>
#include <stdio.h>
#include "check.h"

int unit_failures;

void unit_check(int cond, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (cond) {
		printf("ok %s\n", name);
		return;
	}
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	unit_failures++;
}
