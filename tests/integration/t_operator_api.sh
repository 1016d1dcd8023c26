#!/bin/bash
# t_operator_api.sh: what operators read (docs/api.md) with values that could be wrong:
# batch status `queued` (only the basic job exists, queued) next to `in_progress`; GET
# /batches/{n} timings per round; `limit`/`after_id` paging of GET /batches/{n}/jobs; /metrics
# values (requests by route and code, round runs, job gauges); and an expired witness job that
# has used --max-attempts going to `failed` with the reason; that job read with GET
# /witness-jobs/{round}/{id} and put back with POST /witness-jobs/{round}/{id}/requeue.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup
sql_is() { [[ $(wg_psql "$2") == "$1" ]]; }
metric() { # metric LINE_PREFIX: the value of one /metrics sample of the last response
	awk -v k="$1" 'index($0, k " ") == 1 { print $NF }' "$HTTP_BODY_FILE"
}

# One basic worker, held 3 s in batch 1's round, so that batch 2 waits in the queue.
WG_FAULT=basic_after_parse@3000:1 wg_start_daemon a --workers 1 --max-attempts 2 --housekeeping-ms 200
pl_use a
auth=(-H "Authorization: Bearer $PL_ADMIN")
pl_gen_input 1 --logs 0 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in1.json"
pl_gen_input 2 --logs 40 --workload main_vm=$((5390 * 5)) --seed 2 >"$WG_TMP/in2.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
wg_wait_until 10 grep -q "fault point basic_after_parse reached" "$WG_TMP/a.log"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201

# ---------------------------------------------------------------- status queued
wg_http GET "$PL_URL/batches/2" "${auth[@]}"
assert_status 200
assert_json_eq .status queued
assert_json_eq '[.rounds[].aggregation_round] | join(",")' "0,1,2,3"
assert_json_eq '.rounds[0].witness_jobs | tojson' '{"queued":1}'
assert_json_eq '[.rounds[1:][] | (.witness_jobs | length) + (.prover_jobs | length)] | add' 0
wg_http GET "$PL_URL/batches/1" "${auth[@]}"
assert_json_eq .status in_progress
assert_json_eq '.rounds[0].witness_jobs | tojson' '{"in_progress":1}'
wg_http GET "$PL_URL/metrics"
assert_status 200
assert_eq 1 "$(metric 'wg_jobs{kind="witness",round="basic",status="queued"}')" "queued basic jobs in /metrics"
assert_eq 1 "$(metric 'wg_jobs{kind="witness",round="basic",status="in_progress"}')" "running basic jobs in /metrics"

prove_all_until 2 proven 90
prove_all_until 1 proven 30

# ---------------------------------------------------------------- timings
wg_http GET "$PL_URL/batches/2" "${auth[@]}"
assert_json_eq .status proven
for r in 0 1 2 3; do
	assert_json_eq ".rounds[$r] | (.started_at | test(\"^20[0-9-]{8}T[0-9:.]{12}Z$\")) and .updated_at >= .started_at" true
	assert_json_eq ".rounds[$r].elapsed_seconds | type == \"number\" and . >= 0" true
done
assert_json_eq '.rounds[0].started_at <= .rounds[3].started_at and .rounds[1].updated_at <= .rounds[3].updated_at' true
# The scheduler round cannot have started before the last basic proof was stored.
assert_json_eq ".rounds[3].started_at >= \"$(wg_psql "SELECT to_char(max(updated_at) AT TIME ZONE 'UTC',
	'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM prover_jobs WHERE l1_batch_number = 2 AND aggregation_round = 0")\"" true

# ---------------------------------------------------------------- paging
wg_http GET "$PL_URL/batches/2/jobs" "${auth[@]}"
assert_status 200
all=$(jq -c '[.prover_jobs[].id]' <"$HTTP_BODY_FILE")
n_all=$(jq length <<<"$all")
assert_eq "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 2")" "$n_all" "all prover jobs without limit"
assert_eq "$(jq -c 'sort' <<<"$all")" "$all" "prover jobs in id order"
pages='[]' after=0 n_pages=0
while :; do
	wg_http GET "$PL_URL/batches/2/jobs?limit=3&after_id=$after" "${auth[@]}"
	assert_status 200
	page=$(jq -c '[.prover_jobs[].id]' <"$HTTP_BODY_FILE")
	(($(jq length <<<"$page") <= 3)) || fail "a page of limit 3 holds $page"
	assert_json_eq '.witness_jobs | length' "$(wg_psql "SELECT (SELECT count(*) FROM basic_circuit_witness_jobs WHERE l1_batch_number = 2)
		+ (SELECT count(*) FROM leaf_aggregation_jobs WHERE l1_batch_number = 2) + (SELECT count(*) FROM node_aggregation_jobs
		WHERE l1_batch_number = 2) + (SELECT count(*) FROM scheduler_witness_jobs WHERE l1_batch_number = 2)")"
	[[ $page != '[]' ]] || break
	pages=$(jq -c --argjson p "$page" '. + $p' <<<"$pages")
	after=$(jq '.[-1]' <<<"$page")
	n_pages=$((n_pages + 1))
	((n_pages < 100)) || fail "paging does not end"
