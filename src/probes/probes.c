// SPDX-License-Identifier: GPL-2.0
/*
 * Uprobes on functions of the target: find each function in the object
 * that provides it, pick the cheapest safe offset, attach entry and return
 * programs, and detach them all at the end.
 *
 * Why offsets matter (shared/notes/probe-costs.md, measured on this VM
 * kind): a probe on an instruction the kernel emulates costs ~0.2 us per
 * hit, one it must single-step ~2.5 us (11 us on a slower host here).
 * glibc's free starts with "test %rdi,%rdi; je": probing the je (+3)
 * instead of +0 is ~10x cheaper.
 */
#include <bpf/libbpf.h>
#include <capstone/capstone.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "probes/elfsym.h"
#include "probes/kfeatures.h"
#include "probes/probes.h"

#define MAX_SCAN 16	/* instructions examined from the entry */
#define MAX_BODY 65536	/* bytes of a function decoded for branch targets */
#define MAX_LINKS 128
#define MAX_OBJS 8

int probes_verbose;
static struct bpf_link *links[MAX_LINKS];
static int nlinks;
static int multi_fds[MAX_LINKS];	/* uprobe_multi links */
static int nmulti;
static const struct bpf_program *progs[MAX_LINKS];	/* behind the links, once each */
static int nprogs;

static void note_prog(const struct bpf_program *prog)
{
	for (int i = 0; i < nprogs; i++)
		if (progs[i] == prog)
			return;
	if (nprogs < MAX_LINKS)
		progs[nprogs++] = prog;
}

/*
 * uprobe_multi links (Linux 6.6) put many offsets of one file behind one
 * link, detached with one grace period; one perf-event uprobe each costs
 * 0.15 s to detach here (34 of them: 5 s at exit). Debian's libbpf 1.1
 * predates them, so the link is made with the bpf syscall; the attribute
 * layout is the kernel's (include/uapi/linux/bpf.h, link_create.uprobe_multi).
 * Whether the kernel has them is probed (kfeatures.c), not read from uname.
 */
#define LT_BPF_F_UPROBE_MULTI_RETURN 1

struct uprobe_multi_attr {
	uint32_t prog_fd, target_fd, attach_type, flags;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t cnt, multi_flags, pid, pad;
};

/* Multi links where they exist and, with -p, where their pid filter
 * follows every thread of the process (before 6.10 it did not). */
static int use_multi(void)
{
	return feature_has(LT_FEAT_UPROBE_MULTI) && feature_has(LT_FEAT_UPROBE_MULTI_PID);
}

void probes_prepare(struct bpf_program *prog)
{
	if (use_multi())
		bpf_program__set_expected_attach_type(prog, PROBES_TRACE_UPROBE_MULTI);
}

bool probes_sessions(void)
{
	return use_multi() && feature_has(LT_FEAT_UPROBE_SESSION);
}

void probes_prepare_session(struct bpf_program *prog)
{
	if (probes_sessions())
		bpf_program__set_expected_attach_type(prog, PROBES_TRACE_UPROBE_SESSION);
	else
		bpf_program__set_autoload(prog, false);
}

int probes_multi_link(int prog_fd, const char *path, const uint64_t *offs,
		      const uint64_t *cookies, int n, int pid, enum probe_mode mode)
{
	struct uprobe_multi_attr a = {
		.prog_fd = prog_fd,
		.attach_type = mode == PROBE_SESSION ? PROBES_TRACE_UPROBE_SESSION :
						       PROBES_TRACE_UPROBE_MULTI,
		.path = (uintptr_t)path,
		.offsets = (uintptr_t)offs,
		.cookies = (uintptr_t)cookies,
		.cnt = n,
		.multi_flags = mode == PROBE_RETURN ? LT_BPF_F_UPROBE_MULTI_RETURN : 0,
		.pid = pid,	/* 0: every process */
	};
	int fd = syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));

	return fd < 0 ? -errno : fd;
}

