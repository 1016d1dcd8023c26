#!/bin/bash
# t_repairs.sh: operator repairs and retention (docs/state-machine.md and docs/api.md, issue 4 point 10).
# - POST /batches/{n}/requeue: a batch whose input is bad (wrong new root) is requeued and fails
#   again; a batch failed by a prover at max attempts is requeued and then proven.
# - POST /jobs/{id}/requeue: 409 on a job that is not failed, 404 on an unknown one, admin only.
# - wgctl archive --older-than: round 0-2 prover jobs of proven batches (only those, only old
#   enough) move to prover_jobs_archive; the batch stays proven with its proof.
# - DELETE /batches/{n}: the rows of every table and the blobs are gone (file store and
#   --store postgres), other batches untouched; then 404, and the batch can be uploaded again.
# - wgctl requeue --job/--batch and wgctl status: output and exit codes.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
MAX=2
# Failed jobs are claimable again at once here (no retry backoff; t_retries.sh tests it).
wg_start_daemon a --max-attempts $MAX --retry-base 0
pl_use a
STORE="$WG_TMP/store-a"

admin() { # admin METHOD PATH
	wg_http "$1" "$PL_URL$2" -H "Authorization: Bearer $PL_ADMIN"
}
basic_row() {
	wg_psql "SELECT status, attempts FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1"
}
basic_is() { # basic_is BATCH STATUS|ATTEMPTS
	[[ $(basic_row "$1") == "$2" ]]
}
# rows BATCH: the rows of BATCH in each job table, "basic leaf node sched prover archive".
rows() {
	wg_psql "SELECT (SELECT count(*) FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1) || ' ' ||
		(SELECT count(*) FROM leaf_aggregation_jobs WHERE l1_batch_number = $1) || ' ' ||
		(SELECT count(*) FROM node_aggregation_jobs WHERE l1_batch_number = $1) || ' ' ||
		(SELECT count(*) FROM scheduler_witness_jobs WHERE l1_batch_number = $1) || ' ' ||
		(SELECT count(*) FROM prover_jobs WHERE l1_batch_number = $1) || ' ' ||
		(SELECT count(*) FROM prover_jobs_archive WHERE l1_batch_number = $1)"
}
# wgctl_run ARGS...: run wgctl; sets WGCTL_RC, WGCTL_OUT, WGCTL_ERR.
wgctl_run() {
	WGCTL_RC=0
	wg_wgctl "$@" >"$WG_TMP/wgctl.stdout" 2>"$WG_TMP/wgctl.stderr" || WGCTL_RC=$?
	WGCTL_OUT=$(cat "$WG_TMP/wgctl.stdout")
	WGCTL_ERR=$(cat "$WG_TMP/wgctl.stderr")
}
# fail_until_failed ID: claim job ID and report it failed MAX times (it ends `failed`).
fail_until_failed() {
	local want=$1 i
	for ((i = 1; i <= MAX; i++)); do
		pl_claim
		assert_status 200
		assert_eq "$want" "$PL_JOB_ID" "claim of the job to fail"
		pl_fail "$PL_JOB_ID" "$PL_JOB_LEASE" "prover crashed ($i)"
		assert_status 200
	done
	assert_json_eq .status failed
}

# ---------------------------------------------------------------- a bad input stays bad
batch=10
pl_gen_input $batch --logs 5 --workload main_vm=5390 --seed $batch >"$WG_TMP/good$batch.json"
bad_root=0x$(printf '%064d' 0 | tr 0 a)
jq --arg r "$bad_root" '.new_root_hash = $r' "$WG_TMP/good$batch.json" >"$WG_TMP/bad$batch.json"
pl_upload $batch "$WG_TMP/bad$batch.json"
assert_status 201
wg_wait_until 30 basic_is $batch "failed|1"
assert_eq failed "$(batch_status $batch)" "a batch whose roots do not match"
error10=$(wg_psql "SELECT error FROM basic_circuit_witness_jobs WHERE l1_batch_number = $batch")
assert_contains "$error10" "${bad_root#0x}" "the replay error names the expected root"

admin POST /batches/$batch/requeue
assert_status 200
assert_json_eq .l1_batch_number $batch
assert_json_eq .requeued 1
wg_wait_until 30 basic_is $batch "failed|2"
assert_eq "$error10" "$(wg_psql "SELECT error FROM basic_circuit_witness_jobs WHERE l1_batch_number = $batch")" \
	"run again, the bad input fails again with the same error"
