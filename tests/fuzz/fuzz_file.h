/* SPDX-License-Identifier: GPL-2.0 */
/* The fuzz input as a file: the parsers under test take a path. */
#ifndef LEAKTOP_FUZZ_FILE_H
#define LEAKTOP_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

/* A path ("/proc/self/fd/N" of one memfd, reused) whose content is
 * exactly data; aborts when the memfd cannot be written. */
const char *fuzz_file(const uint8_t *data, size_t size);

#endif
