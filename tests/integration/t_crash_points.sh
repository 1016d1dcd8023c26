#!/bin/bash
# t_crash_points.sh: the daemon dies at each named fault point (WG_FAULT, src/common/fault.h)
# and loses nothing (issue 4, point 2).
# One run per point, each on its own batch: the daemon is started with WG_FAULT=POINT[:K], the
# batch is uploaded and proved by a wg-prover that keeps running throughout, the daemon must
# die with status 86 and log that it reached the point (so every point is hit in every run),
# and once restarted without WG_FAULT under the same --instance-id the batch reaches `proven`
# with the exactly-once invariants of crash_lib.sh holding. Points:
#   upload_after_blob, upload_after_commit      input stored, before / after its transaction
#   basic_after_blobs, basic_after_commit       basic round: witnesses written / committed
#   aggregate_after_blobs, aggregate_after_commit  leaf, node and (last hit) scheduler rounds
#   complete_after_verify, complete_after_commit  a proof completion: verified, before / after
#                                               its transaction (also for the final proof)
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
# shellcheck source=tests/integration/crash_lib.sh
. "$WG_SRCDIR/tests/integration/crash_lib.sh"

wg_setup
T0=$SECONDS
CL_LEAF_ARITY=2
CL_NODE_ARITY=2
# A short prover lease, so that a claim whose answer died with the daemon comes back quickly.
DAEMON_ARGS=(--leaf-arity 2 --node-arity 2 --lease 3 --housekeeping-ms 200 --poll-ms 200)

# 17 basic circuits of 4 types (main_vm 7, code_decommitter 3, keccak256 5, storage 2): 10 leaf
# circuits, 8 node circuits in 6 layers, 1 scheduler circuit; 36 prover jobs and 11 leaf, node
# and scheduler jobs per batch, the scheduler's always the last to run.
WORKLOAD="main_vm=$((5390 * 7)),code_decommitter=$((2845 * 3)),keccak256=$((293 * 5))"
LOGS=40
AGGREGATE_JOBS=11

wg_start_daemon a "${DAEMON_ARGS[@]}"
pl_use a
URL=$PL_URL
cl_start_prover p "$URL" --concurrency 3

# sql_is WHAT EXPECTED SQL: SQL prints EXPECTED.
sql_is() {
	assert_eq "$2" "$(wg_psql "$3")" "$1"
}

# while_down BATCH POINT K: with the daemon dead, the database shows the crash where it was meant
# to land (what had committed and what had not).
while_down() {
	local b=$1 point=$2 k=$3 where
	where="$point:$k, daemon down"
	case $point:$k in
	upload_after_blob:*)
		sql_is "$where: no batch $b" 0 "SELECT count(*) FROM basic_circuit_witness_jobs WHERE l1_batch_number = $b" ;;
	upload_after_commit:*)
		sql_is "$where: batch $b stored" 1 "SELECT count(*) FROM basic_circuit_witness_jobs WHERE l1_batch_number = $b" ;;
	basic_after_blobs:*)
		sql_is "$where: basic job held, no circuits" "in_progress|a|0" "SELECT status || '|' || picked_by || '|'
			|| (SELECT count(*) FROM prover_jobs WHERE l1_batch_number = $b)
			FROM basic_circuit_witness_jobs WHERE l1_batch_number = $b" ;;
	basic_after_commit:*)
		sql_is "$where: basic job done, circuits created" "successful|17" "SELECT status || '|'
			|| (SELECT count(*) FROM prover_jobs WHERE l1_batch_number = $b)
			FROM basic_circuit_witness_jobs WHERE l1_batch_number = $b" ;;
	aggregate_after_blobs:"$AGGREGATE_JOBS")
		sql_is "$where: scheduler job held, no scheduler circuit" "in_progress|0" "SELECT status || '|'
			|| (SELECT count(*) FROM prover_jobs WHERE l1_batch_number = $b AND aggregation_round = 3)
			FROM scheduler_witness_jobs WHERE l1_batch_number = $b" ;;
	aggregate_after_commit:"$AGGREGATE_JOBS")
		sql_is "$where: scheduler job done, its circuit created" "successful|1" "SELECT status || '|'
			|| (SELECT count(*) FROM prover_jobs WHERE l1_batch_number = $b AND aggregation_round = 3)
			FROM scheduler_witness_jobs WHERE l1_batch_number = $b" ;;
	aggregate_after_blobs:*)
		sql_is "$where: a leaf or node job held" t "SELECT count(*) >= 1 FROM (
			SELECT 1 FROM leaf_aggregation_jobs WHERE l1_batch_number = $b AND status = 'in_progress'
			UNION ALL SELECT 1 FROM node_aggregation_jobs WHERE l1_batch_number = $b AND status = 'in_progress') j" ;;
	complete_after_verify:36)
		sql_is "$where: scheduler proof not stored" "in_progress|0" "SELECT status || '|'
			|| (SELECT count(*) FROM proofs WHERE prover_job_id = prover_jobs.id)
			FROM prover_jobs WHERE l1_batch_number = $b AND aggregation_round = 3" ;;
	complete_after_commit:36)
		sql_is "$where: scheduler proof stored" "successful|1" "SELECT status || '|'
			|| (SELECT count(*) FROM proofs WHERE prover_job_id = prover_jobs.id)
			FROM prover_jobs WHERE l1_batch_number = $b AND aggregation_round = 3" ;;
	complete_after_verify:*)
		# Only the completions that passed the point before the Kth could have committed.
		sql_is "$where: at most $((k - 1)) proofs stored" t "SELECT count(*) <= $((k - 1)) FROM prover_jobs
			WHERE l1_batch_number = $b AND status = 'successful'" ;;
	complete_after_commit:*)
		sql_is "$where: at least $k proofs stored" t "SELECT count(*) >= $k FROM prover_jobs
			WHERE l1_batch_number = $b AND status = 'successful'" ;;
	esac
	# Whatever was interrupted, the invariants hold in the database as the crash left it.
	assert_eq "" "$(cl_violations "$b")" "$where: exactly-once invariants"
}

