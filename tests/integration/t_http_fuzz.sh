#!/bin/bash
# t_http_fuzz.sh: the HTTP request path under random bytes. tests/tools/http_fuzz.py sends 400
# mutated requests (from valid requests of every kind, with and without a valid token) over raw
# sockets, 8 at a time. Every answer must be an HTTP/1.x status line and none a 500, and every
# connection must be answered or closed within the fuzzer's 10 s (a timeout is a failure): the
# daemon runs with --request-timeout 3, by which it ends any request, complete or not; afterwards
# the daemon is the same process, answers /healthz and /readyz, and serves a valid request.
# The seed is printed; WG_FUZZ_SEED repeats a run. First the fuzzer is pointed at a listener that
# accepts and never answers, and must report that as a failure.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
wg_setup
command -v python3 >/dev/null || apt-get -y install python3 >/dev/null

# A server that holds every connection open and says nothing: the fuzzer must fail on it.
silent_port=$(wg_free_port)
python3 -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
while True:
    held.append(s.accept()[0])' "$silent_port" &
silent_pid=$! # a background job: the harness ends it if the test fails before the kill below
wg_wait_until 10 eval "(exec 3<>/dev/tcp/127.0.0.1/$silent_port) 2>/dev/null"
rc=0
python3 "$WG_SRCDIR/tests/tools/http_fuzz.py" 127.0.0.1 "$silent_port" x 1 2 1 >"$WG_TMP/silent.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "http_fuzz.py against a server that never answers: $(cat "$WG_TMP/silent.out")"
assert_contains "$(cat "$WG_TMP/silent.out")" "no answer and no close within 1 s" "http_fuzz.py's report"
kill "$silent_pid"
wait "$silent_pid" 2>/dev/null || true
wg__pass

# The client half-closes its side once a request is sent, but the daemon does not act on that: a
# request cut short waits for the rest, and an answered one for the next, until --request-timeout.
wg_start_daemon a --request-timeout 3 --connection-timeout 3
pid=$(wg_daemon_pid a)
admin=$(wg_token admin)
port=${WG_URL_A##*:}
seed=${WG_FUZZ_SEED:-$RANDOM}
echo "# seed $seed"
rc=0
python3 "$WG_SRCDIR/tests/tools/http_fuzz.py" 127.0.0.1 "$port" "$admin" "$seed" 400 >"$WG_TMP/fuzz.out" 2>&1 || rc=$?
cat "$WG_TMP/fuzz.out"
assert_eq 0 "$rc" "http_fuzz.py (seed $seed): $(grep FAIL "$WG_TMP/fuzz.out" | head -n 3)"
assert_contains "$(cat "$WG_TMP/fuzz.out")" "# 4xx: " "the fuzzer reached the handlers"

wg__alive "$pid" || fail "the daemon died under the fuzzer"
assert_eq "$pid" "$(wg_daemon_pid a)" "the daemon's pid"
wg_http GET "$WG_URL_A/healthz"
assert_status 200
wg_http GET "$WG_URL_A/readyz"
assert_status 200
wg_http GET "$WG_URL_A/batches" -H "Authorization: Bearer $admin"
assert_status 200
