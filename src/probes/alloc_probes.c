// SPDX-License-Identifier: GPL-2.0
/* The allocator entry points leaktop probes, and which program each gets. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "alloc.h"
#include "alloc.skel.h"
#include "probes/alloc_probes.h"
#include "probes/probes.h"
#include "probes/providers.h"
#include "target/procmaps.h"

static const char *const kind_names[LT_KIND_MAX] = {
	[LT_MALLOC] = "malloc",
	[LT_CALLOC] = "calloc",
	[LT_REALLOC] = "realloc",
	[LT_REALLOCARRAY] = "reallocarray",
	[LT_POSIX_MEMALIGN] = "posix_memalign",
	[LT_ALIGNED_ALLOC] = "aligned_alloc",
	[LT_MEMALIGN] = "memalign",
	[LT_VALLOC] = "valloc",
	[LT_PVALLOC] = "pvalloc",
	[LT_MMAP] = "mmap",
	[LT_MREMAP] = "mremap",
	[LT_MUNMAP] = "munmap",
	[LT_FREE] = "free",
	[LT_NEW] = "operator new",
	[LT_NEW_ARRAY] = "operator new[]",
	[LT_PTHREAD_CREATE] = "pthread_create",
};

const char *probe_kind_name(unsigned int kind)
{
	return kind < LT_KIND_MAX ? kind_names[kind] : "?";
}

enum obj_id { OBJ_MALLOC, OBJ_MMAP, OBJ_CXX, OBJ_PTHREAD };

struct probe_spec {
	const char *symbol;
	unsigned int kind;
	enum obj_id obj;	/* which object of struct providers provides it */
	int has_return;
	int nargs;	/* argument registers the entry program reads */
};

/*
 * Order matters for aliases: glibc's aligned_alloc is memalign, and the
 * first name listed for an address is the one attached. C++ operator new
 * is probed itself (its malloc then nests): libstdc++ has no frame
 * pointers, so from malloc the frame walk would skip new's caller.
 * pthread_create is probed only so that the stack it maps nests in it:
 * thread stacks belong to the thread report (pinned_bytes), not to memory.
 */
static const struct probe_spec specs[] = {
	{ "malloc", LT_MALLOC, OBJ_MALLOC, 1, 1 },
	{ "free", LT_FREE, OBJ_MALLOC, 0, 1 },
	{ "calloc", LT_CALLOC, OBJ_MALLOC, 1, 2 },
	{ "realloc", LT_REALLOC, OBJ_MALLOC, 1, 2 },
	{ "reallocarray", LT_REALLOCARRAY, OBJ_MALLOC, 1, 3 },
	{ "posix_memalign", LT_POSIX_MEMALIGN, OBJ_MALLOC, 1, 3 },
	{ "aligned_alloc", LT_ALIGNED_ALLOC, OBJ_MALLOC, 1, 2 },
	{ "memalign", LT_MEMALIGN, OBJ_MALLOC, 1, 2 },
	{ "valloc", LT_VALLOC, OBJ_MALLOC, 1, 1 },
	{ "pvalloc", LT_PVALLOC, OBJ_MALLOC, 1, 1 },
	{ "mmap", LT_MMAP, OBJ_MMAP, 1, 4 },
	{ "mremap", LT_MREMAP, OBJ_MMAP, 1, 3 },
	{ "munmap", LT_MUNMAP, OBJ_MMAP, 1, 2 },
	{ "_Znwm", LT_NEW, OBJ_CXX, 1, 1 },
	{ "_ZnwmRKSt9nothrow_t", LT_NEW, OBJ_CXX, 1, 1 },
	{ "_ZnwmSt11align_val_t", LT_NEW, OBJ_CXX, 1, 1 },
	{ "_ZnwmSt11align_val_tRKSt9nothrow_t", LT_NEW, OBJ_CXX, 1, 1 },
	{ "_Znam", LT_NEW_ARRAY, OBJ_CXX, 1, 1 },
	{ "_ZnamRKSt9nothrow_t", LT_NEW_ARRAY, OBJ_CXX, 1, 1 },
	{ "_ZnamSt11align_val_t", LT_NEW_ARRAY, OBJ_CXX, 1, 1 },
	{ "_ZnamSt11align_val_tRKSt9nothrow_t", LT_NEW_ARRAY, OBJ_CXX, 1, 1 },
	{ "pthread_create", LT_PTHREAD_CREATE, OBJ_PTHREAD, 1, 0 },
};

#define NSPECS (sizeof(specs) / sizeof(specs[0]))

/* glibc's own malloc (libc.so.6): the one whose nesting alloc_session's
 * rule is made for (bpf/alloc.bpf.c, SESSION_SKIP_MAX). */
static bool is_glibc(const char *obj)
{
	const char *base = obj ? strrchr(obj, '/') : NULL;

	return base && !strncmp(base + 1, "libc.so", 7);
}

/* The span of obj's executable mappings in pid, for alloc_text: 0 or -ENOENT. */
static int text_range(pid_t pid, const char *obj, struct lt_text_range *r)
{
	char want[PATH_MAX], got[PATH_MAX];
	struct procmaps pm;

	memset(r, 0, sizeof(*r));
	if (!realpath(obj, want) || procmaps_read(pid, &pm))
		return -ENOENT;
	for (int i = 0; i < pm.n; i++) {
		const struct mapping *m = &pm.m[i];

		if (!m->exec || !m->path || !realpath(m->path, got) || strcmp(got, want))
			continue;
		if (!r->lo || m->start < r->lo)
			r->lo = m->start;
		if (m->end > r->hi)
			r->hi = m->end;
	}
	procmaps_free(&pm);
	return r->hi ? 0 : -ENOENT;
}

/* Another allocator's malloc gets the session program only with -p, once
 * its code span is in alloc_text (its own mmaps then tell): true if so. */
static bool other_allocator_known(struct alloc_bpf *skel, pid_t pid, const char *obj)
{
	struct lt_text_range r;
	uint32_t zero = 0;

	return obj && !is_glibc(obj) && pid > 0 && !text_range(pid, obj, &r) &&
	       !bpf_map_update_elem(bpf_map__fd(skel->maps.alloc_text), &zero, &r, BPF_ANY);
}

int alloc_probes_attach(struct alloc_bpf *skel, pid_t pid, const struct providers *p,
			bool launched)
{
	bool session = bpf_program__autoload(skel->progs.alloc_session);
	bool other = session && !launched && other_allocator_known(skel, pid, p->malloc_obj);

	const char *objs[] = { [OBJ_MALLOC] = p->malloc_obj, [OBJ_MMAP] = p->mmap_obj,
			       [OBJ_CXX] = p->cxx_obj, [OBJ_PTHREAD] = p->pthread_obj };
	struct probe_req reqs[NSPECS];

	for (size_t i = 0; i < NSPECS; i++) {
		const struct probe_spec *s = &specs[i];

		reqs[i] = (struct probe_req){
			.symbol = s->symbol,
			.obj = objs[s->obj],
			.entry = skel->progs.alloc_entry,
			.ret = s->has_return ? skel->progs.alloc_return : NULL,
			.session = session && s->has_return &&
						   (is_glibc(objs[s->obj]) || (s->obj == OBJ_MALLOC && other)) ?
					   skel->progs.alloc_session : NULL,
			.nargs = s->nargs,
			.cookie = s->kind,
		};
	}
	return probes_attach(reqs, NSPECS, pid);
}
