#!/bin/bash
# pg-cluster.sh: throwaway PostgreSQL clusters for tests and local development.
#
# A cluster lives entirely inside one directory DIR:
#   DIR/data          the data directory (initdb)
#   DIR/cluster.env   port, database user and the OS user that runs the server
#   DIR/postgres.log  the server log
# It listens on TCP 127.0.0.1 only (no Unix socket: socket paths are limited to
# 107 bytes and temp dirs can be deep), trusts every connection from 127.0.0.1
# and holds a database named "wg".
#
# initdb and postgres refuse to run as root, so when run as root the server runs
# as a dedicated system user ($WG_PG_OSUSER, default "wgtest", created if
# missing) and DIR must be reachable by that user (not under /root).
#
# Usage:
#   pg-cluster.sh create [--fast] DIR PORT   initdb (or reuse an existing cluster)
#   pg-cluster.sh start DIR                  start; no-op if already running
#   pg-cluster.sh stop DIR                   fast shutdown; no-op if stopped
#   pg-cluster.sh status DIR                 exit 0 running, 3 stopped, 4 no cluster
#   pg-cluster.sh destroy DIR                stop and remove DIR
#   pg-cluster.sh conninfo DIR               print a libpq conninfo string
#   pg-cluster.sh standby [--fast] PRIMARY DIR PORT
#                                            a streaming standby of the running cluster
#                                            PRIMARY (pg_basebackup -R, slot "standby")
#   pg-cluster.sh promote DIR                promote a standby and wait until it writes
#   pg-cluster.sh bindir                     print the PostgreSQL bin directory used
#
# --fast turns off fsync, synchronous_commit and full_page_writes: a crash of
# the machine may corrupt the cluster, a crash of PostgreSQL itself does not.
#
# The binaries are found through $PG_BINDIR, then `pg_config --bindir`, then the
# highest /usr/lib/postgresql/*/bin. A missing PostgreSQL is an error, never a skip.
set -euo pipefail

PROG=${0##*/}
DBNAME=wg
BINDIR=

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

usage() {
	sed -n 's/^#   pg-cluster.sh /  pg-cluster.sh /p' "$0" >&2
	exit 2
}

# Locate the directory holding initdb, pg_ctl and postgres.
find_bindir() {
	local dir candidate
	if [[ -n ${PG_BINDIR:-} ]]; then
		[[ -x $PG_BINDIR/initdb && -x $PG_BINDIR/pg_ctl && -x $PG_BINDIR/postgres ]] ||
			die "PG_BINDIR=$PG_BINDIR does not hold initdb, pg_ctl and postgres"
		echo "$PG_BINDIR"
		return
	fi
	if command -v pg_config >/dev/null 2>&1; then
		dir=$(pg_config --bindir 2>/dev/null || true)
		if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres ]]; then
			echo "$dir"
			return
		fi
	fi
	dir=
	while IFS= read -r candidate; do
		[[ -x $candidate/initdb && -x $candidate/pg_ctl && -x $candidate/postgres ]] && dir=$candidate
	done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
	[[ -n $dir ]] ||
		die "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found;" \
			"install them (apt-get install -y postgresql, or run contrib/install-deps.sh)" \
			"or point PG_BINDIR at their directory"
	echo "$dir"
}

# The OS user that runs the server: the caller, or a dedicated user when root.
server_osuser() {
	if [[ $EUID -eq 0 ]]; then
		echo "${WG_PG_OSUSER:-wgtest}"
	else
		id -un
	fi
}

# Create the dedicated system user when running as root. Parallel test runs may
# get here at the same time, so creation is serialized with a lock file.
ensure_osuser() {
	local user=$1 lock=/run/wg-pg-cluster-useradd.lock
	[[ $EUID -eq 0 ]] || return 0
	id -u "$user" >/dev/null 2>&1 && return 0
	[[ $user != root ]] || die "the server cannot run as root"
	(
		flock -w 60 9 || die "could not lock $lock"
		if ! id -u "$user" >/dev/null 2>&1; then
			useradd --system --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin "$user" ||
				die "could not create system user $user"
		fi
	) 9>"$lock"
}

