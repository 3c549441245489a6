/* SPDX-License-Identifier: GPL-2.0 */
/* One check of the unit tests: prints "ok NAME" or "FAIL NAME: why", the
 * lines tests/run.py counts. */
#ifndef LEAKTOP_UNIT_CHECK_H
#define LEAKTOP_UNIT_CHECK_H

/* Failures so far, over every test module. */
extern int unit_failures;

void unit_check(int cond, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
