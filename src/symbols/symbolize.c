// SPDX-License-Identifier: GPL-2.0
/*
 * Symbolization with elfutils' libdwfl: .symtab/.dynsym of each object,
 * separate debug files by build-id or .gnu_debuglink (so libc6-dbg names
 * glibc internals), DWARF line tables for file:line.
 */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "probes/elfsym.h"
#include "target/procmaps.h"
#include "target/procmem.h"
#include "symbols/symbolize.h"

struct module {
	char *path;
	uint64_t start, end;	/* executable range in the process */
	uint64_t bias;
	Dwfl_Module *mod;
};

struct symbolizer {
	pid_t pid;
	char *namer_path;	/* the object symbol_namer serves */
	symbol_namer namer;
	void *namer_ctx;
	Dwfl *dwfl;
	struct module *mods;
	int nmods;
	struct procmaps code;	/* every executable mapping ever seen */
	uint64_t tramp_start, tramp_end;	/* the [uprobes] page */
};

/* Declared here so C code needs no C++ header (libstdc++ provides it). */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

char *demangle(const char *name)
{
	int status = 0;
	char *d;

	if (strncmp(name, "_Z", 2) != 0)
		return strdup(name);
	d = __cxa_demangle(name, NULL, NULL, &status);
	return status == 0 && d ? d : strdup(name);
}

/*
 * The name a reader knows: demangled, without glibc's internal-alias
 * prefix "__GI_" and without a symbol version ("pthread_cond_wait@@GLIBC_2.3.2"
 * in libc6-dbg's symbol table).
 */
static char *plain_name(const char *name)
{
	char *d, *at;

	if (strncmp(name, "__GI_", 5) == 0)
		name += 5;
	d = demangle(name);
	at = d ? strchr(d, '@') : NULL;
	if (at && at != d)
		*at = '\0';
	return d;
}

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

struct symbolizer *symbolizer_new(pid_t pid)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->pid = pid;
	s->dwfl = dwfl_begin(&callbacks);
	if (!s->dwfl) {
		free(s);
		return NULL;
	}
	return s;
}

/* Load bias of the object mapped at m (read from file): where its vaddr 0
 * lies. */
