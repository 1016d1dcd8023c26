#!/bin/bash
# t_nosniff.sh: every reply carries X-Content-Type-Options: nosniff (docs/api.md). A sweep over
# every route of src/http/routes.c (read from the source, so a new route is swept too), with and
# without a token, with a role that may not call it, with HEAD and with a wrong method, and the
# refusals the HTTP layer makes before any handler runs: 404, 405, 400 bad id, 401, 403, 415, 413
# declared, 413 of a chunked body or before 100-continue, a 401 held while its body arrives, and
# 414/431 of our own limits.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"

wg_setup
wg_start_daemon a --max-body 4096
url=$(wg_url a)
admin=$(wg_token admin)
viewer=$(wg_token viewer)
json=(-H 'Content-Type: application/json')
swept=0

# nosniff WHAT: the last reply (any status but none) carries the header.
nosniff() {
	[[ $HTTP_STATUS != 000 ]] || fail "$1: no reply"
	assert_eq nosniff "$(wg_header X-Content-Type-Options)" "$1 ($HTTP_STATUS): X-Content-Type-Options"
	swept=$((swept + 1))
}

# The route table: one {"METHOD", "/pattern", ...} per line.
mapfile -t routes < <(sed -n 's/^ *{"\([A-Z]*\)", "\(\/[^"]*\)".*/\1 \2/p' "$WG_SRCDIR/src/http/routes.c")
((${#routes[@]} >= 20)) || fail "only ${#routes[@]} routes read from src/http/routes.c"
wg__pass

declare -A seen_status
for route in "${routes[@]}"; do
	method=${route%% *} pattern=${route#* }
	path=$pattern
	path=${path//\{n\}/1}
	path=${path//\{id\}/1}
	path=${path//\{round\}/basic}
	body=()
	case $pattern in
	/proofs/*/complete) body=(-H 'Content-Type: application/octet-stream' --data-binary WGREF1) ;;
	/jobs/claim) body=("${json[@]}" --data '{"prover_id":"sweep"}') ;;
	*/fail) body=("${json[@]}" --data '{"error":"sweep"}') ;;
	*/witness-inputs) body=("${json[@]}" --data '{}') ;;
	esac
	wg_http "$method" "$url$path" -H "Authorization: Bearer $admin" ${body[@]+"${body[@]}"}
	nosniff "$method $path as admin"
	seen_status[$HTTP_STATUS]=1
	wg_http "$method" "$url$path" ${body[@]+"${body[@]}"}
	nosniff "$method $path without a token"
	seen_status[$HTTP_STATUS]=1
	wg_http "$method" "$url$path" -H "Authorization: Bearer not-a-token" ${body[@]+"${body[@]}"}
	nosniff "$method $path with an unknown token"
	wg_http "$method" "$url$path" -H "Authorization: Bearer $viewer" ${body[@]+"${body[@]}"}
	nosniff "$method $path as viewer"
	seen_status[$HTTP_STATUS]=1
	if [[ $method == GET ]]; then
		wg_http HEAD "$url$path" -H "Authorization: Bearer $admin"
		nosniff "HEAD $path"
		wg_http PATCH "$url$path" -H "Authorization: Bearer $admin"
		assert_status 405
		nosniff "PATCH $path"
	fi
done
# The sweep met the empty and error replies too, not only 200s.
for code in 200 400 401 403 404; do
	[[ -n ${seen_status[$code]:-} ]] || fail "the route sweep met no $code reply (met: ${!seen_status[*]})"
	wg__pass
done

# An empty reply.
wg_http POST "$url/jobs/claim" -H "Authorization: Bearer $(wg_token prover)" "${json[@]}" \
	--data '{"prover_id":"sweep","protocol_version":24}'
assert_status 204
nosniff "204"

# ---------------------------------------------------------------- refusals before any handler
auth=(-H "Authorization: Bearer $admin")
wg_http GET "$url/nope" "${auth[@]}"
assert_status 404
nosniff "404"
wg_http PUT "$url/batches" "${auth[@]}"
assert_status 405
nosniff "405"
wg_http GET "$url/jobs/x1" "${auth[@]}"
assert_status 400
nosniff "400 bad id"
wg_http POST "$url/jobs/claim" "${auth[@]}" -H 'Content-Type: text/plain' --data x
assert_status 415
nosniff "415"
head -c 100000 /dev/zero | tr '\0' x >"$WG_TMP/big"
# Declared over the limit: refused at once, the body drained by a lingering close.
wg_http POST "$url/batches/1/witness-inputs" "${auth[@]}" "${json[@]}" --data-binary @"$WG_TMP/big"
assert_status 413
nosniff "413 declared"
# A refusal held while its body arrives (a wrong token with a body).
wg_http POST "$url/jobs/claim" -H "Authorization: Bearer nope" "${json[@]}" --data '{"prover_id":"x"}'
assert_status 401
nosniff "401 held"
# Chunked: the limit is found while reading.
wg_http POST "$url/batches/1/witness-inputs" "${auth[@]}" "${json[@]}" -H 'Transfer-Encoding: chunked' \
	--data-binary @"$WG_TMP/big"
assert_status 413
nosniff "413 chunked"
wg_http POST "$url/batches/1/witness-inputs" "${auth[@]}" "${json[@]}" -H 'Expect: 100-continue' \
	--data-binary @"$WG_TMP/big"
assert_status 413
nosniff "413 before 100-continue"
wg_http GET "$url/batches?x=$(head -c 20000 /dev/zero | tr '\0' a)" "${auth[@]}"
assert_status 414
nosniff "414"
wg_http GET "$url/batches" "${auth[@]}" -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)"
assert_status 431
nosniff "431"
wg_http GET "$url/ui"
assert_status 200
nosniff "the dashboard"
wg_http GET "$url/metrics"
assert_status 200
nosniff "/metrics"

echo "# $swept replies checked"
((swept >= 5 * ${#routes[@]})) || fail "only $swept replies checked"
wg__pass
