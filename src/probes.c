// SPDX-License-Identifier: GPL-2.0
/*
 * Allocator uprobes: find each entry point in the object that provides it,
 * pick the cheapest safe offset, attach entry (and return) programs.
 *
 * Why offsets matter (shared/notes/probe-costs.md, measured on this VM
 * kind): a probe on an instruction the kernel emulates costs ~0.2 us per
 * hit, one it must single-step ~2.5 us. glibc's free starts with
 * "test %rdi,%rdi; je": probing the je (+3) instead of +0 is ~10x cheaper.
 */
#include <bpf/libbpf.h>
#include <capstone/capstone.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "alloc.h"
#include "alloc.skel.h"
#include "allocator.h"
#include "elfsym.h"
#include "probes.h"

#define MAX_SCAN 16	/* instructions examined from the entry */
#define MAX_BODY 65536	/* bytes of a function decoded for branch targets */
#define MAX_LINKS 64

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

enum prog_id { P_SIZE0, P_SIZE1, P_CALLOC, P_REALLOC, P_REALLOCARRAY, P_MEMALIGN_PTR,
	       P_MMAP, P_MREMAP, P_MUNMAP, P_FREE };

enum obj_id { OBJ_MALLOC, OBJ_MMAP, OBJ_CXX, OBJ_MAX };

struct probe_spec {
	const char *symbol;
	unsigned int kind;
	enum prog_id prog;
	enum obj_id obj;	/* which object of struct allocator provides it */
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

/* Where one spec's probe goes. */
struct placement {
	const struct probe_spec *spec;
	const char *obj;
	uint64_t func;		/* file offset of the function */
	uint64_t offset;	/* file offset of the probed instruction */
};

int probes_verbose;
static struct bpf_link *links[MAX_LINKS];
static int nlinks;

const char *probe_kind_name(unsigned int kind)
{
	return kind < LT_KIND_MAX ? kind_names[kind] : "?";
}

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

/* The instructions arch/x86/kernel/uprobes.c emulates instead of
 * single-stepping: push reg (optionally REX.B), rel8/rel32 jmp, jcc and
 * call, one-byte nop; any prefix beyond REX.B makes it single-step. */
static int emulated(const cs_insn *in)
{
	const uint8_t *b = in->bytes;

	if (in->size == 1)
		return (b[0] >= 0x50 && b[0] <= 0x57) || b[0] == 0x90;
	if (in->size == 2 && b[0] == 0x41)
		return b[1] >= 0x50 && b[1] <= 0x57;
	if (in->size == 2)
		return (b[0] >= 0x70 && b[0] <= 0x7f) || b[0] == 0xeb;
	if (in->size == 5)
		return b[0] == 0xe8 || b[0] == 0xe9;
	if (in->size == 6)
		return b[0] == 0x0f && b[1] >= 0x80 && b[1] <= 0x8f;
	return 0;
}

/* Sub-registers of %rsp, %rbp, then the argument registers in ABI order. */
static const x86_reg reg_family[8][5] = {
	{ X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL, X86_REG_SPL },
	{ X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL, X86_REG_BPL },
	{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_DIL },
	{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, X86_REG_SIL },
	{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH },
	{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH },
	{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B, X86_REG_R8B },
	{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B, X86_REG_R9B },
};

static int is_watched(x86_reg r, int nargs)
{
	for (int f = 0; f < 2 + nargs && f < 8; f++)
		for (int j = 0; j < 5; j++)
			if (reg_family[f][j] == r)
				return 1;
	return 0;
}

/* Does the instruction change what the probe program reads: %rsp, %rbp,
 * the function's nargs argument registers, or the stack memory? */
static int writes_watched(csh h, const cs_insn *in, int nargs)
{
	cs_regs rd, wr;
	uint8_t nrd, nwr;
	const cs_x86 *x = &in->detail->x86;

	if (cs_regs_access(h, in, rd, &nrd, wr, &nwr))
		return 1;
	for (int i = 0; i < nwr; i++)
		if (is_watched(wr[i], nargs))
			return 1;
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type == X86_OP_MEM && (op->access & CS_AC_WRITE) &&
		    (is_watched(op->mem.base, 0) || op->mem.base == X86_REG_INVALID))
			return 1;
	}
	return 0;
}

static int is_control_flow(csh h, const cs_insn *in)
{
	return cs_insn_group(h, in, CS_GRP_JUMP) || cs_insn_group(h, in, CS_GRP_CALL) ||
	       cs_insn_group(h, in, CS_GRP_RET) || cs_insn_group(h, in, CS_GRP_INT) ||
	       cs_insn_group(h, in, CS_GRP_IRET) || in->id == X86_INS_SYSCALL;
}

static size_t first_emulated(csh h, const uint8_t *code, size_t len, int nargs)
{
	cs_insn *in;
	size_t n = cs_disasm(h, code, len < 128 ? len : 128, 0, MAX_SCAN, &in);
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		if (emulated(&in[i])) {
			off = in[i].address;
			break;
		}
		if (is_control_flow(h, &in[i]) || writes_watched(h, &in[i], nargs))
			break;
	}
	cs_free(in, n);
	return off;
}

