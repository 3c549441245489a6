// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of src/go/gobin*.c on tests/unit/go/hello.go built with Debian's
 * Go 1.19: plain (DWARF, .symtab), stripped (-ldflags='-s -w') and, next to
 * them, hello_nocompress (-compressdwarf=false) and hello_zdebug (the same
 * DWARF as Go <= 1.18 wrote it, .zdebug_*). The plain build's .symtab is
 * the ground truth for the stripped one; a live run of the stripped build
 * checks the layout against a real blocked goroutine. Prints "ok NAME" or
 * "FAIL NAME: why" per check and returns the number of failures.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "go/gobin.h"

int gobin_tests(const char *go_plain, const char *go_stripped);

#define G_WAITING 4	/* _Gwaiting */

static char *gb_src;	/* tests/unit/go/hello.go, should the recorded path have moved */


/* ------------------------------------------------ ELF ground truth */

struct gb_elf {
	int fd;
	Elf *elf;
};

static int gb_elf_open(const char *path, struct gb_elf *e)
{
	elf_version(EV_CURRENT);
	e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0)
		return -errno;
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf) {
		close(e->fd);
		return -ENOEXEC;
	}
	return 0;
}

static void gb_elf_close(struct gb_elf *e)
{
	elf_end(e->elf);
	close(e->fd);
}

