#!/bin/bash
# bench_traffic.sh: prover traffic through the daemon next to the same SQL driven directly, in one
# run on one durable PostgreSQL cluster (fsync and synchronous_commit on).
#
# HTTP: wg-prover --rounds 0 against the daemon, each cycle a claim, a witness download and a
# completion (the completion verifies the proof, stores it and counts it on the waiting leaf job).
# Raw SQL: pgbench on a copy of prover_jobs running the claim statement
#   UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED)
# then a transaction that marks the job successful and inserts its proof: what one cycle costs
# the database with no HTTP, no witness and no dependent row. Batched raw SQL: the same with 8
# jobs per statement and per commit, as the daemon's groups batch them.
# CPU: microseconds of CPU per HTTP cycle used by the daemon and by PostgreSQL (all its processes).
#
# Prints name=value lines with the target and the verdict. Targets at 32 provers: HTTP with
# wg-prover's defaults >= 1.0x the raw rate and >= 0.7x the batched raw rate, with --batch 1 >= 0.8x,
# p99 <= 50 ms, no errors.
# Run by `make bench` (WG_BUILDDIR, WG_SRCDIR and PG_BINDIR come from the Makefile).
set -euo pipefail
export WG_PG_FAST=0
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=bench/bench_lib.sh
. "$WG_SRCDIR/bench/bench_lib.sh"
wg_setup
PGBENCH=${PG_BINDIR:-$(pg_config --bindir)}/pgbench
[[ -x $PGBENCH ]] || fail "pgbench not found at $PGBENCH"
LEVELS=${WG_BENCH_LEVELS:-1 8 32 128}
SECONDS_PER_LEVEL=${WG_BENCH_SECONDS:-4}

# Every prover thread holds a connection from 127.0.0.1: at 128 provers that is over the default
# --max-connections-per-ip (64), whose refusals would count as errors here.
# shellcheck disable=SC2086 # WG_BENCH_DAEMON_ARGS is a list of options
wg_start_daemon bench --max-connections-per-ip 0 ${WG_BENCH_DAEMON_ARGS:-}
url=$(wg_url bench)
tree=$(wg_token tree)
prover=$(wg_token prover)

# A copy of prover_jobs (same columns and claim index) and of proofs, for pgbench.
wg_psql "CREATE TABLE bench_jobs (LIKE prover_jobs INCLUDING ALL);
	CREATE TABLE bench_proofs (LIKE proofs INCLUDING ALL);" >/dev/null
