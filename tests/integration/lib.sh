# shellcheck shell=bash
# lib.sh: the integration test harness, sourced by tests/integration/t_*.sh.
#
# Every test gets its own temp dir, its own PostgreSQL cluster on its own port
# and its own daemons, so tests can run in parallel. Everything is torn down by
# an EXIT trap. A test that cannot set up PostgreSQL fails (exit 1); it never
# skips. Set WG_KEEP=1 to keep the temp dir (logs, store, cluster) for a look.
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT in Makefile.am):
#   WG_BUILDDIR  build dir holding witness-generator, wgctl and wg-prover
#   WG_SRCDIR    source dir (defaults to the one holding this file)
#   PG_BINDIR    PostgreSQL server binaries (optional, see contrib/pg-cluster.sh)
#   WG_KEEP=1    keep $WG_TMP after the test
#   WG_PG_FAST=0 run the cluster with fsync on (default: fsync, synchronous_commit
#                and full_page_writes off)
#   WG_TEST_TIMEOUT  seconds before the whole test is stopped (default 900, 0 = none)
#   WG_TOOL_CACHE    where tools the tests fetch with npm are kept, one directory per tool and
#                version (default $XDG_CACHE_HOME/witness-generator-tests, else
#                ~/.cache/witness-generator-tests): outside the build tree, so that
#                `make distclean` leaves none behind and build trees share one download
#
# A test looks like:
#   #!/bin/bash
#   . "$WG_SRCDIR/tests/integration/lib.sh"
#   wg_setup
#   wg_start_daemon a
#   admin=$(wg_token admin)
#   wg_http GET "$(wg_url a)/batches" -H "Authorization: Bearer $admin"
#   assert_status 200
#
# Sourcing this file turns on `set -eEuo pipefail`: an unexpected failure ends
# the test, naming the command and line. Call the helpers directly, not inside
# $(...), except those that print a value (wg_url, wg_token, wg_json, wg_psql,
# wg_free_port), since a subshell cannot record daemons, counters or HTTP_*.

set -eEuo pipefail