static Elf_Scn *gb_scn(struct gb_elf *e, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t shstr;

	if (elf_getshdrstrndx(e->elf, &shstr))
		return NULL;
	while ((scn = elf_nextscn(e->elf, scn))) {
		const char *n;

		if (gelf_getshdr(scn, sh) && (n = elf_strptr(e->elf, shstr, sh->sh_name)) &&
		    strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

/* The section holding vaddr: its name and the offset of vaddr in it. */
static int gb_scn_rel(struct gb_elf *e, uint64_t vaddr, char *name, size_t len, uint64_t *rel)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t shstr;

	if (elf_getshdrstrndx(e->elf, &shstr))
		return -EINVAL;
	while ((scn = elf_nextscn(e->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || vaddr < sh.sh_addr ||
		    vaddr >= sh.sh_addr + sh.sh_size)
			continue;
		snprintf(name, len, "%s", elf_strptr(e->elf, shstr, sh.sh_name));
		*rel = vaddr - sh.sh_addr;
		return 0;
	}
	return -ENOENT;
}

/* Calls fn for every sized function symbol; returns how many. */
static int gb_each_func(struct gb_elf *e, void (*fn)(const char *, GElf_Sym *, void *),
			void *arg)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int n = 0;

	while ((scn = elf_nextscn(e->elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 1; i < d->d_size / sizeof(Elf64_Sym); i++) {
			GElf_Sym s;
			const char *name;

			if (!gelf_getsym(d, i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    !s.st_size || !(name = elf_strptr(e->elf, sh.sh_link, s.st_name)))
				continue;
			fn(name, &s, arg);
			n++;
		}
	}
	return n;
}

static int gb_sym(struct gb_elf *e, const char *want, GElf_Sym *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e->elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 1; i < d->d_size / sizeof(Elf64_Sym); i++) {
			const char *name;

			if (gelf_getsym(d, i, out) &&
			    (name = elf_strptr(e->elf, sh.sh_link, out->st_name)) &&
			    strcmp(name, want) == 0)
				return 0;
		}
	}
	return -ENOENT;
}

static char *gb_sibling(const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');
	int dir = slash ? (int)(slash - path + 1) : 0;
	char *out;

	if (asprintf(&out, "%.*s%s", dir, path, name) < 0)
		return NULL;
	return out;
}

/* Line `line` of a source file, to compare a pclntab position with. */
static int gb_source_line(const char *file, int line, char *buf, size_t len)
{
	FILE *f = fopen(file, "r");
	int n = 0;

	if (!f && gb_src && strstr(file, "/hello.go"))
		f = fopen(gb_src, "r");

	if (!f)
		return -errno;
	while (fgets(buf, len, f))
		if (++n == line) {
			fclose(f);
			return 0;
		}
	fclose(f);
	return -ENOENT;
}

/* ------------------------------------------------------------ tests */

static void test_open(const char *plain, const char *stripped, struct gobin *gp,
		      struct gobin *gs, int *ep, int *es)
{
	*ep = gobin_open(plain, gp);
	*es = gobin_open(stripped, gs);
	unit_check(!*ep, "gobin_open_plain", "%s: %s", plain, strerror(-*ep));
	unit_check(!*es, "gobin_open_stripped", "%s: %s", stripped, strerror(-*es));
}

static void test_version(struct gobin *gp, struct gobin *gs)
{
	unit_check(!strncmp(gp->version, "go1.19", 6) && gp->major == 1 && gp->minor == 19,
		 "gobin_version_plain", "version '%s' %d.%d", gp->version, gp->major, gp->minor);
	unit_check(!strcmp(gp->version, gs->version) && gs->major == 1 && gs->minor == 19,
		 "gobin_version_stripped", "version '%s' %d.%d", gs->version, gs->major,
		 gs->minor);
	unit_check(!gp->stripped && gs->stripped, "gobin_stripped_flag", "plain %d stripped %d",
		 gp->stripped, gs->stripped);
	unit_check(gp->has_dwarf && !gs->has_dwarf, "gobin_has_dwarf", "plain %d stripped %d",
		 gp->has_dwarf, gs->has_dwarf);
}

static void test_gopark(struct gobin *gp, struct gobin *gs, struct gb_elf *ep)
{
	uint64_t va1 = 0, sz1 = 0, off1 = 0, va2 = 0, sz2 = 0, off2 = 0;
	int e1 = gobin_find_func(gp, "runtime.gopark", &va1, &sz1, &off1);
	int e2 = gobin_find_func(gs, "runtime.gopark", &va2, &sz2, &off2);
	GElf_Sym s = { 0 };

	unit_check(!e1 && !gb_sym(ep, "runtime.gopark", &s) && va1 == s.st_value &&
		 sz1 == s.st_size && va1 && off1, "gobin_find_func_gopark_plain",
		 "err %d vaddr %#lx size %lu, .symtab %#lx %lu", e1, va1, sz1, s.st_value,
		 s.st_size);
	unit_check(!e2 && va1 == va2 && sz1 == sz2 && off1 == off2,
		 "gobin_find_func_gopark_stripped",
		 "err %d: plain %#lx+%lu @%#lx, stripped (pclntab) %#lx+%lu @%#lx", e2, va1, sz1,
		 off1, va2, sz2, off2);
	unit_check(gobin_find_func(gs, "main.noSuchFunction", &va2, &sz2, &off2) == -ENOENT,
		 "gobin_find_func_missing", "expected -ENOENT");
}

struct func_cmp {
	struct gobin *gs;
	int checked, bad;
	char first_bad[160];
};

/*
 * Every function of the plain .symtab, looked up in the stripped build.
 * The pclntab names ABI wrappers like the function they wrap (.symtab adds
 * ".abi0" to the ABI0 one) and writes array lengths in the names of
 * generated type..eq functions as "[...]".
 */
static void cmp_one(const char *name, GElf_Sym *s, void *arg)
{
	struct func_cmp *c = arg;
	uint64_t va = 0, sz = 0, entry = 0;
	size_t len = strlen(name);
	const char *at;
	int err;

	if (!strncmp(name, "type..", 6))
		return;
	at = gobin_func_at(c->gs, s->st_value + s->st_size - 1, &entry);
	err = gobin_find_func(c->gs, name, &va, &sz, NULL);
	if (len > 5 && !strcmp(name + len - 5, ".abi0"))
		len -= 5;
	c->checked++;
	if (at && !strncmp(at, name, len) && !at[len] && entry == s->st_value && !err &&
	    va == s->st_value && sz == s->st_size)
		return;
	if (!c->bad++)
		snprintf(c->first_bad, sizeof(c->first_bad),
			 "%s %#lx+%lu: func_at '%s' %#lx, find_func %d %#lx+%lu", name,
			 s->st_value, s->st_size, at ? at : "(null)", entry, err, va, sz);
}

static void test_all_funcs(struct gobin *gs, struct gb_elf *ep)
{
	struct func_cmp c = { .gs = gs };

	gb_each_func(ep, cmp_one, &c);
	unit_check(c.checked > 1000 && !c.bad, "gobin_pclntab_vs_symtab",
		 "%d of %d functions differ; first: %s", c.bad, c.checked, c.first_bad);
}

static void test_func_at(struct gobin *gs)
{
	static const char *const names[] = { "runtime.gopark", "runtime.mallocgc",
		"runtime.newproc1", "runtime.goexit", "main.leakySend", "main.leakySend.func1",
		"main.main", "fmt.Fprintln" };
	char why[200] = "";
	int bad = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t va, sz, e1 = 0, e2 = 0, e3 = 0;
		const char *a, *b, *c;

		if (gobin_find_func(gs, names[i], &va, &sz, NULL)) {
			snprintf(why, sizeof(why), "%s not found", names[i]);
			bad++;
			continue;
		}
		a = gobin_func_at(gs, va, &e1);
		b = gobin_func_at(gs, va + sz / 2, &e2);
		c = gobin_func_at(gs, va + sz - 1, &e3);
		if (a && b && c && !strcmp(a, names[i]) && !strcmp(b, names[i]) &&
		    !strcmp(c, names[i]) && e1 == va && e2 == va && e3 == va)
			continue;
		snprintf(why, sizeof(why), "%s at %#lx gives '%s'", names[i], va, a ? a : "");
		bad++;
	}
	unit_check(!bad, "gobin_func_at_roundtrip", "%s", why);
	unit_check(!gobin_func_at(gs, 0x1000, NULL) && !gobin_func_at(gs, ~0ull, NULL),
		 "gobin_func_at_outside", "an address outside the text has a function");
}

static void test_func_line(struct gobin *gs)
{
	const char *file = NULL;
	char src[256] = "";
	uint64_t va, sz;
	int line = 0, err;

	err = gobin_find_func(gs, "main.leakySend", &va, &sz, NULL);
	if (!err)
		err = gobin_func_line(gs, va, &file, &line);
	if (!err)
		err = gb_source_line(file, line, src, sizeof(src));
	unit_check(!err && strstr(file, "/hello.go") && strstr(src, "func leakySend("),
		 "gobin_func_line", "err %d: %s:%d is '%s'", err, file ? file : "", line, src);
}

static void test_vars(struct gobin *gp, struct gobin *gs, struct gb_elf *ep,
		      struct gb_elf *es)
{
	static const char *const vars[] = { "runtime.allgs", "runtime.allglen",
					    "runtime.allgptr", "runtime.MemProfileRate" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		uint64_t sym = 0, code = 0, strip = 0, r1 = 0, r2 = 0;
		char n1[64] = "", n2[64] = "", name[64];
		int e1 = gobin_find_var(gp, vars[i], &sym);
		int e2 = gobin_find_var_code(gp, vars[i], &code);
		int e3 = gobin_find_var(gs, vars[i], &strip);
		GElf_Sym s = { 0 };

		snprintf(name, sizeof(name), "gobin_find_var_%s", vars[i] + 8);
		unit_check(!e1 && !gb_sym(ep, vars[i], &s) && sym == s.st_value && !e2 &&
			 code == sym, name, "symtab %d %#lx, decoded %d %#lx, .symtab %#lx", e1,
			 sym, e2, code, s.st_value);
		/* The -s -w build has a longer .go.buildinfo (its -ldflags are
		 * recorded), which shifts the data sections: compare the
		 * position within the section. */
		gb_scn_rel(ep, sym, n1, sizeof(n1), &r1);
		gb_scn_rel(es, strip, n2, sizeof(n2), &r2);
		snprintf(name, sizeof(name), "gobin_find_var_%s_stripped", vars[i] + 8);
		unit_check(!e3 && n1[0] && !strcmp(n1, n2) && r1 == r2, name,
			 "err %d: plain %s+%#lx, stripped %s+%#lx", e3, n1, r1, n2, r2);
	}
}

static int layout_cmp(const struct go_layout *a, const struct go_layout *b, char *why,
		      size_t len)
{
	if (a->g_goid != b->g_goid || a->g_atomicstatus != b->g_atomicstatus ||
	    a->g_waitreason != b->g_waitreason || a->g_gopc != b->g_gopc ||
	    a->g_startpc != b->g_startpc || a->g_sched != b->g_sched ||
	    a->g_parentgoid != b->g_parentgoid || a->g_waitsince != b->g_waitsince ||
	    a->gobuf_sp != b->gobuf_sp || a->gobuf_pc != b->gobuf_pc ||
	    a->gobuf_bp != b->gobuf_bp) {
		snprintf(why, len, "offsets differ: goid %d/%d status %d/%d reason %d/%d "
			 "gopc %d/%d startpc %d/%d sched %d/%d bp %d/%d", a->g_goid, b->g_goid,
			 a->g_atomicstatus, b->g_atomicstatus, a->g_waitreason, b->g_waitreason,
			 a->g_gopc, b->g_gopc, a->g_startpc, b->g_startpc, a->g_sched,
			 b->g_sched, a->gobuf_bp, b->gobuf_bp);
		return -1;
	}
	for (int i = 0; i < GO_WAIT_REASONS; i++) {
		const char *x = a->wait_reason[i], *y = b->wait_reason[i];

		if ((!x) != (!y) || (x && strcmp(x, y))) {
			snprintf(why, len, "wait_reason[%d] '%s' vs '%s'", i, x ? x : "(null)",
				 y ? y : "(null)");
			return -1;
		}
	}
	return 0;
}

static int layout_119(const struct go_layout *l, char *why, size_t len)
{
	if (l->g_goid != 152 || l->g_atomicstatus != 144 || l->g_waitreason != 176 ||
	    l->g_gopc != 296 || l->g_startpc != 312 || l->g_sched != 56 ||
	    l->g_parentgoid != -1 || l->gobuf_sp != 0 || l->gobuf_pc != 8 || l->gobuf_bp != 48) {
		snprintf(why, len, "goid %d status %d reason %d gopc %d startpc %d sched %d "
			 "parentgoid %d gobuf %d/%d/%d", l->g_goid, l->g_atomicstatus,
			 l->g_waitreason, l->g_gopc, l->g_startpc, l->g_sched, l->g_parentgoid,
			 l->gobuf_sp, l->gobuf_pc, l->gobuf_bp);
		return -1;
	}
	if (!l->wait_reason[15] || strcmp(l->wait_reason[15], "chan send") ||
	    !l->wait_reason[14] || strcmp(l->wait_reason[14], "chan receive") ||
	    !l->wait_reason[18] || strcmp(l->wait_reason[18], "semacquire")) {
		snprintf(why, len, "wait reasons 14/15/18: '%s' '%s' '%s'",
			 l->wait_reason[14] ? l->wait_reason[14] : "(null)",
			 l->wait_reason[15] ? l->wait_reason[15] : "(null)",
			 l->wait_reason[18] ? l->wait_reason[18] : "(null)");
		return -1;
	}
	return 0;
}

static void test_layout(struct gobin *gp, struct gobin *gs, struct go_layout *lp,
			struct go_layout *ls)
{
	struct go_layout t;
	char why[256] = "";
	int e1 = gobin_layout(gp, lp), e2 = gobin_layout(gs, ls);

	gobin_layout_table(1, 19, &t);
	unit_check(!e1 && !strcmp(lp->source, "dwarf") && !layout_119(lp, why, sizeof(why)),
		 "gobin_layout_dwarf", "err %d source %s: %s", e1, e1 ? "" : lp->source, why);
	unit_check(!e1 && !layout_cmp(lp, &t, why, sizeof(why)), "gobin_layout_dwarf_eq_table",
		 "%s", why);
	unit_check(!e2 && !strcmp(ls->source, "table") && !layout_119(ls, why, sizeof(why)) &&
		 !layout_cmp(ls, lp, why, sizeof(why)), "gobin_layout_stripped_table",
		 "err %d: %s", e2, why);
}

/* Does the file have DWARF compressed the way Go 1.19 does (SHF_COMPRESSED)
 * or Go <= 1.18 did (.zdebug_info)? */
static int dwarf_kind(const char *path)
{
	struct gb_elf e;
	GElf_Shdr sh;
	int kind = -1;

	if (gb_elf_open(path, &e))
		return -1;
	if (gb_scn(&e, ".debug_info", &sh))
		kind = (sh.sh_flags & SHF_COMPRESSED) ? 1 : 0;
	else if (gb_scn(&e, ".zdebug_info", &sh))
		kind = 2;
	gb_elf_close(&e);
	return kind;
}

static void test_variant(const char *plain, const char *file, int want_kind,
			 const struct go_layout *ref, const char *name)
{
	char *path = gb_sibling(plain, file), why[256] = "";
	struct go_layout l = { .source = "" };
	struct gobin g;
	int kind = path ? dwarf_kind(path) : -1, err = -ENOENT;

	if (path && access(path, R_OK) == 0 && !(err = gobin_open(path, &g))) {
		err = gobin_layout(&g, &l);
		gobin_close(&g);
	}
	unit_check(kind == want_kind && !err && !strcmp(l.source, "dwarf") &&
		 !layout_cmp(&l, ref, why, sizeof(why)), name,
		 "%s: DWARF kind %d (want %d), layout %d %s", path ? path : file, kind,
		 want_kind, err, why);
	free(path);
}

/* The tables against shared/notes/go-runtime.md sections 3 and 4. */
struct note_row {
	int minor, status, goid, reason, parent, gopc, startpc, bp;
	int wr[4];		/* chan receive, chan send, semacquire, sync.Mutex.Lock */
};

static const struct note_row notes[] = {
	{ 17, 144, 152, 176, -1, 296, 312, 48, { 14, 15, 18, -1 } },
	{ 18, 144, 152, 176, -1, 296, 312, 48, { 14, 15, 18, -1 } },
	{ 20, 144, 152, 176, -1, 296, 312, 48, { 14, 15, 18, 21 } },
	{ 21, 144, 152, 176, 272, 280, 296, 48, { 14, 15, 18, 21 } },
	{ 22, 144, 152, 176, 272, 280, 296, 48, { 14, 15, 18, 21 } },
	{ 23, 152, 160, 184, 280, 288, 304, 48, { 14, 15, 18, 21 } },
	{ 24, 152, 160, 184, 280, 288, 304, 48, { 14, 15, 18, 21 } },
	{ 25, 144, 152, 176, 272, 280, 296, 40, { 14, 15, 19, 22 } },
	{ 26, 144, 152, 176, 280, 288, 304, 40, { 19, 20, 13, 22 } },
};

static bool reason_is(const struct go_layout *l, int v, const char *s)
{
	if (v < 0)
		return true;
	return l->wait_reason[v] && !strcmp(l->wait_reason[v], s);
}

static void test_tables(void)
{
	static const char *const wr[4] = { "chan receive", "chan send", "semacquire",
					   "sync.Mutex.Lock" };
	char why[128] = "";
	int bad = 0;

	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++) {
		const struct note_row *n = &notes[i];
		struct go_layout l;
		bool ok = !gobin_layout_table(1, n->minor, &l) && l.g_atomicstatus == n->status &&
			  l.g_goid == n->goid && l.g_waitreason == n->reason &&
			  l.g_parentgoid == n->parent && l.g_gopc == n->gopc &&
			  l.g_startpc == n->startpc && l.g_sched == 56 && l.gobuf_bp == n->bp &&
			  reason_is(&l, 2, "IO wait");

		for (int k = 0; k < 4; k++)
			ok = ok && reason_is(&l, n->wr[k], wr[k]);
		if (!ok) {
			snprintf(why, sizeof(why), "Go 1.%d differs from the notes", n->minor);
			bad++;
		}
	}
	unit_check(!bad, "gobin_tables_vs_notes", "%s", why);
}

