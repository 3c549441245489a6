// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime variables of stripped binaries, found by decoding runtime code.
 */
#include <errno.h>
#include <string.h>
#include "go/gobin_priv.h"

/* ---------------------------------------------------- code references */

struct xop {
	uint8_t type;		/* X86_OP_REG, X86_OP_IMM, X86_OP_MEM */
	uint8_t size;
	unsigned reg;
	int64_t imm;
	uint64_t target;	/* the address a memory operand names, 0 if unknown */
};

struct xinsn {
	unsigned id;
	uint8_t nops;
	struct xop op[2];
};

struct xcode {
	struct xinsn *v;
	size_t n;
};

/* The memory operand's address: RIP-relative, or through a register that
 * a `lea sym(%rip), reg` loaded (Go's atomic stores use that form). */
static uint64_t mem_target(const cs_insn *in, const cs_x86_op *op, const uint64_t *lea)
{
	const x86_op_mem *m = &op->mem;

	if (m->index != X86_REG_INVALID || m->segment != X86_REG_INVALID)
		return 0;
	if (m->base == X86_REG_RIP)
		return in->address + in->size + m->disp;
	if (m->base < X86_REG_ENDING && lea[m->base] && m->disp == 0)
		return lea[m->base];
	return 0;
}

static void xinsn_fill(const cs_insn *in, uint64_t *lea, struct xinsn *x)
{
	const cs_x86 *d = &in->detail->x86;

	memset(x, 0, sizeof(*x));
	x->id = in->id;
	x->nops = d->op_count < 2 ? d->op_count : 2;
	for (int i = 0; i < x->nops; i++) {
		const cs_x86_op *op = &d->operands[i];

		x->op[i].type = op->type;
		x->op[i].size = op->size;
		if (op->type == X86_OP_REG)
			x->op[i].reg = op->reg;
		else if (op->type == X86_OP_IMM)
			x->op[i].imm = op->imm;
		else if (op->type == X86_OP_MEM)
			x->op[i].target = mem_target(in, op, lea);
	}
	if (in->id == X86_INS_CALL) {
		memset(lea, 0, X86_REG_ENDING * sizeof(*lea));
		return;
	}
	if (x->nops < 1 || x->op[0].type != X86_OP_REG || x->op[0].reg >= X86_REG_ENDING)
		return;
	/* the destination register now holds something else, or the address */
	lea[x->op[0].reg] = in->id == X86_INS_LEA && x->nops == 2 ? x->op[1].target : 0;
}

int gb_cs_open(struct gobin_priv *p)
{
	if (p->cs_open)
		return 0;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &p->cs) != CS_ERR_OK)
		return -ENOTSUP;
	cs_option(p->cs, CS_OPT_DETAIL, CS_OPT_ON);
	cs_option(p->cs, CS_OPT_SKIPDATA, CS_OPT_ON);
	p->cs_open = true;
	return 0;
}

/* Decode a function (found in the pclntab, never .symtab, so that this is
 * what a stripped binary gives) into operand summaries. */
static int xcode_decode(struct gobin *g, const char *func, struct xcode *xc)
{
	struct gobin_priv *p = g->priv;
	uint64_t va, size, *lea;
	const uint8_t *code;
	cs_insn *ins;
	size_t n;
	int err;

	memset(xc, 0, sizeof(*xc));
	err = pcln_find_name(p, func, &va, &size);
	if (err)
		return err;
	if (!size || size > MAX_FUNC_BYTES || !(code = gb_at_vaddr(p, va, size, NULL)))
		return -ENOENT;
	if ((err = gb_cs_open(p)))
		return err;
	n = cs_disasm(p->cs, code, size, va, 0, &ins);
	lea = calloc(X86_REG_ENDING, sizeof(*lea));
	xc->v = calloc(n ? n : 1, sizeof(*xc->v));
	if (!lea || !xc->v) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (ins[i].detail)
			xinsn_fill(&ins[i], lea, &xc->v[xc->n++]);
	err = xc->n ? 0 : -ENOENT;
out:
	if (n)
		cs_free(ins, n);
	free(lea);
	if (err) {
		free(xc->v);
		xc->v = NULL;
	}
	return err;
}

