#!/bin/bash
# t_self_vacuum.sh: the daemon vacuums prover_jobs by itself once PostgreSQL's counters show 10% of
# it dead (db/housekeeping.h), whatever autovacuum does: with autovacuum off for the table, a
# batch of 1,500 circuits proved leaves no more dead row versions than the threshold allows, the
# vacuums are counted in wg_prover_jobs_vacuums_total and in PostgreSQL's own vacuum_count.
# On the main of 2026-12-04 the claim index waited for autovacuum (once a minute with stock
# settings): the table kept every dead row here and this test failed.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
wg_start_daemon a --housekeeping-ms 300
wg_psql "ALTER TABLE prover_jobs SET (autovacuum_enabled = false)" >/dev/null
pl_use a
pl_gen_input 1 --logs 0 --workload main_vm=$((5390 * 1500)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
"$WG_BUILDDIR/wg-prover" --url "$PL_URL" --token "$PL_PROVER" --concurrency 8 --until-idle --idle-seconds 2 \
	>"$WG_TMP/prover.log" 2>&1 || fail "wg-prover failed: $(tail -5 "$WG_TMP/prover.log")"
assert_eq proven "$(batch_status 1)" "the batch"
vacuums() { wg_psql "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'prover_jobs'"; }
dead_below_threshold() {
	local dead
	dead=$(wg_psql "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'prover_jobs'")
	((dead < 1000))
}
wg_wait_until 10 dead_below_threshold
n=$(vacuums)
((n >= 1)) || fail "prover_jobs was vacuumed $n times"
wg_http GET "$PL_URL/metrics"
counted=$(grep -E '^wg_prover_jobs_vacuums_total ' <<<"$HTTP_BODY" | awk '{print $2}')
((counted >= 1)) || fail "wg_prover_jobs_vacuums_total is '$counted'"
assert_eq "$(vacuums)" "$counted" "every vacuum of the table was the daemon's (autovacuum is off for it)"
echo "# $counted vacuums of prover_jobs over $(wg_psql "SELECT count(*) FROM prover_jobs") jobs"