static void test_notsup(const char *stripped)
{
	struct go_layout l;
	struct gobin g;
	int e1 = -1, e2 = -1;

	if (gobin_open(stripped, &g) == 0) {
		g.minor = 99;	/* a release the tables do not know, no DWARF */
		e1 = gobin_layout(&g, &l);
		g.minor = 15;
		e2 = gobin_layout(&g, &l);
		gobin_close(&g);
	}
	unit_check(e1 == -ENOTSUP && e2 == -ENOTSUP, "gobin_layout_unknown_version",
		 "Go 1.99: %d, Go 1.15: %d (want -ENOTSUP)", e1, e2);
}

static void test_not_go(void)
{
	struct gobin g;
	int e1 = gobin_open("/bin/true", &g), e2;

	if (!e1)
		gobin_close(&g);
	e2 = gobin_open("/etc/passwd", &g);
	if (!e2)
		gobin_close(&g);
	unit_check(e1 == -ENOEXEC && e2 == -ENOEXEC, "gobin_not_go",
		 "/bin/true: %d, /etc/passwd: %d (want -ENOEXEC)", e1, e2);
}

/* ----------------------------------------------------- inlined frames */

#define GB_FRAMES 64

static bool frame_eq(const struct go_frame *a, const struct go_frame *b)
{
	return !strcmp(a->function, b->function) && !strcmp(a->file, b->file) &&
	       a->line == b->line;
}

