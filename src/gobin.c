// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a Go executable as shipped, possibly built with -ldflags='-s -w'.
 *
 * Sources of the facts used here (formats, not code):
 *  - .go.buildinfo: golang/go src/debug/buildinfo/buildinfo.go (32-byte
 *    header, magic "\xff Go buildinf:", inline varint strings from Go 1.18).
 *  - .gopclntab: golang/go src/runtime/symtab.go (pcHeader, _func, the
 *    pcvalue encoding) and src/debug/gosym/pclntab.go (magics); inlined
 *    frames: symtab.go's inlinedCall and moduledata, symtabinl.go (1.21+)
 *    and traceback.go, per release (see "inlined frames" below).
 *  - runtime.g / gobuf offsets and waitReason enums: src/runtime/runtime2.go
 *    per release, as summarised in shared/notes/go-runtime.md.
 *
 * Only 64-bit little-endian binaries are read; the layout tables are for
 * linux/amd64.
 */
#include <capstone/capstone.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gobin.h"

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

/* ---------------------------------------------------------------- ELF */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* File bytes backing [vaddr, vaddr + len) in one PT_LOAD; *avail (if not
 * NULL) gets how many bytes of the segment's file image follow vaddr. */
static const uint8_t *at_vaddr(struct gobin_priv *p, uint64_t vaddr, size_t len, size_t *avail)
{
	for (size_t i = 0; i < p->nphdr; i++) {
		const GElf_Phdr *ph = &p->phdr[i];
		uint64_t off;

		if (ph->p_type != PT_LOAD || vaddr < ph->p_vaddr ||
		    vaddr - ph->p_vaddr >= ph->p_filesz)
			continue;
		off = ph->p_offset + (vaddr - ph->p_vaddr);
		if (off > p->rawsize || ph->p_filesz - (vaddr - ph->p_vaddr) < len)
			return NULL;
		if (avail) {
			*avail = ph->p_filesz - (vaddr - ph->p_vaddr);
			if (*avail > p->rawsize - off)
				*avail = p->rawsize - off;
		}
		return off + len <= p->rawsize ? p->raw + off : NULL;
	}
	return NULL;
}

static int vaddr_to_off(struct gobin_priv *p, uint64_t vaddr, uint64_t *off)
{
	const uint8_t *b = at_vaddr(p, vaddr, 1, NULL);

	if (!b)
		return -ENOENT;
	*off = b - p->raw;
	return 0;
}

/* The vaddr at which file offset off is loaded, 0 if it is not. */
static uint64_t off_to_vaddr(struct gobin_priv *p, uint64_t off)
{
	for (size_t i = 0; i < p->nphdr; i++) {
		const GElf_Phdr *ph = &p->phdr[i];

		if (ph->p_type == PT_LOAD && off >= ph->p_offset &&
		    off - ph->p_offset < ph->p_filesz)
			return ph->p_vaddr + (off - ph->p_offset);
	}
	return 0;
}

/* Inside a writable PT_LOAD (data or bss): where runtime variables live. */
static bool in_data(struct gobin_priv *p, uint64_t vaddr)
{
	for (size_t i = 0; i < p->nphdr; i++) {
		const GElf_Phdr *ph = &p->phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && vaddr >= ph->p_vaddr &&
		    vaddr - ph->p_vaddr < ph->p_memsz)
			return true;
	}
	return false;
}

static Elf_Scn *find_scn(struct gobin_priv *p, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(p->elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(p->elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh))
			continue;
		n = elf_strptr(p->elf, shstrndx, sh->sh_name);
		if (n && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

/* The file bytes of an uncompressed, file-backed section. */
static const uint8_t *scn_bytes(struct gobin_priv *p, const char *name, size_t *len,
				uint64_t *addr)
{
	GElf_Shdr sh;

	if (!find_scn(p, name, &sh) || sh.sh_type == SHT_NOBITS ||
	    (sh.sh_flags & SHF_COMPRESSED) || sh.sh_offset > p->rawsize ||
	    sh.sh_size > p->rawsize - sh.sh_offset)
		return NULL;
	*len = sh.sh_size;
	if (addr)
		*addr = sh.sh_addr;
	return p->raw + sh.sh_offset;
}

/* A defined symbol of the given type (or any type when type < 0). */
static int sym_lookup(struct gobin_priv *p, const char *name, int type, GElf_Sym *out)
{
	Elf_Data *data;
	size_t n;

	if (!p->symtab || !(data = elf_getdata(p->symtab, NULL)))
		return -ENOENT;
	n = data->d_size / sizeof(Elf64_Sym);
	for (size_t i = 1; i < n; i++) {
		const char *s;

		if (!gelf_getsym(data, i, out) || out->st_shndx == SHN_UNDEF)
			continue;
		if (type >= 0 && GELF_ST_TYPE(out->st_info) != type)
			continue;
		s = elf_strptr(p->elf, p->symstr, out->st_name);
		if (s && strcmp(s, name) == 0)
			return 0;
	}
	return -ENOENT;
}

static int elf_setup(struct gobin_priv *p, struct gobin *g)
{
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_kind(p->elf) != ELF_K_ELF || !gelf_getehdr(p->elf, &eh))
		return -ENOEXEC;
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return -ENOTSUP;
	p->raw = (const uint8_t *)elf_rawfile(p->elf, &p->rawsize);
	if (!p->raw || elf_getphdrnum(p->elf, &p->nphdr))
		return -ENOEXEC;
	p->phdr = calloc(p->nphdr ? p->nphdr : 1, sizeof(*p->phdr));
	if (!p->phdr)
		return -ENOMEM;
	for (size_t i = 0; i < p->nphdr; i++)
		if (!gelf_getphdr(p->elf, i, &p->phdr[i]))
			return -ENOEXEC;
	while ((scn = elf_nextscn(p->elf, scn))) {
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) {
			p->symtab = scn;
			p->symstr = sh.sh_link;
		}
	}
	g->stripped = !p->symtab;
	g->has_dwarf = find_scn(p, ".debug_info", &sh) || find_scn(p, ".zdebug_info", &sh);
	return 0;
}

/* ---------------------------------------------------------- buildinfo */

static const char buildinfo_magic[14] = "\xff Go buildinf:";

