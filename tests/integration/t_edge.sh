#!/bin/bash
# t_edge.sh: the HTTP edge (issue 8, items 1 to 4).
# - A refusal decided from the headers (401, 403, 404, 405, 415) while a body is on its way
#   is read by a client that writes its whole body before it reads (Python's http.client).
# - Body limits per route: claim, heartbeat and fail take 16 KiB, proofs --max-proof, inputs
#   --max-body, on the wire and after gzip.
# - Over-long URLs and headers get JSON 414 and 431.
# - --request-timeout ends clients that stall or drip their request, hundreds at a time, while a
#   prover still gets every answer in time; --max-connections-per-ip caps one address.
# - The token cache does not wait for a pool connection: with the pool held by a blocked handler,
#   a token is still checked at once.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
# Debian's own python3 (the PATH may hold another one), installed when missing.
PY=/usr/bin/python3
[[ -x $PY ]] || DEBIAN_FRONTEND=noninteractive apt-get install -y python3 >/dev/null
[[ -x $PY ]] || fail "/usr/bin/python3 could not be installed"
CLIENTS="$WG_SRCDIR/tests/integration/edge_clients.py"

# The 300 slow clients below come from one address: more than the default
# --max-connections-per-ip of 64, which daemon b checks.
wg_start_daemon a --request-timeout 3 --max-proof 4K --leaf-arity 4 --node-arity 2 --max-connections-per-ip 512
pl_use a
PORT=${WG_DAEMON_PORT[a]}
refused() {
	"$PY" "$CLIENTS" refused 127.0.0.1 "$PORT" "$@"
}

# ---------------------------------------------------------------- early refusals, read in full
assert_eq "401 unauthorized" "$(refused POST /batches/1/witness-inputs application/json wrong-token 4000000)" \
	"a 4 MB upload with a wrong token"
assert_eq "415 unsupported_media_type" "$(refused POST /batches/1/witness-inputs text/plain "$PL_TREE" 4000000)" \
	"a 4 MB upload with a wrong Content-Type"
assert_eq "403 forbidden" "$(refused POST /batches/1/witness-inputs application/json "$PL_PROVER" 4000000)" \
	"a 4 MB upload with another role's token"
assert_eq "404 not_found" "$(refused POST /no/such/path application/json "$PL_TREE" 4000000)" "a 4 MB body to no route"
assert_eq "405 method_not_allowed" "$(refused POST /batches application/json "$PL_ADMIN" 4000000)" \
	"a 4 MB body to a GET route"
# A Content-Length over the route's limit is answered at once, and the connection lingers: the
# body still arriving is read and thrown away before the socket is closed, so that a client that
# writes its whole body first still reads the 413 (README, Guarantees).
assert_eq "413 payload_too_large" "$(refused POST /jobs/claim application/json "$PL_PROVER" 4000000)" \
	"a 4 MB claim (limit 16 KiB)"
assert_eq "413 payload_too_large" "$(refused POST /proofs/1/complete application/octet-stream "$PL_PROVER" 20000000)" \
	"a 20 MB proof (limit --max-proof)"
assert_eq "0" "$(wg_psql "SELECT count(*) FROM basic_circuit_witness_jobs")" "the refused uploads stored nothing"
head -c 3000000 /dev/zero | tr '\0' ' ' >"$WG_TMP/big"
wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
	-H 'Expect:' --data-binary "@$WG_TMP/big"
assert_status 413
assert_error_code payload_too_large