/* `mov reg64, qword [addr]`: the k-th such load in the function. */
static bool xload(const struct xinsn *x, uint64_t *addr)
{
	if (x->id != X86_INS_MOV || x->nops != 2 || x->op[0].type != X86_OP_REG ||
	    x->op[1].type != X86_OP_MEM || x->op[1].size != 8 || !x->op[1].target)
		return false;
	*addr = x->op[1].target;
	return true;
}

static bool xrefs(const struct xcode *xc, uint64_t addr)
{
	for (size_t i = 0; i < xc->n; i++)
		for (int k = 0; k < xc->v[i].nops; k++)
			if (xc->v[i].op[k].type == X86_OP_MEM && xc->v[i].op[k].target == addr)
				return true;
	return false;
}

static bool xxchg(const struct xcode *xc, uint64_t addr)
{
	for (size_t i = 0; i < xc->n; i++)
		if (xc->v[i].id == X86_INS_XCHG && xc->v[i].op[0].type == X86_OP_MEM &&
		    xc->v[i].op[0].target == addr)
			return true;
	return false;
}

/* Read (by mov or cmp) somewhere in the function, not only written. */
static bool xread(const struct xcode *xc, uint64_t addr)
{
	uint64_t a;

	for (size_t i = 0; i < xc->n; i++) {
		const struct xinsn *x = &xc->v[i];

		if (xload(x, &a) && a == addr)
			return true;
		if (x->id == X86_INS_CMP && x->nops == 2 &&
		    ((x->op[0].type == X86_OP_MEM && x->op[0].target == addr) ||
		     (x->op[1].type == X86_OP_MEM && x->op[1].target == addr)))
			return true;
	}
	return false;
}

/*
 * runtime.allgs ([]*g) and runtime.allglen, runtime.allgptr, from
 *
 *   func allgadd(gp *g) {            // proc.go, unchanged 1.17 .. 1.26
 *	lock(&allglock)
 *	allgs = append(allgs, gp)
 *	if &allgs[0] != allgptr {
 *		atomicstorep(unsafe.Pointer(&allgptr), unsafe.Pointer(&allgs[0]))
 *	}
 *	atomic.Storeuintptr(&allglen, uintptr(len(allgs)))
 *	unlock(&allglock)
 *   }
 *   func forEachG(fn func(gp *g)) { lock(&allglock); for _, gp := range allgs {...} }
 *   func forEachGRace(fn func(gp *g)) {
 *	ptr, length := atomicAllG()   // Loaduintptr(&allglen), then Loadp(&allgptr)
 *	...
 *   }
 *
 * These are the runtime's own accessors of those variables: allgadd is the
 * only writer (called for every new g, never inlined: it throws and calls
 * lock), and forEachG/forEachGRace are how the runtime reads them. What is
 * used is what cannot change without changing the data structure itself:
 * append reads a slice's three words (allgs, +8, +16), range reads two
 * (ptr, len), the two atomic loads in atomicAllG are ordered (allglen
 * first), and atomic stores on amd64 are XCHG. Each variable is found in
 * one function and confirmed in another when both exist.
 */
/* append reads and writes all three words of the slice header */
static bool slice_triple(const struct xcode *xc, uint64_t a)
{
	return xrefs(xc, a) && xrefs(xc, a + 8) && xrefs(xc, a + 16);
}

/* range reads its ptr and len: the first qword load followed by one 8 above */
static uint64_t range_pair(const struct xcode *xc)
{
	uint64_t a, b;

	for (size_t i = 0; i < xc->n; i++) {
		if (!xload(&xc->v[i], &a))
			continue;
		for (size_t j = 0; j < xc->n; j++)
			if (xload(&xc->v[j], &b) && b == a + 8)
				return a;
	}
	return 0;
}

