#!/bin/bash
# t_harness.sh: the integration harness itself, against PostgreSQL only (no daemon):
# a throwaway cluster, SQL through wg_psql, an outage and a restart, and the
# HTTP and assertion helpers.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"

wg_setup

# The cluster answers, as the database the conninfo names, over TCP only.
assert_eq 1 "$(wg_psql 'select 1')" "select 1"
assert_eq wg "$(wg_psql 'select current_database()')" "database name"
assert_contains "$WG_DB" "host=127.0.0.1 " "conninfo host"
assert_eq "" "$(wg_psql "select setting from pg_settings where name = 'unix_socket_directories'")" \
	"no Unix socket"
assert_eq 127.0.0.1 "$(wg_psql "select setting from pg_settings where name = 'listen_addresses'")" \
	"listen address"

# Several statements, one result row each; data survives a restart.
assert_eq $'2\n3' "$(wg_psql 'select 2' 'select 3')" "two statements"
wg_psql 'create table harness (n int primary key)' "insert into harness values (7)"
assert_eq 7 "$(wg_psql 'select n from harness')" "row written"

# A database outage: psql fails while the cluster is down, then works again.
wg_pg_stop
wg_pg_stop # stopping a stopped cluster is a no-op
if wg_psql 'select 1' >/dev/null 2>&1; then
	fail "psql succeeded while the cluster was stopped"
fi
wg_pg_start
wg_pg_start # starting a running cluster is a no-op
assert_eq 1 "$(wg_psql 'select 1')" "select 1 after restart"
assert_eq 7 "$(wg_psql 'select n from harness')" "row kept across restart"

# SQL errors stop psql with a non-zero status.
if wg_psql 'select * from no_such_table' >/dev/null 2>&1; then
	fail "wg_psql did not fail on an SQL error"
fi

# Free ports are in range and nothing listens on them.
port=$(wg_free_port)
if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 20000 || port > 60000)); then
	fail "bad free port $port"
fi
assert_ne "$port" "$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$WG_DB")" "free port is not the cluster's"

# A request nobody answers has status 000; JSON assertions read the body file.
wg_http GET "http://127.0.0.1:$port/healthz" 2>/dev/null
assert_status 000
echo '{"error":{"code":"not_found","message":"no such batch"},"n":3}' >"$HTTP_BODY_FILE"
assert_error_code not_found
assert_json_eq .n 3
assert_eq "no such batch" "$(wg_json .error.message)" "wg_json"

# A failing assertion ends the (sub)shell with status 1 and a message.
rc=0
(assert_eq a b "deliberate mismatch") 2>"$WG_TMP/fail.txt" || rc=$?
assert_eq 1 "$rc" "failing assertion exit status"
assert_contains "$(cat "$WG_TMP/fail.txt")" "deliberate mismatch: expected 'a', got 'b'" "failure message"

# A test that asserts nothing fails, with or without wg_setup.
for body in '' 'wg_setup'; do
	printf '. "%s/tests/integration/lib.sh"\n%s\n' "$WG_SRCDIR" "$body" >"$WG_TMP/t_empty.sh"
	rc=0
	bash "$WG_TMP/t_empty.sh" >"$WG_TMP/empty.out" 2>&1 || rc=$?
	assert_eq 1 "$rc" "exit status of a test without assertions (${body:-no setup})"
	assert_contains "$(cat "$WG_TMP/empty.out")" "the test made no assertion" "its message"
done

# wg_wait_until retries a command until it succeeds.
: >"$WG_TMP/flag-later"
(sleep 0.5 && echo ready >"$WG_TMP/flag-later") &
wg_wait_until 10 grep -q ready "$WG_TMP/flag-later"
assert_eq ready "$(cat "$WG_TMP/flag-later")" "wg_wait_until"
