#!/bin/bash
# t_failover_async.sh: PostgreSQL fails over to an asynchronous standby under load (issue 11, part
# 2): the scenario of t_failover_sync.sh without synchronous_standby_names, where a commit is
# acknowledged before the standby has it and the promoted standby may lack the last of them.
# To make that loss certain rather than a matter of timing, the standby's WAL receiver is
# stopped (as a network partition would) a moment before the kill; in that window three
# completions of jobs claimed before it, and one upload, are acknowledged, and the daemons' rounds
# and the wg-provers carry on. After the promotion all of that is gone, and the test asserts how
# it comes back: each lost completion's job is still held under its old lease, which expires,
# and it is claimed and proved again (attempts above those of the lost completion's claim), and
# the old lease is refused (409) on the new primary; the lost
# upload is unknown (404) until the tree service sends it again (201). Nothing else is asserted
# to survive. The system converges: every batch is proven with the exactly-once invariants of
# crash_lib.sh, the daemons stayed up, /readyz went 200 → 503 → 200, wgctl works, and the old
# primary's data directory is not written after its death.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
# shellcheck source=tests/integration/crash_lib.sh
. "$WG_SRCDIR/tests/integration/crash_lib.sh"
# shellcheck source=tests/integration/failover_lib.sh
. "$WG_SRCDIR/tests/integration/failover_lib.sh"

wg_setup
fo_setup async
T0=$SECONDS
CL_LEAF_ARITY=4
CL_NODE_ARITY=2
shared=(--store postgres --workers 1 --leaf-arity 4 --node-arity 2 --lease 5 --witness-lease 5
	--housekeeping-ms 200 --retry-base 200ms --poll-ms 200 --http-threads 4)
wg_start_daemon a "${shared[@]}"
wg_start_daemon b "${shared[@]}"
pl_use a
PID_A=$(wg_daemon_pid a)
PID_B=$(wg_daemon_pid b)

