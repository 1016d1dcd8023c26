# Shared by the benchmarks (sourced after tests/integration/lib.sh and wg_setup).

# bench_transitions BATCH: prints, per round, the time between layers of the batch: from the last
# proof of a layer being recorded (its completion group's transaction) to the first job of the
# layer that aggregates it being queued (created_at: the round's commit is its next step) —
# "claimable", the daemon's part — and to the first claim of one of them ("claimed", which also
# waits for a free prover and for the claim order: a batch's basic jobs go before its leaf jobs).
# Pairs: basic -> leaf and leaf -> node depth 0 and node depth d -> d + 1 per circuit type, the
# last node proofs -> the scheduler. Sets TRANSITION_P99_MS to the p99 of "claimable" over all.
bench_transitions() {
	local batch=$1
	local sql="
WITH a AS (
  SELECT p.aggregation_round AS r, p.circuit_id AS c, p.depth AS d, p.created_at, t.claimed_at, t.ended_at, t.outcome
  FROM prover_jobs p JOIN prover_job_attempts t ON t.prover_job_id = p.id WHERE p.l1_batch_number = $batch),
layers AS (
  SELECT r, c, d, min(created_at) AS first_queued, min(claimed_at) AS first_claim,
    max(ended_at) FILTER (WHERE outcome = 'successful') AS last_done
  FROM a GROUP BY r, c, d),
gaps AS (
  SELECT n.r AS round, n.first_queued - p.last_done AS queued, n.first_claim - p.last_done AS claimed
  FROM layers p JOIN layers n
    ON n.c = p.c AND ((p.r = 0 AND n.r = 1) OR (p.r = 1 AND n.r = 2 AND n.d = 0) OR (p.r = 2 AND n.r = 2 AND n.d = p.d + 1))
  UNION ALL
  SELECT 3, (SELECT min(first_queued) FROM layers WHERE r = 3) - max(last_done),
    (SELECT min(first_claim) FROM layers WHERE r = 3) - max(last_done) FROM layers WHERE r = 2),
ms AS (SELECT round::text AS rnd, extract(epoch FROM queued) * 1000 AS q, extract(epoch FROM claimed) * 1000 AS k FROM gaps
       UNION ALL SELECT 'all', extract(epoch FROM queued) * 1000, extract(epoch FROM claimed) * 1000 FROM gaps)
SELECT rnd, count(*),
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY q)::numeric, 1), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY q)::numeric, 1),
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY k)::numeric, 1), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY k)::numeric, 1)
FROM ms GROUP BY rnd ORDER BY rnd"
	TRANSITION_P99_MS=
	printf 'round transitions of batch %s, ms from the last proof of a layer to the next layer (p50/p99):\n' "$batch"
	local round n q50 q99 k50 k99
	while IFS='|' read -r round n q50 q99 k50 k99; do
		case $round in
		1) round="basic -> leaf" ;;
		2) round="leaf/node -> node" ;;
		3) round="node -> scheduler" ;;
		all) TRANSITION_P99_MS=$q99 ;;
		esac
		printf '  %-18s %5s transitions  claimable %7s / %7s   claimed %7s / %7s\n' "$round" "$n" "$q50" "$q99" "$k50" "$k99"
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

# bench_pg_cpu_seconds: CPU seconds used so far by the test cluster, including its processes that
# have exited (the postmaster reaps its backends: their time is in its cutime and cstime).
bench_pg_cpu_seconds() {
	local pm hz
	hz=$(getconf CLK_TCK)
	pm=$(head -n 1 "$(find "$WG_PGDIR" -maxdepth 2 -name postmaster.pid | head -n 1)")
	# shellcheck disable=SC2046
	awk -v live="$(bench_cpu_seconds $(bench_pg_pids))" -v hz="$hz" \
		'{ sub(/^.*\) /, ""); printf "%.2f", live + ($14 + $15) / hz }' "/proc/$pm/stat"
}

