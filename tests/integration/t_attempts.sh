#!/bin/bash
# t_attempts.sh: attempt records (docs/state-machine.md, attempts; GET /jobs/{id}/attempts).
# 1. Job J is claimed by alpha (token one) and failed: the fail reply says attempts, max_attempts
#    and retry_at; claimed by beta (token two), its witness downloaded, and left to expire; claimed
#    by gamma and never taken up (the claim grace runs out); claimed by delta and completed. Its
#    attempts list the four claims oldest first, each with its prover id, token name, outcome and
#    error, RFC 3339 UTC times, ended_at null only while in progress.
# 2. Job K is failed --max-attempts times: the last fail reply is failed with retry_at null, its
#    error says it reached max_attempts, and each attempt keeps the prover's own error.
# 3. The records survive the archive of the batch's jobs (GET /jobs/{id} still answers too, with
#    "archived": true), and go with a deleted batch.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
wg_start_daemon a --lease 3 --claim-grace 2 --max-attempts 4 --retry-base 1 --retry-max 1 --housekeeping-ms 200 \
	--archive-after 2
pl_use a
ONE=$(wg_token prover token-one)
TWO=$(wg_token prover token-two)
TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'

# Batch 1: one main_vm circuit (J, circuit 1) and one keccak256 circuit (K, circuit 5), so that a
# claim can name the job it wants by its circuit id.
pl_gen_input 1 --logs 0 --workload main_vm=5390,keccak256=293 >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
basic_done() { [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1") == successful ]]; }
wg_wait_until 60 basic_done
J=$(wg_psql "SELECT id FROM prover_jobs WHERE l1_batch_number = 1 AND aggregation_round = 0 AND circuit_id = 1")
K=$(wg_psql "SELECT id FROM prover_jobs WHERE l1_batch_number = 1 AND aggregation_round = 0 AND circuit_id = 5")
[[ -n $J && -n $K ]] || fail "batch 1 has no main_vm and keccak256 circuits"

# claim_as PROVER_ID TOKEN CIRCUIT: claim the basic job of CIRCUIT; returns 1 on 204 (in backoff),
# else sets ID and LEASE.
claim_as() {
	wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
		--data-binary "{\"prover_id\":\"$1\",\"protocol_version\":24,\"rounds\":[0],\"circuit_ids\":[$3]}"
	[[ $HTTP_STATUS == 204 ]] && return 1
	assert_status 200
	ID=$(wg_json .id)
	LEASE=$(wg_json .lease)
}
# fail_as TOKEN ID LEASE MESSAGE
fail_as() {
	wg_http POST "$PL_URL/proofs/$2/fail" -H "Authorization: Bearer $1" -H "X-WG-Lease: $3" \
		-H 'Content-Type: application/json' --data-binary "$(jq -cn --arg e "$4" '{error: $e}')"
	assert_status 200
}
# witness_as TOKEN ID LEASE OUT
witness_as() {
	wg_http GET "$PL_URL/jobs/$2/witness" -H "Authorization: Bearer $1" -H "X-WG-Lease: $3"
	assert_status 200
	cp "$HTTP_BODY_FILE" "$4"
}
job_is() { [[ $(wg_psql "SELECT status FROM prover_jobs WHERE id = $1") == "$2" ]]; }
attempts_of() { # attempts_of ID: GET /jobs/ID/attempts as a viewer (asserts 200)
	pl_get "/jobs/$1/attempts"
	assert_status 200
}
# records: attempt|prover_id|token_name|outcome|error of the last attempts reply, one per line.
records() { wg_json '.attempts[] | [.attempt, .prover_id, .token_name, .outcome, (.error // "")] | map(tostring) | join("|")'; }

# A job never claimed has no attempts; an unknown one is 404.
attempts_of "$J"
assert_json_eq '.attempts | length' 0
pl_get "/jobs/999999/attempts"
assert_status 404
assert_error_code not_found

# ---------------------------------------------------------------- 1. four claims of J
claim_as alpha "$ONE" 1
assert_eq "$J" "$ID" "alpha claims J"
attempts_of "$J"
assert_eq "1|alpha|token-one|in_progress|" "$(records)" "the claim is recorded at once"
assert_json_eq '.attempts[0].ended_at' null
[[ $(wg_json '.attempts[0].claimed_at') =~ $TS_RE ]] || fail "claimed_at is not RFC 3339 UTC: $HTTP_BODY"

fail_as "$ONE" "$J" "$LEASE" "out of memory"
assert_json_eq .status queued
assert_json_eq .attempts 1
assert_json_eq .max_attempts 4
retry_at=$(wg_json .retry_at)
[[ $retry_at =~ $TS_RE ]] || fail "the fail reply's retry_at is not RFC 3339 UTC: $HTTP_BODY"
assert_eq t "$(wg_psql "SELECT abs(extract(epoch FROM '$retry_at'::timestamptz - retry_at)) < 0.001 FROM prover_jobs WHERE id = $J")" \
	"the reply's retry_at is the job's"

wg_wait_until 10 claim_as beta "$TWO" 1
assert_eq "$J" "$ID" "beta claims J after its backoff"
witness_as "$TWO" "$J" "$LEASE" "$WG_TMP/witness-beta"
wg_wait_until 15 job_is "$J" queued

# Gamma claims and never downloads: the claim grace runs out and J is claimable at once.
wg_wait_until 10 claim_as gamma "$ONE" 1
assert_eq "$J" "$ID" "gamma claims J"
wg_wait_until 15 job_is "$J" queued

claim_as delta "$TWO" 1
assert_eq "$J" "$ID" "delta claims J at once (an untaken claim has no backoff)"
witness_as "$TWO" "$J" "$LEASE" "$WG_TMP/witness-delta"
pl_ref_prove "$WG_TMP/witness-delta" "$WG_TMP/proof-delta"
attempts_of "$J"
assert_json_eq '[.attempts[] | select(.ended_at == null) | .attempt] | tostring' '[4]'
wg_http POST "$PL_URL/proofs/$J/complete" -H "Authorization: Bearer $TWO" -H "X-WG-Lease: $LEASE" \
	-H 'Content-Type: application/octet-stream' --data-binary "@$WG_TMP/proof-delta"
assert_status 200

attempts_of "$J"
assert_eq "1|alpha|token-one|failed|out of memory
2|beta|token-two|expired|lease expired while held by beta
3|gamma|token-one|expired|claim not taken up within the claim grace by gamma
4|delta|token-two|successful|" "$(records)" "J's four attempts, oldest first"
for field in claimed_at ended_at; do
	for t in $(wg_json ".attempts[].$field"); do
		[[ $t =~ $TS_RE ]] || fail "$field '$t' is not RFC 3339 UTC"
	done
done
assert_json_eq '[.attempts[] | .ended_at >= .claimed_at] | all' true
assert_json_eq '[.attempts[].claimed_at] == ([.attempts[].claimed_at] | sort)' true
cp "$HTTP_BODY_FILE" "$WG_TMP/attempts-J.json"
pl_get "/jobs/$J"
assert_json_eq '"\(.status) \(.attempts) \(.archived)"' "successful 4 false"
# Attempts are read by viewers and admins, not by provers.
wg_http GET "$PL_URL/jobs/$J/attempts" -H "Authorization: Bearer $ONE"
assert_status 403
# wgctl attempts: the same document with --json, one table row per attempt without.
assert_eq "$(jq -cS . "$WG_TMP/attempts-J.json")" "$(wg_wgctl --json attempts "$J" | jq -cS .)" "wgctl --json attempts J"
table=$(wg_wgctl attempts "$J")
assert_eq 5 "$(wc -l <<<"$table")" "wgctl attempts J: a header and J's 4 attempts"
assert_contains "$(sed -n 2p <<<"$table")" "$(jq -r '.attempts[0].prover_id' "$WG_TMP/attempts-J.json")" "the first attempt's prover"
rc=0
wg_wgctl attempts 999999 >/dev/null 2>"$WG_TMP/wgctl.err" || rc=$?
assert_eq 1 "$rc" "wgctl attempts of a job that does not exist"
assert_contains "$(cat "$WG_TMP/wgctl.err")" "no prover job 999999" "its message"
rc=0
wg_wgctl attempts x >/dev/null 2>&1 || rc=$?
assert_eq 2 "$rc" "wgctl attempts with a job that is not a number"

# ---------------------------------------------------------------- 2. K fails for good
for n in 1 2 3 4; do
	wg_wait_until 10 claim_as "kappa-$n" "$ONE" 5
	assert_eq "$K" "$ID" "claim $n of K"
	fail_as "$ONE" "$K" "$LEASE" "boom $n"
	assert_json_eq .attempts "$n"
	assert_json_eq .max_attempts 4
done
assert_json_eq .status failed
assert_json_eq .retry_at null
pl_get "/jobs/$K"
assert_json_eq .status failed
assert_json_eq .error "boom 4; reached max_attempts (4)"
attempts_of "$K"
assert_eq "1|kappa-1|token-one|failed|boom 1
2|kappa-2|token-one|failed|boom 2
3|kappa-3|token-one|failed|boom 3
4|kappa-4|token-one|failed|boom 4" "$(records)" "K's attempts keep each prover's error"

# An operator requeue: K is claimable at once and its fifth claim completes.
wg_http POST "$PL_URL/jobs/$K/requeue" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
claim_as kappa-5 "$TWO" 5
assert_eq "$K" "$ID" "K claimed after its requeue"
witness_as "$TWO" "$K" "$LEASE" "$WG_TMP/witness-k"
pl_ref_prove "$WG_TMP/witness-k" "$WG_TMP/proof-k"
wg_http POST "$PL_URL/proofs/$K/complete" -H "Authorization: Bearer $TWO" -H "X-WG-Lease: $LEASE" \
	-H 'Content-Type: application/octet-stream' --data-binary "@$WG_TMP/proof-k"
assert_status 200
attempts_of "$K"
assert_json_eq '[.attempts[].outcome] | join(",")' "failed,failed,failed,failed,successful"
assert_json_eq '.attempts[4].token_name' token-two

# ---------------------------------------------------------------- 3. archive and delete
prove_all_until 1 proven 60
archived() { [[ $(wg_psql "SELECT count(*) FROM prover_jobs_archive WHERE id IN ($J, $K)") == 2 ]]; }
wg_wait_until 30 archived
assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE id IN ($J, $K)")" "J and K left prover_jobs"
attempts_of "$J"
assert_eq "$(jq -cS . "$WG_TMP/attempts-J.json")" "$(jq -cS . "$HTTP_BODY_FILE")" "J's attempts after the archive"
attempts_of "$K"
assert_json_eq '.attempts | length' 5
# The job itself still answers too, from the archive.
pl_get "/jobs/$J"
assert_status 200
assert_json_eq '"\(.id) \(.status) \(.attempts) \(.archived)"' "$J successful 4 true"

wg_http DELETE "$PL_URL/batches/1" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
pl_get "/jobs/$J/attempts"
assert_status 404
pl_get "/jobs/$J"
assert_status 404
assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_job_attempts WHERE l1_batch_number = 1")" \
	"a deleted batch leaves no attempt records"
