#!/bin/bash
# t_shutdown.sh: graceful shutdown (docs/command-line.md, issue 4 point 5). SIGTERM and SIGINT on an
# idle daemon exit 0 at once. SIGTERM while wg-prover hammers the daemon with 4 threads and a
# batch is half proved and a basic round runs (held by a fault point): exit 0 within 10 s,
# no witness job left in_progress under the stopped daemon's id, and after a restart on the same
# port both batches reach `proven` with every witness job run once (attempts 1) and every circuit
# proved once; the prover saw nothing worse than refused connections and retries while the daemon
# was down. Last, an upload still arriving when SIGTERM comes is finished and answered (201).
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
PROVER="$WG_BUILDDIR/wg-prover"
[[ -x $PROVER ]] || fail "$PROVER not built"

now_ms() {
	date +%s%3N
}
# running PID: PID is a process that has not exited (a zombie has).
running() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $state != Z* ]]
}
# stop_timed NAME SIGNAL: stop daemon NAME with SIGNAL; sets STOP_RC and STOP_MS.
stop_timed() {
	local t0
	t0=$(now_ms)
	STOP_RC=0
	wg_stop_daemon "$1" "$2" || STOP_RC=$?
	STOP_MS=$(($(now_ms) - t0))
}

# ---------------------------------------------------------------- idle
wg_start_daemon s
pl_use s
sleep 0.5
stop_timed s TERM
assert_eq 0 "$STOP_RC" "exit status on SIGTERM while idle"
assert_eq 1 "$((STOP_MS < 3000))" "idle SIGTERM took $STOP_MS ms"
assert_contains "$(cat "$WG_TMP/s.log")" "received SIGTERM, shutting down" "daemon log"
assert_eq stopped "$(tail -n 1 "$WG_TMP/s.log" | awk '{ print $3 }')" "last log line after SIGTERM"

wg_start_daemon s
sleep 0.5
stop_timed s INT
assert_eq 0 "$STOP_RC" "exit status on SIGINT while idle"
assert_eq 1 "$((STOP_MS < 3000))" "idle SIGINT took $STOP_MS ms"
assert_contains "$(cat "$WG_TMP/s.log")" "received SIGINT, shutting down" "daemon log"

# ---------------------------------------------------------------- under load
# Batch 2's basic round (the second one to reach the point) stalls 1.5 s after parsing its
# input, so SIGTERM surely finds it in flight.
WG_FAULT=basic_after_parse@1500:2 wg_start_daemon s
pl_gen_input 1 --logs 40 --workload main_vm=$((5390 * 300)) --seed 1 >"$WG_TMP/in1.json"
pl_gen_input 2 --logs 40 --workload main_vm=$((5390 * 600)) --seed 2 >"$WG_TMP/in2.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
"$PROVER" --url "$PL_URL" --token "$PL_PROVER" --concurrency 4 --prove-ms 30 --until-idle --idle-seconds 4 \
	>"$WG_TMP/prover.out" 2>"$WG_TMP/prover.err" &
