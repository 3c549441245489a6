#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Rebuild the committed seeds of the elfsym fuzzer: one small C program as
# a PIE with .symtab, stripped (.dynsym only), with DT_RPATH, as a shared
# library with DT_NEEDED and DT_RUNPATH, as a relocatable object, and as
# ELF32.
# Usage: tests/fuzz/elfsym_seeds.sh [OUTDIR]   (default tests/fuzz/corpus/elfsym)
set -euo pipefail

out=${1:-tests/fuzz/corpus/elfsym}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/s.c" <<'C'
#include <pthread.h>
#include <stdlib.h>
void *p;
static void *run(void *a) { return a; }
int work(int n) { p = malloc(n); free(p); return n; }
int main(void) { pthread_t t; pthread_create(&t, 0, run, 0); pthread_join(t, 0); return work(3) - 3; }
C
cc=(gcc -Os -g0 -Wl,-z,noseparate-code)
mkdir -p "$out"
"${cc[@]}" -o "$out/exe" "$tmp/s.c"
"${cc[@]}" -s -o "$out/exe_s" "$tmp/s.c"
"${cc[@]}" -Wl,--disable-new-dtags -Wl,-rpath,/opt/y -o "$out/exe_rpath" "$tmp/s.c"
"${cc[@]}" -shared -fPIC -Wl,--enable-new-dtags -Wl,-rpath,/opt/x -o "$out/lib.so" "$tmp/s.c" -lpthread
gcc -Os -g0 -c -o "$out/rel.o" "$tmp/s.c"
# ELF32: the same program as libelf's other class
objcopy -O elf32-i386 "$out/exe" "$out/exe32"
