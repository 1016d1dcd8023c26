#!/bin/bash
# t_prover_api.sh: the prover side of the HTTP API (docs/state-machine.md, docs/circuits.md and
# docs/api.md). Claim filters and
# claim order; witness download; completion checked in the order of docs/api.md (unknown job,
# repeat of a successful job, lease, proof verification); heartbeats; failures up to
# --max-attempts; 404 for unknown batches and jobs.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
MAX_ATTEMPTS=3
# Retries are claimable at once here (no backoff); t_retries.sh tests the backoff.
wg_start_daemon a --max-attempts $MAX_ATTEMPTS --retry-base 0
pl_use a

claim_body() { # claim_body [EXTRA_JSON_FIELDS]
	echo "{\"prover_id\":\"api-test\",\"protocol_version\":24${1:+,$1}}"
}
# job_row ID: status|attempts|lease_expires_at in epoch milliseconds|error of a prover job.
job_row() {
	wg_psql "SELECT status, attempts, coalesce((extract(epoch FROM lease_expires_at) * 1000)::bigint::text, ''),
		coalesce(error, '') FROM prover_jobs WHERE id = $1"
}
basic_done() {
	[[ $(wg_psql "SELECT count(*) FROM basic_circuit_witness_jobs WHERE status = 'successful'") == "$1" ]]
}

# Batch 7 first (3 main_vm circuits), then batch 4 (2 main_vm, 1 keccak256): batch 4's prover
# jobs have the higher ids but come first in claim order.
pl_gen_input 7 --logs 0 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in7.json"
pl_upload 7 "$WG_TMP/in7.json"
assert_status 201
wg_wait_until 60 basic_done 1
pl_gen_input 4 --logs 0 --workload main_vm=$((5390 * 2)),keccak256=293 >"$WG_TMP/in4.json"
pl_upload 4 "$WG_TMP/in4.json"
assert_status 201
wg_wait_until 60 basic_done 2
assert_eq "1|7|0|1|0 2|7|0|1|1 3|7|0|1|2 4|4|0|1|0 5|4|0|1|1 6|4|0|5|0" \
	"$(wg_psql "SELECT id, l1_batch_number, aggregation_round, circuit_id, sequence_number FROM prover_jobs
		ORDER BY id" | tr '\n' ' ' | sed 's/ $//')" "the prover jobs of batches 7 and 4"

# ---------------------------------------------------------------- claim filters
pl_claim "$(claim_body)"
assert_status 200
first=$PL_JOB_ID
first_lease=$PL_JOB_LEASE
assert_eq 4 "$first" "first claim: batch 4 before batch 7"
# Give it back so that the order test below sees every job (fail keeps the attempt).
pl_fail "$first" "$first_lease" "giving it back"
assert_status 200
assert_json_eq .status queued

pl_claim "$(claim_body)"
assert_status 200
assert_json_eq .id 4
assert_json_eq .attempts 2
# A lease is new at every claim: the first one no longer holds the job.
[[ $PL_JOB_LEASE != "$first_lease" ]] || fail "the second claim of job 4 got the first claim's lease"
pl_heartbeat 4 "$first_lease"
assert_status 409
assert_error_code lease_lost
pl_fail 4 "$PL_JOB_LEASE" "giving it back again"
assert_status 200

for filter in '"rounds":[1,2,3]' '"rounds":[3]' '"circuit_ids":[9]' '"circuit_ids":[2,3,4]' \
	'"rounds":[1],"circuit_ids":[1]' '"rounds":[0],"circuit_ids":[0]'; do
	pl_claim "$(claim_body "$filter")"
	assert_status 204
