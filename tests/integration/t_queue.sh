#!/bin/bash
# t_queue.sh: the queue report and pauses (docs/api.md, GET /queue, POST /queue/pause|resume;
# docs/guide-operator.md, pausing and autoscaling).
# 1. The report per (protocol version, round, circuit id) after an upload (everything queued),
#    two claims (in progress), a fail (backoff, not queued: not claimable before its retry time)
#    and completions (completed_last_60s); the same figures as wg_queue_* gauges in /metrics,
#    which promtool accepts; wgctl queue prints the same report.
# 2. Pauses across two daemons on one database: a pause of round 0 circuit 1 on daemon a makes
#    claims of that circuit on daemon b 204 within 2 s while circuit 5 is still claimed; a job
#    held before the pause is heartbeaten and completes; GET /queue and /metrics say paused; a
#    pause that names a triple without jobs is listed; the same filter twice is one pause; a
#    resume removes the pauses its filter covers and no other; after it the circuit is claimed
#    again. Unknown keys are 400 naming them; only admins pause.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
if ! command -v promtool >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus >"$WG_TMP/apt.log" 2>&1 ||
		{ cat "$WG_TMP/apt.log" >&2; fail "cannot install promtool (Debian package prometheus)"; }
fi
# A failed job waits 30 s before it may be claimed again: long enough to be seen in backoff.
wg_start_daemon a --retry-base 30 --retry-max 30
pl_use a

