#!/bin/bash
# t_concurrency.sh: the last proofs of a layer completing at the same time (docs/state-machine.md). Two
# daemons share one database and one store; every layer of a batch is claimed whole, proved, and
# then all its completions are sent at once, each one three times, spread over both daemons. The
# dependent witness job must be queued exactly once per layer (proofs_done equal to its
# dependencies, claimed once), each completion counted once, ceil(k / arity) circuits created per
# layer without duplicates, and the batch must still reach `proven`.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
LEAF_ARITY=4
NODE_ARITY=2
REPEATS=3
# A wave sends up to 3 x 87 completions at once from one address, over the default
# --max-connections-per-ip of 64.
shared=(--store "file:$WG_TMP/store-shared" --leaf-arity "$LEAF_ARITY" --node-arity "$NODE_ARITY" --http-threads 8
	--max-connections-per-ip 512)
wg_start_daemon a "${shared[@]}"
wg_start_daemon b "${shared[@]}"
URLS=("$(wg_url a)" "$(wg_url b)")
pl_use a

# main_vm and code_decommitter with 40 circuits each (leaf 10, node layers 5, 3, 2, 1: their final
# node proofs arrive together at the scheduler job), keccak256 with 7 (leaf 2, node 1).
batch=1
workload="main_vm=$((5390 * 40)),code_decommitter=$((2845 * 40)),keccak256=$((293 * 7))"
read -ra COUNTS <<<"$(circuit_counts "$workload" 0)"
assert_eq "1=40 3=40 5=7" "${COUNTS[*]}" "circuit counts"
EXPECTED=$(expected_counts $LEAF_ARITY $NODE_ARITY "${COUNTS[@]}")
pl_gen_input $batch --logs 0 --workload "$workload" >"$WG_TMP/in.json"
pl_upload $batch "$WG_TMP/in.json"
assert_status 201

