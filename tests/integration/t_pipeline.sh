#!/bin/bash
# t_pipeline.sh: batches go from upload to `proven` through all four rounds (docs/README.md,
# docs/circuits.md and docs/api.md), proved by hand with curl and the reference scheme, with
# both object store backends.
# Per batch: the prover jobs of every layer equal the formulas of docs/circuits.md (including a
# type that needs three node layers), each (round, circuit, depth, sequence) exists once, the
# witness jobs await what they should, the final proof is "WGREF1" || H(scheduler witness) and is
# 404 until the batch is proven, and the inspection routes have the shapes of docs/api.md.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
T0=$SECONDS

# hex FILE: the bytes of FILE as lower-case hex, one line.
hex() {
	od -An -v -tx1 "$1" | tr -d ' \n'
}

# run_batch BATCH LEAF_ARITY NODE_ARITY LOGS WORKLOAD: upload a generated input, prove it to
# `proven` and check its jobs against docs/circuits.md. Leaves the expected layers in $EXPECTED.
run_batch() {
	local batch=$1 leaf_arity=$2 node_arity=$3 logs=$4 workload=$5
	local -a counts
	pl_gen_input "$batch" --logs "$logs" ${workload:+--workload "$workload"} --seed "$batch" \
		>"$WG_TMP/in$batch.json"
	read -ra counts <<<"$(circuit_counts "$workload" "$logs")"
	EXPECTED=$(expected_counts "$leaf_arity" "$node_arity" "${counts[@]}")
	pl_upload "$batch" "$WG_TMP/in$batch.json"
	assert_status 201
	assert_json_eq .l1_batch_number "$batch"
	assert_json_eq .basic_circuits "$(awk -F'|' '$1 == 0 { n += $4 } END { print n }' <<<"$EXPECTED")"
	pl_get "/batches/$batch/proof"
	assert_status 404
	assert_error_code not_found
	prove_all_until "$batch" proven
	check_layers "$batch"
}

# check_layers BATCH: the prover jobs and witness jobs of a proven batch against $EXPECTED.
check_layers() {
	local batch=$1 types layers
	assert_eq "$EXPECTED" "$(pl_sql_counts "$batch")" "batch $batch: prover jobs per (round, circuit, depth)"
	pl_assert_unique "$batch"
	assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = $batch
		AND (status <> 'successful' OR proof_hash IS NULL OR protocol_version <> 24)")" \
		"batch $batch: every prover job successful with a proof"
	# The witness jobs: one leaf job per type awaiting its k basic proofs; one node job per
	# layer awaiting the proofs of the layer below; one scheduler job over one final proof a type.
	assert_eq "$(awk -F'|' '$1 == 0 { print $2 "|" $4 "|" $4 "|successful" }' <<<"$EXPECTED")" \
		"$(wg_psql "SELECT circuit_id, number_of_basic_circuits, proofs_done, status
			FROM leaf_aggregation_jobs WHERE l1_batch_number = $batch ORDER BY circuit_id")" \
		"batch $batch: leaf jobs"
	assert_eq "$(awk -F'|' '$1 == 1 { below[$2] = $4 }
			$1 == 2 { print $2 "|" $3 "|" below[$2] "|" below[$2] "|successful"; below[$2] = $4 }' <<<"$EXPECTED")" \
		"$(wg_psql "SELECT circuit_id, depth, number_of_dependent_jobs, proofs_done, status
			FROM node_aggregation_jobs WHERE l1_batch_number = $batch ORDER BY circuit_id, depth")" \
		"batch $batch: node jobs"
	types=$(awk -F'|' '$1 == 0' <<<"$EXPECTED" | wc -l)
	assert_eq "$types|$types|successful" "$(wg_psql "SELECT number_of_dependent_jobs, proofs_done, status
		FROM scheduler_witness_jobs WHERE l1_batch_number = $batch")" "batch $batch: scheduler job"
	assert_eq "successful|1" "$(wg_psql "SELECT status, attempts FROM basic_circuit_witness_jobs
		WHERE l1_batch_number = $batch")" "batch $batch: basic job"
	assert_eq "24" "$(wg_psql "SELECT string_agg(DISTINCT v::text, ',') FROM (
		SELECT protocol_version AS v FROM basic_circuit_witness_jobs WHERE l1_batch_number = $batch
		UNION ALL SELECT protocol_version FROM leaf_aggregation_jobs WHERE l1_batch_number = $batch
		UNION ALL SELECT protocol_version FROM node_aggregation_jobs WHERE l1_batch_number = $batch
		UNION ALL SELECT protocol_version FROM scheduler_witness_jobs WHERE l1_batch_number = $batch) t")" \
		"batch $batch: every witness job carries protocol version 24"

	# GET /batches/{n}: all four rounds, counts by status, nothing but `successful` left.
	pl_get "/batches/$batch"
	assert_status 200
	assert_json_eq .l1_batch_number "$batch"
	assert_json_eq .status proven
	assert_json_eq '[.rounds[].aggregation_round] | join(",")' "0,1,2,3"
	layers=$(awk -F'|' '$1 == 2' <<<"$EXPECTED" | wc -l)
	assert_json_eq '[.rounds[].witness_jobs | tojson] | join(" ")' \
		"{\"successful\":1} {\"successful\":$types} {\"successful\":$layers} {\"successful\":1}"
	assert_json_eq '[.rounds[].prover_jobs | tojson] | join(" ")' \
		"$(awk -F'|' '{ n[$1] += $4 } END { printf "{\"successful\":%d} {\"successful\":%d} {\"successful\":%d} {\"successful\":%d}", n[0], n[1], n[2], n[3] }' <<<"$EXPECTED")"
}