static int load_bias(const struct mapping *m, const char *file, uint64_t *bias)
{
	struct elf_file ef;
	GElf_Ehdr eh;
	GElf_Phdr ph;
	size_t n;
	int err = -ENOENT;

	if (elf_file_open(file, &ef))
		return -ENOEXEC;
	if (!gelf_getehdr(ef.elf, &eh) || elf_getphdrnum(ef.elf, &n))
		n = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t off;

		if (!gelf_getphdr(ef.elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		off = ph.p_offset & ~(uint64_t)0xfff;
		if (m->pgoff < off || m->pgoff >= ph.p_offset + ph.p_filesz)
			continue;
		*bias = m->start - m->pgoff - (ph.p_vaddr - ph.p_offset);
		if (eh.e_type == ET_EXEC)
			*bias = 0;
		err = 0;
		break;
	}
	elf_file_close(&ef);
	return err;
}

static struct module *find_module(struct symbolizer *s, uint64_t addr)
{
	for (int i = 0; i < s->nmods; i++)
		if (addr >= s->mods[i].start && addr < s->mods[i].end)
			return &s->mods[i];
	return NULL;
}

static void add_module(struct symbolizer *s, const struct mapping *m)
{
	char buf[96];
	const char *file = procmaps_file(s->pid, m, buf, sizeof(buf));
	struct module *mod;
	uint64_t bias;
	int fd;

	if (!file || find_module(s, m->start) || find_module(s, m->end - 1) ||
	    load_bias(m, file, &bias))
		return;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	s->mods = realloc(s->mods, (s->nmods + 1) * sizeof(*s->mods));
	if (!s->mods)
		abort();
	mod = &s->mods[s->nmods++];
	mod->path = strdup(m->path);
	mod->start = m->start;
	mod->end = m->end;
	mod->bias = bias;
	/* libdwfl owns fd from here, and keeps the file open after exit. */
	mod->mod = dwfl_report_elf(s->dwfl, m->path, m->path, fd, bias, false);
	if (!mod->mod)
		close(fd);
}

static void remember_code(struct symbolizer *s, const struct mapping *m)
{
	struct procmaps *c = &s->code;

	for (int i = 0; i < c->n; i++)
		if (c->m[i].start == m->start && c->m[i].end == m->end)
			return;
	c->m = realloc(c->m, (c->n + 1) * sizeof(*c->m));
	if (!c->m)
		abort();
	c->m[c->n] = *m;
	c->m[c->n].path = m->path ? strdup(m->path) : NULL;
	c->n++;
}

int symbolizer_refresh(struct symbolizer *s)
{
	struct procmaps pm;
	int err = procmaps_read(s->pid, &pm);

	if (err)
		return err;	/* the process is gone: keep what we have */
	/* Mappings of another program (an exec) or process (the PID reused)
	 * would name the traced program's addresses wrongly. */
	if (procmem_gone(s->pid)) {
		procmaps_free(&pm);
		return -ESRCH;
	}
	dwfl_report_begin_add(s->dwfl);
	for (int i = 0; i < pm.n; i++) {
		if (!pm.m[i].exec)
			continue;
		if (pm.m[i].uprobes) {
			s->tramp_start = pm.m[i].start;
			s->tramp_end = pm.m[i].end;
			continue;
		}
		remember_code(s, &pm.m[i]);
		if (pm.m[i].path)
			add_module(s, &pm.m[i]);
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
	procmaps_free(&pm);
	return 0;
}

bool symbolizer_is_trampoline(struct symbolizer *s, uint64_t addr)
{
	return addr >= s->tramp_start && addr < s->tramp_end;
}

bool symbolizer_is_code(struct symbolizer *s, uint64_t addr)
{
	for (int i = 0; i < s->code.n; i++)
		if (addr >= s->code.m[i].start && addr < s->code.m[i].end)
			return true;
	return false;
}

static void fill_symbol(struct module *mod, uint64_t pc, struct lt_frame *f)
{
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *name = dwfl_module_addrinfo(mod->mod, pc, &off, &sym, NULL, NULL, NULL);
	Dwfl_Line *line;
	const char *file;
	int lineno = 0;

	/* Nearest-symbol lookups lie past a symbol's end (Debian's libc has
	 * only .dynsym): a name counts only if pc lies inside the symbol. */
	if (name && (sym.st_size ? off < sym.st_size : off == 0))
		f->function = plain_name(name);
	line = dwfl_module_getsrc(mod->mod, pc);
	file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
	if (file && lineno > 0) {
		f->file = strdup(file);
		f->line = lineno;
	}
}

void symbolize(struct symbolizer *s, uint64_t addr, bool is_return, struct lt_frame *f)
{
	uint64_t pc = is_return ? addr - 1 : addr;
	struct module *mod = find_module(s, pc);

	memset(f, 0, sizeof(*f));
	f->address = addr;
	f->offset = addr;
	if (!mod)
		return;
	f->module = strdup(mod->path);
	f->offset = addr - mod->bias;
	if (mod->mod)
		fill_symbol(mod, pc, f);
}

#define MAX_INLINE 16

int symbolize_frames(struct symbolizer *s, uint64_t addr, bool is_return, struct lt_frame *out,
		     int max)
{
	uint64_t pc = is_return ? addr - 1 : addr;
	struct module *mod = find_module(s, pc);
	int n;

	if (!mod || !s->namer || max < 1 || strcmp(mod->path, s->namer_path) != 0) {
		symbolize(s, addr, is_return, out);
		return 1;
	}
	memset(out, 0, max * sizeof(*out));
	n = s->namer(s->namer_ctx, pc - mod->bias, out, max);
	if (n < 1) {
		symbolize(s, addr, is_return, out);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		out[i].module = strdup(mod->path);
		out[i].address = addr;
		out[i].offset = addr - mod->bias;
	}
	return n;
}

void symbolizer_set_namer(struct symbolizer *s, const char *path, symbol_namer namer, void *ctx)
{
	char real[PATH_MAX];

	free(s->namer_path);
	s->namer_path = strdup(realpath(path, real) ? real : path);
	s->namer = namer;
	s->namer_ctx = ctx;
}

Dwfl *symbolizer_dwfl(struct symbolizer *s)
{
	return s->dwfl;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	dwfl_end(s->dwfl);
	for (int i = 0; i < s->nmods; i++)
		free(s->mods[i].path);
	free(s->mods);
	procmaps_free(&s->code);
	free(s->namer_path);
	free(s);
}