WG_SRCDIR=${WG_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
WG_BUILDDIR=${WG_BUILDDIR:-$WG_SRCDIR}
export WG_SRCDIR WG_BUILDDIR
WG_TOOL_CACHE=${WG_TOOL_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/witness-generator-tests}
export WG_TOOL_CACHE

WG_PG_CLUSTER="$WG_SRCDIR/contrib/pg-cluster.sh"
WG_TEST_NAME=$(basename "$0" .sh)
WG_TMP=
WG_PGDIR=
WG_DB=
WG_ASSERTIONS=0
WG_SETUP_DONE=0
declare -gA WG_DAEMON_PID=()  # name -> pid of a daemon started and not yet stopped
declare -gA WG_DAEMON_PORT=() # name -> its listen port (kept across restarts)
declare -ga WG_USED_PORTS=()  # ports handed out by this test
declare -ga WG_EXIT_HOOKS=()  # commands run first at exit (wg_on_exit)
HTTP_STATUS=
HTTP_BODY=
HTTP_METHOD=
HTTP_URL=
HTTP_BODY_FILE=
HTTP_HEADERS_FILE=

# ---------------------------------------------------------------- failures

# fail MSG: end the test with a message.
fail() {
	echo "FAIL [$WG_TEST_NAME]: $*" >&2
	exit 1
}

wg__on_err() {
	local rc=$1 line=$2 cmd=$3
	# Only the main shell reports; a failing $(...) is reported by its caller.
	if ((BASH_SUBSHELL == 0)); then
		echo "FAIL [$WG_TEST_NAME]: command failed (status $rc) at ${BASH_SOURCE[1]:-?}:$line: $cmd" >&2
	fi
}
trap 'wg__on_err $? $LINENO "$BASH_COMMAND"' ERR
# Even a test that never calls wg_setup is judged at exit (it must assert something).
trap 'wg__on_exit' EXIT

wg__log_tail() {
	local file=$1 lines=${2:-40}
	[[ -r $file ]] || return 0
	echo "--- last $lines lines of $file ---" >&2
	tail -n "$lines" "$file" >&2 || true
	echo "---" >&2
}

# ---------------------------------------------------------------- ports

# wg_free_port: print a random TCP port in 20000-32767 (below the kernel's ephemeral client ports) that nothing on
# 127.0.0.1 listens on and that this test has not handed out before.
wg_free_port() {
	local p tries used
	for ((tries = 0; tries < 200; tries++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
		for used in "${WG_USED_PORTS[@]}"; do
			[[ $used == "$p" ]] && continue 2
		done
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	fail "no free TCP port found on 127.0.0.1"
}

# wg__take_port: like wg_free_port, but records the port (must not run in $(...)).
wg__take_port() {
	local -n out=$1
	out=$(wg_free_port)
	WG_USED_PORTS+=("$out")
}

# ---------------------------------------------------------------- setup and teardown

# wg_on_exit CMD [ARGS...]: run a command at exit, before daemons and the cluster stop.
wg_on_exit() {
	WG_EXIT_HOOKS+=("$(printf '%q ' "$@")")
}

wg__require_tool() {
	command -v "$1" >/dev/null 2>&1 ||
		fail "$1 is required by the integration tests; install it (contrib/install-deps.sh)"
}

# wg_setup: temp dir $WG_TMP, a started throwaway cluster, $WG_DB, EXIT trap.
wg_setup() {
	((WG_SETUP_DONE == 0)) || fail "wg_setup called twice"
	wg__require_tool curl
	wg__require_tool jq
	[[ -x $WG_PG_CLUSTER ]] || fail "$WG_PG_CLUSTER is missing or not executable"

	WG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/wg-$WG_TEST_NAME.XXXXXX") ||
		fail "could not make a temp dir"
	# As root the cluster runs as another user, who must be able to reach it.
	chmod 0755 "$WG_TMP"
	export WG_TMP
	WG_SETUP_DONE=1
	trap 'wg__on_exit' EXIT
	trap 'exit 130' INT
	trap 'wg__on_term' TERM
	trap 'exit 129' HUP
	wg__start_watchdog

	WG_PGDIR="$WG_TMP/pg"
	local fast=--fast port attempt
	[[ ${WG_PG_FAST:-1} == 0 ]] && fast=
	# A port found free can be taken by a parallel test before the server binds
	# it, so a failed start is retried on another port.
	for attempt in 1 2 3; do
		wg__take_port port
		"$WG_PG_CLUSTER" create $fast "$WG_PGDIR" "$port" >"$WG_TMP/pg-setup.log" 2>&1 || {
			cat "$WG_TMP/pg-setup.log" >&2
			fail "could not create a PostgreSQL cluster in $WG_PGDIR"
		}
		if "$WG_PG_CLUSTER" start "$WG_PGDIR" >>"$WG_TMP/pg-setup.log" 2>&1; then
			break
		fi
		if ((attempt == 3)); then
			cat "$WG_TMP/pg-setup.log" >&2
			fail "could not start a PostgreSQL cluster in $WG_PGDIR"
		fi
	done
	WG_DB=$("$WG_PG_CLUSTER" conninfo "$WG_PGDIR")
	export WG_DB
	echo "# $WG_TEST_NAME: temp dir $WG_TMP, database $WG_DB"
}

wg__start_watchdog() {
	local timeout=${WG_TEST_TIMEOUT:-900} main=$$ flag="$WG_TMP/.timed-out"
	((timeout > 0)) || return 0
	# Polls instead of one long sleep so that nothing outlives the test by more
	# than a second; its output goes nowhere so it never holds a pipe open.
	(
		end=$((SECONDS + timeout))
		while kill -0 "$main" 2>/dev/null; do
			if ((SECONDS >= end)); then
				: >"$flag"
				kill -TERM "$main"
				exit 0
			fi
			sleep 1
		done
	) </dev/null >/dev/null 2>&1 &
}

wg__on_term() {
	if [[ -e $WG_TMP/.timed-out ]]; then
		echo "FAIL [$WG_TEST_NAME]: test timed out after ${WG_TEST_TIMEOUT:-900} s" >&2
	fi
	exit 143
}

wg__on_exit() {
	local rc=$? name hook pid pids status deadline
	trap - ERR
	set +eE
	for hook in "${WG_EXIT_HOOKS[@]}"; do
		eval "$hook" || echo "# exit hook failed: $hook" >&2
	done
	# A daemon still running must shut down cleanly on SIGTERM (docs/command-line.md).
	for name in "${!WG_DAEMON_PID[@]}"; do
		wg__stop_daemon_quietly "$name" TERM
		status=$WG__LAST_STATUS
		if ((status != 0)); then
			echo "FAIL [$WG_TEST_NAME]: daemon $name exited with status $status on SIGTERM at teardown" >&2
			((rc == 0)) && rc=1
		fi
	done
	# Background jobs the test left behind (provers, loops): TERM, then KILL.
	pids=$(jobs -p)
	for pid in $pids; do
		kill -TERM "$pid" 2>/dev/null
	done
	deadline=$((SECONDS + 10))
	for pid in $pids; do
		while wg__alive "$pid" && ((SECONDS < deadline)); do
			sleep 0.1
		done
		wg__alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	if ((rc != 0)); then
		for name in "${!WG_DAEMON_PORT[@]}"; do
			wg__log_tail "$WG_TMP/$name.log" 40
		done
		wg__log_tail "$WG_PGDIR/postgres.log" 15
	fi
	if [[ -n $WG_PGDIR && -d $WG_PGDIR ]]; then
		"$WG_PG_CLUSTER" stop "$WG_PGDIR" >/dev/null 2>&1 ||
			echo "# could not stop the cluster in $WG_PGDIR" >&2
	fi
	if [[ ${WG_KEEP:-0} == 1 ]]; then
		echo "# WG_KEEP=1: kept $WG_TMP (cluster: $WG_PG_CLUSTER start $WG_PGDIR)" >&2
	else
		if [[ -n $WG_PGDIR && -d $WG_PGDIR ]]; then
			"$WG_PG_CLUSTER" destroy "$WG_PGDIR" >/dev/null 2>&1 ||
				echo "# could not destroy the cluster in $WG_PGDIR" >&2
		fi
		rm -rf "$WG_TMP"
	fi
	# A test that asserted nothing shows nothing, whatever its exit status says.
	if ((rc == 0 && WG_ASSERTIONS == 0)); then
		echo "FAIL [$WG_TEST_NAME]: the test made no assertion" >&2
		rc=1
	fi
	if ((rc == 0)); then
		echo "ok $WG_ASSERTIONS assertions"
	fi
	# 77 and 99 mean "skipped" and "hard error" to automake; a test never skips.
	((rc == 77)) && rc=1
	exit "$rc"
}

# ---------------------------------------------------------------- PostgreSQL

wg__psql_bin() {
	if [[ -n ${PG_BINDIR:-} && -x $PG_BINDIR/psql ]]; then
		echo "$PG_BINDIR/psql"
	elif command -v psql >/dev/null 2>&1; then
		command -v psql
	else
		local dir
		dir=$("$WG_PG_CLUSTER" bindir) || fail "psql not found"
		[[ -x $dir/psql ]] || fail "psql not found in PATH or $dir"
		echo "$dir/psql"
	fi
}

# wg_psql SQL...: run each SQL string against $WG_DB; prints unaligned rows, no headers.
wg_psql() {
	[[ -n $WG_DB ]] || fail "wg_psql before wg_setup"
	local args=() sql
	for sql in "$@"; do
		args+=(-c "$sql")
	done
	PGCONNECT_TIMEOUT=10 "$(wg__psql_bin)" "$WG_DB" -X -q -A -t -v ON_ERROR_STOP=1 "${args[@]}"
}

# wg_pg_stop: stop the test cluster (database outage).
wg_pg_stop() {
	"$WG_PG_CLUSTER" stop "$WG_PGDIR"
}

# wg_pg_start: start the test cluster again, on the same port.
wg_pg_start() {
	"$WG_PG_CLUSTER" start "$WG_PGDIR"
}

# ---------------------------------------------------------------- daemons

wg__daemon_var() {
	local name=${1^^}
	echo "WG_URL_${name//[^A-Z0-9_]/_}"
}

wg__daemon_state() {
	local pid=$1 stat
	[[ -r /proc/$pid/stat ]] || {
		echo gone
		return
	}
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || {
		echo gone
		return
	}
	stat=${stat##*) }
	echo "${stat%% *}"
}

wg__alive() {
	local state
	state=$(wg__daemon_state "$1")
	[[ $state != gone && $state != Z ]]
}

# wg_start_daemon NAME [ARGS...]: start witness-generator NAME with its own port,
# store ($WG_TMP/store-NAME), pack cache directory ($WG_TMP/cache-NAME, used by s3:// and postgres
# stores) and log ($WG_TMP/NAME.log); wait for /healthz 200.
# A restarted NAME keeps its port when it is still free. Also exports
# WG_URL_<NAME> (upper case, other characters as _), the same as `wg_url NAME`.
wg_start_daemon() {
	(($# >= 1)) || fail "usage: wg_start_daemon NAME [ARGS...]"
	local name=$1 bin="$WG_BUILDDIR/witness-generator" port pid attempt deadline code var
	shift
	[[ -n $WG_DB ]] || fail "wg_start_daemon before wg_setup"
	[[ -x $bin ]] || fail "$bin not built"
	[[ -z ${WG_DAEMON_PID[$name]:-} ]] || fail "daemon $name is already running"

	for attempt in 1 2 3; do
		port=${WG_DAEMON_PORT[$name]:-}
		if [[ -z $port ]] || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			wg__take_port port
		fi
		WG_DAEMON_PORT[$name]=$port
		echo "# starting daemon $name on 127.0.0.1:$port" >>"$WG_TMP/$name.log"
		"$bin" --db "$WG_DB" --listen "127.0.0.1:$port" --store "file:$WG_TMP/store-$name" \
			--cache-dir "$WG_TMP/cache-$name" --instance-id "$name" "$@" </dev/null >>"$WG_TMP/$name.log" 2>&1 &
		pid=$!
		WG_DAEMON_PID[$name]=$pid
		deadline=$((SECONDS + 20))
		while ((SECONDS < deadline)); do
			if ! wg__alive "$pid"; then
				break
			fi
			code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
				"http://127.0.0.1:$port/healthz" 2>/dev/null) || true
			if [[ $code == 200 ]]; then
				var=$(wg__daemon_var "$name")
				export "$var=http://127.0.0.1:$port"
				return 0
			fi
			sleep 0.1
		done
		# (The EXIT trap prints the daemon's log.)
		if wg__alive "$pid"; then
			wg__stop_daemon_quietly "$name" KILL
			fail "daemon $name did not answer GET /healthz with 200 within 20 s"
		fi
		wait "$pid" 2>/dev/null && code=0 || code=$?
		unset "WG_DAEMON_PID[$name]"
		# Lost a race for the port with a parallel test: try another one.
		if ((attempt < 3)) && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			unset "WG_DAEMON_PORT[$name]"
			continue
		fi
		fail "daemon $name exited with status $code before it was healthy"
	done
}

# wg_url NAME: print the base URL of daemon NAME, e.g. http://127.0.0.1:41234.
wg_url() {
	local port=${WG_DAEMON_PORT[$1]:-}
	[[ -n $port ]] || fail "no daemon named $1 was started"
	echo "http://127.0.0.1:$port"
}

# wg_daemon_pid NAME: print the pid of running daemon NAME.
wg_daemon_pid() {
	local pid=${WG_DAEMON_PID[$1]:-}
	[[ -n $pid ]] || fail "daemon $1 is not running"
	echo "$pid"
}

# Signal, wait (up to WG_STOP_TIMEOUT s, default 30, then SIGKILL) and reap;
# sets WG__LAST_STATUS. Never fails.
wg__stop_daemon_quietly() {
	local name=$1 sig=${2:-TERM} pid deadline
	pid=${WG_DAEMON_PID[$name]:-}
	WG__LAST_STATUS=0
	[[ -n $pid ]] || return 0
	kill -s "$sig" "$pid" 2>/dev/null || true
	deadline=$((SECONDS + ${WG_STOP_TIMEOUT:-30}))
	# stderr goes to fd 3 here: bash would report a signalled child ("Killed")
	# on stderr as it reaps it, which reads like a test failure.
	{
		while wg__alive "$pid" && ((SECONDS < deadline)); do
			sleep 0.1
		done
		if wg__alive "$pid"; then
			echo "# daemon $name still running ${WG_STOP_TIMEOUT:-30} s after SIG$sig; killing it" >&3
			kill -s KILL "$pid" || true
		fi
		wait "$pid" && WG__LAST_STATUS=0 || WG__LAST_STATUS=$?
	} 3>&2 2>/dev/null
	unset "WG_DAEMON_PID[$name]"
	return 0
}

# wg_stop_daemon NAME [SIGNAL]: send SIGNAL (default TERM), wait for the exit and
# return the daemon's exit status (use `wg_stop_daemon a || rc=$?` to inspect a failure).
wg_stop_daemon() {
	(($# >= 1)) || fail "usage: wg_stop_daemon NAME [SIGNAL]"
	[[ -n ${WG_DAEMON_PID[$1]:-} ]] || fail "daemon $1 is not running"
	wg__stop_daemon_quietly "$1" "${2:-TERM}"
	return "$WG__LAST_STATUS"
}

# wg_kill_daemon NAME: SIGKILL daemon NAME (a crash) and reap it.
wg_kill_daemon() {
	(($# == 1)) || fail "usage: wg_kill_daemon NAME"
	[[ -n ${WG_DAEMON_PID[$1]:-} ]] || fail "daemon $1 is not running"
	wg__stop_daemon_quietly "$1" KILL
	return 0
}

# ---------------------------------------------------------------- wgctl

WG_TOKEN_SEQ=0

# wg_wgctl ARGS...: run wgctl against the test database.
wg_wgctl() {
	local bin="$WG_BUILDDIR/wgctl"
	[[ -x $bin ]] || fail "$bin not built"
	"$bin" --db "$WG_DB" "$@"
}

# wg_token ROLE [NAME]: create a token with wgctl and print it.
wg_token() {
	(($# >= 1)) || fail "usage: wg_token ROLE [NAME]"
	local role=$1 name=${2:-} token
	if [[ -z $name ]]; then
		WG_TOKEN_SEQ=$((WG_TOKEN_SEQ + 1))
		name="$role-$$-$WG_TOKEN_SEQ-$RANDOM"
	fi
	token=$(wg_wgctl token add --role "$role" --name "$name" 2>"$WG_TMP/wgctl.err") || {
		cat "$WG_TMP/wgctl.err" >&2
		fail "wgctl token add --role $role --name $name failed"
	}
	[[ -n $token && $token != *[[:space:]]* ]] ||
		fail "wgctl token add printed '$token', not a single token"
	echo "$token"
}

# ---------------------------------------------------------------- HTTP

# wg_http METHOD URL [CURL ARGS...]: make a request; sets HTTP_STATUS ("000" if
# no response), HTTP_BODY (text; use $HTTP_BODY_FILE for binary) and
# HTTP_HEADERS_FILE. Example: wg_http POST "$url/jobs/claim" -H "Authorization: Bearer $t" --json '{}'
wg_http() {
	(($# >= 2)) || fail "usage: wg_http METHOD URL [CURL ARGS...]"
	local method=$1 url=$2 rc=0 method_args
	shift 2
	[[ -n $WG_TMP ]] || fail "wg_http before wg_setup"
	HTTP_METHOD=$method
	HTTP_URL=$url
	HTTP_BODY_FILE="$WG_TMP/last_body"
	HTTP_HEADERS_FILE="$WG_TMP/last_headers"
	if [[ $method == HEAD ]]; then
		method_args=(--head)
	else
		method_args=(-X "$method")
	fi
	HTTP_STATUS=$(curl -sS "${method_args[@]}" -o "$HTTP_BODY_FILE" -D "$HTTP_HEADERS_FILE" \
		-w '%{http_code}' --max-time "${WG_HTTP_TIMEOUT:-30}" "$@" "$url" \
		2>"$WG_TMP/last_curl_err") || rc=$?
	if ((rc != 0)); then
		HTTP_STATUS=000
		: >"$HTTP_BODY_FILE"
		echo "# curl $method $url: $(cat "$WG_TMP/last_curl_err")" >&2
	fi
	HTTP_BODY=$(tr -d '\0' <"$HTTP_BODY_FILE")
	return 0
}

# wg_header NAME: print the value of response header NAME of the last wg_http.
wg_header() {
	awk -v want="$(tr '[:upper:]' '[:lower:]' <<<"$1")" -F': *' '
		{ sub(/\r$/, "") }
		tolower($1) == want { sub(/^[^:]*: */, ""); value = $0 }
		END { if (value != "") print value }' "$HTTP_HEADERS_FILE"
}

# wg_json JQ_EXPR: print jq -r JQ_EXPR of the last response body.
wg_json() {
	jq -r "$1" <"$HTTP_BODY_FILE" ||
		fail "$HTTP_METHOD $HTTP_URL: body is not JSON or '$1' fails: $HTTP_BODY"
}

# ---------------------------------------------------------------- assertions

wg__pass() {
	WG_ASSERTIONS=$((WG_ASSERTIONS + 1))
}

# assert_eq EXPECTED ACTUAL [MSG]
assert_eq() {
	if [[ $1 != "$2" ]]; then
		fail "${3:-values differ}: expected '$1', got '$2'"
	fi
	wg__pass
}

# assert_ne UNEXPECTED ACTUAL [MSG]
assert_ne() {
	if [[ $1 == "$2" ]]; then
		fail "${3:-values are equal}: did not expect '$1'"
	fi
	wg__pass
}

# assert_contains HAYSTACK NEEDLE [MSG]
assert_contains() {
	if [[ $1 != *"$2"* ]]; then
		fail "${3:-missing text}: '$2' not found in '$1'"
	fi
	wg__pass
}

# assert_status CODE: the last wg_http answered CODE.
assert_status() {
	if [[ $HTTP_STATUS != "$1" ]]; then
		fail "$HTTP_METHOD $HTTP_URL: expected HTTP $1, got $HTTP_STATUS; body: $HTTP_BODY"
	fi
	wg__pass
}

# assert_json_eq JQ_EXPR EXPECTED: jq -r JQ_EXPR of the last body equals EXPECTED
# (strings unquoted, numbers as written by jq, missing fields as "null").
assert_json_eq() {
	local actual
	actual=$(jq -r "$1" <"$HTTP_BODY_FILE" 2>&1) ||
		fail "$HTTP_METHOD $HTTP_URL: cannot evaluate '$1' (HTTP $HTTP_STATUS): $actual; body: $HTTP_BODY"
	if [[ $actual != "$2" ]]; then
		fail "$HTTP_METHOD $HTTP_URL: $1 is '$actual', expected '$2'; body: $HTTP_BODY"
	fi
	wg__pass
}

# assert_error_code CODE: the last body is {"error":{"code":CODE,...}}.
assert_error_code() {
	assert_json_eq '.error.code' "$1"
}

# wg_wait_until SECONDS CMD [ARGS...]: retry CMD every 0.2 s until it succeeds;
# fail after SECONDS. CMD runs in this shell, so it may call wg_http; it must
# return non-zero to mean "not yet" (an assert_* would end the test instead).
# Example: wg_wait_until 30 eval 'wg_http GET "$u/readyz"; [[ $HTTP_STATUS == 200 ]]'

wg_wait_until() {
	(($# >= 2)) || fail "usage: wg_wait_until SECONDS CMD [ARGS...]"
	local limit=$1 deadline
	shift
	deadline=$((SECONDS + limit))
	until "$@"; do
		((SECONDS < deadline)) || fail "timed out after $limit s waiting for: $*"
		sleep 0.2
	done
}
