#!/bin/bash
# t_many_daemons.sh: three daemons on one database (issue 4, point 4), each with its own
# --instance-id and port, --store postgres and one worker per round. Eight batches of seven
# circuit types each are uploaded to the three daemons in turn and proved by three wg-provers,
# one per daemon. Every batch reaches `proven` with the exactly-once invariants of crash_lib.sh, every
# witness job was run by one of the three daemons, and each daemon ran at least 20% of the
# witness jobs (by `picked_by` on the four witness job tables): claiming is shared, not won by
# one daemon every time.
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
DAEMONS=(a b c)
shared=(--store postgres --workers 1 --leaf-arity 2 --node-arity 2 --poll-ms 500 --http-threads 8)
for d in "${DAEMONS[@]}"; do
	wg_start_daemon "$d" "${shared[@]}"
done
pl_use a

# Seven circuit types with 3 to 14 circuits each: per type one leaf job and one to three node
# jobs (arity 2), so about 25 witness jobs per batch, many of them queued at nearly the same time.
BATCHES=(1 2 3 4 5 6 7 8)
for b in "${BATCHES[@]}"; do
	n=$((3 + b))
	cl_prepare "$b" $((33 * n)) "main_vm=$((5390 * n)),code_decommitter=$((2845 * (n + 1))),keccak256=$((293 * (n + 2)))\
,sha256=$((2206 * (14 - n))),ecrecover=$((7 * (n + 3))),l1_messages_hasher=$((774 * (17 - n)))"
done

for d in "${DAEMONS[@]}"; do
	cl_start_prover "$d" "$(wg_url "$d")" --concurrency 3
done
for b in "${BATCHES[@]}"; do
	d=${DAEMONS[$((b % 3))]}
	cl_upload "$b" 30 "$(wg_url "$d")"
	assert_status 201
done

cl_wait_proven 60 "${BATCHES[@]}"
check_invariants "${BATCHES[@]}"
for d in "${DAEMONS[@]}"; do
	cl_stop_prover "$d"
done

# Who ran the witness jobs.
shares=$(wg_psql "SELECT coalesce(picked_by, '(none)') || '=' || count(*) FROM (
	SELECT picked_by FROM basic_circuit_witness_jobs
	UNION ALL SELECT picked_by FROM leaf_aggregation_jobs
	UNION ALL SELECT picked_by FROM node_aggregation_jobs
	UNION ALL SELECT picked_by FROM scheduler_witness_jobs) j GROUP BY picked_by ORDER BY picked_by" | tr '\n' ' ')
total=$(wg_psql "SELECT (SELECT count(*) FROM basic_circuit_witness_jobs) + (SELECT count(*) FROM leaf_aggregation_jobs)
	+ (SELECT count(*) FROM node_aggregation_jobs) + (SELECT count(*) FROM scheduler_witness_jobs)")
echo "# witness jobs run by each daemon (of $total): $shares"
for entry in $shares; do
	[[ ${entry%%=*} == [abc] ]] || fail "witness jobs picked by someone else than a, b and c: $shares"
done
for d in "${DAEMONS[@]}"; do
	n=$(wg_psql "SELECT count(*) FROM (
		SELECT picked_by FROM basic_circuit_witness_jobs UNION ALL SELECT picked_by FROM leaf_aggregation_jobs
		UNION ALL SELECT picked_by FROM node_aggregation_jobs UNION ALL SELECT picked_by FROM scheduler_witness_jobs) j
		WHERE picked_by = '$d'")
	((n * 5 >= total)) || fail "daemon $d ran $n of $total witness jobs, less than 20% ($shares)"
	wg__pass
done
# Every daemon also served provers (each wg-prover talked to its own daemon only).
for d in "${DAEMONS[@]}"; do
	proved=$(sed -n 's/^wg-prover: proved \([0-9]*\) jobs.*/\1/p' "$WG_TMP/prover-$d.log")
	[[ -n $proved ]] || fail "no summary line from the prover of daemon $d"
	((proved > 0)) || fail "the prover of daemon $d proved no job: $(grep 'wg-prover: proved' "$WG_TMP/prover-$d.log")"
	wg__pass
done
echo "# t_many_daemons: ${#BATCHES[@]} batches, $(wg_psql "SELECT count(*) FROM prover_jobs") prover jobs in $((SECONDS - T0)) s"
