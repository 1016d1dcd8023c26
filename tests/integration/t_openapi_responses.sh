#!/bin/bash
# t_openapi_responses.sh: the daemon's real replies match api/openapi.yaml. Makes each kind of
# request (successes and errors) to a live daemon, records every reply with the operation it
# belongs to, then validates them all with a real validator (tests/tools/openapi_check.py:
# Debian's python3-jsonschema): each status must be documented for its operation, with the media
# type that came back, and the body must be valid against that status's schema. Also proves the
# checker can fail: a reply with a required field removed, and an undocumented status, must fail.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

PY=/usr/bin/python3
"$PY" -c 'import jsonschema, yaml' 2>/dev/null ||
	fail "$PY needs python3-jsonschema and python3-yaml (contrib/install-deps.sh installs them)"
CHECK="$WG_SRCDIR/tests/tools/openapi_check.py"
SPEC="$WG_SRCDIR/api/openapi.yaml"

wg_setup
wg_start_daemon a --max-attempts 2 --retry-base 0 --max-body 64K --max-proof 4K
pl_use a
# claim_ok [BODY]: a claim that got a job (pl_claim alone also returns 0 on 204).
claim_ok() {
	pl_claim "$@"
	[[ $HTTP_STATUS == 200 ]]
}
RECORDS="$WG_TMP/records.jsonl"
declare -A NAME=()
: >"$RECORDS"
N=0

# rec METHOD PATH_TEMPLATE: record the last reply as one of operation METHOD PATH_TEMPLATE.
rec() {
	N=$((N + 1))
	cp "$HTTP_BODY_FILE" "$WG_TMP/body.$N"
	jq -cn --arg m "$1" --arg p "$2" --argjson s "$HTTP_STATUS" --arg ct "$(wg_header Content-Type)" \
		--arg f "$WG_TMP/body.$N" '{method: $m, path: $p, status: $s, content_type: $ct, body_file: $f}' >>"$RECORDS"
}
# call WANT_STATUS METHOD PATH_TEMPLATE URL_PATH [CURL ARGS...]: make a request, assert its status, record it.
call() {
	local want=$1 method=$2 template=$3 path=$4
	shift 4
	wg_http "$method" "$PL_URL$path" "$@"
	assert_eq "$want" "$HTTP_STATUS" "$method $path: $HTTP_BODY"
	rec "$method" "$template"
}
claim_batch_ok() {
	wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
		--data-binary "$1"
	[[ $HTTP_STATUS == 200 ]]
}
as() { printf 'Authorization: Bearer %s' "$1"; }
JSON='Content-Type: application/json'
OCTET='Content-Type: application/octet-stream'

# ---------------------------------------------------------------- open routes
call 200 GET /healthz /healthz
call 200 GET /readyz /readyz
call 200 GET /metrics /metrics
call 405 GET /healthz /healthz -X POST
# The dashboard's route comes with the console work; once routes.c has it, its page is checked too.
if grep -q '"/ui"' "$WG_SRCDIR/src/http/routes.c"; then
	call 200 GET /ui /ui
fi