static size_t uvarint(const uint8_t *b, size_t len, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < len && i < 10; i++) {
		x |= (uint64_t)(b[i] & 0x7f) << (7 * i);
		if (!(b[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

/* "go1.19.8", "devel go1.23-abc +...", "go1.24 X:nocoverageredesign": keep
 * the go version token alone. */
static void set_version(struct gobin *g, const char *s, size_t len)
{
	size_t n = 0;

	if (len >= 6 && memcmp(s, "devel ", 6) == 0) {
		s += 6;
		len -= 6;
	}
	while (n < len && n < sizeof(g->version) - 1 && s[n] != ' ' && s[n] != '\0')
		n++;
	memcpy(g->version, s, n);
	g->version[n] = '\0';
	if (sscanf(g->version, "go%d.%d", &g->major, &g->minor) != 2)
		g->major = g->minor = 0;
}

/* Go < 1.18: pointers at +16 to a Go string header {ptr, len}. */
static int buildinfo_ptr_version(struct gobin_priv *p, struct gobin *g, const uint8_t *hdr)
{
	const uint8_t *sh, *s;
	uint64_t len;

	if (hdr[14] != 8)
		return -ENOTSUP;
	sh = at_vaddr(p, rd64(hdr + 16), 16, NULL);
	if (!sh)
		return -ENOENT;
	len = rd64(sh + 8);
	if (len == 0 || len > 256 || !(s = at_vaddr(p, rd64(sh), len, NULL)))
		return -ENOENT;
	set_version(g, (const char *)s, len);
	return 0;
}

static int buildinfo_parse(struct gobin_priv *p, struct gobin *g, const uint8_t *hdr,
			   size_t avail)
{
	uint64_t len;
	size_t n;

	if (hdr[15] & 1)	/* big-endian target */
		return -ENOTSUP;
	if (!(hdr[15] & 2))
		return buildinfo_ptr_version(p, g, hdr);
	n = uvarint(hdr + 32, avail - 32, &len);
	if (!n || len > avail - 32 - n)
		return -ENOENT;
	set_version(g, (const char *)hdr + 32 + n, len);
	return 0;
}

static int buildinfo_scan(struct gobin_priv *p, struct gobin *g, const uint8_t *b, size_t len)
{
	if (len > BUILDINFO_SCAN)
		len = BUILDINFO_SCAN;
	for (size_t off = 0; off + 32 <= len; off += 16)
		if (memcmp(b + off, buildinfo_magic, sizeof(buildinfo_magic)) == 0)
			return buildinfo_parse(p, g, b + off, len - off);
	return -ENOENT;
}

/* Section .go.buildinfo, else the first writable PT_LOAD, as debug/buildinfo. */
static int read_buildinfo(struct gobin_priv *p, struct gobin *g)
{
	const uint8_t *b;
	size_t len;

	b = scn_bytes(p, ".go.buildinfo", &len, NULL);
	if (b)
		return buildinfo_scan(p, g, b, len);
	for (size_t i = 0; i < p->nphdr; i++) {
		const GElf_Phdr *ph = &p->phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) ||
		    ph->p_offset > p->rawsize)
			continue;
		len = ph->p_filesz;
		if (len > p->rawsize - ph->p_offset)
			len = p->rawsize - ph->p_offset;
		return buildinfo_scan(p, g, p->raw + ph->p_offset, len);
	}
	return -ENOENT;
}

/* Without buildinfo: the runtime.buildVersion string, when .symtab has it. */
static void symtab_version(struct gobin_priv *p, struct gobin *g)
{
	const uint8_t *sh, *s;
	GElf_Sym sym;
	uint64_t len;

	if (sym_lookup(p, "runtime.buildVersion", -1, &sym) ||
	    !(sh = at_vaddr(p, sym.st_value, 16, NULL)))
		return;
	len = rd64(sh + 8);
	if (len && len <= 256 && (s = at_vaddr(p, rd64(sh), len, NULL)))
		set_version(g, (const char *)s, len);
}

/* ------------------------------------------------------------ pclntab */

static uint64_t pcln_word(const struct pclntab *t, int i)
{
	return rd64(t->d + 8 + 8 * i);
}

static uint64_t pcln_entry(const struct pclntab *t, uint64_t i)
{
	if (t->old)
		return rd64(t->d + t->functab + 16 * i);
	return t->text + rd32(t->d + t->functab + 8 * i);
}

/* Bytes of _func before its pcdata array; nfuncdata is the last of them.
 * 1.16-1.17: uintptr entry ... cuOffset, funcID, [2]pad, nfuncdata (44);
 * 1.18-1.19: u32 entryOff ... cuOffset, funcID, flag, pad, nfuncdata (40);
 * 1.20+: the same with i32 startLine after cuOffset (44). */
static size_t pcln_func_hdr(const struct pclntab *t)
{
	return t->ver == 118 ? 40 : 44;
}

/* The _func record of function i: entry, name and table offsets. */
static int pcln_func(const struct pclntab *t, uint64_t i, struct gofunc *f)
{
	uint64_t funcoff;
	const uint8_t *r;
	int base;

	if (i >= t->nfunc)
		return -ENOENT;
	funcoff = t->old ? rd64(t->d + t->functab + 16 * i + 8) :
			   rd32(t->d + t->functab + 8 * i + 4);
	if (funcoff > t->size - t->functab || t->size - t->functab - funcoff < 44)
		return -EINVAL;
	r = t->d + t->functab + funcoff;
	/* 1.18+: u32 entryOff, i32 nameOff, args, deferreturn, pcsp, pcfile,
	 * pcln, npcdata, cuOffset; 1.16-1.17: the entry is a uintptr. */
	f->entry = t->old ? rd64(r) : t->text + rd32(r);
	base = t->old ? 8 : 4;
	f->nameoff = rd32(r + base);
	f->pcsp = rd32(r + base + 12);
	f->pcfile = rd32(r + base + 16);
	f->pcln = rd32(r + base + 20);
	f->npcdata = rd32(r + base + 24);
	f->cuoff = rd32(r + base + 28);
	f->nfuncdata = r[pcln_func_hdr(t) - 1];
	f->rec = r;
	return 0;
}

static const char *pcln_str(const struct pclntab *t, uint64_t tab, uint64_t off)
{
	const char *s;

	if (tab >= t->size || off >= t->size - tab)
		return NULL;
	s = (const char *)t->d + tab + off;
	return memchr(s, '\0', t->size - tab - off) ? s : NULL;
}

static const char *pcln_name(const struct pclntab *t, const struct gofunc *f)
{
	return pcln_str(t, t->funcnames, f->nameoff);
}

struct pcstep {
	const uint8_t *p, *end;
	int32_t val;
	uint64_t pc;
	bool first;
};

static bool step_varint(struct pcstep *s, uint32_t *v)
{
	uint64_t x;
	size_t n = uvarint(s->p, s->end - s->p, &x);

	if (!n)
		return false;
	s->p += n;
	*v = (uint32_t)x;
	return true;
}

/* One (value delta, pc delta) pair of a pcvalue table: the value is
 * zig-zag encoded, the pc delta is in units of the pc quantum; a zero
 * value delta after the first pair ends the table. */
static bool pc_step(struct pcstep *s, unsigned quantum)
{
	uint32_t uv, pcd;

	if (s->p >= s->end || (*s->p == 0 && !s->first))
		return false;
	if (!step_varint(s, &uv) || !step_varint(s, &pcd))
		return false;
	s->first = false;
	/* int32 arithmetic wraps in Go; in C only unsigned arithmetic may */
	s->val = (int32_t)((uint32_t)s->val + ((0u - (uv & 1)) ^ (uv >> 1)));
	s->pc += (uint64_t)pcd * quantum;
	return true;
}

static bool pc_start(const struct pclntab *t, struct pcstep *s, uint32_t off, uint64_t entry)
{
	if (!off || t->pctab >= t->size || off >= t->size - t->pctab)
		return false;
	s->p = t->d + t->pctab + off;
	s->end = t->d + t->size;
	s->val = -1;
	s->pc = entry;
	s->first = true;
	return true;
}

/* The value a pcvalue table gives at pc, or -1 with *ok false. */
static int32_t pcvalue(const struct pclntab *t, uint32_t off, uint64_t entry, uint64_t pc,
		       bool *ok)
{
	struct pcstep s;

	*ok = false;
	if (!pc_start(t, &s, off, entry))
		return -1;
	while (pc_step(&s, t->quantum)) {
		if (pc < s.pc) {
			*ok = true;
			return s.val;
		}
	}
	return -1;
}

/* The pc tables cover exactly the function's code, so the last pc of its
 * pcsp table is its end: the size without the inter-function padding. */
static uint64_t pcln_func_size(const struct pclntab *t, uint64_t i, const struct gofunc *f)
{
	uint64_t next = pcln_entry(t, i + 1), end = 0;
	struct pcstep s;

	if (pc_start(t, &s, f->pcsp, f->entry))
		while (pc_step(&s, t->quantum))
			end = s.pc;
	if (end <= f->entry || end > next)
		end = next;
	return end - f->entry;
}

/* Index of the function containing pc, as the runtime's findfunc. */
static int pcln_find_pc(const struct pclntab *t, uint64_t pc, uint64_t *idx)
{
	uint64_t lo = 0, hi = t->nfunc;

	if (!t->nfunc || pc < pcln_entry(t, 0) || pc >= pcln_entry(t, t->nfunc))
		return -ENOENT;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (pcln_entry(t, mid) <= pc)
			lo = mid;
		else
			hi = mid;
	}
	*idx = lo;
	return 0;
}

/* Self-consistency of a candidate: the functab is sorted, and the _func
 * records of a few functions agree with it and have printable names. */
static bool pcln_sane(const struct pclntab *t)
{
	uint64_t probe[3] = { 0, t->nfunc / 2, t->nfunc - 1 };

	for (int k = 0; k < 3; k++) {
		struct gofunc f;
		const char *name;

		if (pcln_func(t, probe[k], &f) || f.entry != pcln_entry(t, probe[k]) ||
		    pcln_entry(t, probe[k]) > pcln_entry(t, probe[k] + 1))
			return false;
		name = pcln_name(t, &f);
		if (!name || !name[0] || (unsigned char)name[0] < 0x20)
			return false;
	}
	return true;
}

static bool pcln_parse(struct pclntab *t, const uint8_t *d, size_t size)
{
	uint32_t magic;
	int w = 0;

	if (size < 8 + 8 * 8 || d[4] || d[5] || d[7] != 8 ||
	    (d[6] != 1 && d[6] != 2 && d[6] != 4))
		return false;
	magic = rd32(d);
	if (magic != PCLN_MAGIC_116 && magic != PCLN_MAGIC_118 && magic != PCLN_MAGIC_120)
		return false;
	memset(t, 0, sizeof(*t));
	t->d = d;
	t->size = size;
	t->old = magic == PCLN_MAGIC_116;
	t->ver = t->old ? 116 : magic == PCLN_MAGIC_118 ? 118 : 120;
	t->quantum = d[6];
	t->nfunc = pcln_word(t, w++);
	w++;	/* nfiles */
	if (!t->old)
		t->text = pcln_word(t, w++);
	t->funcnames = pcln_word(t, w++);
	t->cutab = pcln_word(t, w++);
	t->filetab = pcln_word(t, w++);
	t->pctab = pcln_word(t, w++);
	t->functab = pcln_word(t, w);
	if (!t->nfunc || t->nfunc > size || t->functab >= size || t->funcnames >= size ||
	    t->cutab >= size || t->filetab >= size || t->pctab >= size)
		return false;
	return (t->nfunc * 2 + 1) * (t->old ? 8 : 4) <= size - t->functab;
}

/* The base of entry offsets. The header's textStart is 0 on disk in a PIE
 * (it is filled by a dynamic relocation) and in Go 1.26 binaries: then
 * runtime.text, else the start of .text (the same for internal linking). */
static void pcln_text(struct gobin_priv *p, struct pclntab *t)
{
	GElf_Sym sym;
	GElf_Shdr sh;

	if (t->old || t->text)
		return;
	if (sym_lookup(p, "runtime.text", -1, &sym) == 0)
		t->text = sym.st_value;
	else if (find_scn(p, ".text", &sh))
		t->text = sh.sh_addr;
}

static bool pcln_try(struct gobin_priv *p, const uint8_t *d, size_t size)
{
	struct pclntab t;

	if (!pcln_parse(&t, d, size))
		return false;
	t.vaddr = off_to_vaddr(p, d - p->raw);
	pcln_text(p, &t);
	if (!pcln_sane(&t))
		return false;
	p->pc = t;
	p->have_pcln = true;
	return true;
}

/* No named section (Go 1.26 moved it into .rodata): scan the read-only
 * segments for a header that parses and agrees with itself. */
static bool pcln_scan(struct gobin_priv *p)
{
	for (size_t i = 0; i < p->nphdr; i++) {
		const GElf_Phdr *ph = &p->phdr[i];
		const uint8_t *b;
		size_t len;

		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_X) || ph->p_offset > p->rawsize)
			continue;
		b = p->raw + ph->p_offset;
		len = ph->p_filesz;
		if (len > p->rawsize - ph->p_offset)
			len = p->rawsize - ph->p_offset;
		for (size_t off = (8 - (ph->p_vaddr & 7)) & 7; off + 72 <= len; off += 8) {
			uint32_t m = rd32(b + off);

			if ((m == PCLN_MAGIC_118 || m == PCLN_MAGIC_120 || m == PCLN_MAGIC_116) &&
			    pcln_try(p, b + off, len - off))
				return true;
		}
	}
	return false;
}

