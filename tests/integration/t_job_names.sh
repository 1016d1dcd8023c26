#!/bin/bash
# t_job_names.sh: a job is named by its kind (and, for a witness job, its round), and every error
# says what to fix (issue 9, items 2, 5 and 6).
# - GET /witness-jobs/{round}/{id} and POST .../requeue act on exactly that witness job; the
#   batch's error list and job lists say kind, round and the job's own path; GET /jobs/{id}
#   carries the prover job's error; wgctl requeue --witness-job ROUND/ID.
# - Messages: an unknown batch's proof, a batch not proven yet, a claim for a protocol version
#   the daemon does not serve, a changed re-upload, an unknown workload key, a hex-encoded proof.
# - A failed basic round counts as result="failed"; wgctl gen-input --help; README lists every
#   wgctl command.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
wg_start_daemon a --max-attempts 2
pl_use a

admin() { # admin METHOD PATH
	wg_http "$1" "$PL_URL$2" -H "Authorization: Bearer $PL_ADMIN"
}
wgctl_run() { # sets WGCTL_RC, WGCTL_OUT, WGCTL_ERR
	WGCTL_RC=0
	wg_wgctl "$@" >"$WG_TMP/wgctl.stdout" 2>"$WG_TMP/wgctl.stderr" || WGCTL_RC=$?
	WGCTL_OUT=$(cat "$WG_TMP/wgctl.stdout")
	WGCTL_ERR=$(cat "$WG_TMP/wgctl.stderr")
}
basic_is() { # basic_is BATCH "STATUS|ATTEMPTS"
	[[ $(wg_psql "SELECT status || '|' || attempts FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1") == "$2" ]]
}
metric() { # metric LINE_PREFIX: the value of one /metrics sample
	curl -sS --max-time 10 "$PL_URL/metrics" | awk -v p="$1" 'index($0, p " ") == 1 { print $2 }'
}

# ---------------------------------------------------------------- a failed witness job, by name
# Batch 1 has a wrong new root: its basic job (witness job 1 of round 0) fails in the round.
pl_gen_input 1 --logs 3 --workload main_vm=5390 --seed 1 >"$WG_TMP/good1.json"
jq '.new_root_hash = "0x'"$(printf 'ab%.0s' {1..32})"'"' "$WG_TMP/good1.json" >"$WG_TMP/bad1.json"
pl_upload 1 "$WG_TMP/bad1.json"
assert_status 201
wg_wait_until 30 basic_is 1 "failed|1"
# Batch 2 is good: its prover job ids start at 1 too, the id space the witness job is not in.
pl_gen_input 2 --logs 3 --workload main_vm=5390 --seed 2 >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
wg_wait_until 30 basic_is 2 "successful|1"
wid=$(wg_psql "SELECT id FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1")

pl_get /batches/1
assert_status 200
assert_json_eq '.errors | length' 1
assert_json_eq '.errors[0] | "\(.kind) \(.aggregation_round) \(.id) \(.href)"' "witness 0 $wid /witness-jobs/0/$wid"
pl_get "/witness-jobs/0/$wid"
assert_status 200
assert_json_eq '"\(.kind) \(.aggregation_round) \(.id) \(.l1_batch_number) \(.status) \(.attempts)"' \
	"witness 0 $wid 1 failed 1"
assert_contains "$(wg_json .error)" "abababab" "the witness job's error names the expected root"
# The same id in round 1 is another job: batch 2's leaf job.
pl_get "/witness-jobs/1/$wid"
assert_status 200
assert_json_eq '"\(.kind) \(.aggregation_round) \(.id) \(.l1_batch_number) \(.status) \(.proofs_awaited)"' \
	"witness 1 $wid 2 waiting_for_proofs 1"
pl_get /witness-jobs/1/987654
assert_status 404
assert_contains "$(wg_json .error.message)" "no witness job 987654 in round 1"
pl_get "/witness-jobs/4/$wid"
assert_status 404
assert_contains "$(wg_json .error.message)" "rounds are 0 (basic)"
pl_get /batches/2/jobs
assert_status 200
assert_json_eq '[.witness_jobs[].kind] | unique | join(",")' witness
assert_json_eq '[.prover_jobs[].kind] | unique | join(",")' prover

# Requeue exactly that witness job: admin only; the prover job of the same id is untouched.
wg_http POST "$PL_URL/witness-jobs/0/$wid/requeue" -H "Authorization: Bearer $PL_VIEWER"
assert_status 403
prover_before=$(wg_psql "SELECT status || '|' || attempts FROM prover_jobs WHERE id = $wid")
admin POST "/witness-jobs/0/$wid/requeue"
assert_status 200
assert_json_eq '"\(.kind) \(.aggregation_round) \(.id) \(.status)"' "witness 0 $wid queued"
wg_wait_until 30 basic_is 1 "failed|2"
assert_eq "$prover_before" "$(wg_psql "SELECT status || '|' || attempts FROM prover_jobs WHERE id = $wid")" \
	"the prover job with the same id is untouched"
sid=$(wg_psql "SELECT id FROM basic_circuit_witness_jobs WHERE l1_batch_number = 2")
admin POST "/witness-jobs/0/$sid/requeue"
assert_status 409
assert_contains "$(wg_json .error.message)" "witness job $sid of round 0 is successful; only failed jobs can be requeued"
admin POST /witness-jobs/3/987654/requeue
assert_status 404
wgctl_run requeue --witness-job "0/$wid"
assert_eq "0|requeued witness job $wid of round 0" "$WGCTL_RC|$WGCTL_OUT" "wgctl requeue --witness-job"
wg_wait_until 30 basic_is 1 "failed|3"
wgctl_run requeue --witness-job "0/$sid"
assert_eq 1 "$WGCTL_RC" "wgctl requeue of a successful witness job"
assert_contains "$WGCTL_ERR" "is successful; only failed jobs can be requeued"
wgctl_run requeue --witness-job 2/987654
assert_eq 1 "$WGCTL_RC" "wgctl requeue of an unknown witness job"
assert_contains "$WGCTL_ERR" "no such witness job 987654 of round 2"
wgctl_run requeue --witness-job 4/1
assert_eq 2 "$WGCTL_RC" "wgctl requeue --witness-job with round 4"

