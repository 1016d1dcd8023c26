#!/bin/bash
# t_migrations.sh: schema migrations. `wgctl migrate` applies every migration once and a second
# run changes nothing; two daemons started at the same moment on a fresh database both come up
# and the schema is applied exactly once; a database whose schema is newer than the binaries
# stops both the daemon and `wgctl migrate`.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"

wg_setup

# The migrations this build carries: one per sql/NNNN_*.sql, versions NNNN.
migration_files=("$WG_SRCDIR"/sql/[0-9][0-9][0-9][0-9]_*.sql)
((${#migration_files[@]} >= 1)) || fail "no migrations found in $WG_SRCDIR/sql"
expected_versions=$(for f in "${migration_files[@]}"; do
	v=${f##*/}
	echo $((10#${v%%_*}))
done | sort -n)
n_migrations=${#migration_files[@]}
known_version=$(tail -n 1 <<<"$expected_versions")

tables=(schema_migrations tokens blobs basic_circuit_witness_jobs leaf_aggregation_jobs
	node_aggregation_jobs scheduler_witness_jobs prover_jobs)

# psql_db DB SQL: like wg_psql, against another database of the test cluster.
psql_db() {
	local db=$1
	shift
	WG_DB=$(conninfo_for "$db") wg_psql "$@"
}
conninfo_for() {
	local info=" $WG_DB "
	[[ $info == *" dbname=wg "* ]] || fail "cannot find dbname=wg in $WG_DB"
	info=${info/ dbname=wg / dbname=$1 }
	info=${info# }
	echo "${info% }"
}

# assert_schema DB: every table exists and the ledger holds each migration exactly once.
assert_schema() {
	local db=$1 t
	for t in "${tables[@]}"; do
		assert_eq 1 "$(psql_db "$db" "select count(*) from pg_tables where schemaname = 'public' and tablename = '$t'")" \
			"table $t in $db"
	done
	assert_eq "$expected_versions" "$(psql_db "$db" 'select version from schema_migrations order by version')" \
		"ledger versions in $db"
	assert_eq "$n_migrations" "$(psql_db "$db" 'select count(*) from schema_migrations')" "ledger rows in $db"
}

# Everything a second migration run must leave alone: the ledger and the tables' identities.
schema_snapshot() {
	psql_db "$1" "select version || ' ' || name || ' ' || applied_at from schema_migrations order by version" \
		"select c.relname || ' ' || c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
		 where n.nspname = 'public' and c.relkind in ('r', 'i') order by c.relname"
}

# ---------------------------------------------------------------- wgctl migrate, twice

wg_psql 'create database wg_cli'
cli_db=$(conninfo_for wg_cli)
assert_eq 0 "$(psql_db wg_cli "select count(*) from pg_tables where schemaname = 'public'")" "fresh database"

rc=0
"$WG_BUILDDIR/wgctl" --db "$cli_db" migrate >"$WG_TMP/migrate1.out" 2>&1 || rc=$?
assert_eq 0 "$rc" "first wgctl migrate: $(cat "$WG_TMP/migrate1.out")"
assert_schema wg_cli
before=$(schema_snapshot wg_cli)
assert_ne "" "$before" "snapshot"

sleep 1 # a re-applied migration would show a later applied_at
rc=0
"$WG_BUILDDIR/wgctl" --db "$cli_db" migrate >"$WG_TMP/migrate2.out" 2>&1 || rc=$?
assert_eq 0 "$rc" "second wgctl migrate: $(cat "$WG_TMP/migrate2.out")"
assert_schema wg_cli
assert_eq "$before" "$(schema_snapshot wg_cli)" "the second migrate changed the schema or the ledger"

# The same through WG_DB instead of --db.
rc=0
WG_DB=$cli_db "$WG_BUILDDIR/wgctl" migrate >"$WG_TMP/migrate3.out" 2>&1 || rc=$?
assert_eq 0 "$rc" "wgctl migrate with WG_DB: $(cat "$WG_TMP/migrate3.out")"
assert_eq "$before" "$(schema_snapshot wg_cli)" "the third migrate changed the schema or the ledger"

# ---------------------------------------------------------------- two daemons at once

assert_eq 0 "$(wg_psql "select count(*) from pg_tables where schemaname = 'public'")" "fresh database wg"

# Both daemons wait for one go-file and then start within a few milliseconds of each other, so
# they race for the (empty) schema. They are registered with the harness like wg_start_daemon
# does, so that the exit trap stops them and checks that each exits 0 on SIGTERM.
bin="$WG_BUILDDIR/witness-generator"
go="$WG_TMP/go"
port_a=$(wg_free_port)
port_b=$(wg_free_port)
while [[ $port_b == "$port_a" ]]; do
	port_b=$(wg_free_port)
done
WG_USED_PORTS+=("$port_a" "$port_b")
for name in a b; do
	[[ $name == a ]] && port=$port_a || port=$port_b
	(
		while [[ ! -e $go ]]; do
			sleep 0.01
		done
		exec "$bin" --db "$WG_DB" --listen "127.0.0.1:$port" --store "file:$WG_TMP/store-$name" \
			--instance-id "$name"
	) </dev/null >>"$WG_TMP/$name.log" 2>&1 &
	WG_DAEMON_PID[$name]=$!
	WG_DAEMON_PORT[$name]=$port
done
sleep 0.3 # both are now polling for the go-file
: >"$go"

# alive PID: the process exists and is not a zombie.
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}
healthy() {
	local name code
	for name in a b; do
		alive "${WG_DAEMON_PID[$name]}" || fail "daemon $name exited while starting"
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$(wg_url "$name")/healthz") || true
		[[ $code == 200 ]] || return 1
	done
}
wg_wait_until 20 healthy

for name in a b; do
	wg_http GET "$(wg_url "$name")/readyz"
	assert_status 200
done
assert_schema wg

# Exactly one of the two applied each migration; the other found them applied.
applied_a=$(grep -c 'applied migration' "$WG_TMP/a.log" || true)
applied_b=$(grep -c 'applied migration' "$WG_TMP/b.log" || true)
assert_eq "$n_migrations" "$((applied_a + applied_b))" "migrations applied by a ($applied_a) and b ($applied_b)"
if ((applied_a != 0 && applied_b != 0)); then
	fail "both daemons applied migrations (a: $applied_a, b: $applied_b)"
fi

# Both daemons serve the same database.
admin=$(wg_token admin)
batches_ok() {
	wg_http GET "$(wg_url "$1")/batches" -H "Authorization: Bearer $admin"
	[[ $HTTP_STATUS == 200 ]]
}
for name in a b; do
	wg_wait_until 5 batches_ok "$name"
	assert_json_eq '.batches | length' 0
done

# A restart finds nothing to do.
before=$(schema_snapshot wg)
wg_stop_daemon a
wg_start_daemon a
assert_eq "$before" "$(schema_snapshot wg)" "a restarted daemon changed the schema or the ledger"
assert_eq "$applied_a" "$(grep -c 'applied migration' "$WG_TMP/a.log" || true)" "migrations applied by the restart"

# ---------------------------------------------------------------- a schema from the future

future=$((known_version + 9000))
psql_db wg_cli "insert into schema_migrations (version, name) values ($future, '${future}_from_the_future')"
ledger=$(schema_snapshot wg_cli)

# mentions_version TEXT VERSION: TEXT names VERSION as a number of its own.
mentions_version() {
	[[ $1 =~ (^|[^0-9])$2([^0-9]|$) ]]
}

port_c=$(wg_free_port)
rc=0
timeout 20 "$bin" --db "$cli_db" --listen "127.0.0.1:$port_c" --store "file:$WG_TMP/store-c" --instance-id c \
	</dev/null >"$WG_TMP/c.log" 2>&1 || rc=$?
msg=$(cat "$WG_TMP/c.log")
assert_ne 124 "$rc" "the daemon kept running against a newer schema instead of exiting"
assert_ne 0 "$rc" "daemon exit status against a newer schema; output: $msg"
assert_eq yes "$(mentions_version "$msg" "$future" && echo yes || echo no)" \
	"the daemon's message names the database's version $future: $msg"
assert_eq yes "$(mentions_version "$msg" "$known_version" && echo yes || echo no)" \
	"the daemon's message names its own version $known_version: $msg"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port_c/healthz") || true
assert_eq 000 "$code" "nothing listens for the refused daemon"

rc=0
"$WG_BUILDDIR/wgctl" --db "$cli_db" migrate >"$WG_TMP/migrate4.out" 2>&1 || rc=$?
msg=$(cat "$WG_TMP/migrate4.out")
assert_ne 0 "$rc" "wgctl migrate against a newer schema; output: $msg"
assert_eq yes "$(mentions_version "$msg" "$future" && echo yes || echo no)" \
	"wgctl's message names the database's version $future: $msg"
assert_eq yes "$(mentions_version "$msg" "$known_version" && echo yes || echo no)" \
	"wgctl's message names its own version $known_version: $msg"
assert_eq "$ledger" "$(schema_snapshot wg_cli)" "a refused migrate changed the schema or the ledger"
