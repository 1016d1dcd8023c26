# shellcheck shell=bash
# crash_lib.sh: what the robustness tests (t_crash_points, t_crash_random, t_db_outage,
# t_many_daemons) share: the exactly-once invariants checked after crashes and outages, and
# running wg-prover and uploads across daemon restarts. Source it after lib.sh and
# pipeline_lib.sh, then call wg_setup and pl_use:
#
#   CL_LEAF_ARITY=2 CL_NODE_ARITY=2
#   wg_start_daemon a --leaf-arity 2 --node-arity 2
#   pl_use a
#   cl_prepare 1 40 "main_vm=20000"          # $WG_TMP/in1.json, expected jobs remembered
#   cl_upload 1 30; cl_start_prover p "$PL_URL"
#   cl_wait_proven 60 1
#   check_invariants 1
#
# check_invariants holds at any moment for the per-job part (cl_violations), and at the end for
# the rest: every job successful, layers as docs/circuits.md says, batch `proven`, proof served.

CL_LEAF_ARITY=${CL_LEAF_ARITY:-32}
CL_NODE_ARITY=${CL_NODE_ARITY:-32}
declare -gA CL_EXPECTED=()   # batch -> expected_counts output for its workload
declare -gA CL_PROVER_PID=() # name -> pid of a wg-prover started by cl_start_prover
CL_EXIT_STATUS=

# cl_prepare BATCH LOGS WORKLOAD: write a generated input to $WG_TMP/inBATCH.json and remember
# the prover jobs docs/circuits.md gives it under CL_LEAF_ARITY and CL_NODE_ARITY.
cl_prepare() {
	local batch=$1 logs=$2 workload=$3
	local -a counts
	pl_gen_input "$batch" --logs "$logs" ${workload:+--workload "$workload"} --seed "$batch" \
		>"$WG_TMP/in$batch.json"
	read -ra counts <<<"$(circuit_counts "$workload" "$logs")"
	CL_EXPECTED[$batch]=$(expected_counts "$CL_LEAF_ARITY" "$CL_NODE_ARITY" "${counts[@]}")
}

# cl_circuits BATCH: the number of prover jobs batch BATCH must get (after cl_prepare).
cl_circuits() {
	awk -F'|' '{ n += $4 } END { print n }' <<<"${CL_EXPECTED[$1]}"
}

# cl_upload BATCH SECONDS [URL]: upload $WG_TMP/inBATCH.json until it is acknowledged (201, or
# 200 when an earlier attempt was stored but its answer lost), retrying on no answer and 503;
# any other answer ends the test. Sets HTTP_* to the acknowledgement.
cl_upload() {
	local batch=$1 limit=$2 url=${3:-$PL_URL} deadline
	deadline=$((SECONDS + limit))
	while :; do
		wg_http POST "$url/batches/$batch/witness-inputs" -H "Authorization: Bearer $PL_TREE" \
			-H 'Content-Type: application/json' --data-binary "@$WG_TMP/in$batch.json"
		case $HTTP_STATUS in
		200 | 201) break ;;
		000 | 503) ;;
		*) fail "upload of batch $batch: HTTP $HTTP_STATUS: $HTTP_BODY" ;;
		esac
		((SECONDS < deadline)) || fail "upload of batch $batch not acknowledged within $limit s"
		sleep 0.2
	done
	wg__pass
}

# cl_start_prover NAME URL [WG-PROVER OPTIONS...]: run wg-prover in the background (log in
# $WG_TMP/prover-NAME.log) until cl_stop_prover; it retries through daemon restarts by itself.
cl_start_prover() {
	local name=$1 url=$2
	shift 2
	[[ -z ${CL_PROVER_PID[$name]:-} ]] || fail "prover $name is already running"
	WG_PROVER_TOKEN=$PL_PROVER "$WG_BUILDDIR/wg-prover" --url "$url" --prover-id "$name" "$@" \
		</dev/null >>"$WG_TMP/prover-$name.log" 2>&1 &
	CL_PROVER_PID[$name]=$!
}

