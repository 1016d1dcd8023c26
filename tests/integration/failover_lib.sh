# shellcheck shell=bash
# failover_lib.sh: a primary with a streaming standby, and the failover of t_failover_sync.sh and
# t_failover_async.sh. Source it after lib.sh and call fo_setup right after wg_setup:
#
#   wg_setup
#   fo_setup sync                     # or async; WG_DB becomes the multi-host conninfo
#   wg_start_daemon a ...             # daemons, wgctl and wg_psql all use $WG_DB
#   fo_kill_primary                   # kill -9 of the postmaster; waits until no process is left
#   fo_promote                        # the standby takes over; sets FO_PROMOTED_AT
#
# The cluster made by wg_setup is the primary. The host list names the standby first, so that
# target_session_attrs=read-write has to route every connection past it before the failover, and
# finds it first after. Once promoted, the standby is the cluster lib.sh stops at exit (after the
# daemons); the dead primary is removed by an exit hook.

FO_PRIMARY=
FO_STANDBY=
FO_PRIMARY_DB= # conninfo of the primary alone
FO_STANDBY_DB= # conninfo of the standby alone
FO_MODE=
FO_KILLED_AT=   # EPOCHREALTIME of the kill
FO_PROMOTED_AT= # EPOCHREALTIME at which pg_ctl promote returned (the standby accepts writes)

# fo_setup sync|async: make the standby of $WG_PGDIR, wait until it streams, and point WG_DB at
# both. sync: synchronous_commit on and the standby named in synchronous_standby_names, so a
# commit is acknowledged only once the standby has flushed it.
fo_setup() {
	FO_MODE=$1
	[[ $FO_MODE == sync || $FO_MODE == async ]] || fail "usage: fo_setup sync|async"
	FO_PRIMARY=$WG_PGDIR
	FO_STANDBY="$WG_TMP/pg-standby"
	FO_PRIMARY_DB=$WG_DB
	wg_on_exit fo__cleanup
	local fast=--fast port attempt
	[[ ${WG_PG_FAST:-1} == 0 ]] && fast=
	for attempt in 1 2 3; do
		wg__take_port port
		[[ -e $FO_STANDBY ]] || "$WG_PG_CLUSTER" standby $fast "$FO_PRIMARY" "$FO_STANDBY" "$port" \
			>>"$WG_TMP/pg-setup.log" 2>&1 || {
			cat "$WG_TMP/pg-setup.log" >&2
			fail "could not make a standby of $FO_PRIMARY"
		}
		# A start that lost its port to a parallel test is retried on another one.
		if ((attempt > 1)); then
			sed -i "s/^port = .*/port = $port/" "$FO_STANDBY/data/wg-cluster.conf"
			sed -i "s/^PORT=.*/PORT=$port/" "$FO_STANDBY/cluster.env"
		fi
		"$WG_PG_CLUSTER" start "$FO_STANDBY" >>"$WG_TMP/pg-setup.log" 2>&1 && break
		((attempt < 3)) || {
			cat "$WG_TMP/pg-setup.log" >&2
			fail "could not start the standby in $FO_STANDBY"
		}
	done
	FO_STANDBY_DB=$("$WG_PG_CLUSTER" conninfo "$FO_STANDBY")
	wg_wait_until 30 fo__streaming
	# Set after the base backup, so that the standby, once promoted, does not wait for a
	# standby of its own.
	if [[ $FO_MODE == sync ]]; then
		fo__psql "$FO_PRIMARY_DB" "ALTER SYSTEM SET synchronous_commit = on" \
			"ALTER SYSTEM SET synchronous_standby_names = 'standby'" "SELECT pg_reload_conf()" >/dev/null
		wg_wait_until 30 fo__sync_state
		assert_eq on "$(fo__psql "$FO_PRIMARY_DB" "SHOW synchronous_commit")" "the primary's synchronous_commit"
	else
		assert_eq async "$(fo__psql "$FO_PRIMARY_DB" "SELECT sync_state FROM pg_stat_replication")" \
			"the standby's sync_state"
	fi
	local p_host p_port s_port rest
	p_port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$FO_PRIMARY_DB")
	s_port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$FO_STANDBY_DB")
	p_host=127.0.0.1
	rest=$(sed 's/host=[^ ]* port=[0-9]* //' <<<"$FO_PRIMARY_DB")
	WG_DB="host=$p_host,$p_host port=$s_port,$p_port $rest target_session_attrs=read-write"
	export WG_DB
	echo "# standby ($FO_MODE) on port $s_port; WG_DB=$WG_DB"
}

