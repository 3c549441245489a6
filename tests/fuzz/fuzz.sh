#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run the libFuzzer targets that tests/fuzz/fuzz.mk builds (README.md there).
#
#   fuzz.sh smoke SECONDS TARGET...  replay tests/fuzz/regress/TARGET, then
#                                    fuzz SECONDS from tests/fuzz/corpus/TARGET
#   fuzz.sh long SECONDS TARGET...   fuzz SECONDS, growing build/fuzz/corpus
#
# One target at a time, niced. Exits 1 at the first crash, hang, leak or
# sanitizer report; the input is left in build/fuzz/artifacts/TARGET/.
set -euo pipefail

mode=$1
secs=$2
shift 2
dir=${FUZZ_DIR:-build/fuzz}
src=tests/fuzz

fail() {
	echo "fuzz: $*" >&2
	exit 1
}

[ "$mode" = smoke ] || [ "$mode" = long ] || fail "mode is smoke or long, not $mode"

# Every regression input once, and for the Go parser the unit tests' Go
# binaries (megabytes: built by `make unit`, never committed); any
# sanitizer report or crash fails.
replay() {
	local t=$1 bin=$dir/fuzz_$1 files=()

	[ -d "$src/regress/$t" ] && mapfile -t files < <(find "$src/regress/$t" -type f | sort)
	if [ "$t" = gobin ]; then
		[ -n "$(ls tests/unit/go/build 2>/dev/null)" ] ||
			fail "tests/unit/go/build is empty: make unit first"
		files+=(tests/unit/go/build/*)
	fi
	[ ${#files[@]} -gt 0 ] || return 0
	if ! "$bin" "${files[@]}" >"$dir/logs/$t.replay.log" 2>&1; then
		tail -n 40 "$dir/logs/$t.replay.log" >&2
		fail "$t: a replayed input fails (log: $dir/logs/$t.replay.log)"
	fi
	echo "fuzz: $t: ${#files[@]} inputs replayed, no report"
}

run() {
	local t=$1 bin=$dir/fuzz_$1 work log extra=()

	if [ "$mode" = smoke ]; then
		work=$dir/smoke/$t
		rm -rf "$work"
	else
		work=$dir/corpus/$t
		extra=(-use_value_profile=1)
	fi
	log=$dir/logs/$t.$mode.log
	mkdir -p "$work" "$dir/artifacts/$t"
	# New inputs go to the first directory: never the committed corpus.
	if ! nice -n 10 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$dir/artifacts/$t/" -print_final_stats=1 "${extra[@]}" \
		"$work" "$src/corpus/$t" >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		fail "$t: fuzzer reported a problem (log: $log)"
	fi
	echo "fuzz: $t: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" | tail -n 1)," \
		"corpus $(find "$work" -type f | wc -l) new inputs in $work"
}

mkdir -p "$dir/logs"
for t in "$@"; do
	[ -x "$dir/fuzz_$t" ] || fail "$dir/fuzz_$t not built (make fuzz-build)"
	[ "$mode" = smoke ] && replay "$t"
	run "$t"
done