/* Does any direct branch in the function land inside (0, off]? */
static int jumped_into(csh h, const uint8_t *code, size_t len, size_t off)
{
	cs_insn *in = cs_malloc(h);
	const uint8_t *p = code;
	uint64_t addr = 0;
	int hit = 0;

	while (!hit && cs_disasm_iter(h, &p, &len, &addr, in)) {
		const cs_x86 *x = &in->detail->x86;

		if (!cs_insn_group(h, in, CS_GRP_JUMP) && !cs_insn_group(h, in, CS_GRP_CALL))
			continue;
		for (int i = 0; i < x->op_count; i++)
			if (x->operands[i].type == X86_OP_IMM && x->operands[i].imm > 0 &&
			    (uint64_t)x->operands[i].imm <= off)
				hit = 1;
	}
	cs_free(in, 1);
	return hit;
}

size_t probe_offset(const uint8_t *code, size_t len, int nargs)
{
	csh h;
	size_t off;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return 0;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	off = first_emulated(h, code, len, nargs);
	if (off && jumped_into(h, code, len, off))
		off = 0;
	cs_close(&h);
	return off;
}

static size_t place(struct elf_file *ef, const struct elf_func *fn, int nargs)
{
	size_t len = fn->size ? fn->size : 128;
	uint8_t *code;
	ssize_t got;
	size_t off;

	if (len > MAX_BODY)
		len = MAX_BODY;
	code = malloc(len);
	if (!code)
		return 0;
	got = pread(ef->fd, code, len, fn->offset);
	off = got > 0 ? probe_offset(code, got, nargs) : 0;
	free(code);
	return off;
}

static int attach_one(struct bpf_program *prog, pid_t pid, const char *obj,
		      uint64_t off, unsigned int kind, int retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = kind, .retprobe = retprobe);
	struct bpf_link *l;

	if (nlinks == MAX_LINKS)
		return -E2BIG;
	l = bpf_program__attach_uprobe_opts(prog, pid, obj, off, &opts);
	if (!l)
		return -errno;
	links[nlinks++] = l;
	return 0;
}

/* Find and place spec in its object; 0 with *pl->obj NULL when absent. */
static int plan_one(const struct probe_spec *sp, const char *obj, struct elf_file *ef,
		    struct placement *all, int n)
{
	struct placement *pl = &all[n];
	struct elf_func fn;
	size_t off;

	if (!obj || elf_find_func(ef, sp->symbol, !elf_is_static(ef), &fn))
		return 0;	/* this allocator lacks it: nothing can call it */
	for (int i = 0; i < n; i++)
		if (all[i].obj == obj && all[i].func == fn.offset)
			return 0;	/* an alias of an entry already placed */
	off = place(ef, &fn, sp->nargs);
	pl->spec = sp;
	pl->func = fn.offset;
	pl->obj = obj;
	pl->offset = fn.offset + off;
	if (probes_verbose)
		fprintf(stderr, "leaktop: probe %s at %s offset 0x%lx (entry+%zu)%s\n",
			sp->symbol, obj, pl->offset, off, sp->has_return ? " with return probe" : "");
	return 1;
}

static int plan(const struct allocator *a, struct placement *pl)
{
	const char *objs[OBJ_MAX] = { a->malloc_obj, a->mmap_obj, a->cxx_obj };
	struct elf_file ef[OBJ_MAX];
	int n = 0;

	for (int o = 0; o < OBJ_MAX; o++)
		if (!objs[o] || elf_file_open(objs[o], &ef[o]))
			objs[o] = NULL;
	if (!objs[OBJ_MALLOC] || !objs[OBJ_MMAP])
		n = -ENOEXEC;
	for (size_t i = 0; n >= 0 && i < NSPECS; i++)
		n += plan_one(&specs[i], objs[specs[i].obj], &ef[specs[i].obj], pl, n);
	for (int o = 0; o < OBJ_MAX; o++)
		if (objs[o])
			elf_file_close(&ef[o]);
	return n;
}

static int attach_placement(struct alloc_bpf *skel, pid_t pid, const struct placement *pl,
			    int retprobe)
{
	struct bpf_program *prog = retprobe ? skel->progs.alloc_return
					    : prog_for(skel, pl->spec->prog);
	int err = attach_one(prog, pid, pl->obj, pl->offset, pl->spec->kind, retprobe);

	if (err)
		fprintf(stderr, "leaktop: cannot attach uprobe to %s in %s: %s\n",
			pl->spec->symbol, pl->obj, strerror(-err));
	return err;
}

/*
 * Return probes go in first: an entry seen before its return probe exists
 * would leave its thread "inside a call" with no return to end it. A return
 * probe shares its entry's placement: %rsp still points at the return
 * address there, which is what the kernel hijacks.
 */
int probes_attach(struct alloc_bpf *skel, pid_t pid, const struct allocator *a)
{
	struct placement pl[NSPECS];
	int n = plan(a, pl), err = 0;

	if (n < 0)
		return n;
	for (int i = 0; !err && i < n; i++)
		if (pl[i].spec->has_return)
			err = attach_placement(skel, pid, &pl[i], 1);
	for (int i = 0; !err && i < n; i++)
		err = attach_placement(skel, pid, &pl[i], 0);
	if (err)
		probes_detach();
	return err;
}

void probes_detach(void)
{
	while (nlinks > 0)
		bpf_link__destroy(links[--nlinks]);
}

int probes_count(void)
{
	return nlinks;
}
