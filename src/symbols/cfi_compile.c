// SPDX-License-Identifier: GPL-2.0
/*
 * .eh_frame -> unwind rows. libdw evaluates the CFI (dwarf_cfi_addrframe
 * gives the rule set of a pc and the range it holds for); the function
 * starts come from the .eh_frame_hdr search table (format: LSB Core spec,
 * "Exception Frame Header"). Only what a return-address walk needs is
 * kept (after shared/notes/unwinding-in-bpf.md §1): the CFA as rsp or rbp
 * plus an offset, the return address at CFA - 8, and where the caller's
 * rbp is. Anything else becomes a stop row.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "symbols/cfi_compile.h"

#define DW_EH_PE_omit	0xff
#define DW_EH_PE_udata4	0x03
#define DW_EH_PE_sdata4	0x0b
#define DW_EH_PE_datarel 0x30
#define REG_RBP		6	/* DWARF x86-64 register numbers */
#define REG_RSP		7
#define REG_RA		16

struct fde_starts {
	uint64_t *pc;
	uint32_t n;
};

static int32_t get_s32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int enc_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case 0x02: case 0x0a: return 2;
	case 0x03: case 0x0b: return 4;
	case 0x00: case 0x04: case 0x0c: return 8;
	}
	return -1;
}

/* The sorted function starts of the .eh_frame_hdr table. */
static int read_hdr(Elf *elf, struct fde_starts *fs)
{
	const uint8_t *h = NULL;
	GElf_Phdr ph;
	size_t nph, len = 0;
	uint64_t vaddr = 0;
	Elf_Data *d;
	int skip;

	if (elf_getphdrnum(elf, &nph))
		return -ENOENT;
	for (size_t i = 0; i < nph && !h; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_GNU_EH_FRAME)
			continue;
		d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_BYTE);
		if (d && d->d_buf) {
			h = d->d_buf;
			len = d->d_size;
			vaddr = ph.p_vaddr;
		}
	}
	if (!h)
		return -ENOENT;
	if (len < 4 || h[0] != 1 || h[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4) ||
	    ((h[2] & 0x0f) != DW_EH_PE_udata4 && (h[2] & 0x0f) != DW_EH_PE_sdata4))
		return -ENOTSUP;
	skip = h[1] == DW_EH_PE_omit ? 0 : enc_size(h[1]);
	if (skip < 0 || len < 8 + (size_t)skip)
		return -ENOTSUP;
	fs->n = (uint32_t)get_s32(h + 4 + skip);
	h += 8 + skip;
	len -= 8 + skip;
	if (fs->n > len / 8)
		return -ENOTSUP;
	fs->pc = malloc((fs->n + 1) * sizeof(*fs->pc));
	if (!fs->pc)
		return -ENOMEM;
	for (uint32_t i = 0; i < fs->n; i++)
		fs->pc[i] = vaddr + get_s32(h + 8 * i);
	return 0;
}

/* DW_OP_call_frame_cfa [DW_OP_plus_uconst N]: a register saved at CFA + N. */
static bool at_cfa(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
	if (nops < 1 || nops > 2 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (nops == 2 && ops[1].atom != DW_OP_plus_uconst)
		return false;
	*off = nops == 2 ? (int64_t)ops[1].number : 0;
	return true;
}

static void rule_cfa(Dwarf_Frame *fr, struct lt_cfi_row *r)
{
	Dwarf_Op *ops;
	size_t nops;
	int64_t off;
	int reg;

	r->cfa = LT_CFA_NONE;
	if (dwarf_frame_cfa(fr, &ops, &nops) || nops != 1)
		return;
	if (ops[0].atom == DW_OP_bregx) {
		reg = ops[0].number;
		off = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		reg = ops[0].atom - DW_OP_breg0;
		off = (int64_t)ops[0].number;
	} else {
		return;
	}
	if ((reg != REG_RSP && reg != REG_RBP) || off <= 0 || off > INT32_MAX)
		return;
	r->cfa = reg == REG_RSP ? LT_CFA_RSP : LT_CFA_RBP;
	r->cfa_off = off;
}

/* The return address at CFA - 8, or undefined (the outermost frame). */
static void rule_ra(Dwarf_Frame *fr, struct lt_cfi_row *r)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t off;

	if (dwarf_frame_register(fr, REG_RA, mem, &ops, &nops)) {
		r->cfa = LT_CFA_NONE;
		return;
	}
	if (nops == 0 && ops == mem) {
		r->cfa = LT_CFA_END;
		return;
	}
	if (!at_cfa(ops, nops, &off) || off != -8)
		r->cfa = LT_CFA_NONE;
}

static void rule_rbp(Dwarf_Frame *fr, struct lt_cfi_row *r)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t off;

	r->rbp = LT_RBP_LOST;
	if (dwarf_frame_register(fr, REG_RBP, mem, &ops, &nops))
		return;
	if (nops == 0) {
		r->rbp = ops ? LT_RBP_LOST : LT_RBP_SAME;
		return;
	}
	if (at_cfa(ops, nops, &off) && off >= INT16_MIN && off < 0) {
		r->rbp = LT_RBP_AT;
		r->rbp_off = off;
	}
}

