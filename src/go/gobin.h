/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a Go executable as shipped (possibly built with -ldflags='-s -w'):
 * the toolchain version from .go.buildinfo, functions from .symtab or the
 * runtime's own .gopclntab, runtime variables from .symtab or by decoding
 * the runtime code that uses them, and the runtime.g layout from DWARF or
 * per-version tables. Addresses are link-time virtual addresses: add the
 * load bias for a PIE.
 */
#ifndef LEAKTOP_GOBIN_H
#define LEAKTOP_GOBIN_H

#include <stdbool.h>
#include <stdint.h>

#define GO_WAIT_REASONS 64

struct go_layout {
	/* runtime.g field offsets (bytes); -1 when the field does not exist */
	int g_goid, g_atomicstatus, g_waitreason, g_gopc, g_startpc, g_sched, g_parentgoid,
		g_waitsince;
	/* runtime.gobuf field offsets within g.sched */
	int gobuf_sp, gobuf_pc, gobuf_bp;
	/* wait reasons: value -> the runtime's own string, e.g. 15 -> "chan send"
	 * (Go 1.19); NULL for values not known */
	const char *wait_reason[GO_WAIT_REASONS];
	const char *source;	/* "dwarf", "table" or "runtime code (decoded)..." */
};

struct gobin_priv;

struct gobin {
	char version[32];	/* from .go.buildinfo: "go1.19.8"; "" if not found */
	int major, minor;	/* 1, 19; 0 if unknown */
	const char *version_from;	/* where version was read or how inferred */
	char guess[96];		/* version_from when inferred */
	bool regabi;		/* Go >= 1.17: arguments in registers, g in R14 */
	bool stripped;		/* no .symtab */
	bool has_dwarf;		/* .debug_info or .zdebug_info present */
	struct gobin_priv *priv;	/* ELF, pclntab, DWARF, disassembler */
};

/* 0, or -ENOEXEC when path is not a Go executable (no .go.buildinfo and no
 * pclntab), -ENOTSUP for a 32-bit or big-endian one, -errno otherwise. */
int gobin_open(const char *path, struct gobin *g);
void gobin_close(struct gobin *g);

/* Function by full Go name ("runtime.gopark"): ELF vaddr, size, file offset;
 * from .symtab, else .gopclntab. 0 or -ENOENT. */
int gobin_find_func(struct gobin *g, const char *name, uint64_t *vaddr, uint64_t *size,
		    uint64_t *file_off);

/* Name of the function containing vaddr (from .gopclntab) and its entry;
 * NULL if none. The name lives until gobin_close(). */
const char *gobin_func_at(struct gobin *g, uint64_t vaddr, uint64_t *entry);

/* Source position of vaddr from the pclntab's pcfile/pcln tables. For code
 * inlined into the function, the position is that of the inlined code. */
int gobin_func_line(struct gobin *g, uint64_t vaddr, const char **file, int *line);

struct go_frame {
	const char *function;	/* as the runtime names it: "sync.(*Mutex).Lock" */
	const char *file;	/* "?" and line 0 when the pclntab has none */
	int line;
};

/* The frames at vaddr, innermost first: the inlined callees (deepest
 * first), then the physical function, each with its file:line as Go's
 * traceback prints them (for an inlined callee, the line inside it; for
 * its caller, the line of the inlined call site). Returns how many were
 * written, at most max (the outermost are left off when more exist):
 * >= 1 when vaddr is inside a function, 0 if none. For a return address,
 * the caller passes vaddr - 1. Strings live until gobin_close(). Names
 * are the pclntab's ("runtime.goexit", not the ELF "runtime.goexit.abi0").
 * From the inline tree of Go 1.16+ pclntabs, stripped or not; should the
 * tree be unreadable, the physical frame alone. */
int gobin_frames_at(struct gobin *g, uint64_t vaddr, struct go_frame *out, int max);

/* Address of a runtime variable: "runtime.allgs", "runtime.allglen",
 * "runtime.allgptr", "runtime.MemProfileRate" (or any data symbol when
 * .symtab exists). 0 or -ENOENT. */
int gobin_find_var(struct gobin *g, const char *name, uint64_t *vaddr);

/* The same, always by decoding the runtime code (never .symtab): what a
 * stripped binary gets; exported so tests can hold it against .symtab. */
int gobin_find_var_code(struct gobin *g, const char *name, uint64_t *vaddr);

/* The Go minor version as inferred from the pclntab magic and runtime
 * functions alone (the last resort of gobin_open), g left as it was:
 * exported so tests can hold it against buildinfo. 0 when no pclntab. */
int gobin_version_guess(struct gobin *g);

/* Go <= 1.16 (ABI0) keeps the current g in TLS: its offset from the FS
 * base, decoded from runtime.gopark's prologue (`mov %fs:off, reg`).
 * 0 or -ENOENT. */
int gobin_tls_g(struct gobin *g, int *off);

/* runtime.g layout and wait reasons: from DWARF when present, else from the
 * table for the version (Go 1.16 to 1.26, amd64), else decoded from the
 * runtime code that uses the fields (gobin_decode.c). -ENOTSUP when none
 * applies: an unknown layout is never guessed. */
int gobin_layout(struct gobin *g, struct go_layout *out);

/* The layout decoded from the runtime code alone (what a release newer
 * than the tables gets; exported so tests can hold it against them). */
int gobin_layout_code(struct gobin *g, struct go_layout *out);

/* The built-in table for Go major.minor alone: 0 or -ENOTSUP. */
int gobin_layout_table(int major, int minor, struct go_layout *out);

#endif
