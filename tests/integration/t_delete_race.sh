#!/bin/bash
# t_delete_race.sh: DELETE /batches/{n} is exclusive with an upload of the same batch and with a
# round still running on it (issue 8 item 6).
# 1. The delete stalls after removing the rows and before its commit (the blobs go after it)
#    (WG_FAULT=delete_after_rows@2000); a re-upload of the same batch meanwhile must wait for the
#    whole delete, so its new input survives: the re-upload is 201 and its basic round succeeds.
# 2. A basic round stalls just before it writes its circuit blobs (round_after_renew@2500); the
#    batch is deleted meanwhile. The round then writes its blobs, finds its job gone at the commit
#    and removes them: nothing of the batch is left in the store.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup
sql_is() { [[ $(wg_psql "$2") == "$1" ]]; }
store_files() { # store_files BATCH: the blobs of BATCH in daemon a's store
	find "$WG_TMP/store-a/batches/$1" -type f 2>/dev/null | wc -l
}

# 1. Delete against a re-upload.
WG_FAULT=delete_after_rows@2000 wg_start_daemon a
pl_use a
pl_gen_input 1 --logs 40 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
wg_wait_until 20 sql_is successful "select status from basic_circuit_witness_jobs where l1_batch_number = 1"

curl -sS -o "$WG_TMP/delete.out" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $PL_ADMIN" \
	"$PL_URL/batches/1" >"$WG_TMP/delete.status" 2>&1 &
delete_pid=$!
wg_wait_until 10 grep -q "fault point delete_after_rows reached" "$WG_TMP/a.log"
started=$SECONDS
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
wait "$delete_pid"
assert_eq 200 "$(cat "$WG_TMP/delete.status")" "the DELETE"
assert_eq 1 "$((SECONDS - started >= 1))" "the re-upload waited for the delete"
wg_wait_until 20 sql_is "successful 1" \
	"select status || ' ' || attempts from basic_circuit_witness_jobs where l1_batch_number = 1"
assert_eq 1 "$(find "$WG_TMP/store-a/batches/1" -name 'input-*' -type f | wc -l)" "the re-uploaded input is stored"
assert_eq 5 "$(wg_psql "select count(*) from prover_jobs where l1_batch_number = 1")" "the re-uploaded batch's circuits"

# 2. Delete against a running round.
wg_stop_daemon a
WG_FAULT=round_after_renew@2500:1 wg_start_daemon a
pl_gen_input 2 --logs 40 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
wg_wait_until 10 grep -q "fault point round_after_renew reached" "$WG_TMP/a.log"
wg_http DELETE "$PL_URL/batches/2" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
wg_wait_until 10 grep -q "batch 2 was deleted while a round ran on it" "$WG_TMP/a.log"
assert_contains "$(cat "$WG_TMP/a.log")" "job start round=basic batch=2 " "the round noticed"
assert_eq 0 "$(store_files 2)" "blobs of the deleted batch left in the store"
assert_eq 0 "$(wg_psql "select count(*) from blob_sweeps")" "deletions left to the sweeper"
assert_eq 0 "$(wg_psql "select (select count(*) from basic_circuit_witness_jobs where l1_batch_number = 2)
	+ (select count(*) from prover_jobs where l1_batch_number = 2)")" "rows of the deleted batch"
# Batch 1 is untouched by all this.
# Its input and the basic round's witness pack.
assert_eq 2 "$(store_files 1)" "batch 1's input and witness pack"