prover_pid=$!
proved() {
	(($(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'successful'") >= $1))
}
wg_wait_until 30 proved 60
# Batch 2 arrives and SIGTERM follows while its basic round runs.
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
wg_wait_until 20 grep -q "fault point basic_after_parse reached: sleeping 1500 ms" "$WG_TMP/s.log"
assert_eq "in_progress 1" "$(wg_psql "SELECT status || ' ' || attempts FROM basic_circuit_witness_jobs
	WHERE l1_batch_number = 2")" "batch 2's basic round in flight at the signal"
stop_timed s TERM
assert_eq 0 "$STOP_RC" "exit status on SIGTERM under load"
assert_eq 1 "$((STOP_MS < 10000))" "SIGTERM under load took $STOP_MS ms"
assert_contains "$(cat "$WG_TMP/s.log")" "basic round stopped on s: released at shutdown" "batch 2's round was released"
# Right after the exit: nothing held under the stopped daemon's id.
assert_eq 0 "$(wg_psql "SELECT count(*) FROM (
	SELECT picked_by FROM basic_circuit_witness_jobs WHERE status = 'in_progress'
	UNION ALL SELECT picked_by FROM leaf_aggregation_jobs WHERE status = 'in_progress'
	UNION ALL SELECT picked_by FROM node_aggregation_jobs WHERE status = 'in_progress'
	UNION ALL SELECT picked_by FROM scheduler_witness_jobs WHERE status = 'in_progress') t
	WHERE picked_by = 's'")" "witness jobs left in_progress by the stopped daemon"
assert_eq 0 "$(wg_psql "SELECT count(*) FROM basic_circuit_witness_jobs WHERE status = 'in_progress'
	OR lease_expires_at IS NOT NULL AND status <> 'in_progress'")" "basic jobs after the stop"
assert_ne proven "$(wg_psql "SELECT CASE WHEN EXISTS (SELECT 1 FROM prover_jobs WHERE l1_batch_number = 1
	AND aggregation_round = 3 AND status = 'successful') THEN 'proven' ELSE 'not yet' END")" \
	"batch 1 was still being proved when SIGTERM came"
running "$prover_pid" || fail "wg-prover exited while the daemon was down"

# Down for a second (the prover retries), then back on the same port.
sleep 1
wg_start_daemon s
assert_eq "$PL_URL" "$(wg_url s)" "restarted on the same port"
deadline=$((SECONDS + 60))
while running "$prover_pid" && ((SECONDS < deadline)); do
	sleep 0.2
done
running "$prover_pid" && fail "wg-prover still running 60 s after the restart"
prover_rc=0
wait "$prover_pid" || prover_rc=$?
assert_eq 0 "$prover_rc" "wg-prover exit status"
assert_eq proven "$(batch_status 1)" "batch 1 after the restart"
assert_eq proven "$(batch_status 2)" "batch 2 after the restart"
pl_assert_unique 1
pl_assert_unique 2
total=$(wg_psql "SELECT count(*) FROM prover_jobs")
assert_eq "$total" "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'successful'")" "every circuit proved"
summary=$(grep '^wg-prover: proved ' "$WG_TMP/prover.out") || fail "no summary line from wg-prover"
assert_contains "$summary" "wg-prover: proved $total jobs" "wg-prover proved every job once"
assert_contains "$summary" "lost leases 0, rejected proofs 0" "wg-prover summary"
# Every witness job ran once: one that was finished on shutdown kept its one claim, one that was
# released took it back (docs/state-machine.md).
assert_eq "successful|1" "$(wg_psql "SELECT string_agg(DISTINCT status || '|' || attempts, ',') FROM (
	SELECT status, attempts FROM basic_circuit_witness_jobs
	UNION ALL SELECT status, attempts FROM leaf_aggregation_jobs
	UNION ALL SELECT status, attempts FROM node_aggregation_jobs
	UNION ALL SELECT status, attempts FROM scheduler_witness_jobs) t")" "witness jobs: status|attempts"
# The prover's log: only refused connections, requests the stopping daemon declined to start
# (503 "shutting down" on a kept-alive connection) and their retries. A reply cut short (empty
# reply, reset, another 5xx) or a dropped job would show here.
unexpected=$(grep -v ' info  ' "$WG_TMP/prover.err" |
	grep -Ev " warn  .*(Couldn't connect to server|Failed to connect|Connection refused).*; retrying" |
	grep -Ev ' warn  .*HTTP 503 .*"the daemon is shutting down".*; retrying' || true)
assert_eq "" "$unexpected" "unexpected lines in the wg-prover log"
assert_contains "$(cat "$WG_TMP/prover.err")" "retrying" "wg-prover noticed the daemon was down"

# ---------------------------------------------------------------- an upload in flight
# A 3 MB input sent at a third of its size per second: SIGTERM arrives one second into it. The
# daemon must read it to the end, answer it and only then exit.
pl_gen_input 3 --logs 3000 --workload main_vm=5390 --seed 3 >"$WG_TMP/in3.json"
size=$(stat -c %s "$WG_TMP/in3.json")
curl -sS -o "$WG_TMP/up3.body" -w '%{http_code}' --max-time 30 --limit-rate $((size / 3)) \
	-H "Authorization: Bearer $PL_TREE" -H 'Content-Type: application/json' \
	--data-binary "@$WG_TMP/in3.json" "$PL_URL/batches/3/witness-inputs" \
	>"$WG_TMP/up3.code" 2>"$WG_TMP/up3.err" &
upload_pid=$!
sleep 1
running "$upload_pid" || fail "the upload finished before the signal; it should take 3 s"
stop_timed s TERM
assert_eq 0 "$STOP_RC" "exit status on SIGTERM during an upload"
assert_eq 1 "$((STOP_MS < 10000))" "SIGTERM during an upload took $STOP_MS ms"
upload_rc=0
wait "$upload_pid" || upload_rc=$?
assert_eq "0 201" "$upload_rc $(cat "$WG_TMP/up3.code")" \
	"the upload in flight at SIGTERM was answered (curl: $(cat "$WG_TMP/up3.err"))"
assert_eq 1 "$(wg_psql "SELECT count(*) FROM basic_circuit_witness_jobs WHERE l1_batch_number = 3")" \
	"the acknowledged upload was stored"
