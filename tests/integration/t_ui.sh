#!/bin/bash
# t_ui.sh: the dashboard at GET /ui, in a real browser. The page is served open with a strict
# Content-Security-Policy whose hashes match its inline script and style, and nosniff. Then
# ui_e2e.js drives it in headless Chromium (Debian's chromium, playwright-core from npm, both
# installed here when missing) while batch 1 runs: progress moves as jobs are proven, a job failed
# for good (--max-attempts 1) shows with its error and its detail, and its requeue button works;
# this test then finds that job queued again in the database. The screenshot is kept in the
# directory printed below.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup

# ---------------------------------------------------------------- tools (never a skip)
if [[ ! -x /usr/bin/chromium ]]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >"$WG_TMP/apt.log" 2>&1 ||
		{ tail -20 "$WG_TMP/apt.log" >&2; fail "cannot install Debian's chromium"; }
fi
# playwright-core only drives the browser (it downloads none); cached in $WG_TOOL_CACHE (lib.sh),
# outside the build tree. The lock keeps parallel runs from installing it twice at once.
PLAYWRIGHT_DIR="$WG_TOOL_CACHE/playwright-core"
mkdir -p "$PLAYWRIGHT_DIR"
(
	flock 9
	[[ -f $PLAYWRIGHT_DIR/node_modules/playwright-core/package.json ]] ||
		(cd "$PLAYWRIGHT_DIR" && npm install --no-save --no-audit --no-fund playwright-core >"$WG_TMP/npm.log" 2>&1)
) 9>"$PLAYWRIGHT_DIR/.lock" || { tail -20 "$WG_TMP/npm.log" >&2; fail "cannot install playwright-core from npm"; }
OUT_DIR="$WG_BUILDDIR/tests/integration/t_ui.out"
rm -rf "$OUT_DIR"
mkdir -p "$OUT_DIR"
echo "# t_ui: screenshot and browser output in $OUT_DIR"

wg_start_daemon a --max-attempts 1
pl_use a

# ---------------------------------------------------------------- the page and its headers
wg_http GET "$PL_URL/ui"
assert_status 200
assert_contains "$(wg_header Content-Type)" "text/html"
assert_eq nosniff "$(wg_header X-Content-Type-Options)"
csp=$(wg_header Content-Security-Policy)
[[ $csp == *"default-src 'none'"* && $csp == *"connect-src 'self'"* && $csp != *unsafe* ]] ||
	fail "Content-Security-Policy: $csp"
wg__pass
# inline_hash TAG: the CSP source of the page's one inline TAG element.
inline_hash() {
	python3 -c 'import sys, re, hashlib, base64
html = open(sys.argv[1], encoding="utf-8").read()
body = re.search("<%s>(.*?)</%s>" % (sys.argv[2], sys.argv[2]), html, re.S).group(1)
print("sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode())' "$HTTP_BODY_FILE" "$1"
}
assert_contains "$csp" "script-src '$(inline_hash script)';" "the script's hash in the CSP"
assert_contains "$csp" "style-src '$(inline_hash style)';" "the style's hash in the CSP"
assert_eq 1 "$(grep -c '<script' "$HTTP_BODY_FILE")" "one script, inline"
assert_eq 0 "$(grep -Ec '(src|href)="(https?:)?//' "$HTTP_BODY_FILE")" "nothing loaded from elsewhere"

# ---------------------------------------------------------------- a batch, driven from the page
pl_gen_input 1 --logs 0 --workload main_vm=$((5390 * 4)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
rc=0
WG_URL=$PL_URL ADMIN_TOKEN=$PL_ADMIN PROVER_TOKEN=$PL_PROVER REF_PROVE=$PL_REF_PROVE OUT_DIR=$OUT_DIR \
	PLAYWRIGHT_DIR=$PLAYWRIGHT_DIR timeout 90 node "$WG_SRCDIR/tests/integration/ui_e2e.js" \
	>"$OUT_DIR/ui_e2e.log" 2>&1 || rc=$?
cat "$OUT_DIR/ui_e2e.log"
assert_eq 0 "$rc" "ui_e2e.js exit status"
WG_ASSERTIONS=$((WG_ASSERTIONS + $(grep -c '^ok - ' "$OUT_DIR/ui_e2e.log")))

job=$(jq -r .failed_job "$OUT_DIR/result.json")
assert_eq "queued|$(jq -r .failed_job "$OUT_DIR/result.json")" \
	"$(wg_psql "SELECT status || '|' || id FROM prover_jobs WHERE id = $job")" "the job requeued from the page"
assert_contains "$(cat "$WG_TMP/a.log")" "method=POST route=/jobs/{id}/requeue status=200 duration_ms=" "the page's requeue"
png=$(jq -r .screenshot "$OUT_DIR/result.json")
[[ -s $png && $(head -c 8 "$png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "no PNG screenshot at $png"
wg__pass
echo "# t_ui: screenshot $png"
# The batch still completes after the requeue.
prove_all_until 1 proven 60
