// SPDX-License-Identifier: GPL-2.0
/*
 * The pclntab: function table, names, pc-value tables, file:line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "go/gobin_priv.h"

/* ------------------------------------------------------------ pclntab */

static uint64_t pcln_word(const struct pclntab *t, int i)
{
	return rd64(t->d + 8 + 8 * i);
}

uint64_t pcln_entry(const struct pclntab *t, uint64_t i)
{
	if (t->old)
		return rd64(t->d + t->functab + 16 * i);
	return t->text + rd32(t->d + t->functab + 8 * i);
}

/* Bytes of _func before its pcdata array; nfuncdata is the last of them.
 * 1.16-1.17: uintptr entry ... cuOffset, funcID, [2]pad, nfuncdata (44);
 * 1.18-1.19: u32 entryOff ... cuOffset, funcID, flag, pad, nfuncdata (40);
 * 1.20+: the same with i32 startLine after cuOffset (44). */
size_t pcln_func_hdr(const struct pclntab *t)
{
	return t->ver == 118 ? 40 : 44;
}

/* The _func record of function i: entry, name and table offsets. */
int pcln_func(const struct pclntab *t, uint64_t i, struct gofunc *f)
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

const char *pcln_str(const struct pclntab *t, uint64_t tab, uint64_t off)
{
	const char *s;

	if (tab >= t->size || off >= t->size - tab)
		return NULL;
	s = (const char *)t->d + tab + off;
	return memchr(s, '\0', t->size - tab - off) ? s : NULL;
}

const char *pcln_name(const struct pclntab *t, const struct gofunc *f)
{
	return pcln_str(t, t->funcnames, f->nameoff);
}

static bool step_varint(struct pcstep *s, uint32_t *v)
{
	uint64_t x;
	size_t n = gb_uvarint(s->p, s->end - s->p, &x);

	if (!n)
		return false;
	s->p += n;
	*v = (uint32_t)x;
	return true;
}

/* One (value delta, pc delta) pair of a pcln_value table: the value is
 * zig-zag encoded, the pc delta is in units of the pc quantum; a zero
 * value delta after the first pair ends the table. */
bool pcln_step(struct pcstep *s, unsigned quantum)
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

bool pcln_start(const struct pclntab *t, struct pcstep *s, uint32_t off, uint64_t entry)
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

/* The value a pcln_value table gives at pc, or -1 with *ok false. */
int32_t pcln_value(const struct pclntab *t, uint32_t off, uint64_t entry, uint64_t pc,
		       bool *ok)
{
	struct pcstep s;

	*ok = false;
	if (!pcln_start(t, &s, off, entry))
		return -1;
	while (pcln_step(&s, t->quantum)) {
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

	if (pcln_start(t, &s, f->pcsp, f->entry))
		while (pcln_step(&s, t->quantum))
			end = s.pc;
	if (end <= f->entry || end > next)
		end = next;
	return end - f->entry;
}

/* Index of the function containing pc, as the runtime's findfunc. */
int pcln_find_pc(const struct pclntab *t, uint64_t pc, uint64_t *idx)
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
	if (gb_sym_lookup(p, "runtime.text", -1, &sym) == 0)
		t->text = sym.st_value;
	else if (gb_find_scn(p, ".text", &sh))
		t->text = sh.sh_addr;
}

static bool pcln_try(struct gobin_priv *p, const uint8_t *d, size_t size)
{
	struct pclntab t;

	if (!pcln_parse(&t, d, size))
		return false;
	t.vaddr = gb_off_to_vaddr(p, d - p->raw);
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

bool pcln_locate(struct gobin_priv *p)
{
	static const char *const names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	const uint8_t *b;
	GElf_Sym sym;
	size_t len;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		b = gb_scn_bytes(p, names[i], &len, NULL);
		if (b && pcln_try(p, b, len))
			return true;
	}
	if (gb_sym_lookup(p, "runtime.pcheader", -1, &sym) == 0 &&
	    (b = gb_at_vaddr(p, sym.st_value, 72, &len)) && pcln_try(p, b, len))
		return true;
	return pcln_scan(p);
}

/* ----------------------------------------------------------- functions */

const char *pcln_file_at(const struct pclntab *t, const struct gofunc *f, uint64_t pc)
{
	int32_t fno;
	uint64_t idx;
	bool ok;

	fno = pcln_value(t, f->pcfile, f->entry, pc, &ok);
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

int pcln_find_name(struct gobin_priv *p, const char *name, uint64_t *vaddr,
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
	if (gb_sym_lookup(p, name, STT_FUNC, &sym) == 0) {
		va = sym.st_value;
		sz = sym.st_size;
	} else if ((err = pcln_find_name(p, name, &va, &sz))) {
		return err;
	}
	if (gb_vaddr_to_off(p, va, &off))
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
	ln = pcln_value(&p->pc, f.pcln, f.entry, vaddr, &ok);
	if (!fname || !ok)
		return -ENOENT;
	if (file)
		*file = fname;
	if (line)
		*line = ln;
	return 0;
}

/*
 * The last resort for the Go version: the pclntab magic gives the range
 * (1.16-1.17, 1.18-1.19, 1.20+), a runtime function that first appeared
 * in a release gives the minor (each checked present from that release on
 * and absent before it in esbuild and lefthook builds with Go 1.16 to
 * 1.26, tests/data/npm-go.txt). Core runtime code, linked into every
 * program.
 */
static const struct marker {
	int minor;
	const char *func;
} markers[] = {
	{ 26, "runtime.(*gcWork).tryGetSpan" },		/* green tea GC */
	{ 25, "runtime.updateMaxProcsGoroutine" },	/* cgroup-aware GOMAXPROCS */
	{ 24, "runtime.mallocgcTiny" },			/* mallocgc split by size class */
	{ 23, "runtime.(*timer).maybeAdd" },		/* timer rewrite */
	{ 22, "runtime.(*_panic).nextDefer" },		/* panic/defer rewrite */
	{ 21, "runtime.(*unwinder).next" },		/* traceback iterator */
	{ 20, "runtime.(*stkframe).argBytes" },
	{ 19, "runtime.(*gcCPULimiterState).update" },	/* GC CPU limiter */
	{ 18, "runtime.(*moduledata).textAddr" },
	{ 17, "runtime.spillArgs" },			/* register ABI */
};

void pcln_guess_version(struct gobin_priv *p, struct gobin *g)
{
	int lo = p->pc.ver == 116 ? 16 : p->pc.ver == 118 ? 18 : 20;
	int hi = p->pc.ver == 116 ? 17 : p->pc.ver == 118 ? 19 : 99;
	const char *why = "the pclntab magic";
	uint64_t va, size;
	int minor = lo;

	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
		if (markers[i].minor > hi || markers[i].minor <= lo ||
		    pcln_find_name(p, markers[i].func, &va, &size))
			continue;
		minor = markers[i].minor;
		why = markers[i].func;
		break;
	}
	snprintf(g->version, sizeof(g->version), "go1.%d", minor);
	g->major = 1;
	g->minor = minor;
	snprintf(g->guess, sizeof(g->guess), "inferred from the pclntab magic and %s", why);
	g->version_from = g->guess;
}

int gobin_version_guess(struct gobin *g)
{
	struct gobin copy = *g;

	if (!g->priv || !g->priv->have_pcln)
		return 0;
	pcln_guess_version(g->priv, &copy);
	return copy.minor;
}
