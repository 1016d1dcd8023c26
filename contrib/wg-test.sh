#!/bin/bash
# wg-test.sh: the project's test command, as CI runs it: install the build
# dependencies, build in the source tree and run `make check`. On a failure it
# prints the logs that explain it. Safe to run twice.
#
# WG_CHECK_JOBS sets how many tests run at once (default: CPUs, at most 4;
# every integration test runs its own PostgreSQL cluster and daemons).
set -euo pipefail

cd "$(dirname "$0")/.."
srcdir=$PWD

bash contrib/install-deps.sh

autoreconf -fi

if ! ./configure; then
	echo "=== configure failed; last lines of config.log ===" >&2
	tail -n 60 config.log >&2 || true
	exit 1
fi

make -j"$(nproc)"

jobs=${WG_CHECK_JOBS:-$(nproc)}
((jobs <= 4)) || jobs=4
if make -j"$jobs" check; then
	exit 0
fi

echo "=== make check failed ===" >&2
failed=()
while IFS= read -r trs; do
	grep -qE '^:test-result: (FAIL|ERROR|XPASS)' "$trs" && failed+=("${trs%.trs}.log")
done < <(find tests -name '*.trs' | sort)
if [[ -f test-suite.log ]]; then
	# test-suite.log holds the summary and the full log of every failed test.
	echo "=== $srcdir/test-suite.log ===" >&2
	cat test-suite.log >&2
else
	# No summary (the test harness itself broke): show each failed test's log.
	for log in "${failed[@]}"; do
		echo "=== $log ===" >&2
		cat "$log" >&2 || true
	done
fi
echo "=== failed tests: ${failed[*]:-none recorded} ===" >&2
exit 1
