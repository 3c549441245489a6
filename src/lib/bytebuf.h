/* SPDX-License-Identifier: GPL-2.0 */
/* A growable byte buffer with a sticky error, for file encoders. */
#ifndef LEAKTOP_BYTEBUF_H
#define LEAKTOP_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>

struct bytebuf {
	uint8_t *p;
	size_t len, cap;
	size_t max;	/* 0: no limit; past it: -EFBIG */
	int err;	/* sticky: -ENOMEM or -EFBIG; later appends are dropped */
};

/* Append n bytes (grown by doubling). */
void bytebuf_put(struct bytebuf *b, const void *d, size_t n);
void bytebuf_free(struct bytebuf *b);

#endif