static int link_multi(struct bpf_program *prog, const char *path, const uint64_t *offs,
		      const uint64_t *cookies, int n, pid_t pid, enum probe_mode mode)
{
	int fd;

	if (nmulti == MAX_LINKS)
		return -E2BIG;
	fd = probes_multi_link(bpf_program__fd(prog), path, offs, cookies, n, pid > 0 ? pid : 0,
			       mode);
	if (fd < 0)
		return fd;
	multi_fds[nmulti++] = fd;
	note_prog(prog);
	return 0;
}

/* The instructions arch/x86/kernel/uprobes.c emulates instead of
 * single-stepping: push reg (optionally REX.B), rel8/rel32 jmp, jcc and
 * call, one-byte nop; any prefix beyond REX.B makes it single-step. */
static int emulated(const cs_insn *in)
{
	const uint8_t *b = in->bytes;

	if (in->size == 1)
		return (b[0] >= 0x50 && b[0] <= 0x57) || b[0] == 0x90;
	if (in->size == 2 && b[0] == 0x41)
		return b[1] >= 0x50 && b[1] <= 0x57;
	if (in->size == 2)
		return (b[0] >= 0x70 && b[0] <= 0x7f) || b[0] == 0xeb;
	if (in->size == 5)
		return b[0] == 0xe8 || b[0] == 0xe9;
	if (in->size == 6)
		return b[0] == 0x0f && b[1] >= 0x80 && b[1] <= 0x8f;
	return 0;
}

/* Sub-registers of %rsp, %rbp, then the argument registers in ABI order. */
static const x86_reg reg_family[8][5] = {
	{ X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL, X86_REG_SPL },
	{ X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL, X86_REG_BPL },
	{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_DIL },
	{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, X86_REG_SIL },
	{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH },
	{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH },
	{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B, X86_REG_R8B },
	{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B, X86_REG_R9B },
};

static int is_watched(x86_reg r, int nargs)
{
	for (int f = 0; f < 2 + nargs && f < 8; f++)
		for (int j = 0; j < 5; j++)
			if (reg_family[f][j] == r)
				return 1;
	return 0;
}

/* Does the instruction change what the probe program reads: %rsp, %rbp,
 * the function's nargs argument registers, or the stack memory? */
static int writes_watched(csh h, const cs_insn *in, int nargs)
{
	cs_regs rd, wr;
	uint8_t nrd, nwr;
	const cs_x86 *x = &in->detail->x86;

	if (cs_regs_access(h, in, rd, &nrd, wr, &nwr))
		return 1;
	for (int i = 0; i < nwr; i++)
		if (is_watched(wr[i], nargs))
			return 1;
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type == X86_OP_MEM && (op->access & CS_AC_WRITE) &&
		    (is_watched(op->mem.base, 0) || op->mem.base == X86_REG_INVALID))
			return 1;
	}
	return 0;
}

static int is_control_flow(csh h, const cs_insn *in)
{
	return cs_insn_group(h, in, CS_GRP_JUMP) || cs_insn_group(h, in, CS_GRP_CALL) ||
	       cs_insn_group(h, in, CS_GRP_RET) || cs_insn_group(h, in, CS_GRP_INT) ||
	       cs_insn_group(h, in, CS_GRP_IRET) || in->id == X86_INS_SYSCALL;
}

static size_t first_emulated(csh h, const uint8_t *code, size_t len, int nargs)
{
	cs_insn *in;
	size_t n = cs_disasm(h, code, len < 128 ? len : 128, 0, MAX_SCAN, &in);
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		if (emulated(&in[i])) {
			off = in[i].address;
			break;
		}
		if (is_control_flow(h, &in[i]) || writes_watched(h, &in[i], nargs))
			break;
	}
	cs_free(in, n);
	return off;
}

