#!/bin/bash
# t_metrics.sh: the histograms and gauges of /metrics after a real batch, with values that must
# have moved: the request histogram of POST /proofs/{id}/complete counts exactly the completions
# made; each round's histogram counts its jobs; blob reads, writes and pack commits are timed; the
# pool reports its size and no connection held (a scrape takes one only to refresh the database's
# figures, after it read the pool's); a job left queued ages; a job failed at
# --max-attempts 1 is counted at max attempts. `promtool check metrics` accepts every scrape.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup
if ! command -v promtool >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus >"$WG_TMP/apt.log" 2>&1 ||
		{ cat "$WG_TMP/apt.log" >&2; fail "cannot install promtool (Debian package prometheus)"; }
fi
metric() { # metric SAMPLE: the value of one sample of the last scrape
	awk -v k="$1" 'index($0, k " ") == 1 { print $NF }' "$HTTP_BODY_FILE"
}
scrape() {
	wg_http GET "$PL_URL/metrics"
	assert_status 200
	promtool check metrics <"$HTTP_BODY_FILE" >"$WG_TMP/promtool.out" 2>&1 ||
		{ cat "$WG_TMP/promtool.out" >&2; fail "promtool check metrics rejects the scrape"; }
	wg__pass
}
# buckets_ok NAME LABELS: cumulative buckets never decrease and +Inf equals _count.
buckets_ok() {
	awk -v n="$1_bucket{$2" -v c="$1_count{${2%,}} " '
		index($0, n) == 1 { if ($NF < last) bad = 1; last = $NF; inf = $NF }
		index($0, c) == 1 { count = $NF }
		END { exit !(!bad && inf == count && count != "") }' "$HTTP_BODY_FILE"
}

wg_start_daemon a --max-attempts 1 --leaf-arity 2 --node-arity 2 --http-threads 4 --db-pool 5
pl_use a
scrape
assert_eq 0 "$(metric 'wg_round_duration_seconds_count{round="basic"}')" "basic runs before any batch"

pl_gen_input 1 --logs 10 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
prove_all_until 1 proven 90

scrape
completes=$(metric 'wg_http_request_duration_seconds_count{route="POST /proofs/{id}/complete"}')
assert_eq "$PL_PROVED" "$completes" "completions in the request histogram"
assert_eq "$PL_PROVED" "$(metric 'wg_http_requests_total{route="POST /proofs/{id}/complete",code="200"}')"
buckets_ok wg_http_request_duration_seconds 'route="POST /proofs/{id}/complete",' || fail "complete's buckets"
wg__pass
assert_eq true "$(awk -v s="$(metric 'wg_http_request_duration_seconds_sum{route="POST /proofs/{id}/complete"}')" \
	'BEGIN { print (s > 0) ? "true" : "false" }')" "complete's time sum"
for r in basic leaf node scheduler; do
	n=$(metric "wg_round_duration_seconds_count{round=\"$r\"}")
	assert_eq "$(metric "wg_round_runs_total{round=\"$r\",result=\"committed\"}")" "$n" "$r runs in the histogram"
	((n >= 1)) || fail "no $r run counted"
	buckets_ok wg_round_duration_seconds "round=\"$r\"," || fail "$r buckets"
	wg__pass
done
assert_eq 1 "$(metric 'wg_round_duration_seconds_count{round="basic"}')" "one basic run"
# Every witness download is a store read, every round's witnesses one pack commit.
gets=$(metric 'wg_store_duration_seconds_count{op="get"}')
((gets >= PL_PROVED)) || fail "$gets store reads for $PL_PROVED witness downloads"
wg__pass
packs=$(metric 'wg_store_duration_seconds_count{op="pack_commit"}')
((packs >= 4)) || fail "$packs pack commits for four rounds"
wg__pass
puts=$(metric 'wg_store_duration_seconds_count{op="put"}')
((puts >= 1)) || fail "no store write (the input, the proofs) timed"
wg__pass
assert_eq 5 "$(metric wg_db_pool_connections)" "pool size (--db-pool 5)"
assert_eq 0 "$(metric wg_db_pool_in_use)" "connections held while nothing else runs"
assert_eq 0 "$(metric wg_db_pool_waiting)"
assert_eq 0.000 "$(metric 'wg_oldest_queued_job_age_seconds{kind="prover",round="basic"}')" "nothing queued"

# Batch 2 waits with its proofs queued; one of them fails for good at --max-attempts 1.
pl_gen_input 2 --logs 10 --workload main_vm=$((5390 * 2)) --seed 2 >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
queued_2() { (($(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 2 AND status = 'queued'") >= 2)); }
wg_wait_until 20 queued_2
pl_claim
assert_status 200
pl_fail "$PL_JOB_ID" "$PL_JOB_LEASE" "gpu on fire"
assert_status 200
assert_json_eq .status failed
sleep 1.2
scrape
assert_eq 1 "$(metric 'wg_jobs_at_max_attempts{kind="prover",round="basic"}')" "the failed job"
assert_eq 0 "$(metric 'wg_jobs_at_max_attempts{kind="witness",round="basic"}')"
age=$(metric 'wg_oldest_queued_job_age_seconds{kind="prover",round="basic"}')
db_age=$(wg_psql "SELECT extract(epoch FROM now() - min(updated_at)) FROM prover_jobs WHERE status = 'queued'")
awk -v a="$age" -v d="$db_age" 'BEGIN { exit !(a >= 1 && a <= d + 0.5) }' || fail "queue age $age (database: $db_age)"
wg__pass
assert_eq 0.000 "$(metric 'wg_oldest_queued_job_age_seconds{kind="witness",round="leaf"}')"
