#!/bin/bash
# t_leases.sh: leases, fencing and retries (docs/state-machine.md, issue 4 point 1).
# Prover jobs: an expired lease puts the job back to `queued` with an error naming the holder and
# the lease; the next claim gets a new lease; a completion or heartbeat under the old lease is
# `409 lease_lost` and changes nothing; heartbeats under the current lease keep a job alive past
# its first expiry; with --max-attempts 2 two expiries (or a fail under the last attempt) fail the
# job and the batch, and an admin requeue brings both back. Witness jobs: a daemon restarted with
# the same --instance-id requeues at once the witness jobs held under its id, and only those.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
LEASE=3 # short, yet long enough for the few requests between a claim and its first heartbeat
wg_start_daemon a --lease $LEASE --housekeeping-ms 200 --retry-base 0
pl_use a

# job_row ID: status|attempts|picked_by|error|proof_hash is null of a prover job.
job_row() {
	wg_psql "SELECT status, attempts, coalesce(picked_by, ''), coalesce(error, ''), proof_hash IS NULL
		FROM prover_jobs WHERE id = $1"
}
# job_state ID: status|attempts|picked_by|proof_hash is null (a claim may keep the last error).
job_state() {
	wg_psql "SELECT status, attempts, coalesce(picked_by, ''), proof_hash IS NULL FROM prover_jobs WHERE id = $1"
}
# job_snapshot ID: the whole row but its id, to see that nothing changed.
job_snapshot() {
	wg_psql "SELECT row_to_json(p)::jsonb - 'id' FROM prover_jobs p WHERE id = $1"
}
job_status() {
	wg_psql "SELECT status FROM prover_jobs WHERE id = $1"
}
job_is() { # job_is ID STATUS
	[[ $(job_status "$1") == "$2" ]]
}
claim_as() { # claim_as PROVER_ID: claim any job of batch 1's basic round; its lease is left in $LEASE_OF
	pl_claim "{\"prover_id\":\"$1\",\"protocol_version\":24,\"rounds\":[0]}"
	assert_status 200
	[[ $PL_JOB_LEASE =~ ^[0-9a-f]{32}$ ]] || fail "the lease '$PL_JOB_LEASE' is not 32 hex digits"
	LEASE_OF=$PL_JOB_LEASE
}
# prove_file ID: download the witness of job ID and write its reference proof to $WG_TMP/proof-ID.
prove_file() {
	pl_witness "$1" "$WG_TMP/witness-$1"
	pl_ref_prove "$WG_TMP/witness-$1" "$WG_TMP/proof-$1"
}
admin_post() {
	wg_http POST "$PL_URL$1" -H "Authorization: Bearer $PL_ADMIN"
}

