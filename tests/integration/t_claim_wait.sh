#!/bin/bash
# t_claim_wait.sh: claims that wait for work ("wait_ms", docs/api.md; http/claim_wait.h).
# 1. An empty queue: a claim with "wait_ms": 1500 answers 204 after about 1.5 s, not at once;
#    "wait_ms" out of 0..30000 or not an integer is 400 naming it.
# 2. Parked claims hold no HTTP thread: with --http-threads 2, 40 claims waiting at once while
#    /healthz still answers at once.
# 3. A claim waiting when a batch is uploaded gets its job as soon as the basic round commits (the
#    round's notification wakes it), on a second daemon too (the notification crosses daemons),
#    long before its wait runs out.
# 4. A waiting claim whose client leaves claims nothing: the jobs queued after it left stay queued
#    with no claim counted.
# 5. SIGTERM with claims waiting: they answer 204 at once and the daemon exits 0 quickly.
# 6. wg-prover waits at the server by default: a batch uploaded while it idles is proven, and its
#    claims came back empty far fewer times than one-second polling would have made.
# 7. A fleet's claims parked for work are woken together and served together: eight claims of
#    "limit" 200 waiting when a batch of 2,100 circuits is uploaded get 1,600 jobs from one claim
#    statement (every attempt has the same claimed_at, the statement's transaction time). On the
#    main of 2026-12-05 the woken claims were posted one by one (the first ran alone) and a
#    statement claimed at most 1,024 jobs: three statements at least.
# On the main of 2026-12-04 "wait_ms" was an unknown key (400) and an idle prover polled once a
# second: every part failed there.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
STORE="file:$WG_TMP/store"
ms() { date +%s%3N; }
claim_body() { # claim_body WAIT_MS [PROVER]
	printf '{"prover_id":"%s","protocol_version":%d,"wait_ms":%s}' "${2:-w}" "$PL_PROTOCOL_VERSION" "$1"
}

# ---------------------------------------------------------------- 1. waits, then 204
wg_start_daemon a --store "$STORE" --http-threads 2
wg_start_daemon b --store "$STORE"
pl_use a
t0=$(ms)
pl_claim "$(claim_body 1500)"
took=$(($(ms) - t0))
assert_status 204
((took >= 1400 && took < 5000)) || fail "a claim with wait_ms 1500 on an empty queue answered after $took ms"
for bad in -1 30001 '"5"' 1.5 true; do
	pl_claim "$(claim_body "$bad")"
	assert_status 400
	assert_error_code invalid_input
	assert_contains "$HTTP_BODY" '$.wait_ms' "the error names wait_ms ($bad)"
done
pl_claim "$(claim_body 0)"
assert_status 204

# ---------------------------------------------------------------- 2. parked claims hold no thread
parked_pids=()
for i in $(seq 1 40); do
	curl -s -o "$WG_TMP/park$i.out" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $PL_PROVER" \
		-H 'Content-Type: application/json' --data-binary "$(claim_body 6000 "park$i")" "$PL_URL/jobs/claim" \
		>"$WG_TMP/park$i.status" &
	parked_pids+=($!)
done
sleep 1
t0=$(ms)
wg_http GET "$PL_URL/healthz"
assert_status 200
took=$(($(ms) - t0))
((took < 1000)) || fail "/healthz took $took ms with 40 claims parked on 2 HTTP threads"
wg_http GET "$PL_URL/metrics"
assert_eq 40 "$(awk '$1 == "wg_claims_waiting" { print $2 }' <<<"$HTTP_BODY")" "wg_claims_waiting while they wait"
wait "${parked_pids[@]}"
for i in $(seq 1 40); do
	assert_eq 204 "$(cat "$WG_TMP/park$i.status")" "parked claim $i answered 204 when its wait ran out"
done

# ---------------------------------------------------------------- 3. woken by the round's commit
pl_gen_input 1 --logs 0 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in1.json"
woken_pids=()
for d in a b; do
	curl -s -o "$WG_TMP/woken_$d.out" -w '%{http_code} %{time_total}\n' --max-time 40 \
		-H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
		--data-binary "$(claim_body 25000 "woken_$d")" "$(wg_url $d)/jobs/claim" >"$WG_TMP/woken_$d.status" &
	woken_pids+=($!)
done
sleep 1
upload_ms=$(ms)
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
wait "${woken_pids[@]}"
for d in a b; do
	read -r code secs <"$WG_TMP/woken_$d.status"
	assert_eq 200 "$code" "the claim waiting on daemon $d got a job"
	[[ $(jq -r .kind "$WG_TMP/woken_$d.out") == prover ]] || fail "daemon $d answered $(cat "$WG_TMP/woken_$d.out")"
	# It waited 1 s before the upload; the round then takes well under a few seconds.
	awk -v s="$secs" 'BEGIN { exit !(s < 8) }' ||
		fail "the claim waiting on daemon $d took $secs s (the upload came after 1 s; its wait was 25 s)"
done
echo "# woken claims answered in: $(cut -d' ' -f2 "$WG_TMP/woken_a.status") s (a), $(cut -d' ' -f2 "$WG_TMP/woken_b.status") s (b)"

# ---------------------------------------------------------------- 4. a client that leaves
wg_psql "UPDATE prover_jobs SET status = 'successful' WHERE l1_batch_number = 1 AND status = 'queued'" >/dev/null
curl -s -o /dev/null --max-time 1 -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
	--data-binary "$(claim_body 20000 leaver)" "$PL_URL/jobs/claim" || true
