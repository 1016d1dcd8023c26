#!/bin/bash
# t_big_batch.sh: a batch of 2,400 basic circuits goes from upload to `proven` with the bundled
# prover (wg-prover --concurrency 4 --until-idle), default arities (32). Its 2,390 main_vm
# circuits need 75 leaf circuits and two node layers (3, then 1). Checks the job counts of every
# layer against docs/circuits.md and prints the elapsed time (informational).
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
PROVER="$WG_BUILDDIR/wg-prover"
[[ -x $PROVER ]] || fail "$PROVER not built"
wg_start_daemon a
pl_use a

batch=1
logs=330
workload="main_vm=$((5390 * 2390))"
read -ra COUNTS <<<"$(circuit_counts "$workload" $logs)"
assert_eq "1=2390 10=10" "${COUNTS[*]}" "circuit counts"
EXPECTED=$(expected_counts 32 32 "${COUNTS[@]}")
assert_eq "0|1|0|2390 0|10|0|10 1|1|0|75 1|10|0|1 2|1|0|3 2|1|1|1 2|10|0|1 3|0|0|1" \
	"$(tr '\n' ' ' <<<"$EXPECTED" | sed 's/ $//')" "expected layers"
total=$(expected_total 32 32 "${COUNTS[@]}")
pl_gen_input $batch --logs $logs --initial 1000 --workload "$workload" >"$WG_TMP/in.json"

start=$(date +%s.%N)
pl_upload $batch "$WG_TMP/in.json"
assert_status 201
assert_json_eq .basic_circuits 2400
# --until-idle ends a run once no job came for 5 s; on a loaded machine a round can take longer
# than that, so the prover is run again (at most 5 times) until the batch is proven.
runs=0
proved=0
by_round=(0 0 0 0)
while :; do
	runs=$((runs + 1))
	"$PROVER" --url "$PL_URL" --token "$PL_PROVER" --concurrency 4 --until-idle --idle-seconds 5 \
		>"$WG_TMP/prover$runs.out" 2>"$WG_TMP/prover$runs.err" || {
		rc=$?
		tail -20 "$WG_TMP/prover$runs.err" >&2
		fail "wg-prover exited with status $rc"
	}
	cat "$WG_TMP/prover$runs.out"
	summary=$(grep '^wg-prover: proved ' "$WG_TMP/prover$runs.out") || fail "no summary line from wg-prover"
	[[ $summary =~ proved\ ([0-9]+)\ jobs\ \(round0=([0-9]+)\ round1=([0-9]+)\ round2=([0-9]+)\ round3=([0-9]+)\) ]] ||
		fail "unexpected wg-prover summary: $summary"
	assert_contains "$summary" "lost leases 0, rejected proofs 0" "wg-prover run $runs: no lease lost, no proof refused"
	proved=$((proved + BASH_REMATCH[1]))
	for r in 0 1 2 3; do
		by_round[r]=$((by_round[r] + BASH_REMATCH[r + 2]))
	done
	[[ $(batch_status $batch) == proven ]] && break
	((runs < 5)) || fail "batch $batch is not proven after $runs runs of wg-prover"
done
end=$(date +%s.%N)
wg__pass
assert_eq "$total" "$proved" "wg-prover proved every job once"
assert_eq "2400 76 5 1" "${by_round[*]}" "wg-prover jobs per round"

assert_eq "$EXPECTED" "$(pl_sql_counts $batch)" "prover jobs per (round, circuit, depth)"
pl_assert_unique $batch
assert_eq "$total|$total" "$(wg_psql "SELECT count(*), count(*) FILTER (WHERE status = 'successful')
	FROM prover_jobs WHERE l1_batch_number = $batch")" "every prover job successful"
pl_get /batches/$batch
assert_json_eq '[.rounds[].prover_jobs.successful] | map(tostring) | join(",")' "2400,76,5,1"
assert_json_eq '[.rounds[].witness_jobs.successful] | map(tostring) | join(",")' "1,2,3,1"

# The final proof is the reference proof of the scheduler witness.
sched=$(wg_psql "SELECT id FROM prover_jobs WHERE l1_batch_number = $batch AND aggregation_round = 3")
pl_witness_admin "$sched" "$WG_TMP/sched.wit"
pl_ref_prove "$WG_TMP/sched.wit" "$WG_TMP/sched.expected"
pl_get /batches/$batch/proof
assert_status 200
cmp -s "$WG_TMP/sched.expected" "$HTTP_BODY_FILE" || fail "the final proof is not WGREF1 || H(scheduler witness)"
wg__pass

proven_after=$(wg_psql "SELECT round(extract(epoch FROM p.updated_at - b.created_at)::numeric, 1)
	FROM prover_jobs p JOIN basic_circuit_witness_jobs b USING (l1_batch_number)
	WHERE p.l1_batch_number = $batch AND p.aggregation_round = 3")
echo "# t_big_batch: $total jobs; upload to proven in $proven_after s;" \
	"$runs run(s) of wg-prover took $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }') s (with 5 s idle each)"