/* Does any direct branch in the function land inside (0, off]? */
static int jumped_into(csh h, const uint8_t *code, size_t len, size_t off)
{
	cs_insn *in = cs_malloc(h);
	const uint8_t *p = code;
	uint64_t addr = 0;
	int hit = 0;

	while (!hit && cs_disasm_iter(h, &p, &len, &addr, in)) {
		const cs_x86 *x = &in->detail->x86;

		if (!cs_insn_group(h, in, CS_GRP_JUMP) && !cs_insn_group(h, in, CS_GRP_CALL))
			continue;
		for (int i = 0; i < x->op_count; i++)
			if (x->operands[i].type == X86_OP_IMM && x->operands[i].imm > 0 &&
			    (uint64_t)x->operands[i].imm <= off)
				hit = 1;
	}
	cs_free(in, 1);
	return hit;
}

size_t probe_offset(const uint8_t *code, size_t len, int nargs)
{
	csh h;
	size_t off;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return 0;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	off = first_emulated(h, code, len, nargs);
	if (off && jumped_into(h, code, len, off))
		off = 0;
	cs_close(&h);
	return off;
}

static size_t place(struct elf_file *ef, const struct elf_func *fn, int nargs)
{
	size_t len = fn->size ? fn->size : 128;
	uint8_t *code;
	ssize_t got;
	size_t off;

	if (len > MAX_BODY)
		len = MAX_BODY;
	code = malloc(len);
	if (!code)
		return 0;
	got = pread(ef->fd, code, len, fn->offset);
	off = got > 0 ? probe_offset(code, got, nargs) : 0;
	free(code);
	return off;
}

static int attach_one(struct bpf_program *prog, pid_t pid, const char *obj, uint64_t off,
		      uint64_t cookie, int retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie, .retprobe = retprobe);
	struct bpf_link *l;

	if (nlinks == MAX_LINKS)
		return -E2BIG;
	l = bpf_program__attach_uprobe_opts(prog, pid > 0 ? pid : -1, obj, off, &opts);
	if (!l)
		return -errno;
	links[nlinks++] = l;
	note_prog(prog);
	return 0;
}

/* Where one request's probe goes. */
struct placement {
	const struct probe_req *req;
	uint64_t func;		/* file offset of the function */
	uint64_t offset;	/* file offset of the probed instruction */
};

struct elf_cache {
	const char *path[MAX_OBJS];
	struct elf_file ef[MAX_OBJS];
	int n;
};

static struct elf_file *cached_elf(struct elf_cache *c, const char *path)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->path[i], path) == 0)
			return &c->ef[i];
	if (c->n == MAX_OBJS || elf_file_open(path, &c->ef[c->n]))
		return NULL;
	c->path[c->n] = path;
	return &c->ef[c->n++];
}

/* Find and place req; 0 when its object lacks it or it aliases one placed. */
static int plan_one(const struct probe_req *req, struct elf_cache *c, struct placement *all,
		    int n)
{
	struct elf_file *ef = req->obj ? cached_elf(c, req->obj) : NULL;
	struct elf_func fn;
	size_t off;

	if (ef && req->func_size) {
		fn.offset = req->func_off;
		fn.size = req->func_size;
	} else if (!ef || elf_find_func(ef, req->symbol, !elf_is_static(ef), &fn)) {
		return 0;	/* nothing can call it there */
	}
	for (int i = 0; i < n; i++)
		if (strcmp(all[i].req->obj, req->obj) == 0 && all[i].func == fn.offset)
			return 0;	/* an alias of an entry already placed */
	off = place(ef, &fn, req->nargs);
	all[n].req = req;
	all[n].func = fn.offset;
	all[n].offset = fn.offset + off;
	if (probes_verbose)
		fprintf(stderr, "leaktop: probe %s at %s offset 0x%lx (entry+%zu)%s\n",
			req->symbol, req->obj, all[n].offset, off,
			req->session && probes_sessions() ? " as a session (one link: entry, return)" :
			req->ret ? " with return probe" : "");
	return 1;
}

