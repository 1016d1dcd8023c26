#!/bin/bash
# Retention by the daemon itself: with --archive-after, the basic, leaf and node prover jobs of a
# batch proven that long ago move to prover_jobs_archive; the batch stays proven with its proof.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup
sql_is() { [[ $(wg_psql "$2") == "$1" ]]; }

wg_start_daemon a --archive-after 5 --housekeeping-ms 200
pl_use a
pl_gen_input 1 --logs 40 --workload main_vm=20000 >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
prove_all_until 1 proven 60
total=$(wg_psql "select count(*) from prover_jobs where l1_batch_number = 1")
assert_ne 0 "$total" "the batch has prover jobs"

# Not before the age: the jobs are all still there right after the proof.
assert_eq 0 "$(wg_psql "select count(*) from prover_jobs_archive")" "nothing archived at once"
wg_wait_until 20 sql_is 1 "select count(*) from prover_jobs where l1_batch_number = 1"
assert_eq 3 "$(wg_psql "select aggregation_round from prover_jobs where l1_batch_number = 1")" \
	"only the scheduler job stays"
assert_eq $((total - 1)) "$(wg_psql "select count(*) from prover_jobs_archive where l1_batch_number = 1")" \
	"every other job is in the archive"
assert_eq 0 "$(wg_psql "select count(*) from prover_jobs_archive where aggregation_round = 3")" \
	"no scheduler job archived"

pl_get /batches/1
assert_status 200
assert_json_eq .status proven
pl_get /batches/1/proof
assert_status 200