cat >"$WG_TMP/cycle.sql" <<'EOF'
UPDATE bench_jobs SET status = 'in_progress', attempts = attempts + 1, picked_by = 'pgbench',
  lease_expires_at = now() + make_interval(secs => 600), processing_started_at = now(), updated_at = now()
  WHERE id = (SELECT id FROM bench_jobs WHERE status = 'queued' AND protocol_version = 24
    ORDER BY priority DESC, l1_batch_number, aggregation_round, id LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id AS job, attempts AS lease \gset
BEGIN;
UPDATE bench_jobs SET status = 'successful', proof_hash = sha256(:job::text::bytea), lease_expires_at = NULL,
  time_taken = now() - processing_started_at, updated_at = now(), error = NULL
  WHERE id = :job AND status = 'in_progress' AND attempts = :lease;
INSERT INTO bench_proofs (prover_job_id, l1_batch_number, proof) VALUES (:job, 1, sha256(:job::text::bytea));
COMMIT;
EOF

# The same row changes batched 8 per statement, as the daemon's claim and completion groups batch
# them: claim 8 in one UPDATE ... RETURNING, complete the 8 in one transaction (one commit).
cat >"$WG_TMP/cycle8.sql" <<'EOF'
WITH claimed AS (UPDATE bench_jobs SET status = 'in_progress', attempts = attempts + 1, picked_by = 'pgbench',
  lease_expires_at = now() + make_interval(secs => 600), processing_started_at = now(), updated_at = now()
  WHERE id IN (SELECT id FROM bench_jobs WHERE status = 'queued' AND protocol_version = 24
    ORDER BY priority DESC, l1_batch_number, aggregation_round, id LIMIT 8 FOR UPDATE SKIP LOCKED)
  RETURNING id)
SELECT string_agg(id::text, ',') AS jobs FROM claimed \gset
BEGIN;
UPDATE bench_jobs SET status = 'successful', proof_hash = sha256(id::text::bytea), lease_expires_at = NULL,
  time_taken = now() - processing_started_at, updated_at = now(), error = NULL
  WHERE id IN (:jobs) AND status = 'in_progress';
INSERT INTO bench_proofs (prover_job_id, l1_batch_number, proof)
  SELECT id, 1, sha256(id::text::bytea) FROM bench_jobs WHERE id IN (:jobs);
COMMIT;
EOF

# raw_rate CLIENTS [SCRIPT [CYCLES_PER_TX]]: cycles per second of the SQL alone (one job per
# transaction pair by default; cycle8.sql makes 8).
raw_rate() {
	local clients=$1 script=${2:-cycle.sql} per_tx=${3:-1} threads=$(($1 < 2 ? 1 : 2))
	wg_psql "TRUNCATE bench_jobs, bench_proofs;
		INSERT INTO bench_jobs (l1_batch_number, protocol_version, aggregation_round, circuit_id, sequence_number)
		SELECT 1, 24, 0, 1, g FROM generate_series(0, 200000) g;" >/dev/null
	wg_psql "VACUUM ANALYZE bench_jobs" >/dev/null
	"$PGBENCH" -n -T "$SECONDS_PER_LEVEL" -c "$clients" -j "$threads" -f "$WG_TMP/$script" "$WG_DB" \
		>"$WG_TMP/pgbench-$clients.out" 2>&1 || {
		cat "$WG_TMP/pgbench-$clients.out" >&2
		fail "pgbench with $clients clients failed"
	}
	awk -v k="$per_tx" '/^tps = / { printf "%.0f", $3 * k }' "$WG_TMP/pgbench-$clients.out"
}

batch=0
# http_rate PROVERS [WG-PROVER OPTIONS...]: runs wg-prover against a fresh batch for about
# SECONDS_PER_LEVEL; sets RATE (cycles/s), P50, P99 (ms) and ERRORS.
http_rate() {
	local provers=$1 jobs
	shift
	batch=$((batch + 1))
	# Enough circuits that the level never runs out (it stops at --max-jobs).
	jobs=$((provers == 1 ? 2500 : 12000))
	jobs=$((jobs * SECONDS_PER_LEVEL / 4))
	"$WG_BUILDDIR/wgctl" gen-input --batch "$batch" --logs 0 --workload "main_vm=$((5390 * (jobs + 500)))" \
		>"$WG_TMP/in$batch.json"
	curl -fsS -H "Authorization: Bearer $tree" -H 'Content-Type: application/json' \
		--data-binary "@$WG_TMP/in$batch.json" "$url/batches/$batch/witness-inputs" >/dev/null
	local deadline=$((SECONDS + 60))
	until [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = $batch") == successful ]]; do
		((SECONDS < deadline)) || fail "the basic round of batch $batch did not finish"
		sleep 0.1
	done
	# Each level starts from a vacuumed table, as the raw SQL's does (it is refilled per level).
	wg_psql "VACUUM ANALYZE prover_jobs" >/dev/null
	local t0 t1 daemon0 pg0
	daemon0=$(bench_cpu_seconds "$(wg_daemon_pid bench)")
	# shellcheck disable=SC2046
	pg0=$(bench_cpu_seconds $(bench_pg_pids))
	t0=$(date +%s.%N)
	"$WG_BUILDDIR/wg-prover" --url "$url" --token "$prover" --rounds 0 --concurrency "$provers" \
		--max-jobs "$jobs" "$@" >"$WG_TMP/prover-$batch.out" 2>"$WG_TMP/prover-$batch.err" ||
		fail "wg-prover failed: $(tail -n 3 "$WG_TMP/prover-$batch.err")"
	t1=$(date +%s.%N)
	local proved
	proved=$(sed -n 's/^wg-prover: proved \([0-9]*\) jobs.*/\1/p' "$WG_TMP/prover-$batch.out")
	CPU_DAEMON_US=$(awk -v a="$(bench_cpu_seconds "$(wg_daemon_pid bench)")" -v b="$daemon0" -v n="$proved" \
		'BEGIN { printf "%.0f", (a - b) * 1e6 / n }')
	# shellcheck disable=SC2046
	CPU_PG_US=$(awk -v a="$(bench_cpu_seconds $(bench_pg_pids))" -v b="$pg0" -v n="$proved" \
		'BEGIN { printf "%.0f", (a - b) * 1e6 / n }')
	RATE=$(awk -v n="$proved" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
	P50=$(sed -n 's/.*latency p50 \([0-9.]*\) ms.*/\1/p' "$WG_TMP/prover-$batch.out")
	P99=$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' "$WG_TMP/prover-$batch.out")
	ERRORS=$(sed -n 's/.*retries \([0-9]*\), lost leases \([0-9]*\), rejected proofs \([0-9]*\).*/\1 \2 \3/p' \
		"$WG_TMP/prover-$batch.out" | awk '{ print $1 + $2 + $3 }')
	assert_eq "$jobs" "$proved" "jobs proved by wg-prover at $provers provers"
}

printf 'machine: %s, %s cores, %s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" \
	"$(date -u +%Y-%m-%d)"
printf '%-8s %12s %10s %10s %12s %8s %12s %8s %7s %9s %9s\n' provers http_cycles/s p50_ms p99_ms raw_sql_1/s ratio \
	raw_sql_8/s ratio8 errors daemon_us pg_us
verdicts=()
for n in $LEVELS; do
	http_rate "$n"
	raw=$(raw_rate "$n")
	raw8=$(raw_rate "$n" cycle8.sql 8)
	ratio=$(awk -v h="$RATE" -v r="$raw" 'BEGIN { printf "%.2f", h / r }')
	ratio8=$(awk -v h="$RATE" -v r="$raw8" 'BEGIN { printf "%.2f", h / r }')
	printf '%-8s %12s %10s %10s %12s %8s %12s %8s %7s %9s %9s\n' "$n" "$RATE" "$P50" "$P99" "$raw" "$ratio" "$raw8" \
		"$ratio8" "$ERRORS" "$CPU_DAEMON_US" "$CPU_PG_US"
	if [[ $n == 32 ]]; then
		verdicts+=("traffic_ratio_32=$ratio target>=1.0 $(awk -v r="$ratio" 'BEGIN { print (r >= 1.0 ? "met" : "MISSED") }')")
		verdicts+=("traffic_ratio_batched_32=$ratio8 target>=0.7 $(awk -v r="$ratio8" 'BEGIN { print (r >= 0.7 ? "met" : "MISSED") }')")
		verdicts+=("traffic_cpu_us_per_cycle_32=daemon:$CPU_DAEMON_US,postgres:$CPU_PG_US (reported)")
		verdicts+=("traffic_p99_ms_32=$P99 target<=50 $(awk -v p="$P99" 'BEGIN { print (p <= 50 ? "met" : "MISSED") }')")
		verdicts+=("traffic_errors_32=$ERRORS target=0 $([[ $ERRORS == 0 ]] && echo met || echo MISSED)")
		raw32=$raw
	fi
done
if [[ -n ${raw32:-} ]]; then
	http_rate 32 --batch 1
	ratio=$(awk -v h="$RATE" -v r="$raw32" 'BEGIN { printf "%.2f", h / r }')
	printf '%-8s %12s %10s %10s %12s %8s %7s\n' "32,b=1" "$RATE" "$P50" "$P99" "$raw32" "$ratio" "$ERRORS"
	verdicts+=("traffic_ratio_32_batch1=$ratio target>=0.8 $(awk -v r="$ratio" 'BEGIN { print (r >= 0.8 ? "met" : "MISSED") }')")
fi
groups=$(curl -fsS "$url/metrics" | awk '$1 == "wg_completion_groups_total" { print $2 }')
completions=$(curl -fsS "$url/metrics" | awk '$1 == "wg_completions_total" { print $2 }')
printf 'completion groups: %s for %s completions (%.2f per group)\n' "$groups" "$completions" \
	"$(awk -v g="$groups" -v c="$completions" 'BEGIN { print g ? c / g : 0 }')"
cgroups=$(curl -fsS "$url/metrics" | awk '$1 == "wg_claim_groups_total" { print $2 }')
claims=$(curl -fsS "$url/metrics" | awk '$1 == "wg_claims_total" { print $2 }')
printf 'claim statements: %s for %s claims (%.2f per statement)\n' "$cgroups" "$claims" \
	"$(awk -v g="$cgroups" -v c="$claims" 'BEGIN { print g ? c / g : 0 }')"
printf '%s\n' "${verdicts[@]}"