cl_prepare 1 30 "main_vm=$((5390 * 12)),keccak256=$((293 * 30)),code_decommitter=$((2845 * 5))"
cl_prepare 2 20 "main_vm=$((5390 * 9)),sha256=$((2206 * 6)),code_decommitter=$((2845 * 4))"
cl_prepare 3 20 "main_vm=$((5390 * 7)),ecrecover=$((7 * 9)),l1_messages_hasher=$((774 * 5))"
LAG_BATCH=90 # uploaded while the standby receives nothing
cl_prepare "$LAG_BATCH" 10 "main_vm=$((5390 * 3)),keccak256=293"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
basic_done() {
	[[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1") == successful ]]
}
wg_wait_until 30 basic_done
cl_upload 2 10 "$(wg_url b)"
cl_upload 3 10 "$(wg_url a)"
others=0,1,2,3,4,6,7,8,9,10,11,12,13,14,15
cl_start_prover pa "$(wg_url a)" --concurrency 2 --circuits "$others"
cl_start_prover pb "$(wg_url b)" --concurrency 2 --circuits "$others"
fo_prepare_small
fo_assert_routing

# The window whose commits the standby never gets: three keccak256 circuits are claimed and
# proved while the standby still streams (it has their claims), then its WAL receiver stops and
# their completions and an upload are acknowledged.
held=()
replayed() { [[ $(fo_psql_standby "SELECT pg_last_wal_replay_lsn() >= '$LSN'") == t ]]; }
receiver_gone() { [[ $(fo_psql_primary "SELECT count(*) FROM pg_stat_replication") == 0 ]]; }
lag_window() {
	local k id lease attempts
	for ((k = 0; k < 3; k++)); do
		pl_claim "{\"prover_id\":\"held\",\"protocol_version\":24,\"rounds\":[0],\"circuit_ids\":[$FO_HAND_CIRCUIT]}"
		assert_status 200
		attempts=$(wg_json .attempts)
		pl_witness "$PL_JOB_ID" "$WG_TMP/held-witness"
		pl_ref_prove "$WG_TMP/held-witness" "$WG_TMP/held-proof-$PL_JOB_ID"
		held+=("$PL_JOB_ID:$PL_JOB_LEASE:$attempts")
	done
	LSN=$(fo_psql_primary "SELECT pg_current_wal_lsn()")
	wg_wait_until 10 replayed
	fo_psql_standby "ALTER SYSTEM SET primary_conninfo = ''" "SELECT pg_reload_conf()" >/dev/null
	wg_wait_until 10 receiver_gone
	wg__pass
	for entry in "${held[@]}"; do
		IFS=: read -r id lease attempts <<<"$entry"
		pl_complete "$id" "$lease" "$WG_TMP/held-proof-$id"
		assert_status 200
	done
	pl_upload "$LAG_BATCH" "$WG_TMP/in$LAG_BATCH.json"
	assert_status 201
	sleep 1 # the rounds and wg-provers work on it too
}
FO_BEFORE_KILL=lag_window
fo_load

# ---------------------------------------------------------------- what the failover did

for d in a b; do
	pid=$(wg_daemon_pid "$d")
	[[ $(cl__state "$pid") != gone && $(cl__state "$pid") != Z ]] || fail "daemon $d died in the failover"
done
assert_eq "$PID_A $PID_B" "$(wg_daemon_pid a) $(wg_daemon_pid b)" "the daemon processes"
assert_eq "200 503 200" "$FO_READYZ_A" "/readyz of daemon a through the failover"
assert_eq "200 503 200" "$FO_READYZ_B" "/readyz of daemon b through the failover"
((${#FO_REFUSED_UPLOADS[@]} > 0)) || fail "no upload was refused in the gap"
((${FO_COUNT[claim 503]:-0} > 0)) || fail "no claim was refused in the gap"
[[ -n $FO_FIRST_CLAIM_MS ]] || fail "no claim answered 200 after the promotion"
wg__pass
assert_eq "$(fo_psql_standby "SELECT pg_is_in_recovery()")" f "the promoted standby accepts writes"

# The upload acknowledged in the window is lost; the tree service sends it again.
pl_get "/batches/$LAG_BATCH"
assert_status 404
cl_upload "$LAG_BATCH" 10 "$(wg_url b)"
assert_status 201
# So are the uploads of the loop that the tree service cannot know to have reached the standby:
# it sends again whatever it sent around the failover (200 when stored already, 201 if lost).
for b in "${FO_ACKED_UPLOADS[@]}" "${FO_REFUSED_UPLOADS[@]}"; do
	cl_upload "$b" 10 "$(wg_url a)"
done
wg_wgctl status >"$WG_TMP/wgctl-status" 2>&1 || fail "wgctl status after the failover: $(cat "$WG_TMP/wgctl-status")"
assert_contains "$(cat "$WG_TMP/wgctl-status")" "$FO_FIRST_SMALL" "wgctl status lists the batches"

# ---------------------------------------------------------------- every batch is proven

cl_stop_prover pa
cl_stop_prover pb
cl_start_prover all "$(wg_url b)" --concurrency 4
mapfile -t all_batches < <(printf '%s\n' 1 2 3 "$LAG_BATCH" "${FO_ACKED_UPLOADS[@]}" "${FO_REFUSED_UPLOADS[@]}" | sort -n -u)
cl_wait_proven 60 "${all_batches[@]}"
# Each completion lost in the window was proved again on the new primary, after a new claim once
# its replicated claim expired: the job is successful there with a stored proof of its own
# witness and more attempts than the lost claim had. The one other way for the job to be
# successful is that its completion was not lost after all (its commit reached the standby before
# streaming stopped): then it is successful under the very claim of the window, with the same
# attempts, since nobody but this test knew that claim's lease and the test sent the completion
# once. Anything else fails. Either way the old lease is refused: nobody but the new claimant could
# act on the job.
reclaimed=0 kept=0
for entry in "${held[@]}"; do
	IFS=: read -r id lease attempts <<<"$entry"
	row=$(wg_psql "SELECT status || ' ' || attempts FROM prover_jobs WHERE id = $id")
	assert_eq successful "${row% *}" "job $id, whose acknowledged completion was lost"
	assert_eq 1 "$(wg_psql "SELECT count(*) FROM proofs WHERE prover_job_id = $id")" "the proof of job $id"
	if ((${row#* } > attempts)); then
		reclaimed=$((reclaimed + 1))
	elif ((${row#* } == attempts)); then
		kept=$((kept + 1))
		assert_eq "$(od -An -v -tx1 "$WG_TMP/held-proof-$id" | tr -d ' \n')" \
			"$(wg_psql "SELECT encode(proof, 'hex') FROM proofs WHERE prover_job_id = $id")" \
			"job $id, successful under the window's claim, holds the window's proof"
	else
		fail "job $id has fewer attempts (${row#* }) than its claim in the window ($attempts)"
	fi
	pl_heartbeat "$id" "$lease"
	assert_status 409
	assert_error_code lease_lost
	pl_fail "$id" "$lease" "stale holder"
	assert_status 409
	assert_error_code lease_lost
done
echo "# of ${#held[@]} completions acknowledged in the window: $reclaimed lost and proved again under a new claim, $kept kept by the standby"
# Every other acknowledged completion ended successful too (kept, or proved again).
for entry in "${FO_ACKED_COMPLETIONS[@]}"; do
	assert_eq successful "$(wg_psql "SELECT status FROM prover_jobs WHERE id = ${entry%%:*}")" \
		"job ${entry%%:*}, completion acknowledged"
done
check_invariants "${all_batches[@]}"
cl_stop_prover all
fo_assert_primary_untouched
assert_eq "$PID_A $PID_B" "$(wg_daemon_pid a) $(wg_daemon_pid b)" "the daemon processes at the end"
echo "failover_to_first_claim_ms=$FO_FIRST_CLAIM_MS"
echo "# t_failover_async: ${#all_batches[@]} batches, ${#held[@]} completions lost and proved again, in $((SECONDS - T0)) s"