done
# Provers claim only their own protocol version; one this daemon does not serve is refused
# (a 204 would keep a misconfigured prover polling forever).
pl_claim '{"prover_id":"old","protocol_version":23}'
assert_status 400
assert_error_code invalid_input
assert_contains "$(wg_json .error.message)" "serves protocol version 24, not 23"
pl_claim '{"prover_id":"new","protocol_version":25}'
assert_status 400
assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE status <> 'queued'")" "no job taken by a 204"
# Malformed claims.
pl_claim '{"protocol_version":24}'
assert_status 400
assert_error_code invalid_input
pl_claim '{"prover_id":"x","protocol_version":24,"rounds":"0"}'
assert_status 400
assert_error_code invalid_input
pl_claim '{"prover_id":'
assert_status 400
assert_error_code bad_request
# Every key must be one the claim reads (docs/api.md): a misspelt limit or filter is refused, naming
# the key, instead of claiming one unfiltered job as a bare object.
pl_claim '{"prover_id":"x","protocol_version":24,"limt":2,"roundz":[3]}'
assert_status 400
assert_error_code invalid_input
assert_contains "$(wg_json .error.message)" '$.limt: unknown key; expected one of prover_id, protocol_version,'
pl_claim '{"prover_id":"x","protocol_version":24,"circuit_id":[5]}'
assert_status 400
assert_contains "$(wg_json .error.message)" '$.circuit_id: unknown key'
assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE status <> 'queued'")" "no job taken by a misspelt claim"
# Roles: a viewer may not claim, nobody without a token.
wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_VIEWER" --json "$(claim_body)"
assert_status 403
assert_error_code forbidden
wg_http POST "$PL_URL/jobs/claim" --json "$(claim_body)"
assert_status 401
assert_error_code unauthorized

# A circuit filter picks the keccak256 circuit although main_vm circuits come first.
pl_claim "$(claim_body '"circuit_ids":[5]')"
assert_status 200
assert_json_eq '[.id, .l1_batch_number, .protocol_version, .aggregation_round, .circuit_id, .depth,
	.sequence_number, .attempts, (.lease | length)] | map(tostring) | join(",")' "6,4,24,0,5,0,0,1,32"
assert_json_eq '["id", "l1_batch_number", "protocol_version", "aggregation_round", "circuit_id", "depth",
	"sequence_number", "attempts", "lease", "lease_expires_at"] - keys | join(",")' ""
assert_contains "$(wg_json .lease_expires_at)" "T" "lease_expires_at is a timestamp"
pl_witness 6 "$WG_TMP/w6"
pl_ref_prove "$WG_TMP/w6" "$WG_TMP/p6"
pl_complete 6 "$PL_JOB_LEASE" "$WG_TMP/p6"
assert_status 200
# Its type had one circuit: the leaf round runs and creates batch 4's round 1 circuit (id 7).
leaf_created() {
	[[ $(wg_psql "SELECT count(*) FROM prover_jobs WHERE aggregation_round = 1") == 1 ]]
}
wg_wait_until 60 leaf_created
pl_claim "$(claim_body '"rounds":[1],"circuit_ids":[1]')"
assert_status 204

# ---------------------------------------------------------------- claim order
# l1_batch_number, aggregation_round, id: batch 4 round 0 (ids 4, 5), batch 4 round 1 (id 7),
# then batch 7 (ids 1, 2, 3) although their ids are lower.
order=()
declare -A LEASE=()
while :; do
	pl_claim "$(claim_body)"
	[[ $HTTP_STATUS == 204 ]] && break
	assert_status 200
	order+=("$(wg_json '"\(.l1_batch_number)/\(.aggregation_round)/\(.id)"')")
	LEASE[$PL_JOB_ID]=$PL_JOB_LEASE
done
assert_eq "4/0/4 4/0/5 4/1/7 7/0/1 7/0/2 7/0/3" "${order[*]}" "claim order"
assert_eq 6 "$(printf '%s\n' "${LEASE[@]}" | sort -u | wc -l)" "every claim got a lease of its own"
# The lease is shown only to its claimant: GET /jobs/{id} does not carry it.
pl_get /jobs/4
assert_json_eq 'has("lease")' false

