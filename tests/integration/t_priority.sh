#!/bin/bash
# t_priority.sh: batch priorities (docs/state-machine.md, priority; POST /batches/{n}/priority).
# 1. Batches 1, 2 and 3 are uploaded (two basic circuits each); batch 3 is set to 50 and batch 1
#    to -10: one claim of six takes batch 3's jobs first, then 2's, then 1's. A job of batch 1 that
#    fails for good and is requeued by an operator keeps -10. Once every batch has its leaf job
#    queued, a claim of three takes batch 3's, 2's, 1's; every job of batch 3, of every round
#    and both kinds, carries 50.
# 2. The route: 400 for a priority out of range or an unknown key (named), 404 for no batch.
#    GET /batches lists each batch's priority, in number order or newest first (?order=desc,
#    paged with after/limit in that order; a bad order is 400 naming it). wgctl priority BATCH N
#    sets it (table and --json output, usage errors exit 2, an unknown batch exits 1).
# 3. Backpressure (docs/state-machine.md, backpressure): a daemon with --max-circuits-in-flight
#    100; batch 4 makes 100 basic circuits, so batch 5's basic job stays queued, unclaimed, and
#    GET /batches/5 says "held": "max_circuits_in_flight"; once provers drain batch 4, both are
#    proven.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
wg_start_daemon a --max-attempts 1 --retry-base 0
pl_use a

# set_priority BATCH JSON_BODY: POST /batches/BATCH/priority as an admin (sets HTTP_*).
set_priority() {
	wg_http POST "$PL_URL/batches/$1/priority" -H "Authorization: Bearer $PL_ADMIN" \
		-H 'Content-Type: application/json' --data-binary "$2"
}
# claim_n N [FILTERS]: claim up to N jobs (of any round, unless FILTERS, such as ',"rounds":[0]') in one statement (asserts 200); BATCHES lists their
# batch numbers in claim order, CLAIMED their "id lease" lines.
claim_n() {
	wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
		--data-binary "{\"prover_id\":\"t\",\"protocol_version\":24,\"limit\":$1${2:-}}"
	assert_status 200
	BATCHES=$(wg_json '[.jobs[].l1_batch_number] | join(",")')
	CLAIMED=$(wg_json '.jobs[] | "\(.id) \(.lease)"')
}
# prove_claimed [SKIP_ID]: prove every job of CLAIMED but SKIP_ID with the reference scheme.
prove_claimed() {
	local id lease
	while read -r id lease; do
		[[ $id == "${1:-}" ]] && continue
		pl_witness "$id" "$WG_TMP/w" "$lease"
		pl_ref_prove "$WG_TMP/w" "$WG_TMP/p"
		pl_complete "$id" "$lease" "$WG_TMP/p"
		assert_status 200
	done <<<"$CLAIMED"
}

for n in 1 2 3; do
	pl_gen_input "$n" --logs 0 --workload "main_vm=$((5390 * 2))" >"$WG_TMP/in$n.json"
	pl_upload "$n" "$WG_TMP/in$n.json"
	assert_status 201
done
basics_done() { [[ $(wg_psql "SELECT count(*) FROM prover_jobs WHERE aggregation_round = 0") == 6 ]]; }
wg_wait_until 60 basics_done

# ---------------------------------------------------------------- the route
pl_get /batches/2
assert_status 200
assert_eq 0 "$(wg_json .priority)" "a batch starts at priority 0"
set_priority 3 '{"priority":50}'
assert_status 200
assert_eq 50 "$(wg_json .priority)" "the reply is the batch with its new priority"
assert_eq 3 "$(wg_json .l1_batch_number)" "the reply is batch 3"
assert_eq 4 "$(wg_json '.rounds | length')" "the reply has the shape of GET /batches/{n}"
set_priority 1 '{"priority":-10}'
assert_status 200
pl_get /batches/1
assert_eq -10 "$(wg_json .priority)" "GET /batches/1 shows its priority"
for body in '{"priority":101}' '{"priority":-101}' '{"priority":"5"}' '{"priority":1.5}' '{}'; do
	set_priority 2 "$body"
	assert_status 400
	assert_error_code invalid_input
done
set_priority 2 '{"priority":5,"priorty":6}'
assert_status 400
assert_error_code invalid_input
assert_contains "$(wg_json .error.message)" priorty "the unknown key is named"
set_priority 99 '{"priority":5}'
assert_status 404
wg_http POST "$PL_URL/batches/2/priority" -H "Authorization: Bearer $PL_VIEWER" \
	-H 'Content-Type: application/json' --data-binary '{"priority":5}'
