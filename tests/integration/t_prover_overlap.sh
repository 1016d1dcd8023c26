#!/bin/bash
# t_prover_overlap.sh: wg-prover keeps its threads busy across a proof's upload and across the
# claim of the next job (docs/command-line.md, wg-prover).
# 1. Senders: a thread hands its proof to a sender thread and claims its next job at once. With
#    every completion held 1.5 s at the daemon (fault point complete_stall), the second job of a
#    one-thread prover is claimed before the first one's completion commits, with --senders 1 and
#    by default with --prove-ms; without --prove-ms the default is that each thread posts its own
#    proof (as wg-prover always did before), and then the second job is claimed only after.
# 2. Claims ahead: with --prove-ms 1500 and --claim-ahead-ms 600 a one-thread prover claims each
#    next job while its proof is still being made, and each job's proof still takes its full
#    1.5 s from when the thread took it up, not from its claim: a job claimed ahead ends at least
#    1.5 s plus the time it waited after its claim. With --claim-ahead-ms 0 (and --senders 0) no
#    job is claimed before the last one ended.
# On the main of 2026-12-05 wg-prover had neither option and posted each proof before claiming
# again: parts 1 and 2 failed there.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
STORE="file:$WG_TMP/store"

# basic_queued BATCH: BATCH's basic prover jobs are queued (its basic round committed).
basic_queued() {
	[[ $(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = $1 AND aggregation_round = 0
		AND status = 'queued'") -ge 8 ]]
}
# upload BATCH: a batch of at least eight basic circuits, its basic round committed.
upload() {
	pl_gen_input "$1" --logs 0 --workload "main_vm=$((5390 * 8))" >"$WG_TMP/in$1.json"
	pl_upload "$1" "$WG_TMP/in$1.json"
	assert_status 201
	wg_wait_until 30 basic_queued "$1"
}
# prover PROVER-ID [OPTIONS...]: one wg-prover thread on round 0 under PROVER-ID.
prover() {
	local id=$1
	shift
	"$WG_BUILDDIR/wg-prover" --url "$PL_URL" --token "$PL_PROVER" --rounds 0 --concurrency 1 --prover-id "$id" \
		"$@" >"$WG_TMP/$id.out" 2>&1 || fail "wg-prover $id failed: $(tail -n 5 "$WG_TMP/$id.out")"
}
# overlaps PROVER-ID: for each attempt of PROVER-ID but the first, in claim order, milliseconds
# from its claim to the end of the attempt before it (positive: claimed before that one ended).
overlaps() {
	wg_psql "SELECT round(extract(epoch FROM lag(ended_at) OVER w - claimed_at) * 1000) FROM prover_job_attempts
		WHERE prover_id = '$1' WINDOW w AS (ORDER BY claimed_at) ORDER BY claimed_at OFFSET 1"
}
# successes PROVER-ID: its successful attempts.
successes() {
	wg_psql "SELECT count(*) FROM prover_job_attempts WHERE prover_id = '$1' AND outcome = 'successful'"
}

# ---------------------------------------------------------------- 1. senders
WG_FAULT=complete_stall@1500 wg_start_daemon slow --store "$STORE"
pl_use slow
upload 1
for run in "sent --senders 1" "sim --prove-ms 200"; do
	read -r id opts <<<"$run"
	# shellcheck disable=SC2086 # opts is a list of options
	prover "$id" --max-jobs 2 $opts
	assert_eq 2 "$(successes "$id")" "two jobs proved by wg-prover $opts"
	gap=$(overlaps "$id")
	((gap >= 1000)) || fail "wg-prover $opts claimed its second job $gap ms before the first ended (want >= 1000)"
done
prover own --max-jobs 2
assert_eq 2 "$(successes own)" "two jobs proved by a thread posting its own proofs"
gap=$(overlaps own)
((gap <= 0)) || fail "wg-prover without --prove-ms claimed its second job $gap ms before the first ended"
wg_stop_daemon slow

# ---------------------------------------------------------------- 2. claims ahead
wg_start_daemon a --store "$STORE"
pl_use a
# Batch 1's basic jobs left over would come into the counts: gone first.
wg_http DELETE "$PL_URL/batches/1" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
upload 2
prover ahead --prove-ms 1500 --claim-ahead-ms 600 --until-idle --idle-seconds 1
n=$(successes ahead)
((n >= 3)) || fail "the prover claiming ahead proved $n jobs (want >= 3)"
while read -r gap; do
	((gap >= 300 && gap <= 1000)) || fail "a job was claimed $gap ms before the job before it ended (want 300-1000)"
done < <(overlaps ahead)
# Every attempt took its 1.5 s from when the thread took the job up: the jobs claimed ahead waited
# about 0.6 s more between their claim and their end.
shortest=$(wg_psql "SELECT min(round(extract(epoch FROM ended_at - claimed_at) * 1000)) FROM prover_job_attempts
	WHERE prover_id = 'ahead' AND claimed_at > (SELECT min(claimed_at) FROM prover_job_attempts WHERE prover_id = 'ahead')")
((shortest >= 1500 + 300)) || fail "a job claimed ahead ended $shortest ms after its claim (want >= 1800)"
upload 3
prover after --prove-ms 500 --claim-ahead-ms 0 --senders 0 --until-idle --idle-seconds 1
n=$(successes after)
((n >= 3)) || fail "the prover claiming after each proof proved $n jobs (want >= 3)"
while read -r gap; do
	((gap <= 0)) || fail "with --claim-ahead-ms 0 a job was claimed $gap ms before the job before it ended"
done < <(overlaps after)
wg__pass
