/* SPDX-License-Identifier: GPL-2.0 */
/* Ground truth of libdl_leak.so, shared with lifecycle.c. */
#ifndef LEAKTOP_TEST_DL_LEAK_H
#define LEAKTOP_TEST_DL_LEAK_H

#define DL_LEAK_COUNT	150
#define DL_LEAK_SIZE	3000

void dl_leak(void);

#endif
