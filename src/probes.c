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
};

enum prog_id { P_SIZE0, P_SIZE1, P_CALLOC, P_REALLOC, P_REALLOCARRAY, P_MEMALIGN_PTR,
	       P_MMAP, P_MREMAP, P_MUNMAP, P_FREE };

struct probe_spec {
	unsigned int kind;
	enum prog_id prog;
	int mmap_family;	/* found in allocator.mmap_obj */
	int has_return;
	int nargs;	/* argument registers the entry program reads */
};

/* Order matters for aliases: glibc's aligned_alloc is memalign, and the
 * first name listed for an address is the one attached. */
static const struct probe_spec specs[] = {
	{ LT_MALLOC, P_SIZE0, 0, 1, 1 },
	{ LT_FREE, P_FREE, 0, 0, 1 },
	{ LT_CALLOC, P_CALLOC, 0, 1, 2 },
	{ LT_REALLOC, P_REALLOC, 0, 1, 2 },
	{ LT_REALLOCARRAY, P_REALLOCARRAY, 0, 1, 3 },
	{ LT_POSIX_MEMALIGN, P_MEMALIGN_PTR, 0, 1, 3 },
	{ LT_ALIGNED_ALLOC, P_SIZE1, 0, 1, 2 },
	{ LT_MEMALIGN, P_SIZE1, 0, 1, 2 },
	{ LT_VALLOC, P_SIZE0, 0, 1, 1 },
	{ LT_PVALLOC, P_SIZE0, 0, 1, 1 },
	{ LT_MMAP, P_MMAP, 1, 1, 4 },
	{ LT_MREMAP, P_MREMAP, 1, 1, 3 },
	{ LT_MUNMAP, P_MUNMAP, 1, 1, 2 },
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

static int attach_spec(struct alloc_bpf *skel, pid_t pid, const struct probe_spec *s,
		       const char *obj, struct elf_file *ef, uint64_t *seen, int *nseen)
{
	struct elf_func fn;
	size_t off;
	int err;

	if (elf_find_func(ef, kind_names[s->kind], !elf_is_static(ef), &fn))
		return 0;	/* this allocator lacks it: nothing can call it */
	for (int i = 0; i < *nseen; i++)
		if (seen[i] == fn.offset)
			return 0;	/* an alias of an entry already probed */
	seen[(*nseen)++] = fn.offset;
	off = place(ef, &fn, s->nargs);
	if (probes_verbose)
		fprintf(stderr, "leaktop: probe %s at %s offset 0x%lx (entry+%zu)%s\n",
			kind_names[s->kind], obj, fn.offset + off, off,
			s->has_return ? " with return probe" : "");
	err = attach_one(prog_for(skel, s->prog), pid, obj, fn.offset + off, s->kind, 0);
	/* The return probe shares the placement: %rsp still points at the
	 * return address there, which is what the kernel hijacks. */
	if (!err && s->has_return)
		err = attach_one(skel->progs.alloc_return, pid, obj, fn.offset + off, s->kind, 1);
	if (err)
		fprintf(stderr, "leaktop: cannot attach uprobe to %s in %s: %s\n",
			kind_names[s->kind], obj, strerror(-err));
	return err;
}

int probes_attach(struct alloc_bpf *skel, pid_t pid, const struct allocator *a)
{
	struct elf_file ef_malloc, ef_mmap;
	uint64_t seen[LT_KIND_MAX * 2];
	int nseen = 0, err = 0;

	if (elf_file_open(a->malloc_obj, &ef_malloc))
		return -ENOEXEC;
	if (elf_file_open(a->mmap_obj, &ef_mmap)) {
		elf_file_close(&ef_malloc);
		return -ENOEXEC;
	}
	for (size_t i = 0; !err && i < sizeof(specs) / sizeof(specs[0]); i++) {
		const struct probe_spec *s = &specs[i];

		if (s->mmap_family && i > 0 && !specs[i - 1].mmap_family)
			nseen = 0;	/* a different object: offsets start over */
		err = attach_spec(skel, pid, s, s->mmap_family ? a->mmap_obj : a->malloc_obj,
				  s->mmap_family ? &ef_mmap : &ef_malloc, seen, &nseen);
	}
	elf_file_close(&ef_malloc);
	elf_file_close(&ef_mmap);
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