# ---------------------------------------------------------------- witness download
pl_witness 4 "$WG_TMP/w4"
assert_eq 118 "$(stat -c %s "$WG_TMP/w4")" "basic main_vm witness size"
assert_eq "5747575400000001000000000000000004000000180100000000000000000000" \
	"$(head -c 32 "$WG_TMP/w4" | od -An -v -tx1 | tr -d ' \n')" \
	"basic witness header: WGWT, format 1, kind 0, batch 4, protocol 24, circuit 1, depth 0, seq 0"
assert_contains "$(wg_header Content-Type)" application/octet-stream "witness content type"
pl_witness 7 "$WG_TMP/w7"
assert_eq "57475754000000010100000000000000040000001805" \
	"$(head -c 22 "$WG_TMP/w7" | od -An -v -tx1 | tr -d ' \n')" "leaf witness header: kind 1, circuit 5"
assert_eq 78 "$(stat -c %s "$WG_TMP/w7")" "leaf witness over one proof: 38 + 40 bytes"

# ---------------------------------------------------------------- complete: verification
pl_ref_prove "$WG_TMP/w4" "$WG_TMP/p4"
pl_witness 5 "$WG_TMP/w5"
pl_ref_prove "$WG_TMP/w5" "$WG_TMP/p5"
# The downloads' full leases are written within 0.1 s (db/toucher.h): the row is read after.
touched() { [[ $(wg_psql "SELECT bool_and(lease_touched) FROM prover_jobs WHERE id IN (4, 5, 7)") == t ]]; }
wg_wait_until 5 touched
before=$(job_row 4)
printf 'this is not a proof' >"$WG_TMP/garbage"
: >"$WG_TMP/empty"
head -c 37 "$WG_TMP/p4" >"$WG_TMP/short"
for bad in garbage empty short p5; do
	pl_complete 4 "${LEASE[4]}" "$WG_TMP/$bad"
	assert_status 400
	assert_error_code invalid_input
	assert_eq "$before" "$(job_row 4)" "job 4 unchanged after the $bad proof"
done
assert_eq "in_progress|3" "$(job_row 4 | cut -d'|' -f1,2)" "job 4 still held (attempt 3)"
pl_get /jobs/4
assert_json_eq '"\(.status) \(.attempts)"' "in_progress 3"
# ...and the correct proof under the same lease is accepted.
pl_complete 4 "${LEASE[4]}" "$WG_TMP/p4"
assert_status 200
assert_json_eq '"\(.id) \(.status) \(.repeat)"' "4 successful false"
assert_eq "successful|3||" "$(job_row 4)" "job 4 successful"
proof_hash=$(wg_psql "SELECT encode(proof_hash, 'hex') FROM prover_jobs WHERE id = 4")
assert_eq 64 "${#proof_hash}" "job 4 has a proof hash"

# ---------------------------------------------------------------- complete: repeats
leaf_row() {
	wg_psql "SELECT proofs_done, status FROM leaf_aggregation_jobs WHERE l1_batch_number = 4 AND circuit_id = 1"
}
assert_eq "1|waiting_for_proofs" "$(leaf_row)" "one main_vm proof of batch 4 counted"
# The same bytes again: 200 and nothing changes, whatever lease the header names. (Without the
# header the request is malformed: 400, below.)
WRONG_LEASE=$(printf '%032x' 99)
for lease in "${LEASE[4]}" "$WRONG_LEASE"; do
	wg_http POST "$PL_URL/proofs/4/complete" -H "Authorization: Bearer $PL_PROVER" \
		-H 'Content-Type: application/octet-stream' -H "X-WG-Lease: $lease" --data-binary "@$WG_TMP/p4"
	assert_status 200
	assert_json_eq '"\(.status) \(.repeat)"' "successful true"
	assert_eq "1|waiting_for_proofs" "$(leaf_row)" "repeat completion (lease '$lease') counted nothing"