# cl_stop_prover NAME: SIGTERM wg-prover NAME and wait for it (it must exit 0 within 30 s).
cl_stop_prover() {
	local name=$1 pid rc=0 deadline
	pid=${CL_PROVER_PID[$1]:-}
	[[ -n $pid ]] || fail "prover $name is not running"
	kill -TERM "$pid" 2>/dev/null || true
	deadline=$((SECONDS + 30))
	while kill -0 "$pid" 2>/dev/null && [[ $(cl__state "$pid") != Z ]] && ((SECONDS < deadline)); do
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && [[ $(cl__state "$pid") != Z ]] && kill -KILL "$pid" 2>/dev/null
	wait "$pid" || rc=$?
	unset "CL_PROVER_PID[$name]"
	assert_eq 0 "$rc" "wg-prover $name exit status (log: $(tail -n 3 "$WG_TMP/prover-$name.log" | tr '\n' ' '))"
}

cl__state() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
		echo gone
		return
	}
	stat=${stat##*) }
	echo "${stat%% *}"
}

# cl_wait_exit NAME SECONDS: wait for daemon NAME to exit by itself (a fault point) and reap it;
# sets CL_EXIT_STATUS. Fails when it is still running after SECONDS.
cl_wait_exit() {
	local name=$1 limit=$2 pid deadline state
	pid=$(wg_daemon_pid "$name")
	deadline=$((SECONDS + limit))
	while :; do
		state=$(cl__state "$pid")
		[[ $state == gone || $state == Z ]] && break
		((SECONDS < deadline)) || fail "daemon $name still running $limit s after it should have died"
		sleep 0.05
	done
	wg__stop_daemon_quietly "$name" KILL # only reaps: the process is gone
	# shellcheck disable=SC2034 # read by the tests
	CL_EXIT_STATUS=$WG__LAST_STATUS
}

# cl_batch_status BATCH [URL]: print the status of BATCH ("" if none, "?" if no answer).
cl_batch_status() {
	local url=${2:-$PL_URL} body
	body=$(curl -sS --max-time 10 -H "Authorization: Bearer $PL_VIEWER" "$url/batches/$1" 2>/dev/null) || {
		echo "?"
		return 0
	}
	jq -r '.status // ""' <<<"$body" 2>/dev/null || echo "?"
}

cl__all_proven() {
	local batch status
	for batch in "$@"; do
		status=$(cl_batch_status "$batch")
		if [[ $status == failed ]]; then
			fail "batch $batch failed: $(curl -sS -H "Authorization: Bearer $PL_VIEWER" "$PL_URL/batches/$batch")"
		fi
		[[ $status == proven ]] || return 1
	done
}

# cl_wait_proven SECONDS BATCH...: wait until every BATCH is `proven` (someone must be proving);
# ends the test if one fails or time runs out.
cl_wait_proven() {
	local limit=$1
	shift
	wg_wait_until "$limit" cl__all_proven "$@"
	wg__pass
}