static bool find_pclntab(struct gobin_priv *p)
{
	static const char *const names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	const uint8_t *b;
	GElf_Sym sym;
	size_t len;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		b = scn_bytes(p, names[i], &len, NULL);
		if (b && pcln_try(p, b, len))
			return true;
	}
	if (sym_lookup(p, "runtime.pcheader", -1, &sym) == 0 &&
	    (b = at_vaddr(p, sym.st_value, 72, &len)) && pcln_try(p, b, len))
		return true;
	return pcln_scan(p);
}

/* ---------------------------------------------------------- open/close */

int gobin_open(const char *path, struct gobin *g)
{
	struct gobin_priv *p;
	int err, bi;

	memset(g, 0, sizeof(*g));
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	g->priv = p;
	elf_version(EV_CURRENT);
	p->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0) {
		err = -errno;
		goto fail;
	}
	p->elf = elf_begin(p->fd, ELF_C_READ_MMAP, NULL);
	err = p->elf ? elf_setup(p, g) : -ENOEXEC;
	if (err)
		goto fail;
	bi = read_buildinfo(p, g);
	if (!g->version[0])
		symtab_version(p, g);
	if (!find_pclntab(p) && bi) {
		err = -ENOEXEC;
		goto fail;
	}
	return 0;
fail:
	gobin_close(g);
	return err;
}

void gobin_close(struct gobin *g)
{
	struct gobin_priv *p = g->priv;

	if (!p)
		return;
	if (p->cs_open)
		cs_close(&p->cs);
	if (p->dw)
		dwarf_end(p->dw);
	if (p->elf)
		elf_end(p->elf);
	if (p->fd >= 0)
		close(p->fd);
	free(p->rel);
	free(p->phdr);
	free(p);
	g->priv = NULL;
}

/* ----------------------------------------------------------- functions */