# ---------------------------------------------------------------- upload
pl_gen_input 1 --logs 8 >"$WG_TMP/in1.json"
pl_gen_input 1 --logs 8 --seed 9 >"$WG_TMP/in1b.json"
pl_gen_input 2 --logs 8 --seed 2 >"$WG_TMP/in2.json"
up=/batches/{n}/witness-inputs
call 201 POST $up /batches/1/witness-inputs -H "$(as "$PL_TREE")" -H "$JSON" --data-binary "@$WG_TMP/in1.json"
call 200 POST $up /batches/1/witness-inputs -H "$(as "$PL_TREE")" -H "$JSON" --data-binary "@$WG_TMP/in1.json"
call 409 POST $up /batches/1/witness-inputs -H "$(as "$PL_TREE")" -H "$JSON" --data-binary "@$WG_TMP/in1b.json"
call 201 POST $up /batches/2/witness-inputs -H "$(as "$PL_TREE")" -H "$JSON" --data-binary "@$WG_TMP/in2.json"
call 400 POST $up /batches/3/witness-inputs -H "$(as "$PL_TREE")" -H "$JSON" --data-binary '{"not":'
call 400 POST $up /batches/3/witness-inputs -H "$(as "$PL_TREE")" -H "$JSON" --data-binary '{"l1_batch_number":3}'
call 415 POST $up /batches/3/witness-inputs -H "$(as "$PL_TREE")" -H 'Content-Type: text/plain' --data-binary x
call 401 POST $up /batches/3/witness-inputs -H "$JSON" --data-binary '{}'
call 401 POST $up /batches/3/witness-inputs -H "$(as wg_unknown)" -H "$JSON" --data-binary '{}'
call 403 POST $up /batches/3/witness-inputs -H "$(as "$PL_VIEWER")" -H "$JSON" --data-binary '{}'
head -c 70000 /dev/zero >"$WG_TMP/big"
call 413 POST $up /batches/3/witness-inputs -H "$(as "$PL_TREE")" -H "$JSON" --data-binary "@$WG_TMP/big"
call 400 POST $up /batches/x/witness-inputs -H "$(as "$PL_TREE")" -H "$JSON" --data-binary '{}'
call 405 POST $up /batches/3/witness-inputs -X GET -H "$(as "$PL_TREE")"
call 414 GET /batches /batches?after=$(printf '1%.0s' {1..17000}) -H "$(as "$PL_VIEWER")"
call 431 GET /batches /batches -H "$(as "$PL_VIEWER")" -H "X-Pad: $(printf 'a%.0s' {1..33000})"

# ---------------------------------------------------------------- prover routes
claim1() { call "$1" POST /jobs/claim /jobs/claim -H "$(as "$PL_PROVER")" -H "$JSON" --data-binary "$2"; }
claim1 400 '{"prover_id":"t","protocol_version":23}'
claim1 400 '{"prover_id":"","protocol_version":24}'
call 415 POST /jobs/claim /jobs/claim -H "$(as "$PL_PROVER")" -H 'Content-Type: text/plain' --data-binary '{}'
call 403 POST /jobs/claim /jobs/claim -H "$(as "$PL_VIEWER")" -H "$JSON" --data-binary '{}'
wg_wait_until 30 claim_ok '{"prover_id":"t","protocol_version":24,"rounds":[0]}'
rec POST /jobs/claim
id=$PL_JOB_ID lease=$PL_JOB_LEASE
call 200 GET /jobs/{id}/witness "/jobs/$id/witness" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $lease"
cp "$HTTP_BODY_FILE" "$WG_TMP/witness"
pl_ref_prove "$WG_TMP/witness" "$WG_TMP/proof"
call 404 GET /jobs/{id}/witness /jobs/987654/witness -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $lease"
call 400 GET /jobs/{id}/witness /jobs/abc/witness -H "$(as "$PL_PROVER")"
call 400 GET /jobs/{id}/witness "/jobs/$id/witness" -H "$(as "$PL_PROVER")"
call 409 GET /jobs/{id}/witness "/jobs/$id/witness" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $(printf '%032x' 7)"
call 403 GET /jobs/{id}/witness "/jobs/$id/witness" -H "$(as "$PL_VIEWER")"
hb=/jobs/{id}/heartbeat
call 200 POST $hb "/jobs/$id/heartbeat" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $lease"
call 409 POST $hb "/jobs/$id/heartbeat" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $(printf "%032x" 7)"
call 400 POST $hb "/jobs/$id/heartbeat" -H "$(as "$PL_PROVER")"
call 404 POST $hb /jobs/987654/heartbeat -H "$(as "$PL_PROVER")" -H 'X-WG-Lease: 1'
done_=/proofs/{id}/complete
call 400 POST $done_ "/proofs/$id/complete" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $lease" -H "$OCTET" --data-binary 'WGREF1-not-a-proof'
call 409 POST $done_ "/proofs/$id/complete" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $(printf "%032x" 7)" -H "$OCTET" --data-binary "@$WG_TMP/proof"
call 415 POST $done_ "/proofs/$id/complete" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $lease" -H "$JSON" --data-binary '{}'
call 413 POST $done_ "/proofs/$id/complete" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $lease" -H "$OCTET" --data-binary "@$WG_TMP/big"
call 200 POST $done_ "/proofs/$id/complete" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $lease" -H "$OCTET" --data-binary "@$WG_TMP/proof"
call 200 POST $done_ "/proofs/$id/complete" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $lease" -H "$OCTET" --data-binary "@$WG_TMP/proof"
assert_json_eq .repeat true
call 404 POST $done_ /proofs/987654/complete -H "$(as "$PL_PROVER")" -H 'X-WG-Lease: 1' -H "$OCTET" --data-binary x