# cl_violations BATCH: print one line per broken exactly-once invariant of BATCH (nothing when
# all hold). These hold at every moment, not only at the end, since each is read in one
# snapshot and every state change that matters is one transaction:
# - each (round, circuit, depth, sequence) once, sequence numbers 0..n-1 per layer;
# - each witness job once per (batch, circuit, depth);
# - proofs_done of every leaf, node and scheduler job equals the successful prover jobs of the
#   layer it awaits, and the number it awaits equals the jobs of that layer (once known);
# - no witness job waits (`waiting_for_proofs`) while every proof it awaits is successful.
cl_violations() {
	local b=$1
	wg_psql "
	WITH layer AS (
		SELECT aggregation_round AS r, circuit_id AS c, depth AS d, count(*) AS n,
			count(*) FILTER (WHERE status = 'successful') AS ok
		FROM prover_jobs WHERE l1_batch_number = $b GROUP BY 1, 2, 3)
	SELECT 'duplicate prover job (round ' || aggregation_round || ', circuit ' || circuit_id || ', depth '
		|| depth || ', sequence ' || sequence_number || ') x' || count(*)
	FROM prover_jobs WHERE l1_batch_number = $b
	GROUP BY aggregation_round, circuit_id, depth, sequence_number HAVING count(*) > 1
	UNION ALL
	SELECT 'layer (round ' || r || ', circuit ' || c || ', depth ' || d || ') sequence numbers not 0..'
		|| (n - 1)
	FROM layer JOIN (SELECT aggregation_round AS r, circuit_id AS c, depth AS d, min(sequence_number) AS lo,
			max(sequence_number) AS hi FROM prover_jobs WHERE l1_batch_number = $b GROUP BY 1, 2, 3) s
		USING (r, c, d)
	WHERE lo <> 0 OR hi <> n - 1
	UNION ALL
	SELECT 'basic job x' || count(*) FROM basic_circuit_witness_jobs WHERE l1_batch_number = $b
	HAVING count(*) > 1
	UNION ALL
	SELECT 'leaf job ' || circuit_id || ' x' || count(*) FROM leaf_aggregation_jobs WHERE l1_batch_number = $b
	GROUP BY circuit_id HAVING count(*) > 1
	UNION ALL
	SELECT 'node job ' || circuit_id || '/' || depth || ' x' || count(*) FROM node_aggregation_jobs
	WHERE l1_batch_number = $b GROUP BY circuit_id, depth HAVING count(*) > 1
	UNION ALL
	SELECT 'scheduler job x' || count(*) FROM scheduler_witness_jobs WHERE l1_batch_number = $b
	HAVING count(*) > 1
	UNION ALL
	SELECT 'leaf job of circuit ' || l.circuit_id || ': ' || l.status || ', proofs_done ' || l.proofs_done
		|| ', number_of_basic_circuits ' || l.number_of_basic_circuits || ', basic prover jobs '
		|| coalesce(x.n, 0) || ' (' || coalesce(x.ok, 0) || ' successful)'
	FROM leaf_aggregation_jobs l LEFT JOIN layer x ON x.r = 0 AND x.c = l.circuit_id AND x.d = 0
	WHERE l.l1_batch_number = $b AND (l.proofs_done <> coalesce(x.ok, 0)
		OR l.number_of_basic_circuits <> coalesce(x.n, 0)
		OR (l.status = 'waiting_for_proofs' AND coalesce(x.ok, 0) >= l.number_of_basic_circuits))
	UNION ALL
	SELECT 'node job of circuit ' || j.circuit_id || ' depth ' || j.depth || ': ' || j.status || ', proofs_done '
		|| j.proofs_done || ', number_of_dependent_jobs ' || coalesce(j.number_of_dependent_jobs::text, 'NULL')
		|| ', prover jobs below ' || coalesce(x.n, 0) || ' (' || coalesce(x.ok, 0) || ' successful)'
	FROM node_aggregation_jobs j LEFT JOIN layer x
		ON x.c = j.circuit_id AND ((j.depth = 0 AND x.r = 1 AND x.d = 0) OR (j.depth > 0 AND x.r = 2 AND x.d = j.depth - 1))
	WHERE j.l1_batch_number = $b AND (j.proofs_done <> coalesce(x.ok, 0)
		OR j.number_of_dependent_jobs <> coalesce(x.n, 0)
		OR (j.status = 'waiting_for_proofs' AND coalesce(x.ok, 0) >= j.number_of_dependent_jobs))
	UNION ALL
	SELECT 'scheduler job: ' || s.status || ', proofs_done ' || s.proofs_done || ', number_of_dependent_jobs '
		|| s.number_of_dependent_jobs || ', circuit types ' || t.types || ', final node proofs successful ' || f.ok
	FROM scheduler_witness_jobs s,
		LATERAL (SELECT count(*) AS types FROM leaf_aggregation_jobs l WHERE l.l1_batch_number = s.l1_batch_number) t,
		LATERAL (SELECT count(*) FILTER (WHERE p.status = 'successful') AS ok FROM prover_jobs p
			WHERE p.l1_batch_number = s.l1_batch_number AND p.aggregation_round = 2
			AND NOT EXISTS (SELECT 1 FROM node_aggregation_jobs n WHERE n.l1_batch_number = p.l1_batch_number
				AND n.circuit_id = p.circuit_id AND n.depth = p.depth + 1)) f
	WHERE s.l1_batch_number = $b AND (s.proofs_done <> f.ok OR s.number_of_dependent_jobs <> t.types
		OR (s.status = 'waiting_for_proofs' AND f.ok >= s.number_of_dependent_jobs))"
}

