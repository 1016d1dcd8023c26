#!/bin/bash
# t_s3.sh: the s3:// store against a local S3-compatible server, s3rver (issue 11, part 1).
# 1. An outage: the basic round of batch 1 is held just before it writes its pack
#    (round_after_renew@3000:1) while s3rver is stopped; the round cannot write, stops and is
#    released, its error naming the store's reason; an upload meanwhile is 503. Once s3rver is back, wg-prover proves batches 1 and 2
#    and the crash tests' invariants hold (crash_lib.sh): nothing lost, nothing doubled.
# 2. kill -9 of the daemon mid-batch, three times: the invariants hold after each kill and at the
#    end.
# 3. The bucket holds every blob of a batch (input and witness packs) under PREFIX/batches/N/ and
#    the local disk none; DELETE /batches/N removes every object under it and nothing else, and
#    during an outage of the bucket removes the rows at once and the objects once it is back;
#    wgctl delete without --store removes them from the bucket the daemon recorded.
# 4. A bucket that does not exist is a configuration error named in the log, not a missing blob.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
# shellcheck source=tests/integration/crash_lib.sh
. "$WG_SRCDIR/tests/integration/crash_lib.sh"
# shellcheck source=tests/integration/s3_lib.sh
. "$WG_SRCDIR/tests/integration/s3_lib.sh"

wg_setup
T0=$SECONDS
s3_install
s3_start
CL_LEAF_ARITY=4
CL_NODE_ARITY=2
DAEMON_ARGS=(--store "s3://$S3_BUCKET/deploy" --s3-endpoint "$S3_ENDPOINT" --s3-region us-east-1
	--leaf-arity 4 --node-arity 2 --lease 4 --housekeeping-ms 200 --poll-ms 200 --max-attempts 1000)

# 1. An outage of the object store in the middle of a round.
WG_FAULT=round_after_renew@3000:1 wg_start_daemon a "${DAEMON_ARGS[@]}"
pl_use a
cl_prepare 1 40 "main_vm=$((5390 * 6)),keccak256=$((293 * 5))"
cl_prepare 2 30 "main_vm=$((5390 * 3)),sha256=$((2206 * 3))"
cl_prepare 3 300 "main_vm=$((5390 * 40)),keccak256=$((293 * 30)),ecrecover=$((7 * 9))"
cl_upload 1 30
assert_eq 1 "$(s3_keys deploy/batches/1/ | grep -c '^deploy/batches/1/input-[0-9a-f]*\.json$')" \
	"the input of batch 1 is an object of the bucket"
wg_wait_until 20 grep -q "fault point round_after_renew reached" "$WG_TMP/a.log"
s3_stop
down=$SECONDS
wg_wait_until 20 grep -q "batch 1 job [0-9]*: basic round stopped on a: store: s3 PUT [^ ]*: Couldn.t connect to server" "$WG_TMP/a.log"
wg_http POST "$PL_URL/batches/2/witness-inputs" -H "Authorization: Bearer $PL_TREE" \
	-H 'Content-Type: application/json' --data-binary "@$WG_TMP/in2.json"
assert_status 503
assert_eq 0 "$(wg_psql "select count(*) from basic_circuit_witness_jobs where l1_batch_number = 2")" \
	"no job for an upload the store did not take"
assert_ne "failed" "$(wg_psql "select status from basic_circuit_witness_jobs where l1_batch_number = 1")" \
	"an unreachable store is not a reason to fail the job"
sleep 2
s3_start
echo "# s3rver was down for $((SECONDS - down)) s"
cl_upload 2 30
cl_start_prover p "$PL_URL" --concurrency 2
cl_wait_proven 90 1 2
check_invariants 1 2

# 2. kill -9 of the daemon while batch 3 is proved.
wg_stop_daemon a
wg_start_daemon a "${DAEMON_ARGS[@]}"
cl_upload 3 30
for kill in 1 2 3; do
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + 0.7 * r / 32767 }')"
	wg_kill_daemon a
	assert_eq "" "$(cl_violations 3)" "batch 3, right after kill $kill"
	wg_start_daemon a "${DAEMON_ARGS[@]}"
