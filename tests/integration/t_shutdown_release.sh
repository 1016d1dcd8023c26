#!/bin/bash
# Graceful shutdown in the middle of a round (WG_FAULT stalls it): SIGTERM while a basic round runs makes
# the round stop at its next step and release its witness job back to queued, taking its claim
# back (attempts - 1); the daemon exits 0 and, restarted, proves the batch.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup
sql_is() { [[ $(wg_psql "$2") == "$1" ]]; }

# The basic round sleeps 4 s after parsing its input, before its next step.
WG_FAULT=basic_after_parse@4000 wg_start_daemon a --instance-id a
pl_use a
pl_gen_input 1 --logs 40 --workload main_vm=20000 >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
wg_wait_until 20 sql_is "in_progress 1 a" \
	"select status || ' ' || attempts || ' ' || picked_by from basic_circuit_witness_jobs where l1_batch_number = 1"
wg_wait_until 20 grep -q "fault point basic_after_parse reached" "$WG_TMP/a.log"

start=$SECONDS
rc=0
wg_stop_daemon a TERM || rc=$?
assert_eq 0 "$rc" "exit status on SIGTERM in the middle of a round"
assert_eq 1 "$(((SECONDS - start) < 15))" "the shutdown took $((SECONDS - start)) s"

assert_eq "queued 0" "$(wg_psql "select status || ' ' || attempts from basic_circuit_witness_jobs where l1_batch_number = 1")" \
	"the job is back in the queue with its claim taken back"
assert_contains "$(wg_psql "select error from basic_circuit_witness_jobs where l1_batch_number = 1")" \
	"released at shutdown" "the release is recorded"
assert_eq 0 "$(wg_psql "select count(*) from prover_jobs where l1_batch_number = 1")" "the stopped round committed nothing"

# Restarted without the fault, the daemon runs the round (its first real attempt) and the batch
# is proven.
wg_start_daemon a --instance-id a
prove_all_until 1 proven 60
assert_eq 1 "$(wg_psql "select attempts from basic_circuit_witness_jobs where l1_batch_number = 1")" \
	"one claim counted"

# A release left over from a database outage keeps its claim counted, even when it is finally
# made at shutdown (issue 8 item 8): only a round stopped by the shutdown takes its claim back.
# The basic round of batch 2 sleeps 4 s in a step; the database stops meanwhile, so the round
# stops on its next lease renewal and cannot release its job. SIGTERM then arrives during the
# outage; the worker's last try at exit (held 3 s by a fault point while the database comes back)
# releases the job to queued with attempts still 1.
wg_stop_daemon a
WG_FAULT=basic_after_parse@4000,worker_exit_release@3000 wg_start_daemon a --instance-id a --witness-lease 9
pl_gen_input 2 --logs 40 --workload main_vm=20000 >"$WG_TMP/in2.json"
# The log is marked before the upload: the round can reach its fault point before the upload's
# reply arrives.
log_lines=$(wc -l <"$WG_TMP/a.log")
new_log() { tail -n "+$((log_lines + 1))" "$WG_TMP/a.log"; }
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
wg_wait_until 20 eval 'grep -q "fault point basic_after_parse reached" <(new_log)'
wg_pg_stop >/dev/null
wg_wait_until 20 eval 'grep -q "basic round stopped on a: database: connection lost" <(new_log)'
kill -TERM "$(wg_daemon_pid a)"
wg_wait_until 20 eval 'grep -q "fault point worker_exit_release reached" <(new_log)'
wg_pg_start >/dev/null
rc=0
wg_stop_daemon a TERM || rc=$?
assert_eq 0 "$rc" "exit status on SIGTERM during an outage"
assert_eq "queued 1" "$(wg_psql "select status || ' ' || attempts from basic_circuit_witness_jobs where l1_batch_number = 2")" \
	"the job released at exit after the outage keeps its claim"
assert_contains "$(wg_psql "select error from basic_circuit_witness_jobs where l1_batch_number = 2")" \
	"basic round stopped on a: database: connection lost" "the release records the outage, not a shutdown"
