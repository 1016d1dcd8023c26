#!/bin/bash
# fuzz/run.sh [SECONDS]: builds the libFuzzer targets with clang (ASan + UBSan) in a copy of the
# tree and runs each for SECONDS (default 60) from its seed corpus. Exits non-zero on any crash,
# leak or sanitizer report; a crashing input is kept in fuzz/crashes/ of the source tree.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
seconds=${1:-60}
work=$(mktemp -d /tmp/wg-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A copy of the sources, so that this configuration does not disturb a build in the tree.
tar -C "$src" --exclude=./.git --exclude='*.o' --exclude='*.a' -cf - . | tar -C "$work" -xf -
cd "$work"
[[ -f Makefile ]] && make -s distclean >/dev/null 2>&1 || true
[[ -x configure ]] || autoreconf -fi
./configure -q --enable-fuzzing CC=clang
make -s -j"$(nproc)" fuzz/fuzz_input fuzz/fuzz_router fuzz/fuzz_gzip

mkdir -p "$src/fuzz/crashes"
status=0
for target in input router gzip; do
	corpus=$work/corpus-$target
	cp -r "$src/fuzz/corpus/$target" "$corpus"
	echo "== fuzzing $target for ${seconds}s"
	if ! "./fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$src/fuzz/crashes/$target-" "$corpus" 2>"$work/$target.log"; then
		tail -n 60 "$work/$target.log" >&2
		echo "fuzz_$target found a problem; the input is in $src/fuzz/crashes/" >&2
		status=1
	else
		grep -E '^(#[0-9]+ *DONE|Done)' "$work/$target.log" | tail -n 1 || true
	fi
done
exit $status