static void frames_str(const struct go_frame *f, int n, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && at < len; i++)
		at += snprintf(buf + at, len - at, "%s%s %s:%d", i ? " <- " : "", f[i].function,
			       f[i].file, f[i].line);
}

/* The source line of a frame holds want. A source file that is not on
 * this machine (Go's own, without golang-src) is not held against it. */
static bool frame_src(const struct go_frame *f, const char *want)
{
	char src[256];

	if (access(f->file, R_OK) && !strstr(f->file, "/hello.go"))
		return true;
	return !gb_source_line(f->file, f->line, src, sizeof(src)) && strstr(src, want);
}

/*
 * main.lockers.func1 calls c.lock(), inlined, which calls c.mu.Lock(),
 * inlined, which calls m.lockSlow(): inside that code the frames are
 * Lock (a line of sync/mutex.go), (*counter).lock at its c.mu.Lock() and
 * lockers.func1 at its c.lock(), the same on the plain and the stripped
 * build, and the call to lockSlow is one of those pcs.
 */
static void test_frames_inlined(struct gobin *gp, struct gobin *gs)
{
	static const char *const want[3] = { "sync.(*Mutex).Lock", "main.(*counter).lock",
					     "main.lockers.func1" };
	struct go_frame fs[GB_FRAMES], fp[GB_FRAMES], first[3];
	int pcs = 0, bad = 0, calls = 0, n1 = -1, n2 = -1;
	char why[512] = "", got[400];
	uint64_t va = 0, sz = 0, at = 0;

	if (gobin_find_func(gs, "main.lockers.func1", &va, &sz, NULL))
		snprintf(why, sizeof(why), "main.lockers.func1 not found");
	for (uint64_t pc = va; pc < va + sz; pc++) {
		int ns = gobin_frames_at(gs, pc, fs, GB_FRAMES);
		int np = gobin_frames_at(gp, pc, fp, GB_FRAMES);

		if (ns != 3 || strcmp(fs[0].function, want[0]))
			continue;
		if (!pcs++) {
			memcpy(first, fs, sizeof(first));
			at = pc;
		}
		for (int k = 0; k < 3 && !bad; k++)
			bad += np != ns || strcmp(fs[k].function, want[k]) ||
			       !frame_eq(&fs[k], &fp[k]);
		bad += !strstr(fs[0].file, "/sync/mutex.go") || !frame_src(&fs[1], "c.mu.Lock()") ||
		       !frame_src(&fs[2], "c.lock()") || fs[1].line != first[1].line ||
		       fs[2].line != first[2].line;
		calls += frame_src(&fs[0], "m.lockSlow()");
		if (bad && !why[0]) {
			frames_str(fs, ns, got, sizeof(got));
			snprintf(why, sizeof(why), "at %#lx: %s (plain: %d frames)", pc, got, np);
		}
	}
	unit_check(pcs > 0 && !bad && calls > 0, "gobin_frames_inlined",
		 "%d pcs of main.lockers.func1 in Lock, %d bad, %d at the lockSlow call: %s", pcs,
		 bad, calls, why);
	if (at) {
		n1 = gobin_frames_at(gs, at, fs, 1);
		n2 = gobin_frames_at(gs, at, fs + 1, 2);
	}
	unit_check(n1 == 1 && n2 == 2 && !strcmp(fs[0].function, want[0]) &&
		 !strcmp(fs[1].function, want[0]) && !strcmp(fs[2].function, want[1]),
		 "gobin_frames_max", "max 1: %d frames, max 2: %d", n1, n2);
}

