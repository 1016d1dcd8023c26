#!/bin/bash
# t_ui.sh: the dashboard at GET /ui, in a real browser. The page is served open with a strict
# Content-Security-Policy whose hashes match its inline script and style, and nosniff. Then
# ui_e2e.js drives it in headless Chromium (Debian's chromium, playwright-core from npm, both
# installed here when missing) while batches 1, 2 and 3 run: the batches are listed newest first
# from one GET /batches?order=desc; batch 4, held by backpressure (--max-circuits-in-flight 6,
# which batches 1 to 3 fill: its basic job stays queued, never tried, as this test checks first),
# says so and why in its row and its panel until two proofs bring the count under 6; rounds whose
# jobs do not exist yet have no bar; the queue table's pause and resume buttons change GET /queue;
# progress and per-round throughput move as jobs are proven; a job failed for good
# (--max-attempts 1) with a 600-character hash in its error shows wrapped (scrollWidth <=
# clientWidth) with its detail, its requeue button works, and its attempt history opens from the
# batch's job list; "requeue failed" puts two failed jobs of the batch back; batch 2's priority set to 42 from its panel (GET /batches/2 and GET /batches say
# 42), and 101 refused with the server's message shown in the status line and beside the field.
# This test then finds those jobs queued and batch 2's jobs at 42 in the database, the page's
# requests in the access log, and batch 4 proven once it started. The screenshots (batch 4 held,
# and the page at the end) are kept in the directory printed below.
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

# 6 circuits in flight hold batch 4: batches 1 to 3 make 4 + 1 + 1, each started below 6.
wg_start_daemon a --max-attempts 1 --max-circuits-in-flight 6
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
for n in 2 3; do
	pl_gen_input "$n" --logs 0 --workload main_vm=5390 --seed "$n" >"$WG_TMP/in$n.json"
	pl_upload "$n" "$WG_TMP/in$n.json"
	assert_status 201
done
basics_done() { [[ $(wg_psql "SELECT count(*) FROM basic_circuit_witness_jobs WHERE status = 'successful'") == 3 ]]; }
wg_wait_until 60 basics_done
assert_eq 6 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'queued'")" "batches 1 to 3 queued 6 circuits"
pl_gen_input 4 --logs 0 --workload main_vm=5390 --seed 4 >"$WG_TMP/in4.json"
pl_upload 4 "$WG_TMP/in4.json"
assert_status 201
sleep 2.5 # more than a poll of the basic round (--poll-ms 2000), and the upload's notification
assert_eq "queued 0" "$(wg_psql "SELECT status || ' ' || attempts FROM basic_circuit_witness_jobs WHERE l1_batch_number = 4")" \
	"batch 4's basic job waits while 6 circuits are in flight"
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
for id in $(jq -r '.batch_requeued[]' "$OUT_DIR/result.json"); do
	assert_eq "queued" "$(wg_psql "SELECT status FROM prover_jobs WHERE id = $id")" "job $id requeued with its batch"
done
assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 1 AND status = 'failed'")" \
	"no failed job of batch 1 is left"
for route in '/batches/{n}/requeue' /queue/pause /queue/resume '/jobs/{id}/attempts' '/batches/{n}/priority'; do
	assert_contains "$(cat "$WG_TMP/a.log")" "route=$route status=200 duration_ms=" "the page called $route"
done
assert_contains "$(cat "$WG_TMP/a.log")" "method=POST route=/batches/{n}/priority status=400 duration_ms=" \
	"the page sent the priority out of range to the server"
assert_eq 42 "$(jq -r .priority_set "$OUT_DIR/result.json")" "the page set a priority"
assert_eq "42" "$(wg_psql "SELECT string_agg(DISTINCT priority::text, ',') FROM basic_circuit_witness_jobs WHERE l1_batch_number = 2")" \
	"batch 2's basic job carries the priority set from the page"
assert_eq "42" "$(wg_psql "SELECT string_agg(DISTINCT priority::text, ',') FROM prover_jobs WHERE l1_batch_number = 2")" \
	"so do its prover jobs"
assert_eq 0 "$(wg_psql "SELECT count(*) FROM queue_pauses")" "no pause is left behind"
for shot in screenshot screenshot_held; do
	png=$(jq -r ".$shot" "$OUT_DIR/result.json")
	[[ -s $png && $(head -c 8 "$png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "no PNG screenshot at $png"
	wg__pass
	echo "# t_ui: screenshot $png"
done
# The batches still complete after the requeues.
prove_all_until 1 proven 60
prove_all_until 3 proven 60
prove_all_until 4 proven 60 # the batch that was held