pl_gen_input 2 --logs 0 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
queued2() { [[ $(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 2") -gt 0 ]]; }
wg_wait_until 30 queued2
sleep 2.5 # more than a recheck of the parked claims
assert_eq "0|0" "$(wg_psql "SELECT count(*) FILTER (WHERE status <> 'queued'), coalesce(sum(attempts), 0)
	FROM prover_jobs WHERE l1_batch_number = 2")" "no job of batch 2 was claimed for the client that left"
assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_job_attempts WHERE prover_id = 'leaver'")" \
	"no attempt was recorded for it"

# ---------------------------------------------------------------- 5. shutdown answers waiting claims
wg_psql "UPDATE prover_jobs SET status = 'successful' WHERE status = 'queued'" >/dev/null
stop_pids=()
for i in 1 2 3; do
	curl -s -o /dev/null -w '%{http_code}' --max-time 40 -H "Authorization: Bearer $PL_PROVER" \
		-H 'Content-Type: application/json' --data-binary "$(claim_body 30000 "stop$i")" "$PL_URL/jobs/claim" \
		>"$WG_TMP/stop$i.status" &
	stop_pids+=($!)
done
sleep 1
t0=$SECONDS
rc=0
wg_stop_daemon a TERM || rc=$?
assert_eq 0 "$rc" "exit status on SIGTERM with claims waiting"
((SECONDS - t0 < 8)) || fail "the shutdown took $((SECONDS - t0)) s with claims waiting"
wait "${stop_pids[@]}"
for i in 1 2 3; do
	assert_eq 204 "$(cat "$WG_TMP/stop$i.status")" "waiting claim $i answered 204 at shutdown"
done

# ---------------------------------------------------------------- 6. wg-prover waits by default
pl_use b
"$WG_BUILDDIR/wg-prover" --url "$PL_URL" --token "$PL_PROVER" --concurrency 4 --verbose \
	>"$WG_TMP/prover.out" 2>&1 &
prover=$!
sleep 4 # idle: its claims wait at the server
pl_gen_input 3 --logs 0 --workload main_vm=$((5390 * 6)) >"$WG_TMP/in3.json"
pl_upload 3 "$WG_TMP/in3.json"
assert_status 201
proven3() { [[ $(batch_status 3) == proven ]]; }
wg_wait_until 60 proven3
kill -INT "$prover"
t0=$SECONDS
wait "$prover" || true
((SECONDS - t0 < 5)) || fail "wg-prover took $((SECONDS - t0)) s to stop with its claims waiting"
empty=$(grep -c 'route=/jobs/claim status=204' "$WG_TMP/b.log" || true)
# Polling at 0.05..1 s for over 4 s idle plus the gaps between rounds would be tens of claims.
((empty <= 12)) || fail "wg-prover's claims came back empty $empty times: it polled instead of waiting"
echo "# wg-prover: $empty empty claims over the run"
wg_http GET "$PL_URL/metrics"
touches=$(awk '$1 == "wg_witness_touches_total" { print $2 }' <<<"$HTTP_BODY")
((touches >= $(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 3"))) ||
	fail "wg_witness_touches_total is $touches: every download of batch 3 on daemon b is fenced through the toucher"
# Their leases are written full in gathered statements, and only for the jobs still held then.
leases=$(awk '$1 == "wg_lease_touches_total" { print $2 }' <<<"$HTTP_BODY")
flushes=$(awk '$1 == "wg_lease_touch_flushes_total" { print $2 }' <<<"$HTTP_BODY")
[[ -n $leases && -n $flushes ]] || fail "wg_lease_touches_total and wg_lease_touch_flushes_total are exported"
((leases <= touches && flushes <= leases)) ||
	fail "lease touches $leases in $flushes statements, for $touches downloads: more than one per download or an empty flush"
echo "# $touches downloads, $leases leases written full in $flushes statements"
# The claims wg-prover left waiting are dropped within a recheck (a second).
none_waiting() {
	wg_http GET "$PL_URL/metrics"
	[[ $(awk '$1 == "wg_claims_waiting" { print $2 }' <<<"$HTTP_BODY") == 0 ]]
}
wg_wait_until 3 none_waiting

# ---------------------------------------------------------------- 7. woken together, claimed together
wg_psql "UPDATE prover_jobs SET status = 'successful' WHERE status = 'queued'" >/dev/null
pl_gen_input 4 --logs 0 --workload main_vm=$((5390 * 2100)) >"$WG_TMP/in4.json"
fleet_pids=()
for i in $(seq 1 8); do
	curl -s -o "$WG_TMP/fleet$i.out" -w '%{http_code}' --max-time 40 -H "Authorization: Bearer $PL_PROVER" \
		-H 'Content-Type: application/json' --data-binary \
		"{\"prover_id\":\"fleet$i\",\"protocol_version\":$PL_PROTOCOL_VERSION,\"wait_ms\":25000,\"limit\":200}" \
		"$PL_URL/jobs/claim" >"$WG_TMP/fleet$i.status" &
	fleet_pids+=($!)
done
sleep 1.5
pl_upload 4 "$WG_TMP/in4.json"
assert_status 201
wait "${fleet_pids[@]}"
for i in $(seq 1 8); do
	assert_eq 200 "$(cat "$WG_TMP/fleet$i.status")" "parked claim fleet$i answered"
	assert_eq 200 "$(jq '.jobs | length' "$WG_TMP/fleet$i.out")" "parked claim fleet$i got its 200 jobs"
done
assert_eq "1600|1" "$(wg_psql "SELECT count(*), count(DISTINCT claimed_at) FROM prover_job_attempts
	WHERE l1_batch_number = 4 AND prover_id LIKE 'fleet%'")" "1,600 jobs claimed by one statement"
wg__pass