done
assert_eq "successful|3||" "$(job_row 4)" "job 4 unchanged by repeats"
# Other bytes for a successful job: 409 conflict (even a valid-looking proof of another witness).
for bad in garbage p5; do
	pl_complete 4 "${LEASE[4]}" "$WG_TMP/$bad"
	assert_status 409
	assert_error_code conflict
done
assert_eq "1|waiting_for_proofs" "$(leaf_row)" "conflicting completions counted nothing"
assert_eq "$proof_hash" "$(wg_psql "SELECT encode(proof_hash, 'hex') FROM prover_jobs WHERE id = 4")" \
	"the first proof is kept"

# ---------------------------------------------------------------- complete: lease
before=$(job_row 5)
pl_complete 5 "$WRONG_LEASE" "$WG_TMP/p5"
assert_status 409
assert_error_code lease_lost
# A missing X-WG-Lease is a client error naming the header, for a held job and a finished one.
for id in 5 4; do
	wg_http POST "$PL_URL/proofs/$id/complete" -H "Authorization: Bearer $PL_PROVER" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$WG_TMP/p$id"
	assert_status 400
	assert_error_code bad_request
	assert_contains "$HTTP_BODY" 'X-WG-Lease'
done
# Any lease that is not the job's is lease_lost, however it looks.
pl_complete 5 "one" "$WG_TMP/p5"
assert_status 409
assert_error_code lease_lost
# The lease is checked before the proof: a garbage proof under a wrong lease is lease_lost.
pl_complete 5 "$WRONG_LEASE" "$WG_TMP/garbage"
assert_status 409
assert_error_code lease_lost
assert_eq "$before" "$(job_row 5)" "job 5 unchanged by refused completions"
assert_eq "1|waiting_for_proofs" "$(leaf_row)" "refused completions counted nothing"

# ---------------------------------------------------------------- heartbeat
before=$(job_row 5 | cut -d'|' -f3)
sleep 1.2
pl_heartbeat 5 "${LEASE[5]}"
assert_status 200
assert_json_eq '"\(.id) \(.status) \(has("lease"))"' "5 in_progress false"
after=$(job_row 5 | cut -d'|' -f3)
assert_eq 1 "$((after - before >= 1000))" "heartbeat moved lease_expires_at ($before -> $after)"
assert_eq 1 "$((after - $(wg_psql "SELECT (extract(epoch FROM now()) * 1000)::bigint") > 590000))" \
	"heartbeat extended the lease by --lease (600 s)"
pl_heartbeat 5 "$WRONG_LEASE"
assert_status 409
assert_error_code lease_lost
wg_http POST "$PL_URL/jobs/5/heartbeat" -H "Authorization: Bearer $PL_PROVER"
assert_status 400
assert_error_code bad_request
assert_eq "$after" "$(job_row 5 | cut -d'|' -f3)" "a refused heartbeat moves nothing"
pl_heartbeat 4 "${LEASE[4]}"
assert_status 409
assert_error_code lease_lost
# After the heartbeat, the proof is still accepted under the same lease.
pl_complete 5 "${LEASE[5]}" "$WG_TMP/p5"
assert_status 200
assert_eq 2 "$(leaf_row | cut -d'|' -f1)" "both main_vm proofs of batch 4 counted"
leaf_ran() {
	[[ $(leaf_row) == "2|successful" ]]
}
wg_wait_until 60 leaf_ran

# ---------------------------------------------------------------- fail
# Job 1 (batch 7), attempt 1: requeued with the attempt kept and the error stored.
pl_fail 1 "${LEASE[1]}" "gpu on fire"
assert_status 200
assert_json_eq '"\(.id) \(.status) \(.attempts) \(.max_attempts) \(.retry_at != null)"' "1 queued 1 $MAX_ATTEMPTS true"
assert_eq "queued|1||gpu on fire" "$(job_row 1)" "failed once: queued, attempts kept, error stored"
pl_get "/batches/7/jobs?round=0"
assert_json_eq '[.prover_jobs[] | select(.id == 1) | "\(.status)|\(.attempts)|\(.error)"] | join("")' \
	"queued|1|gpu on fire"
