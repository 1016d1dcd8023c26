#!/bin/bash
# t_delete_unlocked.sh: DELETE /batches/{n} makes no object store call while it holds the batch
# lock or the rows' locks (issue 14 item 6), and a crash between its commit and the blob removal
# leaves orphan blobs that the sweeper removes.
# 1. The blob removal of a DELETE stalls 4 s (WG_FAULT=delete_blobs@4000). Meanwhile the batch is
#    already gone (GET is 404), a completion of a job of the deleted batch is answered at once
#    (404, not held on the job's row lock), completions of another batch's jobs go through at once,
#    and a re-upload of the same batch number, which reuses the old blobs' keys, waits only for the
#    old blobs to go and then keeps its new input: the new incarnation is proven end to end.
# 2. The daemon exits between the commit and the blob removal (WG_FAULT=delete_blobs): the rows
#    are gone, the blobs are left; a daemon started again removes them within its housekeeping
#    period (--housekeeping-ms).
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup
sql_is() { [[ $(wg_psql "$2") == "$1" ]]; }
store_files() { # store_files BATCH: the blobs of BATCH in daemon a's store
	find "$WG_TMP/store-a/batches/$1" -type f 2>/dev/null | wc -l
}
now_ms() { date +%s%3N; }
# claim_all: claims every queued job (up to 256); prints "id batch lease" lines.
claim_all() {
	wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
		--data-binary "{\"prover_id\":\"t\",\"protocol_version\":$PL_PROTOCOL_VERSION,\"limit\":256}"
	assert_status 200
	jq -r '.jobs[] | "\(.id) \(.l1_batch_number) \(.lease)"' "$HTTP_BODY_FILE"
}
# proof_of ID LEASE OUT: downloads job ID's witness under LEASE and writes its reference proof.
proof_of() {
	wg_http GET "$PL_URL/jobs/$1/witness" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: $2"
	assert_status 200
	pl_ref_prove "$HTTP_BODY_FILE" "$3"
}
# timed_complete ID LEASE PROOF: completes job ID; sets ELAPSED_MS.
timed_complete() {
	local t0
	t0=$(now_ms)
	pl_complete "$1" "$2" "$3"
	ELAPSED_MS=$(($(now_ms) - t0))
}
# prove_rest: runs wg-prover until batch $1 and $2 are proven (at most 5 runs).
prove_rest() {
	local runs=0
	while [[ $(batch_status "$1") != proven || $(batch_status "$2") != proven ]]; do
		runs=$((runs + 1))
		((runs <= 5)) || fail "batches $1 and $2 are not both proven after 5 runs of wg-prover"
		"$WG_BUILDDIR/wg-prover" --url "$PL_URL" --token "$PL_PROVER" --until-idle --idle-seconds 3 \
			>"$WG_TMP/prover$runs.out" 2>"$WG_TMP/prover$runs.err" || {
			tail -20 "$WG_TMP/prover$runs.err" >&2
			fail "wg-prover exited with an error"
		}
	done
	wg__pass
}

# 1. A stalled blob removal holds no lock that others wait for.
WG_FAULT=delete_blobs@4000 wg_start_daemon a
pl_use a
pl_gen_input 2 --logs 40 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in2.json"
pl_gen_input 5 --logs 40 --workload main_vm=$((5390 * 3)) --seed 5 >"$WG_TMP/in5.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
wg_wait_until 20 sql_is successful "select status from basic_circuit_witness_jobs where l1_batch_number = 2"
# Every basic circuit of batch 2 is claimed now, so that the claim below takes one of batch 5.
mapfile -t held2 < <(claim_all)
assert_eq 5 "${#held2[@]}" "batch 2's basic circuits claimed"
for i in "${!held2[@]}"; do
	read -r id batch lease <<<"${held2[i]}"
	assert_eq 2 "$batch" "a claimed job of batch 2"
	proof_of "$id" "$lease" "$WG_TMP/proof2.$i"
