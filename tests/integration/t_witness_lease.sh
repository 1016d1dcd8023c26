#!/bin/bash
# t_witness_lease.sh (needs ./configure --enable-fault-points): a round worker whose witness lease
# was taken over does not commit (docs/state-machine.md, issue 4 point 1).
# Daemon A (--witness-lease 1, one worker per round) stalls 8 s in its basic round after writing
# the circuit blobs and before its commit (WG_FAULT=basic_after_blobs@8000). Its lease expires,
# housekeeping puts the job back to `queued`, daemon B (same database) claims it and commits the
# round. When A wakes, its fenced commit finds the job no longer held under its lease and rolls
# back. Afterwards: one set of basic circuits and next-round jobs, the basic job with attempts 2
# and picked_by B, and wg-prover proves the batch to `proven` from the blobs written by both.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
PROVER="$WG_BUILDDIR/wg-prover"
[[ -x $PROVER ]] || fail "$PROVER not built"
# The fault point names are in the binary only when it was built with them.
grep -qa basic_after_blobs "$WG_BUILDDIR/witness-generator" ||
	fail "$WG_BUILDDIR/witness-generator was built without ./configure --enable-fault-points"

log_has() { # log_has NAME TEXT
	grep -qF -- "$2" "$WG_TMP/$1.log"
}
basic_row() {
	wg_psql "SELECT status, attempts, coalesce(picked_by, ''), coalesce(error, '')
		FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1"
}
basic_is() {
	[[ $(basic_row) == "$1" ]]
}

# Both daemons share the database and, so that B can read the input A accepted, one file store.
export WG_FAULT=basic_after_blobs@8000
wg_start_daemon A --witness-lease 1 --housekeeping-ms 200 --workers 1 --store "file:$WG_TMP/store"
unset WG_FAULT
pl_use A

# Batch 1: 3 main_vm circuits and 2 storage_application circuits.
pl_gen_input 1 --logs 40 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
assert_json_eq .basic_circuits 5

# A claims the job and stalls after its blobs are written.
wg_wait_until 10 log_has A "fault point basic_after_blobs reached: sleeping 8000 ms"
stalled_at=$SECONDS
assert_eq "in_progress|1|A|" "$(basic_row)" "the basic job while A stalls"
assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_jobs")" "nothing committed before the stall"
# Its lease of 1 s expires; housekeeping puts the job back (A's only basic worker is asleep).
wg_wait_until 4 basic_is "queued|1|A|lease expired while held by A"

# B claims it and commits the round while A still sleeps.
wg_start_daemon B --housekeeping-ms 200 --store "file:$WG_TMP/store"
wg_wait_until 10 basic_is "successful|2|B|"
assert_eq 1 "$((SECONDS - stalled_at < 8))" "B committed before A woke up"
assert_contains "$(cat "$WG_TMP/B.log")" "basic round: batch 1: 5 circuits of 2 types" "B's log"

# A wakes up, finds the lease gone and commits nothing.
wg_wait_until 15 log_has A "the lease was taken over; nothing committed"
assert_contains "$(grep -F 'lease was taken over' "$WG_TMP/A.log")" "basic round: batch 1 job 1:" \
	"A's log names the job"
if log_has A "basic round: batch 1: 5 circuits"; then
	fail "A reported a committed basic round: $(grep -F 'basic round: batch 1:' "$WG_TMP/A.log")"
fi
wg__pass
sleep 0.5
assert_eq "successful|2|B|" "$(basic_row)" "the basic job after A woke up"
assert_eq "0|1|3 0|10|2" "$(wg_psql "SELECT aggregation_round, circuit_id, count(*) FROM prover_jobs
	GROUP BY 1, 2 ORDER BY 1, 2" | tr '\n' ' ' | sed 's/ $//')" "exactly one set of basic circuits"
pl_assert_unique 1
assert_eq "1|3|0 10|2|0" "$(wg_psql "SELECT circuit_id, number_of_basic_circuits, proofs_done
	FROM leaf_aggregation_jobs ORDER BY circuit_id" | tr '\n' ' ' | sed 's/ $//')" "one leaf job per type"
assert_eq "2 1" "$(wg_psql "SELECT (SELECT count(*) FROM node_aggregation_jobs) || ' ' ||
	(SELECT count(*) FROM scheduler_witness_jobs)")" "one node stub per type and one scheduler job"

# A stops cleanly; B and wg-prover take the batch to proven.
rc=0
wg_stop_daemon A || rc=$?
assert_eq 0 "$rc" "A's exit status on SIGTERM"
pl_use B
"$PROVER" --url "$PL_URL" --token "$PL_PROVER" --concurrency 2 --until-idle --idle-seconds 3 \
	>"$WG_TMP/prover.out" 2>"$WG_TMP/prover.err" ||
	fail "wg-prover exited with status $?: $(tail -n 5 "$WG_TMP/prover.err")"
assert_eq proven "$(batch_status 1)" "batch 1 after wg-prover"
# 5 basic, 2 leaf, 2 node, 1 scheduler circuits, each proved once.
assert_contains "$(cat "$WG_TMP/prover.out")" "wg-prover: proved 10 jobs (round0=5 round1=2 round2=2 round3=1)"
assert_contains "$(cat "$WG_TMP/prover.out")" "lost leases 0, rejected proofs 0"
assert_eq 10 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'successful'")" "prover jobs"
pl_assert_unique 1
