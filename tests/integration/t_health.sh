#!/bin/bash
# t_health.sh: liveness and readiness across a database outage. While the cluster is stopped,
# /readyz is 503 unavailable, /healthz stays 200, the daemon stays up and routes that need the
# database answer 503 unavailable promptly (no crash, no hang, no 401); once the cluster is back,
# everything works again without restarting the daemon.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"

wg_setup
wg_start_daemon a
url=$(wg_url a)
pid=$(wg_daemon_pid a)
admin=$(wg_token admin)
viewer=$(wg_token viewer)
auth=(-H "Authorization: Bearer $admin")

# A request that must answer within a few seconds: curl gives up after 10 s (status 000).
WG_HTTP_TIMEOUT=10

# timed_http METHOD URL [CURL ARGS...]: wg_http, failing the test if the answer took 10 s or more.
timed_http() {
	local start=$SECONDS
	wg_http "$@"
	if ((SECONDS - start >= 10)); then
		fail "$1 $2 took $((SECONDS - start)) s to answer"
	fi
}

# assert_error_body CODE: the last body is an API error (docs/api.md) with this code and some message.
assert_error_body() {
	assert_error_code "$1"
	assert_ne "" "$(wg_json '.error.message // ""')" "$HTTP_METHOD $HTTP_URL: error message"
}

# assert_daemon_alive WHEN: the daemon process exists and is not a zombie.
assert_daemon_alive() {
	local state=gone stat
	if stat=$(cat "/proc/$pid/stat" 2>/dev/null); then
		stat=${stat##*) }
		state=${stat%% *}
	fi
	assert_ne gone "$state" "daemon process $1"
	assert_ne Z "$state" "daemon process (zombie) $1"
}

# ---------------------------------------------------------------- healthy

timed_http GET "$url/healthz"
assert_status 200
timed_http GET "$url/readyz"
assert_status 200
timed_http GET "$url/batches" "${auth[@]}"
assert_status 200
assert_json_eq '.batches | type' array

# ---------------------------------------------------------------- outage

wg_pg_stop
if wg_psql 'select 1' >/dev/null 2>&1; then
	fail "the cluster still answers after wg_pg_stop"
fi

# Right after the outage begins (the token cache may still be fresh) and again once it has
# expired (the token itself cannot be checked): 503 unavailable either way, never 401 or 500.
for phase in fresh expired; do
	[[ $phase == expired ]] && sleep 1.5

	timed_http GET "$url/readyz"
	assert_status 503
	assert_error_body unavailable
	assert_eq application/json "$(wg_header Content-Type)" "readyz Content-Type"

	timed_http GET "$url/healthz"
	assert_status 200

	timed_http GET "$url/batches" "${auth[@]}"
	assert_status 503
	assert_error_body unavailable
	timed_http GET "$url/batches/1" -H "Authorization: Bearer $viewer"
	assert_status 503
	assert_error_body unavailable
	timed_http POST "$url/jobs/claim" "${auth[@]}" -H 'Content-Type: application/json' \
		--data '{"prover_id":"health-test","protocol_version":24}'
	assert_status 503
	assert_error_body unavailable

	# What needs no database still works: routing and the token's presence.
	timed_http GET "$url/no-such-path"
	assert_status 404
	assert_error_body not_found
	timed_http GET "$url/batches"
	assert_status 401
	assert_error_body unauthorized

	assert_daemon_alive "after requests during the outage ($phase)"
done

# Still up a while later (round workers and housekeeping meet the outage too).
sleep 2
assert_daemon_alive "2 s into the outage"
timed_http GET "$url/healthz"
assert_status 200
timed_http GET "$url/readyz"
assert_status 503
assert_error_body unavailable

# ---------------------------------------------------------------- recovery

wg_pg_start
ready() {
	wg_http GET "$url/readyz"
	[[ $HTTP_STATUS == 200 ]]
}
wg_wait_until 10 ready
assert_status 200

# Every request works again: none may fail on a connection left over from before the outage.
for _ in 1 2 3 4 5 6; do
	timed_http GET "$url/batches" "${auth[@]}"
	assert_status 200
	assert_json_eq '.batches | type' array
	timed_http GET "$url/readyz"
	assert_status 200
done
timed_http GET "$url/batches/1" -H "Authorization: Bearer $viewer"
assert_status 404
assert_error_body not_found

# Tokens made after the outage work too (the token cache reloads).
viewer2=$(wg_token viewer)
viewer2_ok() {
	wg_http GET "$url/batches" -H "Authorization: Bearer $viewer2"
	[[ $HTTP_STATUS == 200 ]]
}
wg_wait_until 5 viewer2_ok
assert_status 200
assert_daemon_alive "after the outage"
assert_eq "$pid" "$(wg_daemon_pid a)" "same daemon process"
