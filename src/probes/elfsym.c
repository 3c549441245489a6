// SPDX-License-Identifier: GPL-2.0
/* ELF symbol and dependency lookups with libelf. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "probes/elfsym.h"

int elf_file_open(const char *path, struct elf_file *ef)
{
	elf_version(EV_CURRENT);
	ef->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ef->fd < 0)
		return -errno;
	ef->elf = elf_begin(ef->fd, ELF_C_READ_MMAP, NULL);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF) {
		elf_file_close(ef);
		return -ENOEXEC;
	}
	return 0;
}

void elf_file_close(struct elf_file *ef)
{
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	ef->elf = NULL;
	ef->fd = -1;
}

int elf_check(const char *path)
{
	struct elf_file ef;
	int err = elf_file_open(path, &ef);

	if (err)
		return err;
	elf_file_close(&ef);
	return 0;
}

static Elf_Scn *find_section(Elf *elf, Elf64_Word type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			return scn;
	return NULL;
}

static int find_in_symtab(Elf *elf, Elf_Scn *scn, const char *name, struct elf_func *out)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	GElf_Shdr sh;
	GElf_Sym sym;

	if (!data || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return -ENOENT;
	for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
		const char *s;

		if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		s = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (!s || strcmp(s, name))
			continue;
		out->vaddr = sym.st_value;
		out->size = sym.st_size;
		return 0;
	}
	return -ENOENT;
}

int elf_find_func(struct elf_file *ef, const char *name, bool exported_only,
		  struct elf_func *out)
{
	Elf_Scn *scn = exported_only ? NULL : find_section(ef->elf, SHT_SYMTAB);
	int err = -ENOENT;

	if (scn)
		err = find_in_symtab(ef->elf, scn, name, out);
	if (err) {
		scn = find_section(ef->elf, SHT_DYNSYM);
		if (scn)
			err = find_in_symtab(ef->elf, scn, name, out);
	}
	if (err)
		return err;
	return elf_vaddr_to_offset(ef, out->vaddr, &out->offset);
}

int elf_vaddr_to_offset(struct elf_file *ef, uint64_t vaddr, uint64_t *off)
{
	size_t n;
	GElf_Phdr ph;

	if (elf_getphdrnum(ef->elf, &n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(ef->elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

bool elf_is_static(struct elf_file *ef)
{
	return find_section(ef->elf, SHT_DYNAMIC) == NULL;
}

int elf_needed(struct elf_file *ef, char ***names, int *n, char **runpath)
{
	Elf_Scn *scn = find_section(ef->elf, SHT_DYNAMIC);
	Elf_Data *data;
	GElf_Shdr sh;
	GElf_Dyn dyn;

	*names = NULL;
	*n = 0;
	*runpath = NULL;
	if (!scn)
		return 0;
	data = elf_getdata(scn, NULL);
	if (!data || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return -EINVAL;
	for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
		const char *s;

		if (!gelf_getdyn(data, i, &dyn))
			break;
		if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RUNPATH && dyn.d_tag != DT_RPATH)
			continue;
		s = elf_strptr(ef->elf, sh.sh_link, dyn.d_un.d_val);
		if (!s)
			continue;
		if (dyn.d_tag != DT_NEEDED) {
			free(*runpath);
			*runpath = strdup(s);
			continue;
		}
		*names = realloc(*names, (*n + 1) * sizeof(char *));
		if (!*names)
			abort();
		(*names)[(*n)++] = strdup(s);
	}
	return 0;
}
