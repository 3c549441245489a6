// SPDX-License-Identifier: GPL-2.0
/* The HTTP endpoints of --listen (serve/http.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "serve/http.h"
#include "serve/metrics.h"

struct http_server {
	struct MHD_Daemon *d;
	struct board *board;
};

int http_parse_listen(const char *arg, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[64] = "127.0.0.1", *end;
	const char *colon = strrchr(arg, ':'), *port = colon ? colon + 1 : arg;
	long p;

	memset(ss, 0, sizeof(*ss));
	if (colon && colon > arg) {
		size_t n = colon - arg;

		if (arg[0] == '[' && n > 2 && arg[n - 1] == ']') {
			arg++;
			n -= 2;
		}
		if (n >= sizeof(host))
			goto bad;
		memcpy(host, arg, n);
		host[n] = '\0';
	}
	p = strtol(port, &end, 10);
	if (!*port || *end || p < 1 || p > 65535)
		goto bad;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(p);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		return 0;
	}
bad:
	fprintf(stderr, "leaktop: --listen wants [ADDR:]PORT (an IP address, [v6] in brackets), "
		"not '%s'\n", arg);
	return -EINVAL;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned int code, const char *type,
			    const void *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								  MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned int code, const char *msg)
{
	return respond(c, code, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* The view ?pid= names, or the only one: NULL after an error response. */
static const struct view *pick(struct MHD_Connection *c, const struct generation *g,
			       enum MHD_Result *ret)
{
	const char *arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pid");
	char msg[1024];
	char *end;
	long pid;
	size_t o;

	if (!arg) {
		if (g && g->nviews == 1)
			return &g->views[0];
		o = snprintf(msg, sizeof(msg), "%s; add ?pid= with one of:",
			     g && g->nviews ? "several targets" : "no target traced yet");
		for (int i = 0; g && i < g->nviews && o < sizeof(msg) - 32; i++)
			o += snprintf(msg + o, sizeof(msg) - o, " %d", g->views[i].pid);
		snprintf(msg + o, sizeof(msg) - o, "\n");
		*ret = text(c, g && g->nviews ? 400 : 404, msg);
		return NULL;
	}
	pid = strtol(arg, &end, 10);
	if (!*arg || *end || pid <= 0 || pid > 0x7fffffff) {
		*ret = text(c, 400, "pid= wants a process id\n");
		return NULL;
	}
	for (int i = 0; g && i < g->nviews; i++)
		if (g->views[i].pid == pid)
			return &g->views[i];
	*ret = text(c, 404, "no such target traced\n");
	return NULL;
}

static enum MHD_Result profile(struct MHD_Connection *c, const struct generation *g,
			       bool heap)
{
	const char *debug = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "debug");
	enum MHD_Result ret = MHD_NO;
	const struct view *v;
	const struct bytebuf *b;

	if (MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "seconds"))
		return text(c, 400, "leaktop serves what is in use now, not a delta over "
			    "seconds=\n");
	if (debug && strcmp(debug, "0"))
		return text(c, 400, "only the protobuf form (debug=0) is served\n");
	v = pick(c, g, &ret);
	if (!v)
		return ret;
	b = heap ? &v->heap : &v->counts;
	return respond(c, 200, "application/octet-stream", b->p, b->len);
}

static enum MHD_Result metrics(struct MHD_Connection *c, const struct generation *g)
{
	struct bytebuf out = { 0 };
	enum MHD_Result ret;

	metrics_render(&out, g);
	ret = out.err ? text(c, 500, "out of memory\n") :
			respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", out.p, out.len);
	bytebuf_free(&out);
	return ret;
}

static enum MHD_Result index_page(struct MHD_Connection *c, const struct generation *g)
{
	char page[4096];
	size_t o = snprintf(page, sizeof(page),
			    "leaktop: /metrics, /debug/pprof/heap (also /allocs), "
			    "/debug/pprof/goroutine; ?pid= one of:");

	for (int i = 0; g && i < g->nviews && o < sizeof(page) - 64; i++)
		o += snprintf(page + o, sizeof(page) - o, " %d (%s)", g->views[i].pid,
			      g->views[i].comm);
	snprintf(page + o, sizeof(page) - o, "\n");
	return text(c, 200, page);
}

static enum MHD_Result route(struct MHD_Connection *c, const char *url, struct board *b)
{
	struct generation *g;
	enum MHD_Result ret;

	if (strcmp(url, "/metrics") && strcmp(url, "/debug/pprof/heap") &&
	    strcmp(url, "/debug/pprof/allocs") && strcmp(url, "/debug/pprof/goroutine") &&
	    strcmp(url, "/debug/pprof/") && strcmp(url, "/debug/pprof") && strcmp(url, "/"))
		return text(c, 404, "not found; see /debug/pprof/\n");
	g = board_get(b);
	if (!strcmp(url, "/metrics"))
		ret = metrics(c, g);
	else if (!strcmp(url, "/debug/pprof/goroutine"))
		ret = profile(c, g, false);
	else if (!strncmp(url, "/debug/pprof/", 13) && url[13])
		ret = profile(c, g, true);
	else
		ret = index_page(c, g);
	board_put(b, g);
	return ret;
}

/* libmicrohttpd calls this first with the headers, then per body chunk. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	static int seen;

	(void)version;
	(void)upload;
	if (!*state) {
		*state = &seen;
		return MHD_YES;
	}
	if (*upload_size) {	/* a body nobody asked for: read and drop */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return text(c, 405, "GET only\n");
	return route(c, url, cls);
}

struct http_server *http_start(const char *arg, struct board *b)
{
	struct sockaddr_storage ss;
	struct http_server *h;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			     MHD_USE_POLL;

	if (http_parse_listen(arg, &ss))
		return NULL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->board = b;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, b, MHD_OPTION_SOCK_ADDR, &ss,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_PER_IP,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
				MHD_OPTION_THREAD_STACK_SIZE, (size_t)256 << 10,
				MHD_OPTION_END);
	if (!h->d) {
		fprintf(stderr, "leaktop: cannot listen on %s: %s\n", arg, strerror(errno));
		free(h);
		return NULL;
	}
	return h;
}

void http_stop(struct http_server *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