# Run a command as the server's OS user, from / so that an unreadable working
# directory (e.g. /root) does not matter.
as_osuser() {
	local user=$1
	shift
	if [[ $EUID -eq 0 ]]; then
		(cd / && runuser -u "$user" -- "$@")
	else
		(cd / && "$@")
	fi
}

abs_dir() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}

# Read DIR/cluster.env into PORT, DBUSER and OSUSER.
load_env() {
	local dir=$1 key value
	[[ -f $dir/cluster.env ]] || return 1
	PORT='' DBUSER='' OSUSER=''
	while IFS='=' read -r key value; do
		case $key in
		PORT) PORT=$value ;;
		DBUSER) DBUSER=$value ;;
		OSUSER) OSUSER=$value ;;
		esac
	done <"$dir/cluster.env"
	[[ -n $PORT && -n $DBUSER && -n $OSUSER ]] || die "$dir/cluster.env is incomplete"
}

is_cluster() {
	[[ -f $1/cluster.env && -f $1/data/PG_VERSION ]]
}

require_cluster() {
	is_cluster "$1" || die "no cluster in $1 (run: $PROG create DIR PORT)"
	load_env "$1"
}

# Called at the top of each command that runs a PostgreSQL binary, never inside
# a condition (where `set -e` would not stop on a failed lookup).
need_bindir() {
	[[ -n $BINDIR ]] || BINDIR=$(find_bindir)
}

