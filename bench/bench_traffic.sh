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
bench_pgss_enable
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

# group_counters: the daemon's claim, touch and completion group counters, on one line (groups and
# items of each).
group_counters() {
	curl -fsS "$url/metrics" | awk '{ v[$1] = $2 } END { print v["wg_claim_groups_total"], v["wg_claims_total"],
		v["wg_witness_touch_groups_total"], v["wg_witness_touches_total"], v["wg_completion_groups_total"],
		v["wg_completions_total"] }'
}

# The daemon's own statements, driven by pgbench: a claim of C jobs (prover_claim, verbatim but
# for its last SELECT, which hands the claimed ids to the next statements as one array), their
# witness downloads fenced T per statement (prover_held_group, a read) and their completions G per
# statement (prover_complete_group), each statement its own commit as in the daemon. (The
# daemon's touches of the leases, prover_touch_leases, run at most ten times a second and skip
# the jobs already completed: left out.) C, T and G
# are the group sizes the daemon reached in the HTTP run at the same level. Three clients: the
# daemon runs these statements on three connections (its claim, download and completion
# combiners). No HTTP, no JSON, no proof check: what the database costs at the daemon's batching.
# daemon_sql_script C T G: writes $WG_TMP/daemon.sql.
daemon_sql_script() {
	local c=$1 t=$2 g=$3 k claim held complete
	# $N -> pgbench variables; the claim's circuit filter is NULL (all circuits), as wg-prover sends.
	# pgbench would read the time format's :MI and :SS as variables; '::' it leaves alone (the
	# times then print with two colons, at the same cost).
	claim=$("$WG_BUILDDIR/bench/bench_sql" prover_claim | perl -0pe 's/\s+$//; s/:(MI|SS)\b/::$1/g;
		s/\$1\b/:pick/g; s/\$2\b/:grace/g; s/\$3\b/:pv/g; s/\$4\b/:rounds/g; s/\$5\b/NULL/g;
		s/\$6\b/:climit/g; s/\$7\b/:chashes/g; s/\$8\b/:ctokens/g;
		s/^(.*) SELECT .*? FROM claimed ORDER BY slot$/$1 SELECT coalesce(\x27{\x27 || string_agg(id::text, \x27,\x27) || \x27}\x27, \x27{}\x27) AS ids FROM claimed/s')
	[[ $claim == *" AS ids FROM claimed" ]] || fail "prover_claim no longer ends with its SELECT from claimed"
	held=$("$WG_BUILDDIR/bench/bench_sql" prover_held_group | perl -0pe 's/\s+$//; s/:(MI|SS)\b/::$1/g;
		s/\$1\b/__IDS__/g; s/\$2\b/:thashes/g; s/\$3\b/:ttokens/g')
	complete=$("$WG_BUILDDIR/bench/bench_sql" prover_complete_group | perl -0pe 's/\s+$//; s/:(MI|SS)\b/::$1/g;
		s/\$1\b/__IDS__/g; s/\$2\b/:ghashes/g; s/\$3\b/:gtokens/g; s/\$4\b/:gproofhashes/g; s/\$5\b/:gproofs/g')
	[[ $held != *'$'[0-9]* && $complete != *'$'[0-9]* && $claim != *'$'[0-9]* ]] ||
		fail "a daemon statement has more parameters than this script knows"
	{
		printf '%s \gset\n' "$claim"
		for ((k = 1; k <= c; k += t)); do
			printf '%s;\n' "${held//__IDS__/(:ids::bigint[])[$k:$((k + t - 1))]}"
		done
		for ((k = 1; k <= c; k += g)); do
			printf '%s;\n' "${complete//__IDS__/(:ids::bigint[])[$k:$((k + g - 1))]}"
		done
	} >"$WG_TMP/daemon.sql"
}

# pg_array N VALUE: a PostgreSQL array literal of N copies of VALUE.
pg_array() { local a; printf -v a '%s,' $(yes "$2" | head -n "$1"); printf '{%s}' "${a%,}"; }

# daemon_sql_rate C T G JOBS: sets OWN_RATE to the cycles per second (and OWN_PG_US to PostgreSQL's
# CPU microseconds per cycle) of daemon_sql_script C T G over a fresh batch of
# JOBS queued jobs (made by the daemon's basic round, so the counters, attempts and proofs the
# statements update are the real ones).
daemon_sql_rate() {
	local c=$1 t=$2 g=$3 jobs=$4 clients=3 per_client hash proof plen b admin pg0
	plen=$(wg_psql "SELECT length(proof) FROM proofs ORDER BY prover_job_id DESC LIMIT 1")
	# The earlier levels' batches go first: their jobs left queued would be claimed before these.
	admin=$(wg_token admin)
	for ((b = deleted + 1; b <= batch; b++)); do
		curl -fsS -X DELETE -H "Authorization: Bearer $admin" "$url/batches/$b" >/dev/null
	done
	deleted=$batch
	upload_batch "$jobs"
	daemon_sql_script "$c" "$t" "$g"
	hash=$(printf '%064d' 0 | tr 0 a)
	proof=$(head -c "$plen" /dev/zero | od -An -v -tx1 | tr -d ' \n')
	# Every client claims C per cycle; stop with a tenth of the batch left so that no claim comes up short.
	per_client=$((jobs * 9 / 10 / clients / c))
	pg0=$(bench_pg_cpu_seconds)
	"$PGBENCH" -n -M prepared -c "$clients" -j 2 -t "$per_client" -f "$WG_TMP/daemon.sql" \
		-D pick="$(pg_array "$c" pgbench)" -D grace=30 -D pv=24 -D rounds='{0}' -D climit="$c" \
		-D chashes="$(pg_array "$c" "$hash")" -D ctokens="$(pg_array "$c" prover)" \
		-D thashes="$(pg_array "$t" "$hash")" -D ttokens="$(pg_array "$t" prover)" \
		-D ghashes="$(pg_array "$g" "$hash")" -D gtokens="$(pg_array "$g" prover)" \
		-D gproofhashes="$(pg_array "$g" "$hash")" -D gproofs="$(pg_array "$g" "$proof")" \
		"$WG_DB" >"$WG_TMP/pgbench-daemon.out" 2>&1 || {
		cat "$WG_TMP/pgbench-daemon.out" >&2
		fail "pgbench with the daemon's statements failed"
	}
	sleep 0.2 # the backends exit and are reaped
	local done_jobs
	OWN_PG_US=$(awk -v a="$(bench_pg_cpu_seconds)" -v b="$pg0" -v n="$((per_client * clients * c))" \
		'BEGIN { printf "%.0f", (a - b) * 1e6 / n }')
	done_jobs=$(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = $batch AND status = 'successful'")
	assert_eq "$((per_client * clients * c))" "$done_jobs" "jobs completed by the daemon's statements under pgbench"
	OWN_RATE=$(awk -v k="$c" '/^tps = / { printf "%.0f", $3 * k }' "$WG_TMP/pgbench-daemon.out")
}

batch=0 deleted=0
# upload_batch JOBS: a fresh batch of JOBS basic circuits, its basic round done and prover_jobs
# vacuumed (as the raw SQL's table is, refilled per level).
upload_batch() {
	local jobs=$1
	batch=$((batch + 1))
	"$WG_BUILDDIR/wgctl" gen-input --batch "$batch" --logs 0 --workload "main_vm=$((5390 * (jobs + 500)))" \
		>"$WG_TMP/in$batch.json"
	curl -fsS -H "Authorization: Bearer $tree" -H 'Content-Type: application/json' \
		--data-binary "@$WG_TMP/in$batch.json" "$url/batches/$batch/witness-inputs" >/dev/null
	local deadline=$((SECONDS + 60))
	until [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = $batch") == successful ]]; do
		((SECONDS < deadline)) || fail "the basic round of batch $batch did not finish"
		sleep 0.1
	done
	wg_psql "VACUUM ANALYZE prover_jobs" >/dev/null
}

# http_rate PROVERS [WG-PROVER OPTIONS...]: runs wg-prover against a fresh batch for about
# SECONDS_PER_LEVEL; sets RATE (cycles/s), P50, P99 (ms) and ERRORS.
http_rate() {
	local provers=$1 jobs
	shift
	# Enough circuits that the level never runs out (it stops at --max-jobs).
	jobs=$((provers == 1 ? 2500 : 12000))
	jobs=$((jobs * SECONDS_PER_LEVEL / 4))
	upload_batch "$jobs"
	local t0 t1 daemon0 pg0
	daemon0=$(bench_cpu_seconds "$(wg_daemon_pid bench)")
	# shellcheck disable=SC2046
	pg0=$(bench_cpu_seconds $(bench_pg_pids))
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086 # WG_BENCH_PROVER_ARGS is a list of options
	"$WG_BUILDDIR/wg-prover" --url "$url" --token "$prover" --rounds 0 --concurrency "$provers" \
		--max-jobs "$jobs" ${WG_BENCH_PROVER_ARGS:-} "$@" >"$WG_TMP/prover-$batch.out" 2>"$WG_TMP/prover-$batch.err" ||
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
	RATE_JOBS=$proved
}

printf 'machine: %s, %s cores, %s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" \
	"$(date -u +%Y-%m-%d)"
printf '%-8s %12s %10s %10s %12s %8s %12s %8s %7s %9s %9s\n' provers http_cycles/s p50_ms p99_ms raw_sql_1/s ratio \
	raw_sql_8/s ratio8 errors daemon_us pg_us
verdicts=()
for n in $LEVELS; do
	bench_pgss_report 0 >/dev/null
	before=$(group_counters)
	http_rate "$n"
	after=$(group_counters)
	if [[ $n == 32 ]]; then bench_pgss_report 10; fi
	# Jobs per claim statement, downloads per touch statement, completions per completion statement.
	read -r gc gt gg < <(awk -v n="$RATE_JOBS" -v b="$before" -v a="$after" 'BEGIN { split(b, x); split(a, y);
c = (y[1] - x[1]) ? n / (y[1] - x[1]) : 1; t = (y[3] - x[3]) ? (y[4] - x[4]) / (y[3] - x[3]) : 1;
		g = (y[5] - x[5]) ? (y[6] - x[6]) / (y[5] - x[5]) : 1; printf "%.1f %.1f %.1f\n", c, t, g }')
	raw=$(raw_rate "$n")
	raw8=$(raw_rate "$n" cycle8.sql 8)
	ratio=$(awk -v h="$RATE" -v r="$raw" 'BEGIN { printf "%.2f", h / r }')
	ratio8=$(awk -v h="$RATE" -v r="$raw8" 'BEGIN { printf "%.2f", h / r }')
	printf '%-8s %12s %10s %10s %12s %8s %12s %8s %7s %9s %9s\n' "$n" "$RATE" "$P50" "$P99" "$raw" "$ratio" "$raw8" \
		"$ratio8" "$ERRORS" "$CPU_DAEMON_US" "$CPU_PG_US"
	if [[ $n == 32 ]]; then
		http32=$RATE raw8_32=$raw8 pg32=$CPU_PG_US daemon32=$CPU_DAEMON_US
		verdicts+=("traffic_ratio_32=$ratio target>=1.0 $(awk -v r="$ratio" 'BEGIN { print (r >= 1.0 ? "met" : "MISSED") }')")
		verdicts+=("traffic_ratio_batched_32=$ratio8 target>=0.7 $(awk -v r="$ratio8" 'BEGIN { print (r >= 0.7 ? "met" : "MISSED") }')")
		verdicts+=("traffic_cpu_us_per_cycle_32=daemon:$CPU_DAEMON_US,postgres:$CPU_PG_US (reported)")
		verdicts+=("traffic_p99_ms_32=$P99 target<=50 $(awk -v p="$P99" 'BEGIN { print (p <= 50 ? "met" : "MISSED") }')")
		verdicts+=("traffic_errors_32=$ERRORS target=0 $([[ $ERRORS == 0 ]] && echo met || echo MISSED)")
		raw32=$raw
		groups32="$gc $gt $gg"
	fi
done
if [[ -n ${raw32:-} ]]; then
	http_rate 32 --batch 1
	ratio=$(awk -v h="$RATE" -v r="$raw32" 'BEGIN { printf "%.2f", h / r }')
	printf '%-8s %12s %10s %10s %12s %8s %7s\n' "32,b=1" "$RATE" "$P50" "$P99" "$raw32" "$ratio" "$ERRORS"
	verdicts+=("traffic_ratio_32_batch1=$ratio target>=0.8 $(awk -v r="$ratio" 'BEGIN { print (r >= 0.8 ? "met" : "MISSED") }')")
fi
if [[ -n ${groups32:-} ]]; then
	# shellcheck disable=SC2086 # three numbers
	set -- $groups32
	c=$(printf '%.0f' "$1") t=$(printf '%.0f' "$2") g=$(printf '%.0f' "$3")
	bench_pgss_report 0 >/dev/null
	daemon_sql_rate "$c" "$t" "$g" 12000
	own=$OWN_RATE own_pg=$OWN_PG_US
	bench_pgss_report 6
	# The same statements 8 jobs per statement, the batched raw SQL's size: what is left between
	# them is the weight of the statements themselves.
	daemon_sql_rate 32 8 8 12000
	own8=$OWN_RATE own8_pg=$OWN_PG_US
	share() { awk -v h="$1" -v r="$2" 'BEGIN { printf "%.2f", h / r }'; }
	printf "32 provers, what batching wins and what the daemon costs (cycles/s; PostgreSQL's CPU us per cycle):\n"
	printf '  batched raw SQL, 8 per statement:                    %6s\n' "$raw8_32"
	printf "  the daemon's statements (pgbench), 32/8/8 per statement: %6s  pg %s us\n" "$own8" "$own8_pg"
	printf "  the daemon's statements (pgbench) at its group sizes %s/%s/%s (claim/download/completion; measured %s/%s/%s): %6s  pg %s us\n" \
		"$c" "$t" "$g" "$1" "$2" "$3" "$own" "$own_pg"
	printf '  HTTP through the daemon (wg-prover):                 %6s  pg %s us, daemon %s us\n' "$http32" "$pg32" "$daemon32"
	printf '  shares: statements %s, group sizes %s, HTTP %s (product %s = HTTP / batched raw SQL)\n' \
		"$(share "$own8" "$raw8_32")" "$(share "$own" "$own8")" "$(share "$http32" "$own")" "$(share "$http32" "$raw8_32")"
	verdicts+=("traffic_daemon_sql_32=$own cycles/s at groups $c/$t/$g, $own8 at 32/8/8 (reported)")
	verdicts+=("traffic_http_vs_daemon_sql_32=$(share "$http32" "$own") (reported)")
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
