#!/bin/bash
# t_http_fuzz.sh: the HTTP request path under random bytes. tests/tools/http_fuzz.py sends 400
# mutated requests (from valid requests of every kind, with and without a valid token) over raw
# sockets, 8 at a time. Every answer must be an HTTP/1.x status line and none a 500; afterwards
# the daemon is the same process, answers /healthz and /readyz, and serves a valid request.
# The seed is printed; WG_FUZZ_SEED repeats a run.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
wg_setup
command -v python3 >/dev/null || apt-get -y install python3 >/dev/null
wg_start_daemon a
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