static bool same_rule(const struct lt_cfi_row *a, const struct lt_cfi_row *b)
{
	return a->cfa == b->cfa && a->cfa_off == b->cfa_off && a->rbp == b->rbp &&
	       a->rbp_off == b->rbp_off;
}

/*
 * Frame-pointer code: rsp + 8 (entry, after the epilogue) or rsp + 16 with
 * rbp just pushed, else rbp + 16 with the caller's rbp at CFA - 16. A
 * return address (16-byte aligned calls) never sits under an rsp + 8 row,
 * so there the frame-pointer step is exact. rsp + 16 with rbp untouched is
 * a push of another register: code without frame pointers.
 */
static bool fp_rule(const struct lt_cfi_row *r)
{
	bool rbp_pushed = r->rbp == LT_RBP_AT && r->rbp_off == -16;

	if (r->cfa == LT_CFA_RSP)
		return r->cfa_off == 8 || (r->cfa_off == 16 && rbp_pushed);
	if (r->cfa == LT_CFA_RBP)
		return r->cfa_off == 16 && rbp_pushed;
	return true;
}

static int push_row(struct cfi_table *t, uint32_t *cap, const struct lt_cfi_row *r)
{
	struct lt_cfi_row *n;

	if (t->n && same_rule(&t->rows[t->n - 1], r))
		return 0;
	if (t->n && t->rows[t->n - 1].pc == r->pc) {
		t->rows[t->n - 1] = *r;	/* an empty range: the later rule wins */
		return 0;
	}
	if (t->n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		n = realloc(t->rows, *cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->rows = n;
	}
	t->rows[t->n++] = *r;
	return 0;
}

/* The rows of one function, from start up to limit (the next one). */
static int walk_fde(Dwarf_CFI *cfi, uint64_t start, uint64_t limit, struct cfi_table *t,
		    uint32_t *cap, uint32_t *nrbp)
{
	uint32_t unsupported = t->unsupported;
	bool fp = true, sig;
	struct lt_cfi_row r;
	uint64_t pc = start;
	Dwarf_Addr lo, hi;
	Dwarf_Frame *fr;
	int err = 0;

	while (pc < limit && !err) {
		memset(&r, 0, sizeof(r));
		r.pc = pc;
		if (dwarf_cfi_addrframe(cfi, pc, &fr)) {
			err = push_row(t, cap, &r);	/* a gap: a stop row */
			break;
		}
		dwarf_frame_info(fr, &lo, &hi, &sig);
		rule_cfa(fr, &r);
		if (r.cfa != LT_CFA_NONE)
			rule_ra(fr, &r);
		if (r.cfa != LT_CFA_NONE && r.cfa != LT_CFA_END)
			rule_rbp(fr, &r);
		free(fr);
		if (sig)
			r.cfa = LT_CFA_NONE;	/* a signal frame: not followed */
		if (r.cfa == LT_CFA_NONE) {
			r.rbp = 0;
			r.cfa_off = r.rbp_off = 0;
			t->unsupported++;
		}
		fp = fp && fp_rule(&r);
		*nrbp += r.cfa == LT_CFA_RBP;
		err = push_row(t, cap, &r);
		if (hi <= pc)
			break;
		pc = hi;
	}
	/* A function with rules we do not follow (the .plt's expression)
	 * is not asked: no return address is ever in it. */
	if (t->unsupported == unsupported)
		t->fp = t->fp && fp;
	return err;
}

int cfi_compile(Elf *elf, struct cfi_table *t)
{
	struct fde_starts fs = { 0 };
	uint32_t cap = 0, nrbp = 0;
	Dwarf_CFI *cfi;
	int err;

	memset(t, 0, sizeof(*t));
	err = read_hdr(elf, &fs);
	if (!err)
		err = cfi_screen(elf);
	if (err) {
		free(fs.pc);
		return err;
	}
	cfi = dwarf_getcfi_elf(elf);
	if (!cfi) {
		free(fs.pc);
		return -ENOENT;
	}
	t->fp = true;
	for (uint32_t i = 0; i < fs.n && !err; i++) {
		uint64_t limit = i + 1 < fs.n ? fs.pc[i + 1] : UINT64_MAX;

		if (fs.pc[i] > UINT32_MAX || (i && fs.pc[i] < fs.pc[i - 1]))
			err = -ENOTSUP;	/* rows hold 32-bit pcs, sorted */
		else
			err = walk_fde(cfi, fs.pc[i], limit, t, &cap, &nrbp);
	}
	dwarf_cfi_end(cfi);
	free(fs.pc);
	t->fp = t->fp && nrbp > 0;
	if (!err && t->n == 0)
		err = -ENOENT;
	if (err) {
		free(t->rows);
		memset(t, 0, sizeof(*t));
	}
	return err;
}