done
assert_eq "$all" "$pages" "the pages of 3 put together"
assert_eq $(((n_all + 2) / 3)) "$n_pages" "number of pages"
wg_http GET "$PL_URL/batches/2/jobs?limit=1&after_id=$(jq '.[0]' <<<"$all")" "${auth[@]}"
assert_json_eq '[.prover_jobs[].id] | tojson' "[$(jq '.[1]' <<<"$all")]"

# ---------------------------------------------------------------- metrics values
wg_http GET "$PL_URL/metrics"
assert_status 200
assert_eq 2 "$(metric 'wg_http_requests_total{route="POST /batches/{n}/witness-inputs",code="201"}')" "uploads counted"
assert_eq 2 "$(metric 'wg_round_runs_total{round="basic",result="committed"}')" "basic rounds"
for r in leaf node scheduler; do
	table=$(case $r in leaf) echo leaf_aggregation_jobs ;; node) echo node_aggregation_jobs ;; scheduler) echo scheduler_witness_jobs ;; esac)
	assert_eq "$(wg_psql "SELECT count(*) FROM $table")" "$(metric "wg_round_runs_total{round=\"$r\",result=\"committed\"}")" \
		"$r rounds committed"
done
assert_eq 0 "$(metric 'wg_round_runs_total{round="basic",result="stopped"}')" "basic rounds stopped"
awk 'index($0, "wg_round_seconds_total{round=\"basic\"} ") == 1 { exit !($NF >= 3) }' "$HTTP_BODY_FILE" ||
	fail "basic round time under the 3 s it slept: $(grep wg_round_seconds_total "$HTTP_BODY_FILE")"
wg__pass
assert_eq "" "$(grep '^wg_jobs{' "$HTTP_BODY_FILE" || true)" "no unfinished job left in the gauges"
assert_eq 1 "$(metric wg_database_up)" "wg_database_up"

# ---------------------------------------------------------------- an expired witness job at max attempts
pl_gen_input 3 --logs 0 --workload main_vm=$((5390 * 2)) --seed 3 >"$WG_TMP/in3.json"
pl_upload 3 "$WG_TMP/in3.json"
assert_status 201
wg_wait_until 20 sql_is successful "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 3"
# Its leaf job as a dead daemon would leave it on its second (= --max-attempts) claim.
wg_psql "UPDATE leaf_aggregation_jobs SET status = 'in_progress', attempts = 2, picked_by = 'ghost',
	lease_expires_at = now() - interval '1 second' WHERE l1_batch_number = 3"
wg_wait_until 10 sql_is "failed|2|lease expired while held by ghost; reached max_attempts (2)" \
	"SELECT status || '|' || attempts || '|' || error FROM leaf_aggregation_jobs WHERE l1_batch_number = 3"
wg_http GET "$PL_URL/batches/3" "${auth[@]}"
assert_json_eq .status failed
assert_json_eq '.rounds[1].witness_jobs | tojson' '{"failed":1}'

# ---------------------------------------------------------------- one witness job, and its requeue
# The basic proofs of batch 3 arrive while its leaf job is failed: they are counted, nothing runs.
for k in 1 2; do
	prove_one '{"prover_id":"t","protocol_version":24,"rounds":[0]}' || fail "basic circuit $k of batch 3"
done
assert_eq "failed 2" "$(wg_psql "SELECT status || ' ' || proofs_done FROM leaf_aggregation_jobs WHERE l1_batch_number = 3")" \
	"the failed leaf job of batch 3"
leaf3=$(wg_psql "SELECT id FROM leaf_aggregation_jobs WHERE l1_batch_number = 3")
wg_http GET "$PL_URL/witness-jobs/1/$leaf3" -H "Authorization: Bearer $PL_VIEWER"
assert_status 200
assert_json_eq '[.id, .aggregation_round, .l1_batch_number, .circuit_id, .depth, .status, .attempts, .picked_by] | join(",")' \
	"$leaf3,1,3,1,0,failed,2,ghost"
assert_json_eq .error "lease expired while held by ghost; reached max_attempts (2)"
wg_http GET "$PL_URL/witness-jobs/0/$(wg_psql "SELECT id FROM basic_circuit_witness_jobs WHERE l1_batch_number = 2")" \
	-H "Authorization: Bearer $PL_VIEWER"
assert_json_eq '[.aggregation_round, .l1_batch_number, .status, .attempts] | join(",")' "0,2,successful,1"
wg_http GET "$PL_URL/witness-jobs/4/1" -H "Authorization: Bearer $PL_VIEWER"
assert_status 404
assert_error_code not_found
wg_http GET "$PL_URL/witness-jobs/2/999999" -H "Authorization: Bearer $PL_VIEWER"
assert_status 404
wg_http POST "$PL_URL/witness-jobs/1/$leaf3/requeue" "${auth[@]}"
assert_status 200
assert_json_eq .status queued
# The requeued job runs (its proofs arrived while it was failed) and the batch is proven.
wg_wait_until 20 sql_is "successful 3" "SELECT status || ' ' || attempts FROM leaf_aggregation_jobs WHERE id = $leaf3"
prove_all_until 3 proven 60
wg_http POST "$PL_URL/witness-jobs/0/1/requeue" "${auth[@]}"
assert_status 409
assert_error_code conflict
wg_http POST "$PL_URL/witness-jobs/3/999999/requeue" "${auth[@]}"
assert_status 404
