// SPDX-License-Identifier: GPL-2.0
/*
 * Read every CFA instruction of an object's .eh_frame before libdw runs
 * it. libdw grows a frame's register array to the largest register number
 * an instruction names: one FDE naming register 2^31 made a single
 * dwarf_cfi_addrframe call memset gigabytes for 3 s (found by fuzz_cfi).
 * x86-64 DWARF numbers its registers below 130 (psABI, "DWARF Register
 * Number Mapping"), so an object naming a larger one, or an opcode
 * compilers do not emit, is not compiled: it gets the frame-pointer walk.
 */
#include <elfutils/libdw.h>
#include <errno.h>
#include <string.h>
#include "symbols/cfi_compile.h"

#define MAX_REG 130

struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t uleb(struct cursor *c)
{
	uint64_t v = 0;

	for (int shift = 0; c->p < c->end && shift < 64; shift += 7) {
		uint8_t b = *c->p++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	c->bad = true;
	return 0;
}

static void skip(struct cursor *c, uint64_t n)
{
	if (n > (uint64_t)(c->end - c->p)) {
		c->bad = true;
		c->p = c->end;
		return;
	}
	c->p += n;
}

static void reg(struct cursor *c)
{
	if (uleb(c) > MAX_REG)
		c->bad = true;
}

/* One instruction's operands (DWARF 5 §6.4.2, GNU extensions 0x2d-0x2f). */
static void operands(struct cursor *c, uint8_t op)
{
	switch (op & 0xc0) {
	case 0x40:	/* advance_loc, restore: the operand is in op */
	case 0xc0:
		return;
	case 0x80:	/* offset: register in op, then an offset */
		uleb(c);
		return;
	}
	switch (op) {
	case 0x00: case 0x0a: case 0x0b: case 0x2d:
		return;
	case 0x02: skip(c, 1); return;
	case 0x03: skip(c, 2); return;
	case 0x04: skip(c, 4); return;
	case 0x0e: case 0x13: case 0x2e:
		uleb(c);
		return;
	case 0x06: case 0x07: case 0x08: case 0x0d:
		reg(c);
		return;
	case 0x05: case 0x09: case 0x0c: case 0x11: case 0x12:
	case 0x14: case 0x15: case 0x2f:
		reg(c);
		uleb(c);	/* a second register is checked by the caller */
		return;
	case 0x0f:
		skip(c, uleb(c));
		return;
	case 0x10: case 0x16:
		reg(c);
		skip(c, uleb(c));
		return;
	}
	c->bad = true;	/* set_loc (needs the pointer encoding) or unknown */
}

static int scan(const uint8_t *p, const uint8_t *end)
{
	struct cursor c = { p, end, false };

	while (c.p < c.end && !c.bad) {
		uint8_t op = *c.p++;
		const uint8_t *arg = c.p;

		operands(&c, op);
		if (op == 0x09 && !c.bad) {	/* register: both are registers */
			struct cursor r = { arg, c.end, false };

			reg(&r);
			reg(&r);
			c.bad = r.bad;
		}
	}
	return c.bad ? -ENOTSUP : 0;
}

static int ptr_size(struct cursor *c, uint8_t enc)
{
	switch (enc & 0x0f) {
	case 0x01: case 0x09: uleb(c); return 0;
	case 0x02: case 0x0a: return 2;
	case 0x03: case 0x0b: return 4;
	case 0x00: case 0x04: case 0x0c: return 8;
	}
	c->bad = true;
	return 0;
}

/* The FDE pointer encoding, from the CIE's 'R' augmentation. */
static uint8_t fde_encoding(const Dwarf_CIE *cie, bool *bad)
{
	struct cursor c = { cie->augmentation_data,
			    cie->augmentation_data + cie->augmentation_data_size, false };
	const char *a = cie->augmentation;
	uint8_t enc = 0;	/* absptr */

	if (a[0] != 'z')
		return enc;
	for (a++; *a && !c.bad; a++) {
		if (*a == 'R' || *a == 'L') {
			if (c.p >= c.end)
				c.bad = true;
			else if (*a == 'R')
				enc = *c.p++;
			else
				c.p++;
		} else if (*a == 'P') {
			uint8_t penc = c.p < c.end ? *c.p++ : 0xff;

			skip(&c, ptr_size(&c, penc));
		} else if (*a != 'S' && *a != 'B') {
			break;	/* unknown: 'z' sized the rest */
		}
	}
	*bad = c.bad;
	return enc;
}

static int scan_fde(const unsigned char *ident, Elf_Data *d, const Dwarf_FDE *fde)
{
	Dwarf_CFI_Entry ce;
	Dwarf_Off next;
	bool bad = false;
	struct cursor c = { fde->start, fde->end, false };
	uint8_t enc;

	if (dwarf_next_cfi(ident, d, true, fde->CIE_pointer, &next, &ce) ||
	    !dwarf_cfi_cie_p(&ce))
		return -ENOTSUP;
	enc = fde_encoding(&ce.cie, &bad);
	skip(&c, ptr_size(&c, enc));	/* initial location */
	skip(&c, ptr_size(&c, enc));	/* address range */
	if (ce.cie.augmentation[0] == 'z')
		skip(&c, uleb(&c));
	else
		skip(&c, ce.cie.fde_augmentation_data_size);
	if (bad || c.bad)
		return -ENOTSUP;
	return scan(c.p, c.end);
}

static Elf_Data *eh_frame(Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *s = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((s = elf_nextscn(elf, s))) {
		const char *name;

		if (!gelf_getshdr(s, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".eh_frame"))
			return elf_getdata(s, NULL);
	}
	return NULL;
}

int cfi_screen(Elf *elf)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	Elf_Data *d = eh_frame(elf);
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	int err = 0, r;

	if (!d || !d->d_buf || !ident)
		return -ENOENT;	/* libdw would look for it through the phdrs */
	while (!err && (r = dwarf_next_cfi(ident, d, true, off, &next, &e)) == 0) {
		if (next <= off)
			return -ENOTSUP;
		if (dwarf_cfi_cie_p(&e))
			err = e.cie.return_address_register > MAX_REG ? -ENOTSUP :
			      scan(e.cie.initial_instructions, e.cie.initial_instructions_end);
		else
			err = scan_fde(ident, d, &e.fde);
		off = next;
	}
	return err ? err : r < 0 ? -ENOTSUP : 0;
}
