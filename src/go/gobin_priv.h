/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the Go binary reader: the state shared by src/go/gobin*.c.
 * Functions shared across those files are prefixed gb_ (ELF access, varints),
 * buildinfo_ or pcln_; nothing here is for the rest of leaktop.
 */
#ifndef LEAKTOP_GOBIN_PRIV_H
#define LEAKTOP_GOBIN_PRIV_H

#include <capstone/capstone.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <stddef.h>
#include <string.h>
#include "go/gobin.h"

#define PCLN_MAGIC_116	0xfffffffau	/* Go 1.16-1.17 */
#define PCLN_MAGIC_118	0xfffffff0u	/* Go 1.18-1.19 */
#define PCLN_MAGIC_120	0xfffffff1u	/* Go 1.20+ */
#define BUILDINFO_SCAN	(64 * 1024)	/* what debug/buildinfo searches */
#define MAX_FUNC_BYTES	(1 << 20)	/* larger runtime functions are not decoded */

struct pclntab {
	const uint8_t *d;	/* the pcHeader, inside the mapped file */
	size_t size;		/* bytes readable from d */
	uint64_t vaddr;		/* where d is loaded (link time), 0 if not found */
	int ver;		/* 116 (1.16-1.17), 118 (1.18-1.19) or 120 (1.20+) */
	bool old;		/* 1.16-1.17: uintptr entries in functab and _func */
	unsigned quantum;	/* pc quantum (minLC) */
	uint64_t nfunc;
	uint64_t text;		/* what entry offsets are relative to (1.18+) */
	uint64_t funcnames, cutab, filetab, pctab, functab;	/* offsets from d */
};

struct gofunc {
	uint64_t entry;
	uint32_t nameoff, pcsp, pcfile, pcln, cuoff;
	uint32_t npcdata;
	uint8_t nfuncdata;
	const uint8_t *rec;	/* the _func record */
};

struct reloc {
	uint64_t off, val;	/* a relative relocation: *off = load bias + val */
};

struct gobin_priv {
	int fd;
	Elf *elf;
	const uint8_t *raw;	/* the whole file */
	size_t rawsize;
	size_t nphdr;
	GElf_Phdr *phdr;
	Elf_Scn *symtab;
	size_t symstr;		/* section index of .symtab's string table */
	bool have_pcln;
	struct pclntab pc;
	struct reloc *rel;	/* sorted by off; loaded on first use */
	size_t nrel;
	bool rel_loaded;
	int gofunc_state;	/* 0 not looked for, 1 found, -1 not found */
	uint64_t gofunc;	/* base of funcdata offsets (Go 1.18+) */
	Dwarf *dw;
	bool inflated;		/* compressed debug sections inflated by us */
	csh cs;
	bool cs_open;
};


struct pcstep {
	const uint8_t *p, *end;
	int32_t val;
	uint64_t pc;
	bool first;
};

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* gobin.c */
const uint8_t *gb_at_vaddr(struct gobin_priv *p, uint64_t vaddr, size_t len, size_t *avail);
int gb_vaddr_to_off(struct gobin_priv *p, uint64_t vaddr, uint64_t *off);
uint64_t gb_off_to_vaddr(struct gobin_priv *p, uint64_t off);
bool gb_in_data(struct gobin_priv *p, uint64_t vaddr);
Elf_Scn *gb_find_scn(struct gobin_priv *p, const char *name, GElf_Shdr *sh);
const uint8_t *gb_scn_bytes(struct gobin_priv *p, const char *name, size_t *len,
				uint64_t *addr);
int gb_sym_lookup(struct gobin_priv *p, const char *name, int type, GElf_Sym *out);
void gb_relocs_load(struct gobin_priv *p);
bool gb_read_ptr(struct gobin_priv *p, uint64_t vaddr, uint64_t *val);

/* gobin_vars.c: capstone with operand details, opened once */
int gb_cs_open(struct gobin_priv *p);

/* gobin_decode.c: offsets found are set, the others left as they were */
int gobin_layout_decode(struct gobin *g, struct go_layout *out);

/* gobin_buildinfo.c */
size_t gb_uvarint(const uint8_t *b, size_t len, uint64_t *v);
int buildinfo_read(struct gobin_priv *p, struct gobin *g);
void buildinfo_var_version(struct gobin_priv *p, struct gobin *g);

/* gobin_pclntab.c */
uint64_t pcln_entry(const struct pclntab *t, uint64_t i);
size_t pcln_func_hdr(const struct pclntab *t);
int pcln_func(const struct pclntab *t, uint64_t i, struct gofunc *f);
const char *pcln_str(const struct pclntab *t, uint64_t tab, uint64_t off);
const char *pcln_name(const struct pclntab *t, const struct gofunc *f);
bool pcln_step(struct pcstep *s, unsigned quantum);
bool pcln_start(const struct pclntab *t, struct pcstep *s, uint32_t off, uint64_t entry);
int32_t pcln_value(const struct pclntab *t, uint32_t off, uint64_t entry, uint64_t pc,
		       bool *ok);
int pcln_find_pc(const struct pclntab *t, uint64_t pc, uint64_t *idx);
bool pcln_locate(struct gobin_priv *p);
const char *pcln_file_at(const struct pclntab *t, const struct gofunc *f, uint64_t pc);
int pcln_find_name(struct gobin_priv *p, const char *name, uint64_t *vaddr,
			  uint64_t *size);
void pcln_guess_version(struct gobin_priv *p, struct gobin *g);

#endif