# bench_pg_pids: the test cluster's processes (its postmaster and every child).
bench_pg_pids() {
	local pm
	pm=$(head -n 1 "$(find "$WG_PGDIR" -maxdepth 2 -name postmaster.pid | head -n 1)")
	echo "$pm"
	pgrep -P "$pm" || true
}

# bench_wal_mark: checkpoints so far and WAL bytes written so far, as "CHECKPOINTS BYTES";
# bench_wal_since MARK prints what happened since, for a run's report: a checkpoint during a run
# (stock max_wal_size is 1 GB) writes every dirty page and slows everything that runs meanwhile.
bench_wal_mark() {
	wg_psql "SELECT checkpoints_timed + checkpoints_req, pg_current_wal_lsn() - '0/0'::pg_lsn FROM pg_stat_bgwriter" |
		tr '|' ' '
}
bench_wal_since() {
	# shellcheck disable=SC2046,SC2086 # MARK is two words
	set -- $1 $(bench_wal_mark)
	awk -v c0="$1" -v b0="$2" -v c1="$3" -v b1="$4" \
		'BEGIN { printf "%d checkpoints, %.0f MB of WAL", c1 - c0, (b1 - b0) / 1048576 }'
}

# bench_pgss_enable: loads pg_stat_statements into the bench cluster (a restart) when
# WG_BENCH_PGSS=1, so that bench_pgss_report can say where PostgreSQL's time went.
bench_pgss_enable() {
	[[ ${WG_BENCH_PGSS:-0} == 1 ]] || return 0
	wg_psql "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
	wg_pg_stop >/dev/null
	wg_pg_start >/dev/null
	wg_psql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
}

# bench_pgss_report [N]: the N (default 8) statements with the most execution time since the last
# reset, and resets (only with WG_BENCH_PGSS=1).
bench_pgss_report() {
	[[ ${WG_BENCH_PGSS:-0} == 1 ]] || return 0
	printf '  PostgreSQL time by statement (pg_stat_statements): total ms | calls | rows | statement\n'
	wg_psql "SELECT round(total_exec_time::numeric, 0) || ' | ' || calls || ' | ' || rows || ' | ' ||
		left(regexp_replace(query, '\\s+', ' ', 'g'), 90) FROM pg_stat_statements
		ORDER BY total_exec_time DESC LIMIT ${1:-8}" | sed 's/^/    /'
	wg_psql "SELECT pg_stat_statements_reset()" >/dev/null
}

# bench_tables_report: per table, live and dead row versions and the vacuums and analyses so far,
# by the daemon or by autovacuum (only with WG_BENCH_PGSS=1, beside the statements).
bench_tables_report() {
	[[ ${WG_BENCH_PGSS:-0} == 1 ]] || return 0
	printf '  tables: name | live | dead | vacuums (own, auto) | analyses (own, auto)\n'
	wg_psql "SELECT relname || ' | ' || n_live_tup || ' | ' || n_dead_tup || ' | ' || vacuum_count || ', ' ||
		autovacuum_count || ' | ' || analyze_count || ', ' || autoanalyze_count FROM pg_stat_user_tables
		WHERE n_live_tup + n_dead_tup > 0 ORDER BY n_dead_tup DESC LIMIT 8" | sed 's/^/    /'
}

# bench_wait_proven URL VIEWER_TOKEN BATCH: returns once the batch is proven, polling its final
# proof every 20 ms (one indexed read: GET /batches/{n}, which counts every job of the batch, would
# cost the database more than the work being measured); fails if the batch fails.
bench_wait_proven() {
	local url=$1 token=$2 batch=$3 code n=0
	while :; do
		code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/batches/$batch/proof")
		[[ $code == 200 ]] && return 0
		if ((++n % 50 == 0)) &&
			[[ $(curl -fsS -H "Authorization: Bearer $token" "$url/batches/$batch" | jq -r .status) == failed ]]; then
			fail "batch $batch failed"
		fi
		sleep 0.02
	done
}