static const char *pcln_file_at(const struct pclntab *t, const struct gofunc *f, uint64_t pc)
{
	int32_t fno;
	uint64_t idx;
	bool ok;

	fno = pcvalue(t, f->pcfile, f->entry, pc, &ok);
	if (!ok || fno < 0)
		return NULL;
	idx = (uint64_t)f->cuoff + fno;
	if (t->cutab + 4 * idx + 4 > t->size || rd32(t->d + t->cutab + 4 * idx) == UINT32_MAX)
		return NULL;
	return pcln_str(t, t->filetab, rd32(t->d + t->cutab + 4 * idx));
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * ABI wrappers carry the name of the function they wrap in the pclntab,
 * while .symtab adds ".abi0" to the ABI0 one: a Go function F called from
 * assembly has F and the wrapper F.abi0; an assembly function A called
 * from Go has A.abi0 and the wrapper A. Wrappers are compiler-generated
 * (file "<autogenerated>"), assembly comes from a ".s" file: that tells
 * which of two same-named pclntab entries .symtab would call name.
 */
static bool pick_abi(const struct pclntab *t, const struct gofunc *a, const struct gofunc *b,
		     bool want_abi0)
{
	const char *fa = pcln_file_at(t, a, a->entry), *fb = pcln_file_at(t, b, b->entry);
	bool wa = fa && !strcmp(fa, "<autogenerated>"), wb = fb && !strcmp(fb, "<autogenerated>");
	const struct gofunc *real = wa ? b : a;
	const char *freal = wa ? fb : fa;
	bool real_abi0 = freal && has_suffix(freal, ".s");

	if (wa == wb)
		return true;	/* not a wrapper pair: the first */
	/* true: a is the one wanted */
	return (real == a) == (real_abi0 == want_abi0);
}

static int pcln_find_name(struct gobin_priv *p, const char *name, uint64_t *vaddr,
			  uint64_t *size)
{
	const struct pclntab *t = &p->pc;
	size_t len = strlen(name);
	bool abi0 = has_suffix(name, ".abi0");
	struct gofunc f, found;
	uint64_t at = 0;
	int n = 0;

	if (!p->have_pcln)
		return -ENOENT;
	if (abi0)
		len -= 5;
	for (uint64_t i = 0; i < t->nfunc && n < 2; i++) {
		const char *s;

		if (pcln_func(t, i, &f) || !(s = pcln_name(t, &f)) || strncmp(s, name, len) ||
		    s[len])
			continue;
		if (!n++ || !pick_abi(t, &found, &f, abi0)) {
			found = f;
			at = i;
		}
	}
	if (!n)
		return -ENOENT;
	*vaddr = found.entry;
	*size = pcln_func_size(t, at, &found);
	return 0;
}

int gobin_find_func(struct gobin *g, const char *name, uint64_t *vaddr, uint64_t *size,
		    uint64_t *file_off)
{
	struct gobin_priv *p = g->priv;
	uint64_t va, sz, off;
	GElf_Sym sym;
	int err;

	if (!p)
		return -EINVAL;
	if (sym_lookup(p, name, STT_FUNC, &sym) == 0) {
		va = sym.st_value;
		sz = sym.st_size;
	} else if ((err = pcln_find_name(p, name, &va, &sz))) {
		return err;
	}
	if (vaddr_to_off(p, va, &off))
		return -ENOENT;
	if (vaddr)
		*vaddr = va;
	if (size)
		*size = sz;
	if (file_off)
		*file_off = off;
	return 0;
}

const char *gobin_func_at(struct gobin *g, uint64_t vaddr, uint64_t *entry)
{
	struct gobin_priv *p = g->priv;
	struct gofunc f;
	uint64_t i;

	if (!p || !p->have_pcln || pcln_find_pc(&p->pc, vaddr, &i) || pcln_func(&p->pc, i, &f))
		return NULL;
	if (entry)
		*entry = f.entry;
	return pcln_name(&p->pc, &f);
}

int gobin_func_line(struct gobin *g, uint64_t vaddr, const char **file, int *line)
{
	struct gobin_priv *p = g->priv;
	const char *fname;
	struct gofunc f;
	uint64_t i;
	int32_t ln;
	bool ok;

	if (!p || !p->have_pcln || pcln_find_pc(&p->pc, vaddr, &i) || pcln_func(&p->pc, i, &f))
		return -ENOENT;
	/* file number -> this compilation unit's cutab entry -> filetab */
	fname = pcln_file_at(&p->pc, &f, vaddr);
	ln = pcvalue(&p->pc, f.pcln, f.entry, vaddr, &ok);
	if (!fname || !ok)
		return -ENOENT;
	if (file)
		*file = fname;
	if (line)
		*line = ln;
	return 0;
}

/* ------------------------------------------------------ inlined frames */

/*
 * Inlined calls, as the runtime expands them in a traceback (formats from
 * golang/go src/runtime/symtab.go per release, symtabinl.go from 1.21,
 * traceback.go; the indexes are the same from 1.16 on):
 *
 *  - PCDATA table 2 (_PCDATA_InlTreeIndex) of the physical function is a
 *    pc-value table: the index, in the function's inline tree, of the
 *    innermost inlined call a pc belongs to; -1 in the function's own code.
 *  - FUNCDATA 3 (_FUNCDATA_InlTree) is the inline tree, an array of
 *    inlinedCall records:
 *      1.16-1.19: int16 parent, uint8 funcID, byte pad, int32 file, int32
 *                 line, int32 func_ (name, offset in funcnametab), int32
 *                 parentPc: 20 bytes;
 *      1.20+:     uint8 funcID, byte pad[3], int32 nameOff, int32
 *                 parentPc, int32 startLine: 16 bytes.
 *  - One physical frame at pc is printed as: while ix = InlTreeIndex(pc)
 *    is >= 0, the name of record ix with the file:line of pc (pcfile/pcln
 *    give the innermost position), then pc = entry + record.parentPc, an
 *    instruction whose position is the call site; last the physical
 *    function with the file:line of that pc. That is the loop of 1.19's
 *    traceback1 and what 1.21's inlineUnwinder does; parent is not used.
 *
 * Where FUNCDATA 3 is: after the npcdata uint32 pcdata offsets that follow
 * the _func header,
 *  - 1.16-1.17: nfuncdata absolute addresses (uintptr), the array aligned
 *    to 8 in memory (runtime funcdata(): p += 4 when p&4), 0 for none;
 *    relocated in a PIE;
 *  - 1.18+: nfuncdata uint32 offsets from moduledata.gofunc, ~0 for none.
 */
#define PCDATA_INLTREEINDEX	2
#define FUNCDATA_INLTREE	3
#define MAX_INLINE_DEPTH	128
#define MD_GOFUNC_118		38	/* word of moduledata.gofunc, 1.18-1.19 */
#define MD_GOFUNC_120		40	/* 1.20+ (covctrs, ecovctrs added) */

struct inlcall {
	int32_t nameoff, parentpc;
};

static bool in_pcln(const struct pclntab *t, const uint8_t *b, size_t len)
{
	return b >= t->d && (size_t)(b - t->d) <= t->size && len <= t->size - (b - t->d);
}

static int reloc_cmp(const void *a, const void *b)
{
	const struct reloc *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* The relative relocations of a PIE: the value of such a word is the load
 * bias plus the addend, which a linker may also have written in place
 * (Go's and GNU ld do) or not (then the word reads 0 in the file). */
static void relocs_load(struct gobin_priv *p)
{
	Elf_Scn *scn = NULL;
	unsigned rtype;
	GElf_Ehdr eh;
	GElf_Shdr sh;

	p->rel_loaded = true;
	if (!gelf_getehdr(p->elf, &eh))
		return;
	if (eh.e_machine == EM_X86_64)
		rtype = R_X86_64_RELATIVE;
	else if (eh.e_machine == EM_AARCH64)
		rtype = R_AARCH64_RELATIVE;
	else
		return;
	while ((scn = elf_nextscn(p->elf, scn))) {
		struct reloc *grown;
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		n = d->d_size / sh.sh_entsize;
		grown = realloc(p->rel, (p->nrel + n + 1) * sizeof(*p->rel));
		if (!grown)
			break;
		p->rel = grown;
		for (size_t i = 0; i < n; i++) {
			GElf_Rela r;

			if (gelf_getrela(d, i, &r) && GELF_R_TYPE(r.r_info) == rtype)
				p->rel[p->nrel++] = (struct reloc){ r.r_offset, (uint64_t)r.r_addend };
		}
	}
	if (p->nrel)
		qsort(p->rel, p->nrel, sizeof(*p->rel), reloc_cmp);
}

static bool reloc_at(struct gobin_priv *p, uint64_t vaddr, uint64_t *val)
{
	size_t lo = 0, hi;

	if (!p->rel_loaded)
		relocs_load(p);
	hi = p->nrel;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->rel[mid].off == vaddr) {
			*val = p->rel[mid].val;
			return true;
		}
		if (p->rel[mid].off < vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The pointer stored at vaddr (link-time value). */
static bool read_ptr(struct gobin_priv *p, uint64_t vaddr, uint64_t *val)
{
	const uint8_t *b = at_vaddr(p, vaddr, 8, NULL);

	if (!b)
		return false;
	*val = rd64(b);
	if (!*val)
		reloc_at(p, vaddr, val);
	return true;
}

/* Offset in pctab of the function's InlTreeIndex table; 0: none. */
static uint32_t inl_pcdata(const struct pclntab *t, const struct gofunc *f)
{
	size_t at = pcln_func_hdr(t) + 4 * PCDATA_INLTREEINDEX;

	if (f->npcdata <= PCDATA_INLTREEINDEX || !in_pcln(t, f->rec, at + 4))
		return 0;
	return rd32(f->rec + at);
}

/* The address of the function's inline tree; base is moduledata.gofunc
 * (unused before 1.18). */
static bool inl_tree(struct gobin_priv *p, const struct gofunc *f, uint64_t base, uint64_t *va)
{
	const struct pclntab *t = &p->pc;
	size_t at = pcln_func_hdr(t) + 4 * (size_t)f->npcdata;
	uint32_t off;

	if (f->nfuncdata <= FUNCDATA_INLTREE)
		return false;
	if (t->old) {
		uint64_t rec_va = t->vaddr + (f->rec - t->d);

		if (!t->vaddr)
			return false;
		if ((rec_va + at) & 4)
			at += 4;
		at += 8 * FUNCDATA_INLTREE;
		return in_pcln(t, f->rec, at + 8) && read_ptr(p, rec_va + at, va) && *va;
	}
	at += 4 * FUNCDATA_INLTREE;
	if (!in_pcln(t, f->rec, at + 4) || (off = rd32(f->rec + at)) == UINT32_MAX)
		return false;
	*va = base + off;
	return true;
}

static bool inl_call(struct gobin_priv *p, uint64_t tree, int32_t ix, struct inlcall *c)
{
	size_t size = p->pc.ver >= 120 ? 16 : 20;
	const uint8_t *b;

	if (ix < 0 || !(b = at_vaddr(p, tree + (uint64_t)ix * size, size, NULL)))
		return false;
	c->nameoff = (int32_t)rd32(b + (p->pc.ver >= 120 ? 4 : 12));
	c->parentpc = (int32_t)rd32(b + (p->pc.ver >= 120 ? 8 : 16));
	return true;
}

/* A name in funcnametab; strict: it must start one of its strings. */
static const char *inl_name(const struct pclntab *t, int32_t off, bool strict)
{
	const char *s;

	if (off < 0 || !(s = pcln_str(t, t->funcnames, off)))
		return NULL;
	if (!strict)
		return s;
	if ((t->cutab > t->funcnames && (uint64_t)off >= t->cutab - t->funcnames) ||
	    (unsigned char)s[0] <= 0x20 || (unsigned char)s[0] >= 0x7f || (off && s[-1]))
		return NULL;
	return s;
}

/*
 * Is base moduledata.gofunc? Through it, the inline trees of functions
 * spread over the functab must decode into records that name the start
 * of a funcnametab string and whose parentPc lies inside the function,
 * at an instruction of a caller's record, made before the callee's (the
 * compiler adds a parent before its children, cmd/internal/obj/pcln.go).
 * A wrong base fails on the first tree; one record off (the trees are
 * adjacent) fails on the first nested inlining, where a record would be
 * its own caller. (The parent field of 1.16-1.19 is not used, as the
 * runtime does not: net/http.readTransfer has one that its parentPc's
 * index does not agree with.) No tree at all (built with -l): nothing to
 * decode, the base is not taken.
 */
static bool gofunc_ok(struct gobin_priv *p, uint64_t base)
{
	const struct pclntab *t = &p->pc;
	uint64_t stride = t->nfunc / 1024 + 1;
	int trees = 0;

	for (uint64_t i = 0; i < t->nfunc && trees < 16; i += stride) {
		uint64_t tree, size;
		struct pcstep s;
		struct gofunc f;
		uint32_t tab;
		int n = 0;

		if (pcln_func(t, i, &f) || !(tab = inl_pcdata(t, &f)) ||
		    !inl_tree(p, &f, base, &tree) || !pc_start(t, &s, tab, f.entry))
			continue;
		size = pcln_entry(t, i + 1) - f.entry;
		while (pc_step(&s, t->quantum) && n++ < 256) {
			struct inlcall c;
			int32_t up;
			bool ok;

			if (s.val < 0)
				continue;
			if (!inl_call(p, tree, s.val, &c) || !inl_name(t, c.nameoff, true) ||
			    c.parentpc < 0 || (uint64_t)c.parentpc >= size)
				return false;
			up = pcvalue(t, tab, f.entry, f.entry + c.parentpc, &ok);
			if (!ok || up >= s.val)
				return false;
		}
		trees++;
	}
	return trees > 0;
}

/* runtime.firstmoduledata: the one place in writable data that holds the
 * pclntab's address (moduledata.pcHeader) followed by its funcnametab's
 * (the data pointer of moduledata.funcnametab). */
static bool moduledata_find(struct gobin_priv *p, uint64_t *md)
{
	const struct pclntab *t = &p->pc;
	uint64_t names = t->vaddr + t->funcnames, v;

	if (!t->vaddr)
		return false;
	for (size_t i = 0; i < p->nphdr; i++) {
		const GElf_Phdr *ph = &p->phdr[i];
		const uint8_t *b;
		size_t len;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || ph->p_offset > p->rawsize)
			continue;
		b = p->raw + ph->p_offset;
		len = ph->p_filesz;
		if (len > p->rawsize - ph->p_offset)
			len = p->rawsize - ph->p_offset;
		for (size_t off = (8 - (ph->p_vaddr & 7)) & 7; off + 16 <= len; off += 8) {
			if (rd64(b + off) != t->vaddr ||
			    !read_ptr(p, ph->p_vaddr + off + 8, &v) || v != names)
				continue;
			*md = ph->p_vaddr + off;
			return true;
		}
	}
	/* a linker that left the relocated words 0 in the file */
	if (!p->rel_loaded)
		relocs_load(p);
	for (size_t i = 0; i < p->nrel; i++) {
		if (p->rel[i].val == t->vaddr && read_ptr(p, p->rel[i].off + 8, &v) &&
		    v == names) {
			*md = p->rel[i].off;
			return true;
		}
	}
	return false;
}

/*
 * moduledata.gofunc, the base of 1.18+ funcdata offsets: the address of
 * the linker's go.func.* (1.18-1.19) or go:func.* (1.20+) symbol.
 *
 * With .symtab, that symbol. Without (stripped), the runtime's own copy
 * in runtime.firstmoduledata, which a stripped binary keeps because the
 * runtime needs it: moduledata (src/runtime/symtab.go) begins with
 * pcHeader, 6 slices (18 words), findfunctab, minpc, maxpc, then text ...
 * enoptrbss (10 words), [1.20+: covctrs, ecovctrs], end, gcdata, gcbss,
 * types, etypes, rodata, gofunc: word 38 for the 1.18 pclntab magic, 40
 * for the 1.20 one (still 40 in a go1.26.5 binary, whose moduledata has
 * a section of its own, .go.module). Both ways are held to gofunc_ok.
 * Should a release move the field, the other words of moduledata's
 * uintptr run are tried the same way rather than nothing found.
 */
static bool gofunc_find(struct gobin_priv *p, uint64_t *base)
{
	static const char *const syms[] = { "go:func.*", "go.func.*" };
	int want = p->pc.ver == 118 ? MD_GOFUNC_118 : MD_GOFUNC_120;
	uint64_t md;
	GElf_Sym sym;

	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		if (sym_lookup(p, syms[i], -1, &sym) == 0 && gofunc_ok(p, sym.st_value)) {
			*base = sym.st_value;
			return true;
		}
	if (!moduledata_find(p, &md))
		return false;
	if (read_ptr(p, md + 8 * want, base) && gofunc_ok(p, *base))
		return true;
	for (int w = 19; w < 48; w++)
		if (w != want && read_ptr(p, md + 8 * w, base) && *base &&
		    at_vaddr(p, *base, 1, NULL) && gofunc_ok(p, *base))
			return true;
	return false;
}

/* The base of funcdata offsets: false when it is needed and not known. */
static bool funcdata_base(struct gobin_priv *p, uint64_t *base)
{
	if (p->pc.old) {
		*base = 0;
		return true;
	}
	if (!p->gofunc_state)
		p->gofunc_state = gofunc_find(p, &p->gofunc) ? 1 : -1;
	*base = p->gofunc;
	return p->gofunc_state > 0;
}

static void frame_set(struct go_frame *fr, const char *name, const struct pclntab *t,
		      const struct gofunc *f, uint64_t pc)
{
	const char *file = pcln_file_at(t, f, pc);
	int32_t line;
	bool ok;

	line = pcvalue(t, f->pcln, f->entry, pc, &ok);
	/* what the runtime's funcline1 gives when it has no answer */
	fr->function = name ? name : "?";
	fr->file = file ? file : "?";
	fr->line = ok ? line : 0;
}

int gobin_frames_at(struct gobin *g, uint64_t vaddr, struct go_frame *out, int max)
{
	struct gobin_priv *p = g->priv;
	uint64_t i, base, size, tree = 0, pc = vaddr;
	const struct pclntab *t;
	struct gofunc f;
	uint32_t tab;
	int n = 0;

	if (!p || !p->have_pcln || !out || max <= 0 || pcln_find_pc(&p->pc, vaddr, &i) ||
	    pcln_func(&p->pc, i, &f))
		return 0;
	t = &p->pc;
	size = pcln_entry(t, i + 1) - f.entry;
	tab = inl_pcdata(t, &f);
	if (!tab || !funcdata_base(p, &base) || !inl_tree(p, &f, base, &tree))
		tree = 0;
	for (int depth = 0; tree && n < max && depth < MAX_INLINE_DEPTH; depth++) {
		struct inlcall c;
		const char *name;
		int32_t ix;
		bool ok;

		ix = pcvalue(t, tab, f.entry, pc, &ok);
		if (!ok || ix < 0 || !inl_call(p, tree, ix, &c) ||
		    !(name = inl_name(t, c.nameoff, false)) || c.parentpc < 0 ||
		    (uint64_t)c.parentpc >= size)
			break;
		frame_set(&out[n++], name, t, &f, pc);
		pc = f.entry + c.parentpc;
	}
	if (n < max)
		frame_set(&out[n++], pcln_name(t, &f), t, &f, pc);
	return n;
}

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

static int xcode_open(struct gobin_priv *p)
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
	if (!size || size > MAX_FUNC_BYTES || !(code = at_vaddr(p, va, size, NULL)))
		return -ENOENT;
	if ((err = xcode_open(p)))
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
 * load compared with 1 (1.17 .. 1.26; newer versions test for 0 first).
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
		for (size_t j = i + 1; j < xc->n && j <= i + 4; j++) {
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
	else
		err = -ENOENT;
	if (err || !in_data(p, a))
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
	if (sym_lookup(p, name, STT_OBJECT, &sym) == 0) {
		*vaddr = sym.st_value;
		return 0;
	}
	return gobin_find_var_code(g, name, vaddr);
}

/* ------------------------------------------------------- wait reasons */

/*
 * The runtime's waitReasonStrings (src/runtime/runtime2.go), by constant
 * name without "runtime.waitReason". The only strings that changed for the
 * same name are synctest's: "(synctest)" in 1.24, "(durable)" from 1.25.
 */
static const struct reason_name {
	const char *name;
	const char *str;
	int since;		/* minor version from which str holds ... */
	const char *before;	/* ... and the string before it */
} reason_names[] = {
	{ "Zero", "", 0, NULL },
	{ "GCAssistMarking", "GC assist marking", 0, NULL },
	{ "IOWait", "IO wait", 0, NULL },
	{ "ChanReceiveNilChan", "chan receive (nil chan)", 0, NULL },
	{ "ChanSendNilChan", "chan send (nil chan)", 0, NULL },
	{ "DumpingHeap", "dumping heap", 0, NULL },
	{ "GarbageCollection", "garbage collection", 0, NULL },
	{ "GarbageCollectionScan", "garbage collection scan", 0, NULL },
	{ "PanicWait", "panicwait", 0, NULL },
	{ "Select", "select", 0, NULL },
	{ "SelectNoCases", "select (no cases)", 0, NULL },
	{ "GCAssistWait", "GC assist wait", 0, NULL },
	{ "GCSweepWait", "GC sweep wait", 0, NULL },
	{ "GCScavengeWait", "GC scavenge wait", 0, NULL },
	{ "ChanReceive", "chan receive", 0, NULL },
	{ "ChanSend", "chan send", 0, NULL },
	{ "FinalizerWait", "finalizer wait", 0, NULL },
	{ "ForceGCIdle", "force gc (idle)", 0, NULL },
	{ "UpdateGOMAXPROCSIdle", "GOMAXPROCS updater (idle)", 0, NULL },
	{ "Semacquire", "semacquire", 0, NULL },
	{ "Sleep", "sleep", 0, NULL },
	{ "SyncCondWait", "sync.Cond.Wait", 0, NULL },
	{ "SyncMutexLock", "sync.Mutex.Lock", 0, NULL },
	{ "SyncRWMutexRLock", "sync.RWMutex.RLock", 0, NULL },
	{ "SyncRWMutexLock", "sync.RWMutex.Lock", 0, NULL },
	{ "SyncWaitGroupWait", "sync.WaitGroup.Wait", 0, NULL },
	{ "TimerGoroutineIdle", "timer goroutine (idle)", 0, NULL },
	{ "TraceReaderBlocked", "trace reader (blocked)", 0, NULL },
	{ "WaitForGCCycle", "wait for GC cycle", 0, NULL },
	{ "GCWorkerIdle", "GC worker (idle)", 0, NULL },
	{ "GCWorkerActive", "GC worker (active)", 0, NULL },
	{ "Preempted", "preempted", 0, NULL },
	{ "DebugCall", "debug call", 0, NULL },
	{ "GCMarkTermination", "GC mark termination", 0, NULL },
	{ "StoppingTheWorld", "stopping the world", 0, NULL },
	{ "FlushProcCaches", "flushing proc caches", 0, NULL },
	{ "TraceGoroutineStatus", "trace goroutine status", 0, NULL },
	{ "TraceProcStatus", "trace proc status", 0, NULL },
	{ "PageTraceFlush", "page trace flush", 0, NULL },
	{ "Coroutine", "coroutine", 0, NULL },
	{ "GCWeakToStrongWait", "GC weak to strong wait", 0, NULL },
	{ "SynctestRun", "synctest.Run", 0, NULL },
	{ "SynctestWait", "synctest.Wait", 0, NULL },
	{ "SynctestChanReceive", "chan receive (durable)", 25, "chan receive (synctest)" },
	{ "SynctestChanSend", "chan send (durable)", 25, "chan send (synctest)" },
	{ "SynctestSelect", "select (durable)", 25, "select (synctest)" },
	{ "SynctestWaitGroupWait", "sync.WaitGroup.Wait (durable)", 0, NULL },
	{ "CleanupWait", "cleanup wait", 0, NULL },
};

/* minor is the Go 1.x version, 0 when unknown (then the newest string). */
static const char *reason_str(const char *name, int minor)
{
	for (size_t i = 0; i < sizeof(reason_names) / sizeof(reason_names[0]); i++) {
		const struct reason_name *r = &reason_names[i];

		if (strcmp(r->name, name))
			continue;
		return r->before && minor && minor < r->since ? r->before : r->str;
	}
	return NULL;
}

/* The waitReason enums in iota order, per release (runtime2.go at each
 * tag). Shared prefixes are spelled out: the order is the data. */
#define R_117_HEAD "Zero", "GCAssistMarking", "IOWait", "ChanReceiveNilChan", \
	"ChanSendNilChan", "DumpingHeap", "GarbageCollection", "GarbageCollectionScan", \
	"PanicWait", "Select", "SelectNoCases", "GCAssistWait", "GCSweepWait", \
	"GCScavengeWait", "ChanReceive", "ChanSend", "FinalizerWait", "ForceGCIdle"
#define R_120_MID "Semacquire", "Sleep", "SyncCondWait", "SyncMutexLock", \
	"SyncRWMutexRLock", "SyncRWMutexLock"
#define R_120_TAIL "TraceReaderBlocked", "WaitForGCCycle", "GCWorkerIdle", \
	"GCWorkerActive", "Preempted", "DebugCall", "GCMarkTermination", "StoppingTheWorld"
#define R_122_TAIL "FlushProcCaches", "TraceGoroutineStatus", "TraceProcStatus", \
	"PageTraceFlush", "Coroutine"
#define R_124_TAIL "GCWeakToStrongWait", "SynctestRun", "SynctestWait", \
	"SynctestChanReceive", "SynctestChanSend", "SynctestSelect"

static const char *const reasons_117[] = {	/* 1.17 - 1.19 */
	R_117_HEAD, "Semacquire", "Sleep", "SyncCondWait", "TimerGoroutineIdle",
	"TraceReaderBlocked", "WaitForGCCycle", "GCWorkerIdle", "Preempted", "DebugCall",
	NULL
};
static const char *const reasons_120[] = {	/* 1.20 - 1.21 */
	R_117_HEAD, R_120_MID, R_120_TAIL, NULL
};
static const char *const reasons_122[] = {
	R_117_HEAD, R_120_MID, R_120_TAIL, R_122_TAIL, NULL
};
static const char *const reasons_123[] = {
	R_117_HEAD, R_120_MID, R_120_TAIL, R_122_TAIL, "GCWeakToStrongWait", NULL
};
static const char *const reasons_124[] = {
	R_117_HEAD, R_120_MID, "SyncWaitGroupWait", R_120_TAIL, R_122_TAIL, R_124_TAIL, NULL
};
static const char *const reasons_125[] = {
	R_117_HEAD, "UpdateGOMAXPROCSIdle", R_120_MID, "SyncWaitGroupWait", R_120_TAIL,
	R_122_TAIL, R_124_TAIL, "SynctestWaitGroupWait", "CleanupWait", NULL
};
/* 1.26 regrouped them (commit 8c68a1c1ab): chan and sync waits contiguous. */
static const char *const reasons_126[] = {
	"Zero", "GCAssistMarking", "IOWait", "DumpingHeap", "GarbageCollection",
	"GarbageCollectionScan", "PanicWait", "GCAssistWait", "GCSweepWait", "GCScavengeWait",
	"FinalizerWait", "ForceGCIdle", "UpdateGOMAXPROCSIdle", "Semacquire", "Sleep",
	"ChanReceiveNilChan", "ChanSendNilChan", "SelectNoCases", "Select", "ChanReceive",
	"ChanSend", "SyncCondWait", "SyncMutexLock", "SyncRWMutexRLock", "SyncRWMutexLock",
	"SyncWaitGroupWait", R_120_TAIL, R_122_TAIL, R_124_TAIL, "SynctestWaitGroupWait",
	"CleanupWait", NULL
};

/* ------------------------------------------------------------- tables */

/* runtime.g offsets on amd64 (runtime2.go per release; 1.19 checked against
 * DWARF). gobuf is {sp, pc, g, ctxt, ret, lr, bp}; 1.25 dropped ret. */
static const struct go_table {
	int lo, hi;	/* Go 1.lo .. 1.hi */
	int atomicstatus, goid, waitsince, waitreason, parentgoid, gopc, startpc;
	int gobuf_bp;
	const char *const *reasons;
} go_tables[] = {
	{ 17, 19, 144, 152, 168, 176, -1, 296, 312, 48, reasons_117 },
	{ 20, 20, 144, 152, 168, 176, -1, 296, 312, 48, reasons_120 },
	{ 21, 21, 144, 152, 168, 176, 272, 280, 296, 48, reasons_120 },
	{ 22, 22, 144, 152, 168, 176, 272, 280, 296, 48, reasons_122 },
	{ 23, 23, 152, 160, 176, 184, 280, 288, 304, 48, reasons_123 },
	{ 24, 24, 152, 160, 176, 184, 280, 288, 304, 48, reasons_124 },
	{ 25, 25, 144, 152, 168, 176, 272, 280, 296, 40, reasons_125 },
	{ 26, 26, 144, 152, 168, 176, 280, 288, 304, 40, reasons_126 },
};

static const struct go_table *table_for(int major, int minor)
{
	if (major != 1)
		return NULL;
	for (size_t i = 0; i < sizeof(go_tables) / sizeof(go_tables[0]); i++)
		if (minor >= go_tables[i].lo && minor <= go_tables[i].hi)
			return &go_tables[i];
	return NULL;
}

static void layout_init(struct go_layout *out)
{
	memset(out, 0, sizeof(*out));
	out->g_goid = out->g_atomicstatus = out->g_waitreason = out->g_gopc = -1;
	out->g_startpc = out->g_sched = out->g_parentgoid = out->g_waitsince = -1;
	out->gobuf_sp = out->gobuf_pc = out->gobuf_bp = -1;
}

static void table_reasons(const struct go_table *t, int minor, struct go_layout *out)
{
	for (int i = 0; t->reasons[i] && i < GO_WAIT_REASONS; i++)
		out->wait_reason[i] = reason_str(t->reasons[i], minor);
}

int gobin_layout_table(int major, int minor, struct go_layout *out)
{
	const struct go_table *t = table_for(major, minor);

	layout_init(out);
	if (!t)
		return -ENOTSUP;
	out->g_sched = 56;
	out->g_atomicstatus = t->atomicstatus;
	out->g_goid = t->goid;
	out->g_waitsince = t->waitsince;
	out->g_waitreason = t->waitreason;
	out->g_parentgoid = t->parentgoid;
	out->g_gopc = t->gopc;
	out->g_startpc = t->startpc;
	out->gobuf_sp = 0;
	out->gobuf_pc = 8;
	out->gobuf_bp = t->gobuf_bp;
	table_reasons(t, minor, out);
	out->source = "table";
	return 0;
}

/* -------------------------------------------------------------- DWARF */

static const struct member_field {
	const char *strct, *name;
	size_t field;
} member_fields[] = {
	{ "runtime.g", "goid", offsetof(struct go_layout, g_goid) },
	{ "runtime.g", "atomicstatus", offsetof(struct go_layout, g_atomicstatus) },
	{ "runtime.g", "waitreason", offsetof(struct go_layout, g_waitreason) },
	{ "runtime.g", "gopc", offsetof(struct go_layout, g_gopc) },
	{ "runtime.g", "startpc", offsetof(struct go_layout, g_startpc) },
	{ "runtime.g", "sched", offsetof(struct go_layout, g_sched) },
	{ "runtime.g", "parentGoid", offsetof(struct go_layout, g_parentgoid) },
	{ "runtime.g", "waitsince", offsetof(struct go_layout, g_waitsince) },
	{ "runtime.gobuf", "sp", offsetof(struct go_layout, gobuf_sp) },
	{ "runtime.gobuf", "pc", offsetof(struct go_layout, gobuf_pc) },
	{ "runtime.gobuf", "bp", offsetof(struct go_layout, gobuf_bp) },
};

struct dwarf_walk {
	struct go_layout *out;
	int minor;
	int consts;	/* waitReason constants mapped */
};

/* DW_AT_data_member_location: a constant (what Go writes), or the
 * DW_OP_plus_uconst expression of older producers. */
static int member_offset(Dwarf_Die *die, Dwarf_Word *off)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;

	if (!dwarf_attr(die, DW_AT_data_member_location, &a))
		return -ENOENT;
	if (dwarf_formudata(&a, off) == 0)
		return 0;
	if (dwarf_getlocation(&a, &ops, &n) == 0 && n == 1 && ops[0].atom == DW_OP_plus_uconst) {
		*off = ops[0].number;
		return 0;
	}
	return -EINVAL;
}

static void dwarf_members(Dwarf_Die *st, const char *sname, struct go_layout *out)
{
	Dwarf_Die m;

	if (dwarf_child(st, &m) != 0)
		return;
	do {
		const char *name = dwarf_diename(&m);
		Dwarf_Word off;

		if (dwarf_tag(&m) != DW_TAG_member || !name || member_offset(&m, &off))
			continue;
		for (size_t i = 0; i < sizeof(member_fields) / sizeof(member_fields[0]); i++)
			if (!strcmp(member_fields[i].strct, sname) &&
			    !strcmp(member_fields[i].name, name))
				*(int *)((char *)out + member_fields[i].field) = (int)off;
	} while (dwarf_siblingof(&m, &m) == 0);
}

static void dwarf_constant(Dwarf_Die *die, const char *name, struct dwarf_walk *w)
{
	Dwarf_Attribute a;
	Dwarf_Sword sv;
	Dwarf_Word uv;
	const char *s;

	if (!dwarf_attr(die, DW_AT_const_value, &a))
		return;
	if (dwarf_formsdata(&a, &sv) != 0) {
		if (dwarf_formudata(&a, &uv) != 0)
			return;
		sv = (Dwarf_Sword)uv;
	}
	s = reason_str(name + strlen("runtime.waitReason"), w->minor);
	if (sv < 0 || sv >= GO_WAIT_REASONS || !s)
		return;
	w->out->wait_reason[sv] = s;
	w->consts++;
}

static void dwarf_visit(Dwarf_Die *die, struct dwarf_walk *w)
{
	const char *name = dwarf_diename(die);
	int tag = dwarf_tag(die);

	if (!name)
		return;
	if (tag == DW_TAG_structure_type &&
	    (!strcmp(name, "runtime.g") || !strcmp(name, "runtime.gobuf"))) {
		dwarf_members(die, name, w->out);
	} else if (tag == DW_TAG_constant && !strncmp(name, "runtime.waitReason", 18)) {
		dwarf_constant(die, name, w);
	}
}

/*
 * Compressed DWARF: Go >= 1.19 writes SHF_COMPRESSED .debug_* sections
 * (Elf64_Chdr + zlib), Go <= 1.18 wrote GNU .zdebug_* sections ("ZLIB",
 * 8-byte big-endian size, zlib stream). libdw's dwarf_begin_elf() inflates
 * both itself (check_section(): elf_compress() and elf_compress_gnu(),
 * elfutils >= 0.165; checked with 0.188 on both kinds). Should a libdw not
 * find the types, the sections are inflated here with the same libelf
 * calls and DWARF is read again.
 */
static void inflate_debug(struct gobin_priv *p)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(p->elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(p->elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(n = elf_strptr(p->elf, shstrndx, sh.sh_name)))
			continue;
		if (sh.sh_flags & SHF_COMPRESSED)
			elf_compress(scn, 0, 0);
		else if (!strncmp(n, ".zdebug_", 8))
			elf_compress_gnu(scn, 0, 0);
	}
}

static bool layout_complete(const struct go_layout *l)
{
	return l->g_goid >= 0 && l->g_atomicstatus >= 0 && l->g_waitreason >= 0 &&
	       l->g_sched >= 0 && l->g_gopc >= 0 && l->g_startpc >= 0 && l->gobuf_sp >= 0 &&
	       l->gobuf_pc >= 0 && l->gobuf_bp >= 0;
}

/* The top-level DIEs of every unit: Go puts types and constants there. */
static int dwarf_read(Dwarf *dw, struct dwarf_walk *w)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, die;
	uint8_t utype;

	layout_init(w->out);
	w->consts = 0;
	while (dwarf_get_units(dw, cu, &cu, NULL, &utype, &cudie, NULL) == 0) {
		if (dwarf_child(&cudie, &die) != 0)
			continue;
		do
			dwarf_visit(&die, w);
		while (dwarf_siblingof(&die, &die) == 0);
	}
	return layout_complete(w->out) ? 0 : -ENODATA;
}