assert_eq "1 0 0 0 0 0" "$(rows $batch)" "a failed basic round produced nothing"
# Requeue is for admins; an unknown batch is a 404.
wg_http POST "$PL_URL/batches/$batch/requeue" -H "Authorization: Bearer $PL_VIEWER"
assert_status 403
assert_error_code forbidden
wg_http POST "$PL_URL/batches/$batch/requeue" -H "Authorization: Bearer $PL_PROVER"
assert_status 403
admin POST /batches/999/requeue
assert_status 404
assert_error_code not_found

# ---------------------------------------------------------------- a recoverable failure
# Batch 11: one main_vm circuit and one storage_application circuit. A prover fails the first
# circuit at max attempts: the batch is failed, the batch requeue brings it back, and it is proven.
batch=11
pl_gen_input $batch --logs 5 --workload main_vm=5390 --seed $batch >"$WG_TMP/in$batch.json"
pl_upload $batch "$WG_TMP/in$batch.json"
assert_status 201
wg_wait_until 30 basic_is $batch "successful|1"
first=$(wg_psql "SELECT min(id) FROM prover_jobs WHERE l1_batch_number = $batch")
fail_until_failed "$first"
assert_eq "failed|$MAX|prover crashed ($MAX); reached max_attempts ($MAX)" \
	"$(wg_psql "SELECT status, attempts, error FROM prover_jobs WHERE id = $first")" "prover job at max attempts"
assert_eq failed "$(batch_status $batch)" "a prover job at max attempts fails the batch"
admin POST "/jobs/$((first + 1))/requeue"
assert_status 409
assert_error_code conflict
assert_contains "$HTTP_BODY" queued "the conflict names the job's status"
admin POST /jobs/987654/requeue
assert_status 404
assert_error_code not_found
wg_http POST "$PL_URL/jobs/$first/requeue" -H "Authorization: Bearer $PL_VIEWER"
assert_status 403
wg_http POST "$PL_URL/jobs/$first/requeue" -H "Authorization: Bearer $PL_PROVER"
assert_status 403
assert_eq failed "$(wg_psql "SELECT status FROM prover_jobs WHERE id = $first")" "refused requeues change nothing"
admin POST /batches/$batch/requeue
assert_status 200
assert_json_eq .requeued 1
assert_contains "$(wg_psql "SELECT status || ' ' || attempts || ' ' || error FROM prover_jobs WHERE id = $first")" \
	"queued $MAX requeued by an operator after: prover crashed ($MAX)" "requeued prover job"
assert_eq in_progress "$(batch_status $batch)" "requeued batch"
# The requeue grants MAX more claims: attempts keeps growing (it counts claims), and the job
# fails for good only after MAX more failures.
for ((i = 1; i < MAX; i++)); do
	pl_claim
	assert_eq "$first" "$PL_JOB_ID" "claim after the requeue"
	assert_json_eq .attempts $((MAX + i))
	pl_fail "$PL_JOB_ID" "$PL_JOB_LEASE" "after the requeue ($i)"
	assert_status 200
	assert_json_eq .status queued
	assert_json_eq '"\(.attempts) \(.max_attempts)"' "$((MAX + i)) $((2 * MAX))"
done
assert_eq "queued $((2 * MAX - 1))" "$(wg_psql "SELECT status || ' ' || attempts FROM prover_jobs WHERE id = $first")" \
	"a requeued job keeps its retries"
prove_all_until $batch proven 60
admin POST "/jobs/$first/requeue"
assert_status 409
assert_error_code conflict
assert_contains "$HTTP_BODY" successful "the conflict names the job's status"
pl_get /batches/$batch/proof
assert_status 200
cp "$HTTP_BODY_FILE" "$WG_TMP/proof$batch"

# ---------------------------------------------------------------- archive
# Batch 14 is in progress (its basic round done, nothing proved): never archived.
pl_gen_input 14 --logs 5 --workload main_vm=$((5390 * 2)) --seed 14 >"$WG_TMP/in14.json"
pl_upload 14 "$WG_TMP/in14.json"
assert_status 201
wg_wait_until 30 basic_is 14 "successful|1"
ids11=$(wg_psql "SELECT id FROM prover_jobs WHERE l1_batch_number = 11 AND aggregation_round < 3 ORDER BY id" | tr '\n' ' ')
n11=$(wc -w <<<"$ids11")
assert_eq 6 "$n11" "round 0-2 prover jobs of batch 11 (2 basic, 2 leaf, 2 node)"
before14=$(rows 14)
wgctl_run archive --older-than 3600
assert_eq "0|archived 0 prover jobs" "$WGCTL_RC|$WGCTL_OUT" "archive of batches proven over an hour ago"
assert_eq "1 2 2 1 7 0" "$(rows 11)" "batch 11 not archived: proven just now"
wgctl_run archive --older-than 0
assert_eq "0|archived $n11 prover jobs" "$WGCTL_RC|$WGCTL_OUT" "wgctl archive --older-than 0"
assert_eq "1 2 2 1 1 $n11" "$(rows 11)" "batch 11 archived: only the scheduler job left in prover_jobs"
assert_eq "$ids11" "$(wg_psql "SELECT id FROM prover_jobs_archive WHERE l1_batch_number = 11 ORDER BY id" | tr '\n' ' ')" \
	"the archived jobs are the round 0-2 jobs"
