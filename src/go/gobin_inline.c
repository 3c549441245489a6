// SPDX-License-Identifier: GPL-2.0
/*
 * Inlined frames at a pc: the inline tree of a function (FUNCDATA 3).
 */
#include <string.h>
#include "go/gobin_priv.h"

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
		return in_pcln(t, f->rec, at + 8) && gb_read_ptr(p, rec_va + at, va) && *va;
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

	if (ix < 0 || !(b = gb_at_vaddr(p, tree + (uint64_t)ix * size, size, NULL)))
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
		    !inl_tree(p, &f, base, &tree) || !pcln_start(t, &s, tab, f.entry))
			continue;
		size = pcln_entry(t, i + 1) - f.entry;
		while (pcln_step(&s, t->quantum) && n++ < 256) {
			struct inlcall c;
			int32_t up;
			bool ok;

			if (s.val < 0)
				continue;
			if (!inl_call(p, tree, s.val, &c) || !inl_name(t, c.nameoff, true) ||
			    c.parentpc < 0 || (uint64_t)c.parentpc >= size)
				return false;
			up = pcln_value(t, tab, f.entry, f.entry + c.parentpc, &ok);
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
			    !gb_read_ptr(p, ph->p_vaddr + off + 8, &v) || v != names)
				continue;
			*md = ph->p_vaddr + off;
			return true;
		}
	}
	/* a linker that left the relocated words 0 in the file */
	if (!p->rel_loaded)
		gb_relocs_load(p);
	for (size_t i = 0; i < p->nrel; i++) {
		if (p->rel[i].val == t->vaddr && gb_read_ptr(p, p->rel[i].off + 8, &v) &&
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
		if (gb_sym_lookup(p, syms[i], -1, &sym) == 0 && gofunc_ok(p, sym.st_value)) {
			*base = sym.st_value;
			return true;
		}
	if (!moduledata_find(p, &md))
		return false;
	if (gb_read_ptr(p, md + 8 * want, base) && gofunc_ok(p, *base))
		return true;
	for (int w = 19; w < 48; w++)
		if (w != want && gb_read_ptr(p, md + 8 * w, base) && *base &&
		    gb_at_vaddr(p, *base, 1, NULL) && gofunc_ok(p, *base))
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

	line = pcln_value(t, f->pcln, f->entry, pc, &ok);
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

		ix = pcln_value(t, tab, f.entry, pc, &ok);
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
