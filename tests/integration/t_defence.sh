#!/bin/bash
# The defence of docs/circuits.md: a stored proof that fails verification when a round loads it
# sends its prover job back to queued (with the reason) and the round's witness job back to
# waiting_for_proofs, awaiting that proof again; once it is proved again the batch is proven.
# Checked for a leaf round (damaged basic proof), a node round (damaged leaf proof) and the
# scheduler (damaged node proof).
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup

# sql_is EXPECTED SQL: true when the query prints EXPECTED (for wg_wait_until).
sql_is() { [[ $(wg_psql "$2") == "$1" ]]; }

wg_start_daemon a --leaf-arity 4 --node-arity 4
pl_use a

# Batch 1: 5 main_vm circuits (one leaf job awaiting 5 proofs), 1 storage circuit.
pl_gen_input 1 --logs 10 --workload main_vm=$((5390 * 5)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
wg_wait_until 20 sql_is 6 "select count(*) from prover_jobs where l1_batch_number = 1"

# Prove the main_vm circuits but one.
claim_main='{"prover_id":"t","protocol_version":24,"rounds":[0],"circuit_ids":[1]}'
for _ in 1 2 3 4; do
	prove_one "$claim_main" || fail "no main_vm job to prove"
done
assert_eq 4 "$(wg_psql "select proofs_done from leaf_aggregation_jobs where l1_batch_number = 1 and circuit_id = 1")" \
	"four proofs counted"

# Damage one stored proof behind the daemon's back.
damaged=$(wg_psql "select id from prover_jobs where l1_batch_number = 1 and aggregation_round = 0
	and circuit_id = 1 and status = 'successful' order by id limit 1")
wg_psql "update proofs set proof = 'WGREF1garbage' where prover_job_id = $damaged"

# The last proof queues the leaf job; the leaf round finds the damaged proof.
prove_one "$claim_main" || fail "no last main_vm job"
wg_wait_until 20 sql_is "waiting_for_proofs 4" \
	"select status || ' ' || proofs_done from leaf_aggregation_jobs where l1_batch_number = 1 and circuit_id = 1"
assert_eq queued "$(wg_psql "select status from prover_jobs where id = $damaged")" "the damaged job is queued again"
assert_contains "$(wg_psql "select error from prover_jobs where id = $damaged")" "failed verification" \
	"the damaged job records why"
assert_eq 0 "$(wg_psql "select count(*) from prover_jobs where l1_batch_number = 1 and aggregation_round = 1")" \
	"the leaf round created nothing"
assert_eq 1 "$(wg_psql "select attempts from leaf_aggregation_jobs where l1_batch_number = 1 and circuit_id = 1")" \
	"one claim of the leaf job so far"

# Proving it again lets the leaf round run; the batch is proven.
prove_one "$claim_main" || fail "the damaged job cannot be claimed again"
assert_eq "$damaged" "$PL_JOB_ID" "the re-proved job is the damaged one"
wg_wait_until 20 sql_is successful "select status from leaf_aggregation_jobs where l1_batch_number = 1 and circuit_id = 1"
assert_eq 2 "$(wg_psql "select attempts from leaf_aggregation_jobs where l1_batch_number = 1 and circuit_id = 1")" \
	"the leaf job was claimed a second time"
prove_all_until 1 proven 60

# Batch 2: damage a final node proof before the scheduler loads it.
pl_gen_input 2 --logs 5 --workload keccak256=293 >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
claim_round() { prove_one "{\"prover_id\":\"t\",\"protocol_version\":24,\"rounds\":[$1]}"; }
wg_wait_until 20 sql_is 2 "select count(*) from prover_jobs where l1_batch_number = 2"
claim_round 0 || fail "first basic job of batch 2"
claim_round 0 || fail "second basic job of batch 2"
wg_wait_until 20 sql_is 2 "select count(*) from prover_jobs where l1_batch_number = 2 and aggregation_round = 1"
claim_round 1 || fail "first leaf job of batch 2"
claim_round 1 || fail "second leaf job of batch 2"
wg_wait_until 20 sql_is 2 "select count(*) from prover_jobs where l1_batch_number = 2 and aggregation_round = 2"
claim_round 2 || fail "first node job of batch 2"
node_done=$PL_JOB_ID
wg_psql "update proofs set proof = decode('00', 'hex') where prover_job_id = $node_done"
claim_round 2 || fail "second node job of batch 2"
wg_wait_until 20 sql_is "waiting_for_proofs 1" \
	"select status || ' ' || proofs_done from scheduler_witness_jobs where l1_batch_number = 2"
assert_eq queued "$(wg_psql "select status from prover_jobs where id = $node_done")" "the damaged node job is queued again"
prove_all_until 2 proven 60
assert_eq 1 "$(wg_psql "select count(*) from prover_jobs where l1_batch_number = 2 and aggregation_round = 3")" \
	"one scheduler circuit"

# Batch 3: damage a leaf proof before the node round loads it (2 leaf circuits over 5 main_vm).
pl_gen_input 3 --logs 0 --workload main_vm=$((5390 * 5)) >"$WG_TMP/in3.json"
pl_upload 3 "$WG_TMP/in3.json"
assert_status 201
wg_wait_until 20 sql_is 5 "select count(*) from prover_jobs where l1_batch_number = 3"
for k in 1 2 3 4 5; do
	claim_round 0 || fail "basic job $k of batch 3"
done
wg_wait_until 20 sql_is 2 "select count(*) from prover_jobs where l1_batch_number = 3 and aggregation_round = 1"
claim_round 1 || fail "first leaf job of batch 3"
leaf_done=$PL_JOB_ID
wg_psql "update proofs set proof = 'WGREF1garbage' where prover_job_id = $leaf_done"
claim_round 1 || fail "second leaf job of batch 3"
wg_wait_until 20 sql_is "waiting_for_proofs 1 1" \
	"select status || ' ' || proofs_done || ' ' || attempts from node_aggregation_jobs where l1_batch_number = 3"
assert_eq queued "$(wg_psql "select status from prover_jobs where id = $leaf_done")" "the damaged leaf job is queued again"
assert_contains "$(wg_psql "select error from prover_jobs where id = $leaf_done")" "failed verification in round 2" \
	"the damaged leaf job records the node round's finding"
assert_eq 0 "$(wg_psql "select count(*) from prover_jobs where l1_batch_number = 3 and aggregation_round = 2")" \
	"the node round created nothing"
prove_all_until 3 proven 60
assert_eq "1 2" "$(wg_psql "select (select count(*) from prover_jobs where l1_batch_number = 3 and aggregation_round = 2)
	|| ' ' || (select attempts from node_aggregation_jobs where l1_batch_number = 3)")" \
	"one node circuit, made by the node job's second claim"