/* A function without inlining at that pc is one frame, as func_at and
 * func_line give it; outside the text there is none. */
static void test_frames_plain(struct gobin *gs)
{
	struct go_frame f[GB_FRAMES];
	const char *name = NULL, *file = NULL;
	uint64_t va = 0, sz;
	int n = 0, line = 0;

	if (!gobin_find_func(gs, "main.leakySend", &va, &sz, NULL)) {
		n = gobin_frames_at(gs, va, f, GB_FRAMES);
		name = gobin_func_at(gs, va, NULL);
		gobin_func_line(gs, va, &file, &line);
	}
	unit_check(n == 1 && name && file && !strcmp(f[0].function, name) &&
		 !strcmp(f[0].file, file) && f[0].line == line && frame_src(f, "func leakySend("),
		 "gobin_frames_physical", "main.leakySend at %#lx: %d frames, '%s' %s:%d", va, n,
		 n ? f[0].function : "", n ? f[0].file : "", n ? f[0].line : 0);
	unit_check(!gobin_frames_at(gs, 0x1000, f, GB_FRAMES) && !gobin_frames_at(gs, ~0ull, f, 4) &&
		 !gobin_frames_at(gs, va, f, 0), "gobin_frames_outside",
		 "frames outside the text, or with max 0");
}

struct frames_cmp {
	struct gobin *gp, *gs;
	long pcs, inlined, bad;
	int deepest;
	char bad_s[300], bad_p[300];	/* the first difference: stripped, plain */
};

/* Every pc of a function: the same frames from .symtab's go.func.* (plain)
 * and from moduledata (stripped); the outermost is func_at's function and
 * the innermost position is func_line's. */
static void frames_one(const char *name, GElf_Sym *s, void *arg)
{
	struct go_frame fp[GB_FRAMES], fs[GB_FRAMES];
	struct frames_cmp *c = arg;

	(void)name;
	for (uint64_t pc = s->st_value; pc < s->st_value + s->st_size; pc++) {
		int np = gobin_frames_at(c->gp, pc, fp, GB_FRAMES);
		int ns = gobin_frames_at(c->gs, pc, fs, GB_FRAMES);
		const char *fn = gobin_func_at(c->gs, pc, NULL), *file = NULL;
		bool ok = np == ns && ns >= 1 && fn && !strcmp(fs[ns - 1].function, fn);
		int line = 0;

		for (int k = 0; ok && k < ns; k++)
			ok = frame_eq(&fp[k], &fs[k]);
		if (ok && !gobin_func_line(c->gs, pc, &file, &line))
			ok = !strcmp(fs[0].file, file) && fs[0].line == line;
		c->pcs++;
		c->inlined += ns > 1;
		if (ns > c->deepest)
			c->deepest = ns;
		if (ok || c->bad++)
			continue;
		frames_str(fs, ns, c->bad_s, sizeof(c->bad_s));
		frames_str(fp, np, c->bad_p, sizeof(c->bad_p));
	}
}

static void test_frames_all(struct gobin *gp, struct gobin *gs, struct gb_elf *ep)
{
	struct frames_cmp c = { .gp = gp, .gs = gs };

	gb_each_func(ep, frames_one, &c);
	unit_check(c.pcs > 100000 && c.inlined > 10000 && c.deepest >= 3 && !c.bad,
		 "gobin_frames_plain_eq_stripped",
		 "%ld pcs, %ld with inlined frames, deepest %d; %ld differ, first: %s | plain %s",
		 c.pcs, c.inlined, c.deepest, c.bad, c.bad_s, c.bad_p);
}

/* ------------------------------------------------------ live process */

struct live_g {
	uint64_t goid, startpc, gopc, sched_pc, sched_sp;
	uint32_t status;
	uint8_t reason;
};

static int live_read(int fd, uint64_t addr, void *buf, size_t len)
{
	return pread(fd, buf, len, addr) == (ssize_t)len ? 0 : -EIO;
}

static uint64_t field(const uint8_t *b, int off, int size)
{
	uint64_t v = 0;

	memcpy(&v, b + off, size);
	return v;
}

/* All goroutines of the process from allgs, as go_census does. */
static int live_gs(int fd, const struct go_layout *l, uint64_t allgs, struct live_g *out,
		   int max)
{
	uint64_t hdr[3], ptrs[256];
	uint8_t g[512];
	int n = 0;

	if (live_read(fd, allgs, hdr, sizeof(hdr)) || hdr[1] > 256 ||
	    live_read(fd, hdr[0], ptrs, hdr[1] * 8))
		return -EIO;
	for (uint64_t i = 0; i < hdr[1] && n < max; i++) {
		struct live_g *o = &out[n];

		if (!ptrs[i] || live_read(fd, ptrs[i], g, sizeof(g)))
			continue;
		o->goid = field(g, l->g_goid, 8);
		o->status = field(g, l->g_atomicstatus, 4) & ~0x1000u;
		o->reason = field(g, l->g_waitreason, 1);
		o->startpc = field(g, l->g_startpc, 8);
		o->gopc = field(g, l->g_gopc, 8);
		o->sched_pc = field(g, l->g_sched + l->gobuf_pc, 8);
		o->sched_sp = field(g, l->g_sched + l->gobuf_sp, 8);
		n++;
	}
	return n;
}

