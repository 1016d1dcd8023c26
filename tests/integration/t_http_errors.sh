#!/bin/bash
# t_http_errors.sh: the errors the HTTP layer itself gives, before any handler runs: 404 unknown
# path, 405 wrong method, 400 bad id, 415 wrong content type or encoding, 413 over --max-body
# (by Content-Length, chunked, or once gzip is decoded), 400 broken gzip. Every error body is
# the API's {"error":{"code","message"}}, the daemon survives all of it and stores nothing.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"

wg_setup
max_body=4096
wg_start_daemon a --max-body "$max_body"
url=$(wg_url a)
admin=$(wg_token admin)
auth=(-H "Authorization: Bearer $admin")
json=(-H 'Content-Type: application/json')
upload="$url/batches/1/witness-inputs"

# assert_error STATUS CODE: the last answer is STATUS with an API error body (docs/api.md) of CODE and a
# non-empty message, sent as JSON.
assert_error() {
	assert_status "$1"
	assert_json_eq '.error | type' object
	assert_error_code "$2"
	assert_json_eq '.error.message | type' string
	assert_ne "" "$(wg_json '.error.message')" "$HTTP_METHOD $HTTP_URL: error message"
	assert_contains "$(wg_header Content-Type)" application/json "$HTTP_METHOD $HTTP_URL: Content-Type"
}

# body_of_size N FILE: N bytes of JSON-ish text ({"pad":"xxx…"}) in FILE.
body_of_size() {
	local n=$1 file=$2
	{
		printf '{"pad":"'
		head -c $((n - 10)) /dev/zero | tr '\0' x
		printf '"}'
	} >"$file"
	assert_eq "$n" "$(stat -c %s "$file")" "size of $file"
}

# ---------------------------------------------------------------- routing

for path in /nope /batches/1/nope /jobs /healthz/ /batches/ //batches /; do
	wg_http GET "$url$path" "${auth[@]}"
	assert_error 404 not_found
done
wg_http POST "$url/nope" "${auth[@]}" "${json[@]}" --data '{}'
assert_error 404 not_found
# Unknown paths are 404 without a token too: nothing about them is secret.
wg_http GET "$url/nope"
assert_error 404 not_found

# Wrong method: 405 with an Allow header listing what the path takes (RFC 9110 section 15.5.6).
wg_http PUT "$url/batches" "${auth[@]}"
assert_error 405 method_not_allowed
assert_contains "$(wg_header Allow)" GET "PUT /batches: Allow header"
wg_http GET "$url/jobs/claim" "${auth[@]}"
assert_error 405 method_not_allowed
assert_contains "$(wg_header Allow)" POST "GET /jobs/claim: Allow header"
wg_http GET "$upload" "${auth[@]}"
assert_error 405 method_not_allowed
assert_contains "$(wg_header Allow)" POST "GET witness-inputs: Allow header"
wg_http DELETE "$url/healthz"
assert_error 405 method_not_allowed

# Ids that are not decimal integers in 0..2^63-1.
for id in abc -1 1.5 0x10 9223372036854775808 99999999999999999999 1234567890123456789012345; do
	wg_http GET "$url/jobs/$id" "${auth[@]}"
	assert_status 400
	code=$(wg_json '.error.code')
	[[ $code == bad_request || $code == invalid_input ]] ||
		fail "GET /jobs/$id: error code '$code', expected bad_request or invalid_input"
	assert_ne "" "$(wg_json '.error.message')" "GET /jobs/$id: error message"
done
wg_http POST "$url/batches/x/witness-inputs" "${auth[@]}" "${json[@]}" --data '{}'
assert_status 400
assert_json_eq '.error.message | length > 0' true

# ---------------------------------------------------------------- content type and encoding

wg_http POST "$url/jobs/claim" "${auth[@]}" -H 'Content-Type: text/plain' --data '{"prover_id":"x"}'
assert_error 415 unsupported_media_type
wg_http POST "$url/jobs/claim" "${auth[@]}" --data '{"prover_id":"x"}' # curl's form type
assert_error 415 unsupported_media_type
wg_http POST "$url/jobs/claim" "${auth[@]}" -H 'Content-Type:' --data '{"prover_id":"x"}' # none at all
assert_error 415 unsupported_media_type
wg_http POST "$upload" "${auth[@]}" -H 'Content-Type: application/jsonx' --data '{}'
assert_error 415 unsupported_media_type
wg_http POST "$url/proofs/1/complete" "${auth[@]}" "${json[@]}" -H 'X-WG-Lease: 1' --data '{}'
assert_error 415 unsupported_media_type
wg_http POST "$upload" "${auth[@]}" "${json[@]}" -H 'Content-Encoding: br' --data '{}'
assert_error 415 unsupported_media_type
wg_http POST "$upload" "${auth[@]}" "${json[@]}" -H 'Content-Encoding: deflate' --data '{}'
assert_error 415 unsupported_media_type

# Parameters on the media type are fine; so is the identity encoding. These bodies parse as
# JSON, so the upload fails on its content (400), not on its type.
wg_http POST "$upload" "${auth[@]}" -H 'Content-Type: application/json; charset=utf-8' --data '{}'
assert_status 400
wg_http POST "$upload" "${auth[@]}" "${json[@]}" -H 'Content-Encoding: identity' --data '{}'
assert_status 400

# ---------------------------------------------------------------- body size

