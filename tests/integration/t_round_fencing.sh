#!/bin/bash
# t_round_fencing.sh: witness-lease fencing in the leaf, node and scheduler rounds (docs/state-machine.md,
# leases; t_witness_lease.sh covers the basic round). Each of the three rounds stops once just before
# its commit (WG_FAULT=witness_finish_ROUND@2500:1, inside the commit's transaction); while it
# sleeps the test takes its job over the way a claim by another worker would (attempts + 1,
# another picked_by). The round must then commit nothing: no circuit of the next layer appears,
# the worker logs that its lease was taken over, and once housekeeping returns the abandoned job
# the daemon claims it again (attempts 3) and the batch is proven with every circuit once.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup
PROVER="$WG_BUILDDIR/wg-prover"
[[ -x $PROVER ]] || fail "$PROVER not built"

log_has() { grep -qF -- "$1" "$WG_TMP/a.log"; }

WG_FAULT=witness_finish_leaf@2500:1,witness_finish_node@2500:1,witness_finish_sched@2500:1 \
	wg_start_daemon a --witness-lease 1 --housekeeping-ms 200 --workers 1
pl_use a

# One circuit type: 3 main_vm circuits, so one leaf, one node and one scheduler job.
pl_gen_input 1 --logs 0 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
"$PROVER" --url "$PL_URL" --token "$PL_PROVER" --concurrency 2 >"$WG_TMP/prover.out" 2>&1 &

# take_over ROUND TABLE: wait for ROUND's fault, take its job over, check that the round
# then commits nothing.
take_over() {
	local round=$1 table=$2 name
	case $round in leaf) name=leaf ;; node) name=node ;; scheduler) name=sched ;; esac
	wg_wait_until 60 log_has "fault point witness_finish_$name reached: sleeping 2500 ms"
	assert_eq 2 "$(wg_psql "UPDATE $table SET attempts = attempts + 1, picked_by = 'intruder'
		WHERE l1_batch_number = 1 AND status = 'in_progress' AND picked_by = 'a' RETURNING attempts")" \
		"the $round job was running under its first claim, now taken over"
	wg_wait_until 10 log_has "$round round: batch 1 job"
	wg_wait_until 10 eval "grep -F '$round round: batch 1 job' '$WG_TMP/a.log' | grep -cF 'lease was taken over; nothing committed' >/dev/null"
	# Committed under the lost lease, the job would be successful at attempts 2 and never claimed
	# again; housekeeping may already have handed it to the next claim (attempts 3).
	assert_ne "successful|2" "$(wg_psql "SELECT status || '|' || attempts FROM $table WHERE l1_batch_number = 1")" \
		"the $round round committed nothing under a lost lease"
}
take_over leaf leaf_aggregation_jobs
take_over node node_aggregation_jobs
take_over scheduler scheduler_witness_jobs

wg_wait_until 60 eval '[[ $(batch_status 1) == proven ]]'
assert_eq "3 3 3" "$(wg_psql "SELECT (SELECT attempts FROM leaf_aggregation_jobs WHERE l1_batch_number = 1) || ' ' ||
	(SELECT attempts FROM node_aggregation_jobs WHERE l1_batch_number = 1) || ' ' ||
	(SELECT attempts FROM scheduler_witness_jobs WHERE l1_batch_number = 1)")" \
	"each job: the first claim, the take-over, the claim that committed"
assert_eq "0|3 1|1 2|1 3|1" "$(wg_psql "SELECT aggregation_round, count(*) FROM prover_jobs
	WHERE l1_batch_number = 1 GROUP BY 1 ORDER BY 1" | tr '\n' ' ' | sed 's/ $//')" "every circuit once"
pl_assert_unique 1