is_running() {
	local dir=$1
	as_osuser "$OSUSER" "$BINDIR/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# The settings this script owns, kept in their own file included from postgresql.conf.
write_settings() {
	local data=$1 port=$2 fast=$3
	{
		echo "# Written by pg-cluster.sh; rewritten by every 'create'."
		echo "listen_addresses = '127.0.0.1'"
		echo "port = $port"
		echo "unix_socket_directories = ''"
		echo "max_connections = 200"
		echo "logging_collector = off"
		echo "log_line_prefix = '%m [%p] %q%u@%d '"
		if [[ $fast == 1 ]]; then
			echo "fsync = off"
			echo "synchronous_commit = off"
			echo "full_page_writes = off"
		fi
	} | as_osuser "$OSUSER" tee "$data/wg-cluster.conf" >/dev/null
}

write_hba() {
	local data=$1
	{
		echo "# Written by pg-cluster.sh: trust TCP connections from 127.0.0.1 only."
		echo "# TYPE  DATABASE  USER  ADDRESS        METHOD"
		echo "host    all       all   127.0.0.1/32   trust"
		echo "host    replication all 127.0.0.1/32   trust"
	} | as_osuser "$OSUSER" tee "$data/pg_hba.conf" >/dev/null
}

print_log_tail() {
	local log=$1
	if [[ -r $log ]]; then
		echo "--- last lines of $log ---" >&2
		tail -n 30 "$log" >&2
		echo "---" >&2
	fi
}

cmd_create() {
	local fast=0 args=() dir port name made_dir
	while (($#)); do
		case $1 in
		--fast) fast=1 ;;
		-*) die "create: unknown option $1" ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	((${#args[@]} == 2)) || usage
	need_bindir
	dir=$(abs_dir "${args[0]}")
	port=${args[1]}
	if ! [[ $port =~ ^[0-9]{1,5}$ ]] || ((10#$port < 1 || 10#$port > 65535)); then
		die "invalid port: $port"
	fi
	port=$((10#$port))

	if is_cluster "$dir"; then
		load_env "$dir"
		if is_running "$dir"; then
			[[ $port == "$PORT" ]] ||
				die "cluster in $dir is running on port $PORT; stop it before changing the port to $port"
			write_settings "$dir/data" "$port" "$fast"
			as_osuser "$OSUSER" "$BINDIR/pg_ctl" -D "$dir/data" -s reload
		else
			write_settings "$dir/data" "$port" "$fast"
			PORT=$port
			write_env "$dir"
		fi
		echo "$PROG: reusing cluster in $dir (port $port)"
		return
	fi

	OSUSER=$(server_osuser)
	DBUSER=$OSUSER
	PORT=$port
	ensure_osuser "$OSUSER"

	# Anything left here must be the remains of an interrupted create, never
	# somebody else's files.
	if [[ -e $dir ]]; then
		[[ -d $dir ]] || die "$dir exists and is not a directory"
		for name in "$dir"/* "$dir"/.[!.]*; do
			[[ -e $name ]] || continue
			case ${name##*/} in
			data | data.new | cluster.env | initdb.log | postgres.log) ;;
			*) die "$dir is not empty and holds no cluster made by $PROG (found ${name##*/})" ;;
			esac
		done
		rm -rf "$dir/data" "$dir/data.new" "$dir/cluster.env" "$dir/initdb.log"
		made_dir=0
	else
		mkdir -p "$dir"
		made_dir=1
	fi
	if [[ $EUID -eq 0 ]]; then
		chown "$OSUSER:" "$dir"
		chmod 0700 "$dir"
	fi
	if ! as_osuser "$OSUSER" test -w "$dir" -a -x "$dir"; then
		[[ $made_dir == 1 ]] && rmdir "$dir"
		die "$dir is not writable by user $OSUSER (is a parent directory private, like /root?)"
	fi

	local initdb_args=(-D "$dir/data.new" --auth=trust --encoding=UTF8 --locale=C --username="$DBUSER")
	[[ $fast == 1 ]] && initdb_args+=(--no-sync)
	if ! as_osuser "$OSUSER" "$BINDIR/initdb" "${initdb_args[@]}" >"$dir/initdb.log" 2>&1; then
		print_log_tail "$dir/initdb.log"
		die "initdb failed in $dir/data.new"
	fi
	echo "include 'wg-cluster.conf'" | as_osuser "$OSUSER" tee -a "$dir/data.new/postgresql.conf" >/dev/null
	write_settings "$dir/data.new" "$port" "$fast"
	write_hba "$dir/data.new"

	# Create the database in single-user mode: no server, no port, no socket.
	local out
	out=$(echo "CREATE DATABASE $DBNAME;" |
		as_osuser "$OSUSER" "$BINDIR/postgres" --single -D "$dir/data.new" -c fsync=off postgres 2>&1) ||
		die "creating database $DBNAME failed: $out"
	if grep -qE '(ERROR|FATAL|PANIC):' <<<"$out"; then
		die "creating database $DBNAME failed: $out"
	fi

	as_osuser "$OSUSER" mv "$dir/data.new" "$dir/data"
	write_env "$dir"
	echo "$PROG: created cluster in $dir (port $port, user $DBUSER, database $DBNAME)"
}

write_env() {
	local dir=$1
	printf 'PORT=%s\nDBUSER=%s\nOSUSER=%s\n' "$PORT" "$DBUSER" "$OSUSER" |
		as_osuser "$OSUSER" tee "$dir/cluster.env.new" >/dev/null
	as_osuser "$OSUSER" mv "$dir/cluster.env.new" "$dir/cluster.env"
}

cmd_start() {
	(($# == 1)) || usage
	local dir
	dir=$(abs_dir "$1")
	require_cluster "$dir"
	need_bindir
	if is_running "$dir"; then
		return 0
	fi
	if ! as_osuser "$OSUSER" "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
		-w -t 60 -s start >/dev/null; then
		print_log_tail "$dir/postgres.log"
		die "could not start the cluster in $dir on port $PORT"
	fi
}

cmd_stop() {
	(($# == 1)) || usage
	local dir
	dir=$(abs_dir "$1")
	require_cluster "$dir"
	need_bindir
	if ! is_running "$dir"; then
		return 0
	fi
	if ! as_osuser "$OSUSER" "$BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 60 -s stop; then
		print_log_tail "$dir/postgres.log"
		die "could not stop the cluster in $dir"
	fi
}

cmd_status() {
	(($# == 1)) || usage
	local dir pid
	dir=$(abs_dir "$1")
	if ! is_cluster "$dir"; then
		echo "no cluster in $dir"
		exit 4
	fi
	load_env "$dir"
	need_bindir
	if is_running "$dir"; then
		pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || echo '?')
		echo "running on 127.0.0.1:$PORT (pid $pid, data $dir/data)"
	else
		echo "stopped (port $PORT, data $dir/data)"
		exit 3
	fi
}

cmd_destroy() {
	(($# == 1)) || usage
	local dir name
	dir=$(abs_dir "$1")
	[[ -e $dir ]] || return 0
	[[ -d $dir ]] || die "$dir is not a directory"
	if is_cluster "$dir"; then
		cmd_stop "$dir"
	fi
	# Refuse to remove anything this script did not make.
	for name in "$dir"/* "$dir"/.[!.]*; do
		[[ -e $name ]] || continue
		case ${name##*/} in
		data | data.new | cluster.env | cluster.env.new | initdb.log | basebackup.log | postgres.log) ;;
		*) die "refusing to remove $dir: it holds ${name##*/}, which $PROG did not make" ;;
		esac
	done
	rm -rf "$dir"
}

# A standby starts as a copy of its primary's data directory, settings included: only the port
# differs. The replication slot keeps on the primary the WAL the standby has not received yet,
# so a standby that falls behind catches up instead of needing a new base backup.
cmd_standby() {
	local fast=0 args=() primary dir port
	while (($#)); do
		case $1 in
		--fast) fast=1 ;;
		-*) die "standby: unknown option $1" ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	((${#args[@]} == 3)) || usage
	need_bindir
	primary=$(abs_dir "${args[0]}")
	dir=$(abs_dir "${args[1]}")
	port=${args[2]}
	[[ $port =~ ^[0-9]{1,5}$ ]] || die "invalid port: $port"
	require_cluster "$primary"
	is_running "$primary" || die "the primary in $primary is not running"
	[[ ! -e $dir ]] || die "$dir already exists"
	local primary_port=$PORT
	mkdir -p "$dir"
	if [[ $EUID -eq 0 ]]; then
		chown "$OSUSER:" "$dir"
		chmod 0700 "$dir"
	fi
	if ! as_osuser "$OSUSER" "$BINDIR/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U "$DBUSER" \
		-D "$dir/data.new" -R -C -S standby -X stream -c fast >"$dir/basebackup.log" 2>&1; then
		print_log_tail "$dir/basebackup.log"
		die "pg_basebackup from $primary failed"
	fi
	write_settings "$dir/data.new" "$port" "$fast"
	# The standby's name on the primary (pg_stat_replication, synchronous_standby_names).
	echo "cluster_name = 'standby'" | as_osuser "$OSUSER" tee -a "$dir/data.new/wg-cluster.conf" >/dev/null
	as_osuser "$OSUSER" mv "$dir/data.new" "$dir/data"
	PORT=$port
	write_env "$dir"
	echo "$PROG: created standby of $primary in $dir (port $port)"
}

cmd_promote() {
	(($# == 1)) || usage
	local dir
	dir=$(abs_dir "$1")
	require_cluster "$dir"
	need_bindir
	as_osuser "$OSUSER" "$BINDIR/pg_ctl" -D "$dir/data" -w -t 60 -s promote ||
		die "could not promote the standby in $dir"
}

cmd_conninfo() {
	(($# == 1)) || usage
	local dir
	dir=$(abs_dir "$1")
	require_cluster "$dir"
	echo "host=127.0.0.1 port=$PORT dbname=$DBNAME user=$DBUSER"
}

(($# >= 1)) || usage
command=$1
shift
case $command in
-h | --help | help) usage ;;
bindir)
	(($# == 0)) || usage
	find_bindir
	;;
conninfo) cmd_conninfo "$@" ;;
create | start | stop | status | destroy | standby | promote) "cmd_$command" "$@" ;;
*) usage ;;
esac
