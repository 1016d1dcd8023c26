#!/bin/bash
# t_wgctl.sh: every wgctl command (docs/command-line.md), its output for people and its --json for
# scripts (parsed with jq), and its exit codes: 0 done, 1 failed, 2 bad usage.
# - status: the batch list with progress; one batch per round with counts and timings.
# - stats [--since]: batches proven, jobs per round, failures, mean and p95.
# - requeue JOB | --failed; restart BATCH (rows gone, input kept, the same basic job queued and
#   proven again); delete BATCH (rows and blobs); token add/list/revoke; migrate; archive; gen-input.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
# One claim per job, so one reported failure fails a job for good.
wg_start_daemon a --max-attempts 1 --retry-base 0
pl_use a
# claim_ok [BODY]: a claim that got a job (pl_claim alone also returns 0 on 204).
claim_ok() {
	pl_claim "$@"
	[[ $HTTP_STATUS == 200 ]]
}
STORE="$WG_TMP/store-a"

# w ARGS...: run wgctl, with no --store (restart and delete use the store the daemon recorded)
# and from a directory of its own, where no ./var/store may appear; sets RC, OUT, ERR.
mkdir -p "$WG_TMP/cwd"
w() {
	RC=0
	(cd "$WG_TMP/cwd" && wg_wgctl "$@") >"$WG_TMP/w.out" 2>"$WG_TMP/w.err" || RC=$?
	OUT=$(cat "$WG_TMP/w.out")
	ERR=$(cat "$WG_TMP/w.err")
}
# wj ARGS...: run wgctl --json, which must exit 0 and print one JSON document.
wj() {
	w --json "$@"
	assert_eq 0 "$RC" "wgctl --json $* exits 0 ($ERR)"
	assert_eq 1 "$(jq -s length <<<"$OUT")" "wgctl --json $* prints one JSON document"
}
prove_all() {
	WG_PROVER_TOKEN=$PL_PROVER "$WG_BUILDDIR/wg-prover" --url "$PL_URL" --until-idle --idle-seconds 1 \
		>"$WG_TMP/prover.log" 2>&1 || fail "wg-prover failed: $(tail -5 "$WG_TMP/prover.log")"
}
# No float noise such as 0.27435900000000002 in output meant for people or scripts.
assert_no_float_noise() {
	assert_eq "" "$(grep -oE '[0-9]+\.[0-9]{11,}' <<<"$OUT" || true)" "no float noise in: $1"
}
# assert_timestamps WHAT MIN: $OUT shows at least MIN timestamps, each in the one format of wgctl
# (RFC 3339, UTC, milliseconds: 2026-12-05T00:10:00.123Z), in tables and in --json alike.
assert_timestamps() {
	local found bad
	found=$(grep -oE '[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9:.+Z-]*)?' <<<"$OUT" || true)
	bad=$(grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' <<<"$found" || true)
	assert_eq "" "$bad" "timestamps of $1 in RFC 3339 UTC"
	(($(grep -c . <<<"$found") >= $2)) || fail "$1 shows fewer than $2 timestamps: $OUT"
	wg__pass
}

# ---------------------------------------------------------------- a proven and a failed batch
pl_gen_input 1 --logs 8 >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
prove_all
wg_wait_until 30 pl__batch_reached 1 proven
basic1=$(wg_psql "SELECT id FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1")

pl_gen_input 2 --logs 8 --seed 2 >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
wg_wait_until 30 claim_ok
assert_status 200
failed_job=$PL_JOB_ID
pl_fail "$PL_JOB_ID" "$PL_JOB_LEASE" "out of GPU memory"
assert_status 200
assert_eq failed "$(batch_status 2)" "batch 2 failed"

# ---------------------------------------------------------------- status
w status
sed 's/^/# /' <<<"$OUT"
assert_eq 0 "$RC" "wgctl status"
assert_eq "BATCH STATUS VERSION CREATED PROVER JOBS ELAPSED" "$(head -n 1 <<<"$OUT" | tr -s ' ')" "status header"
total1=$(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 1")
assert_contains "$(sed -n 2p <<<"$OUT")" "$total1/$total1 100%" "batch 1 fully proven in the table"
assert_eq "1 proven|2 failed" "$(tail -n +2 <<<"$OUT" | awk '{ print $1, $2 }' | paste -sd'|')" "status rows"
# Columns are aligned: every line has its STATUS column at the same offset.
assert_eq 1 "$(awk '{ print index($0, $2) }' <<<"$OUT" | sort -u | wc -l)" "status columns aligned"
assert_no_float_noise status
assert_timestamps status 2
wj status
assert_eq "1 proven $total1 $total1|2 failed" \
	"$(jq -r '.[] | "\(.l1_batch_number) \(.status)" + (if .status == "proven" then " \(.prover_jobs.successful) \(.prover_jobs.total)" else "" end)' <<<"$OUT" | paste -sd'|')" \
	"status --json"
assert_eq true "$(jq '.[0].elapsed_seconds > 0' <<<"$OUT")" "status --json elapsed_seconds"
assert_timestamps "status --json" 2

w status 1
sed 's/^/# /' <<<"$OUT"
assert_eq 0 "$RC" "wgctl status 1"
assert_contains "$(head -n 1 <<<"$OUT")" "batch 1: proven, protocol version 24"
assert_contains "$OUT" "ROUND        W.WAIT"
assert_eq "0 basic|1 leaf|2 node|3 scheduler" "$(grep -E '^[0-3] ' <<<"$OUT" | awk '{ print $1, $2 }' | paste -sd'|')" \
	"one row per round"
assert_contains "$(grep '^3 scheduler' <<<"$OUT")" "1/1 100%"
assert_eq 1 "$(grep -cE '^0 basic .* (ms|s)$' <<<"$OUT")" "round 0 elapsed as a duration"
assert_no_float_noise "status 1"
assert_timestamps "status 1" 5
wj status 1
assert_eq "1 proven 4" "$(jq -r '"\(.l1_batch_number) \(.status) \(.rounds | length)"' <<<"$OUT")" "status 1 --json"
assert_no_float_noise "status 1 --json"
assert_timestamps "status 1 --json" 5
w status 2
assert_contains "$OUT" "/jobs/$failed_job  failed: out of GPU memory"
w status 999
assert_eq 1 "$RC" "status of an unknown batch"
assert_contains "$ERR" "no batch 999"
w status eleven
assert_eq 2 "$RC" "status with a bad batch number"

# ---------------------------------------------------------------- stats
w stats
sed 's/^/# /' <<<"$OUT"
assert_eq 0 "$RC" "wgctl stats"
assert_contains "$(head -n 1 <<<"$OUT")" "all time: 1 batches proven, upload to proof mean "
assert_eq "ROUND JOBS DONE FAILED MEAN P95" "$(sed -n 3p <<<"$OUT" | tr -s ' ')" "stats header"
assert_no_float_noise stats
assert_timestamps stats 0
wj stats
basic_done=$(wg_psql "SELECT count(*) FROM prover_jobs WHERE aggregation_round = 0 AND status = 'successful'")
assert_eq "1|$basic_done|1|true|true" \
	"$(jq -r '[.batches.proven, .rounds[0].prover_jobs.successful, ([.rounds[].prover_jobs.failed] | add),
		(.rounds[0].prover_jobs.p95_seconds >= .rounds[0].prover_jobs.mean_seconds * 0 and .rounds[0].prover_jobs.p95_seconds != null),
		(.rounds[3].witness_jobs.successful == 1)] | join("|")' <<<"$OUT")" "stats --json figures"
wj stats --since 1h
assert_eq "3600 1" "$(jq -r '"\(.since_seconds) \(.batches.proven)"' <<<"$OUT")" "stats --since 1h"
# Work finished more than a second ago is outside a one-second window.
sleep 1.2
wj stats --since 1s
assert_eq "0 0" "$(jq -r '"\(.batches.proven) \(.rounds[0].prover_jobs.successful)"' <<<"$OUT")" "stats --since 1s"
w stats --since soon
assert_eq 2 "$RC" "stats with a bad duration"

# ---------------------------------------------------------------- requeue
w requeue "$((failed_job + 100000))"
assert_eq 1 "$RC" "requeue of an unknown job"
w requeue
assert_eq 2 "$RC" "requeue without a job"
wj requeue --failed
assert_eq "1 2 1" "$(jq -r '"\(.requeued) \(.batches[0].l1_batch_number) \(.batches[0].requeued)"' <<<"$OUT")" \
	"requeue --failed --json"
assert_eq queued "$(wg_psql "SELECT status FROM prover_jobs WHERE id = $failed_job")" "failed job queued again"
w requeue --failed
assert_eq "0|requeued 0 failed jobs in 0 batches" "$RC|$OUT" "requeue --failed with nothing failed"
w requeue "$failed_job"
assert_eq 1 "$RC" "requeue JOB of a queued job"
assert_contains "$ERR" "is queued; only failed jobs can be requeued"

# ---------------------------------------------------------------- the daemons' store
# The daemon records its store at start; restart and delete refuse another --store, naming the
# one in use, and change nothing; the same store spelt otherwise is accepted.
assert_eq "file:$(realpath "$STORE")|a" "$(wg_psql "SELECT url || '|' || recorded_by FROM store_config")" \
	"the daemon recorded its store's absolute directory"
rows_before=$(wg_psql "SELECT count(*) FROM prover_jobs")
for cmd in "delete 2" "restart 1"; do
	# shellcheck disable=SC2086 # $cmd is two words
	w --store "file:$WG_TMP/elsewhere" $cmd
	assert_eq 2 "$RC" "wgctl $cmd with another --store"
	assert_contains "$ERR" "--store file:$WG_TMP/elsewhere is not the store the daemons use: they use file:$(realpath "$STORE")"
	OUT=$ERR assert_timestamps "the refusal of another --store" 1
	# shellcheck disable=SC2086
	w --store postgres $cmd
	assert_eq 2 "$RC" "wgctl $cmd with --store postgres"
	# shellcheck disable=SC2086
	WG_STORE=file:./var/store w $cmd
	assert_eq 2 "$RC" "wgctl $cmd with WG_STORE the default"
	assert_contains "$ERR" "they use file:$(realpath "$STORE")"
done
[[ ! -e $WG_TMP/elsewhere && ! -e $WG_TMP/cwd/var ]] || fail "a refused --store was created"
assert_eq "$rows_before" "$(wg_psql "SELECT count(*) FROM prover_jobs")" "a refused wgctl changed nothing"
w --store "file:$WG_TMP/cwd/../store-a/" restart 999
assert_eq "1|wgctl: no batch 999" "$RC|$ERR" "the daemons' store spelt otherwise is accepted"
# A recorded directory that is not on this machine is not made here; with no store recorded at
# all, wgctl needs --store (it has no default).
recorded=$(wg_psql "SELECT url FROM store_config")
wg_psql "UPDATE store_config SET url = 'file:$WG_TMP/on-another-host'" >/dev/null
w restart 1
assert_eq 1 "$RC" "restart with the daemons' store elsewhere"
assert_contains "$ERR" "the daemons' store file:$WG_TMP/on-another-host is not on this machine"
[[ ! -e $WG_TMP/on-another-host ]] || fail "wgctl made the daemons' store directory"
wg_psql "DELETE FROM store_config" >/dev/null
w delete 2
assert_eq 1 "$RC" "delete with no store recorded"
assert_contains "$ERR" "no daemon has recorded its store in this database yet"
wg_psql "INSERT INTO store_config (id, url, recorded_by) VALUES (1, '$recorded', 'a')" >/dev/null
assert_eq "$rows_before" "$(wg_psql "SELECT count(*) FROM prover_jobs")" "a refused wgctl changed nothing"

# ---------------------------------------------------------------- restart
packs_before=$(find "$STORE/batches/1" -name '*.pack' | wc -l)
assert_ne 0 "$packs_before" "batch 1 has witness packs"
# With the daemon stopped the state right after the restart stays still to be looked at.
wg_stop_daemon a
wj restart 1
assert_eq "1 true" "$(jq -r '"\(.l1_batch_number) \(.restarted)"' <<<"$OUT")" "restart --json"
assert_eq "$basic1 queued 0 0" \
	"$(wg_psql "SELECT id || ' ' || status || ' ' || (SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 1)
		|| ' ' || (SELECT count(*) FROM leaf_aggregation_jobs WHERE l1_batch_number = 1)
		FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1")" "restart keeps the basic job, queued, alone"
assert_eq 1 "$(find "$STORE/batches/1" -name 'input-*.json' | wc -l)" "restart keeps the input blob"
assert_eq 0 "$(find "$STORE/batches/1" -name '*.pack' | wc -l)" "restart removes the witness packs"
wg_start_daemon a --max-attempts 1 --retry-base 0
prove_all
wg_wait_until 30 pl__batch_reached 1 proven
assert_eq 2 "$(wg_psql "SELECT attempts FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1")" \
	"the restarted basic job ran as a new attempt"
w restart 999
assert_eq 1 "$RC" "restart of an unknown batch"
w restart
assert_eq 2 "$RC" "restart without a batch"

# ---------------------------------------------------------------- delete
wj delete 2
assert_eq "2 true" "$(jq -r '"\(.l1_batch_number) \(.deleted)"' <<<"$OUT")" "delete --json"
assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 2")" "delete removes rows"
assert_eq 0 "$(find "$STORE/batches/2" -type f 2>/dev/null | wc -l)" "delete removes blobs"
assert_eq 0 "$(wg_psql "SELECT count(*) FROM blob_sweeps")" "delete leaves nothing to the daemons' sweeper"
w delete 2
assert_eq 1 "$RC" "delete of a deleted batch"
w delete two
assert_eq 2 "$RC" "delete with a bad batch number"
[[ ! -e $WG_TMP/cwd/var ]] || fail "wgctl made ./var in its working directory"

# ---------------------------------------------------------------- tokens, migrate, archive, gen-input
wj token add --role viewer --name ops-viewer
assert_eq "ops-viewer viewer 68" "$(jq -r '"\(.name) \(.role) \(.token | length)"' <<<"$OUT")" "token add --json"
wg_http GET "$PL_URL/batches" -H "Authorization: Bearer $(jq -r .token <<<"$OUT")"
assert_status 200
w token list
assert_contains "$(grep ops-viewer <<<"$OUT")" "viewer  active"
assert_timestamps "token list" 5
wj token revoke ops-viewer
assert_eq "ops-viewer true" "$(jq -r '"\(.name) \(.revoked)"' <<<"$OUT")" "token revoke --json"
wj token list
assert_eq revoked "$(jq -r '.[] | select(.name == "ops-viewer") | .state' <<<"$OUT")" "token list --json"
assert_timestamps "token list --json" 6
assert_eq "true true" "$(jq -r '.[] | select(.name == "ops-viewer") | "\(.created_at <= .revoked_at) \(.revoked_at | endswith("Z"))"' <<<"$OUT")" \
	"token list --json: revoked_at"
w token revoke ops-viewer
assert_eq 1 "$RC" "revoke of a revoked token"

wj migrate
assert_eq "$(wg_psql "SELECT max(version) FROM schema_migrations")" "$(jq .schema_version <<<"$OUT")" "migrate --json"

wj archive --older-than 0
assert_eq "$(wg_psql "SELECT count(*) FROM prover_jobs_archive")" "$(jq .archived <<<"$OUT")" "archive --json"
assert_ne 0 "$(jq .archived <<<"$OUT")" "archive moved the jobs of batch 1"
w archive
assert_eq 2 "$RC" "archive without --older-than"

w gen-input --batch 7 --logs 3
assert_eq "0 7" "$RC $(jq .l1_batch_number <<<"$OUT")" "gen-input"
w frobnicate
assert_eq 2 "$RC" "unknown command"
assert_contains "$ERR" "usage: wgctl"

# ---------------------------------------------------------------- another daemon, another store
# A daemon that records a store other than the one recorded before says so; wgctl then follows
# the store recorded last.
wg_start_daemon b
wg_wait_until 10 grep -q "the store recorded in the database was file:$(realpath "$STORE"); it is now this daemon's, file:$(realpath "$WG_TMP/store-b")" "$WG_TMP/b.log"
w --store "file:$STORE" restart 1
assert_eq 2 "$RC" "restart with the store recorded before"
assert_contains "$ERR" "they use file:$(realpath "$WG_TMP/store-b") (recorded by b at "