# ---------------------------------------------------------------- limits per route
padded() { # padded BYTES JSON: JSON preceded by spaces, BYTES long in all
	{ head -c $(($1 - ${#2})) /dev/zero | tr '\0' ' '; printf '%s' "$2"; } >"$WG_TMP/padded"
}
claim_body="{\"prover_id\":\"t\",\"protocol_version\":$PL_PROTOCOL_VERSION}"
padded 16384 "$claim_body"
wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
	--data-binary "@$WG_TMP/padded"
assert_status 204
padded 16385 "$claim_body"
wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
	--data-binary "@$WG_TMP/padded"
assert_status 413
assert_contains "$HTTP_BODY" "16384 bytes for POST /jobs/claim"
# The same over chunked encoding (no Content-Length to refuse from): read, counted, refused, and
# readable by Python's http.client too.
wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
	-H 'Transfer-Encoding: chunked' --data-binary "@$WG_TMP/padded"
assert_status 413
# Far over the limit (the route's limit plus 1 MiB), a chunked body is cut: the connection closes.
wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
	-H 'Transfer-Encoding: chunked' --data-binary "@$WG_TMP/big"
assert_status 000
# Small on the wire, over the limit decoded.
padded 200000 "$claim_body"
gzip -c "$WG_TMP/padded" >"$WG_TMP/padded.gz"
wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
	-H 'Content-Encoding: gzip' --data-binary "@$WG_TMP/padded.gz"
assert_status 413
assert_contains "$HTTP_BODY" "decodes to more than the limit of 16384 bytes"
padded 17000 '{"error":"x"}'
wg_http POST "$PL_URL/proofs/1/fail" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
	-H 'X-WG-Lease: 1' --data-binary "@$WG_TMP/padded"
assert_status 413
wg_http POST "$PL_URL/jobs/1/heartbeat" -H "Authorization: Bearer $PL_PROVER" -H 'X-WG-Lease: 1' \
	--data-binary "@$WG_TMP/padded"
assert_status 413
head -c 4097 /dev/zero >"$WG_TMP/proof"
wg_http POST "$PL_URL/proofs/1/complete" -H "Authorization: Bearer $PL_PROVER" -H 'X-WG-Lease: 1' \
	-H 'Content-Type: application/octet-stream' --data-binary "@$WG_TMP/proof"
assert_status 413
assert_contains "$HTTP_BODY" "4096 bytes for POST /proofs/{id}/complete"
# Inputs keep --max-body: one far over 16 KiB is taken.
pl_gen_input 1 --logs 120 --workload main_vm=12000 >"$WG_TMP/in1.json"
(($(stat -c %s "$WG_TMP/in1.json") > 65536)) || fail "the input is not over 64 KiB"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201

# ---------------------------------------------------------------- JSON 414 and 431
wg_http GET "$PL_URL/batches/1?x=$(head -c 17000 /dev/zero | tr '\0' a)" -H "Authorization: Bearer $PL_VIEWER"
assert_status 414
assert_error_code bad_request
wg_http GET "$PL_URL/batches/1" -H "Authorization: Bearer $PL_VIEWER" -H "X-Big: $(head -c 34000 /dev/zero | tr '\0' a)"
assert_status 431
assert_error_code bad_request
# Far over libmicrohttpd's buffer the library answers itself, in HTML (README, Guarantees).
wg_http GET "$PL_URL/batches/1" -H "X-Big: $(head -c 70000 /dev/zero | tr '\0' a)"
assert_status 431

# ---------------------------------------------------------------- slow clients against a prover
# 200 clients stalled in their request line and 100 sending a header byte a second (each within
# the idle --connection-timeout of 30 s), from 127.0.0.2, reconnecting as they are closed.
"$PY" "$CLIENTS" slow 127.0.0.1 "$PORT" 127.0.0.2 200 100 14 >"$WG_TMP/slow.json" &
slow_pid=$!
sleep 1
WG_HTTP_TIMEOUT=5
proved_at=$SECONDS
n=0
while prove_one; do
	n=$((n + 1))
done
WG_HTTP_TIMEOUT=30
((n > 0)) || fail "nothing to prove"
wg_wait_until 60 eval 'while prove_one; do n=$((n + 1)); done; [[ $(batch_status 1) == proven ]]'
echo "# proved $n jobs and batch 1 in $((SECONDS - proved_at)) s among 300 slow clients"
wait "$slow_pid" || fail "the slow clients failed"
slow=$(cat "$WG_TMP/slow.json")
echo "# slow clients: $slow"
assert_eq true "$(jq '.longest_closed <= 5 and .oldest_open <= 5' <<<"$slow")" \
	"no slow client lived past --request-timeout 3 (+ 2 s): $slow"
assert_eq true "$(jq '.made >= 600' <<<"$slow")" "the slow clients were closed and came back: $slow"

# ---------------------------------------------------------------- connections per address
wg_start_daemon b --max-connections-per-ip 10
assert_eq 10 "$("$PY" "$CLIENTS" hold 127.0.0.1 "${WG_DAEMON_PORT[b]}" 127.0.0.3 20 1.5)" \
	"10 of 20 connections from one address refused"
wg_http GET "$(wg_url b)/healthz"
assert_status 200

# ---------------------------------------------------------------- token checks need no pool connection
# One pool connection, held by a handler blocked on a table lock; a token checked after the cache
# expired (1 s) is still answered at once (403 here, decided from the token alone).
wg_start_daemon c --db-pool 1
# Connect the cache and the pool first: preparing statements would wait for the lock too.
wg_http GET "$(wg_url c)/batches" -H "Authorization: Bearer $PL_VIEWER"
assert_status 200
wg_psql "BEGIN; LOCK TABLE basic_circuit_witness_jobs IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT" \
	>/dev/null &
lock_pid=$!
sleep 0.5
curl -s -o /dev/null --max-time 20 -H "Authorization: Bearer $PL_VIEWER" "$(wg_url c)/batches/1" &
blocked_pid=$!
sleep 1.5
start=$(date +%s%N)
wg_http GET "$(wg_url c)/batches" -H "Authorization: Bearer $PL_PROVER"
took=$((($(date +%s%N) - start) / 1000000))
assert_status 403
assert_eq 1 "$((took < 1000))" "the token was checked in $took ms"
wait "$lock_pid" "$blocked_pid"
