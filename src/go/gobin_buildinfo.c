// SPDX-License-Identifier: GPL-2.0
/*
 * The Go version of a binary: .go.buildinfo, else runtime.buildVersion.
 */
#include <errno.h>
#include <string.h>
#include "go/gobin_priv.h"

/* ---------------------------------------------------------- buildinfo */

static const char buildinfo_magic[14] = "\xff Go buildinf:";

size_t gb_uvarint(const uint8_t *b, size_t len, uint64_t *v)
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
	sh = gb_at_vaddr(p, rd64(hdr + 16), 16, NULL);
	if (!sh)
		return -ENOENT;
	len = rd64(sh + 8);
	if (len == 0 || len > 256 || !(s = gb_at_vaddr(p, rd64(sh), len, NULL)))
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
	n = gb_uvarint(hdr + 32, avail - 32, &len);
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
int buildinfo_read(struct gobin_priv *p, struct gobin *g)
{
	const uint8_t *b;
	size_t len;

	b = gb_scn_bytes(p, ".go.buildinfo", &len, NULL);
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

/* Without buildinfo: the runtime.buildVersion string, found in .symtab or
 * by decoding schedinit (gobin_vars.c); needs the pclntab. */
void buildinfo_var_version(struct gobin_priv *p, struct gobin *g)
{
	const uint8_t *sh, *s;
	uint64_t va, ptr, len;
	GElf_Sym sym;

	if (gb_sym_lookup(p, "runtime.buildVersion", -1, &sym) == 0) {
		va = sym.st_value;
		g->version_from = "runtime.buildVersion (.symtab)";
	} else if (gobin_find_var_code(g, "runtime.buildVersion", &va) == 0) {
		g->version_from = "runtime.buildVersion (found by decoding runtime.schedinit)";
	} else {
		return;
	}
	if (!(sh = gb_at_vaddr(p, va + 8, 8, NULL)) || !gb_read_ptr(p, va, &ptr)) {
		g->version_from = NULL;
		return;
	}
	len = rd64(sh);
	if (len && len <= 256 && (s = gb_at_vaddr(p, ptr, len, NULL)))
		set_version(g, (const char *)s, len);
	if (!g->version[0])
		g->version_from = NULL;
}
