#!/bin/bash
# t_openapi_lint.sh: api/openapi.yaml passes the linter client generators' users run,
# @redocly/cli 2.77.0 with its recommended rules, with no error and no warning. The linter is
# installed with npm, once, into $WG_TOOL_CACHE (lib.sh: outside the build tree) or
# WG_REDOCLY_CACHE when set. To show that the test can fail, a
# copy of the document without its license must draw a finding.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"

VERSION=2.77.0
CACHE=${WG_REDOCLY_CACHE:-$WG_TOOL_CACHE/redocly-$VERSION}
REDOCLY="$CACHE/node_modules/.bin/redocly"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wg-openapi-lint.XXXXXX")
wg_on_exit rm -rf "$TMP"
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1

if [[ ! -x $REDOCLY ]]; then
	command -v npm >/dev/null || fail "npm is needed to install @redocly/cli (Debian: apt-get install npm)"
	mkdir -p "$CACHE"
	# Parallel test runs of the same tree install once.
	(
		flock 9
		[[ -x $REDOCLY ]] ||
			npm install --prefix "$CACHE" --no-audit --no-fund --no-save "@redocly/cli@$VERSION" >"$CACHE/install.log" 2>&1 ||
			{ cat "$CACHE/install.log" >&2; exit 1; }
	) 9>"$CACHE/.lock" || fail "npm install @redocly/cli@$VERSION failed"
fi
assert_eq "$VERSION" "$("$REDOCLY" --version 2>/dev/null)" "redocly version"

# lint FILE: prints "ERRORS WARNINGS" from the JSON report; the human report goes to $TMP/report.
lint() {
	"$REDOCLY" lint --format=stylish "$1" >"$TMP/report" 2>&1 || true
	"$REDOCLY" lint --format=json "$1" 2>/dev/null | jq -r '"\(.totals.errors) \(.totals.warnings)"' || true
}

totals=$(lint "$WG_SRCDIR/api/openapi.yaml")
[[ $totals == "0 0" ]] || cat "$TMP/report" >&2
assert_eq "0 0" "$totals" "errors and warnings of redocly lint api/openapi.yaml"

# The same document without a license: the recommended rules warn.
grep -v -e '^  license:' -e '^    name: MIT' -e '^    identifier: MIT' "$WG_SRCDIR/api/openapi.yaml" >"$TMP/no-license.yaml"
assert_ne "0 0" "$(lint "$TMP/no-license.yaml")" "a document without a license draws a finding"
assert_contains "$(cat "$TMP/report")" "info-license"
