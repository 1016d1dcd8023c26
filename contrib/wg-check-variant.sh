#!/bin/bash
# wg-check-variant.sh CONFIGURE_FLAGS...: runs the whole test suite against another build of the
# same sources, e.g. `--enable-sanitizers`. The build happens in a copy of
# the tree, so it does not disturb the normal build in place. Exits non-zero on any failure and
# prints the failed tests' logs.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
work=$(mktemp -d /tmp/wg-variant.XXXXXX)
trap 'rm -rf "$work"' EXIT

bash contrib/install-deps.sh >/dev/null
tar -C "$src" --exclude=./.git --exclude='*.o' --exclude='*.a' -cf - . | tar -C "$work" -xf -
cd "$work"
[[ -f Makefile ]] && make -s distclean >/dev/null 2>&1 || true
[[ -x configure ]] || autoreconf -fi
echo "== configure $*"
./configure -q "$@"
make -s -j"$(nproc)"
jobs=${WG_CHECK_JOBS:-$(nproc)}
((jobs <= 4)) || jobs=4
if make -j"$jobs" check; then
	exit 0
fi
echo "=== make check failed with configure $* ===" >&2
cat test-suite.log >&2 || true
exit 1
