#!/bin/bash
# wg-distcheck.sh: `make distcheck` as CI runs it, in a tree that contrib/wg-test.sh configured
# and built. distcheck makes the release tarball, builds it apart from its read-only sources,
# runs the tests, installs and uninstalls it, and checks that `make distclean` leaves nothing.
#
# The tests it runs are a subset, since .ci/run has already run the whole suite on these sources
# (and runs it again with sanitizers): what the tarball can break is a file it does not carry,
# and these tests read every kind of shipped file. The unit tests; t_pipeline (a batch end to
# end); t_migrations (sql/); t_install (make install: man pages, unit, example config);
# t_docs (docs/); t_openapi_responses (api/, tests/tools/); t_package (debian/: the package
# built from the tarball's tree); t_openapi_lint, which fetches a tool with npm, as several tests
# do, so that a tool cache written into the build tree again fails distcleancheck here. About 2.5
# minutes on 2 idle cores (measured 141 s) instead of 10 or more (1469 s on a loaded machine).
# WG_DISTCHECK_FULL=1 runs the whole suite in it instead.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f Makefile ]] || { echo "wg-distcheck.sh: run contrib/wg-test.sh (or ./configure) first" >&2; exit 1; }

if [[ ${WG_DISTCHECK_FULL:-0} == 1 ]]; then
	exec make distcheck
fi
tests=
for c in tests/unit/test_*.c; do tests+="${c%.c} "; done
tests+="tests/integration/t_pipeline.sh tests/integration/t_migrations.sh tests/integration/t_install.sh"
tests+=" tests/integration/t_docs.sh tests/integration/t_openapi_responses.sh tests/integration/t_openapi_lint.sh"
tests+=" tests/integration/t_package.sh"
# TESTS on the command line reaches the `make check` inside distcheck (through MAKEFLAGS).
exec make distcheck TESTS="$tests"
