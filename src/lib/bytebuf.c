// SPDX-License-Identifier: GPL-2.0
/* Growable byte buffers: appends never fail loudly, the error sticks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/bytebuf.h"

static int grow(struct bytebuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	uint8_t *p;

	while (cap < need)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void bytebuf_put(struct bytebuf *b, const void *d, size_t n)
{
	if (b->err || !n)
		return;
	if (b->max && n > b->max - b->len) {
		b->err = -EFBIG;
		return;
	}
	if (b->len + n > b->cap)
		b->err = grow(b, b->len + n);
	if (b->err)
		return;
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

void bytebuf_free(struct bytebuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