# Batch 2's basic prover job fails twice: queued, then failed for good.
fail_=/proofs/{id}/fail
for want in queued failed; do
	wg_wait_until 30 claim_batch_ok '{"prover_id":"t","protocol_version":24,"rounds":[0],"limit":4}'
	rec POST /jobs/claim
	id2=$(jq -r '.jobs[0].id' "$HTTP_BODY_FILE") lease2=$(jq -r '.jobs[0].lease' "$HTTP_BODY_FILE")
	assert_eq 2 "$(jq -r '.jobs[0].l1_batch_number' "$HTTP_BODY_FILE")" "the batched claim took batch 2's job"
	call 200 POST $fail_ "/proofs/$id2/fail" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $lease2" -H "$JSON" \
		--data-binary '{"error":"out of memory"}'
	assert_json_eq .status $want
done
call 409 POST $fail_ "/proofs/$id2/fail" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $lease2" -H "$JSON" --data-binary '{"error":"x"}'
call 400 POST $fail_ "/proofs/$id2/fail" -H "$(as "$PL_PROVER")" -H "X-WG-Lease: $lease2" -H "$JSON" --data-binary '{"error":7}'
call 404 POST $fail_ /proofs/987654/fail -H "$(as "$PL_PROVER")" -H 'X-WG-Lease: 1' -H "$JSON" --data-binary '{"error":"x"}'

# Batch 1 proven by the bundled prover, then nothing is left to claim.
WG_PROVER_TOKEN=$PL_PROVER "$WG_BUILDDIR/wg-prover" --url "$PL_URL" --rounds 0,1,2,3 --until-idle --idle-seconds 1 \
	>"$WG_TMP/prover.log" 2>&1 || fail "wg-prover: $(tail -3 "$WG_TMP/prover.log")"
wg_wait_until 30 pl__batch_reached 1 proven
claim1 204 '{"prover_id":"t","protocol_version":24}'