# run_point BATCH POINT [K]: one crash at the Kth time (default 1) POINT is reached.
run_point() {
	local batch=$1 point=$2 k=${3:-1} start_line status
	local spec=$point:$k t=$SECONDS
	cl_prepare "$batch" "$LOGS" "$WORKLOAD"
	assert_eq 36 "$(cl_circuits "$batch")" "prover jobs per batch"
	start_line=$(($(wc -l <"$WG_TMP/a.log") + 1))
	WG_FAULT=$spec wg_start_daemon a "${DAEMON_ARGS[@]}"
	assert_eq "$URL" "$(wg_url a)" "the restarted daemon keeps its port"

	pl_upload "$batch" "$WG_TMP/in$batch.json"
	if [[ $point == upload_* ]]; then
		assert_status 000 # died before answering
	else
		assert_status 201
	fi
	cl_wait_exit a 30
	assert_eq 86 "$CL_EXIT_STATUS" "$spec: exit status of the daemon"
	assert_contains "$(tail -n "+$start_line" "$WG_TMP/a.log")" "fault point $point reached: exiting" \
		"$spec: the daemon log"

	while_down "$batch" "$point" "$k"

	start_line=$(($(wc -l <"$WG_TMP/a.log") + 1))
	wg_start_daemon a "${DAEMON_ARGS[@]}"
	# The tree service retries an upload it got no answer for: stored once, whatever happened.
	cl_upload "$batch" 30
	status=201
	[[ $point == upload_after_blob ]] || status=200
	assert_status $status
	cl_wait_proven 30 "$batch"
	if [[ $point == basic_after_blobs || $point == aggregate_after_blobs ]]; then
		# The job the crash interrupted went back to the queue at the restart, not after its lease.
		grep -Eq "requeued [1-9][0-9]* witness jobs held by a previous run of a" <(tail -n "+$start_line" "$WG_TMP/a.log") ||
			fail "$spec: the restarted daemon did not requeue the interrupted job at start; it logged:
$(tail -n "+$start_line" "$WG_TMP/a.log" | grep -v ' access ' | head -n 40)"
		wg__pass
	fi
	check_invariants "$batch"
	wg_stop_daemon a
	echo "# $spec: batch $batch proven after the crash ($((SECONDS - t)) s)"
}

wg_stop_daemon a
run_point 1 upload_after_blob
run_point 2 upload_after_commit
run_point 3 basic_after_blobs
run_point 4 basic_after_commit
run_point 5 aggregate_after_blobs 3                   # a leaf (or node) job
run_point 6 aggregate_after_commit 7                  # a leaf or node job
run_point 7 aggregate_after_blobs $AGGREGATE_JOBS     # the scheduler
run_point 8 aggregate_after_commit $AGGREGATE_JOBS    # the scheduler
run_point 9 complete_after_verify 5
run_point 10 complete_after_commit 12
run_point 11 complete_after_verify 36                 # the scheduler proof
run_point 12 complete_after_commit 36                 # the scheduler proof: proven, no answer

# Nothing else went wrong meanwhile: every batch is still whole.
wg_start_daemon a "${DAEMON_ARGS[@]}"
check_invariants 1 2 3 4 5 6 7 8 9 10 11 12
cl_stop_prover p
echo "# $(grep 'wg-prover: proved' "$WG_TMP/prover-p.log" | tail -n 1)"
echo "# t_crash_points: 12 crashes in $((SECONDS - T0)) s"