static int layout_dwarf(struct gobin *g, struct go_layout *out)
{
	struct gobin_priv *p = g->priv;
	struct dwarf_walk w = { .out = out, .minor = g->major == 1 ? g->minor : 0 };
	const struct go_table *t;
	int err = -ENODATA;

	if (!p->dw)
		p->dw = dwarf_begin_elf(p->elf, DWARF_C_READ, NULL);
	if (p->dw)
		err = dwarf_read(p->dw, &w);
	if (err && !p->inflated) {
		p->inflated = true;
		if (p->dw)
			dwarf_end(p->dw);
		inflate_debug(p);
		p->dw = dwarf_begin_elf(p->elf, DWARF_C_READ, NULL);
		if (p->dw)
			err = dwarf_read(p->dw, &w);
	}
	if (err)
		return err;
	/* constants pruned from DWARF: the values of this release, if known */
	if (!w.consts && (t = table_for(g->major, g->minor)))
		table_reasons(t, g->minor, out);
	out->source = "dwarf";
	return 0;
}

int gobin_layout(struct gobin *g, struct go_layout *out)
{
	struct gobin_priv *p = g->priv;
	GElf_Ehdr eh;

	if (!p)
		return -EINVAL;
	layout_init(out);
	if (g->has_dwarf && layout_dwarf(g, out) == 0)
		return 0;
	/* the tables hold amd64 offsets */
	if (!gelf_getehdr(p->elf, &eh) || eh.e_machine != EM_X86_64) {
		layout_init(out);
		return -ENOTSUP;
	}
	return gobin_layout_table(g->major, g->minor, out);
}
