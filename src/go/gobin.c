// SPDX-License-Identifier: GPL-2.0
/*
 * Opening a Go executable: the ELF file, its sections, symbols and
 * relative relocations, for the readers in gobin_*.c.
 *
 * Reading a Go executable as shipped, possibly built with -ldflags='-s -w'.
 *
 * Sources of the facts used here (formats, not code):
 *  - .go.buildinfo: golang/go src/debug/buildinfo/buildinfo.go (32-byte
 *    header, magic "\xff Go buildinf:", inline varint strings from Go 1.18).
 *  - .gopclntab: golang/go src/runtime/symtab.go (pcHeader, _func, the
 *    pcvalue encoding) and src/debug/gosym/pclntab.go (magics); inlined
 *    frames: symtab.go's inlinedCall and moduledata, symtabinl.go (1.21+)
 *    and traceback.go, per release (see gobin_inline.c).
 *  - runtime.g / gobuf offsets and waitReason enums: src/runtime/runtime2.go
 *    per release, as summarised in shared/notes/go-runtime.md.
 *
 * Only 64-bit little-endian binaries are read; the layout tables are for
 * linux/amd64.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "go/gobin_priv.h"

/* ---------------------------------------------------------------- ELF */

/* File bytes backing [vaddr, vaddr + len) in one PT_LOAD; *avail (if not
 * NULL) gets how many bytes of the segment's file image follow vaddr. */
const uint8_t *gb_at_vaddr(struct gobin_priv *p, uint64_t vaddr, size_t len, size_t *avail)
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

int gb_vaddr_to_off(struct gobin_priv *p, uint64_t vaddr, uint64_t *off)
{
	const uint8_t *b = gb_at_vaddr(p, vaddr, 1, NULL);

	if (!b)
		return -ENOENT;
	*off = b - p->raw;
	return 0;
}

/* The vaddr at which file offset off is loaded, 0 if it is not. */
uint64_t gb_off_to_vaddr(struct gobin_priv *p, uint64_t off)
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
bool gb_in_data(struct gobin_priv *p, uint64_t vaddr)
{
	for (size_t i = 0; i < p->nphdr; i++) {
		const GElf_Phdr *ph = &p->phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && vaddr >= ph->p_vaddr &&
		    vaddr - ph->p_vaddr < ph->p_memsz)
			return true;
	}
	return false;
}

Elf_Scn *gb_find_scn(struct gobin_priv *p, const char *name, GElf_Shdr *sh)
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
const uint8_t *gb_scn_bytes(struct gobin_priv *p, const char *name, size_t *len,
				uint64_t *addr)
{
	GElf_Shdr sh;

	if (!gb_find_scn(p, name, &sh) || sh.sh_type == SHT_NOBITS ||
	    (sh.sh_flags & SHF_COMPRESSED) || sh.sh_offset > p->rawsize ||
	    sh.sh_size > p->rawsize - sh.sh_offset)
		return NULL;
	*len = sh.sh_size;
	if (addr)
		*addr = sh.sh_addr;
	return p->raw + sh.sh_offset;
}

/* A defined symbol of the given type (or any type when type < 0). */
int gb_sym_lookup(struct gobin_priv *p, const char *name, int type, GElf_Sym *out)
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
	g->has_dwarf = gb_find_scn(p, ".debug_info", &sh) || gb_find_scn(p, ".zdebug_info", &sh);
	return 0;
}


static int reloc_cmp(const void *a, const void *b)
{
	const struct reloc *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* The relative relocations of a PIE: the value of such a word is the load
 * bias plus the addend, which a linker may also have written in place
 * (Go's and GNU ld do) or not (then the word reads 0 in the file). */
void gb_relocs_load(struct gobin_priv *p)
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
		gb_relocs_load(p);
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
bool gb_read_ptr(struct gobin_priv *p, uint64_t vaddr, uint64_t *val)
{
	const uint8_t *b = gb_at_vaddr(p, vaddr, 8, NULL);

	if (!b)
		return false;
	*val = rd64(b);
	if (!*val)
		reloc_at(p, vaddr, val);
	return true;
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
	bi = buildinfo_read(p, g);
	if (g->version[0])
		g->version_from = ".go.buildinfo";
	if (!pcln_locate(p) && bi) {
		err = -ENOEXEC;
		goto fail;
	}
	if (!g->version[0])
		buildinfo_var_version(p, g);
	if (!g->version[0] && p->have_pcln)
		pcln_guess_version(p, g);
	g->regabi = !(g->major == 1 && g->minor < 17);
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