fo__psql() {
	local db=$1
	shift
	local args=() sql
	for sql in "$@"; do
		args+=(-c "$sql")
	done
	PGCONNECT_TIMEOUT=10 "$(wg__psql_bin)" "$db" -X -q -A -t -v ON_ERROR_STOP=1 "${args[@]}"
}

fo__sync_state() {
	[[ $(fo__psql "$FO_PRIMARY_DB" "SELECT sync_state FROM pg_stat_replication") == sync ]]
}

fo__streaming() {
	[[ $(fo__psql "$FO_PRIMARY_DB" "SELECT state FROM pg_stat_replication WHERE application_name = 'standby'" \
		2>/dev/null) == streaming ]]
}

# fo_psql_primary SQL... / fo_psql_standby SQL...: run SQL on one node only.
fo_psql_primary() { fo__psql "$FO_PRIMARY_DB" "$@"; }
fo_psql_standby() { fo__psql "$FO_STANDBY_DB" "$@"; }

# fo_cluster_pids DIR: the live processes of the cluster in DIR (PostgreSQL's processes work in
# their data directory).
fo_cluster_pids() {
	local dir=$1/data proc state
	for proc in /proc/[0-9]*; do
		[[ $(readlink "$proc/cwd" 2>/dev/null) == "$dir" ]] || continue
		state=$(cl__state "${proc#/proc/}")
		[[ $state == gone || $state == Z ]] || echo "${proc#/proc/}"
	done
}

# fo_data_snapshot DIR: every file of the data directory in DIR with its size and mtime.
fo_data_snapshot() {
	find "$1/data" -printf '%P %s %T@\n' | sort
}

# fo_kill_primary: kill -9 the primary's postmaster, then wait until its backends, which notice
# the postmaster's death on their own, are gone too (as a fenced-off machine would be); the data
# directory as it is then is kept in $WG_TMP/primary-after-kill for fo_assert_primary_untouched.
fo_kill_primary() {
	local pid deadline
	pid=$(head -n 1 "$FO_PRIMARY/data/postmaster.pid")
	[[ $pid =~ ^[0-9]+$ ]] || fail "no postmaster pid in $FO_PRIMARY/data/postmaster.pid"
	kill -KILL "$pid"
	FO_KILLED_AT=$EPOCHREALTIME
	deadline=$((SECONDS + 15))
	while [[ -n $(fo_cluster_pids "$FO_PRIMARY") ]]; do
		((SECONDS < deadline)) || fail "processes of the killed primary still running: $(fo_cluster_pids "$FO_PRIMARY")"
		sleep 0.05
	done
	fo_data_snapshot "$FO_PRIMARY" >"$WG_TMP/primary-after-kill"
}

# fo_promote: promote the standby; from now on it is the cluster lib.sh owns.
fo_promote() {
	"$WG_PG_CLUSTER" promote "$FO_STANDBY"
	FO_PROMOTED_AT=$EPOCHREALTIME
	WG_PGDIR=$FO_STANDBY
}

# fo_assert_primary_untouched: the old primary has no process and its data directory is as it
# was once its processes were gone.
fo_assert_primary_untouched() {
	assert_eq "" "$(fo_cluster_pids "$FO_PRIMARY")" "processes of the old primary"
	assert_eq "$(cat "$WG_TMP/primary-after-kill")" "$(fo_data_snapshot "$FO_PRIMARY")" \
		"the old primary's data directory since its processes died"
}

# fo_assert_routing: before the failover the standby is read-only, and read-write routing put
# every daemon connection on the primary (a connection attempt passes the standby first and leaves
# it, so one may be seen there for an instant). Each daemon holds at least its listener,
# housekeeper and four round workers.
fo__none_on_standby() {
	[[ $(fo_psql_standby "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'witness-generator'") == 0 ]]
}

fo_assert_routing() {
	local on_primary
	assert_eq t "$(fo_psql_standby "SELECT pg_is_in_recovery()")" "the standby is in recovery"
	wg_wait_until 10 fo__none_on_standby
	wg__pass
	on_primary=$(fo_psql_primary "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'witness-generator'")
	((on_primary >= 12)) || fail "only $on_primary daemon connections on the primary"
	wg__pass
}

# fo_ms_since EPOCHREALTIME: milliseconds from then to now.
fo_ms_since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }'
}

# The cluster that is not lib.sh's: the standby before a promotion, the dead primary after. A
# killed postmaster may linger as a zombie, which pg_ctl takes for a running server, so a dead
# primary is removed directly once no process of it is left.
fo__cleanup() {
	local other=$FO_PRIMARY
	[[ $WG_PGDIR == "$FO_PRIMARY" ]] && other=$FO_STANDBY
	[[ -n $other && -d $other ]] || return 0
	[[ ${WG_KEEP:-0} == 1 ]] && return 0
	if [[ $other == "$FO_PRIMARY" && -n $FO_KILLED_AT ]]; then
		[[ -z $(fo_cluster_pids "$other") ]] && rm -rf "$other"
	else
		"$WG_PG_CLUSTER" destroy "$other" >/dev/null 2>&1 || echo "# could not destroy $other" >&2
	fi
}

