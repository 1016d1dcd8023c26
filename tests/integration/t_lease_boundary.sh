#!/bin/bash
# t_lease_boundary.sh: a prover acts only on the jobs it claimed (docs/state-machine.md, fencing).
# With two prover tokens A and B, B cannot heartbeat, fail, complete or download A's job, neither
# with A's lease, nor with the value GET /jobs/{id} shows, nor with guesses; a viewer cannot
# download a witness; A then completes normally. And nothing is reused: after DELETE /batches/{n}
# and a different upload, or `wgctl restart`, an old job id is 404 on every prover route, and no
# witness pack key is written twice.
#
# On the main of 2026-12-04 (the lease was the attempt counter, shown by GET /jobs/{id}, and
# checked without the token), B's heartbeat, fail and completion with A's lease were 200 and the
# witness download needed no lease: this test failed at its first assertion on B.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
wg_start_daemon a --store "file:$WG_TMP/store" --retry-base 0
pl_use a
PROVER_B=$(wg_token prover "prover-b")

basic_done() { # basic_done BATCH
	[[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1") == successful ]]
}
job_row() { # job_row ID: status|attempts|picked_by|lease_expires_at|proof
	wg_psql "SELECT status, attempts, coalesce(picked_by, ''), coalesce(lease_expires_at::text, ''),
		(SELECT count(*) FROM proofs WHERE prover_job_id = id) FROM prover_jobs WHERE id = $1"
}
# as_b METHOD PATH LEASE [CURL ARGS...]: a request with B's token and LEASE.
as_b() {
	local method=$1 path=$2 lease=$3
	shift 3
	wg_http "$method" "$PL_URL$path" -H "Authorization: Bearer $PROVER_B" -H "X-WG-Lease: $lease" "$@"
}

pl_gen_input 1 --logs 0 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
wg_wait_until 60 basic_done 1

# ---------------------------------------------------------------- A claims, B tries everything
pl_claim '{"prover_id":"a","protocol_version":24,"circuit_ids":[1]}'
assert_status 200
job=$PL_JOB_ID
lease=$PL_JOB_LEASE
[[ $lease =~ ^[0-9a-f]{32}$ ]] || fail "the lease '$lease' is not 32 hex digits (128 bits)"
pl_witness "$job" "$WG_TMP/w"
pl_ref_prove "$WG_TMP/w" "$WG_TMP/p"
# The download's touch (the full lease) is written within 0.1 s (db/toucher.h).
lease_full() { [[ $(wg_psql "SELECT lease_touched FROM prover_jobs WHERE id = $job") == t ]]; }
wg_wait_until 5 lease_full
before=$(job_row "$job")

# The value GET /jobs/{id} shows of the claim (its attempt counter), and random guesses.
pl_get "/jobs/$job"
assert_status 200
assert_json_eq 'has("lease")' false
shown=$(wg_json .attempts)
guesses=("$lease" "$shown" "$(openssl rand -hex 16)" "$(openssl rand -hex 16)" "${lease^^}" "$lease ")
for guess in "${guesses[@]}"; do
	as_b POST "/jobs/$job/heartbeat" "$guess"
	assert_status 409
	assert_error_code lease_lost
	as_b POST "/proofs/$job/fail" "$guess" --json '{"error":"taking it over"}'
	assert_status 409
	assert_error_code lease_lost
	as_b POST "/proofs/$job/complete" "$guess" -H 'Content-Type: application/octet-stream' \
		--data-binary "@$WG_TMP/p"
	assert_status 409
	assert_error_code lease_lost
	as_b GET "/jobs/$job/witness" "$guess"
	assert_status 409
	assert_error_code lease_lost
	# The same answer whether the job is someone else's or the lease is wrong: nothing tells them
	# apart.
	assert_eq "job $job is not held under this lease by this token" "$(wg_json .error.message)" \
		"lease_lost message for guess '$guess'"
done
# A's own token with a wrong lease gets the very same answer.
pl_heartbeat "$job" "$(openssl rand -hex 16)"
assert_status 409
assert_eq "job $job is not held under this lease by this token" "$(wg_json .error.message)" "A with a wrong lease"
assert_eq "$before" "$(job_row "$job")" "nothing B sent changed A's job"

# A viewer reads jobs but not witnesses; an admin may read any witness without a lease.
wg_http GET "$PL_URL/jobs/$job/witness" -H "Authorization: Bearer $PL_VIEWER" -H "X-WG-Lease: $lease"
assert_status 403
assert_error_code forbidden
wg_http GET "$PL_URL/jobs/$job/witness" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
cmp -s "$HTTP_BODY_FILE" "$WG_TMP/w" || fail "the admin's download differs from the holder's"
# A prover without its lease: a malformed request.
wg_http GET "$PL_URL/jobs/$job/witness" -H "Authorization: Bearer $PL_PROVER"
assert_status 400
assert_error_code bad_request

# A completes normally: not a repeat, credited to A.
pl_heartbeat "$job" "$lease"
assert_status 200
pl_complete "$job" "$lease" "$WG_TMP/p"
assert_status 200
assert_json_eq '"\(.status) \(.repeat)"' "successful false"
assert_eq "successful|1|a" "$(job_row "$job" | cut -d'|' -f1-3)" "A's job, proven by A"
assert_ne "prover-b" "$(wg_psql "SELECT lease_token FROM prover_jobs WHERE id = $job")" \
	"the job is bound to the token that claimed it"

# ---------------------------------------------------------------- delete and a different upload
pl_claim '{"prover_id":"a","protocol_version":24}'
assert_status 200
old=$PL_JOB_ID
old_lease=$PL_JOB_LEASE
pl_witness "$old" "$WG_TMP/old.wit"
pl_ref_prove "$WG_TMP/old.wit" "$WG_TMP/old.proof"
packs_before=$(find "$WG_TMP/store/batches/1" -name '*.pack' | sort)
wg_http DELETE "$PL_URL/batches/1" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
pl_gen_input 1 --logs 2 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in1b.json"
cmp -s "$WG_TMP/in1.json" "$WG_TMP/in1b.json" && fail "the second input of batch 1 should differ"
pl_upload 1 "$WG_TMP/in1b.json"
assert_status 201
wg_wait_until 60 basic_done 1
# old_id_gone ID LEASE PROOF: every prover route answers 404 for an id of a deleted incarnation.
old_id_gone() {
	local id=$1 lease=$2 proof=$3
	wg_http GET "$PL_URL/jobs/$id/witness" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: $lease"
	assert_status 404
	pl_heartbeat "$id" "$lease"
	assert_status 404
	pl_complete "$id" "$lease" "$proof"
	assert_status 404
	pl_fail "$id" "$lease" "gone"
	assert_status 404
	wg_http GET "$PL_URL/jobs/$id/witness" -H "Authorization: Bearer $PL_ADMIN"
	assert_status 404
}
old_id_gone "$old" "$old_lease" "$WG_TMP/old.proof"
# The new incarnation's packs are new keys: none of the old ones was written again.
packs_after=$(find "$WG_TMP/store/batches/1" -name '*.pack' | sort)
assert_eq "" "$(comm -12 <(echo "$packs_before") <(echo "$packs_after"))" "a pack key written by both incarnations"
prove_all_until 1 proven

# ---------------------------------------------------------------- wgctl restart
pl_gen_input 2 --logs 0 --workload main_vm=$((5390 * 2)) >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
wg_wait_until 60 basic_done 2
pl_claim '{"prover_id":"a","protocol_version":24}'
assert_status 200
old=$PL_JOB_ID
old_lease=$PL_JOB_LEASE
pl_witness "$old" "$WG_TMP/old2.wit"
pl_ref_prove "$WG_TMP/old2.wit" "$WG_TMP/old2.proof"
packs_before=$(find "$WG_TMP/store/batches/2" -name '*.pack' | sort)
wg_wgctl --store "file:$WG_TMP/store" restart 2 >/dev/null || fail "wgctl restart 2 failed"
wg_wait_until 60 basic_done 2
old_id_gone "$old" "$old_lease" "$WG_TMP/old2.proof"
packs_after=$(find "$WG_TMP/store/batches/2" -name '*.pack' | sort)
assert_eq "" "$(comm -12 <(echo "$packs_before") <(echo "$packs_after"))" "a pack key written before and after the restart"
prove_all_until 2 proven
