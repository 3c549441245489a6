// SPDX-License-Identifier: GPL-2.0
/* Generations of served views, swapped under one mutex (serve/board.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "lib/clock.h"
#include "output/render.h"
#include "serve/board.h"
#include "serve/metrics.h"

#define FRESH_S 1.0	/* views younger than this are served as they are */
#define WAIT_S 2.0	/* how long a request waits for newer ones */

struct board {
	pthread_mutex_t lock;
	pthread_cond_t changed;	/* a generation was published */
	struct generation *gen;
	bool on_demand;
	int efd;		/* eventfd: a client wants newer views */
};

struct board *board_new(bool on_demand)
{
	struct board *b = calloc(1, sizeof(*b));
	pthread_condattr_t ca;

	if (!b)
		return NULL;
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0) {
		free(b);
		return NULL;
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->changed, &ca);
	pthread_condattr_destroy(&ca);
	b->on_demand = on_demand;
	return b;
}

static void gen_free(struct generation *g)
{
	for (int i = 0; i < g->nviews; i++)
		view_free(&g->views[i]);
	free(g->views);
	free(g);
}

void board_put(struct board *b, struct generation *g)
{
	bool last;

	if (!g)
		return;
	pthread_mutex_lock(&b->lock);
	last = --g->refs == 0;
	pthread_mutex_unlock(&b->lock);
	if (last)
		gen_free(g);
}

void board_free(struct board *b)
{
	if (!b)
		return;
	board_put(b, b->gen);
	close(b->efd);
	pthread_cond_destroy(&b->changed);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

int board_fd(const struct board *b)
{
	return b ? b->efd : -1;
}

bool board_demand(struct board *b)
{
	uint64_t n;

	return b && read(b->efd, &n, sizeof(n)) == sizeof(n);
}

void board_publish(struct board *b, struct view *views, int n, const pid_t *helpers,
		   int nhelpers)
{
	struct generation *g = calloc(1, sizeof(*g)), *old;

	if (!g) {
		for (int i = 0; i < n; i++)
			view_free(&views[i]);
		free(views);
		return;
	}
	g->refs = 1;
	g->mono = mono_s();
	g->views = views;
	g->nviews = n;
	if (nhelpers > (int)(sizeof(g->helpers) / sizeof(g->helpers[0])))
		nhelpers = sizeof(g->helpers) / sizeof(g->helpers[0]);
	for (int i = 0; i < nhelpers; i++)
		g->helpers[i] = helpers[i];
	g->nhelpers = nhelpers;
	pthread_mutex_lock(&b->lock);
	old = b->gen;
	b->gen = g;
	pthread_cond_broadcast(&b->changed);
	pthread_mutex_unlock(&b->lock);
	board_put(b, old);
}

/* Ask the session for newer views and wait for them, lock held. */
static void wait_newer(struct board *b)
{
	struct generation *seen = b->gen;
	uint64_t one = 1;
	struct timespec until;
	double t = mono_s() + WAIT_S;

	if (write(b->efd, &one, sizeof(one)) != sizeof(one))
		return;
	until.tv_sec = (time_t)t;
	until.tv_nsec = (long)((t - until.tv_sec) * 1e9);
	while (b->gen == seen)
		if (pthread_cond_timedwait(&b->changed, &b->lock, &until) == ETIMEDOUT)
			return;
}

struct generation *board_get(struct board *b)
{
	struct generation *g;

	pthread_mutex_lock(&b->lock);
	if (b->on_demand && (!b->gen || mono_s() - b->gen->mono > FRESH_S))
		wait_newer(b);
	g = b->gen;
	if (g)
		g->refs++;
	pthread_mutex_unlock(&b->lock);
	return g;
}

int view_make(struct view *v, const struct lt_snapshot *s)
{
	int err;

	memset(v, 0, sizeof(*v));
	v->pid = s->pid;
	snprintf(v->comm, sizeof(v->comm), "%s", s->comm);
	err = metrics_collect(v, s);
	if (!err)
		err = pprof_heap(&v->heap, s);
	if (!err)
		err = pprof_counts(&v->counts, s);
	if (err)
		view_free(v);
	return err;
}

void view_free(struct view *v)
{
	free(v->samples);
	bytebuf_free(&v->heap);
	bytebuf_free(&v->counts);
	memset(v, 0, sizeof(*v));
}
