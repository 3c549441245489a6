// SPDX-License-Identifier: GPL-2.0
/*
 * The runtime.g layout by decoding the runtime's own code, for a release
 * without a table in a binary without DWARF (Go 1.21+, register ABI).
 * Each offset comes from the one place that writes or reads the field for
 * its own sake:
 *
 *   casgstatus(gp, old, new)     the CAS on gp.atomicstatus (LOCK CMPXCHG)
 *   gopark(..., reason, ...)     gp.waitreason = reason (a byte store of CL)
 *   newproc1(fn, callergp, pc)   newg.parentGoid = callergp.goid,
 *                                newg.gopc = callerpc, newg.startpc = fn.fn
 *   mcall (assembly)             g.sched.pc, .sp, .bp stored through R14
 *
 * newproc1's arguments are followed through registers and stack spills in
 * one linear pass (a value is forgotten when its register is written or a
 * call clobbers it). Equal to the tables on shipped builds of Go 1.21 to
 * 1.26 (esbuild, lefthook; tests/unit/gobin_tests.c, gobin_real_npm).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "go/gobin_priv.h"

enum val { V_NONE, V_FN, V_GP, V_PC, V_GP_FIELD, V_FN_ENTRY };

struct sym {
	enum val v;
	int64_t off;	/* V_GP_FIELD: the field of callergp loaded */
};

#define NSLOTS 64

struct flow {
	struct sym reg[X86_REG_ENDING];
	int64_t slot_at[NSLOTS];	/* stack slots, by offset from the entry SP */
	struct sym slot[NSLOTS];
	int nslots;
	int64_t sp;	/* SP now, relative to SP at entry */
};