# check_final_proof BATCH: GET /batches/{n}/proof is "WGREF1" || H(the scheduler witness), and
# the scheduler witness aggregates the final node proof of every type and the public input.
check_final_proof() {
	local batch=$1 sched_id w
	sched_id=$(wg_psql "SELECT id FROM prover_jobs WHERE l1_batch_number = $batch AND aggregation_round = 3")
	pl_witness_admin "$sched_id" "$WG_TMP/sched$batch.wit"
	pl_ref_prove "$WG_TMP/sched$batch.wit" "$WG_TMP/sched$batch.expected"
	pl_get "/batches/$batch/proof"
	assert_status 200
	assert_contains "$(wg_header Content-Type)" application/octet-stream "proof content type"
	cp "$HTTP_BODY_FILE" "$WG_TMP/sched$batch.proof"
	assert_eq 38 "$(stat -c %s "$WG_TMP/sched$batch.proof")" "batch $batch: final proof length"
	assert_eq "$(hex "$WG_TMP/sched$batch.expected")" "$(hex "$WG_TMP/sched$batch.proof")" \
		"batch $batch: final proof = WGREF1 || H(scheduler witness)"
	assert_eq 574752454631 "$(head -c 6 "$WG_TMP/sched$batch.proof" | od -An -tx1 | tr -d ' \n')" \
		"batch $batch: proof prefix WGREF1"

	# The scheduler witness (api/witness-format.md): header, the final node proofs in type order
	# (job id and proof hash) and the public input (previous and new root of the upload).
	w=$(hex "$WG_TMP/sched$batch.wit")
	assert_eq 57475754 "${w:0:8}" "scheduler witness magic"
	assert_eq 00000001 "${w:8:8}" "scheduler witness format version"
	assert_eq 03 "${w:16:2}" "scheduler witness kind"
	assert_eq "$(printf '%016x' "$batch")" "${w:18:16}" "scheduler witness batch number"
	assert_eq "$(printf '%08x' 24)" "${w:34:8}" "scheduler witness protocol version"
	assert_eq 00 "${w:42:2}" "scheduler witness circuit id"
	local finals n
	finals=$(wg_psql "SELECT lpad(to_hex(p.id), 16, '0') || encode(p.proof_hash, 'hex') FROM prover_jobs p
		WHERE p.l1_batch_number = $batch AND p.aggregation_round = 2
		AND p.depth = (SELECT max(depth) FROM prover_jobs q WHERE q.l1_batch_number = p.l1_batch_number
			AND q.aggregation_round = 2 AND q.circuit_id = p.circuit_id)
		ORDER BY p.circuit_id" | tr -d '\n')
	n=$(awk -F'|' '$1 == 0' <<<"$EXPECTED" | wc -l)
	assert_eq "$(printf '%08x' "$n")" "${w:68:8}" "scheduler witness n_proofs"
	assert_eq "$finals" "${w:76:$((80 * n))}" "scheduler witness proofs (final node job ids and hashes)"
	assert_eq "$(jq -r '.previous_root_hash[2:] + .new_root_hash[2:] | ascii_downcase' "$WG_TMP/in$batch.json")" \
		"${w:$((76 + 80 * n))}" "scheduler witness public input"
}

# ---------------------------------------------------------------- file store, arities 2 and 2
wg_start_daemon file --leaf-arity 2 --node-arity 2
pl_use file

# Batch 1: main_vm with 9 circuits -> 5 leaf -> node layers 3, 2, 1; storage_application from 40
# logs (2 circuits); keccak256 just over 3 circuits (4). The last proofs are taken step by step to
# see the final proof stay 404 until the scheduler proof is in.
batch=1
workload="main_vm=$((5390 * 9)),keccak256=$((293 * 3 + 1))"
pl_gen_input $batch --logs 40 --workload "$workload" >"$WG_TMP/in$batch.json"
read -ra COUNTS <<<"$(circuit_counts "$workload" 40)"
EXPECTED=$(expected_counts 2 2 "${COUNTS[@]}")
assert_eq "1=9 5=4 10=2" "$(circuit_counts "$workload" 40)" "circuit_counts"
assert_eq "0|1|0|9 0|5|0|4 0|10|0|2 1|1|0|5 1|5|0|2 1|10|0|1 2|1|0|3 2|1|1|2 2|1|2|1 2|5|0|1 2|10|0|1 3|0|0|1" \
	"$(tr '\n' ' ' <<<"$EXPECTED" | sed 's/ $//')" "expected_counts"
pl_upload $batch "$WG_TMP/in$batch.json"
assert_status 201
assert_json_eq .basic_circuits 15
pl_get /batches/$batch/proof
assert_status 404
assert_error_code not_found

# Once the basic round ran: 15 queued circuits, every later witness job waiting.
basic_done() {
	[[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = $batch") == successful ]]
}
wg_wait_until 60 basic_done
pl_get /batches/$batch
assert_status 200
assert_json_eq .status in_progress
assert_json_eq '.rounds | length' 4
assert_json_eq '[.rounds[] | .witness_jobs | tojson] | join(" ")' \
	'{"successful":1} {"waiting_for_proofs":3} {"waiting_for_proofs":3} {"waiting_for_proofs":1}'
assert_json_eq '[.rounds[] | .prover_jobs | tojson] | join(" ")' '{"queued":15} {} {} {}'

# GET /batches/{n}/jobs: shapes and filters, mid-run.
pl_get /batches/$batch/jobs
assert_status 200
assert_json_eq '.prover_jobs | length' 15
assert_json_eq '.witness_jobs | length' 8
assert_json_eq '[.prover_jobs[] | keys | join(",")] | unique | join(" ")' \
	"aggregation_round,attempts,circuit_id,depth,error,id,kind,sequence_number,status"
assert_json_eq '[.witness_jobs[] | keys | join(",")] | unique | join(" ")' \
	"aggregation_round,attempts,circuit_id,depth,error,id,kind,status"
assert_json_eq '[.prover_jobs[] | "\(.circuit_id):\(.sequence_number)"] | join(" ")' \
	"1:0 1:1 1:2 1:3 1:4 1:5 1:6 1:7 1:8 5:0 5:1 5:2 5:3 10:0 10:1"
assert_json_eq '[.witness_jobs[] | "\(.aggregation_round)/\(.circuit_id)/\(.depth)/\(.status)"] | join(" ")' \
	"0/0/0/successful 1/1/0/waiting_for_proofs 1/5/0/waiting_for_proofs 1/10/0/waiting_for_proofs 2/1/0/waiting_for_proofs 2/5/0/waiting_for_proofs 2/10/0/waiting_for_proofs 3/0/0/waiting_for_proofs"

# Prove one circuit, then filter by status and round.
prove_one
first_job=$PL_JOB_ID
pl_get "/batches/$batch/jobs?status=successful"
assert_status 200
assert_json_eq '[.prover_jobs[].id] | join(",")' "$first_job"
assert_json_eq '[.witness_jobs[] | "\(.aggregation_round)"] | join(",")' 0
pl_get "/batches/$batch/jobs?round=0&status=queued"
assert_status 200
assert_json_eq '.prover_jobs | length' 14
assert_json_eq '[.prover_jobs[] | select(.status != "queued" or .aggregation_round != 0)] | length' 0
assert_json_eq '.witness_jobs | length' 0
pl_get "/batches/$batch/jobs?round=1"
assert_status 200
assert_json_eq '.prover_jobs | length' 0
assert_json_eq '[.witness_jobs[] | .circuit_id] | join(",")' "1,5,10"
pl_get "/batches/$batch/jobs?status=bogus"
assert_status 400
assert_error_code bad_request
pl_get "/batches/$batch/jobs?round=7"
assert_status 400
assert_error_code bad_request

# GET /jobs/{id}: one prover job, the shape of a claimed job.
pl_get "/jobs/$first_job"
assert_status 200
assert_json_eq '[.id, .l1_batch_number, .protocol_version, .aggregation_round, .circuit_id, .depth,
	.sequence_number, .status, .attempts] | map(tostring) | join(",")' "$first_job,$batch,24,0,1,0,0,successful,1"

# Prove everything but the scheduler circuit; the final proof is still 404 with the scheduler
# circuit queued, then in progress.
sched_queued() {
	[[ $(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = $batch AND aggregation_round = 3") == 1 ]]
}
prove_until 120 '{"prover_id":"t","protocol_version":24,"rounds":[0,1,2]}' sched_queued
pl_get /batches/$batch
assert_json_eq .status in_progress
assert_json_eq '.rounds[3].prover_jobs | tojson' '{"queued":1}'
assert_json_eq '.rounds[3].witness_jobs | tojson' '{"successful":1}'
pl_get /batches/$batch/proof
assert_status 404
pl_claim '{"prover_id":"t","protocol_version":24,"rounds":[3]}'
assert_status 200
assert_json_eq '[.aggregation_round, .circuit_id, .depth, .sequence_number] | map(tostring) | join(",")' "3,0,0,0"
sched_id=$PL_JOB_ID
sched_lease=$PL_JOB_LEASE
pl_get /batches/$batch/proof
assert_status 404
pl_get /batches/$batch
assert_json_eq .status in_progress
pl_witness "$sched_id" "$WG_TMP/w"
pl_ref_prove "$WG_TMP/w" "$WG_TMP/p"
pl_complete "$sched_id" "$sched_lease" "$WG_TMP/p"
assert_status 200
assert_eq proven "$(batch_status $batch)" "batch $batch after the scheduler proof"
check_layers $batch
check_final_proof $batch

# Batch 2: a single circuit of one type (no logs): one leaf, still one node layer at depth 0.
run_batch 2 2 2 0 "ecrecover=7"
assert_eq "0|7|0|1 1|7|0|1 2|7|0|1 3|0|0|1" "$(tr '\n' ' ' <<<"$EXPECTED" | sed 's/ $//')" "batch 2 layers"
check_final_proof 2

# Batch 3: every circuit type, at and just over capacity boundaries.
run_batch 3 2 2 34 "main_vm=5391,decommitments_sorter=1,code_decommitter=2845,log_demuxer=58126,keccak256=586,sha256=2206,ecrecover=15,ram_permutation=127146,storage_sorter=1,events_sorter=31288,l1_messages_sorter=1,l1_messages_hasher=775,transient_storage_sorter=50875,secp256r1_verify=9"
assert_eq 15 "$(wg_psql "SELECT count(DISTINCT circuit_id) FROM prover_jobs WHERE l1_batch_number = 3
	AND aggregation_round = 0")" "batch 3: every basic circuit type"
check_final_proof 3

# The file store holds the blobs of a batch (its input and one witness pack per layer, each
# written with one flush); the blobs table none.
packs1=$(expected_packs 2 2 1=9 5=4 10=2)
assert_eq $((1 + packs1)) "$(find "$WG_TMP/store-file/batches/1" -type f ! -name '*.tmp-*' | wc -l)" \
	"file store: blobs of batch 1"
assert_eq "$packs1" "$(find "$WG_TMP/store-file/batches/1" -type f -regextype posix-extended -regex '.*/p[0-9a-f]{16}\.pack' | wc -l)" \
	"file store: witness packs of batch 1, each named by its random pack id"
assert_eq "$packs1" "$(wg_psql "SELECT count(DISTINCT (aggregation_round, CASE WHEN aggregation_round = 0 THEN 0
	ELSE circuit_id END, depth, witness_pack_id)) FROM prover_jobs WHERE l1_batch_number = 1")" \
	"file store: packs the jobs of batch 1 point at"
# Every pack the jobs point at is on disk under its id.
for key in $(wg_psql "SELECT DISTINCT 'r' || aggregation_round || '/c' || CASE WHEN aggregation_round = 0 THEN 0
	ELSE circuit_id END || '/d' || depth || '/p' || lpad(to_hex(witness_pack_id), 16, '0') || '.pack'
	FROM prover_jobs WHERE l1_batch_number = 1"); do
	[[ -f $WG_TMP/store-file/batches/1/$key ]] || fail "pack $key of batch 1 is not in the file store"
done
assert_eq 0 "$(wg_psql "SELECT count(*) FROM blobs")" "file store: nothing in the blobs table"

# GET /batches: every batch, in order, with its status.
pl_get /batches
assert_status 200
assert_json_eq '[.batches[] | "\(.l1_batch_number):\(.status):\(.protocol_version)"] | join(" ")' \
	"1:proven:24 2:proven:24 3:proven:24"
t_file=$((SECONDS - T0))
wg_stop_daemon file

# ---------------------------------------------------------------- postgres store
# Default arities (32): 33 keccak256 circuits need 2 leaf circuits; then arities 3 and 2 with 20
# main_vm circuits: 7 leaf, node layers 4, 2, 1.
T1=$SECONDS
wg_start_daemon pg --store postgres
pl_use pg
run_batch 11 32 32 40 "keccak256=$((293 * 33)),main_vm=1"
assert_eq "0|1|0|1 0|5|0|33 0|10|0|2 1|1|0|1 1|5|0|2 1|10|0|1 2|1|0|1 2|5|0|1 2|10|0|1 3|0|0|1" \
	"$(tr '\n' ' ' <<<"$EXPECTED" | sed 's/ $//')" "batch 11 layers"
check_final_proof 11
wg_stop_daemon pg

wg_start_daemon pg --store postgres --leaf-arity 3 --node-arity 2
pl_use pg
run_batch 12 3 2 66 "main_vm=$((5390 * 20))"
assert_eq "0|1|0|20 0|10|0|2 1|1|0|7 1|10|0|1 2|1|0|4 2|1|1|2 2|1|2|1 2|10|0|1 3|0|0|1" \
	"$(tr '\n' ' ' <<<"$EXPECTED" | sed 's/ $//')" "batch 12 layers"
check_final_proof 12
packs12=$(expected_packs 3 2 1=20 10=2)
assert_eq $((1 + packs12)) "$(wg_psql "SELECT count(*) FROM blobs WHERE key LIKE 'batches/12/%'")" \
	"postgres store: blobs of batch 12"
assert_eq 0 "$(find "$WG_TMP/store-pg" -type f -path '*batches*' 2>/dev/null | wc -l)" \
	"postgres store: nothing in the file store"

pl_get /batches
assert_json_eq '[.batches[] | "\(.l1_batch_number):\(.status)"] | join(" ")' \
	"1:proven 2:proven 3:proven 11:proven 12:proven"
echo "# t_pipeline: file store batches in $t_file s, postgres store batches in $((SECONDS - T1)) s," \
	"$PL_PROVED jobs proved with curl"