done
cl_wait_proven 120 3
check_invariants 3
cl_stop_prover p

# 3. Where the blobs are, and batch deletion.
for b in 1 2 3; do
	keys=$(s3_keys "deploy/batches/$b/")
	assert_eq 1 "$(grep -c '/input-' <<<"$keys")" "batch $b: one input object"
	# Every pack a prover job or a round refers to is in the bucket.
	assert_eq "" "$(comm -23 <(wg_psql "select distinct 'deploy/batches/$b/r' || aggregation_round || '/c'
		|| case when aggregation_round = 0 then 0 else circuit_id end || '/d' || depth || '/p'
		|| lpad(to_hex(witness_pack_id), 16, '0') || '.pack' from prover_jobs where l1_batch_number = $b" | sort) <(echo "$keys"))" \
		"batch $b: witness packs missing from the bucket"
done
assert_eq "" "$(find "$WG_TMP/store-a" -type f 2>/dev/null)" "blobs on the local disk"
wg_http DELETE "$PL_URL/batches/1" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
assert_eq "" "$(s3_keys deploy/batches/1/)" "objects of batch 1 left after its deletion"
assert_ne "" "$(s3_keys deploy/batches/2/)" "batch 2's objects"
assert_ne "" "$(s3_keys deploy/batches/3/)" "batch 3's objects"
no_sweeps_left() { [[ $(wg_psql "select count(*) from blob_sweeps") == 0 ]]; }
# A delete while the bucket is unreachable: the rows go at once, the objects once it is back, by
# the daemon's housekeeping (every 200 ms here).
s3_stop
wg_http DELETE "$PL_URL/batches/2" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
assert_json_eq .blobs_deleted false
assert_eq 0 "$(wg_psql "select count(*) from basic_circuit_witness_jobs where l1_batch_number = 2")" "batch 2's rows"
assert_eq 2 "$(wg_psql "select l1_batch_number from blob_sweeps")" "the deletion left to sweep"
s3_start
wg_wait_until 20 no_sweeps_left
assert_eq "" "$(s3_keys deploy/batches/2/)" "objects of batch 2 left after the sweep"
assert_ne "" "$(s3_keys deploy/batches/3/)" "batch 3's objects"
# wgctl delete works on the bucket the daemon recorded: another store is refused, none given
# means the daemon's (wgctl still needs the endpoint and the credentials, like the daemon).
assert_eq "s3://$S3_BUCKET/deploy" "$(wg_psql "select url from store_config")" "the store recorded"
rc=0
wg_wgctl --store "file:$WG_TMP" --s3-endpoint "$S3_ENDPOINT" delete 3 2>"$WG_TMP/wgctl.err" || rc=$?
assert_eq 2 "$rc" "wgctl delete with a file store where the daemon uses a bucket"
assert_contains "$(cat "$WG_TMP/wgctl.err")" "they use s3://$S3_BUCKET/deploy"
assert_ne "" "$(s3_keys deploy/batches/3/)" "batch 3's objects after a refused wgctl delete"
wg_wgctl --s3-endpoint "$S3_ENDPOINT" delete 3 >/dev/null || fail "wgctl delete 3 failed"
assert_eq "" "$(s3_keys deploy/batches/3/)" "objects of batch 3 left after wgctl delete"

# 4. A misnamed bucket.
wg_start_daemon b --store "s3://no-such-bucket/deploy" --s3-endpoint "$S3_ENDPOINT"
pl_gen_input 4 --logs 5 >"$WG_TMP/in4.json"
wg_http POST "$(wg_url b)/batches/4/witness-inputs" -H "Authorization: Bearer $PL_TREE" \
	-H 'Content-Type: application/json' --data-binary "@$WG_TMP/in4.json"
assert_status 500
assert_contains "$(cat "$WG_TMP/b.log")" "the bucket no-such-bucket does not exist at $S3_ENDPOINT" "the log"
echo "# t_s3: $((SECONDS - T0)) s"