# ---------------------------------------------------------------- operator routes
v() { printf '%s' "$(as "$PL_VIEWER")"; }
a() { printf '%s' "$(as "$PL_ADMIN")"; }
call 200 GET /batches /batches -H "$(v)"
call 200 GET /batches '/batches?after=1&limit=5' -H "$(v)"
call 400 GET /batches '/batches?limit=lots' -H "$(v)"
call 200 GET /batches '/batches?order=desc&limit=1' -H "$(v)"
assert_json_eq '[.batches[] | "\(.l1_batch_number) \(.priority)"] | join(",")' "2 0"
call 200 GET /batches '/batches?order=desc&after=2' -H "$(v)"
assert_json_eq '[.batches[].l1_batch_number] | join(",")' 1
call 400 GET /batches '/batches?order=up' -H "$(v)"
call 401 GET /batches /batches
call 200 GET /batches/{n} /batches/1 -H "$(v)"
call 200 GET /batches/{n} /batches/2 -H "$(v)"
assert_json_eq .status failed
call 404 GET /batches/{n} /batches/99 -H "$(v)"
call 200 GET /batches/{n}/jobs /batches/1/jobs -H "$(v)"
call 200 GET /batches/{n}/jobs '/batches/2/jobs?round=0&status=failed&limit=1' -H "$(v)"
call 400 GET /batches/{n}/jobs '/batches/1/jobs?status=lost' -H "$(v)"
call 404 GET /batches/{n}/jobs /batches/99/jobs -H "$(v)"
call 200 GET /batches/{n}/proof /batches/1/proof -H "$(v)"
call 404 GET /batches/{n}/proof /batches/2/proof -H "$(v)"
call 200 GET /jobs/{id} "/jobs/$id" -H "$(v)"
call 200 GET /jobs/{id} "/jobs/$id2" -H "$(v)"
call 404 GET /jobs/{id} /jobs/987654 -H "$(v)"
att=/jobs/{id}/attempts
call 200 GET $att "/jobs/$id/attempts" -H "$(v)"
assert_json_eq '[.attempts[].outcome] | join(",")' successful
call 200 GET $att "/jobs/$id2/attempts" -H "$(v)"
assert_json_eq '[.attempts[].outcome] | join(",")' failed,failed
call 404 GET $att /jobs/987654/attempts -H "$(v)"
call 400 GET $att /jobs/abc/attempts -H "$(v)"
call 403 GET $att "/jobs/$id/attempts" -H "$(as "$PL_PROVER")"
call 405 GET $att "/jobs/$id/attempts" -X POST -H "$(v)"
call 200 GET /witness-jobs/{round}/{id} /witness-jobs/0/1 -H "$(v)"
call 200 GET /witness-jobs/{round}/{id} /witness-jobs/1/1 -H "$(v)"
call 404 GET /witness-jobs/{round}/{id} /witness-jobs/4/1 -H "$(v)"
call 404 GET /witness-jobs/{round}/{id} /witness-jobs/0/987654 -H "$(v)"
call 403 POST /jobs/{id}/requeue "/jobs/$id2/requeue" -H "$(v)"
call 409 POST /jobs/{id}/requeue "/jobs/$id/requeue" -H "$(a)"
call 200 POST /jobs/{id}/requeue "/jobs/$id2/requeue" -H "$(a)"
call 404 POST /jobs/{id}/requeue /jobs/987654/requeue -H "$(a)"
call 200 POST /batches/{n}/requeue /batches/2/requeue -H "$(a)"
call 404 POST /batches/{n}/requeue /batches/99/requeue -H "$(a)"
call 200 POST /batches/{n}/priority /batches/2/priority -H "$(a)" -H "$JSON" --data '{"priority":7}'
assert_eq 7 "$(wg_json .priority)" "the batch's priority in the reply"
call 400 POST /batches/{n}/priority /batches/2/priority -H "$(a)" -H "$JSON" --data '{"priority":101}'
call 400 POST /batches/{n}/priority /batches/2/priority -H "$(a)" -H "$JSON" --data '{"priority":1,"prio":2}'
assert_contains "$(wg_json .error.message)" prio "the unknown key is named"
call 403 POST /batches/{n}/priority /batches/2/priority -H "$(v)" -H "$JSON" --data '{"priority":1}'
call 404 POST /batches/{n}/priority /batches/99/priority -H "$(a)" -H "$JSON" --data '{"priority":1}'
call 415 POST /batches/{n}/priority /batches/2/priority -H "$(a)" -H "$OCTET" --data '{"priority":1}'
call 409 POST /witness-jobs/{round}/{id}/requeue /witness-jobs/0/1/requeue -H "$(a)"
call 404 POST /witness-jobs/{round}/{id}/requeue /witness-jobs/0/987654/requeue -H "$(a)"
call 200 DELETE /batches/{n} /batches/2 -H "$(a)"
call 404 DELETE /batches/{n} /batches/2 -H "$(a)"
call 405 GET /batches/{n} /batches/1 -X PUT -H "$(a)"

# ---------------------------------------------------------------- the input schema
# WitnessInput allows exactly what docs/input-format.md allows, as far as a schema can say it:
# every variant the daemon takes (201) is valid against it, every one it refuses as
# invalid_input is not. Each variant is its own batch.
"$WG_BUILDDIR/wgctl" gen-input --batch 0 --logs 12 --workload main_vm=100 >"$WG_TMP/base.json"
[[ $(jq '[.storage_logs[] | select(.is_write | not)] | length' "$WG_TMP/base.json") -gt 0 ]] ||
	fail "the base input has no read"
