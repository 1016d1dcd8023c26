#!/bin/bash
# t_metrics_scrapes.sh: GET /metrics is open to anyone, so its database figures are read at most
# once a second and shared by every scrape. 200 concurrent scrapes in about a second run the two
# aggregate queries at most about twice a second: counted by the server's own log
# (log_min_duration_statement = 0 logs every execution of the prepared statements metrics_jobs and
# metrics_queue) and by wg_metrics_refreshes_total, which must agree. Every scrape still gets the
# figures (wg_database_up 1), and they follow the database within about a second.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup
pglog="$WG_PGDIR/postgres.log"
wg_psql "ALTER SYSTEM SET log_min_duration_statement = 0" "SELECT pg_reload_conf()" >/dev/null
wg_start_daemon a --http-threads 8 --db-pool 4
url=$(wg_url a)

runs() { # runs STATEMENT: executions of STATEMENT in the server log so far
	grep -c "execute $1:" "$pglog" || true
}
refreshes() {
	curl -sS --max-time 10 "$url/metrics" | awk '$1 == "wg_metrics_refreshes_total" { print $2 }'
}

# The setting has taken: a scrape's queries show in the log.
wg_wait_until 10 eval '[[ $(curl -sS "$url/metrics" >/dev/null; runs metrics_jobs) -ge 1 ]]'
sleep 1.1
jobs_before=$(runs metrics_jobs) queue_before=$(runs metrics_queue)
start=$(date +%s.%N)
seq 200 | xargs -P 50 -I{} curl -sS --max-time 20 -o "$WG_TMP/scrape.{}" -w '%{http_code}\n' "$url/metrics" \
	>"$WG_TMP/codes"
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
sleep 0.5 # the server log is written as the statements end
jobs_runs=$(($(runs metrics_jobs) - jobs_before)) queue_runs=$(($(runs metrics_queue) - queue_before))
echo "# 200 scrapes in $elapsed s ran metrics_jobs $jobs_runs times, metrics_queue $queue_runs times"
assert_eq 200 "$(grep -c '^200$' "$WG_TMP/codes")" "scrapes answered 200"
# At most one refresh per second begun, plus the one of the first scrape.
allowed=$(awk -v e="$elapsed" 'BEGIN { printf "%d", e + 2 }')
((jobs_runs >= 1 && jobs_runs <= allowed)) ||
	fail "metrics_jobs ran $jobs_runs times for 200 scrapes in $elapsed s (at most $allowed)"
wg__pass
((queue_runs == jobs_runs)) || fail "metrics_queue ran $queue_runs times, metrics_jobs $jobs_runs"
wg__pass
for f in "$WG_TMP"/scrape.*; do
	grep -qx 'wg_database_up 1' "$f" || fail "$f: no wg_database_up 1"
done
wg__pass

# The daemon counts the same refreshes (the scrape reading the counter may add one).
before=$(refreshes)
sleep 1.1
jobs_before=$(runs metrics_jobs)
start=$(date +%s.%N)
seq 200 | xargs -P 50 -I{} curl -sS --max-time 20 -o /dev/null "$url/metrics"
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
sleep 1.1
after=$(refreshes)
sleep 0.5
counted=$((after - before)) logged=$(($(runs metrics_jobs) - jobs_before))
echo "# wg_metrics_refreshes_total moved by $counted, the server logged $logged runs"
allowed=$(awk -v e="$elapsed" 'BEGIN { printf "%d", e + 3 }')
((counted >= 1 && counted <= allowed)) ||
	fail "wg_metrics_refreshes_total moved by $counted for 200 scrapes in $elapsed s (at most $allowed)"
wg__pass
# The counter's scrape and the one before it each may refresh; the log saw the same runs.
((logged == counted || logged == counted - 1)) || fail "$counted refreshes counted, $logged logged"
wg__pass

# Figures at most a second old: a new batch's queued prover jobs show within about a second of
# their commit.
pl_use a
pl_gen_input 1 --logs 4 --workload main_vm=$((5390 * 2)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
committed() { (($(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'queued'") > 0)); }
wg_wait_until 30 committed
start=$(date +%s.%N)
n=$(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'queued'")
shows() { grep -q "^wg_jobs{kind=\"prover\",round=\"basic\",status=\"queued\"} $n\$" <(curl -sS "$url/metrics"); }
wg_wait_until 5 shows
late=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
awk -v l="$late" 'BEGIN { exit !(l <= 1.6) }' || fail "the queued jobs took $late s to show in /metrics"
wg__pass