assert_eq "successful|$n11" "$(wg_psql "SELECT string_agg(DISTINCT status, ','), count(*) FROM prover_jobs_archive
	WHERE proof_hash IS NOT NULL AND archived_at IS NOT NULL")" "archived rows keep their proofs"
assert_eq "$before14" "$(rows 14)" "a batch in progress is not archived"
pl_get /batches/11
assert_status 200
assert_json_eq .status proven
pl_get /batches/11/proof
assert_status 200
assert_eq "$(od -An -tx1 "$WG_TMP/proof11")" "$(od -An -tx1 "$HTTP_BODY_FILE")" "the final proof after archiving"
wgctl_run archive --older-than 0
assert_eq "0|archived 0 prover jobs" "$WGCTL_RC|$WGCTL_OUT" "a second archive moves nothing"
wgctl_run archive
assert_eq 2 "$WGCTL_RC" "wgctl archive without --older-than"
wgctl_run archive --older-than -5
assert_eq 2 "$WGCTL_RC" "wgctl archive --older-than -5"

# ---------------------------------------------------------------- wgctl requeue and status
# A prover job of batch 14 failed at max attempts, then requeued with wgctl.
job14=$(wg_psql "SELECT min(id) FROM prover_jobs WHERE l1_batch_number = 14")
fail_until_failed "$job14"
wgctl_run status
assert_eq 0 "$WGCTL_RC" "wgctl status"
assert_eq "BATCH STATUS VERSION CREATED" "$(head -n 1 <<<"$WGCTL_OUT" | awk '{ print $1, $2, $3, $4 }')" "status header"
assert_eq "10 failed 24|11 proven 24|14 failed 24" \
	"$(tail -n +2 <<<"$WGCTL_OUT" | awk '{ print $1, $2, $3 }' | paste -sd'|')" "wgctl status lines"
wgctl_run status 11 --json
assert_eq 0 "$WGCTL_RC" "wgctl status 11"
assert_eq "11 proven 4" "$(jq -r '"\(.l1_batch_number) \(.status) \(.rounds | length)"' <<<"$WGCTL_OUT")" \
	"wgctl status 11 prints the batch as JSON"
wgctl_run status 999
assert_eq 1 "$WGCTL_RC" "wgctl status of an unknown batch"
assert_contains "$WGCTL_ERR" "no batch 999"
wgctl_run status eleven
assert_eq 2 "$WGCTL_RC" "wgctl status with a bad batch number"

wgctl_run requeue --job "$((job14 + 1))"
assert_eq 1 "$WGCTL_RC" "wgctl requeue --job of a queued job"
assert_contains "$WGCTL_ERR" "is queued; only failed jobs can be requeued"
wgctl_run requeue --job 987654
assert_eq 1 "$WGCTL_RC" "wgctl requeue --job of an unknown job"
assert_contains "$WGCTL_ERR" "no such job 987654"
wgctl_run requeue --job "$job14"
assert_eq "0|requeued job $job14" "$WGCTL_RC|$WGCTL_OUT" "wgctl requeue --job"
assert_eq queued "$(wg_psql "SELECT status FROM prover_jobs WHERE id = $job14")" "requeued with wgctl"
assert_eq in_progress "$(batch_status 14)" "batch 14 after wgctl requeue --job"
wgctl_run requeue --batch 10
assert_eq "0|requeued 1 failed jobs of batch 10" "$WGCTL_RC|$WGCTL_OUT" "wgctl requeue --batch"
wg_wait_until 30 basic_is 10 "failed|3"
wgctl_run requeue --batch 11
assert_eq "0|requeued 0 failed jobs of batch 11" "$WGCTL_RC|$WGCTL_OUT" "wgctl requeue --batch without failed jobs"
wgctl_run requeue --batch 999
assert_eq 1 "$WGCTL_RC" "wgctl requeue --batch of an unknown batch"
assert_contains "$WGCTL_ERR" "no such batch 999"
for args in "" "--batch" "--job x" "--batch -1" "--bogus 1"; do
	# shellcheck disable=SC2086 # split on purpose
	wgctl_run requeue $args
	assert_eq 2 "$WGCTL_RC" "wgctl requeue $args"