# Batch 1: four main_vm circuits (circuit 1) and two keccak256 circuits (circuit 5).
pl_gen_input 1 --logs 0 --workload main_vm=21560,keccak256=586 >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
basic_done() { [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1") == successful ]]; }
wg_wait_until 60 basic_done
assert_eq 4 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE aggregation_round = 0 AND circuit_id = 1")" "main_vm circuits"
assert_eq 2 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE aggregation_round = 0 AND circuit_id = 5")" "keccak256 circuits"

# entry R C: the report's entry of protocol 24, round R, circuit C as
# "queued in_progress backoff completed_last_60s paused" (of the last GET /queue).
entry() {
	jq -r --argjson r "$1" --argjson c "$2" '.queues[] | select(.protocol_version == 24 and
		.aggregation_round == $r and .circuit_id == $c) | "\(.queued) \(.in_progress) \(.backoff) \(.completed_last_60s) \(.paused)"' \
		"$HTTP_BODY_FILE"
}
report() {
	pl_get /queue
	assert_status 200
}
claim_circuit() { # claim_circuit CIRCUIT: claim on PL_URL a round 0 job of CIRCUIT (sets PL_JOB_*)
	pl_claim "{\"prover_id\":\"q\",\"protocol_version\":24,\"rounds\":[0],\"circuit_ids\":[$1]}"
}
prove_held() { # prove_held ID LEASE: download, prove and complete a held job on PL_URL
	pl_witness "$1" "$WG_TMP/w-$1" "$2"
	pl_ref_prove "$WG_TMP/w-$1" "$WG_TMP/p-$1"
	pl_complete "$1" "$2" "$WG_TMP/p-$1"
	assert_status 200
}

# ---------------------------------------------------------------- 1. the report
report
assert_eq "4 0 0 0 false" "$(entry 0 1)" "after the upload: circuit 1"
assert_eq "2 0 0 0 false" "$(entry 0 5)" "after the upload: circuit 5"
assert_json_eq '[.queues[] | select(.queued + .in_progress + .backoff + .completed_last_60s == 0 and (.paused | not))] | length' 0
assert_json_eq '[.queues[] | .oldest_queued_age_s >= 0 and .oldest_queued_age_s < 120] | all' true
assert_json_eq "$(printf '%s' '.queues | map([.protocol_version, .aggregation_round, .circuit_id]) | . == sort')" true

claim_circuit 1
assert_status 200
F=$PL_JOB_ID F_LEASE=$PL_JOB_LEASE
claim_circuit 1
assert_status 200
D=$PL_JOB_ID D_LEASE=$PL_JOB_LEASE
report
assert_eq "2 2 0 0 false" "$(entry 0 1)" "two claimed"

pl_fail "$F" "$F_LEASE" "out of memory"
assert_status 200
assert_json_eq .status queued
report
assert_eq "2 1 1 0 false" "$(entry 0 1)" "one failed: in backoff, not queued"

prove_held "$D" "$D_LEASE"
claim_circuit 5
assert_status 200
prove_held "$PL_JOB_ID" "$PL_JOB_LEASE"
report
assert_eq "2 0 1 1 false" "$(entry 0 1)" "one completed"
assert_eq "1 0 0 1 false" "$(entry 0 5)" "circuit 5: one completed"
cp "$HTTP_BODY_FILE" "$WG_TMP/report.json"

# The gauges: /metrics refreshes the database's figures at most once a second.
metric() { awk -v k="$1" 'index($0, k " ") == 1 { print $NF }' "$HTTP_BODY_FILE"; }
scrape() {
	wg_http GET "$PL_URL/metrics"
	assert_status 200
	promtool check metrics <"$HTTP_BODY_FILE" >"$WG_TMP/promtool.out" 2>&1 ||
		{ cat "$WG_TMP/promtool.out" >&2; fail "promtool check metrics rejects the scrape"; }
}
L1='protocol_version="24",round="0",circuit_id="1"'
L5='protocol_version="24",round="0",circuit_id="5"'
gauges_show_completions() {
	scrape
	[[ $(metric "wg_queue_completed_last_60s{$L1}") == 1 ]]
}
wg_wait_until 5 gauges_show_completions
assert_eq 2 "$(metric "wg_queue_jobs{$L1,state=\"queued\"}")" "queued gauge"
assert_eq 0 "$(metric "wg_queue_jobs{$L1,state=\"in_progress\"}")" "in progress gauge"
assert_eq 1 "$(metric "wg_queue_jobs{$L1,state=\"backoff\"}")" "backoff gauge"
assert_eq 0 "$(metric "wg_queue_paused{$L1}")" "paused gauge"
assert_eq 1 "$(metric "wg_queue_jobs{$L5,state=\"queued\"}")" "circuit 5 queued gauge"
age=$(metric "wg_queue_oldest_queued_age_seconds{$L1}")
awk -v a="$age" 'BEGIN { exit !(a > 0 && a < 120) }' || fail "oldest queued age gauge is '$age'"

# wgctl queue: the same report.
wg_wgctl queue --json >"$WG_TMP/wgctl.json" || fail "wgctl queue --json failed"
strip='del(.queues[].oldest_queued_age_s)'
assert_eq "$(jq -cS "$strip" "$WG_TMP/report.json")" "$(jq -cS "$strip" "$WG_TMP/wgctl.json")" "wgctl queue --json"
table=$(wg_wgctl queue) || fail "wgctl queue failed"
assert_contains "$table" "IN PROGRESS"
[[ $(grep -E '^ *24 +0 +1 +2 +0 +1 ' <<<"$table") ]] || fail "wgctl queue has no row for circuit 1: $table"
wg__pass

# Only viewers and admins read the queue.
wg_http GET "$PL_URL/queue" -H "Authorization: Bearer $PL_PROVER"
assert_status 403

# ---------------------------------------------------------------- 2. pauses
admin_post() { # admin_post URL PATH BODY
	wg_http POST "$1$2" -H "Authorization: Bearer $PL_ADMIN" -H 'Content-Type: application/json' --data-binary "$3"
}
# Daemon b has a store of its own: it starts once daemon a has run the basic round, and serves
# claims and reports only.
wg_start_daemon b --retry-base 30 --retry-max 30
A=$(wg_url a) B=$(wg_url b)
# H is held on daemon a before the pause.
claim_circuit 1
assert_status 200
H=$PL_JOB_ID H_LEASE=$PL_JOB_LEASE

admin_post "$A" /queue/pause '{"protocol_version":24,"rounds":[0],"circuit_ids":[1]}'
assert_status 200
paused_at=$SECONDS
assert_json_eq '.pauses | length' 1
assert_json_eq '.pauses[0] | "\(.protocol_version) \(.rounds) \(.circuit_ids)"' '24 [0] [1]'

pl_use b
b_refuses_circuit_1() {
	claim_circuit 1
	[[ $HTTP_STATUS == 204 ]]
}
wg_wait_until 2 b_refuses_circuit_1
((SECONDS - paused_at <= 2)) || fail "daemon b honoured the pause after $((SECONDS - paused_at)) s"
pl_claim
assert_status 200
assert_eq "0 5" "$(wg_json '"\(.aggregation_round) \(.circuit_id)"')" "an unfiltered claim on b takes circuit 5"
pl_claim '{"prover_id":"q","protocol_version":24,"rounds":[0]}'
assert_status 204

# The held job finishes on daemon a.
pl_use a
pl_heartbeat "$H" "$H_LEASE"
assert_status 200
prove_held "$H" "$H_LEASE"

pl_use b
report
assert_eq "1 0 1 2 true" "$(entry 0 1)" "paused circuit 1 on b"
assert_eq "0 1 0 1 false" "$(entry 0 5)" "circuit 5 on b"
paused_gauge() {
	scrape
	[[ $(metric "wg_queue_paused{$L1}") == 1 && $(metric "wg_queue_paused{$L5}") == 0 ]]
}
wg_wait_until 5 paused_gauge

# A pause naming a triple without jobs lists it; the same filter twice is one pause.
admin_post "$B" /queue/pause '{"protocol_version":24,"rounds":[3],"circuit_ids":[0]}'
assert_status 200
assert_json_eq '.pauses | length' 2
admin_post "$B" /queue/pause '{"circuit_ids":[1,1],"rounds":[0],"protocol_version":24}'
assert_status 200
assert_json_eq '.pauses | length' 2
report
assert_eq "0 0 0 0 true" "$(entry 3 0)" "a paused triple without jobs"

# Everything paused: no claim at all.
admin_post "$B" /queue/pause '{}'
assert_status 200
assert_json_eq '.pauses | length' 3
assert_json_eq '.pauses[2] | "\(.protocol_version) \(.rounds) \(.circuit_ids)"' 'null null null'
pl_claim
assert_status 204

# A resume removes the pauses its filter covers: rounds [0] covers the round 0 circuit 1 pause,
# not the pause of every round nor that of round 3.
admin_post "$A" /queue/resume '{"rounds":[0]}'
assert_status 200
assert_json_eq '[.pauses[] | .rounds] | tostring' '[[3],null]'
admin_post "$A" /queue/resume '{}'
assert_status 200
assert_json_eq '.pauses | length' 0
claim_circuit 1
assert_status 200
report
assert_eq "false" "$(jq -r '[.queues[].paused] | any' "$HTTP_BODY_FILE")" "nothing paused after the resume"

# Bad bodies and roles.
admin_post "$A" /queue/pause '{"rounds":[0],"roundz":[1],"circuit":2}'
assert_status 400
assert_error_code invalid_input
assert_contains "$HTTP_BODY" 'roundz'
assert_contains "$HTTP_BODY" 'circuit'
admin_post "$A" /queue/pause '{"rounds":[4]}'
assert_status 400
admin_post "$A" /queue/resume '{"protocol_version":"24"}'
assert_status 400
wg_http POST "$A/queue/pause" -H "Authorization: Bearer $PL_VIEWER" -H 'Content-Type: application/json' --data-binary '{}'
assert_status 403

# wgctl queue pause|resume.
out=$(wg_wgctl --json queue pause --protocol-version 24 --rounds 2,1 --circuit-ids 7) || fail "wgctl queue pause failed"
assert_eq '24 [1,2] [7]' "$(jq -c -r '.pauses[0] | "\(.protocol_version) \(.rounds) \(.circuit_ids)"' <<<"$out")" "wgctl queue pause"
out=$(wg_wgctl queue pause) || fail "wgctl queue pause (table) failed"
assert_contains "$out" "CIRCUIT IDS"
out=$(wg_wgctl --json queue resume --protocol-version 24) || fail "wgctl queue resume failed"
assert_eq 1 "$(jq '.pauses | length' <<<"$out")" "resume --protocol-version 24 leaves the pause of every version"
out=$(wg_wgctl queue resume) || fail "wgctl queue resume failed"
assert_contains "$out" "no pause in force"
wg_wgctl queue pause --rounds 9 2>/dev/null && fail "wgctl queue pause --rounds 9 succeeded"
wg__pass