assert_status 403
pl_get /batches/2
assert_eq 0 "$(wg_json .priority)" "refused requests changed nothing"

# ---------------------------------------------------------------- the list: priority, newest first
pl_get /batches
assert_status 200
assert_eq "1:-10 2:0 3:50" "$(wg_json '[.batches[] | "\(.l1_batch_number):\(.priority)"] | join(" ")')" \
	"GET /batches lists each batch's priority, in number order"
pl_get '/batches?order=desc'
assert_status 200
assert_eq "3:50 2:0 1:-10" "$(wg_json '[.batches[] | "\(.l1_batch_number):\(.priority)"] | join(" ")')" \
	"GET /batches?order=desc lists the newest first"
pl_get '/batches?order=desc&limit=2'
assert_eq 3,2 "$(wg_json '[.batches[].l1_batch_number] | join(",")')" "order=desc pages: the first page"
pl_get '/batches?order=desc&limit=2&after=2'
assert_eq 1 "$(wg_json '[.batches[].l1_batch_number] | join(",")')" "order=desc pages: after=2 goes on below 2"
pl_get '/batches?order=asc&after=1&limit=1'
assert_eq 2 "$(wg_json '[.batches[].l1_batch_number] | join(",")')" "order=asc pages as before"
for q in 'order=sideways' 'order=DESC' 'order='; do
	pl_get "/batches?$q"
	assert_status 400
	assert_error_code bad_request
	assert_contains "$(wg_json .error.message)" "order must be asc or desc" "?$q is refused, naming order"
done
pl_get '/batches?order=desc&after=-1'
assert_status 400
assert_contains "$(wg_json .error.message)" "after" "a negative after is refused, naming after"

# ---------------------------------------------------------------- wgctl priority
wgctl_rc() { # wgctl_rc ARGS...: sets RC, OUT, ERR
	RC=0
	wg_wgctl "$@" >"$WG_TMP/wgctl.out" 2>"$WG_TMP/wgctl.err" || RC=$?
	OUT=$(cat "$WG_TMP/wgctl.out")
	ERR=$(cat "$WG_TMP/wgctl.err")
}
wgctl_rc priority 2 7
assert_eq "0|batch 2: priority 7" "$RC|$OUT" "wgctl priority 2 7"
pl_get /batches/2
assert_eq 7 "$(wg_json .priority)" "wgctl priority sets what GET /batches/2 shows"
assert_eq 7 "$(wg_psql "SELECT DISTINCT priority FROM prover_jobs WHERE l1_batch_number = 2")" \
	"wgctl priority sets the batch's jobs too"
wgctl_rc --json priority 2 -3
assert_eq 0 "$RC" "wgctl --json priority 2 -3"
assert_eq "2 -3" "$(jq -r '"\(.l1_batch_number) \(.priority)"' <<<"$OUT")" "wgctl --json priority prints the batch's priority"
for args in "2 101" "2 -101" "2 x" "2 5x" "x 5" "2"; do
	# shellcheck disable=SC2086 # the words are the arguments
	wgctl_rc priority $args
	assert_eq 2 "$RC" "wgctl priority $args is bad usage"
	assert_contains "$ERR" "usage: priority BATCH N" "wgctl priority $args says the usage"
done
wgctl_rc priority 99 5
assert_eq 1 "$RC" "wgctl priority for no batch fails"
assert_contains "$ERR" "no such batch 99"
wgctl_rc priority 2 0
assert_eq 0 "$RC" "wgctl priority 2 0"
assert_eq 0 "$(wg_psql "SELECT string_agg(DISTINCT priority::text, ',') FROM prover_jobs WHERE l1_batch_number = 2")" \
	"batch 2 is back at 0"

# ---------------------------------------------------------------- claims take priority first
assert_eq 50 "$(wg_psql "SELECT DISTINCT priority FROM prover_jobs WHERE l1_batch_number = 3")" \
	"the jobs batch 3 had are set too"
claim_n 6
assert_eq 3,3,2,2,1,1 "$BATCHES" "one claim takes batch 3 (50), then 2 (0), then 1 (-10)"

# A job of batch 1 fails for good (--max-attempts 1); an operator requeue keeps its priority.
read -r F FLEASE < <(tail -n 1 <<<"$CLAIMED")
pl_fail "$F" "$FLEASE" "t_priority: broken GPU"
assert_status 200
assert_eq failed "$(wg_json .status)" "the job of batch 1 failed for good"
prove_claimed "$F"
wg_http POST "$PL_URL/jobs/$F/requeue" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
assert_eq "queued -10" "$(wg_psql "SELECT status || ' ' || priority FROM prover_jobs WHERE id = $F")" \
	"a requeued job keeps its batch's priority"