done
prove_all_until 14 proven 60

# ---------------------------------------------------------------- delete (file store)
assert_eq 1 "$([[ -d $STORE/batches/11 && -d $STORE/batches/14 ]] && echo 1)" "the store holds batches 11 and 14"
before14=$(rows 14)
admin DELETE /batches/11
assert_status 200
assert_json_eq .l1_batch_number 11
assert_json_eq .deleted true
assert_eq "0 0 0 0 0 0" "$(rows 11)" "batch 11 rows after DELETE"
assert_eq 0 "$([[ -e $STORE/batches/11 ]] && echo 1 || echo 0)" "batch 11's blobs after DELETE"
assert_eq "$before14" "$(rows 14)" "DELETE of batch 11 leaves batch 14's rows"
assert_eq 1 "$([[ -d $STORE/batches/14 ]] && echo 1)" "DELETE of batch 11 leaves batch 14's blobs"
assert_eq proven "$(batch_status 14)" "batch 14 after deleting batch 11"
pl_get /batches/11
assert_status 404
assert_error_code not_found
pl_get /batches/11/proof
assert_status 404
admin DELETE /batches/11
assert_status 404
assert_error_code not_found
wg_http DELETE "$PL_URL/batches/14" -H "Authorization: Bearer $PL_VIEWER"
assert_status 403
wg_http DELETE "$PL_URL/batches/14" -H "Authorization: Bearer $PL_TREE"
assert_status 403
# The same input again is a new batch (201, not the idempotent 200), run from scratch.
pl_upload 11 "$WG_TMP/in11.json"
assert_status 201
wg_wait_until 30 basic_is 11 "successful|1"
prove_all_until 11 proven 60
assert_eq "1 2 2 1 7 0" "$(rows 11)" "batch 11 uploaded again"
# A failed batch can be deleted too.
admin DELETE /batches/10
assert_status 200
assert_eq "0 0 0 0 0 0" "$(rows 10)" "batch 10 rows after DELETE"
assert_eq 0 "$([[ -e $STORE/batches/10 ]] && echo 1 || echo 0)" "batch 10's blobs after DELETE"

# ---------------------------------------------------------------- delete (postgres store)
# One daemon at a time: another store's daemon would not find these inputs.
wg_stop_daemon a
wg_start_daemon p --store postgres
pl_use p
blobs() {
	wg_psql "SELECT count(*) FROM blobs WHERE key LIKE 'batches/$1/%'"
}
for b in 12 13; do
	pl_gen_input $b --logs 5 --workload main_vm=5390 --seed $b >"$WG_TMP/in$b.json"
	pl_upload $b "$WG_TMP/in$b.json"
	assert_status 201
done
prove_all_until 12 proven 60
prove_all_until 13 proven 60
n12=$(blobs 12)
n13=$(blobs 13)
# The input and a witness pack per layer: basic (1), leaf and node (2 types each), scheduler (1).
assert_eq 1 "$((n12 >= 7 && n13 == n12))" "blobs of batches 12 and 13 in the database ($n12, $n13)"
assert_eq 0 "$(find "$WG_TMP/store-p" -type f 2>/dev/null | wc -l)" "nothing in the file store with --store postgres"
# Every proven batch not archived yet: 11 (uploaded again), 12, 13 and 14.
n_archive=$(wg_psql "SELECT count(*) FROM prover_jobs WHERE aggregation_round < 3")
assert_eq 1 "$((n_archive >= 24))" "round 0-2 prover jobs of batches 11 to 14 ($n_archive)"
wgctl_run archive --older-than 0
assert_eq "0|archived $n_archive prover jobs" "$WGCTL_RC|$WGCTL_OUT" "archive of batches 11 to 14"
admin DELETE /batches/12
assert_status 200
assert_eq "0 0 0 0 0 0" "$(rows 12)" "batch 12 rows after DELETE (archive included)"
assert_eq 0 "$(blobs 12)" "batch 12's blobs after DELETE"
assert_eq "$n13" "$(blobs 13)" "batch 13's blobs after deleting batch 12"
assert_eq "1 2 2 1 1 6" "$(rows 13)" "batch 13's rows after deleting batch 12"
pl_get /batches/12
assert_status 404
pl_get /batches/13/proof
assert_status 200
pl_upload 12 "$WG_TMP/in12.json"
assert_status 201
prove_all_until 12 proven 60
assert_eq "$n12" "$(blobs 12)" "batch 12's blobs after its second run"