# Three failed basic runs, no committed one (batch 2's run committed).
assert_eq 3 "$(metric 'wg_round_runs_total{round="basic",result="failed"}')" "failed basic runs"
assert_eq 1 "$(metric 'wg_round_runs_total{round="basic",result="committed"}')" "committed basic runs"
assert_contains "$(curl -sS "$PL_URL/metrics" | grep '^# HELP wg_jobs ')" "successful jobs are not counted, failed ones are"

# ---------------------------------------------------------------- a prover job's error
pl_claim
assert_status 200
assert_json_eq .kind prover
pl_fail "$PL_JOB_ID" "$PL_JOB_LEASE" "gpu on fire"
assert_status 200
pl_get "/jobs/$PL_JOB_ID"
assert_status 200
assert_json_eq '"\(.kind) \(.id) \(.error)"' "prover $PL_JOB_ID gpu on fire"
pl_get /jobs/987654
assert_status 404

# ---------------------------------------------------------------- messages that say what to fix
# A proof sent hex-encoded gets a hint; other bad bytes do not.
wg_psql "UPDATE prover_jobs SET status = 'queued' WHERE l1_batch_number = 2" >/dev/null
pl_claim
assert_status 200
pl_witness "$PL_JOB_ID" "$WG_TMP/w"
pl_ref_prove "$WG_TMP/w" "$WG_TMP/proof.bin"
od -An -tx1 -v "$WG_TMP/proof.bin" | tr -d ' \n' >"$WG_TMP/proof.hex"
pl_complete "$PL_JOB_ID" "$PL_JOB_LEASE" "$WG_TMP/proof.hex"
assert_status 400
assert_error_code invalid_input
assert_contains "$(wg_json .error.message)" "looks hex-encoded: send the raw proof bytes (application/octet-stream"
printf 'WGREF1 not a proof' >"$WG_TMP/junk"
pl_complete "$PL_JOB_ID" "$PL_JOB_LEASE" "$WG_TMP/junk"
assert_status 400
assert_eq "the proof does not verify against the witness of job $PL_JOB_ID" "$(wg_json .error.message)" "no hint for raw bytes"
pl_complete "$PL_JOB_ID" "$PL_JOB_LEASE" "$WG_TMP/proof.bin"
assert_status 200

# A batch that does not exist is not "not proven yet".
pl_get /batches/999/proof
assert_status 404
assert_eq "batch 999 does not exist" "$(wg_json .error.message)" "proof of an unknown batch"
pl_get /batches/2/proof
assert_status 404
assert_eq "batch 2 is in_progress: it has no final proof until it is proven" "$(wg_json .error.message)" \
	"proof of a batch not proven yet"

# A protocol version this daemon does not serve.
pl_claim '{"prover_id":"p","protocol_version":23}'
assert_status 400
assert_error_code invalid_input
assert_eq '$.protocol_version: this daemon serves protocol version 24, not 23; no job of version 23 will ever be queued here' \
	"$(wg_json .error.message)" "claim for an unserved version"

# A corrected re-upload: the admin must delete the batch first.
jq '.storage_logs |= .[:2]' "$WG_TMP/in2.json" >"$WG_TMP/in2b.json"
pl_upload 2 "$WG_TMP/in2b.json"
assert_status 409
assert_error_code conflict
assert_contains "$(wg_json .error.message)" "an admin must first delete the batch (DELETE /batches/2)"

# An unknown workload key lists the valid ones.
jq '.l1_batch_number = 3 | .circuit_workload = {"main_vmm": 5}' "$WG_TMP/in2.json" >"$WG_TMP/in3.json"
pl_upload 3 "$WG_TMP/in3.json"
assert_status 400
assert_error_code invalid_input
msg=$(wg_json .error.message)
assert_contains "$msg" '$.circuit_workload.main_vmm: unknown circuit_workload key "main_vmm"; valid keys for protocol version 24: main_vm, decommitments_sorter,'
assert_contains "$msg" "secp256r1_verify (storage_application work is counted from storage_logs)"
assert_eq "" "$(wg_psql "SELECT id FROM basic_circuit_witness_jobs WHERE l1_batch_number = 3")" "nothing stored"

# ---------------------------------------------------------------- wgctl and README
wgctl_run gen-input --help
assert_eq 0 "$WGCTL_RC" "wgctl gen-input --help"
assert_contains "$WGCTL_OUT" "--initial K      keys already in the tree before the batch"
assert_contains "$WGCTL_OUT" "--seed S         seed of the pseudo-random keys"
wgctl_run gen-input --batch 1 --nope 3
assert_eq 2 "$WGCTL_RC" "wgctl gen-input with a bad option"
assert_contains "$WGCTL_ERR" 'bad or incomplete option "--nope"'
assert_contains "$WGCTL_ERR" "usage: wgctl gen-input"
# Every command wgctl's usage lists is in README's list of its commands.
readme_wgctl=$(grep -A3 '^- `wgctl ' "$WG_SRCDIR/README.md")
for cmd in $("$WG_BUILDDIR/wgctl" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | sort -u); do
	assert_contains "$readme_wgctl" "\`$cmd" "README lists wgctl $cmd"
done
