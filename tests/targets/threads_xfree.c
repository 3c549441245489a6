// SPDX-License-Identifier: GPL-2.0
/*
 * threads_xfree: blocks allocated in one thread and freed in another.
 *
 * A producer thread allocates 4000 blocks of 256 bytes in produce_item()
 * and hands them over a bounded queue (mutex + condition variables, no
 * allocation of its own) to a consumer thread, which frees three of every
 * four and keeps every fourth.
 *
 * Ground truth at exit:
 *   produce_item  malloc, 1000 allocations, 1000 * 256 = 256000 bytes
 * (pthread_create makes allocations of its own inside libc; tests ignore
 * those.)
 */
#include <pthread.h>
#include <stdlib.h>

#include "common.h"

#define ITEMS		4000
#define ITEM_SIZE	256
#define QUEUE_LEN	64

static void *queue[QUEUE_LEN];
static unsigned int q_head, q_count;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_not_full = PTHREAD_COND_INITIALIZER;

void *kept_items[ITEMS / 4];

static void queue_push(void *p)
{
	pthread_mutex_lock(&q_lock);
	while (q_count == QUEUE_LEN)
		pthread_cond_wait(&q_not_full, &q_lock);
	queue[(q_head + q_count) % QUEUE_LEN] = p;
	q_count++;
	pthread_cond_signal(&q_not_empty);
	pthread_mutex_unlock(&q_lock);
}

static void *queue_pop(void)
{
	void *p;

	pthread_mutex_lock(&q_lock);
	while (!q_count)
		pthread_cond_wait(&q_not_empty, &q_lock);
	p = queue[q_head];
	q_head = (q_head + 1) % QUEUE_LEN;
	q_count--;
	pthread_cond_signal(&q_not_full);
	pthread_mutex_unlock(&q_lock);
	return p;
}

NOINLINE void *produce_item(int i)
{
	unsigned char *p = malloc(ITEM_SIZE);

	/* The store after the call keeps malloc from being a tail call. */
	p[0] = (unsigned char)i;
	return p;
}

static void *producer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < ITEMS; i++)
		queue_push(produce_item(i));
	return NULL;
}

static void *consumer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < ITEMS; i++) {
		void *p = queue_pop();

		if (i % 4 == 3)
			kept_items[i / 4] = p;
		else
			free(p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t prod, cons;

	target_start(argc, argv, 0);
	if (pthread_create(&cons, NULL, consumer, NULL) ||
	    pthread_create(&prod, NULL, producer, NULL)) {
		tgt_write(2, "threads_xfree: pthread_create failed\n");
		return 1;
	}
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	target_finish();
	return 0;
}
