/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --listen: an HTTP server (libmicrohttpd, a thread per connection, at
 * most HTTP_MAX_CONNECTIONS and HTTP_MAX_PER_IP from one address, each
 * timed out after HTTP_TIMEOUT_S idle: a client holding connections open
 * keeps others out for that long, never the tracer, which only publishes)
 * serving the board's views: /metrics (Prometheus), /debug/pprof/heap and
 * /allocs (in-use heap profile), /debug/pprof/goroutine (count profile),
 * /debug/pprof/ (an index). ?pid= picks the target among several.
 */
#ifndef LEAKTOP_HTTP_H
#define LEAKTOP_HTTP_H

#include <sys/socket.h>
#include "serve/board.h"

#define HTTP_MAX_CONNECTIONS 64
#define HTTP_MAX_PER_IP 16
#define HTTP_TIMEOUT_S 10

struct http_server;

/* "PORT", ":PORT", "ADDR:PORT" or "[V6ADDR]:PORT"; no address: 127.0.0.1.
 * 0 or -EINVAL after a one-line message. */
int http_parse_listen(const char *arg, struct sockaddr_storage *ss);
/* Listen at arg and serve b; NULL after a one-line message. */
struct http_server *http_start(const char *arg, struct board *b);
void http_stop(struct http_server *h);

#endif
