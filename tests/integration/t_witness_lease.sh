#!/bin/bash
# t_witness_lease.sh: witness leases (docs/state-machine.md, issue 4 point 1, issue 8 item 7).
# 1. A step longer than the lease does not lose it: daemon R (--witness-lease 1) sleeps 3 s inside
#    its basic round (WG_FAULT=basic_after_parse@3000); the worker's renewer thread keeps the lease,
#    so the job is never put back and commits under its first claim.
# 2. A worker whose lease was taken over does not commit: daemon A stops after writing its basic
#    circuit blobs (WG_FAULT=basic_after_blobs@3000) and is then frozen (SIGSTOP: nothing of it
#    runs, not even its renewer). Its lease expires, daemon B's housekeeping puts the job back and
#    B claims and commits the round. A, resumed, finds its fenced commit refused and rolls back.
#    Afterwards: one set of basic circuits and next-round jobs, the basic job with attempts 2 and
#    picked_by B, and wg-prover proves the batch to `proven` from the blobs written by both.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
PROVER="$WG_BUILDDIR/wg-prover"
[[ -x $PROVER ]] || fail "$PROVER not built"

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

# 1. Daemon R renews while its basic round sleeps 3 s in one step, three times its lease.
WG_FAULT=basic_after_parse@3000 wg_start_daemon R --witness-lease 1 --housekeeping-ms 200 --workers 1
pl_use R
pl_gen_input 7 --logs 40 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in7.json"
pl_upload 7 "$WG_TMP/in7.json"
assert_status 201
wg_wait_until 10 log_has R "fault point basic_after_parse reached: sleeping 3000 ms"
wg_wait_until 15 eval '[[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 7") == successful ]]'
assert_eq "successful|1|R|" "$(wg_psql "SELECT status, attempts, picked_by, coalesce(error, '')
	FROM basic_circuit_witness_jobs WHERE l1_batch_number = 7")" "the job was never taken from R"
if log_has R "lease was taken over"; then
	fail "R lost its lease while its step ran: $(grep -F 'lease was taken over' "$WG_TMP/R.log")"
fi
wg__pass
rc=0
wg_stop_daemon R || rc=$?
assert_eq 0 "$rc" "R's exit status on SIGTERM"
wg_psql "DELETE FROM prover_jobs" "DELETE FROM leaf_aggregation_jobs" "DELETE FROM node_aggregation_jobs" \
	"DELETE FROM scheduler_witness_jobs" "DELETE FROM basic_circuit_witness_jobs"

# 2. Both daemons share the database and, so that B can read the input A accepted, one file store.
export WG_FAULT=basic_after_blobs@3000
wg_start_daemon A --witness-lease 1 --housekeeping-ms 200 --workers 1 --store "file:$WG_TMP/store"
unset WG_FAULT
pl_use A

# Batch 1: 3 main_vm circuits and 2 storage_application circuits.
pl_gen_input 1 --logs 40 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
assert_json_eq .basic_circuits 5

# A claims the job and stalls after its blobs are written; then it is frozen altogether.
wg_wait_until 10 log_has A "fault point basic_after_blobs reached: sleeping 3000 ms"
kill -STOP "$(wg_daemon_pid A)"
wg_on_exit kill -CONT "$(wg_daemon_pid A)"
assert_eq "in_progress|1|A|" "$(basic_row)" "the basic job while A stalls"
assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_jobs")" "nothing committed before the stall"

# B expires A's lease of 1 s, claims the job and commits the round while A is frozen.
wg_start_daemon B --housekeeping-ms 200 --store "file:$WG_TMP/store"
wg_wait_until 15 basic_is "successful|2|B|"
assert_contains "$(cat "$WG_TMP/B.log")" "basic round: batch 1: 5 circuits of 2 types" "B's log"
assert_eq 0 "$(grep -c 'lease was taken over' "$WG_TMP/A.log" || true)" "A has not run while frozen"
kill -CONT "$(wg_daemon_pid A)"

# A wakes up, finds the lease gone and commits nothing.
wg_wait_until 15 log_has A "the lease was taken over; nothing committed"
assert_contains "$(grep -F 'lease was taken over' "$WG_TMP/A.log")" "basic round: batch 1 job " \
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
