// SPDX-License-Identifier: GPL-2.0
/*
 * cxx_leak: leaks through operator new / new[] from member functions.
 *
 * Ground truth at exit:
 *   Cache::remember(int)  malloc <- operator new[] (libstdc++ may go
 *                         through operator new too) <- Cache::remember(int),
 *                         150 allocations, 150 * 2048 = 307200 bytes
 *   Widget::make(int)     malloc <- operator new <- Widget::make(int),
 *                         100 allocations, 100 * sizeof(Widget) = 6400 bytes
 *   churn()               balanced new/delete of objects, strings and
 *                         vectors: nothing outstanding
 * libstdc++ allocates an exception emergency pool before main; tests ignore
 * it.
 */
#include <string>
#include <vector>

#include "common.h"

#define REMEMBER_COUNT	150
#define REMEMBER_SIZE	2048
#define WIDGET_COUNT	100
#define CHURN_ROUNDS	20000

struct Widget {
	int id;
	char payload[60];

	static Widget *make(int id);
};

class Cache {
public:
	void remember(int key);

private:
	char *slots[REMEMBER_COUNT];
};

Cache cache;
Widget *widgets[WIDGET_COUNT];
/* Escapes pointers so new/delete pairs cannot be elided. */
static void *volatile cxx_sink;

NOINLINE void Cache::remember(int key)
{
	char *p = new char[REMEMBER_SIZE];

	p[0] = (char)key;
	slots[key] = p;
}

NOINLINE Widget *Widget::make(int id)
{
	Widget *w = new Widget;

	w->id = id;
	return w;
}

NOINLINE void churn(void)
{
	for (int i = 0; i < CHURN_ROUNDS; i++) {
		Widget *w = new Widget;
		std::string *s = new std::string(40 + i % 50, 'x');
		std::vector<int> v;

		for (int j = 0; j < i % 40; j++)
			v.push_back(j);
		cxx_sink = w;
		cxx_sink = s;
		cxx_sink = v.data();
		delete s;
		delete w;
	}
	BARRIER();
}

int main(int argc, char **argv)
{
	static_assert(sizeof(Widget) == 64, "ground truth assumes 64 bytes");

	target_start(argc, argv, 0);
	for (int i = 0; i < REMEMBER_COUNT; i++)
		cache.remember(i);
	for (int i = 0; i < WIDGET_COUNT; i++)
		widgets[i] = Widget::make(i);
	churn();
	target_finish();
	return 0;
}
