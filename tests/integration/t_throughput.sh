#!/bin/bash
# t_throughput.sh: the prover path built for throughput (issue 7).
# - POST /jobs/claim with "limit": validation, up to N jobs in claim order claimed by one request,
#   each under its own lease, fewer when fewer are queued, 204 when none.
# - Completions sent at once are committed in groups (wg_completions_total > groups), each counted
#   once on the waiting leaf job, which is queued exactly once; the batch is then proven.
# - Every witness of a layer comes from its pack (one file per layer) and verifies.
# - wg-prover with batched claims proves a whole batch.
# - Every claim statement, as the daemon prepares it, reads its partial index of queued rows
#   (EXPLAIN on tables holding many finished rows), in its custom plan and in its generic plan
#   (plan_cache_mode = force_generic_plan), on which a prepared statement runs after five uses.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
wg_start_daemon a --store "file:$WG_TMP/store" --http-threads 16
pl_use a
metric() { curl -fsS "$PL_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
in_progress() { wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'in_progress'"; }

# ---------------------------------------------------------------- batched claims
N=40
pl_gen_input 1 --logs 0 --workload "main_vm=$((5390 * N))" >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
basic_done() { [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1") == successful ]]; }
wg_wait_until 30 basic_done
assert_eq 1 "$(find "$WG_TMP/store/batches/1/r0" -name '*.pack' | wc -l)" "one pack holds the basic round's witnesses"

claim_body() { printf '{"prover_id":"t","protocol_version":24,"limit":%s}' "$1"; }
# claim_many BODY: POST /jobs/claim (sets HTTP_*).
claim_many() {
	wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
		--data-binary "$1"
}
for bad in 0 257 -1 1.5 '"5"' null; do
	claim_many "$(claim_body "$bad")"
	assert_status 400
	assert_error_code invalid_input
	assert_contains "$HTTP_BODY" '$.limit' "the refusal of limit $bad names the field"
done
assert_eq 0 "$(in_progress)" "refused claims claim nothing"

claim_many "$(claim_body 5)"
assert_status 200
assert_json_eq '.jobs | length' 5
assert_eq "$(wg_psql "SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM prover_jobs
	WHERE l1_batch_number = 1 ORDER BY aggregation_round, id LIMIT 5) q")" \
	"$(jq -r '[.jobs[].id] | join(",")' "$HTTP_BODY_FILE")" "the first five jobs, in claim order"
assert_json_eq '[.jobs[] | "\(.status):\(.lease | test("^[0-9a-f]{32}$")):\(.attempts):\(.lease_expires_at != null)"]
	| unique | join(" ")' "in_progress:true:1:true"
assert_json_eq '[.jobs[].lease] | unique | length' 5
assert_eq 5 "$(in_progress)" "five jobs claimed by one request"
cp "$HTTP_BODY_FILE" "$WG_TMP/five.json"

# Each job of the batch is completed under its own lease, with the proof of its own witness slice.
while read -r id lease; do
	pl_witness "$id" "$WG_TMP/w$id" "$lease"
	pl_ref_prove "$WG_TMP/w$id" "$WG_TMP/p$id"
	pl_complete "$id" "$lease" "$WG_TMP/p$id"
	assert_status 200
	assert_json_eq .repeat false
done < <(jq -r '.jobs[] | "\(.id) \(.lease)"' "$WG_TMP/five.json")
assert_eq 5 "$(wg_psql "SELECT proofs_done FROM leaf_aggregation_jobs WHERE l1_batch_number = 1")" \
	"five proofs counted"

# More than is left: the rest (35), then nothing.
claim_many "$(claim_body 256)"
assert_status 200
assert_json_eq '.jobs | length' $((N - 5))
cp "$HTTP_BODY_FILE" "$WG_TMP/rest.json"
claim_many "$(claim_body 3)"
assert_status 204
pl_claim
assert_status 204

# ---------------------------------------------------------------- combined claims
# Claims that arrive together share one statement; each prover still gets its own job, recorded
# as picked by it (a prover id with quotes and backslashes included). Daemon "slow" stalls each
# claim statement 300 ms (a fault point), so that the claims sent meanwhile gather.
WG_FAULT=claim_group@300 wg_start_daemon slow --store "file:$WG_TMP/store"
pl_gen_input 4 --logs 0 --workload "main_vm=$((5390 * 30))" >"$WG_TMP/in4.json"
pl_upload 4 "$WG_TMP/in4.json"
assert_status 201
basic4_done() { [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 4") == successful ]]; }
wg_wait_until 30 basic4_done
pids=()
for i in $(seq 1 30); do
	jq -cn --arg p "prover \"$i\" \\ $i" '{prover_id: $p, protocol_version: 24, rounds: [0]}' >"$WG_TMP/claim$i.json"
	curl -sS -o "$WG_TMP/claimed$i.json" -w '%{http_code}' -H "Authorization: Bearer $PL_PROVER" \
		-H 'Content-Type: application/json' --data-binary "@$WG_TMP/claim$i.json" "$(wg_url slow)/jobs/claim" \
		>"$WG_TMP/claimed$i.code" &
	pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
assert_eq 200 "$(for i in $(seq 1 30); do cat "$WG_TMP/claimed$i.code"; echo; done | sort -u)" "every claim got a job"
assert_eq 30 "$(for i in $(seq 1 30); do jq .id "$WG_TMP/claimed$i.json"; done | sort -u | wc -l)" "30 different jobs"
for i in 1 17 30; do
	id=$(jq .id "$WG_TMP/claimed$i.json")
	assert_eq "prover \"$i\" \\ $i" "$(wg_psql "SELECT picked_by FROM prover_jobs WHERE id = $id")" "job $id picked by its prover"
done
slow_metric() { curl -fsS "$(wg_url slow)/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
claims=$(slow_metric wg_claims_total)
cgroups=$(slow_metric wg_claim_groups_total)
assert_eq 30 "$claims" "claims served"
assert_eq 1 "$((cgroups >= 1 && cgroups < claims))" "$claims claims in $cgroups statements"
# Nobody takes these claims up: batch 4 goes, so that its jobs, back in the queue once their claim
# grace runs out, cannot come into the claims of later sections.
wg_http DELETE "$PL_URL/batches/4" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200

# ---------------------------------------------------------------- grouped completions
# The other 35 completions at once: they are committed in fewer groups than completions, each
# counted once, and the leaf job turns queued exactly once.
groups0=$(metric wg_completion_groups_total)
done0=$(metric wg_completions_total)
while read -r id lease; do
	pl_witness "$id" "$WG_TMP/w$id" "$lease"
	pl_ref_prove "$WG_TMP/w$id" "$WG_TMP/p$id"
done < <(jq -r '.jobs[] | "\(.id) \(.lease)"' "$WG_TMP/rest.json")
# One curl process sends them all at once (--parallel): 35 processes forked one by one on a busy
# machine can arrive so far apart that each completion commits before the next one comes.
args=()
while read -r id lease; do
	args+=(--next -sS -o "$WG_TMP/c$id.json" -w '%{http_code}\n' -H "Authorization: Bearer $PL_PROVER"
		-H 'Content-Type: application/octet-stream' -H "X-WG-Lease: $lease" --data-binary "@$WG_TMP/p$id"
		"$PL_URL/proofs/$id/complete")
done < <(jq -r '.jobs[] | "\(.id) \(.lease)"' "$WG_TMP/rest.json")
curl --parallel --parallel-immediate --parallel-max 64 "${args[@]:1}" >"$WG_TMP/completions.codes" ||
	fail "the concurrent completions: curl failed"
assert_eq "$((N - 5))" "$(wc -l <"$WG_TMP/completions.codes")" "one answer per concurrent completion"
assert_eq "200" "$(sort -u "$WG_TMP/completions.codes")" "every concurrent completion answered 200"
groups=$(($(metric wg_completion_groups_total) - groups0))
completed=$(($(metric wg_completions_total) - done0))
assert_eq $((N - 5)) "$completed" "completions committed"
assert_eq 1 "$((groups >= 1 && groups < completed))" "$completed completions in $groups groups"
assert_eq "$N|$N" "$(wg_psql "SELECT proofs_done, (SELECT count(*) FROM proofs WHERE l1_batch_number = 1)
	FROM leaf_aggregation_jobs WHERE l1_batch_number = 1")" "each proof counted and stored once"
leaf_claimed() { [[ $(wg_psql "SELECT status FROM leaf_aggregation_jobs WHERE l1_batch_number = 1") != waiting_for_proofs ]]; }
wg_wait_until 10 leaf_claimed
prove_all_until 1 proven 60
assert_eq 1 "$(wg_psql "SELECT attempts FROM leaf_aggregation_jobs WHERE l1_batch_number = 1")" \
	"the leaf job was queued and claimed once"

# ---------------------------------------------------------------- wg-prover, batched
pl_gen_input 2 --logs 70 --workload "main_vm=$((5390 * 300)),keccak256=$((293 * 40))" >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
"$WG_BUILDDIR/wg-prover" --url "$PL_URL" --token "$PL_PROVER" --concurrency 8 --until-idle --idle-seconds 2 \
	>"$WG_TMP/prover.out" 2>"$WG_TMP/prover.err" || fail "wg-prover failed: $(tail -n 5 "$WG_TMP/prover.err")"
assert_eq proven "$(batch_status 2)" "batch 2 proven by wg-prover with batched claims"
total=$(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 2")
assert_contains "$(cat "$WG_TMP/prover.out")" "proved $total jobs" "wg-prover's summary"
assert_contains "$(cat "$WG_TMP/prover.out")" "retries 0, lost leases 0, rejected proofs 0" "no errors"
assert_eq t "$(wg_psql "SELECT count(*) < $total FROM (SELECT DISTINCT processing_started_at FROM prover_jobs
	WHERE l1_batch_number = 2) q")" "some jobs were claimed together (one statement, one start time)"

# ---------------------------------------------------------------- claim plans
# Tables full of finished rows, as after many batches: each claim must still go through its
# partial index of queued rows rather than scan the table. The prover jobs finished an hour ago.
wg_psql "INSERT INTO prover_jobs (l1_batch_number, protocol_version, aggregation_round, circuit_id, sequence_number,
		status, attempts, updated_at)
	SELECT 1000 + b, 24, 0, 1, s, 'successful', 1, now() - interval '1 hour'
	FROM generate_series(1, 20) b, generate_series(0, 2399) s;
	INSERT INTO basic_circuit_witness_jobs (l1_batch_number, protocol_version, status, input_sha256, input_key,
		input_bytes)
	SELECT 1000 + g, 24, 'successful', sha256(g::text::bytea), 'k', 1 FROM generate_series(1, 20000) g;
	INSERT INTO leaf_aggregation_jobs (l1_batch_number, protocol_version, circuit_id, status,
		number_of_basic_circuits)
	SELECT 1000 + g, 24, c, 'successful', 1 FROM generate_series(1, 2000) g, generate_series(1, 15) c;
	INSERT INTO node_aggregation_jobs (l1_batch_number, protocol_version, circuit_id, depth, status,
		number_of_dependent_jobs)
	SELECT 1000 + g, 24, c, 0, 'successful', 1 FROM generate_series(1, 2000) g, generate_series(1, 15) c;
	INSERT INTO scheduler_witness_jobs (l1_batch_number, protocol_version, status, number_of_dependent_jobs,
		previous_root_hash, new_root_hash)
	SELECT 1000 + g, 24, 'successful', 1, sha256('a'), sha256('b') FROM generate_series(1, 20000) g;" >/dev/null
wg_psql "ANALYZE" >/dev/null
"$PL_EXPLAIN_CLAIMS" "$WG_DB" >"$WG_TMP/plans.txt" || fail "explain_claims failed"
# plan_of MODE STMT: the plan explain_claims printed for STMT under "== MODE EXPLAIN EXECUTE STMT...".
plan_of() { awk -v s="== $1 EXPLAIN EXECUTE $2" '/^== / { on = index($0, s) == 1; next } on' "$WG_TMP/plans.txt"; }
assert_eq 16 "$(grep -c '^== ' "$WG_TMP/plans.txt")" \
	"explain_claims printed eight custom and eight generic plans (seven claims and the queue report)"
for mode in custom generic; do
	for pair in "prover_claim('{explain}', 600, 24, NULL:prover_jobs_queued" \
		"prover_claim('{explain}', 600, 24, '{0}':prover_jobs_queued" \
		"witness_claim_basic('explain', 60, 0):basic_circuit_witness_jobs_queued" \
		"witness_claim_basic('explain', 60, 1000):basic_circuit_witness_jobs_queued" \
		"witness_claim_basic('explain', 60, 1000):prover_jobs_queued" \
		"witness_claim_basic('explain', 60, 1000):prover_jobs_leased" \
		witness_claim_leaf:leaf_aggregation_jobs_queued \
		witness_claim_node:node_aggregation_jobs_queued witness_claim_sched:scheduler_witness_jobs_queued; do
		stmt=${pair%:*} index=${pair##*:}
		plan=$(plan_of "$mode" "$stmt")
		[[ -n $plan ]] || fail "no $mode plan of $stmt in $WG_TMP/plans.txt"
		assert_contains "$plan" "$index" "the $mode plan of $stmt uses $index"
		# The prover claim reads the pauses, a table of a handful of rows, whole.
		case ${plan//Seq Scan on queue_pauses/} in
		*"Seq Scan"*) fail "the $mode plan of $stmt scans a table: $plan" ;;
		esac
	done
	# The queue report reads unfinished rows and the last minute's successful ones by their indexes.
	plan=$(plan_of "$mode" queue_report)
	for index in prover_jobs_queued prover_jobs_leased prover_jobs_successful_at; do
		assert_contains "$plan" "$index" "the $mode plan of queue_report uses $index"
	done
	case $plan in
	*"Seq Scan on prover_jobs"*) fail "the $mode plan of queue_report scans prover_jobs: $plan" ;;
	esac
done

# ---------------------------------------------------------------- leases of jobs waiting for a thread
# One thread, four jobs per claim, 1.5 s per proof, 2 s leases: the last job waits 4.5 s for the
# thread, and wg-prover keeps its lease alive meanwhile, so no job is lost or proved twice.
wg_start_daemon short --store "file:$WG_TMP/store" --lease 2
pl_gen_input 3 --logs 0 --workload "main_vm=$((5390 * 4))" >"$WG_TMP/in3.json"
pl_upload 3 "$WG_TMP/in3.json"
assert_status 201
basic3_done() { [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 3") == successful ]]; }
wg_wait_until 30 basic3_done
"$WG_BUILDDIR/wg-prover" --url "$(wg_url short)" --token "$PL_PROVER" --concurrency 1 --batch 4 --prove-ms 1500 \
	--rounds 0 --max-jobs 4 >"$WG_TMP/prover3.out" 2>"$WG_TMP/prover3.err" ||
	fail "wg-prover failed: $(tail -n 5 "$WG_TMP/prover3.err")"
assert_contains "$(cat "$WG_TMP/prover3.out")" "proved 4 jobs" "four jobs from one claim proved by one thread"
assert_contains "$(cat "$WG_TMP/prover3.out")" "lost leases 0" "no lease lost while jobs waited"
assert_eq "4|1" "$(wg_psql "SELECT count(*), max(attempts) FROM prover_jobs WHERE l1_batch_number = 3
	AND aggregation_round = 0 AND status = 'successful'")" "each job claimed once and proved"
assert_eq 1 "$(wg_psql "SELECT count(DISTINCT processing_started_at) FROM prover_jobs WHERE l1_batch_number = 3
	AND aggregation_round = 0")" "the four were claimed by one statement"

# ---------------------------------------------------------------- a claimed job deleted under its prover
# The daemon keeps where a claimed job's witness lies; after its batch is deleted, the download and
# the completion still answer 404 (the row is gone), not a stale witness or a 500.
pl_gen_input 5 --logs 0 --workload "main_vm=$((5390 * 2))" >"$WG_TMP/in5.json"
pl_upload 5 "$WG_TMP/in5.json"
assert_status 201
basic5_done() { [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 5") == successful ]]; }
wg_wait_until 30 basic5_done
claim_many '{"prover_id":"t","protocol_version":24,"limit":2,"rounds":[0]}'
assert_status 200
assert_json_eq '[.jobs[].l1_batch_number] | unique | join(",")' 5
read -r id5 lease5 < <(jq -r '.jobs[0] | "\(.id) \(.lease)"' "$HTTP_BODY_FILE")
pl_witness "$id5" "$WG_TMP/w5" "$lease5"
pl_ref_prove "$WG_TMP/w5" "$WG_TMP/p5"
wg_http DELETE "$PL_URL/batches/5" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
wg_http GET "$PL_URL/jobs/$id5/witness" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: $lease5"
assert_status 404
pl_complete "$id5" "$lease5" "$WG_TMP/p5"
assert_status 404
assert_error_code not_found
