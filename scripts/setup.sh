#!/usr/bin/env bash
# Install what leaktop needs to build, test and benchmark on Debian, and
# mount tracefs/debugfs when they are missing. Idempotent; run as root.
set -euo pipefail

packages=(
	make gcc g++ clang llvm bpftool pkg-config
	libbpf-dev libelf-dev zlib1g-dev libdw-dev libcapstone-dev
	libc6-dbg           # glibc internals by name in stacks
	libjemalloc2        # tests: a process whose malloc is not glibc's
	python3             # test runner
	golang-go           # Go test targets
	binutils            # objcopy, nm in tests
	bpftrace            # ad-hoc probe-cost checks (the benchmark's floor is tests/bench/emptyprobe.c)
	redis-server        # benchmark: a real jemalloc server under load
	redis-tools         # benchmark: redis-benchmark, redis-cli
	wrk                 # benchmark: HTTP load generator
	libmicrohttpd-dev   # --listen: /metrics and /debug/pprof over HTTP
	libncurses-dev      # leaktop top: the live screen
	prometheus          # tests: a real Prometheus scraping --listen
	tmux                # tests: leaktop top driven in a terminal
	clang-14 libclang-rt-14-dev  # tests/fuzz: libFuzzer and sanitizer runtimes
	linux-image-amd64 qemu-system-x86 busybox-static cpio  # scripts/vmtest.sh: Debian's 6.1 under TCG
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! mountpoint -q /sys/kernel/tracing; then
	mount -t tracefs nodev /sys/kernel/tracing
fi
if ! mountpoint -q /sys/kernel/debug; then
	mount -t debugfs nodev /sys/kernel/debug || true
fi

# Real Go binaries for the go_esbuild, go_lefthook and unit tests, from the
# npm registry (cached).
command -v npm >/dev/null || {
	apt-get install -y -q --no-install-recommends npm
}
scripts/fetch-npm-go.sh