static int attach_placement(const struct placement *pl, pid_t pid, int retprobe)
{
	const struct probe_req *r = pl->req;
	int err = attach_one(retprobe ? r->ret : r->entry, pid, r->obj, pl->offset, r->cookie,
			     retprobe);

	if (err)
		fprintf(stderr, "leaktop: cannot attach uprobe to %s in %s: %s\n", r->symbol,
			r->obj, strerror(-err));
	return err;
}

static struct bpf_program *session_of(const struct placement *pl)
{
	return probes_sessions() ? pl->req->session : NULL;
}

/* The program of a pass at pl: a session program stands for both. */
static struct bpf_program *prog_of(const struct placement *pl, int retprobe)
{
	if (session_of(pl))
		return retprobe ? NULL : session_of(pl);
	return retprobe ? pl->req->ret : pl->req->entry;
}

/* One uprobe_multi link per (program, object): the placements from
 * first on that share them and are not linked yet. */
static int attach_group(struct placement *pl, int np, int first, int retprobe, pid_t pid,
			char *done)
{
	struct bpf_program *prog = prog_of(&pl[first], retprobe);
	const char *obj = pl[first].req->obj;
	uint64_t offs[np], cookies[np];
	int n = 0, err;

	for (int i = first; i < np; i++) {
		if (done[i] || prog_of(&pl[i], retprobe) != prog || strcmp(pl[i].req->obj, obj))
			continue;
		offs[n] = pl[i].offset;
		cookies[n++] = pl[i].req->cookie;
		done[i] = 1;
	}
	err = link_multi(prog, obj, offs, cookies, n, pid,
			 retprobe ? PROBE_RETURN : session_of(&pl[first]) ? PROBE_SESSION :
									    PROBE_ENTRY);
	if (err)
		fprintf(stderr, "leaktop: cannot attach %d uprobes in %s: %s\n", n, obj,
			strerror(-err));
	return err;
}

static int attach_pass(struct placement *pl, int np, int retprobe, pid_t pid)
{
	char done[np + 1];
	int err = 0;

	memset(done, 0, sizeof(done));
	for (int i = 0; !err && i < np; i++) {
		if (done[i] || !prog_of(&pl[i], retprobe))
			continue;
		if (use_multi())
			err = attach_group(pl, np, i, retprobe, pid, done);
		else
			err = attach_placement(&pl[i], pid, retprobe);
	}
	return err;
}

/*
 * Return probes go in first: an entry seen before its return probe exists
 * would leave its thread "inside a call" with no return to end it. A return
 * probe shares its entry's placement: %rsp still points at the return
 * address there, which is what the kernel hijacks.
 */
int probes_attach(const struct probe_req *reqs, int n, pid_t pid)
{
	struct placement *pl = calloc(n ? n : 1, sizeof(*pl));
	struct elf_cache c = { .n = 0 };
	int np = 0, err;

	if (!pl)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		np += plan_one(&reqs[i], &c, pl, np);
	for (int i = 0; i < c.n; i++)
		elf_file_close(&c.ef[i]);
	err = attach_pass(pl, np, 1, pid);
	if (!err)
		err = attach_pass(pl, np, 0, pid);
	free(pl);
	return err;
}

int probes_keep(struct bpf_program *prog)
{
	struct bpf_link *link;

	if (nlinks == MAX_LINKS)
		return -E2BIG;
	link = bpf_program__attach(prog);
	if (!link)
		return -errno;
	links[nlinks++] = link;
	note_prog(prog);
	return 0;
}

int probes_programs(const struct bpf_program **out, int max)
{
	int n = nprogs < max ? nprogs : max;

	memcpy(out, progs, n * sizeof(*out));
	return n;
}

void probes_detach(void)
{
	while (nmulti > 0)
		close(multi_fds[--nmulti]);
	while (nlinks > 0)
		bpf_link__destroy(links[--nlinks]);
	nprogs = 0;
}

int probes_count(void)
{
	return nlinks + nmulti;
}
