#!/bin/bash
# t_store_retry.sh: transient store errors are retried inside the round (issue 16 item 6,
# docs/state-machine.md), against the recording S3 fake (tests/tools/s3_recorder.py) told to
# answer 503 SlowDown to chosen requests.
# The s3 backend already retries each request for up to 4 s (6 requests); a failure that outlasts
# that used to stop the round and give its witness job back with a backoff, redoing its work later.
# 1. The basic round's read of its input and the write of its pack each get 8 answers of 503: one
#    whole call's retries (6) and twice more. Each is tried again inside the round, which commits
#    at its first attempt; /metrics counts the 16 retries and no failure. (Before, the job was given
#    back after the first 6 and committed only at attempt 2, after its 20 s backoff.)
# 2. A pack write that keeps failing: after 3 retries inside the round it fails with the store's
#    reason, the job goes back to queued with its backoff as before, and /metrics counts the
#    failure; once the store answers again the batch is proven at attempt 2.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
# shellcheck source=tests/integration/crash_lib.sh
. "$WG_SRCDIR/tests/integration/crash_lib.sh"
wg_setup
wg__require_tool python3

export AWS_ACCESS_KEY_ID=AKIARETRYTEST AWS_SECRET_ACCESS_KEY=retry-test-secret
unset AWS_SESSION_TOKEN
REC=$WG_TMP/rec
mkdir -p "$REC"
wg__take_port REC_PORT
S3_RECORDER_SECRET=$AWS_SECRET_ACCESS_KEY python3 "$WG_SRCDIR/tests/tools/s3_recorder.py" "$REC_PORT" "$REC" \
	2>"$WG_TMP/recorder.log" &
REC_PID=$!
stop_recorder() { kill "$REC_PID" 2>/dev/null; wait "$REC_PID" 2>/dev/null || true; }
wg_on_exit stop_recorder
rec_up() { [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REC_PORT/b/x") == 404 ]]; }
wg_wait_until 10 rec_up

CL_LEAF_ARITY=4
CL_NODE_ARITY=2
# --retry-base 20: a job given back waits 20 s, so a commit within 15 s is one made at once.
wg_start_daemon a --store s3://wg/retry --s3-endpoint "http://127.0.0.1:$REC_PORT" --s3-region us-east-1 \
	--leaf-arity 4 --node-arity 2 --housekeeping-ms 200 --poll-ms 200 --retry-base 20 --retry-max 20
pl_use a

# metric NAME OP: the value of NAME{op="OP"} in a scrape of /metrics.
metric() {
	wg_http GET "$PL_URL/metrics"
	assert_status 200
	awk -v k="$1{op=\"$2\"}" '$1 == k { print $2 }' "$HTTP_BODY_FILE"
}
# basic_job BATCH FIELD: a field of the basic witness job of BATCH.
basic_job() { wg_psql "SELECT $2 FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1"; }

# 1. 503 through one call's retries and twice more, on a read and on a write.
printf '8 GET /input-\n8 PUT /r0/\n' >"$REC/fail"
cl_prepare 1 20 "main_vm=$((5390 * 6)),keccak256=$((293 * 3))"
cl_upload 1 30
basic_committed() { [[ $(basic_job 1 status) == successful ]]; }
wg_wait_until 15 basic_committed
assert_eq 1 "$(basic_job 1 attempts)" "the basic job committed at its first attempt"
assert_eq 16 "$(wc -l <"$REC/failed")" "the fake answered 503 sixteen times"
[[ ! -e $REC/fail ]] || fail "the fake still has 503s to give: $(cat "$REC/fail")"
assert_eq 8 "$(metric wg_store_retries_total get)" "every failed read was tried again"
assert_eq 8 "$(metric wg_store_retries_total pack_commit)" "every failed pack write was tried again"
assert_eq 0 "$(metric wg_store_failures_total get)" "no read failed for good"
assert_eq 0 "$(metric wg_store_failures_total pack_commit)" "no pack write failed for good"
assert_contains "$(cat "$WG_TMP/a.log")" "store: get failed (s3 GET retry/batches/1/input-" \
	"the log says what is tried again"
assert_contains "$(cat "$WG_TMP/a.log")" "trying again in 200 ms (retry 1 of 3)" "and when"
cl_start_prover p "$PL_URL" --concurrency 2
cl_wait_proven 60 1
check_invariants 1
assert_eq 0 "$(wg_psql "SELECT count(*) FROM (SELECT attempts FROM leaf_aggregation_jobs WHERE l1_batch_number = 1
	UNION ALL SELECT attempts FROM node_aggregation_jobs WHERE l1_batch_number = 1
	UNION ALL SELECT attempts FROM scheduler_witness_jobs WHERE l1_batch_number = 1) j WHERE attempts <> 1")" \
	"every witness job of the batch ran once"

# 2. A pack write that keeps failing: 3 retries inside the round, then the job's backoff.
printf '1000 PUT /batches/2/r0/\n' >"$REC/fail"
cl_prepare 2 20 "main_vm=$((5390 * 2))"
cl_upload 2 30
ID=$(basic_job 2 id)
backing_off() {
	pl_get "/witness-jobs/0/$ID"
	[[ $HTTP_STATUS == 200 && $(wg_json .status) == queued && $(wg_json .retry_at) != null ]]
}
wg_wait_until 40 backing_off
rm -f "$REC/fail"
assert_contains "$(wg_json .error)" "basic round stopped on a: store: s3 PUT retry/batches/2/r0/" \
	"the job's error names the store"
assert_contains "$(wg_json .error)" "HTTP 503 SlowDown" "and its answer"
assert_eq 1 "$(wg_json .attempts)" "one attempt used"
assert_eq 1 "$(metric wg_store_failures_total pack_commit)" "the failure is counted once"
retried=$(metric wg_store_retries_total pack_commit)
((retried >= 8 + 3)) || fail "the pack write was tried again inside the round: $retried retries counted in all"
assert_contains "$(cat "$WG_TMP/a.log")" "trying again in 2000 ms (retry 3 of 3)" "3 retries inside the round"
assert_contains "$(cat "$WG_TMP/a.log")" "store: pack_commit failed 4 times; giving up" "the give-up is logged"
cl_wait_proven 60 2
cl_stop_prover p
check_invariants 2
assert_eq 2 "$(basic_job 2 attempts)" "the batch was proven at the job's second attempt"