claim_n 1 ',"rounds":[0]'
assert_eq "1 $F" "$BATCHES $(wg_json '.jobs[0].id')" "the requeued job is the only basic job queued"
prove_claimed

# Later rounds: the leaf jobs the rounds insert copy their batch's priority.
leaves_queued() {
	[[ $(wg_psql "SELECT count(*) FROM prover_jobs WHERE aggregation_round = 1 AND status = 'queued'") == 3 ]]
}
wg_wait_until 60 leaves_queued
claim_n 3
assert_eq 3,2,1 "$BATCHES" "the leaf jobs are claimed by priority too"
prove_claimed
prove_all_until 3 proven
prove_all_until 2 proven
prove_all_until 1 proven
assert_eq 50 "$(wg_psql "SELECT string_agg(DISTINCT priority::text, ',') FROM (
	SELECT priority FROM prover_jobs WHERE l1_batch_number = 3
	UNION ALL SELECT priority FROM basic_circuit_witness_jobs WHERE l1_batch_number = 3
	UNION ALL SELECT priority FROM leaf_aggregation_jobs WHERE l1_batch_number = 3
	UNION ALL SELECT priority FROM node_aggregation_jobs WHERE l1_batch_number = 3
	UNION ALL SELECT priority FROM scheduler_witness_jobs WHERE l1_batch_number = 3) j")" \
	"every job of batch 3, of every round and both kinds, has 50"
assert_eq 4 "$(wg_psql "SELECT count(DISTINCT aggregation_round) FROM prover_jobs WHERE l1_batch_number = 3")" \
	"batch 3 had prover jobs in all four rounds"
assert_eq -10 "$(wg_psql "SELECT string_agg(DISTINCT priority::text, ',') FROM prover_jobs WHERE l1_batch_number = 1")" \
	"every prover job of batch 1 has -10"


# ---------------------------------------------------------------- backpressure
rc=0
wg_stop_daemon a || rc=$?
assert_eq 0 "$rc" "daemon a stopped cleanly (under --enable-sanitizers: no leak)"
wg_start_daemon b --max-circuits-in-flight 100 --poll-ms 200
pl_use b
pl_gen_input 4 --logs 0 --workload "main_vm=$((5390 * 100))" >"$WG_TMP/in4.json"
pl_upload 4 "$WG_TMP/in4.json"
assert_status 201
basic4_done() { [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 4") == successful ]]; }
wg_wait_until 60 basic4_done
assert_eq 100 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'queued'")" "batch 4 queued 100 circuits"
pl_gen_input 5 --logs 0 --workload main_vm=5390 >"$WG_TMP/in5.json"
pl_upload 5 "$WG_TMP/in5.json"
assert_status 201
sleep 2 # ten polls of the basic round, and the upload's notification
assert_eq "queued 0" "$(wg_psql "SELECT status || ' ' || attempts FROM basic_circuit_witness_jobs WHERE l1_batch_number = 5")" \
	"batch 5's basic job waits while 100 circuits are in flight"
pl_get /batches/5
assert_status 200
assert_eq "queued max_circuits_in_flight" "$(wg_json '"\(.status) \(.held)"')" "GET /batches/5 says why it waits"
pl_get /batches/4
assert_eq null "$(wg_json .held)" "a batch under way is not held"
# One circuit in progress still counts: the basic job waits on.
pl_claim '{"prover_id":"t","protocol_version":24,"rounds":[0]}'
assert_status 200
pl_witness "$PL_JOB_ID" "$WG_TMP/w"
pl_ref_prove "$WG_TMP/w" "$WG_TMP/p"
sleep 1
assert_eq queued "$(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 5")" \
	"a circuit in progress counts as in flight"
pl_complete "$PL_JOB_ID" "$PL_JOB_LEASE" "$WG_TMP/p"
assert_status 200
basic5_started() { [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 5") != queued ]]; }
wg_wait_until 30 basic5_started
pl_get /batches/5
assert_eq null "$(wg_json .held)" "batch 5 is held no more"
prove_all_until 5 proven
prove_all_until 4 proven
rc=0
wg_stop_daemon b || rc=$?
assert_eq 0 "$rc" "daemon b stopped cleanly (under --enable-sanitizers: no leak)"
