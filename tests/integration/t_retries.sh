#!/bin/bash
# t_retries.sh: retries of prover jobs (docs/state-machine.md).
# - A job given back with /fail, or whose lease expired, waits a backoff before it can be claimed
#   again: --retry-base doubled per attempt, at most --retry-max; the job JSON shows retry_at.
# - A job at --max-attempts fails; an operator requeue makes it claimable at once and grants it
#   --max-attempts more claims, with the backoff starting again from --retry-base, while attempts
#   (the fencing number) keeps growing.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
wg_start_daemon a --max-attempts 4 --retry-base 1 --retry-max 2 --lease 1 --housekeeping-ms 100
pl_use a

pl_gen_input 1 --logs 0 --workload main_vm=5390 >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
J=
job_exists() { J=$(wg_psql "SELECT id FROM prover_jobs WHERE l1_batch_number = 1"); [[ -n $J ]]; }
wg_wait_until 30 job_exists

# backoff_of: seconds from the job's last change to its retry_at.
backoff_of() { wg_psql "SELECT round(extract(epoch FROM retry_at - updated_at)::numeric, 1) FROM prover_jobs WHERE id = $J"; }
claimable() {
	pl_claim
	[[ $HTTP_STATUS == 200 ]]
}
# claim_after_backoff ATTEMPTS: the job is not claimable now, and is claimed (its ATTEMPTS-th
# claim) once its retry_at has passed.
claim_after_backoff() {
	local retry_at
	retry_at=$(wg_psql "SELECT retry_at FROM prover_jobs WHERE id = $J")
	[[ -n $retry_at ]] || fail "job $J has no retry_at"
	pl_claim
	assert_status 204
	wg_wait_until 10 claimable
	assert_eq "$J|$1" "$PL_JOB_ID|$(wg_json .attempts)" "claimed again after the backoff"
	assert_eq t "$(wg_psql "SELECT processing_started_at >= '$retry_at'::timestamptz FROM prover_jobs WHERE id = $J")" \
		"not claimed before its retry_at ($retry_at)"
}

pl_claim
assert_eq "$J|1" "$PL_JOB_ID|$(wg_json .attempts)" "first claim"
pl_fail "$J" "$PL_JOB_LEASE" "out of memory"
assert_status 200
assert_json_eq .status queued
assert_eq 1.0 "$(backoff_of)" "first retry waits --retry-base"
pl_get "/jobs/$J"
assert_json_eq '.retry_at != null' true
claim_after_backoff 2

pl_fail "$J" "$PL_JOB_LEASE" "out of memory again"
assert_eq 2.0 "$(backoff_of)" "second retry waits twice as long"
claim_after_backoff 3
# Taken up (its witness downloaded), so that its lease is the full --lease, whose expiry backs off;
# a claim never taken up comes back at once instead (t_claim_grace.sh).
pl_witness "$J" "$WG_TMP/witness"

# An expired lease backs off too: 1 s doubled twice is 4 s, capped by --retry-max at 2 s.
expired() { [[ $(wg_psql "SELECT status FROM prover_jobs WHERE id = $J") == queued ]]; }
wg_wait_until 10 expired
assert_eq 2.0 "$(backoff_of)" "an expired lease waits, at most --retry-max"
claim_after_backoff 4
pl_get "/jobs/$J"
assert_json_eq .retry_at null

# The fourth claim fails: it reached max_attempts.
pl_fail "$J" "$PL_JOB_LEASE" "out of memory for good"
assert_json_eq .status failed
assert_eq failed "$(batch_status 1)" "the batch is failed"

# An operator requeue: claimable at once, 4 more claims, attempts keeps counting.
wg_http POST "$PL_URL/jobs/$J/requeue" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
pl_claim
assert_eq "$J|5" "$PL_JOB_ID|$(wg_json .attempts)" "a requeued job is claimable at once, under a new lease"
pl_fail "$J" "$PL_JOB_LEASE" "after the requeue"
assert_json_eq .status queued
assert_eq 1.0 "$(backoff_of)" "the backoff starts again from --retry-base after a requeue"
claim_after_backoff 6
assert_eq "in_progress|6|4" "$(wg_psql "SELECT status, attempts, attempts_base FROM prover_jobs WHERE id = $J" |
	tr -d ' ')" "attempts grows, the budget counts from the requeue"