UP='def up: if type == "string" then "0X" + (.[2:] | ascii_upcase) else . end;'
ZERO="0x$(printf '0%.0s' {1..64})"
ONE="0x$(printf '1%.0s' {1..64})"
# shellcheck disable=SC2016 # jq filters, with jq variables
declare -A VARIANT=(
	[201:as-generated]='.'
	[201:reads-value_written-null]='.storage_logs |= map(if .is_write then . else .value_written = null end)'
	[201:reads-value_written-absent]='.storage_logs |= map(if .is_write then . else del(.value_written) end)'
	[201:root_hash-null]='.storage_logs |= map(.root_hash = null)'
	[201:root_hash-absent]='.storage_logs |= map(del(.root_hash))'
	[201:upper-case]="$UP"' .previous_root_hash |= up | .new_root_hash |= up
		| .storage_logs |= map(with_entries(if (.value | type) == "array" then .value |= map(up) else .value |= up end))'
	[201:no-logs]='.storage_logs = []'
	[400:unknown-key]='.extra = 1'
	[400:unknown-log-key]='.storage_logs[0].extra = 1'
	[400:write-value_written-null]='(.storage_logs | map(.is_write) | index(true)) as $w | .storage_logs[$w].value_written = null'
	[400:write-leaf_index-0]='(.storage_logs | map(.is_write) | index(true)) as $w | .storage_logs[$w].leaf_index = 0'
	[400:read-first_write]='(.storage_logs | map(.is_write) | index(false)) as $r | .storage_logs[$r].first_write = true'
	[400:read-value_written-nonzero]="(.storage_logs | map(.is_write) | index(false)) as \$r | .storage_logs[\$r].value_written = \"$ONE\""
	[400:first_write-value_read-nonzero]="(.storage_logs | map(.first_write) | index(true)) as \$f | .storage_logs[\$f].value_read = \"$ONE\""
	[400:read-missing-key-value_read]="(.storage_logs | map(.is_write) | index(false)) as \$r | .storage_logs[\$r].leaf_index = 0 | .storage_logs[\$r].value_read = \"$ONE\""
	[400:storage_application-key]='.circuit_workload.storage_application = 1'
	[400:unknown-workload-key]='.circuit_workload.main_vn = 1'
	[400:negative-work]='.circuit_workload.main_vm = -1'
	[400:short-hash]='.new_root_hash |= .[:65]'
	[400:no-0x]='.new_root_hash |= .[2:]'
	[400:path-of-257]="(.storage_logs[0].merkle_path = [range(257) | \"$ZERO\"])"
	[400:root_hash-number]='.storage_logs[0].root_hash = 5'
	[400:negative-batch]='.l1_batch_number = -1'
)
batch=600
files=()
for v in "${!VARIANT[@]}"; do
	batch=$((batch + 1))
	jq -c --argjson n "$batch" "${VARIANT[$v]} | if .l1_batch_number == 0 then .l1_batch_number = \$n else . end" \
		"$WG_TMP/base.json" >"$WG_TMP/variant.$batch.json" || fail "variant $v"
	wg_http POST "$PL_URL/batches/$batch/witness-inputs" -H "$(as "$PL_TREE")" -H "$JSON" \
		--data-binary "@$WG_TMP/variant.$batch.json"
	[[ $HTTP_STATUS == "${v%%:*}" ]] || fail "input variant $v: HTTP $HTTP_STATUS, expected ${v%%:*}: $HTTP_BODY"
	[[ $HTTP_STATUS == 201 ]] || assert_error_code invalid_input
	files+=("$WG_TMP/variant.$batch.json")
	NAME[$WG_TMP/variant.$batch.json]=$v
done
"$PY" "$CHECK" --body "$SPEC" WitnessInput "${files[@]}" >"$WG_TMP/inputs.out" || fail "the input check did not run"
while read -r verdict file rest; do
	file=${file%:}
	v=${NAME[$file]}
	if [[ ${v%%:*} == 201 ]]; then
		assert_eq valid "$verdict" "the daemon takes variant $v; api/openapi.yaml must allow it ($rest)"
	else
		assert_eq invalid "$verdict" "the daemon refuses variant $v; api/openapi.yaml must not allow it"
	fi
