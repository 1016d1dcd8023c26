#!/bin/bash
# t_memory_budget.sh: the memory budget of request bodies (issue 15, item 4).
# - 200 concurrent 16 MiB proof uploads (less one byte: with its NUL each reserves 16 MiB), from four client addresses (50 each, under the default
#   --max-connections-per-ip of 64), against --max-buffered-bytes 64MiB: the daemon's peak RSS
#   (VmHWM) stays under its RSS before the flood plus the budget plus 64 MiB; the uploads past
#   the budget are answered 503 with Retry-After and a message naming the budget, read by
#   clients that write their whole body before they read; the others get their 400 or 404.
# - Real completions sent with the flood: each one, sent again afterwards, ends 200 successful.
# - /metrics: wg_http_buffered_bytes is back at 0, wg_http_budget_refusals_total counts the 503s.
# - A small budget: a declared body past it is 503 at once; a chunked one that outgrows it and a
#   gzip input that decodes past it are read, thrown away and 503; a body within it is served.
# - --max-connections-per-ip defaults to 64.
# Under AddressSanitizer, whose quarantine keeps up to 256 MiB of freed blocks resident, the RSS
# bound has 256 MiB more slack.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
# Debian's own python3 (the PATH may hold another one), installed when missing.
PY=/usr/bin/python3
[[ -x $PY ]] || DEBIAN_FRONTEND=noninteractive apt-get install -y python3 >/dev/null
[[ -x $PY ]] || fail "/usr/bin/python3 could not be installed"
MIB=$((1024 * 1024))
BUDGET_MIB=64

wg_start_daemon a --max-buffered-bytes ${BUDGET_MIB}MiB
pl_use a
pid=$(wg_daemon_pid a)
port=${PL_URL##*:}
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }

# ---------------------------------------------------------------- jobs to complete
pl_gen_input 1 --logs 3 --workload main_vm=40000 >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
jobs_queued() { (($(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'queued'") >= 9)); }
wg_wait_until 30 jobs_queued
# Eight jobs claimed and proved now, completed with the flood; one more held, whose junk proofs
# cannot verify (400); and a job that does not exist (404).
real=()
for i in 1 2 3 4 5 6 7 8; do
	pl_claim
	assert_status 200
	pl_witness "$PL_JOB_ID" "$WG_TMP/witness$i"
	pl_ref_prove "$WG_TMP/witness$i" "$WG_TMP/proof$i"
	real+=("$PL_JOB_ID:$PL_JOB_LEASE:$WG_TMP/proof$i")
done
pl_claim
assert_status 200
# Downloaded, so that --claim-grace does not give it back during a slow flood.
pl_witness "$PL_JOB_ID" "$WG_TMP/witness9"
junk="$PL_JOB_ID:$PL_JOB_LEASE,999999:00000000000000000000000000000000"
# The warm-up: the daemon's threads and pools have served requests of every kind.
wg_http GET "$PL_URL/metrics"
assert_status 200

# ---------------------------------------------------------------- the flood
rss_before=$(status_kb VmRSS)
started=$SECONDS
"$PY" "$WG_SRCDIR/tests/tools/upload_flood.py" 127.0.0.1 "$port" "$PL_PROVER" \
	127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4 200 $((16 * MIB - 1)) "$junk" "$(IFS=,; echo "${real[*]}")" \
	>"$WG_TMP/flood.json"
hwm=$(status_kb VmHWM)
flood=$(cat "$WG_TMP/flood.json")
echo "# the flood took $((SECONDS - started)) s: $flood"
echo "# daemon VmRSS before $((rss_before / 1024)) MiB, VmHWM after $((hwm / 1024)) MiB"

assert_eq '{}' "$(jq -c .failures <<<"$flood")" "uploads that got no HTTP answer"
assert_eq 208 "$(jq '[.statuses[]] | add' <<<"$flood")" "answers"
assert_eq '[]' "$(jq -c '.statuses | keys - ["200", "400", "404", "503"]' <<<"$flood")" "statuses other than 200, 400, 404, 503"
refused=$(jq '.statuses["503"] // 0' <<<"$flood")
# Each junk body reserves 16 MiB (its length and a NUL), so four of them fill the budget and a
# real completion sent meanwhile is refused too; the flood sends 200 at once.
((refused >= 100)) || fail "only $refused of 208 uploads were refused for the budget: $flood"
wg__pass
assert_eq "$refused" "$(jq .retry_after_503 <<<"$flood")" "503s with Retry-After: 1"
assert_eq "$refused" "$(jq .named_503 <<<"$flood")" "503s naming --max-buffered-bytes"
assert_eq 8 "$(jq '.real | length' <<<"$flood")" "real completions answered"
assert_eq '[]' "$(jq -c '[.real[]] - [200, 503] | unique' <<<"$flood")" "real completions answered other than 200 or 503"

slack_mib=64
if grep -qa __asan_init "$WG_BUILDDIR/witness-generator"; then
	slack_mib=$((64 + 256)) # AddressSanitizer's quarantine keeps up to 256 MiB of freed blocks
fi
bound=$((rss_before + (BUDGET_MIB + slack_mib) * 1024))
((hwm < bound)) ||
	fail "the daemon's peak RSS was $((hwm / 1024)) MiB, over $((bound / 1024)) MiB (RSS before the flood + budget + $slack_mib MiB)"
wg__pass

# ---------------------------------------------------------------- afterwards
for r in "${real[@]}"; do
	IFS=: read -r id lease proof <<<"$r"
	pl_complete "$id" "$lease" "$proof"
	assert_status 200
	assert_json_eq .status successful
done
assert_eq 8 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'successful'")" "jobs successful"
metric() { awk -v m="$1" '$1 == m { print $2 }' "$HTTP_BODY_FILE"; }
# The budget is given back as requests end (a client may read its answer just before).
budget_given_back() {
	wg_http GET "$PL_URL/metrics"
	[[ $(metric wg_http_buffered_bytes) == 0 ]]
}
wg_wait_until 10 budget_given_back
assert_eq $((BUDGET_MIB * MIB)) "$(metric wg_http_buffered_bytes_limit)" "wg_http_buffered_bytes_limit"
assert_eq "$refused" "$(metric wg_http_budget_refusals_total)" "wg_http_budget_refusals_total"

# ---------------------------------------------------------------- --max-connections-per-ip 64
assert_eq 6 "$("$PY" "$WG_SRCDIR/tests/integration/edge_clients.py" hold 127.0.0.1 "$port" 127.0.0.5 70 1.5)" \
	"6 of 70 connections from one address refused"

# ---------------------------------------------------------------- a small budget
wg_start_daemon b --max-buffered-bytes 64K --max-proof 1M
url=$(wg_url b)
auth=(-H "Authorization: Bearer $PL_PROVER" -H 'X-WG-Lease: 00000000000000000000000000000000')
head -c 100000 /dev/zero >"$WG_TMP/100k"
# Declared over the budget: answered before the body is read (and before it is sent, by a client
# that waits for "100 Continue").
wg_http POST "$url/proofs/999999/complete" "${auth[@]}" -H 'Content-Type: application/octet-stream' \
	--data-binary "@$WG_TMP/100k"
assert_status 503
assert_error_code unavailable
assert_contains "$HTTP_BODY" "--max-buffered-bytes (0.1 MiB"
assert_eq 1 "$(wg_header Retry-After)" "Retry-After"
# The same without Expect: the body is sent whole, thrown away, and the 503 still read.
wg_http POST "$url/proofs/999999/complete" "${auth[@]}" -H 'Content-Type: application/octet-stream' -H 'Expect:' \
	--data-binary "@$WG_TMP/100k"
assert_status 503
# Chunked: no length to reserve; the buffer outgrows the budget, the rest is read and dropped.
wg_http POST "$url/proofs/999999/complete" "${auth[@]}" -H 'Content-Type: application/octet-stream' \
	-H 'Transfer-Encoding: chunked' --data-binary "@$WG_TMP/100k"
assert_status 503
assert_contains "$HTTP_BODY" "--max-buffered-bytes"
assert_eq 1 "$(wg_header Retry-After)" "Retry-After of a chunked refusal"
# A gzip input small on the wire whose decoding would pass the budget.
{ printf '{"pad":"'; head -c 200000 /dev/zero | tr '\0' ' '; printf '"}'; } | gzip -c >"$WG_TMP/big.json.gz"
wg_http POST "$url/batches/2/witness-inputs" -H "Authorization: Bearer $PL_TREE" -H 'Content-Type: application/json' \
	-H 'Content-Encoding: gzip' --data-binary "@$WG_TMP/big.json.gz"
assert_status 503
assert_contains "$HTTP_BODY" "--max-buffered-bytes"
# Within the budget: served as before.
head -c 30000 /dev/zero >"$WG_TMP/30k"
wg_http POST "$url/proofs/999999/complete" "${auth[@]}" -H 'Content-Type: application/octet-stream' \
	--data-binary "@$WG_TMP/30k"
assert_status 404
wg_http GET "$url/metrics"
assert_status 200
assert_eq 0 "$(metric wg_http_buffered_bytes)" "wg_http_buffered_bytes of the small budget"
assert_eq 4 "$(metric wg_http_budget_refusals_total)" "refusals of the small budget"
