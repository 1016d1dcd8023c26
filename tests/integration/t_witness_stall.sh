#!/bin/bash
# t_witness_stall.sh: a round worker stuck in-process loses its witness job (docs/state-machine.md,
# issue 14 item 8). Unlike t_witness_lease.sh, whose frozen daemon (SIGSTOP) stops its lease
# renewer too, here only the worker stalls: its renewer thread runs on, and renews only while the
# worker reaches checkpoints, so the lease expires within --witness-job-timeout.
# Daemon A (--witness-lease 1 --witness-job-timeout 3) stalls 12 s in one step of its basic round;
# daemon B, sharing A's database and file store, must claim and commit the job well before A
# wakes up. A, awake, must commit nothing:
# 1. stalled after parsing its input (basic_after_parse): A's next checkpoint gives the job up,
#    since the run has outlasted --witness-job-timeout;
# 2. stalled after writing its blobs (basic_after_blobs), with no checkpoint left before its
#    commit: the commit is fenced (the job is B's second claim) and rolled back.
# Both batches are then proved to `proven` by wg-prover.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
PROVER="$WG_BUILDDIR/wg-prover"
[[ -x $PROVER ]] || fail "$PROVER not built"

STALL_MS=12000
log_has() { # log_has NAME TEXT
	grep -qF -- "$2" "$WG_TMP/$1.log"
}
basic_row() { # basic_row BATCH
	wg_psql "SELECT status, attempts, coalesce(picked_by, '') FROM basic_circuit_witness_jobs
		WHERE l1_batch_number = $1"
}
basic_is() { # basic_is BATCH ROW
	[[ $(basic_row "$1") == "$2" ]]
}
job_of() { # job_of BATCH: the id of its basic witness job
	wg_psql "SELECT id FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1"
}
circuits_of() { # circuits_of BATCH: its basic prover jobs per circuit id
	wg_psql "SELECT circuit_id, count(*) FROM prover_jobs WHERE l1_batch_number = $1
		AND aggregation_round = 0 GROUP BY 1 ORDER BY 1" | tr '\n' ' ' | sed 's/ $//'
}

# stall_case BATCH FAULT_POINT HELPER: A stalls at FAULT_POINT in the basic round of BATCH; daemon
# HELPER, started once A stalls, takes the job over and commits it while A sleeps.
stall_case() {
	local batch=$1 point=$2 helper=$3 stalled lost_after
	pl_gen_input "$batch" --logs 40 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in$batch.json"
	pl_upload "$batch" "$WG_TMP/in$batch.json"
	assert_status 201
	wg_wait_until 10 log_has A "fault point $point reached: sleeping $STALL_MS ms"
	stalled=$SECONDS
	assert_eq "in_progress|1|A" "$(basic_row "$batch")" "batch $batch's basic job while A stalls"

	wg_start_daemon "$helper" --witness-lease 1 --housekeeping-ms 200 --poll-ms 200 --store "file:$WG_TMP/store"
	# Lost within --witness-job-timeout (3 s) and one lease (1 s), give or take the sweep and a
	# loaded machine; in any case long before A wakes up (12 s).
	wg_wait_until 8 basic_is "$batch" "successful|2|$helper"
	lost_after=$((SECONDS - stalled))
	echo "# batch $batch: the stalled job was committed by $helper ${lost_after} s after A stalled"
	log_has A "basic round: batch $batch job $(job_of "$batch"): no progress for a third of --witness-job-timeout" ||
		fail "A's renewer did not report the stall: $(tail -n 20 "$WG_TMP/A.log")"
	assert_eq "1|3 10|2" "$(circuits_of "$batch")" "batch $batch's basic circuits, committed by $helper"
	wg__pass

	# A wakes up: it gives the job up and commits nothing.
	wg_wait_until 20 log_has A "basic round: batch $batch job $(job_of "$batch"): the lease was taken over; nothing committed"
	if log_has A "basic round: batch $batch: 5 circuits"; then
		fail "A committed a basic round of batch $batch: $(grep -F "basic round: batch $batch:" "$WG_TMP/A.log")"
	fi
	sleep 0.5
	assert_eq "successful|2|$helper" "$(basic_row "$batch")" "batch $batch's basic job after A woke up"
	assert_eq "1|3 10|2" "$(circuits_of "$batch")" "batch $batch: exactly one set of basic circuits"
	assert_eq "2|1" "$(wg_psql "SELECT count(*), count(DISTINCT l1_batch_number) FROM leaf_aggregation_jobs
		WHERE l1_batch_number = $batch")" "batch $batch: one leaf job per type"
	pl_assert_unique "$batch"
	wg_stop_daemon "$helper" || fail "$helper's exit status on SIGTERM: $?"
	wg__pass
}

# Both stalls are armed at once: each fault point sleeps at its first hit only, and batch 1's run
# never reaches basic_after_blobs.
export WG_FAULT=basic_after_parse@$STALL_MS:1,basic_after_blobs@$STALL_MS:1
wg_start_daemon A --witness-lease 1 --witness-job-timeout 3 --housekeeping-ms 200 --workers 1 \
	--store "file:$WG_TMP/store"
unset WG_FAULT
pl_use A

# 1. A stalls before its first checkpoint; awake, the checkpoint finds the run too old.
stall_case 1 basic_after_parse B
assert_contains "$(cat "$WG_TMP/A.log")" \
	"basic round: batch 1 job $(job_of 1): ran longer than --witness-job-timeout (3 s); giving the job up" "A's log"

# 2. A stalls after its last checkpoint, right before its commit; awake, the commit is fenced.
stall_case 2 basic_after_blobs C
if log_has A "basic round: batch 2 job $(job_of 2): ran longer than --witness-job-timeout"; then
	fail "A reached a checkpoint after basic_after_blobs: this case no longer tests the fenced commit"
fi

# A ends cleanly; wg-prover proves both batches through A alone.
"$PROVER" --url "$PL_URL" --token "$PL_PROVER" --concurrency 2 --until-idle --idle-seconds 3 \
	>"$WG_TMP/prover.out" 2>"$WG_TMP/prover.err" ||
	fail "wg-prover exited with status $?: $(tail -n 5 "$WG_TMP/prover.err")"
assert_eq proven "$(batch_status 1)" "batch 1 after wg-prover"
assert_eq proven "$(batch_status 2)" "batch 2 after wg-prover"
assert_contains "$(cat "$WG_TMP/prover.out")" "wg-prover: proved 20 jobs (round0=10 round1=4 round2=4 round3=2)"
assert_contains "$(cat "$WG_TMP/prover.out")" "lost leases 0, rejected proofs 0"
pl_assert_unique 1
pl_assert_unique 2
rc=0
wg_stop_daemon A || rc=$?
assert_eq 0 "$rc" "A's exit status on SIGTERM"
