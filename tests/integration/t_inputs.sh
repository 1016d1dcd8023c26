#!/bin/bash
# t_inputs.sh: POST /batches/{n}/witness-inputs (docs/input-format.md). A valid input is 201, the same
# input again 200 (also when sent gzip-encoded, or spelt otherwise: keys reordered, spacing, hex
# case, a read's value_written left out), another input 409; invalid ones are 400 with the
# JSON path of the problem (bad_request when the body does not parse), 413 over --max-body on
# the wire or decoded, and store nothing. The basic round, not the upload, replays the tree: a
# wrong new_root_hash or a tampered merkle path is accepted, then fails the basic job for good
# with the position and both roots, the batch becomes `failed` and no prover job is created.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
MAX_BODY=300000
wg_start_daemon a --max-body $MAX_BODY
pl_use a
STORE="$WG_TMP/store-a"

# stored: every trace an upload leaves (job rows of any table, blobs, files in the store).
stored() {
	echo "$(wg_psql "SELECT (SELECT count(*) FROM basic_circuit_witness_jobs) || ',' ||
		(SELECT count(*) FROM prover_jobs) || ',' || (SELECT count(*) FROM leaf_aggregation_jobs) || ',' ||
		(SELECT count(*) FROM blobs)"),$(find "$STORE" -type f ! -name .probe 2>/dev/null | wc -l)"
}

# upload_invalid BATCH FILE STATUS CODE PATH [MESSAGE_PART] [CURL ARGS...]: the upload is
# refused with STATUS, error CODE and a message that starts with the JSON PATH; nothing stored.
upload_invalid() {
	local batch=$1 file=$2 status=$3 code=$4 path=$5 part=${6:-} before
	shift 6
	before=$(stored)
	pl_upload "$batch" "$file" "$@"
	assert_status "$status"
	assert_error_code "$code"
	if [[ -n $path ]]; then
		assert_eq "$path: " "$(wg_json .error.message | cut -c1-$((${#path} + 2)))" "error path of $file"
	fi
	[[ -z $part ]] || assert_contains "$(wg_json .error.message)" "$part" "error message of $file"
	assert_eq "$before" "$(stored)" "nothing stored for the refused $file"
}

# edit SRC DST JQ_FILTER: DST is SRC changed by a jq filter (compact output).
edit() {
	jq -c "$3" "$1" >"$2" || fail "jq $3 failed"
}

# ---------------------------------------------------------------- 201, 200, 409, gzip
pl_gen_input 1 --logs 40 --workload main_vm=20000 >"$WG_TMP/in1.json"
pl_gen_input 1 --logs 40 --workload main_vm=20000 --seed 2 >"$WG_TMP/in1-other.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
assert_json_eq '[.l1_batch_number, .basic_circuits, .created] | map(tostring) | join(",")' "1,6,true"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 200
assert_json_eq '[.l1_batch_number, .created] | map(tostring) | join(",")' "1,false"
# (The basic round of batch 1 writes rows and blobs: let it finish before counting.)
basic_done() {
	[[ $(wg_psql "SELECT count(*) FROM basic_circuit_witness_jobs WHERE status = 'successful'") == "$1" ]]
}
wg_wait_until 60 basic_done 1
before=$(stored)
pl_upload 1 "$WG_TMP/in1-other.json"
assert_status 409
assert_error_code conflict
assert_eq "$before" "$(stored)" "nothing stored for a conflicting body"
# A different body that parses to the same input (key order, spacing) is the same input: inputs
# are compared after parsing.
edit "$WG_TMP/in1.json" "$WG_TMP/in1-reordered.json" '{circuit_workload, storage_logs, new_root_hash,
	previous_root_hash, protocol_version, l1_batch_number}'
