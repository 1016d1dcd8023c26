#!/bin/bash
# t_store_full.sh: a full disk heals once room is made (docs/state-machine.md, witness job backoff).
# A file store on a 300 KiB tmpfs takes the 290 KiB input of a 610-circuit batch (600 main_vm, 10
# storage_application), then the basic round's witness pack fills it (No space left on device). With the default --max-attempts 10 and
# --retry-base 1 s:
# - the basic job goes back to queued with a backoff, not failed: after 12 s it has used fewer
#   than its 10 attempts (without a backoff it used them all within about 10 s and the batch
#   failed), and its error names the full disk, as GET /witness-jobs/0/{id} shows; /metrics
#   counts the failed writes in wg_store_errors_total;
# - /readyz answers 503 with the reason while the store cannot be written;
# - an upload refused meanwhile says why (the store's reason);
# - once the tmpfs is given room (remount, 64 MiB) /readyz is 200 again and, with no operator
#   action, the batch is proven by wg-prover, its basic job having used fewer than 10 attempts.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
# shellcheck source=tests/integration/crash_lib.sh
. "$WG_SRCDIR/tests/integration/crash_lib.sh"

wg_setup
(($(id -u) == 0)) || fail "this test mounts a tmpfs and must run as root"
MNT="$WG_TMP/full"
mkdir -p "$MNT"
mount -t tmpfs -o size=300k wg-test-full "$MNT" || fail "cannot mount a tmpfs on $MNT"
wg_on_exit umount -l "$MNT"

CL_LEAF_ARITY=32
CL_NODE_ARITY=32
wg_start_daemon a --store "file:$MNT/store" --housekeeping-ms 200 --poll-ms 200
pl_use a
cl_prepare 1 330 "main_vm=$((5390 * 600))"
cl_prepare 2 100 "main_vm=$((5390 * 2))"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
ID=$(wg_psql "SELECT id FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1")

# The error a client sees names the full disk.
disk_full_shown() {
	pl_get "/witness-jobs/0/$ID"
	[[ $HTTP_STATUS == 200 ]] && grep -qi "no space left on device" <<<"$(wg_json .error)"
}
wg_wait_until 30 disk_full_shown
assert_contains "$(wg_json .error)" "basic round stopped on a: store: " "the job's error says the store stopped the round"
wg_http GET "$PL_URL/readyz"
assert_status 503
assert_error_code unavailable
assert_contains "$(wg_json .error.message | tr '[:upper:]' '[:lower:]')" "no space left on device" \
	"/readyz names the full disk"

# An upload refused meanwhile (batch 2's input is larger than the room left) says why.
pl_upload 2 "$WG_TMP/in2.json"
assert_status 503
assert_contains "$(wg_json .error.message | tr '[:upper:]' '[:lower:]')" "no space left on device" \
	"a refused upload names the full disk"

# It backs off rather than burning its attempts.
sleep 12
read -r status attempts <<<"$(wg_psql "SELECT status, attempts FROM basic_circuit_witness_jobs WHERE id = $ID" | tr '|' ' ')"
assert_ne failed "$status" "the basic job is not failed while the disk is full"
((attempts < 10)) || fail "the basic job used $attempts attempts within 12 s"
wg__pass
pl_get "/witness-jobs/0/$ID"
assert_status 200
echo "# after 12 s: $HTTP_BODY"
# The failed writes are counted for the store errors alert; reads did not fail.
wg_http GET "$PL_URL/metrics"
assert_status 200
store_errors() { awk -v k="wg_store_errors_total{op=\"$1\"}" 'index($0, k " ") == 1 { print $NF }' "$HTTP_BODY_FILE"; }
echo "# store errors: put $(store_errors put), pack_commit $(store_errors pack_commit)"
(($(store_errors put) + $(store_errors pack_commit) >= 1)) || fail "no failed store write counted"
wg__pass
assert_eq 0 "$(store_errors get)" "failed store reads"

# Room is made: the store is writable again, and the batch completes by itself.
mount -o remount,size=64m "$MNT" || fail "cannot remount $MNT with 64 MiB"
ready() {
	wg_http GET "$PL_URL/readyz"
	[[ $HTTP_STATUS == 200 ]]
}
wg_wait_until 10 ready
wg__pass
cl_upload 2 30
cl_start_prover p "$PL_URL" --concurrency 2
cl_wait_proven 120 1 2
cl_stop_prover p
check_invariants 1 2
attempts=$(wg_psql "SELECT attempts FROM basic_circuit_witness_jobs WHERE id = $ID")
((attempts < 10)) || fail "the basic job used $attempts attempts"
wg__pass
echo "# the basic job of batch 1 was proven at attempt $attempts"