/* Run path with "20s" until it prints "ready". With errfd, its stderr is
 * a pipe returned there, and it runs under GOTRACEBACK=system. */
static int live_start(const char *path, pid_t *pid, int *errfd)
{
	int fds[2], efd[2] = { -1, -1 };
	char buf[16] = "";
	struct pollfd pfd;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	if (errfd && pipe2(efd, O_CLOEXEC)) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	*pid = fork();
	if (*pid < 0)
		return -errno;
	if (*pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		if (errfd) {
			dup2(efd[1], STDERR_FILENO);
			setenv("GOTRACEBACK", "system", 1);
		}
		execl(path, path, "20s", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (errfd) {
		close(efd[1]);
		*errfd = efd[0];
	}
	pfd = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	if (poll(&pfd, 1, 10000) != 1 || read(fds[0], buf, sizeof(buf) - 1) < 5 ||
	    strncmp(buf, "ready", 5)) {
		close(fds[0]);
		return -ETIMEDOUT;
	}
	close(fds[0]);
	return 0;
}

static const struct live_g *find_leaked(struct gobin *g, const struct go_layout *l,
					struct live_g *gs, int n)
{
	for (int i = 0; i < n; i++) {
		const char *start = gobin_func_at(g, gs[i].startpc, NULL);
		const char *r = l->wait_reason[gs[i].reason];

		if (gs[i].status == G_WAITING && r && !strcmp(r, "chan send") && start &&
		    !strcmp(start, "main.leakySend.func1"))
			return &gs[i];
	}
	return NULL;
}

static void live_checks(struct gobin *g, const struct go_layout *l, int fd, uint64_t allglen,
			struct live_g *gs, int n)
{
	const struct live_g *lk = NULL;
	const char *creator = NULL, *parked = NULL, *file = "";
	char src[256] = "";
	uint64_t len = 0;
	int line = 0;
	bool main_g = false;

	for (int i = 0; i < n; i++)
		main_g |= gs[i].goid == 1;
	live_read(fd, allglen, &len, sizeof(len));
	unit_check(n > 0 && main_g && len >= (uint64_t)n, "gobin_live_allgs",
		 "%d goroutines read, goid 1 %s, allglen %lu", n, main_g ? "seen" : "missing",
		 len);
	lk = find_leaked(g, l, gs, n);
	if (lk) {
		creator = gobin_func_at(g, lk->gopc, NULL);
		parked = gobin_func_at(g, lk->sched_pc, NULL);
		if (!gobin_func_line(g, lk->gopc - 1, &file, &line))
			gb_source_line(file, line, src, sizeof(src));
	}
	unit_check(lk && creator && !strcmp(creator, "main.leakySend") && strstr(src, "go func()"),
		 "gobin_live_chan_send", "blocked goroutine %s; created by %s at %s:%d '%s'",
		 lk ? "found" : "not found", creator ? creator : "?", file, line, src);
	unit_check(lk && parked && !strcmp(parked, "runtime.gopark") && lk->sched_sp,
		 "gobin_live_gobuf", "sched.pc in %s, sched.sp %#lx", parked ? parked : "?",
		 lk ? lk->sched_sp : 0);
}

/* Run the stripped build and read its blocked goroutine with what the
 * stripped binary alone gave: allgs, allglen and the table layout. */
static void test_live(const char *path, struct gobin *g, const struct go_layout *l)
{
	struct live_g gs[256];
	uint64_t allgs, allglen;
	char mem[64];
	int fd, n = 0, err;
	pid_t pid = -1;

	if (gobin_find_var(g, "runtime.allgs", &allgs) ||
	    gobin_find_var(g, "runtime.allglen", &allglen)) {
		unit_check(0, "gobin_live", "runtime.allgs/allglen not found");
		return;
	}
	err = live_start(path, &pid, NULL);
	if (err) {
		unit_check(0, "gobin_live", "could not run %s: %s", path, strerror(-err));
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		return;
	}
	snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)pid);
	fd = open(mem, O_RDONLY | O_CLOEXEC);
	/* the goroutine parks soon after "ready": give it up to 2 s */
	for (int i = 0; fd >= 0 && i < 100; i++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		n = live_gs(fd, l, allgs, gs, 256);
		if (n > 0 && find_leaked(g, l, gs, n))
			break;
		nanosleep(&ts, NULL);
	}
	if (fd >= 0) {
		live_checks(g, l, fd, allglen, gs, n > 0 ? n : 0);
		close(fd);
	} else {
		unit_check(0, "gobin_live", "%s: %s", mem, strerror(errno));
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ------------------------------------------- the runtime's own traceback */

struct tb_stats {
	int goroutines, physical, inlined, bad, lock_chain;
	char why[700];
};

/* "\tfile:line[ +0xoff][ fp=0x.. sp=0x.. pc=0x..]": file, line and pc (0
 * when not printed). Cuts pos. */
static bool tb_pos(char *pos, const char **file, int *line, uint64_t *pc)
{
	char *pcs = strstr(pos, " pc=0x"), *sp, *colon;

	*pc = pcs ? strtoull(pcs + 4, NULL, 16) : 0;
	if ((sp = strchr(pos + 1, ' ')))
		*sp = '\0';
	if (!(colon = strrchr(pos + 1, ':')))
		return false;
	*colon = '\0';
	*file = pos + 1;
	*line = atoi(colon + 1);
	return true;
}

static void tb_mismatch(struct tb_stats *st, uint64_t pc, const struct go_frame *want, int nw,
			const struct go_frame *got, int ng)
{
	char w[280], gt[280];

	if (st->bad++)
		return;
	frames_str(want, nw, w, sizeof(w));
	frames_str(got, ng, gt, sizeof(gt));
	snprintf(st->why, sizeof(st->why), "pc %#lx: traceback %s; frames_at %s", pc, w, gt);
}

/* One physical frame and the inlined ones printed above it, against
 * gobin_frames_at at the pc the traceback looked up: pc - 1 (a return
 * address) except for the trapping frame and the one below sigpanic. */
static void tb_frame(struct gobin *g, struct tb_stats *st, struct go_frame *pend, int npend,
		     uint64_t pc, bool exact)
{
	struct go_frame got[GB_FRAMES];
	uint64_t entry = 0;
	int n;
	bool ok;

	if (!gobin_func_at(g, pc, &entry)) {
		tb_mismatch(st, pc, pend, npend + 1, got, 0);
		return;
	}
	n = gobin_frames_at(g, !exact && pc > entry ? pc - 1 : pc, got, GB_FRAMES);
	ok = n == npend + 1;
	for (int k = 0; ok && k < n; k++)
		ok = frame_eq(&got[k], &pend[k]);
	st->physical++;
	st->inlined += npend;
	if (!ok)
		tb_mismatch(st, pc, pend, npend + 1, got, n);
	if (ok && npend == 2 && !strcmp(pend[0].function, "sync.(*Mutex).Lock") &&
	    !strcmp(pend[1].function, "main.(*counter).lock") &&
	    !strcmp(pend[2].function, "main.lockers.func1"))
		st->lock_chain++;
}

/*
 * A GOTRACEBACK=system dump: per goroutine, "name(args)" and
 * "\tfile:line +0xoff fp=.. sp=.. pc=0x.." for a physical frame,
 * "name(...)" and "\tfile:line" for an inlined one. text is cut up.
 */
static void tb_compare(struct gobin *g, char *text, struct tb_stats *st)
{
	struct go_frame pend[GB_FRAMES];
	bool trap = false, first = true, below_panic = false;
	char *line = text, *next;
	int npend = 0;

	memset(st, 0, sizeof(*st));
	for (; line && *line; line = next) {
		const char *file;
		char *pos, *paren;
		uint64_t pc;
		int ln;

		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if (!strncmp(line, "goroutine ", 10)) {
			/* the signalled thread's frames start at a trap */
			trap = strstr(line, "[running") || strstr(line, "[idle") ||
			       !strncmp(line, "goroutine 0 ", 12);
			first = true;
			below_panic = false;
			npend = 0;
			st->goroutines++;
			continue;
		}
		if (line[0] == '\t' || !next || next[0] != '\t' ||
		    !strncmp(line, "created by ", 11))
			continue;
		pos = next;
		if ((next = strchr(pos, '\n')))
			*next++ = '\0';
		if (!(paren = strrchr(line, '(')) || !tb_pos(pos, &file, &ln, &pc) ||
		    npend >= GB_FRAMES - 1)
			continue;
		pend[npend] = (struct go_frame){ line, file, ln };
		if (!strcmp(paren, "(...)") && !pc) {
			*paren = '\0';
			npend++;
			continue;
		}
		*paren = '\0';
		if (!strcmp(line, "panic"))
			pend[npend].function = "runtime.gopanic";
		if (pc)
			tb_frame(g, st, pend, npend, pc, (first && trap) || below_panic);
		below_panic = !strcmp(line, "runtime.sigpanic");
		first = false;
		npend = 0;
	}
}

/* The lock goroutine is parked once it reads _Gwaiting in allgs. */
static bool lock_parked(int fd, struct gobin *g, const struct go_layout *l, uint64_t allgs)
{
	struct live_g gs[256];
	int n = live_gs(fd, l, allgs, gs, 256);

	for (int i = 0; i < n; i++) {
		const char *start = gobin_func_at(g, gs[i].startpc, NULL);

		if (gs[i].status == G_WAITING && start && !strcmp(start, "main.lockers.func1"))
			return true;
	}
	return false;
}

static ssize_t read_all(int fd, char *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;

	while (got < len - 1 && poll(&pfd, 1, 10000) == 1) {
		ssize_t r = read(fd, buf + got, len - 1 - got);

		if (r <= 0)
			break;
		got += r;
	}
	buf[got] = '\0';
	return got;
}

/*
 * What the runtime itself prints: the stripped build under
 * GOTRACEBACK=system, sent SIGQUIT once its lock goroutine is parked,
 * dumps every goroutine with inlined frames expanded and the pc of each
 * physical one. Every such frame must be what gobin_frames_at gives.
 */
static void test_live_traceback(const char *path, struct gobin *g, const struct go_layout *l)
{
	size_t len = 1 << 20;
	char mem[64], *text = malloc(len);
	struct tb_stats st = { .why = "" };
	int fd = -1, errfd = -1, err;
	uint64_t allgs = 0;
	bool parked = false;
	pid_t pid = -1;
	ssize_t got = 0;

	err = text ? gobin_find_var(g, "runtime.allgs", &allgs) : -ENOMEM;
	if (!err)
		err = live_start(path, &pid, &errfd);
	if (!err) {
		snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)pid);
		fd = open(mem, O_RDONLY | O_CLOEXEC);
	}
	for (int i = 0; fd >= 0 && i < 100 && !(parked = lock_parked(fd, g, l, allgs)); i++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (parked && !kill(pid, SIGQUIT))
		got = read_all(errfd, text, len);
	if (parked && got > 0)
		tb_compare(g, text, &st);
	unit_check(!err && parked && st.goroutines >= 4 && st.physical >= 10 && st.inlined >= 3 &&
		 !st.bad && st.lock_chain == 1, "gobin_frames_vs_traceback",
		 "err %d, lock goroutine %s, %zd bytes: %d goroutines, %d physical and %d inlined "
		 "frames, %d differ, lock chain seen %d times; %s", err,
		 parked ? "parked" : "not parked", got, st.goroutines, st.physical, st.inlined,
		 st.bad, st.lock_chain, st.why);
	if (fd >= 0)
		close(fd);
	if (errfd >= 0)
		close(errfd);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	free(text);
}

/* ----------------------------------------------------- real binaries */

static bool same_offsets(const struct go_layout *a, const struct go_layout *b)
{
	return a->g_goid == b->g_goid && a->g_atomicstatus == b->g_atomicstatus &&
	       a->g_waitreason == b->g_waitreason && a->g_gopc == b->g_gopc &&
	       a->g_startpc == b->g_startpc && a->g_parentgoid == b->g_parentgoid &&
	       a->g_sched == b->g_sched && a->gobuf_sp == b->gobuf_sp &&
	       a->gobuf_pc == b->gobuf_pc && a->gobuf_bp == b->gobuf_bp;
}

/* One real Go program: version as read, version as guessed, layout decoded
 * from code against the table (Go 1.21+), g's TLS slot (Go 1.16). */
static void real_binary(const char *path, const char *want, int *nbad, char *why, size_t len)
{
	int minor = 0, guess, tls = 0;
	struct go_layout t, d;
	struct gobin g;

	sscanf(want, "go1.%d", &minor);
	if (gobin_open(path, &g)) {
		snprintf(why, len, "%.300s: gobin_open failed", path);
		(*nbad)++;
		return;
	}
	guess = gobin_version_guess(&g);
	if (strcmp(g.version, want) || !g.version_from)
		snprintf(why, len, "%.300s: version %s (from %s), built with %s", path, g.version,
			 g.version_from ? g.version_from : "nowhere", want);
	else if (guess != minor)
		snprintf(why, len, "%.300s: guessed Go 1.%d from the pclntab, built with %s", path,
			 guess, want);
	else if (minor >= 21 && (gobin_layout_table(1, minor, &t) ||
				 gobin_layout_code(&g, &d) || !same_offsets(&t, &d)))
		snprintf(why, len, "%.300s: offsets decoded from code differ from the Go 1.%d table",
			 path, minor);
	else if (minor == 16 && (gobin_tls_g(&g, &tls) || tls != -8))
		snprintf(why, len, "%.300s: g's TLS offset %d, want -8", path, tls);
	else
		minor = -1;
	*nbad += minor != -1;
	gobin_close(&g);
}

/* The Go programs of tests/data/npm-go.txt, fetched by
 * scripts/fetch-npm-go.sh into the cache. */
static void test_real_binaries(const char *go_plain)
{
	char *list = gb_sibling(go_plain, "../../../data/npm-go.txt"), line[256], why[512] = "";
	const char *home = getenv("HOME"), *cache = getenv("LEAKTOP_CACHE");
	int n = 0, nbad = 0;
	FILE *f = list ? fopen(list, "r") : NULL;

	while (f && fgets(line, sizeof(line), f)) {
		char prog[32], ver[32], pkg[64], file[64], go[32], path[1024];

		if (line[0] == '#' ||
		    sscanf(line, "%31s %31s %63s %63s %31s", prog, ver, pkg, file, go) != 5)
			continue;
		snprintf(path, sizeof(path), "%s%s/npm/%s-%s", cache ? cache : home,
			 cache ? "" : "/.cache/leaktop", prog, ver);
		if (access(path, X_OK)) {
			snprintf(why, sizeof(why), "%.300s missing: scripts/fetch-npm-go.sh", path);
			nbad++;
			continue;
		}
		real_binary(path, go, &nbad, why, sizeof(why));
		n++;
	}
	unit_check(f && n >= 11 && !nbad, "gobin_real_npm", "%d of %d programs wrong: %s",
		   nbad, n, f ? why : "tests/data/npm-go.txt not found");
	if (f)
		fclose(f);
	free(list);
}

static void run_all(const char *go_plain, const char *go_stripped, struct gobin *gp,
		    struct gobin *gs, struct gb_elf *ep, struct gb_elf *es)
{
	struct go_layout lp, ls;

	test_version(gp, gs);
	test_gopark(gp, gs, ep);
	test_all_funcs(gs, ep);
	test_func_at(gs);
	test_func_line(gs);
	test_vars(gp, gs, ep, es);
	test_frames_inlined(gp, gs);
	test_frames_plain(gs);
	test_frames_all(gp, gs, ep);
	test_layout(gp, gs, &lp, &ls);
	unit_check(dwarf_kind(go_plain) == 1, "gobin_dwarf_compressed",
		 "%s: .debug_info is not SHF_COMPRESSED", go_plain);
	test_variant(go_plain, "hello_nocompress", 0, &lp, "gobin_layout_uncompressed_dwarf");
	test_variant(go_plain, "hello_zdebug", 2, &lp, "gobin_layout_zdebug");
	test_tables();
	test_notsup(go_stripped);
	test_not_go();
	test_real_binaries(go_plain);
	test_live(go_stripped, gs, &ls);
	test_live_traceback(go_stripped, gs, &ls);
}

int gobin_tests(const char *go_plain, const char *go_stripped)
{
	struct gobin gp, gs;
	struct gb_elf ep, es;
	int e1, e2, e3 = -1, e4 = -1;

	int before = unit_failures;
	gb_src = gb_sibling(go_plain, "../hello.go");
	test_open(go_plain, go_stripped, &gp, &gs, &e1, &e2);
	if (!e1 && !e2) {
		e3 = gb_elf_open(go_plain, &ep);
		e4 = gb_elf_open(go_stripped, &es);
		unit_check(!e3 && !e4, "gobin_elf_open", "libelf: %d %d", e3, e4);
	}
	if (!e3 && !e4)
		run_all(go_plain, go_stripped, &gp, &gs, &ep, &es);
	if (!e3)
		gb_elf_close(&ep);
	if (!e4)
		gb_elf_close(&es);
	if (!e1)
		gobin_close(&gp);
	if (!e2)
		gobin_close(&gs);
	free(gb_src);
	gb_src = NULL;
	return unit_failures - before;
}
