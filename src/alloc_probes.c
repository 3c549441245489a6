// SPDX-License-Identifier: GPL-2.0
/* The allocator entry points leaktop probes, and which program each gets. */
#include <bpf/libbpf.h>
#include "alloc.h"
#include "alloc.skel.h"
#include "alloc_probes.h"
#include "probes.h"
#include "providers.h"

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
};

const char *probe_kind_name(unsigned int kind)
{
	return kind < LT_KIND_MAX ? kind_names[kind] : "?";
}

enum prog_id { P_SIZE0, P_SIZE1, P_CALLOC, P_REALLOC, P_REALLOCARRAY, P_MEMALIGN_PTR,
	       P_MMAP, P_MREMAP, P_MUNMAP, P_FREE };

enum obj_id { OBJ_MALLOC, OBJ_MMAP, OBJ_CXX };

struct probe_spec {
	const char *symbol;
	unsigned int kind;
	enum prog_id prog;
	enum obj_id obj;	/* which object of struct providers provides it */
	int has_return;
	int nargs;	/* argument registers the entry program reads */
};

/*
 * Order matters for aliases: glibc's aligned_alloc is memalign, and the
 * first name listed for an address is the one attached. C++ operator new
 * is probed itself (its malloc then nests): libstdc++ has no frame
 * pointers, so from malloc the frame walk would skip new's caller.
 */
static const struct probe_spec specs[] = {
	{ "malloc", LT_MALLOC, P_SIZE0, OBJ_MALLOC, 1, 1 },
	{ "free", LT_FREE, P_FREE, OBJ_MALLOC, 0, 1 },
	{ "calloc", LT_CALLOC, P_CALLOC, OBJ_MALLOC, 1, 2 },
	{ "realloc", LT_REALLOC, P_REALLOC, OBJ_MALLOC, 1, 2 },
	{ "reallocarray", LT_REALLOCARRAY, P_REALLOCARRAY, OBJ_MALLOC, 1, 3 },
	{ "posix_memalign", LT_POSIX_MEMALIGN, P_MEMALIGN_PTR, OBJ_MALLOC, 1, 3 },
	{ "aligned_alloc", LT_ALIGNED_ALLOC, P_SIZE1, OBJ_MALLOC, 1, 2 },
	{ "memalign", LT_MEMALIGN, P_SIZE1, OBJ_MALLOC, 1, 2 },
	{ "valloc", LT_VALLOC, P_SIZE0, OBJ_MALLOC, 1, 1 },
	{ "pvalloc", LT_PVALLOC, P_SIZE0, OBJ_MALLOC, 1, 1 },
	{ "mmap", LT_MMAP, P_MMAP, OBJ_MMAP, 1, 4 },
	{ "mremap", LT_MREMAP, P_MREMAP, OBJ_MMAP, 1, 3 },
	{ "munmap", LT_MUNMAP, P_MUNMAP, OBJ_MMAP, 1, 2 },
	{ "_Znwm", LT_NEW, P_SIZE0, OBJ_CXX, 1, 1 },
	{ "_ZnwmRKSt9nothrow_t", LT_NEW, P_SIZE0, OBJ_CXX, 1, 1 },
	{ "_ZnwmSt11align_val_t", LT_NEW, P_SIZE0, OBJ_CXX, 1, 1 },
	{ "_ZnwmSt11align_val_tRKSt9nothrow_t", LT_NEW, P_SIZE0, OBJ_CXX, 1, 1 },
	{ "_Znam", LT_NEW_ARRAY, P_SIZE0, OBJ_CXX, 1, 1 },
	{ "_ZnamRKSt9nothrow_t", LT_NEW_ARRAY, P_SIZE0, OBJ_CXX, 1, 1 },
	{ "_ZnamSt11align_val_t", LT_NEW_ARRAY, P_SIZE0, OBJ_CXX, 1, 1 },
	{ "_ZnamSt11align_val_tRKSt9nothrow_t", LT_NEW_ARRAY, P_SIZE0, OBJ_CXX, 1, 1 },
};

#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static struct bpf_program *prog_for(struct alloc_bpf *skel, enum prog_id id)
{
	switch (id) {
	case P_SIZE0: return skel->progs.size_arg0_entry;
	case P_SIZE1: return skel->progs.size_arg1_entry;
	case P_CALLOC: return skel->progs.calloc_entry;
	case P_REALLOC: return skel->progs.realloc_entry;
	case P_REALLOCARRAY: return skel->progs.reallocarray_entry;
	case P_MEMALIGN_PTR: return skel->progs.posix_memalign_entry;
	case P_MMAP: return skel->progs.mmap_entry;
	case P_MREMAP: return skel->progs.mremap_entry;
	case P_MUNMAP: return skel->progs.munmap_entry;
	case P_FREE: return skel->progs.free_entry;
	}
	return NULL;
}

int alloc_probes_attach(struct alloc_bpf *skel, pid_t pid, const struct providers *p)
{
	const char *objs[] = { [OBJ_MALLOC] = p->malloc_obj, [OBJ_MMAP] = p->mmap_obj,
			       [OBJ_CXX] = p->cxx_obj };
	struct probe_req reqs[NSPECS];

	for (size_t i = 0; i < NSPECS; i++) {
		const struct probe_spec *s = &specs[i];

		reqs[i] = (struct probe_req){
			.symbol = s->symbol,
			.obj = objs[s->obj],
			.entry = prog_for(skel, s->prog),
			.ret = s->has_return ? skel->progs.alloc_return : NULL,
			.nargs = s->nargs,
			.cookie = s->kind,
		};
	}
	return probes_attach(reqs, NSPECS, pid);
}
