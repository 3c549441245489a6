#!/usr/bin/env bash
# Cost per malloc+free pair of a tight loop: native, under leaktop, and
# under empty BPF programs at plain entry and return of malloc and free
# (bpftrace), measured side by side in one run; medians of RUNS runs.
# Usage: scripts/bench.sh [PAIRS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-1000000}
runs=${2:-3}
bin=build/bench_malloc_loop
mkdir -p build
gcc -O2 -g -fno-omit-frame-pointer -o "$bin" tests/bench/malloc_loop.c
libc=$(ldd "$bin" | awk '/libc.so.6/ {print $3}')

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ns() { grep -o 'ns_per_pair [0-9.]*' | awk '{print $2}'; }

native=() traced=() empty=()
for _ in $(seq "$runs"); do
	native+=("$("$bin" "$pairs" | ns)")
	traced+=("$(./leaktop -- "$bin" "$pairs" 2>/dev/null | ns)")
	empty+=("$(bpftrace -e "uprobe:$libc:malloc {} uretprobe:$libc:malloc {}
		uprobe:$libc:free {} uretprobe:$libc:free {}" -c "$bin $pairs" 2>/dev/null | ns)")
done
n=$(printf '%s\n' "${native[@]}" | median)
t=$(printf '%s\n' "${traced[@]}" | median)
e=$(printf '%s\n' "${empty[@]}" | median)
echo "malloc+free pairs: $pairs, runs: $runs (median), $(nproc) CPUs, kernel $(uname -r)"
printf '%-40s %10s ns/pair\n' "native" "$n"
printf '%-40s %10s ns/pair\n' "leaktop (full tracing)" "$t"
printf '%-40s %10s ns/pair\n' "empty bpftrace at entry+return" "$e"
awk -v n="$n" -v t="$t" -v e="$e" 'BEGIN {
	printf "leaktop slowdown vs native:            %.1fx\n", t / n
	printf "empty-probe slowdown vs native:        %.1fx\n", e / n
	printf "leaktop added cost / empty added cost: %.2f\n", (t - n) / (e - n)
}'

# Goroutine parks: channel ping-pong in Go, two parks per pass, natively
# and under leaktop (goroutine and Go heap tracing), side by side.
gobin=build/bench_gopark
(cd tests/bench && GOCACHE=/tmp/leaktop-gocache go build -o "../../$gobin" gopark.go)
passes=300000
gn=() gt=()
for _ in $(seq "$runs"); do
	gn+=("$("$gobin" "$passes" noalloc | grep -o 'ns_per_pass [0-9.]*' | awk '{print $2}')")
	gt+=("$(./leaktop -- "$gobin" "$passes" noalloc 2>/dev/null | grep -o 'ns_per_pass [0-9.]*' | awk '{print $2}')")
done
n=$(printf '%s\n' "${gn[@]}" | median)
t=$(printf '%s\n' "${gt[@]}" | median)
echo
echo "goroutine ping-pong passes: $passes (2 parks each), runs: $runs (median)"
printf '%-40s %10s ns/pass\n' "native" "$n"
printf '%-40s %10s ns/pass\n' "leaktop (goroutines + Go heap)" "$t"
awk -v n="$n" -v t="$t" 'BEGIN {
	printf "leaktop added cost per park:           %.0f ns\n", (t - n) / 2
}'