# check_invariants BATCH...: each BATCH (prepared with cl_prepare) is finished and exactly once:
# the invariants of cl_violations; its prover jobs per (round, circuit, depth) are those of
# docs/circuits.md for its workload, all successful with a proof; its witness jobs are one basic, one
# leaf per circuit type, one node per layer and one scheduler, all successful; GET /batches/N
# says `proven`; GET /batches/N/proof serves "WGREF1" || H(scheduler witness).
check_invariants() {
	local b expected violations n_types n_layers sched_id
	for b in "$@"; do
		expected=${CL_EXPECTED[$b]:-}
		[[ -n $expected ]] || fail "check_invariants: batch $b was not prepared with cl_prepare"
		violations=$(cl_violations "$b")
		assert_eq "" "$violations" "batch $b: exactly-once invariants"
		assert_eq "$expected" "$(pl_sql_counts "$b")" "batch $b: prover jobs per (round, circuit, depth) (docs/circuits.md)"
		assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = $b
			AND (status <> 'successful' OR proof_hash IS NULL
				OR NOT EXISTS (SELECT 1 FROM proofs WHERE prover_job_id = prover_jobs.id))")" \
			"batch $b: prover jobs not successful with a stored proof"
		n_types=$(awk -F'|' '$1 == 0' <<<"$expected" | wc -l)
		n_layers=$(awk -F'|' '$1 == 2' <<<"$expected" | wc -l)
		assert_eq "1|1 $n_types|$n_types $n_layers|$n_layers 1|1" "$(wg_psql "
			SELECT count(*) || '|' || count(*) FILTER (WHERE status = 'successful')
			FROM basic_circuit_witness_jobs WHERE l1_batch_number = $b
			UNION ALL SELECT count(*) || '|' || count(*) FILTER (WHERE status = 'successful')
			FROM leaf_aggregation_jobs WHERE l1_batch_number = $b
			UNION ALL SELECT count(*) || '|' || count(*) FILTER (WHERE status = 'successful')
			FROM node_aggregation_jobs WHERE l1_batch_number = $b
			UNION ALL SELECT count(*) || '|' || count(*) FILTER (WHERE status = 'successful')
			FROM scheduler_witness_jobs WHERE l1_batch_number = $b" | tr '\n' ' ' | sed 's/ $//')" \
			"batch $b: witness jobs (basic, leaf, node, scheduler) as count|successful"
		pl_get "/batches/$b"
		assert_status 200
		assert_json_eq .status proven
		assert_json_eq '[.rounds[].aggregation_round] | join(",")' "0,1,2,3"
		# The final proof is the reference proof of the scheduler witness.
		sched_id=$(wg_psql "SELECT id FROM prover_jobs WHERE l1_batch_number = $b AND aggregation_round = 3")
		wg_http GET "$PL_URL/jobs/$sched_id/witness" -H "Authorization: Bearer $PL_ADMIN"
		assert_status 200
		cp "$HTTP_BODY_FILE" "$WG_TMP/cl-sched-witness"
		pl_ref_prove "$WG_TMP/cl-sched-witness" "$WG_TMP/cl-sched-proof"
		pl_get "/batches/$b/proof"
		assert_status 200
		cmp -s "$WG_TMP/cl-sched-proof" "$HTTP_BODY_FILE" ||
			fail "batch $b: GET /batches/$b/proof is not WGREF1 || H(scheduler witness)"
		wg__pass
	done
}