done <"$WG_TMP/inputs.out"
assert_eq "${#files[@]}" "$(wc -l <"$WG_TMP/inputs.out")" "every input variant checked against the schema"
# Content-Encoding: absent, identity or gzip; anything else is 415.
for enc in identity IDENTITY gzip br "gzip, gzip"; do
	batch=$((batch + 1))
	jq -c --argjson n "$batch" '.l1_batch_number = $n' "$WG_TMP/base.json" >"$WG_TMP/enc.json"
	[[ $enc == gzip ]] && gzip -f "$WG_TMP/enc.json" && mv "$WG_TMP/enc.json.gz" "$WG_TMP/enc.json"
	call "$([[ $enc == identity || $enc == IDENTITY || $enc == gzip ]] && echo 201 || echo 415)" \
		POST /batches/{n}/witness-inputs "/batches/$batch/witness-inputs" -H "$(as "$PL_TREE")" -H "$JSON" \
		-H "Content-Encoding: $enc" --data-binary "@$WG_TMP/enc.json"
done
# The queue report and pauses.
call 200 GET /queue /queue -H "$(v)"
call 403 GET /queue /queue -H "$(as "$PL_PROVER")"
call 200 POST /queue/pause /queue/pause -H "$(a)" -H "$JSON" --data-binary '{"protocol_version":24,"rounds":[0],"circuit_ids":[1,5]}'
assert_json_eq '.pauses | length' 1
call 200 POST /queue/pause /queue/pause -H "$(a)" -H "$JSON" --data-binary '{}'
call 200 GET /queue /queue -H "$(v)"
assert_json_eq '[.queues[].paused] | all' true
call 400 POST /queue/pause /queue/pause -H "$(a)" -H "$JSON" --data-binary '{"round":[0]}'
call 403 POST /queue/pause /queue/pause -H "$(v)" -H "$JSON" --data-binary '{}'
call 415 POST /queue/pause /queue/pause -H "$(a)" -H "$OCTET" --data-binary '{}'
call 200 POST /queue/resume /queue/resume -H "$(a)" -H "$JSON" --data-binary '{"rounds":[0]}'
assert_json_eq '.pauses | length' 1
call 200 POST /queue/resume /queue/resume -H "$(a)" -H "$JSON" --data-binary '{}'
assert_json_eq '.pauses' '[]'
call 400 POST /queue/resume /queue/resume -H "$(a)" -H "$JSON" --data-binary '{"rounds":"all"}'
call 405 POST /queue/resume /queue/resume -X GET -H "$(a)"

# ---------------------------------------------------------------- the database away
wg_pg_stop >/dev/null
call 503 GET /readyz /readyz
call 503 GET /batches /batches -H "$(v)"
wg_pg_start >/dev/null
wg_wait_until 30 curl -sf -o /dev/null "$PL_URL/readyz"

# ---------------------------------------------------------------- validate
"$PY" "$CHECK" "$SPEC" "$RECORDS" >"$WG_TMP/check.out" 2>&1 || { cat "$WG_TMP/check.out" >&2; fail "replies do not match api/openapi.yaml"; }
cat "$WG_TMP/check.out"
assert_contains "$(cat "$WG_TMP/check.out")" "checked $N responses"
assert_eq 0 "$(grep -c '^FAIL' "$WG_TMP/check.out" || true)" "no reply fails validation"

# The checker is not a rubber stamp: a job without its lease_expires_at, and a status the
# operation does not document, must both fail.
jq -c 'select(.path == "/jobs/{id}/heartbeat" and .status == 200)' "$RECORDS" | sed -n 1p >"$WG_TMP/bad.jsonl"
f=$(jq -r .body_file "$WG_TMP/bad.jsonl")
jq -c 'del(.lease_expires_at)' "$f" >"$WG_TMP/nolease.json"
jq -c --arg f "$WG_TMP/nolease.json" '.body_file = $f' "$WG_TMP/bad.jsonl" >"$WG_TMP/bad2.jsonl"
jq -c '.status = 418' "$WG_TMP/bad.jsonl" >>"$WG_TMP/bad2.jsonl"
rc=0
"$PY" "$CHECK" "$SPEC" "$WG_TMP/bad2.jsonl" >"$WG_TMP/bad.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "the checker rejects bad replies"
assert_contains "$(cat "$WG_TMP/bad.out")" "'lease_expires_at' is a required property"
assert_contains "$(cat "$WG_TMP/bad.out")" "status 418 is not documented"
