#!/bin/bash
# t_claim_grace.sh: a lost claim reply strands nothing for long (docs/state-machine.md).
# 1. A prover that claims and then never downloads nor heartbeats: the job is claimable again
#    within --claim-grace + 5 s, with no backoff, the claim counted and the reason on the row. A
#    job whose witness was downloaded keeps the full --lease (written within 0.1 s, and at stop).
# 2. A client that gives up while its claim waits in the combiner (the claim group stalled at a
#    fault point): the daemon finds it gone when the claim returns and gives the job back at once,
#    the claim taken back (its attempt records end as released); it does not wait for the grace.
# 3. Completions whose group cannot commit (a fault point fails the group statement) are answered
#    503, never 409, and each completes when sent again; wg-prover retries them by itself.
# 4. A statement writing the full leases of downloads that fails (the database unreachable)
#    keeps them for the next one.
#
# On the main of 2026-12-04 a claim held its job for the whole --lease (600 s) whatever happened
# to the reply, and a failed group answered every member 409 conflict: each part failed there.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
STORE="file:$WG_TMP/store" # shared by the daemons started one after the other
basic_done() { # basic_done BATCH
	[[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1") == successful ]]
}
job_state() { # job_state ID: status|attempts|retry_at set
	wg_psql "SELECT status, attempts, retry_at IS NOT NULL FROM prover_jobs WHERE id = $1"
}

# ---------------------------------------------------------------- 1. a claim never taken up
wg_start_daemon a --store "$STORE" --claim-grace 3 --housekeeping-ms 200
pl_use a
pl_gen_input 1 --logs 0 --workload main_vm=$((5390 * 8)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
wg_wait_until 60 basic_done 1

pl_claim '{"prover_id":"lost","protocol_version":24}'
assert_status 200
lost=$PL_JOB_ID
claimed_at=$SECONDS
# Its claim runs for the grace only, shown as such.
left=$(wg_psql "SELECT extract(epoch FROM lease_expires_at - now())::int FROM prover_jobs WHERE id = $lost")
((left <= 3)) || fail "a claim not yet taken up is held for --claim-grace (3 s), not $left s"
# Another job, downloaded: held for the full --lease.
pl_claim '{"prover_id":"kept","protocol_version":24}'
assert_status 200
kept=$PL_JOB_ID
kept_lease=$PL_JOB_LEASE
pl_witness "$kept" "$WG_TMP/kept.wit"
# The touch is written within 0.1 s of the download (db/toucher.h): read after 0.5 s.
sleep 0.5
left=$(wg_psql "SELECT extract(epoch FROM lease_expires_at - now())::int FROM prover_jobs WHERE id = $kept")
((left > 590)) || fail "a downloaded job is held for --lease (600 s) 0.5 s after its download, not $left s"

back_in_queue() { [[ $(job_state "$lost") == "queued|1|f" ]]; }
wg_wait_until 8 back_in_queue
((SECONDS - claimed_at <= 8)) || fail "the lost claim came back after $((SECONDS - claimed_at)) s (grace 3 s + 5)"
assert_contains "$(wg_psql "SELECT error FROM prover_jobs WHERE id = $lost")" "claim not taken up within the claim grace" \
	"the reason on the row"
assert_eq "1|lost|expired|claim not taken up within the claim grace by lost" \
	"$(wg_psql "SELECT attempt, prover_id, outcome, error FROM prover_job_attempts WHERE prover_job_id = $lost")" \
	"its attempt record"
# Claimable at once (no backoff), under a new lease.
pl_claim '{"prover_id":"again","protocol_version":24}'
assert_status 200
assert_eq "$lost" "$PL_JOB_ID" "the lost job is claimed again first"
again_lease=$PL_JOB_LEASE
pl_witness "$lost" "$WG_TMP/lost.wit"
assert_eq "in_progress|2|f" "$(job_state "$lost")" "claimed again"
pl_ref_prove "$WG_TMP/lost.wit" "$WG_TMP/lost.proof"
pl_complete "$lost" "$again_lease" "$WG_TMP/lost.proof"
assert_status 200
# The downloaded job was not touched by the grace.
assert_eq "in_progress|1|f" "$(job_state "$kept")" "the downloaded job stays held"
pl_ref_prove "$WG_TMP/kept.wit" "$WG_TMP/kept.proof"
pl_complete "$kept" "$kept_lease" "$WG_TMP/kept.proof"
assert_status 200
# Touches wait up to 0.1 s to be written together; a daemon stopped right after a download
# writes the one it holds before it exits.
pl_claim '{"prover_id":"last","protocol_version":24}'
assert_status 200
last=$PL_JOB_ID
last_lease=$PL_JOB_LEASE
pl_witness "$last" "$WG_TMP/last.wit"
wg_stop_daemon a
assert_eq "t" "$(wg_psql "SELECT lease_touched AND lease_expires_at > now() + interval '590 s' FROM prover_jobs WHERE id = $last")" \
	"the lease of a download served just before the daemon stopped is full"

# ---------------------------------------------------------------- 2. the client gave up mid-claim
# Every claim group sleeps 2 s before its statement; the client waits 1 s only.
WG_FAULT=claim_group@2000 wg_start_daemon b --store "$STORE"
pl_use b
pl_ref_prove "$WG_TMP/last.wit" "$WG_TMP/last.proof"
pl_complete "$last" "$last_lease" "$WG_TMP/last.proof"
assert_status 200
queued_before=$(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'queued'")
attempts_before=$(wg_psql "SELECT sum(attempts) FROM prover_jobs")
gave_up_at=$SECONDS
curl -sS --max-time 1 -o /dev/null -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
	--data-binary '{"prover_id":"impatient","protocol_version":24,"limit":2}' "$PL_URL/jobs/claim" 2>/dev/null &&
	fail "the claim answered within 1 s although its group was stalled 2 s"
given_back() { grep -qF "never reached its prover; given back" "$WG_TMP/b.log"; }
wg_wait_until 10 given_back
assert_eq "$queued_before" "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'queued'")" \
	"the jobs of the claim nobody received are queued again"
assert_eq "$attempts_before" "$(wg_psql "SELECT sum(attempts) FROM prover_jobs")" "their claim was taken back"
assert_eq "released|t" "$(wg_psql "SELECT string_agg(DISTINCT outcome, ','), bool_and(ended_at IS NOT NULL)
	FROM prover_job_attempts WHERE prover_id = 'impatient'")" "their attempt records say released"
((SECONDS - gave_up_at < 10)) || fail "giving the claim back took $((SECONDS - gave_up_at)) s"
wg_stop_daemon b

# ---------------------------------------------------------------- 3. a group that cannot commit
# The group statement fails 18 times: three concurrent completions get 503 or 200, never 409.
WG_FAULT='complete_group!18' wg_start_daemon c --store "$STORE" --retry-base 0
pl_use c
declare -A LEASES=()
ids=()
for k in 1 2 3; do
	pl_claim '{"prover_id":"g","protocol_version":24}'
	assert_status 200
	ids+=("$PL_JOB_ID")
	LEASES[$PL_JOB_ID]=$PL_JOB_LEASE
	pl_witness "$PL_JOB_ID" "$WG_TMP/g$PL_JOB_ID.wit"
	pl_ref_prove "$WG_TMP/g$PL_JOB_ID.wit" "$WG_TMP/g$PL_JOB_ID.proof"
done
complete_bg() { # complete_bg ID: POST the completion, print its status
	curl -sS -o "$WG_TMP/g$1.reply" -w '%{http_code}' -H "Authorization: Bearer $PL_PROVER" \
		-H 'Content-Type: application/octet-stream' -H "X-WG-Lease: ${LEASES[$1]}" \
		--data-binary "@$WG_TMP/g$1.proof" "$PL_URL/proofs/$1/complete"
}
saw_503=0
for round in 1 2 3 4 5 6 7 8; do
	pids=()
	for id in "${ids[@]}"; do
		complete_bg "$id" >"$WG_TMP/g$id.status" &
		pids+=("$!")
	done
	wait "${pids[@]}"
	pending=()
	for id in "${ids[@]}"; do
		status=$(cat "$WG_TMP/g$id.status")
		case $status in
		200) ;;
		503)
			saw_503=1
			assert_eq unavailable "$(jq -r .error.code "$WG_TMP/g$id.reply")" "a failed group member's error code"
			pending+=("$id")
			;;
		*) fail "completion of job $id in round $round: HTTP $status $(cat "$WG_TMP/g$id.reply")" ;;
		esac
	done
	((${#pending[@]} == 0)) && break
	ids=("${pending[@]}")
done
((${#pending[@]} == 0)) || fail "jobs ${pending[*]} still not completed after 8 tries"
assert_eq 1 "$saw_503" "the failing group answered 503"
members=$(IFS=,; echo "${!LEASES[*]}")
assert_eq 3 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE id IN ($members) AND status = 'successful'")" \
	"every member completed when sent again"
wg_stop_daemon c

# wg-prover gets through the same fault by itself: every completion answered 503 is sent again
# under the same lease, and the batch is proven.
WG_FAULT='complete_group!30' wg_start_daemon d --store "$STORE" --retry-base 0
pl_use d
"$WG_BUILDDIR/wg-prover" --url "$PL_URL" --token "$PL_PROVER" --concurrency 4 --until-idle --idle-seconds 3 \
	>"$WG_TMP/prover.log" 2>&1 || { cat "$WG_TMP/prover.log"; fail "wg-prover failed"; }
wg_wait_until 30 pl__batch_reached 1 proven
assert_contains "$(cat "$WG_TMP/prover.log")" "answered after" "wg-prover retried completions answered 503"
assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE status <> 'successful' AND l1_batch_number = 1")" \
	"nothing left behind"

# ---------------------------------------------------------------- 4. a lease write that fails
# The statement writing the full leases fails three times, as if the database were unreachable
# then: the leases it held are kept and written by a later one.
WG_FAULT='touch_leases!3' wg_start_daemon e --store "$STORE"
pl_use e
pl_gen_input 2 --logs 0 --workload main_vm=$((5390 * 2)) >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
wg_wait_until 60 basic_done 2
pl_claim '{"prover_id":"flush","protocol_version":24}'
assert_status 200
flushed_job=$PL_JOB_ID
pl_witness "$flushed_job" "$WG_TMP/flush.wit"
lease_full() { [[ $(wg_psql "SELECT lease_touched AND lease_expires_at > now() + interval '590 s' FROM prover_jobs
	WHERE id = $flushed_job") == t ]]; }
wg_wait_until 5 lease_full
wg_http GET "$PL_URL/metrics"
assert_eq 1 "$(awk '$1 == "wg_lease_touches_total" { print $2 }' <<<"$HTTP_BODY")" "the lease written once, after the failures"
wg_stop_daemon e