pl_fail 1 "${LEASE[1]}" "again"
assert_status 409
assert_error_code lease_lost
pl_fail 1 "${LEASE[1]}" ""
assert_status 409
wg_http POST "$PL_URL/proofs/2/fail" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: ${LEASE[2]}" \
	--json '{"error": 5}'
assert_status 400
assert_error_code invalid_input
# A key the fail route does not read is refused, naming it, and the job stays held.
wg_http POST "$PL_URL/proofs/2/fail" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: ${LEASE[2]}" \
	--json '{"error": "oom", "retry_in": 5}'
assert_status 400
assert_error_code invalid_input
assert_contains "$(wg_json .error.message)" '$.retry_in: unknown key; expected one of error'
assert_eq "in_progress|1" "$(job_row 2 | cut -d'|' -f1,2)" "a fail with an unknown key changes nothing"
for attempt in 2 3; do
	pl_claim "$(claim_body '"rounds":[0]')"
	assert_status 200
	assert_json_eq '"\(.id) \(.attempts)"' "1 $attempt"
	last_lease=$PL_JOB_LEASE
	pl_fail 1 "$last_lease" "gpu on fire, attempt $attempt"
	assert_status 200
	if ((attempt < MAX_ATTEMPTS)); then
		assert_json_eq .status queued
		assert_eq "queued|$attempt||gpu on fire, attempt $attempt" "$(job_row 1)" "failed at attempt $attempt"
	fi
done
# --max-attempts 3: the third failure is final, and the job's error says so.
assert_json_eq '"\(.status) \(.attempts) \(.max_attempts) \(.retry_at)"' "failed 3 3 null"
assert_eq "failed|3||gpu on fire, attempt 3; reached max_attempts (3)" "$(job_row 1)" \
	"failed for good at --max-attempts"
pl_claim "$(claim_body '"rounds":[0]')"
assert_status 204
assert_eq failed "$(batch_status 7)" "a failed prover job fails its batch"
wg_http GET "$PL_URL/jobs/1/witness" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: $last_lease"
assert_status 409
assert_error_code lease_lost
pl_witness_admin 1 "$WG_TMP/w1"
pl_ref_prove "$WG_TMP/w1" "$WG_TMP/p1"
pl_complete 1 "$last_lease" "$WG_TMP/p1"
assert_status 409
assert_error_code lease_lost

# ---------------------------------------------------------------- 404
for path in /batches/999 /batches/999/jobs /batches/999/proof /jobs/999999; do
	pl_get "$path"
	assert_status 404
	assert_error_code not_found
done
wg_http GET "$PL_URL/jobs/999999/witness" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: $WRONG_LEASE"
assert_status 404
assert_error_code not_found
pl_heartbeat 999999 1
assert_status 404
assert_error_code not_found
pl_complete 999999 1 "$WG_TMP/p4"
assert_status 404
assert_error_code not_found
pl_fail 999999 1 "no such job"
assert_status 404
assert_error_code not_found

# ---------------------------------------------------------------- and batch 4 still gets proven
pl_witness 7 "$WG_TMP/w7"
pl_ref_prove "$WG_TMP/w7" "$WG_TMP/p7"
pl_complete 7 "${LEASE[7]}" "$WG_TMP/p7"
assert_status 200
prove_all_until 4 proven
assert_eq "0|1|0|2 0|5|0|1 1|1|0|1 1|5|0|1 2|1|0|1 2|5|0|1 3|0|0|1" "$(pl_sql_counts 4 | tr '\n' ' ' | sed 's/ $//')" \
	"batch 4 layers"
assert_eq failed "$(batch_status 7)" "batch 7 stays failed"
