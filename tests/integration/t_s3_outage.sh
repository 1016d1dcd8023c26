#!/bin/bash
# t_s3_outage.sh: an object store down for 30 s mid-batch (docs/state-machine.md, witness job
# backoff). The basic round of batch 1 is held just before it writes its pack
# (round_after_renew@3000:1) while s3rver is stopped for 30 s, then started again on the same port
# with its data.
# - The round cannot write: it tries its pack again inside the round for about 15 s
#   (t_store_retry.sh), then its job goes back to queued with a backoff, its error naming the
#   store's reason (curl's), and /readyz answers 503 with it while the store cannot be written.
# - Once s3rver is back /readyz is 200 again, and the batch is proven with nothing lost or doubled
#   (crash_lib.sh's invariants), its basic job having used 2 attempts.
# --max-attempts 2 with --retry-base 20 makes the outcome certain: with the backoff the second
# attempt comes after the store is back (about 35 s after it went); without one (as before), both
# attempts were burned within 10 s of the outage and the batch failed with "basic round stopped on
# a: unavailable".
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
# shellcheck source=tests/integration/crash_lib.sh
. "$WG_SRCDIR/tests/integration/crash_lib.sh"
# shellcheck source=tests/integration/s3_lib.sh
. "$WG_SRCDIR/tests/integration/s3_lib.sh"

wg_setup
s3_install
s3_start
CL_LEAF_ARITY=4
CL_NODE_ARITY=2
WG_FAULT=round_after_renew@3000:1 wg_start_daemon a --store "s3://$S3_BUCKET/deploy" --s3-endpoint "$S3_ENDPOINT" \
	--s3-region us-east-1 --leaf-arity 4 --node-arity 2 --housekeeping-ms 200 --poll-ms 200 \
	--max-attempts 2 --retry-base 20 --retry-max 20
pl_use a
cl_prepare 1 40 "main_vm=$((5390 * 6)),keccak256=$((293 * 5))"
cl_upload 1 30
ID=$(wg_psql "SELECT id FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1")
wg_wait_until 20 grep -q "fault point round_after_renew reached" "$WG_TMP/a.log"
s3_stop
down=$SECONDS

# The round stops on the store; the job waits its backoff with the store's reason.
backing_off() {
	pl_get "/witness-jobs/0/$ID"
	[[ $HTTP_STATUS == 200 && $(wg_json .status) == queued && $(wg_json .retry_at) != null ]]
}
wg_wait_until 30 backing_off
assert_contains "$(wg_json .error)" "basic round stopped on a: store: s3 PUT " "the job's error names the store"
assert_contains "$(wg_json .error)" "Couldn't connect to server" "the job's error says why (curl)"
assert_eq 1 "$(wg_json .attempts)" "one attempt used"
wg_http GET "$PL_URL/readyz"
assert_status 503
assert_contains "$(wg_json .error.message)" "the object store cannot be written: s3 PUT " "/readyz names the store"

sleep $((30 - (SECONDS - down)))
s3_start
echo "# s3rver was down for $((SECONDS - down)) s"
ready() {
	wg_http GET "$PL_URL/readyz"
	[[ $HTTP_STATUS == 200 ]]
}
wg_wait_until 20 ready
wg__pass

cl_start_prover p "$PL_URL" --concurrency 2
cl_wait_proven 90 1
cl_stop_prover p
check_invariants 1
assert_eq 2 "$(wg_psql "SELECT attempts FROM basic_circuit_witness_jobs WHERE id = $ID")" \
	"the basic job was proven at its second attempt, after the store returned"
