#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Small Go executables for the gobin fuzzer, cut out of a real one.

Usage: gobin_seeds.py HELLO OUTDIR

HELLO is tests/unit/go/build/hello (Go 1.18+ pclntab, .symtab; built by
`make unit`). A whole Go binary is megabytes: libFuzzer truncates it to
1 MB and mutates it at a few executions per second. These seeds keep what
src/go/gobin*.c read and nothing else, a few kilobytes each:

 - the code of a dozen functions, at their original addresses (the
   runtime functions gobin decodes for runtime variables, a function with
   inlined calls, an ABI wrapper pair), one PT_LOAD each;
 - a pclntab re-encoded for those functions alone, as Go 1.16-1.17, 1.18-
   1.19 or 1.20+ lays it out, with their pc tables, files and inline trees;
 - runtime.firstmoduledata (pcHeader, funcnametab, gofunc), .go.buildinfo
   in the 1.18+ inline form or the older pointer form, a small .symtab;
 - DWARF describing runtime.g, runtime.gobuf and the waitReason constants,
   plain, SHF_COMPRESSED or as GNU .zdebug_* sections;
 - variants: stripped, PIE (ET_DYN whose pointers are left 0 in the file
   with R_X86_64_RELATIVE relocations), no section naming the pclntab.

Formats: golang/go src/runtime/symtab.go, runtime2.go and
src/debug/buildinfo; the same facts src/go/gobin*.c document.
"""

import struct
import sys
import zlib
from pathlib import Path

MAGIC = {116: 0xfffffffa, 118: 0xfffffff0, 120: 0xfffffff1}

# ELF name in HELLO; the pclntab calls an ABI0 function by its Go name.
FUNCS = [
    "runtime.allgadd", "runtime.forEachG", "runtime.forEachGRace",
    "runtime.profilealloc", "runtime.allocmcache", "runtime.gopark",
    "runtime.goexit1", "runtime.goexit1.abi0", "runtime.goexit.abi0",
    "sync.(*Mutex).lockSlow", "main.leakySend", "main.leakySend.func1",
    "main.lockers", "main.lockers.func1", "main.main",
]
VARS = ["runtime.allgs", "runtime.allglen", "runtime.allgptr",
        "runtime.MemProfileRate"]

# Where the pieces that are not code go (inside HELLO's own segments, so
# that no address of the code has to change).
VA_RODATA = 0x483000     # inline trees, string headers
VA_PCLN = 0x4bb5c0       # the pcHeader
VA_BUILDINFO = 0x513000
VA_MODULEDATA = 0x5188a0

# runtime.g and runtime.gobuf of Go 1.19 (amd64), and its waitReasons.
G_FIELDS = [("stack", 0), ("sched", 56), ("atomicstatus", 144),
            ("goid", 152), ("waitsince", 168), ("waitreason", 176),
            ("gopc", 296), ("startpc", 312)]
GOBUF_FIELDS = [("sp", 0), ("pc", 8), ("g", 16), ("ctxt", 24), ("ret", 32),
                ("lr", 40), ("bp", 48)]
REASONS = ["Zero", "GCAssistMarking", "IOWait", "ChanReceiveNilChan",
           "ChanSendNilChan", "DumpingHeap", "GarbageCollection",
           "GarbageCollectionScan", "PanicWait", "Select", "SelectNoCases",
           "GCAssistWait", "GCSweepWait", "GCScavengeWait", "ChanReceive",
           "ChanSend", "FinalizerWait", "ForceGCIdle", "Semacquire", "Sleep",
           "SyncCondWait", "TimerGoroutineIdle", "TraceReaderBlocked",
           "WaitForGCCycle", "GCWorkerIdle", "Preempted", "DebugCall"]


def u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def i32(b, o):
    return struct.unpack_from("<i", b, o)[0]


def u64(b, o):
    return struct.unpack_from("<Q", b, o)[0]


def cstr(b, o):
    return b[o:b.index(b"\0", o)].decode()


def uvarint(v):
    out = bytearray()
    while True:
        c = v & 0x7f
        v >>= 7
        out.append(c | (0x80 if v else 0))
        if not v:
            return bytes(out)


def read_uvarint(b, o):
    x = shift = 0
    while True:
        c = b[o]
        o += 1
        x |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return x, o


# ------------------------------------------------------------ reading

class Elf:
    def __init__(self, data):
        self.d = data
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shnum, shstrndx = struct.unpack_from("<HH", data, 0x3c)
        self.scn = {}
        raw = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + 64 * i)
               for i in range(shnum)]
        strtab = raw[shstrndx][4]
        for s in raw:
            self.scn[cstr(data, strtab + s[0])] = s
        self.syms = {}
        _, _, _, _, off, size, link, _, _, _ = self.scn[".symtab"]
        stroff = raw[link][4]
        for o in range(off, off + size, 24):
            name, info, _, shndx, value, ssize = struct.unpack_from(
                "<IBBHQQ", data, o)
            if shndx:
                self.syms[cstr(data, stroff + name)] = (value, ssize)

    def section(self, name):
        s = self.scn[name]
        return s[3], self.d[s[4]:s[4] + s[5]]

    def at(self, va, n):
        for name in (".text", ".rodata", ".gopclntab"):
            addr, b = self.section(name)
            if addr <= va and va + n <= addr + len(b):
                return b[va - addr:va - addr + n]
        raise KeyError(hex(va))


def pc_table(b, off):
    """The bytes of the pc-value table at off (with its end) and values."""
    o, first, vals, val = off, True, [], -1
    while first or b[o]:
        uv, o = read_uvarint(b, o)
        _, o = read_uvarint(b, o)
        val += -(uv >> 1) - 1 if uv & 1 else uv >> 1
        vals.append(val)
        first = False
    return bytes(b[off:o + 1]), vals


class Func:
    pass


def read_funcs(elf):
    """The functions of FUNCS from the pclntab of a Go 1.18-1.19 binary."""
    _, t = elf.section(".gopclntab")
    ver = {v: k for k, v in MAGIC.items()}[u32(t, 0)]
    if ver != 118:
        sys.exit(f"gobin_seeds: want a Go 1.18-1.19 pclntab, got {ver}")
    nfunc, _, text, names, cutab, filetab, pctab, functab = \
        struct.unpack_from("<8Q", t, 8)
    gofunc_base = elf.syms["go.func.*"][0]
    by_entry = {v[0]: n for n, v in elf.syms.items()}
    out = []
    for i in range(nfunc):
        entry = text + u32(t, functab + 8 * i)
        if by_entry.get(entry) not in FUNCS:
            continue
        r = functab + u32(t, functab + 8 * i + 4)
        f = Func()
        f.elfname = by_entry[entry]
        f.entry = entry
        f.end = text + u32(t, functab + 8 * i + 8)
        f.code = elf.at(f.entry, f.end - f.entry)
        f.name = cstr(t, names + i32(t, r + 4))
        f.args, f.deferreturn = u32(t, r + 8), u32(t, r + 12)
        f.funcid, f.flag = t[r + 36], t[r + 37]
        f.nfuncdata = t[r + 39]
        npcdata = u32(t, r + 28)
        cuoff = u32(t, r + 32)
        f.pcsp, _ = pc_table(t, pctab + u32(t, r + 16))
        f.pcfile, fnos = pc_table(t, pctab + u32(t, r + 20))
        f.pcln, _ = pc_table(t, pctab + u32(t, r + 24))
        f.files = {}
        for n in set(fnos):
            if n >= 0:
                name = cstr(t, filetab + u32(t, cutab + 4 * (cuoff + n)))
                # the checkout's path is nobody's business
                f.files[n] = name[name.find("tests/unit/go/"):] \
                    if "tests/unit/go/" in name else name
        # PCDATA 2 and FUNCDATA 3: the inline tree, kept; others dropped.
        f.npcdata = npcdata
        f.inl_index, f.inl = None, []
        if npcdata > 2 and u32(t, r + 40 + 8):
            f.inl_index, idx = pc_table(t, pctab + u32(t, r + 40 + 8))
            fd = r + 40 + 4 * npcdata
            if f.nfuncdata > 3 and u32(t, fd + 12) != 0xffffffff:
                tree = gofunc_base + u32(t, fd + 12)
                for k in range(max(idx) + 1):
                    rec = elf.at(tree + 20 * k, 20)
                    parent, fid, _, file, line, nameoff, ppc = \
                        struct.unpack("<hBBiiii", rec)
                    f.inl.append(dict(parent=parent, funcid=fid, file=file,
                                      line=line, parentpc=ppc,
                                      name=cstr(t, names + nameoff)))
        out.append(f)
    missing = set(FUNCS) - {f.elfname for f in out}
    if missing:
        sys.exit(f"gobin_seeds: not in the pclntab: {sorted(missing)}")
    return sorted(out, key=lambda f: f.entry)


# ------------------------------------------------------------ writing

class Pool:
    """Bytes with de-duplicated pieces: offset of each."""

    def __init__(self, start=b""):
        self.b = bytearray(start)
        self.at = {}

    def add(self, piece):
        if piece not in self.at:
            self.at[piece] = len(self.b)
            self.b += piece
        return self.at[piece]


def pclntab(funcs, ver, text, gofunc, tree_va, pie):
    """(pcHeader bytes, funcnametab offset, inline tree blob, relocs):
    relocs are (offset in the pclntab, value) of 1.16 funcdata pointers."""
    names, files, pct = Pool(), Pool(), Pool(b"\0")   # pctab offset 0: none
    cutab = []
    trees = bytearray()
    recs = []
    for f in funcs:
        names.add(f.name.encode() + b"\0")
    for f in funcs:
        cuoff = len(cutab)
        for n in range(max(f.files, default=-1) + 1):
            if n in f.files:
                cutab.append(files.add(f.files[n].encode() + b"\0"))
            else:
                cutab.append(0xffffffff)
        tree_off = None
        if f.inl:
            tree_off = len(trees)
            for c in f.inl:
                nameoff = names.add(c["name"].encode() + b"\0")
                if ver >= 120:
                    trees += struct.pack("<B3xiii", c["funcid"], nameoff,
                                         c["parentpc"], c["line"])
                else:
                    trees += struct.pack("<hBBiiii", c["parent"], c["funcid"],
                                         0, c["file"], c["line"], nameoff,
                                         c["parentpc"])
        pcdata = [0] * f.npcdata
        if f.inl_index:
            pcdata[2] = pct.add(f.inl_index)
        recs.append((f, cuoff, tree_off, pcdata))
    words = 7 if ver == 116 else 8
    hdr_len = 8 + 8 * words
    o_names = hdr_len
    o_cutab = o_names + len(names.b)
    o_files = o_cutab + 4 * len(cutab)
    # pc tables added last, so that every function's are in the pool
    for f, _, _, _ in recs:
        for tab in ("pcsp", "pcfile", "pcln"):
            setattr(f, "o_" + tab, pct.add(getattr(f, tab)))
    o_pct = o_files + len(files.b)
    o_ftab = (o_pct + len(pct.b) + 7) & ~7
    n = len(funcs)
    ent = 16 if ver == 116 else 8
    ftab = bytearray(ent * (n + 1))
    relocs = []
    body = bytearray()
    base = ent * (n + 1)
    for i, (f, cuoff, tree_off, pcdata) in enumerate(recs):
        while (base + len(body)) % 8:
            body.append(0)
        funcoff = base + len(body)
        nfd = f.nfuncdata
        if ver == 116:
            struct.pack_into("<QQ", ftab, 16 * i, f.entry, funcoff)
            rec = struct.pack("<QiiIIIIII", f.entry, names.at[
                f.name.encode() + b"\0"], f.args, f.deferreturn, f.o_pcsp,
                f.o_pcfile, f.o_pcln, f.npcdata, cuoff)
            rec += struct.pack("<BxxB", f.funcid, nfd)
        else:
            struct.pack_into("<II", ftab, 8 * i, f.entry - text, funcoff)
            rec = struct.pack("<IiiIIIIII", f.entry - text, names.at[
                f.name.encode() + b"\0"], f.args, f.deferreturn, f.o_pcsp,
                f.o_pcfile, f.o_pcln, f.npcdata, cuoff)
            if ver >= 120:
                rec += struct.pack("<i", f.inl[0]["line"] if f.inl else 0)
            rec += struct.pack("<BBxB", f.funcid, f.flag, nfd)
        rec += b"".join(struct.pack("<I", p) for p in pcdata)
        if ver == 116:
            # uintptr funcdata, 8-aligned in memory; 0: none
            va = VA_PCLN + o_ftab + funcoff + len(rec)
            if va & 4:
                rec += b"\0" * 4
            for k in range(nfd):
                v = tree_va + tree_off if k == 3 and tree_off is not None else 0
                if v and pie:
                    relocs.append((o_ftab + funcoff + len(rec), v))
                    v = 0
                rec += struct.pack("<Q", v)
        else:
            for k in range(nfd):
                v = tree_va - gofunc + tree_off \
                    if k == 3 and tree_off is not None else 0xffffffff
                rec += struct.pack("<I", v)
        body += rec
    last = funcs[-1].end
    if ver == 116:
        struct.pack_into("<Q", ftab, 16 * n, last)
    else:
        struct.pack_into("<I", ftab, 8 * n, last - text)
    hdr = struct.pack("<IBBBB", MAGIC[ver], 0, 0, 1, 8)
    w = [n, len(cutab)]
    if ver != 116:
        w.append(0 if pie else text)
    w += [o_names, o_cutab, o_files, o_pct, o_ftab]
    hdr += struct.pack(f"<{len(w)}Q", *w)
    out = bytearray(hdr)
    out += names.b
    out += b"".join(struct.pack("<I", c) for c in cutab)
    out += files.b
    out += pct.b
    out += b"\0" * (o_ftab - len(out))
    out += ftab + body
    return bytes(out), o_names, bytes(trees), relocs


def dwarf():
    """.debug_abbrev and .debug_info: runtime.g, runtime.gobuf and the
    waitReason constants; member offsets both as constants and as
    DW_OP_plus_uconst, constants both signed and unsigned."""
    abbrev = bytes([
        1, 0x11, 1, 0x03, 0x08, 0, 0,                  # compile_unit: name
        2, 0x13, 1, 0x03, 0x08, 0x0b, 0x0f, 0, 0,      # structure: name size
        3, 0x0d, 0, 0x03, 0x08, 0x38, 0x0f, 0, 0,      # member: udata
        4, 0x0d, 0, 0x03, 0x08, 0x38, 0x18, 0, 0,      # member: exprloc
        5, 0x27, 0, 0x03, 0x08, 0x1c, 0x0d, 0, 0,      # constant: sdata
        6, 0x27, 0, 0x03, 0x08, 0x1c, 0x0f, 0, 0,      # constant: udata
        0])

    def s(x):
        return x.encode() + b"\0"

    def sleb(v):
        out = bytearray()
        while True:
            c = v & 0x7f
            v >>= 7
            if (v == 0 and not c & 0x40) or (v == -1 and c & 0x40):
                return bytes(out + bytes([c]))
            out.append(c | 0x80)

    die = bytearray(b"\x01" + s("runtime"))
    for sname, fields, size in (("runtime.g", G_FIELDS, 400),
                                ("runtime.gobuf", GOBUF_FIELDS, 56)):
        die += b"\x02" + s(sname) + uvarint(size)
        for k, (name, off) in enumerate(fields):
            if k % 2:
                expr = b"\x23" + uvarint(off)
                die += b"\x04" + s(name) + uvarint(len(expr)) + expr
            else:
                die += b"\x03" + s(name) + uvarint(off)
        die += b"\0"
    for v, name in enumerate(REASONS):
        tag, val = (b"\x05", sleb(v)) if v % 2 else (b"\x06", uvarint(v))
        die += tag + s("runtime.waitReason" + name) + val
    die += b"\0"
    body = struct.pack("<HIB", 4, 0, 8) + die
    return abbrev, struct.pack("<I", len(body)) + body


def buildinfo(version, inline, ro, ro_va):
    """.go.buildinfo; the old form points into ro (a bytearray at ro_va)."""
    mod = "path\tcommand-line-arguments\n"
    head = b"\xff Go buildinf:" + bytes([8, 2 if inline else 0])
    if inline:
        return head + bytes(16) + b"".join(
            uvarint(len(x)) + x.encode() for x in (version, mod))
    ptrs = []
    for x in (version, mod):
        sva = ro_va + len(ro)
        ro += x.encode()
        while len(ro) % 8:
            ro.append(0)
        ptrs.append(ro_va + len(ro))
        ro += struct.pack("<QQ", sva, len(x))
    return head + struct.pack("<QQ", *ptrs)


HEADERS = 64 + 56 * 24    # ELF header and room for 24 program headers


class Image:
    """An ELF file under construction: segments, sections, symbols."""

    def __init__(self):
        self.blobs = bytearray(HEADERS)   # written last
        self.phdrs, self.shdrs = [], [None]
        self.shnames = Pool(b"\0")

    def blob(self, data, align=8):
        while len(self.blobs) % align:
            self.blobs.append(0)
        off = len(self.blobs)
        self.blobs += data
        return off

    def load(self, va, data, flags, memsz=None):
        off = self.blob(data) if data else 0
        self.phdrs.append((1, flags, off, va, va, len(data),
                           memsz or len(data), 1))
        return off

    def section(self, name, stype, flags, addr, off, size, link=0, info=0,
                entsize=0):
        self.shdrs.append((self.shnames.add(name.encode() + b"\0"), stype,
                           flags, addr, off, size, link, info, 1, entsize))
        return len(self.shdrs) - 1

    def data_section(self, name, data, stype=1, flags=0, **kw):
        off = self.blob(data)
        return self.section(name, stype, flags, 0, off, len(data), **kw)

    def finish(self, etype, entry):
        shstr = self.section(".shstrtab", 3, 0, 0, 0, 0)
        off = self.blob(self.shnames.b)
        s = list(self.shdrs[shstr])
        s[4], s[5] = off, len(self.shnames.b)
        self.shdrs[shstr] = tuple(s)
        shoff = self.blob(b"".join(struct.pack("<IIQQQQIIQQ", *x) if x else
                                   bytes(64) for x in self.shdrs))
        eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
        eh += struct.pack("<HHIQQQIHHHHHH", etype, 62, 1, entry, 64, shoff, 0,
                          64, 56, len(self.phdrs), 64, len(self.shdrs), shstr)
        ph = b"".join(struct.pack("<IIQQQQQQ", *p) for p in self.phdrs)
        assert 64 + len(ph) <= HEADERS
        img = bytearray(self.blobs)
        img[0:64 + len(ph)] = eh + ph
        return bytes(img)


def compress(name, data, how):
    if how == "zlib":     # SHF_COMPRESSED: Elf64_Chdr, then zlib
        return name, struct.pack("<IIQQ", 1, 0, len(data), 1) + \
            zlib.compress(data), 0x800
    if how == "zdebug":   # GNU: "ZLIB", big-endian size, zlib
        return name.replace(".debug", ".zdebug"), b"ZLIB" + \
            struct.pack(">Q", len(data)) + zlib.compress(data), 0
    return name, data, 0


def seed(elf, funcs, ver, version, symtab=True, debug=None, pie=False,
         pcln_name=True, inline_bi=True):
    img = Image()
    text = elf.syms["runtime.text"][0]
    text_idx = img.section(".text", 1, 6, text, 0, 0)
    for f in funcs:
        img.load(f.entry, f.code, 5)
    ro = bytearray()
    tree_va = VA_RODATA
    gofunc = VA_RODATA
    tab, o_names, trees, prelocs = pclntab(funcs, ver, text, gofunc, tree_va,
                                           pie)
    ro += trees
    bi = buildinfo(version, inline_bi, ro, VA_RODATA)
    sv_va = VA_RODATA + len(ro)             # runtime.buildVersion
    ro += struct.pack("<QQ", VA_RODATA + len(ro) + 16, len(version))
    ro += version.encode()
    relocs = [(VA_PCLN + o, v) for o, v in prelocs]
    if pie:
        tab = bytearray(tab)
        for o, _ in prelocs:
            struct.pack_into("<Q", tab, o, 0)
        tab = bytes(tab)
    ro_off = img.load(VA_RODATA, bytes(ro), 4)
    ro_idx = img.section(".rodata", 1, 2, VA_RODATA, ro_off, len(ro))
    pc_off = img.load(VA_PCLN, tab, 4)
    if pcln_name:
        img.section(".gopclntab", 1, 2, VA_PCLN, pc_off, len(tab))
    bi_off = img.load(VA_BUILDINFO, bi, 6)
    img.section(".go.buildinfo", 1, 3, VA_BUILDINFO, bi_off, len(bi))
    md = [0] * 48
    md[0], md[1], md[2], md[3] = VA_PCLN, VA_PCLN + o_names, 1, 1
    gofunc_word = 38 if ver == 118 else 40
    if ver != 116:
        md[gofunc_word] = gofunc
    if pie:
        for w in (0, 1, gofunc_word):
            if md[w]:
                relocs.append((VA_MODULEDATA + 8 * w, md[w]))
                md[w] = 0
    md_off = img.load(VA_MODULEDATA, struct.pack("<48Q", *md), 6)
    data_idx = img.section(".noptrdata", 1, 3, VA_MODULEDATA, md_off, 48 * 8)
    # the variables: .bss, memory only
    end = max(elf.syms[v][0] + 8 for v in VARS)
    img.load(VA_BUILDINFO, b"", 6, memsz=end - VA_BUILDINFO)
    if relocs:
        rela = b"".join(struct.pack("<QQq", o, 8, v) for o, v in relocs)
        img.data_section(".rela.dyn", rela, stype=4, flags=2, entsize=24)
    if debug:
        abbrev, info = dwarf()
        for name, data in ((".debug_abbrev", abbrev), (".debug_info", info)):
            name, data, flags = compress(name, data, debug)
            img.data_section(name, data, flags=flags)
    if symtab:
        strs, syms = Pool(b"\0"), [bytes(24)]

        def sym(name, typ, shndx, value, size=0):
            syms.append(struct.pack("<IBBHQQ", strs.add(name.encode() + b"\0"),
                                    0x10 | typ, 0, shndx, value, size))
        for f in funcs:
            sym(f.elfname, 2, text_idx, f.entry, f.end - f.entry)
        sym("runtime.text", 0, text_idx, text)
        sym("go.func.*" if ver < 120 else "go:func.*", 1, ro_idx, gofunc)
        sym("runtime.buildVersion", 1, ro_idx, sv_va, 16)
        sym("runtime.firstmoduledata", 1, data_idx, VA_MODULEDATA, 48 * 8)
        sym("runtime.pcheader", 1, ro_idx, VA_PCLN, 8)
        for v in VARS:
            sym(v, 1, data_idx, elf.syms[v][0], 8)
        stridx = len(img.shdrs) + 1
        img.data_section(".symtab", b"".join(syms), stype=2, link=stridx,
                         info=1, entsize=24)
        img.data_section(".strtab", bytes(strs.b), stype=3)
    return img.finish(3 if pie else 2, funcs[0].entry)


VARIANTS = {
    # name: pclntab version, Go version, options
    "go119": (118, "go1.19.8", dict(debug="plain")),
    "go119_stripped": (118, "go1.19.8", dict(symtab=False)),
    "go119_zlib": (118, "go1.19.8", dict(debug="zlib")),
    "go118_zdebug": (118, "go1.18.10", dict(debug="zdebug")),
    "go120_zlib": (120, "go1.20.14", dict(debug="zlib")),
    "go121_pie_stripped": (120, "devel go1.21-abc +x", dict(
        symtab=False, pie=True, pcln_name=False)),
    "go116_oldinfo": (116, "go1.16.15", dict(debug="plain", inline_bi=False)),
    "go117_pie_stripped": (116, "go1.17.13", dict(
        symtab=False, pie=True, inline_bi=False)),
}


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2])
    elf = Elf(Path(argv[1]).read_bytes())
    funcs = read_funcs(elf)
    out = Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for name, (ver, version, opts) in VARIANTS.items():
        (out / name).write_bytes(seed(elf, funcs, ver, version, **opts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