pl_upload 1 "$WG_TMP/in1-reordered.json"
assert_status 200
assert_json_eq '[.l1_batch_number, .basic_circuits, .created] | map(tostring) | join(",")' "1,6,false"
jq . "$WG_TMP/in1.json" >"$WG_TMP/in1-pretty.json"
pl_upload 1 "$WG_TMP/in1-pretty.json"
assert_status 200
assert_json_eq .created false
# A merkle path with a leaf-level empty subtree spelt out is the same path (docs/tree.md): E[k],
# the empty subtree k levels above the leaves, made with Python's BLAKE2s.
len0=$(jq '.storage_logs[0].merkle_path | length' "$WG_TMP/in1.json")
((len0 < 256)) || fail "log 0 of in1.json has a full path"
empty=$(python3 -c 'import hashlib, sys
e = hashlib.blake2s(bytes(40)).digest()
for _ in range(int(sys.argv[1])): e = hashlib.blake2s(e + e).digest()
print("0x" + e.hex())' $((255 - len0)))
edit "$WG_TMP/in1.json" "$WG_TMP/in1-padded.json" ".storage_logs[0].merkle_path |= [\"$empty\"] + ."
pl_upload 1 "$WG_TMP/in1-padded.json"
assert_status 200
assert_json_eq .created false
assert_eq "$before" "$(stored)" "nothing stored for the same input spelt otherwise"
assert_eq 1 "$(wg_psql "SELECT count(*) FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1")" "one batch 1"

# gzip: the first upload gzip-encoded, then the plain bytes are the same input (200), and a
# gzip-encoded different body is a 409.
pl_gen_input 2 --logs 10 --workload keccak256=1000 >"$WG_TMP/in2.json"
gzip -9 -c "$WG_TMP/in2.json" >"$WG_TMP/in2.json.gz"
pl_upload 2 "$WG_TMP/in2.json.gz" -H 'Content-Encoding: gzip'
assert_status 201
assert_json_eq .basic_circuits $((1 + 4))
assert_eq "$(stat -c %s "$WG_TMP/in2.json")" "$(wg_psql "SELECT input_bytes FROM basic_circuit_witness_jobs
	WHERE l1_batch_number = 2")" "input_bytes is the decoded size"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 200
pl_upload 2 "$WG_TMP/in2.json.gz" -H 'Content-Encoding: gzip'
assert_status 200
pl_gen_input 2 --logs 10 --workload keccak256=1001 | gzip -c >"$WG_TMP/in2-other.json.gz"
pl_upload 2 "$WG_TMP/in2-other.json.gz" -H 'Content-Encoding: gzip'
assert_status 409
# A plain body re-sent gzip-encoded (batch 1) is the same input as well.
gzip -c "$WG_TMP/in1.json" >"$WG_TMP/in1.json.gz"
pl_upload 1 "$WG_TMP/in1.json.gz" -H 'Content-Encoding: gzip'
assert_status 200
# The stored input is the decoded body.
key=$(wg_psql "SELECT input_key FROM basic_circuit_witness_jobs WHERE l1_batch_number = 2")
assert_eq "$(sha256sum <"$WG_TMP/in2.json")" "$(sha256sum <"$STORE/$key")" "stored input = decoded body"

# Both batches are valid: they run the basic round with the circuit counts of docs/circuits.md.
wg_wait_until 60 basic_done 2
assert_eq "1|1|4 1|10|2 2|5|4 2|10|1" "$(wg_psql "SELECT l1_batch_number, circuit_id, count(*) FROM prover_jobs
	GROUP BY 1, 2 ORDER BY 1, 2" | tr '\n' ' ' | sed 's/ $//')" "basic circuits of batches 1 and 2"

# ---------------------------------------------------------------- invalid inputs: 400
pl_gen_input 3 --logs 5 --workload main_vm=100 >"$WG_TMP/in3.json"
# The batch number in the path must be the one in the body.
upload_invalid 4 "$WG_TMP/in3.json" 400 invalid_input '$.l1_batch_number' "must equal 4"
pl_get /batches/4
assert_status 404
# Bodies that do not parse.
printf '{"l1_batch_number": 3, "protocol_version": 24,' >"$WG_TMP/truncated.json"
upload_invalid 3 "$WG_TMP/truncated.json" 400 bad_request '$' ""
printf 'not json at all' >"$WG_TMP/garbage.json"
upload_invalid 3 "$WG_TMP/garbage.json" 400 bad_request '$' ""
# A JSON value that is not an input object.
printf '[1, 2, 3]' >"$WG_TMP/array.json"
upload_invalid 3 "$WG_TMP/array.json" 400 invalid_input '$' ""
# Workload keys and counts.
edit "$WG_TMP/in3.json" "$WG_TMP/unknown-key.json" '.circuit_workload.warp_drive = 5'
upload_invalid 3 "$WG_TMP/unknown-key.json" 400 invalid_input '$.circuit_workload.warp_drive' ""
edit "$WG_TMP/in3.json" "$WG_TMP/sa-key.json" '.circuit_workload.storage_application = 5'
upload_invalid 3 "$WG_TMP/sa-key.json" 400 invalid_input '$.circuit_workload.storage_application' ""
edit "$WG_TMP/in3.json" "$WG_TMP/negative.json" '.circuit_workload.main_vm = -1'
upload_invalid 3 "$WG_TMP/negative.json" 400 invalid_input '$.circuit_workload.main_vm' ""
# No work at all.
edit "$WG_TMP/in3.json" "$WG_TMP/no-work.json" '.storage_logs = [] | .circuit_workload = {} |
	.new_root_hash = .previous_root_hash'
upload_invalid 3 "$WG_TMP/no-work.json" 400 invalid_input '$' ""
# More basic circuits than the scheduler capacity: the message names the count and the limit.
# 27,999 main_vm circuits and 2 storage_application circuits (34 logs) need 28,001.
pl_gen_input 3 --logs 34 --workload main_vm=$((5390 * 27999)) >"$WG_TMP/too-big.json"
upload_invalid 3 "$WG_TMP/too-big.json" 400 invalid_input '$' "28001"
assert_contains "$(wg_json .error.message)" "28000" "over-capacity message names the limit"
# Protocol versions the daemon does not know.
edit "$WG_TMP/in3.json" "$WG_TMP/v23.json" '.protocol_version = 23'
upload_invalid 3 "$WG_TMP/v23.json" 400 invalid_input '$.protocol_version' "23"
# Hex fields: a short hash, a bad sibling, a path longer than the tree.
edit "$WG_TMP/in3.json" "$WG_TMP/short-root.json" '.previous_root_hash = "0x1234"'
upload_invalid 3 "$WG_TMP/short-root.json" 400 invalid_input '$.previous_root_hash' ""
edit "$WG_TMP/in3.json" "$WG_TMP/bad-sibling.json" '.storage_logs[2].merkle_path[0] = "0xzz"'
upload_invalid 3 "$WG_TMP/bad-sibling.json" 400 invalid_input '$.storage_logs[2].merkle_path[0]' ""
edit "$WG_TMP/in3.json" "$WG_TMP/long-path.json" \
	'.storage_logs[1].merkle_path = [range(257) | "0x" + ("00" * 32)]'
upload_invalid 3 "$WG_TMP/long-path.json" 400 invalid_input '$.storage_logs[1].merkle_path' "256"
edit "$WG_TMP/in3.json" "$WG_TMP/no-index.json" 'del(.storage_logs[4].leaf_index)'
upload_invalid 3 "$WG_TMP/no-index.json" 400 invalid_input '$.storage_logs[4].leaf_index' ""
# Over --max-body: on the wire, and after gzip decoding (a small body that inflates past it).
{
	printf '{"pad":"'
	head -c $((MAX_BODY + 10)) /dev/zero | tr '\0' a
	printf '"}'
} >"$WG_TMP/huge.json"
upload_invalid 3 "$WG_TMP/huge.json" 413 payload_too_large "" ""
gzip -9 -c "$WG_TMP/huge.json" >"$WG_TMP/huge.json.gz"
assert_eq 1 "$(($(stat -c %s "$WG_TMP/huge.json.gz") < MAX_BODY / 10))" "the gzip bomb is small on the wire"
upload_invalid 3 "$WG_TMP/huge.json.gz" 413 payload_too_large "" "" -H 'Content-Encoding: gzip'
# A body that claims to be gzip but is not.
upload_invalid 3 "$WG_TMP/in3.json" 400 bad_request "" "" -H 'Content-Encoding: gzip'
# Not JSON by content type.
before=$(stored)
wg_http POST "$PL_URL/batches/3/witness-inputs" -H "Authorization: Bearer $PL_TREE" \
	-H 'Content-Type: text/plain' --data-binary "@$WG_TMP/in3.json"
assert_status 415
assert_error_code unsupported_media_type
# Only the tree role uploads.
wg_http POST "$PL_URL/batches/3/witness-inputs" -H "Authorization: Bearer $PL_PROVER" \
	-H 'Content-Type: application/json' --data-binary "@$WG_TMP/in3.json"
assert_status 403
assert_error_code forbidden
assert_eq "$before" "$(stored)" "nothing stored for a prover's upload"
# After all of that, batch 3 is still new: the valid input is 201.
pl_upload 3 "$WG_TMP/in3.json"
assert_status 201

# ---------------------------------------------------------------- bad root: accepted, then failed
# failed_basic BATCH: the basic job of BATCH failed once, for good, and created nothing.
failed_basic() {
	local batch=$1
	assert_eq "failed|1" "$(wg_psql "SELECT status, attempts FROM basic_circuit_witness_jobs
		WHERE l1_batch_number = $batch")" "batch $batch: basic job failed after one attempt"
	assert_eq "0,0,0,0" "$(wg_psql "SELECT (SELECT count(*) FROM prover_jobs WHERE l1_batch_number = $batch) || ',' ||
		(SELECT count(*) FROM leaf_aggregation_jobs WHERE l1_batch_number = $batch) || ',' ||
		(SELECT count(*) FROM node_aggregation_jobs WHERE l1_batch_number = $batch) || ',' ||
		(SELECT count(*) FROM scheduler_witness_jobs WHERE l1_batch_number = $batch)")" \
		"batch $batch: nothing created by the failed basic round"
	pl_get "/batches/$batch"
	assert_status 200
	assert_json_eq .status failed
	assert_json_eq '[.rounds[].witness_jobs | tojson] | join(" ")' '{"failed":1} {} {} {}'
	assert_json_eq '[.rounds[].prover_jobs | tojson] | join(" ")' '{} {} {} {}'
	pl_get "/batches/$batch/proof"
	assert_status 404
	pl_get "/batches/$batch/jobs"
	assert_status 200
	assert_json_eq '.prover_jobs | length' 0
	assert_json_eq '[.witness_jobs[] | "\(.aggregation_round):\(.status)"] | join(",")' "0:failed"
	BASIC_ERROR=$(wg_json '.witness_jobs[0].error')
}
batch_failed() {
	[[ $(batch_status "$1") == failed ]]
}

pl_gen_input 10 --logs 40 --workload main_vm=20000 >"$WG_TMP/in10.json"
good_root=$(jq -r .new_root_hash "$WG_TMP/in10.json")
bad_root=0x$(printf 'ab%.0s' {1..32})
edit "$WG_TMP/in10.json" "$WG_TMP/bad-root.json" ".new_root_hash = \"$bad_root\""
pl_upload 10 "$WG_TMP/bad-root.json"
assert_status 201
wg_wait_until 60 batch_failed 10
failed_basic 10
assert_contains "$BASIC_ERROR" "storage_logs[39]" "bad root error names the last log"
assert_contains "${BASIC_ERROR,,}" "${good_root,,}" "bad root error names the computed root"
assert_contains "${BASIC_ERROR,,}" "$bad_root" "bad root error names new_root_hash"
pl_get /batches/10
assert_contains "$(wg_json '.errors | tojson')" "storage_logs[39]" "GET /batches/{n} lists the error"

# Tampered path: one sibling of log 3 changed. The replay breaks at log 3.
pl_gen_input 11 --logs 40 --workload main_vm=20000 >"$WG_TMP/in11.json"
assert_eq 1 "$(($(jq '.storage_logs[3].merkle_path | length' "$WG_TMP/in11.json") > 0))" "log 3 has a path"
edit "$WG_TMP/in11.json" "$WG_TMP/tampered.json" '.storage_logs[3].merkle_path[0] |=
	(.[0:65] + (if .[65:66] == "0" then "1" else "0" end))'
assert_ne "$(jq -c '.storage_logs[3].merkle_path' "$WG_TMP/in11.json")" \
	"$(jq -c '.storage_logs[3].merkle_path' "$WG_TMP/tampered.json")" "the path was changed"
pl_upload 11 "$WG_TMP/tampered.json"
assert_status 201
wg_wait_until 60 batch_failed 11
failed_basic 11
assert_contains "$BASIC_ERROR" "storage_logs[3]" "tampered path error names log 3"
# Both roots: the one the path gives and the root after log 2, which log 3 must start from.
root_after_2=$(jq -r '.storage_logs[2].root_hash' "$WG_TMP/in11.json")
assert_contains "${BASIC_ERROR,,}" "${root_after_2,,}" "tampered path error names the expected root"
assert_eq 2 "$(grep -o '0x[0-9a-fA-F]\{64\}' <<<"$BASIC_ERROR" | sort -u | wc -l)" "tampered path error names two roots"

# A wrong optional per-log root_hash (log 4) fails the replay at that log.
pl_gen_input 12 --logs 40 --workload main_vm=20000 >"$WG_TMP/in12.json"
edit "$WG_TMP/in12.json" "$WG_TMP/bad-log-root.json" ".storage_logs[4].root_hash = \"$bad_root\""
pl_upload 12 "$WG_TMP/bad-log-root.json"
assert_status 201
wg_wait_until 60 batch_failed 12
failed_basic 12
assert_contains "$BASIC_ERROR" "storage_logs[4]" "wrong root_hash error names log 4"
assert_contains "${BASIC_ERROR,,}" "$bad_root" "wrong root_hash error names the given root"
assert_contains "${BASIC_ERROR,,}" "$(jq -r '.storage_logs[4].root_hash | ascii_downcase' "$WG_TMP/in12.json")" \
	"wrong root_hash error names the computed root"

# ---------------------------------------------------------------- the same input, spelled otherwise
# Upper-case hex digits, reads without value_written, logs without the optional root_hash: each is
# accepted and its basic round replays the tree and makes the same circuits (4 main_vm, 2
# storage_application).
pl_gen_input 30 --logs 40 --workload main_vm=20000 >"$WG_TMP/in30.json"
edit "$WG_TMP/in30.json" "$WG_TMP/upper.json" 'def up: if type == "string" then "0x" + (.[2:] | ascii_upcase) else . end;
	.previous_root_hash |= up | .new_root_hash |= up |
	.storage_logs |= map(with_entries(if (.value | type) == "array" then .value |= map(up) else .value |= up end))'
assert_eq 0 "$(jq '[.. | nulls] | length' "$WG_TMP/upper.json")" "upper-casing added no nulls"
assert_ne "$(jq -c . "$WG_TMP/in30.json")" "$(jq -c . "$WG_TMP/upper.json")" "upper-case hex differs"
pl_upload 30 "$WG_TMP/upper.json"
assert_status 201
pl_gen_input 31 --logs 40 --workload main_vm=20000 >"$WG_TMP/in31.json"
edit "$WG_TMP/in31.json" "$WG_TMP/reads.json" '.storage_logs |= map(if .is_write then . else del(.value_written) end)'
assert_eq 1 "$(($(jq '[.storage_logs[] | select(has("value_written") | not)] | length' "$WG_TMP/reads.json") > 0))" \
	"some reads have no value_written"
pl_upload 31 "$WG_TMP/reads.json"
assert_status 201
pl_gen_input 32 --logs 40 --workload main_vm=20000 >"$WG_TMP/in32.json"
edit "$WG_TMP/in32.json" "$WG_TMP/no-roots.json" '.storage_logs |= map(del(.root_hash))'
pl_upload 32 "$WG_TMP/no-roots.json"
assert_status 201

# The failed batches stay failed; the valid ones are unaffected.
wg_wait_until 60 basic_done 6
# Each is the same input as the one it was spelt from: a re-upload of either spelling is 200
# "created": false; a root_hash added to the logs is a different input (it is checked), a 409.
before=$(stored)
for pair in "30 in30.json" "31 in31.json" "30 upper.json" "31 reads.json"; do
	read -r batch file <<<"$pair"
	pl_upload "$batch" "$WG_TMP/$file"
	assert_status 200
	assert_json_eq .created false
done
pl_upload 32 "$WG_TMP/in32.json"
assert_status 409
assert_error_code conflict
assert_eq "$before" "$(stored)" "nothing stored by the re-uploads"
assert_eq "30|1|4 30|10|2 31|1|4 31|10|2 32|1|4 32|10|2" "$(wg_psql "SELECT l1_batch_number, circuit_id, count(*)
	FROM prover_jobs WHERE l1_batch_number >= 30 GROUP BY 1, 2 ORDER BY 1, 2" | tr '\n' ' ' | sed 's/ $//')" \
	"the re-spelled inputs make their circuits"
assert_eq "failed|1 failed|1 failed|1" "$(wg_psql "SELECT status, attempts FROM basic_circuit_witness_jobs
	WHERE l1_batch_number IN (10, 11, 12) ORDER BY l1_batch_number" | tr '\n' ' ' | sed 's/ $//')" "still failed"
pl_get /batches
assert_json_eq '[.batches[] | "\(.l1_batch_number):\(.status)"] | join(" ")' \
	"1:in_progress 2:in_progress 3:in_progress 10:failed 11:failed 12:failed 30:in_progress 31:in_progress 32:in_progress"

# ---------------------------------------------------------------- exactly the capacity: 201
# 27,998 main_vm circuits and 2 storage_application circuits: 28,000, the limit itself. Run with
# the postgres store (28,000 files are slow to delete), by a daemon alone on the database.
wg_stop_daemon a
wg_start_daemon b --store postgres --max-body $MAX_BODY
pl_use b
pl_gen_input 20 --logs 34 --workload main_vm=$((5390 * 27998)) >"$WG_TMP/at-limit.json"
pl_upload 20 "$WG_TMP/at-limit.json"
assert_status 201
assert_json_eq .basic_circuits 28000
t0=$SECONDS
wg_wait_until 60 basic_done 7
assert_eq "1|27998 10|2" "$(wg_psql "SELECT circuit_id, count(*) FROM prover_jobs WHERE l1_batch_number = 20
	GROUP BY 1 ORDER BY 1" | tr '\n' ' ' | sed 's/ $//')" "batch 20: 28,000 basic circuits"
echo "# t_inputs: the basic round of 28,000 circuits took about $((SECONDS - t0)) s"