done
pl_upload 5 "$WG_TMP/in5.json"
assert_status 201
wg_wait_until 20 sql_is successful "select status from basic_circuit_witness_jobs where l1_batch_number = 5"
wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
	--data-binary "{\"prover_id\":\"t\",\"protocol_version\":$PL_PROTOCOL_VERSION}"
assert_status 200
read -r id5 batch lease5 < <(jq -r '"\(.id) \(.l1_batch_number) \(.lease)"' "$HTTP_BODY_FILE")
assert_eq 5 "$batch" "the claimed job's batch"
proof_of "$id5" "$lease5" "$WG_TMP/proof5"

curl -sS -o "$WG_TMP/delete.out" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $PL_ADMIN" \
	"$PL_URL/batches/5" >"$WG_TMP/delete.status" 2>&1 &
delete_pid=$!
wg_wait_until 10 grep -q "fault point delete_blobs reached" "$WG_TMP/a.log"
stall_started=$(now_ms)

# The rows are gone for everyone already.
pl_get /batches/5
assert_status 404
# A prover still working on a job of the deleted batch hears so at once, not after the stall.
timed_complete "$id5" "$lease5" "$WG_TMP/proof5"
assert_status 404
assert_eq 1 "$((ELAPSED_MS < 2000))" "completion of the deleted batch's job answered in ${ELAPSED_MS} ms"
# Another batch's completions go through meanwhile.
for i in "${!held2[@]}"; do
	read -r id batch lease <<<"${held2[i]}"
	timed_complete "$id" "$lease" "$WG_TMP/proof2.$i"
	assert_status 200
	assert_eq 1 "$((ELAPSED_MS < 2000))" "completion of batch 2's job $id took ${ELAPSED_MS} ms"
done
# A re-upload of the same batch number: it waits for the old blobs (their keys are reused), then
# its input must survive.
pl_upload 5 "$WG_TMP/in5.json"
assert_status 201
wait "$delete_pid"
assert_eq 200 "$(cat "$WG_TMP/delete.status")" "the DELETE"
assert_eq true "$(jq -r .blobs_deleted "$WG_TMP/delete.out")" "the DELETE removed the blobs"
assert_eq 1 "$(($(now_ms) - stall_started < 4000 + 10000))" "the stall ended"
wg_wait_until 20 sql_is successful "select status from basic_circuit_witness_jobs where l1_batch_number = 5"
assert_eq 1 "$(find "$WG_TMP/store-a/batches/5" -name 'input-*' -type f | wc -l)" "the re-uploaded input is stored"
assert_eq 0 "$(wg_psql "select count(*) from blob_sweeps")" "deletions left to sweep"
prove_rest 2 5

# 2. A crash between the commit and the blob removal.
wg_stop_daemon a
WG_FAULT=delete_blobs wg_start_daemon a
files=$(store_files 5)
assert_eq 1 "$((files > 2))" "batch 5 has blobs ($files)"
wg_http DELETE "$PL_URL/batches/5" -H "Authorization: Bearer $PL_ADMIN"
wg_wait_until 10 grep -q "fault point delete_blobs reached: exiting" "$WG_TMP/a.log"
rc=0
wg_stop_daemon a || rc=$?
assert_eq 86 "$rc" "the daemon's exit at the fault point"
assert_eq 0 "$(wg_psql "select count(*) from basic_circuit_witness_jobs where l1_batch_number = 5")" \
	"rows of the deleted batch"
assert_eq "$files" "$(store_files 5)" "the blobs are left by the crash"
assert_eq 5 "$(wg_psql "select l1_batch_number from blob_sweeps")" "the deletion left to sweep"
wg_start_daemon a --housekeeping-ms 500
wg_wait_until 5 sql_is 0 "select count(*) from blob_sweeps"
assert_eq 0 "$(store_files 5)" "orphan blobs after the sweep"
assert_contains "$(cat "$WG_TMP/a.log")" "sweeper: removed the blobs of deleted batch 5" "the sweeper's log line"
# Batch 2 is untouched by all this.
pl_get /batches/2
assert_status 200
assert_json_eq .status proven
assert_eq 1 "$(($(store_files 2) > 2))" "batch 2's blobs are kept"