static int var_allgs(struct gobin *g, uint64_t *out)
{
	struct xcode add, each;
	bool have_add = xcode_decode(g, "runtime.allgadd", &add) == 0;
	bool have_each = xcode_decode(g, "runtime.forEachG", &each) == 0;
	uint64_t a, found = 0;
	int triples = 0;

	if (have_each)
		found = range_pair(&each);
	if (found && have_add && !slice_triple(&add, found))
		found = 0;
	/* allgadd alone: the one slice header it appends to */
	for (size_t i = 0; !have_each && have_add && i < add.n; i++) {
		if (xload(&add.v[i], &a) && a != found && slice_triple(&add, a)) {
			found = a;
			triples++;
		}
	}
	if (triples > 1)
		found = 0;
	if (have_add)
		free(add.v);
	if (have_each)
		free(each.v);
	*out = found;
	return found ? 0 : -ENOENT;
}

/* nth = 0: allglen, nth = 1: allgptr (the order of atomicAllG's loads). */
static int var_allg_atomic(struct gobin *g, int nth, uint64_t *out)
{
	struct xcode race, add;
	bool have_race = xcode_decode(g, "runtime.forEachGRace", &race) == 0;
	bool have_add = xcode_decode(g, "runtime.allgadd", &add) == 0;
	uint64_t a, found = 0;
	int k = 0;

	for (size_t i = 0; have_race && i < race.n && !found; i++)
		if (xload(&race.v[i], &a) && k++ == nth)
			found = a;
	if (found && have_add && !xxchg(&add, found))
		found = 0;	/* allgadd stores both atomically */
	/* Only allgadd: allglen is the XCHG target it never reads; allgptr is
	 * the one it also compares with &allgs[0]. */
	for (size_t i = 0; !have_race && have_add && i < add.n && !found; i++) {
		const struct xinsn *x = &add.v[i];

		if (x->id == X86_INS_XCHG && x->op[0].type == X86_OP_MEM && x->op[0].target &&
		    xread(&add, x->op[0].target) == (nth == 1))
			found = x->op[0].target;
	}
	if (have_race)
		free(race.v);
	if (have_add)
		free(add.v);
	*out = found;
	return found ? 0 : -ENOENT;
}

/*
 * runtime.MemProfileRate, from nextSample() inlined into profilealloc (and
 * allocmcache): `if MemProfileRate == 1 { return 0 }` compiles to a qword
 * load compared with 1 (1.17 .. 1.26; newer versions test for 0 first,
 * which puts up to five instructions between: 1.26).
 * It is the one variable the sampling decision reads, so the comparison
 * with 1 stays as long as rate 1 means "every allocation".
 */
static bool memprofilerate_in(const struct xcode *xc, uint64_t *out)
{
	uint64_t a;

	for (size_t i = 0; i < xc->n; i++) {
		const struct xinsn *x = &xc->v[i];

		if (x->id == X86_INS_CMP && x->nops == 2 && x->op[0].type == X86_OP_MEM &&
		    x->op[0].size == 8 && x->op[0].target && x->op[1].type == X86_OP_IMM &&
		    x->op[1].imm == 1) {
			*out = x->op[0].target;
			return true;
		}
		if (!xload(x, &a))
			continue;
		for (size_t j = i + 1; j < xc->n && j <= i + 6; j++) {
			const struct xinsn *c = &xc->v[j];

			if (c->id == X86_INS_CMP && c->nops == 2 && c->op[0].type == X86_OP_REG &&
			    c->op[0].reg == x->op[0].reg && c->op[1].type == X86_OP_IMM &&
			    c->op[1].imm == 1) {
				*out = a;
				return true;
			}
		}
	}
	return false;
}

static int var_memprofilerate(struct gobin *g, uint64_t *out)
{
	static const char *const funcs[] = { "runtime.profilealloc", "runtime.allocmcache",
					     "runtime.nextSample" };

	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		struct xcode xc;
		bool ok;

		if (xcode_decode(g, funcs[i], &xc))
			continue;
		ok = memprofilerate_in(&xc, out);
		free(xc.v);
		if (ok)
			return 0;
	}
	return -ENOENT;
}