# ---------------------------------------------------------------- load across the failover
#
# fo_load: the client side of both tests, after t_db_outage.sh. Each pass uploads a new small
# batch (to daemons a and b in turn), proves by hand one circuit FO_HAND_CIRCUIT of batch 1 (claim,
# witness, complete, through a and b in turn) and asks both daemons' /readyz. Every answer must
# come within 10 s, be no 500 and no lost connection, and a 503 must be `unavailable`. At pass
# FO_KILL_AT the failover starts in the background: kill -9 of the primary, a gap that lasts at
# least 2 s and two whole passes, then the promotion. The loop ends once, after the promotion,
# 6 passes ran, 3 uploads were acknowledged and both daemons are ready.
#
# It records what clients were told: FO_ACKED_UPLOADS / FO_REFUSED_UPLOADS (201 / 503) and
# FO_ACKED_COMPLETIONS / FO_REFUSED_COMPLETIONS (200 / 503, as "id:lease:attempts of its claim"), nothing refused is
# retried; FO_READYZ_A / FO_READYZ_B (answers with runs collapsed, e.g. "200 503 200");
# FO_COUNT["what status"]; FO_FIRST_CLAIM_MS (promotion to the first claim answered 200).
# FO_BEFORE_KILL, if set, names a function run in the test's shell just before the failover.

FO_HAND_CIRCUIT=5
FO_FIRST_SMALL=100
FO_MAX_ITER=120
FO_KILL_AT=4
FO_BEFORE_KILL=
FO_FIRST_CLAIM_MS=
declare -gA FO_COUNT=()
declare -ga FO_ACKED_UPLOADS=() FO_REFUSED_UPLOADS=() FO_ACKED_COMPLETIONS=() FO_REFUSED_COMPLETIONS=()
# shellcheck disable=SC2034 # set through fo__seq's nameref
FO_READYZ_A=
# shellcheck disable=SC2034
FO_READYZ_B=

# fo_prepare_small: the small batches the loop uploads, one circuit each, made in advance.
fo_prepare_small() {
	local b
	for ((b = FO_FIRST_SMALL; b < FO_FIRST_SMALL + FO_MAX_ITER; b++)); do
		cl_prepare "$b" 0 "main_vm=$((1 + b))"
	done
}

fo__req() {
	local what=$1 start=$EPOCHREALTIME ms
	shift
	WG_HTTP_TIMEOUT=10 wg_http "$@"
	ms=$(fo_ms_since "$start")
	((ms < 10000)) || fail "$what: $1 $2 took $ms ms"
	FO_COUNT["$what $HTTP_STATUS"]=$((${FO_COUNT["$what $HTTP_STATUS"]:-0} + 1))
	case $HTTP_STATUS in
	503) assert_error_code unavailable ;;
	000) fail "$what: $1 $2: no answer while the daemon should be up" ;;
	500) fail "$what: $1 $2: 500 $HTTP_BODY" ;;
	esac
}

# fo_prove_by_hand URL: one pass of the hand prover; a 503 anywhere drops the job (its lease
# expires later).
fo_prove_by_hand() {
	local url=$1 id lease attempts
	fo__req claim POST "$url/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
		--data-binary "{\"prover_id\":\"hand\",\"protocol_version\":24,\"rounds\":[0],\"circuit_ids\":[$FO_HAND_CIRCUIT]}"
	case $HTTP_STATUS in
	200) ;;
	204 | 503) return 0 ;;
	*) fail "claim: HTTP $HTTP_STATUS $HTTP_BODY" ;;
	esac
	if [[ -z $FO_FIRST_CLAIM_MS ]] && grep -q '^promoted' "$WG_TMP/failover"; then
		FO_FIRST_CLAIM_MS=$(fo_ms_since "$(sed -n 's/^promoted //p' "$WG_TMP/failover")")
	fi
	id=$(wg_json .id)
	lease=$(wg_json .lease)
	attempts=$(wg_json .attempts)
	fo__req witness GET "$url/jobs/$id/witness" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: $lease"
	case $HTTP_STATUS in
	200) ;;
	503) return 0 ;;
	# A claim acknowledged just before the failover may be lost with it: the job is held under no
	# lease (or gone, with its batch) on the new primary.
	409) assert_error_code lease_lost && return 0 ;;
	404) assert_error_code not_found && return 0 ;;
	*) fail "witness of job $id: HTTP $HTTP_STATUS $HTTP_BODY" ;;
	esac
	cp "$HTTP_BODY_FILE" "$WG_TMP/hand-witness"
	pl_ref_prove "$WG_TMP/hand-witness" "$WG_TMP/hand-proof"
	fo__req complete POST "$url/proofs/$id/complete" -H "Authorization: Bearer $PL_PROVER" \
		-H 'Content-Type: application/octet-stream' -H "X-WG-Lease: $lease" --data-binary "@$WG_TMP/hand-proof"
	case $HTTP_STATUS in
	200) FO_ACKED_COMPLETIONS+=("$id:$lease:$attempts") ;;
	503) FO_REFUSED_COMPLETIONS+=("$id:$lease:$attempts") ;;
	409) assert_error_code lease_lost ;;
	*) fail "complete of job $id: HTTP $HTTP_STATUS $HTTP_BODY" ;;
	esac
}