# idle_with_work: no witness job of the batch is queued or running, and prover jobs are queued
# (a whole layer is there to claim) or the batch is proven.
idle_with_work() {
	local busy queued
	busy=$(wg_psql "SELECT (SELECT count(*) FROM basic_circuit_witness_jobs WHERE status IN ('queued', 'in_progress'))
		+ (SELECT count(*) FROM leaf_aggregation_jobs WHERE status IN ('queued', 'in_progress'))
		+ (SELECT count(*) FROM node_aggregation_jobs WHERE status IN ('queued', 'in_progress'))
		+ (SELECT count(*) FROM scheduler_witness_jobs WHERE status IN ('queued', 'in_progress'))")
	queued=$(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'queued'")
	((busy == 0)) && { ((queued > 0)) || [[ $(batch_status $batch) == proven ]]; }
}

# One wave: claim every queued circuit, prove them all, then send every completion REPEATS times
# at once (all requests start together on a signal), alternating between the daemons.
wave_sizes=()
total_first=0
total_repeat=0
wave=0
while :; do
	wg_wait_until 60 idle_with_work
	[[ $(batch_status $batch) == proven ]] && break
	wave=$((wave + 1))
	ids=()
	declare -A lease=()
	while pl_claim && [[ $HTTP_STATUS == 200 ]]; do
		ids+=("$PL_JOB_ID")
		lease[$PL_JOB_ID]=$PL_JOB_LEASE
	done
	assert_status 204
	# Witnesses are downloaded and proved in parallel (plain curl: no assertions in subshells).
	pids=()
	for id in "${ids[@]}"; do
		(
			curl -sS --fail --max-time 60 -o "$WG_TMP/w$id" -H "Authorization: Bearer $PL_PROVER" \
				-H "X-WG-Lease: ${lease[$id]}" "$PL_URL/jobs/$id/witness" && "$PL_REF_PROVE" "$WG_TMP/w$id" >"$WG_TMP/p$id"
		) &
		pids+=("$!")
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || fail "wave $wave: downloading or proving a witness failed"
	done
	# The completions wait behind an exclusive lock that is released once all are started.
	go="$WG_TMP/go$wave"
	wave_dir="$WG_TMP/wave$wave"
	mkdir -p "$wave_dir"
	exec {lock_fd}>"$go"
	flock -x "$lock_fd"
	pids=()
	n=0
	for id in "${ids[@]}"; do
		for ((k = 0; k < REPEATS; k++)); do
			url=${URLS[$(((n++) % 2))]}
			(
				exec {lock_fd}>&-
				flock -s "$go" true
				curl -sS --max-time 60 -o "$wave_dir/$id.$k.body" -w '%{http_code}\n' -X POST \
					-H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/octet-stream' \
					-H "X-WG-Lease: ${lease[$id]}" --data-binary "@$WG_TMP/p$id" \
					"$url/proofs/$id/complete" >"$wave_dir/$id.$k.code" 2>"$wave_dir/$id.$k.err" || true
			) &
			pids+=("$!")
		done
	done
	exec {lock_fd}>&-
	wait "${pids[@]}"
	codes=$(cat "$wave_dir"/*.code | sort | uniq -c | awk '{ print $2 "x" $1 }' | tr '\n' ' ' | sed 's/ $//')
	assert_eq "200x$((REPEATS * ${#ids[@]}))" "$codes" "wave $wave: every completion answered 200"
	first=$(cat "$wave_dir"/*.body | jq -s '[.[] | select(.repeat == false)] | length')
	repeat=$(cat "$wave_dir"/*.body | jq -s '[.[] | select(.repeat == true)] | length')
	assert_eq "${#ids[@]}|$(((REPEATS - 1) * ${#ids[@]}))" "$first|$repeat" \
		"wave $wave: each job completed once, the other completions were repeats"
	for id in "${ids[@]}"; do
		assert_eq 1 "$(cat "$wave_dir/$id".*.body | jq -s '[.[] | select(.repeat == false)] | length')" \
			"wave $wave: job $id completed exactly once"
	done
	wave_sizes+=("${#ids[@]}")
	total_first=$((total_first + first))
	total_repeat=$((total_repeat + repeat))
	unset lease
	((wave < 20)) || fail "more than 20 waves"
done

# Waves: basic 87; leaf 10 + 10 + 2; node depth 0: 5 + 5 + 1; depth 1: 3 + 3; depth 2: 2 + 2;
# depth 3: 1 + 1 (the two final proofs the scheduler job awaits, together); the scheduler.
assert_eq "87 22 11 6 4 2 1" "${wave_sizes[*]}" "layers claimed and completed as waves"
total=$(expected_total $LEAF_ARITY $NODE_ARITY "${COUNTS[@]}")
assert_eq "$total|$((total * (REPEATS - 1)))" "$total_first|$total_repeat" "completions over all waves"

# The prover jobs: the formulas of docs/circuits.md, each once, all successful.
assert_eq "$EXPECTED" "$(pl_sql_counts $batch)" "prover jobs per (round, circuit, depth)"
pl_assert_unique $batch
assert_eq "$total|$total" "$(wg_psql "SELECT count(*), count(*) FILTER (WHERE status = 'successful' AND attempts = 1)
	FROM prover_jobs WHERE l1_batch_number = $batch")" "every prover job successful on its first claim"

# Every witness job was queued once, claimed once, and counted exactly its dependencies.
assert_eq "1=40|40|1|successful 3=40|40|1|successful 5=7|7|1|successful" \
	"$(wg_psql "SELECT circuit_id || '=' || number_of_basic_circuits, proofs_done, attempts, status
		FROM leaf_aggregation_jobs WHERE l1_batch_number = $batch ORDER BY circuit_id" | tr '\n' ' ' | sed 's/ $//')" \
	"leaf jobs: proofs_done = basic circuits, claimed once"
assert_eq "$(awk -F'|' '$1 == 1 { below[$2] = $4 }
		$1 == 2 { print $2 "|" $3 "|" below[$2] "|" below[$2] "|1|successful"; below[$2] = $4 }' <<<"$EXPECTED")" \
	"$(wg_psql "SELECT circuit_id, depth, number_of_dependent_jobs, proofs_done, attempts, status
		FROM node_aggregation_jobs WHERE l1_batch_number = $batch ORDER BY circuit_id, depth")" \
	"node jobs: proofs_done = dependencies, claimed once"
assert_eq "3|3|1|successful" "$(wg_psql "SELECT number_of_dependent_jobs, proofs_done, attempts, status
	FROM scheduler_witness_jobs WHERE l1_batch_number = $batch")" "scheduler job: queued once"
assert_eq "successful|1" "$(wg_psql "SELECT status, attempts FROM basic_circuit_witness_jobs")" "basic job"

# The final proof is the reference proof of the scheduler witness, through either daemon.
sched=$(wg_psql "SELECT id FROM prover_jobs WHERE l1_batch_number = $batch AND aggregation_round = 3")
for d in a b; do
	wg_http GET "$(wg_url $d)/batches/$batch/proof" -H "Authorization: Bearer $PL_VIEWER"
	assert_status 200
	assert_eq "$(od -An -v -tx1 "$WG_TMP/p$sched" | tr -d ' \n')" "$(od -An -v -tx1 "$HTTP_BODY_FILE" | tr -d ' \n')" \
		"final proof from daemon $d"
done
spread=$(wg_psql "SELECT round(extract(epoch FROM max(updated_at) - min(updated_at)) * 1000)
	FROM prover_jobs WHERE l1_batch_number = $batch AND aggregation_round = 0")
echo "# t_concurrency: $wave waves (${wave_sizes[*]}), $((total * REPEATS)) completions over 2 daemons;" \
	"the 87 basic completions committed within $spread ms"
