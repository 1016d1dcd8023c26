# Shared by the benchmarks (sourced after tests/integration/lib.sh and wg_setup).

# bench_transitions BATCH: prints, per round, how long the fleet waited between layers: from the
# last proof of a layer being recorded to the first claim of the layer that aggregates it (basic
# -> leaf per circuit type, leaf -> node depth 0 and node depth d -> d + 1 per circuit type, the
# last node proofs -> the scheduler), p50 and p99 in ms over the batch's transitions. The first
# claim comes after the next layer's jobs were committed and a prover was free to take one, so
# this is an upper bound of the daemon's part. Sets TRANSITION_P99_MS to the p99 over all of them.
bench_transitions() {
	local batch=$1 line
	local sql="
WITH a AS (
  SELECT p.aggregation_round AS r, p.circuit_id AS c, p.depth AS d, t.claimed_at, t.ended_at, t.outcome
  FROM prover_jobs p JOIN prover_job_attempts t ON t.prover_job_id = p.id WHERE p.l1_batch_number = $batch),
layers AS (
  SELECT r, c, d, min(claimed_at) AS first_claim, max(ended_at) FILTER (WHERE outcome = 'successful') AS last_done
  FROM a GROUP BY r, c, d),
gaps AS (
  SELECT n.r AS round, n.first_claim - p.last_done AS gap FROM layers p JOIN layers n
    ON n.c = p.c AND ((p.r = 0 AND n.r = 1) OR (p.r = 1 AND n.r = 2 AND n.d = 0) OR (p.r = 2 AND n.r = 2 AND n.d = p.d + 1))
  UNION ALL
  SELECT 3, (SELECT min(first_claim) FROM layers WHERE r = 3) - max(last_done) FROM layers WHERE r = 2),
ms AS (SELECT round::text AS rnd, extract(epoch FROM gap) * 1000 AS v FROM gaps
       UNION ALL SELECT 'all', extract(epoch FROM gap) * 1000 FROM gaps)
SELECT rnd, count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY v)::numeric, 1),
  round(percentile_cont(0.99) WITHIN GROUP (ORDER BY v)::numeric, 1)
FROM ms GROUP BY rnd ORDER BY rnd"
	TRANSITION_P99_MS=
	printf 'round transitions of batch %s (last proof of a layer -> first claim of the next):\n' "$batch"
	while IFS='|' read -r round n p50 p99; do
		case $round in
		1) round="basic -> leaf" ;;
		2) round="leaf/node -> node" ;;
		3) round="node -> scheduler" ;;
		all) TRANSITION_P99_MS=$p99 ;;
		esac
		printf '  %-18s %5s transitions  p50 %7s ms  p99 %7s ms\n' "$round" "$n" "$p50" "$p99"
	done < <(wg_psql "$sql")
	[[ -n $TRANSITION_P99_MS ]] || fail "no round transition of batch $batch was measured"
}

# bench_cpu_seconds PID...: CPU seconds (user + system) used so far by these processes, summed
# (a process gone counts 0).
bench_cpu_seconds() {
	local pid total=0 hz
	hz=$(getconf CLK_TCK)
	for pid in "$@"; do
		# utime and stime: fields 14 and 15 of /proc/PID/stat, 12 and 13 after the command name.
		total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
	done
	awk -v t="$total" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'
}

# bench_pg_pids: the test cluster's processes (its postmaster and every child).
bench_pg_pids() {
	local pm
	pm=$(head -n 1 "$(find "$WG_PGDIR" -maxdepth 2 -name postmaster.pid | head -n 1)")
	echo "$pm"
	pgrep -P "$pm" || true
}