fo__failover() {
	fo_kill_primary
	echo "killed $FO_KILLED_AT" >>"$WG_TMP/failover"
	sleep 2
	local deadline=$((SECONDS + 60))
	while [[ ! -e $WG_TMP/gap-seen ]] && ((SECONDS < deadline)); do
		sleep 0.1
	done
	fo_promote
	echo "promoted $FO_PROMOTED_AT" >>"$WG_TMP/failover"
}

fo__seq() {
	local -n seq=$1
	[[ $seq == "$2" || $seq == *" $2" ]] || seq+="${seq:+ }$2"
}

fo_load() {
	local i b url ready_a ready_b during=0 after=0 acked_after=0 failover_pid=
	: >"$WG_TMP/failover"
	for ((i = 0; i < FO_MAX_ITER; i++)); do
		b=$((FO_FIRST_SMALL + i))
		url=$(wg_url a)
		((i % 2)) && url=$(wg_url b)
		if ((i == FO_KILL_AT)); then
			[[ -n $FO_BEFORE_KILL ]] && "$FO_BEFORE_KILL"
			fo__failover >>"$WG_TMP/failover.log" 2>&1 &
			failover_pid=$!
		fi
		fo__req upload POST "$url/batches/$b/witness-inputs" -H "Authorization: Bearer $PL_TREE" \
			-H 'Content-Type: application/json' --data-binary "@$WG_TMP/in$b.json"
		case $HTTP_STATUS in
		201) FO_ACKED_UPLOADS+=("$b") ;;
		503) FO_REFUSED_UPLOADS+=("$b") ;;
		*) fail "upload of batch $b: HTTP $HTTP_STATUS $HTTP_BODY" ;;
		esac
		fo_prove_by_hand "$url"
		fo__req readyz GET "$(wg_url a)/readyz"
		ready_a=$HTTP_STATUS
		fo__seq FO_READYZ_A "$ready_a"
		fo__req readyz GET "$(wg_url b)/readyz"
		ready_b=$HTTP_STATUS
		fo__seq FO_READYZ_B "$ready_b"
		if grep -q '^killed' "$WG_TMP/failover" && ! grep -q '^promoted' "$WG_TMP/failover"; then
			during=$((during + 1))
			((during < 3)) || : >"$WG_TMP/gap-seen" # the first may have begun before the kill
		fi
		if grep -q '^promoted' "$WG_TMP/failover"; then
			after=$((after + 1))
			[[ ${FO_ACKED_UPLOADS[-1]:-} == "$b" ]] && acked_after=$((acked_after + 1))
			((after >= 6 && acked_after >= 3)) && [[ $ready_a == 200 && $ready_b == 200 ]] && break
		fi
		sleep 0.05
	done
	((i < FO_MAX_ITER)) || fail "the loop ran $FO_MAX_ITER passes without the daemons recovering"
	wait "$failover_pid" || {
		cat "$WG_TMP/failover.log" >&2
		fail "the failover failed"
	}
	# The background failover's variables, for this shell.
	FO_KILLED_AT=$(sed -n 's/^killed //p' "$WG_TMP/failover")
	FO_PROMOTED_AT=$(sed -n 's/^promoted //p' "$WG_TMP/failover")
	WG_PGDIR=$FO_STANDBY
	echo "# failover: gap (kill to promotion) $(awk -v a="$FO_KILLED_AT" -v b="$FO_PROMOTED_AT" \
		'BEGIN { printf "%d", (b - a) * 1000 }') ms, $during passes in the gap, $((i + 1)) passes in all"
	echo "# answers: $(for k in "${!FO_COUNT[@]}"; do echo "$k=${FO_COUNT[$k]}"; done | sort | tr '\n' ' ')"
}