# Batch 1: three basic circuits (two main_vm, one storage_application).
pl_gen_input 1 --logs 5 --workload main_vm=$((5390 * 2)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
basic_done() {
	[[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1") == successful ]]
}
wg_wait_until 30 basic_done 1
read -ra JOBS <<<"$(wg_psql "SELECT id FROM prover_jobs WHERE l1_batch_number = 1 ORDER BY id" | tr '\n' ' ')"
assert_eq 3 "${#JOBS[@]}" "basic circuits of batch 1"

# ---------------------------------------------------------------- expiry
claim_as holder-one
J=$PL_JOB_ID
assert_eq "${JOBS[0]}" "$J" "first claim takes the first job"
assert_json_eq .attempts 1
FIRST_LEASE=$LEASE_OF
# The lease runs --lease seconds from the claim (measured in the database just after it; here it
# is shorter than --claim-grace, which the witness download then ends).
left=$(wg_psql "SELECT extract(epoch FROM lease_expires_at - now()) FROM prover_jobs WHERE id = $J")
assert_eq 1 "$(awk -v l="$left" 'BEGIN { print (l > 1.5 && l <= 3.1) }')" "lease of ${left}s, expected about $LEASE s"
assert_eq "in_progress|1|holder-one|t" "$(job_state "$J")" "claimed job"
prove_file "$J"
expires=$(wg_psql "SELECT lease_expires_at FROM prover_jobs WHERE id = $J")
wg_wait_until 10 job_is "$J" queued
assert_eq t "$(wg_psql "SELECT updated_at >= '$expires'::timestamptz FROM prover_jobs WHERE id = $J")" \
	"housekeeping requeued the job no earlier than its lease expired ($expires)"
assert_eq "queued|1|holder-one|lease expired while held by holder-one|t" "$(job_row "$J")" \
	"expired job: queued, attempts kept, error names the lease and the holder"
assert_eq "" "$(wg_psql "SELECT lease_expires_at FROM prover_jobs WHERE id = $J")" "no lease on a queued job"
pl_get "/jobs/$J"
assert_status 200
assert_json_eq .status queued
assert_json_eq .attempts 1

# The next claim gets the same job under a new lease.
claim_as holder-two
assert_eq "$J" "$PL_JOB_ID" "the expired job is claimed again first"
assert_ne "$FIRST_LEASE" "$LEASE_OF" "a new lease at every claim"
assert_json_eq .attempts 2
SECOND_LEASE=$LEASE_OF
pl_heartbeat "$J" "$SECOND_LEASE" # taken up at once: the fencing checks below may take a while
assert_status 200

# ---------------------------------------------------------------- fencing
before=$(job_snapshot "$J")
assert_eq "in_progress|2|holder-two|t" "$(job_state "$J")" "claimed again"
# A completion under the old lease: 409 lease_lost, nothing changed (checked before the proof).
pl_complete "$J" "$FIRST_LEASE" "$WG_TMP/proof-$J"
assert_status 409
assert_error_code lease_lost
assert_eq "$before" "$(job_snapshot "$J")" "a completion under a lost lease changes nothing"
assert_eq 0 "$(wg_psql "SELECT proofs_done FROM leaf_aggregation_jobs WHERE l1_batch_number = 1 AND circuit_id = 1")" \
	"no proof counted for a completion under a lost lease"
pl_heartbeat "$J" "$FIRST_LEASE"
assert_status 409
assert_error_code lease_lost
pl_fail "$J" "$FIRST_LEASE" "from the old holder"
assert_status 409
assert_error_code lease_lost
assert_eq "$before" "$(job_snapshot "$J")" "a heartbeat or fail under a lost lease changes nothing"
# A lease that was never handed out, no lease at all, and a header that is not a lease.
pl_heartbeat "$J" "$(printf '%032x' 3)"
assert_status 409
assert_error_code lease_lost
# No lease at all is a malformed request, not a lost lease.
wg_http POST "$PL_URL/jobs/$J/heartbeat" -H "Authorization: Bearer $PL_PROVER"
assert_status 400
assert_error_code bad_request
assert_contains "$HTTP_BODY" 'X-WG-Lease'
wg_http POST "$PL_URL/jobs/$J/heartbeat" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: two"
assert_status 409
assert_error_code lease_lost

# Heartbeats under the current lease every second keep the job past two of its leases.
start=$SECONDS
for _ in 1 2 3 4 5 6 7; do
	pl_heartbeat "$J" "$SECOND_LEASE"
	assert_status 200
	assert_json_eq .id "$J"
	assert_json_eq 'has("lease")' false
	sleep 1
done
assert_eq 1 "$((SECONDS - start >= 7))" "heartbeats ran for 7 s"
assert_eq "in_progress|2|holder-two|t" "$(job_state "$J")" "a job with heartbeats outlives its first lease"
pl_complete "$J" "$SECOND_LEASE" "$WG_TMP/proof-$J"
assert_status 200
assert_json_eq .status successful
assert_eq 1 "$(wg_psql "SELECT proofs_done FROM leaf_aggregation_jobs WHERE l1_batch_number = 1 AND circuit_id = 1")" \
	"the proof was counted once"
# A successful job is held by no one: a heartbeat under its last lease is refused.
pl_heartbeat "$J" "$SECOND_LEASE"
assert_status 409
assert_error_code lease_lost

# ---------------------------------------------------------------- fail under the current lease
claim_as failer
K=$PL_JOB_ID
assert_eq "${JOBS[1]}" "$K" "next job"
K_LEASE=$LEASE_OF
pl_fail "$K" "$K_LEASE" "out of GPU memory"
assert_status 200
assert_json_eq .status queued
assert_eq "queued|1|failer|out of GPU memory|t" "$(job_row "$K")" "a failed attempt: queued, error stored"
pl_fail "$K" "$K_LEASE" "again"
assert_status 409
assert_error_code lease_lost

# ---------------------------------------------------------------- --max-attempts 2
wg_stop_daemon a
wg_start_daemon a --lease $LEASE --housekeeping-ms 200 --retry-base 0 --max-attempts 2
pl_use a

# A fail under the last attempt fails the job and the batch.
claim_as failer
assert_eq "$K" "$PL_JOB_ID" "the job given back is claimed again"
assert_json_eq .attempts 2
pl_fail "$K" "$LEASE_OF" "out of GPU memory, twice"
assert_status 200
assert_json_eq .status failed
assert_eq "failed|2|failer|out of GPU memory, twice; reached max_attempts (2)|t" "$(job_row "$K")" "fail at max attempts: failed"
assert_eq failed "$(batch_status 1)" "a failed prover job fails the batch"
# Nothing claims a failed job.
claim_as other
assert_eq "${JOBS[2]}" "$PL_JOB_ID" "the failed job is skipped by claims"
L=$PL_JOB_ID
prove_file "$L" # taken up: its lease, not the claim grace, runs out
# Two expiries of job L: queued, then failed, having reached max_attempts.
wg_wait_until 10 job_is "$L" queued
assert_eq "queued|1|other|lease expired while held by other|t" "$(job_row "$L")" "first expiry at max attempts 2"
claim_as other
assert_eq "$L" "$PL_JOB_ID" "the expired job is claimed again"
prove_file "$L"
wg_wait_until 10 job_is "$L" failed
assert_eq "failed|2|other|lease expired while held by other; reached max_attempts (2)|t" "$(job_row "$L")" \
	"second expiry at max attempts 2: failed"
wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
	--data-binary '{"prover_id":"other","protocol_version":24}'
assert_status 204
pl_get /batches/1
assert_status 200
assert_json_eq .status failed
assert_json_eq '.rounds[0].prover_jobs | tojson' '{"failed":2,"successful":1}'

# The admin requeue brings one job back: queued, claimable, attempts kept, the batch not failed
# while the other one still is; then the other one.
admin_post "/jobs/$L/requeue"
assert_status 200
assert_json_eq .status queued
assert_json_eq .id "$L"
assert_eq queued "$(job_status "$L")" "requeued job"
assert_contains "$(job_row "$L")" "queued|2|other|requeued by an operator after: lease expired while held by other" \
	"the requeue records the previous error"
assert_eq failed "$(batch_status 1)" "the batch still has a failed job"
admin_post "/jobs/$K/requeue"
assert_status 200
assert_eq in_progress "$(batch_status 1)" "no failed job left: the batch is in progress again"
# Both claimable, attempts go on from where they were, and complete.
for want in "$K" "$L"; do
	claim_as after-requeue
	assert_eq "$want" "$PL_JOB_ID" "requeued job claimable"
	assert_json_eq .attempts 3
	prove_file "$want"
	pl_complete "$want" "$LEASE_OF" "$WG_TMP/proof-$want"
	assert_status 200
done
prove_all_until 1 proven 60

# ---------------------------------------------------------------- restart recovery
# Batch 2 is processed, then made to look as if this daemon had crashed in its basic round: the
# job in_progress under instance id "a" with a lease an hour away, its outputs gone. Batch 3 is
# held the same way by another instance ("ghost"), which a restart of "a" must leave alone.
for b in 2 3; do
	pl_gen_input $b --logs 3 --workload main_vm=5390 --seed $b >"$WG_TMP/in$b.json"
	pl_upload $b "$WG_TMP/in$b.json"
	assert_status 201
	wg_wait_until 30 basic_done $b
done
wg_stop_daemon a
for b in 2 3; do
	wg_psql "DELETE FROM prover_jobs WHERE l1_batch_number = $b" \
		"DELETE FROM leaf_aggregation_jobs WHERE l1_batch_number = $b" \
		"DELETE FROM node_aggregation_jobs WHERE l1_batch_number = $b" \
		"DELETE FROM scheduler_witness_jobs WHERE l1_batch_number = $b"
done
wg_psql "UPDATE basic_circuit_witness_jobs SET status = 'in_progress', attempts = 1, picked_by = 'a',
	lease_expires_at = now() + interval '1 hour' WHERE l1_batch_number = 2"
wg_psql "UPDATE basic_circuit_witness_jobs SET status = 'in_progress', attempts = 1, picked_by = 'ghost',
	lease_expires_at = now() + interval '1 hour' WHERE l1_batch_number = 3"
restart=$SECONDS
wg_start_daemon a --lease $LEASE --housekeeping-ms 200 --retry-base 0
wg_wait_until 10 basic_done 2
assert_eq 1 "$((SECONDS - restart <= 10))" "recovered within seconds, not after the hour-long lease"
assert_eq "successful|2|a" "$(wg_psql "SELECT status, attempts, picked_by FROM basic_circuit_witness_jobs
	WHERE l1_batch_number = 2")" "the job held by this instance ran again"
assert_eq 2 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 2")" "batch 2 circuits recreated"
assert_contains "$(cat "$WG_TMP/a.log")" "requeued 1 witness jobs held by a previous run of a" "daemon log"
sleep 1
assert_eq "in_progress|1|ghost" "$(wg_psql "SELECT status, attempts, picked_by FROM basic_circuit_witness_jobs
	WHERE l1_batch_number = 3")" "a job held by another instance is left to its lease"
assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 3")" "batch 3 untouched"
prove_all_until 2 proven 60