/* The 64-bit register a sub-register belongs to (Go stores full words). */
static x86_reg full(x86_reg r)
{
	static const x86_reg map[][4] = {
		{ X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL },
		{ X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL },
		{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL },
		{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL },
		{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL },
		{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL },
		{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B },
		{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B },
		{ X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B },
		{ X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		for (int j = 0; j < 4; j++)
			if (map[i][j] == r)
				return map[i][0];
	return r;
}

static struct sym *slot(struct flow *f, int64_t disp, bool make)
{
	int64_t at = f->sp + disp;

	for (int i = 0; i < f->nslots; i++)
		if (f->slot_at[i] == at)
			return &f->slot[i];
	if (!make || f->nslots == NSLOTS)
		return NULL;
	f->slot_at[f->nslots] = at;
	f->slot[f->nslots] = (struct sym){ V_NONE, 0 };
	return &f->slot[f->nslots++];
}

static int disasm(struct gobin *g, const char *func, cs_insn **ins, size_t *n)
{
	struct gobin_priv *p = g->priv;
	const uint8_t *code;
	uint64_t va, size;

	if (pcln_find_name(p, func, &va, &size) || !size || size > MAX_FUNC_BYTES ||
	    !(code = gb_at_vaddr(p, va, size, NULL)) || gb_cs_open(p))
		return -ENOENT;
	*n = cs_disasm(p->cs, code, size, va, 0, ins);
	return *n ? 0 : -ENOENT;
}

static bool plain_mem(const cs_x86_op *op)
{
	return op->type == X86_OP_MEM && op->mem.index == X86_REG_INVALID &&
	       op->mem.segment == X86_REG_INVALID;
}

/* What a load from memory operand m gives, given the values we follow. */
static struct sym load(struct flow *f, const cs_x86_op *m)
{
	struct sym *s, b;

	if (m->mem.base == X86_REG_RSP)
		return (s = slot(f, m->mem.disp, false)) ? *s : (struct sym){ V_NONE, 0 };
	b = f->reg[full(m->mem.base)];
	if (b.v == V_GP)
		return (struct sym){ V_GP_FIELD, m->mem.disp };
	if (b.v == V_FN && m->mem.disp == 0)
		return (struct sym){ V_FN_ENTRY, 0 };
	return (struct sym){ V_NONE, 0 };
}

static void found(int *field, int64_t off)
{
	if (*field < 0 && off > 0 && off < 4096)
		*field = (int)off;
}

/* A store of a followed value into a field of newg. */
static void store(struct flow *f, const cs_x86_op *m, struct sym v, struct go_layout *out)
{
	struct sym *s;

	if (m->mem.base == X86_REG_RSP) {
		if ((s = slot(f, m->mem.disp, true)))
			*s = v;
		return;
	}
	if (v.v == V_GP_FIELD && out->g_parentgoid < 0) {
		found(&out->g_goid, v.off);
		found(&out->g_parentgoid, m->mem.disp);
	} else if (v.v == V_PC) {
		found(&out->g_gopc, m->mem.disp);
	} else if (v.v == V_FN_ENTRY) {
		found(&out->g_startpc, m->mem.disp);
	}
}

static void clobber(struct gobin_priv *p, struct flow *f, const cs_insn *in)
{
	cs_regs rd, wr;
	uint8_t nrd, nwr;

	if (in->id == X86_INS_CALL) {	/* ABIInternal: every register but SP, BP, R14 */
		for (int r = 0; r < X86_REG_ENDING; r++)
			if (r != X86_REG_RSP && r != X86_REG_RBP && r != X86_REG_R14)
				f->reg[r].v = V_NONE;
		return;
	}
	if (cs_regs_access(p->cs, in, rd, &nrd, wr, &nwr))
		return;
	for (int i = 0; i < nwr; i++)
		f->reg[full(wr[i])].v = V_NONE;
}

static void track_sp(struct flow *f, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	if (in->id == X86_INS_PUSH)
		f->sp -= 8;
	else if (in->id == X86_INS_POP)
		f->sp += 8;
	else if ((in->id == X86_INS_SUB || in->id == X86_INS_ADD) && x->op_count == 2 &&
		 x->operands[0].type == X86_OP_REG && x->operands[0].reg == X86_REG_RSP &&
		 x->operands[1].type == X86_OP_IMM)
		f->sp += in->id == X86_INS_SUB ? -x->operands[1].imm : x->operands[1].imm;
}

static void step(struct gobin_priv *p, struct flow *f, const cs_insn *in, struct go_layout *out)
{
	const cs_x86 *x = &in->detail->x86;
	const cs_x86_op *a = &x->operands[0], *b = &x->operands[1];
	struct sym v = { V_NONE, 0 };

	if (in->id == X86_INS_MOV && x->op_count == 2 && a->size == 8) {
		if (a->type == X86_OP_MEM && b->type == X86_OP_REG && plain_mem(a)) {
			store(f, a, f->reg[full(b->reg)], out);
			return;
		}
		if (a->type == X86_OP_REG && b->type == X86_OP_REG)
			v = f->reg[full(b->reg)];
		else if (a->type == X86_OP_REG && plain_mem(b))
			v = load(f, b);
		if (a->type == X86_OP_REG) {
			f->reg[full(a->reg)] = v;
			return;
		}
	}
	track_sp(f, in);
	clobber(p, f, in);
}

static void decode_newproc1(struct gobin *g, struct go_layout *out)
{
	struct flow *f = calloc(1, sizeof(*f));
	cs_insn *ins;
	size_t n;

	if (!f || disasm(g, "runtime.newproc1", &ins, &n)) {
		free(f);
		return;
	}
	f->reg[X86_REG_RAX].v = V_FN;	/* newproc1(fn, callergp, callerpc, ...) */
	f->reg[X86_REG_RBX].v = V_GP;
	f->reg[X86_REG_RCX].v = V_PC;
	for (size_t i = 0; i < n; i++)
		if (ins[i].detail)
			step(g->priv, f, &ins[i], out);
	cs_free(ins, n);
	free(f);
}

/* The displacement of the first instruction of func that match accepts
 * (its destination is a plain memory operand), or -1. */
static int64_t first_store(struct gobin *g, const char *func, bool (*match)(const cs_insn *in))
{
	int64_t disp = -1;
	cs_insn *ins;
	size_t n;

	if (disasm(g, func, &ins, &n))
		return -1;
	for (size_t i = 0; i < n && disp < 0; i++)
		if (ins[i].detail && plain_mem(&ins[i].detail->x86.operands[0]) && match(&ins[i]))
			disp = ins[i].detail->x86.operands[0].mem.disp;
	cs_free(ins, n);
	return disp;
}

/* casgstatus: the CAS on gp.atomicstatus (uint32) */
static bool status_cas(const cs_insn *in)
{
	return in->id == X86_INS_CMPXCHG && in->detail->x86.operands[0].size == 4;
}

/* gopark: gp.waitreason = reason, a byte store of CL off the stack */
static bool reason_store(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	return in->id == X86_INS_MOV && x->op_count == 2 &&
	       x->operands[0].mem.base != X86_REG_RSP && x->operands[1].type == X86_OP_REG &&
	       x->operands[1].reg == X86_REG_CL;
}

/* mcall saves the caller's pc, sp, then bp into g.sched through R14. */
static void decode_mcall(struct gobin *g, struct go_layout *out)
{
	int64_t at[3];
	cs_insn *ins;
	size_t n;
	int k = 0;

	if (disasm(g, "runtime.mcall", &ins, &n))
		return;
	for (size_t i = 0; i < n && k < 3 && i < 32; i++) {
		const cs_x86 *x = ins[i].detail ? &ins[i].detail->x86 : NULL;

		if (x && ins[i].id == X86_INS_MOV && x->op_count == 2 &&
		    plain_mem(&x->operands[0]) && x->operands[0].mem.base == X86_REG_R14)
			at[k++] = x->operands[0].mem.disp;
	}
	cs_free(ins, n);
	if (k < 3 || at[0] != at[1] + 8 || at[2] <= at[1] || at[2] - at[1] > 64)
		return;
	out->g_sched = (int)at[1];
	out->gobuf_sp = 0;
	out->gobuf_pc = 8;
	out->gobuf_bp = (int)(at[2] - at[1]);
}

int gobin_layout_decode(struct gobin *g, struct go_layout *out)
{
	struct gobin_priv *p = g->priv;

	if (!p || !p->have_pcln || !g->regabi)
		return -ENOTSUP;
	found(&out->g_atomicstatus, first_store(g, "runtime.casgstatus", status_cas));
	found(&out->g_waitreason, first_store(g, "runtime.gopark", reason_store));
	decode_newproc1(g, out);
	decode_mcall(g, out);
	return out->g_goid >= 0 && out->g_atomicstatus >= 0 && out->g_waitreason >= 0 &&
	       out->g_gopc >= 0 && out->g_startpc >= 0 && out->g_sched >= 0 ? 0 : -ENODATA;
}