/*
 * runtime.buildVersion, from schedinit (proc.go, 1.16 .. 1.26):
 *
 *	if buildVersion == "" {
 *		buildVersion = "unknown"	// keeps the variable in the binary
 *	}
 *
 * compiles to `cmp qword [len], 0` then `mov qword [len], 7`: the string
 * header is the 16 bytes before len. What binaries without buildinfo
 * (esbuild 0.27+) still carry.
 */
static int var_buildversion(struct gobin *g, uint64_t *out)
{
	struct xcode xc;
	uint64_t len = 0;

	if (xcode_decode(g, "runtime.schedinit", &xc))
		return -ENOENT;
	for (size_t i = 0; i + 1 < xc.n && !len; i++) {
		const struct xinsn *c = &xc.v[i];

		if (c->id != X86_INS_CMP || c->nops != 2 || c->op[0].type != X86_OP_MEM ||
		    c->op[0].size != 8 || !c->op[0].target || c->op[1].type != X86_OP_IMM ||
		    c->op[1].imm != 0)
			continue;
		for (size_t j = i + 1; j < xc.n && j <= i + 3; j++) {
			const struct xinsn *m = &xc.v[j];

			if (m->id == X86_INS_MOV && m->nops == 2 && m->op[0].type == X86_OP_MEM &&
			    m->op[0].target == c->op[0].target && m->op[1].type == X86_OP_IMM &&
			    m->op[1].imm == 7)
				len = m->op[0].target;
		}
	}
	free(xc.v);
	*out = len - 8;
	return len ? 0 : -ENOENT;
}

int gobin_find_var_code(struct gobin *g, const char *name, uint64_t *vaddr)
{
	struct gobin_priv *p = g->priv;
	GElf_Ehdr eh;
	uint64_t a;
	int err;

	if (!p || !p->have_pcln || !gelf_getehdr(p->elf, &eh) || eh.e_machine != EM_X86_64)
		return -ENOENT;
	if (strcmp(name, "runtime.allgs") == 0)
		err = var_allgs(g, &a);
	else if (strcmp(name, "runtime.allglen") == 0)
		err = var_allg_atomic(g, 0, &a);
	else if (strcmp(name, "runtime.allgptr") == 0)
		err = var_allg_atomic(g, 1, &a);
	else if (strcmp(name, "runtime.MemProfileRate") == 0)
		err = var_memprofilerate(g, &a);
	else if (strcmp(name, "runtime.buildVersion") == 0)
		err = var_buildversion(g, &a);
	else
		err = -ENOENT;
	if (err || !gb_in_data(p, a))
		return -ENOENT;
	*vaddr = a;
	return 0;
}

int gobin_find_var(struct gobin *g, const char *name, uint64_t *vaddr)
{
	struct gobin_priv *p = g->priv;
	GElf_Sym sym;

	if (!p)
		return -EINVAL;
	if (gb_sym_lookup(p, name, STT_OBJECT, &sym) == 0) {
		*vaddr = sym.st_value;
		return 0;
	}
	return gobin_find_var_code(g, name, vaddr);
}

int gobin_tls_g(struct gobin *g, int *off)
{
	struct gobin_priv *p = g->priv;
	uint64_t va, size;
	const uint8_t *code;
	cs_insn *ins;
	size_t n;
	int err = -ENOENT;

	if (!p || pcln_find_name(p, "runtime.gopark", &va, &size) || size < 16 ||
	    !(code = gb_at_vaddr(p, va, 16, NULL)) || gb_cs_open(p))
		return -ENOENT;
	/* the prologue's first instruction loads g for the stack-bound check */
	n = cs_disasm(p->cs, code, 16, va, 1, &ins);
	if (n && ins[0].id == X86_INS_MOV && ins[0].detail->x86.op_count == 2) {
		const cs_x86_op *m = &ins[0].detail->x86.operands[1];

		if (m->type == X86_OP_MEM && m->mem.segment == X86_REG_FS &&
		    m->mem.base == X86_REG_INVALID && m->mem.index == X86_REG_INVALID &&
		    m->mem.disp < 0 && m->mem.disp >= -4096) {
			*off = (int)m->mem.disp;
			err = 0;
		}
	}
	if (n)
		cs_free(ins, n);
	return err;
}
