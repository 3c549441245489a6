// SPDX-License-Identifier: GPL-2.0
/*
 * The runtime.g layout and waitReason strings: DWARF, else tables.
 */
#include <dwarf.h>
#include <errno.h>
#include <string.h>
#include "go/gobin_priv.h"

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

static const char *const reasons_117[] = {	/* 1.16 - 1.19 */
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
	/* 1.16: no runnableStamp/runnableTime (1.17 added them before gopc) */
	{ 16, 16, 144, 152, 168, 176, -1, 280, 296, 48, reasons_117 },
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

/* A release newer than the tables: offsets from its code, wait reasons of
 * the newest table (the runtime appends to them; 1.26 regrouped them). */
int gobin_layout_code(struct gobin *g, struct go_layout *out)
{
	const struct go_table *t = &go_tables[sizeof(go_tables) / sizeof(go_tables[0]) - 1];

	layout_init(out);
	if (gobin_layout_decode(g, out)) {
		layout_init(out);
		return -ENOTSUP;
	}
	if (table_for(g->major, g->minor))
		t = table_for(g->major, g->minor);
	table_reasons(t, g->minor, out);
	out->source = table_for(g->major, g->minor) ? "runtime code (decoded)" :
		      "runtime code (decoded), wait reasons of the newest table";
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
	/* the tables and the decoder know amd64 */
	if (!gelf_getehdr(p->elf, &eh) || eh.e_machine != EM_X86_64) {
		layout_init(out);
		return -ENOTSUP;
	}
	if (gobin_layout_table(g->major, g->minor, out) == 0)
		return 0;
	return gobin_layout_code(g, out);
}
