#!/bin/bash
# t_s3_sign.sh: what the s3 store sends, read by a local server that records requests
# (tests/tools/s3_recorder.py), since s3rver checks the form of a signature but not the secret.
# 1. Settings from every source (endpoint from the config file, region from WG_S3_REGION) and the
#    credentials from AWS_*: every request carries an AWS4-HMAC-SHA256 Authorization whose scope
#    names the access key, the region and the s3 service, and whose SignedHeaders include host,
#    x-amz-content-sha256, x-amz-date and x-amz-security-token; x-amz-content-sha256 is the SHA-256
#    of the body; keys are path-style and encoded per segment; a witness download is a Range GET
#    of its slice; the secret appears in no header and not in the daemon's log.
# 2. DELETE /batches/N lists the prefix page by page (continuation tokens) and deletes each key.
# 3. A 403: an upload refused by the store is a 502 store_denied; a basic round refused its
#    input fails its job with the reason once, without retrying or claiming it again.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup
wg__require_tool python3

SECRET='wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY'
TOKEN='session-token-of-the-test'
export AWS_ACCESS_KEY_ID=AKIATESTSIGNING AWS_SECRET_ACCESS_KEY=$SECRET AWS_SESSION_TOKEN=$TOKEN
mkdir -p "$WG_TMP/rec"
wg__take_port REC_PORT
S3_RECORDER_SECRET=$SECRET python3 "$WG_SRCDIR/tests/tools/s3_recorder.py" "$REC_PORT" "$WG_TMP/rec" 2>"$WG_TMP/recorder.log" &
REC_PID=$!
stop_recorder() { kill "$REC_PID" 2>/dev/null; wait "$REC_PID" 2>/dev/null || true; }
wg_on_exit stop_recorder
rec_up() { [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REC_PORT/b/x") == 404 ]]; }
wg_wait_until 10 rec_up
: >"$WG_TMP/rec/requests.jsonl"
REQS=$WG_TMP/rec/requests.jsonl

printf 's3-endpoint = http://127.0.0.1:%s/\n' "$REC_PORT" >"$WG_TMP/wg.conf"
# --cache-bytes 0: packs are still spooled and sent from a file, but none is kept, so that the
# witness download is a Range GET of the bucket (the pack cache: t_pack_cache.sh).
WG_S3_REGION=eu-west-3 wg_start_daemon a --config "$WG_TMP/wg.conf" --store 's3://wg-bucket/team a+b' --cache-bytes 0
pl_use a
ENC_PREFIX='/wg-bucket/team%20a%2Bb'

# 1. An upload, its basic round, and a witness download.
pl_gen_input 1 --logs 10 --workload main_vm=$((5390 * 2)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
basic_done() { [[ $(wg_psql "select status from basic_circuit_witness_jobs where l1_batch_number = 1") == successful ]]; }
wg_wait_until 20 basic_done
pl_claim
assert_status 200
read -r off len < <(wg_psql "select witness_offset || ' ' || witness_length from prover_jobs where id = $PL_JOB_ID")
pl_witness "$PL_JOB_ID" "$WG_TMP/w"
assert_eq "$len" "$(stat -c %s "$WG_TMP/w")" "the witness download's length"

input_sha=$(sha256sum "$WG_TMP/in1.json" | cut -d' ' -f1)
# The input's key is named by the digest of the input's canonical form (a re-upload serialised
# otherwise is the same input), which the row records.
key_sha=$(wg_psql "SELECT encode(input_sha256, 'hex') FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1")
empty_sha=$(printf '' | sha256sum | cut -d' ' -f1)
assert_eq "PUT $ENC_PREFIX/batches/1/input-${key_sha:0:16}.json $input_sha" \
	"$(jq -r 'select(.method == "PUT" and (.path | contains("/input-"))) | "\(.method) \(.path) \(.headers["x-amz-content-sha256"])"' "$REQS")" \
	"the input's PUT: path-style, each segment encoded, the body's SHA-256 signed along"
assert_eq "$input_sha" "$(jq -r 'select(.method == "PUT" and (.path | contains("/input-"))) | .body_sha256' "$REQS")" \
	"the input's body as received"
pack_put=$(jq -r 'select(.method == "PUT" and (.path | endswith(".pack"))) | "\(.path) \(.headers["x-amz-content-sha256"]) \(.body_sha256)"' "$REQS")
read -r pack_path pack_claimed pack_real <<<"$pack_put"
basic_pack=$(wg_psql "SELECT DISTINCT lpad(to_hex(witness_pack_id), 16, '0') FROM prover_jobs
	WHERE l1_batch_number = 1 AND aggregation_round = 0")
assert_eq "$ENC_PREFIX/batches/1/r0/c0/d0/p$basic_pack.pack" "$pack_path" "the basic round's pack key"
assert_eq "$pack_real" "$pack_claimed" "x-amz-content-sha256 of the pack's PUT is the SHA-256 of its body"
assert_eq "bytes=$off-$((off + len - 1))" \
	"$(jq -r 'select(.method == "GET" and (.path | endswith(".pack"))) | .headers.range' "$REQS" | tail -n 1)" \
	"the witness download's Range"
assert_eq "$empty_sha" "$(jq -r 'select(.method == "GET") | .headers["x-amz-content-sha256"]' "$REQS" | sort -u)" \
	"x-amz-content-sha256 of a GET is the SHA-256 of an empty body"
assert_eq "$TOKEN" "$(jq -r '.headers["x-amz-security-token"]' "$REQS" | sort -u)" "x-amz-security-token"
# Authorization: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=HEX
# A header that does not match at all is reported too (capture alone would skip it).
bad=$(jq -r --arg key "$AWS_ACCESS_KEY_ID" '.headers.authorization // "(none)"
	| "^AWS4-HMAC-SHA256 Credential=(?<k>[^/]*)/(?<d>[0-9]{8})/(?<r>[^/]*)/(?<s>[^/]*)/aws4_request, SignedHeaders=(?<h>[^,]*), Signature=[0-9a-f]{64}$" as $re
	| select((if test($re) then capture($re) | .k == $key and .r == "eu-west-3" and .s == "s3"
			and ((.h | split(";")) as $h | ["host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"]
				| all(. as $x | $h | index($x)))
		else false end) | not)' "$REQS")
assert_eq "" "$bad" "Authorization headers without the expected scope and signed headers"
# A header signed but not sent would fail every signature check of a real S3.
unsent=$(jq -r '.headers as $h | .headers.authorization | capture("SignedHeaders=(?<s>[^,]*)").s | split(";")[]
	| select($h[.] == null)' "$REQS" | sort -u)
assert_eq "" "$unsent" "headers signed but not sent"
assert_eq 1 "$(($(wc -l <"$REQS") >= 4))" "requests recorded ($(wc -l <"$REQS"))"
assert_eq "" "$(jq -r 'select(.signature_ok | not) | "\(.method) \(.path)"' "$REQS")" \
	"requests whose SigV4 signature does not verify with the secret"
assert_eq 0 "$(grep -c -F "$SECRET" "$REQS" || true)" "the secret in a request"
assert_eq 0 "$(grep -c -F "$SECRET" "$WG_TMP/a.log" || true)" "the secret in the daemon's log"

# 2. Deletion: the bucket holds the input and the pack; listed one key a page.
: >"$REQS"
wg_http DELETE "$PL_URL/batches/1" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
assert_eq 1 "$(grep -c 'continuation-token=' "$REQS")" "a second listing page asked with the continuation token"
assert_eq "$ENC_PREFIX/batches/1/input-${key_sha:0:16}.json $ENC_PREFIX/batches/1/r0/c0/d0/p$basic_pack.pack" \
	"$(jq -r 'select(.method == "DELETE") | .path' "$REQS" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"one DELETE per key of the batch"
assert_eq "" "$(jq -r 'select(.signature_ok | not) | "\(.method) \(.path)"' "$REQS")" \
	"listings and deletions whose signature does not verify"
assert_eq "prefix=team%20a%2Bb%2Fbatches%2F1%2F" \
	"$(jq -r 'select(.method == "GET") | .path' "$REQS" | head -n 1 | grep -o 'prefix=.*')" "the listing's prefix"

# 3. 403.
echo ALL >"$WG_TMP/rec/deny"
pl_gen_input 2 --logs 10 --workload main_vm=5390 >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 502
assert_error_code store_denied
echo GET >"$WG_TMP/rec/deny"
: >"$REQS"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
failed() { [[ $(wg_psql "select status from basic_circuit_witness_jobs where l1_batch_number = 1") == failed ]]; }
wg_wait_until 20 failed
assert_eq "1|the object store refused access (403): check the credentials and bucket policy" \
	"$(wg_psql "select attempts || '|' || error from basic_circuit_witness_jobs where l1_batch_number = 1")" \
	"the basic job's attempts and error"
sleep 2
assert_eq 1 "$(jq -r 'select(.method == "GET" and (.path | contains("/input-")))' "$REQS" | grep -c '"method"')" \
	"GETs of the refused input (no retry, no new claim)"
pl_get /batches/1
assert_json_eq .status failed
assert_contains "$(cat "$WG_TMP/a.log")" "AccessDenied" "the S3 error code in the log"