body_of_size $((max_body + 1)) "$WG_TMP/over.json"
body_of_size "$max_body" "$WG_TMP/limit.json"
body_of_size $((256 * 1024)) "$WG_TMP/far-over.json"

# By Content-Length: refused from the headers.
wg_http POST "$upload" "${auth[@]}" "${json[@]}" --data-binary "@$WG_TMP/over.json"
assert_error 413 payload_too_large
wg_http POST "$upload" "${auth[@]}" "${json[@]}" --data-binary "@$WG_TMP/far-over.json"
assert_error 413 payload_too_large
# Exactly the limit is accepted as a body (then refused as an input, which it is not).
wg_http POST "$upload" "${auth[@]}" "${json[@]}" --data-binary "@$WG_TMP/limit.json"
assert_status 400

# Chunked, so the size is known only while reading.
chunked=(-H 'Transfer-Encoding: chunked')
wg_http POST "$upload" "${auth[@]}" "${json[@]}" "${chunked[@]}" --data-binary "@$WG_TMP/over.json"
assert_error 413 payload_too_large
wg_http POST "$upload" "${auth[@]}" "${json[@]}" "${chunked[@]}" --data-binary "@$WG_TMP/far-over.json"
assert_error 413 payload_too_large
wg_http POST "$upload" "${auth[@]}" "${json[@]}" "${chunked[@]}" --data-binary "@$WG_TMP/limit.json"
assert_status 400

# Gzip: small on the wire, over the limit once decoded.
gzip -9 -c "$WG_TMP/far-over.json" >"$WG_TMP/bomb.json.gz"
(($(stat -c %s "$WG_TMP/bomb.json.gz") < max_body)) || fail "the compressed body is not under the limit"
gz=(-H 'Content-Encoding: gzip')
wg_http POST "$upload" "${auth[@]}" "${json[@]}" "${gz[@]}" --data-binary "@$WG_TMP/bomb.json.gz"
assert_error 413 payload_too_large
gzip -9 -c "$WG_TMP/over.json" >"$WG_TMP/over.json.gz"
wg_http POST "$upload" "${auth[@]}" "${json[@]}" "${gz[@]}" --data-binary "@$WG_TMP/over.json.gz"
assert_error 413 payload_too_large
wg_http POST "$upload" "${auth[@]}" "${json[@]}" "${gz[@]}" "${chunked[@]}" --data-binary "@$WG_TMP/bomb.json.gz"
assert_error 413 payload_too_large

# Gzip that decodes: at the limit it is a body like any other; '{}' parses and is then an
# invalid input, which shows that the daemon did decode it.
gzip -9 -c "$WG_TMP/limit.json" >"$WG_TMP/limit.json.gz"
wg_http POST "$upload" "${auth[@]}" "${json[@]}" "${gz[@]}" --data-binary "@$WG_TMP/limit.json.gz"
assert_status 400
printf '{}' | gzip -c >"$WG_TMP/empty-object.json.gz"
wg_http POST "$upload" "${auth[@]}" "${json[@]}" "${gz[@]}" --data-binary "@$WG_TMP/empty-object.json.gz"
assert_error 400 invalid_input

# Broken gzip: not gzip at all, truncated, damaged, or followed by garbage.
printf 'this is not gzip' >"$WG_TMP/not.gz"
wg_http POST "$upload" "${auth[@]}" "${json[@]}" "${gz[@]}" --data-binary "@$WG_TMP/not.gz"
assert_error 400 bad_request
printf '{"l1_batch_number":1}' | gzip -c >"$WG_TMP/small.gz"
size=$(stat -c %s "$WG_TMP/small.gz")
head -c $((size - 6)) "$WG_TMP/small.gz" >"$WG_TMP/truncated.gz"
wg_http POST "$upload" "${auth[@]}" "${json[@]}" "${gz[@]}" --data-binary "@$WG_TMP/truncated.gz"
assert_error 400 bad_request
{
	head -c 12 "$WG_TMP/small.gz"
	printf '\377\377\377\377\377\377'
	tail -c +19 "$WG_TMP/small.gz"
} >"$WG_TMP/damaged.gz"
wg_http POST "$upload" "${auth[@]}" "${json[@]}" "${gz[@]}" --data-binary "@$WG_TMP/damaged.gz"
assert_error 400 bad_request
{
	cat "$WG_TMP/small.gz"
	printf 'garbage'
} >"$WG_TMP/trailing.gz"
wg_http POST "$upload" "${auth[@]}" "${json[@]}" "${gz[@]}" --data-binary "@$WG_TMP/trailing.gz"
assert_error 400 bad_request

# A body that is not JSON at all.
wg_http POST "$upload" "${auth[@]}" "${json[@]}" --data 'not json {'
assert_error 400 bad_request

# ---------------------------------------------------------------- afterwards

wg_http GET "$url/healthz"
assert_status 200
wg_http GET "$url/readyz"
assert_status 200
wg_http GET "$url/batches" "${auth[@]}"
assert_status 200
assert_json_eq '.batches | length' 0
for table in basic_circuit_witness_jobs leaf_aggregation_jobs node_aggregation_jobs scheduler_witness_jobs \
	prover_jobs blobs; do
	assert_eq 0 "$(wg_psql "select count(*) from $table")" "rows in $table"
done
stored=$(find "$WG_TMP/store-a" -type f 2>/dev/null | wc -l)
assert_eq 0 "$stored" "files in the object store"
