#!/bin/bash
# t_failover_sync.sh: PostgreSQL fails over to a synchronous standby under load (issue 11, part
# 2). Two daemons (--store postgres) and two wg-provers run on a multi-host conninfo that names
# the standby first, `target_session_attrs=read-write`. Before the failover every daemon
# connection is on the primary and the standby is in recovery. Mid-load the primary's postmaster
# is killed (-9) and, after a gap, the standby is promoted. Throughout, both daemons stay up
# (same pid) and answer every request within 10 s, `503 unavailable` in the gap; /readyz goes
# 200 → 503 → 200 on both. Since a commit is acknowledged only once the standby has it, every
# upload answered 201 and every completion answered 200, before or after the failover, is there
# afterwards; every batch is proven with the exactly-once invariants of crash_lib.sh; wgctl works
# with the same conninfo; the old primary's data directory is not written after its death. The
# time from the promotion to the first claim answered 200 is printed (failover_to_first_claim_ms).
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
# shellcheck source=tests/integration/crash_lib.sh
. "$WG_SRCDIR/tests/integration/crash_lib.sh"
# shellcheck source=tests/integration/failover_lib.sh
. "$WG_SRCDIR/tests/integration/failover_lib.sh"

wg_setup
fo_setup sync
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

# Batch 1: 30 keccak256 circuits for the hand prover, and other work for the wg-provers;
# batches 2 and 3 keep the rounds busy across the failover.
cl_prepare 1 30 "main_vm=$((5390 * 12)),keccak256=$((293 * 30)),code_decommitter=$((2845 * 5))"
cl_prepare 2 20 "main_vm=$((5390 * 9)),sha256=$((2206 * 6)),code_decommitter=$((2845 * 4))"
cl_prepare 3 20 "main_vm=$((5390 * 7)),ecrecover=$((7 * 9)),l1_messages_hasher=$((774 * 5))"
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
((${#FO_ACKED_UPLOADS[@]} >= 6)) || fail "only ${#FO_ACKED_UPLOADS[@]} uploads acknowledged"
((${#FO_ACKED_COMPLETIONS[@]} >= 4)) || fail "only ${#FO_ACKED_COMPLETIONS[@]} completions acknowledged"
[[ -n $FO_FIRST_CLAIM_MS ]] || fail "no claim answered 200 after the promotion"
wg__pass
assert_eq "$(fo_psql_standby "SELECT pg_is_in_recovery()")" f "the promoted standby accepts writes"

# Every acknowledged upload is stored. A refused one may be too: its commit may have reached the
# standby with the answer lost in the kill; nothing else is.
stored=$(wg_psql "SELECT l1_batch_number FROM basic_circuit_witness_jobs WHERE l1_batch_number >= $FO_FIRST_SMALL
	ORDER BY 1")
missing=$(comm -23 <(printf '%s\n' "${FO_ACKED_UPLOADS[@]}" | sort) <(sort <<<"$stored"))
assert_eq "" "$missing" "acknowledged uploads missing after the failover"
unknown=$(comm -23 <(sort <<<"$stored") <(printf '%s\n' "${FO_ACKED_UPLOADS[@]}" "${FO_REFUSED_UPLOADS[@]}" | sort))
assert_eq "" "$unknown" "batches stored that nobody uploaded"
# Every acknowledged completion is successful with its proof, under the claim it was made with.
for entry in "${FO_ACKED_COMPLETIONS[@]}"; do
	assert_eq "successful|${entry##*:}|true" "$(wg_psql "SELECT status || '|' || attempts || '|'
		|| EXISTS (SELECT 1 FROM proofs WHERE prover_job_id = id) FROM prover_jobs WHERE id = ${entry%%:*}")" \
		"acknowledged completion of job ${entry%%:*}"
done
# The tree service retries its refused uploads: each is stored now (201), or was already (200).
for b in "${FO_REFUSED_UPLOADS[@]}"; do
	cl_upload "$b" 10 "$(wg_url b)"
done
# wgctl on the same multi-host conninfo finds the new primary.
wg_wgctl status >"$WG_TMP/wgctl-status" 2>&1 || fail "wgctl status after the failover: $(cat "$WG_TMP/wgctl-status")"
assert_contains "$(cat "$WG_TMP/wgctl-status")" "$FO_FIRST_SMALL" "wgctl status lists the batches"

# ---------------------------------------------------------------- every batch is proven

cl_stop_prover pa
cl_stop_prover pb
cl_start_prover all "$(wg_url b)" --concurrency 4
mapfile -t all_batches < <(printf '%s\n' 1 2 3 "${FO_ACKED_UPLOADS[@]}" "${FO_REFUSED_UPLOADS[@]}" | sort -n -u)
cl_wait_proven 60 "${all_batches[@]}"
check_invariants "${all_batches[@]}"
cl_stop_prover all
fo_assert_primary_untouched
assert_eq "$PID_A $PID_B" "$(wg_daemon_pid a) $(wg_daemon_pid b)" "the daemon processes at the end"
echo "failover_to_first_claim_ms=$FO_FIRST_CLAIM_MS"
echo "# t_failover_sync: ${#all_batches[@]} batches, ${#FO_ACKED_COMPLETIONS[@]} completions by hand in $((SECONDS - T0)) s"
