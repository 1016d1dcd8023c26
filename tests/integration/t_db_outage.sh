#!/bin/bash
# t_db_outage.sh: PostgreSQL stopped and restarted under load (issue 4, point 3). A client loop
# uploads a new small batch, proves one keccak256 circuit of batch 1 by hand (claim, witness,
# complete) and asks /readyz, again and again, while a wg-prover proves every other circuit; in
# the middle of the loop the cluster is stopped for 3 s (and at least two whole passes) and
# started again, and three circuits claimed and proved before the outage are completed while it
# is down. Throughout, the daemon stays up (same pid) and answers every request within 10 s,
# with `503 unavailable` (never 500, never no answer) while the database is down; /readyz goes
# 200 → 503 → 200; it reconnects by itself and its round workers resume: batch 1, uploaded
# before the outage, reaches `proven`.
# No request is half-applied: the test records the acknowledged requests (uploads answered 201,
# completions answered 200; nothing refused is retried) and checks after recovery that exactly
# those took effect: exactly those batches exist, exactly those keccak256 circuits are
# `successful` with a stored proof. A refused upload retried after the outage is then stored.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
# shellcheck source=tests/integration/crash_lib.sh
. "$WG_SRCDIR/tests/integration/crash_lib.sh"

wg_setup
T0=$SECONDS
CL_LEAF_ARITY=4
CL_NODE_ARITY=2
# Short leases: jobs whose holder lost track of them in the outage come back within seconds.
wg_start_daemon a --leaf-arity 4 --node-arity 2 --lease 6 --witness-lease 5 --housekeeping-ms 200 \
	--poll-ms 200
pl_use a
PID=$(wg_daemon_pid a)
KECCAK=5 # the circuit id proved by hand; wg-prover proves every other one

# Batch 1, before the outage: 40 keccak256 circuits for the hand prover, and other work.
cl_prepare 1 40 "main_vm=$((5390 * 20)),keccak256=$((293 * 40)),code_decommitter=$((2845 * 6))"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
basic_done() {
	[[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1") == successful ]]
}
wg_wait_until 30 basic_done
others=0,1,2,3,4,6,7,8,9,10,11,12,13,14,15
cl_start_prover others "$PL_URL" --concurrency 2 --circuits "$others"

# The small batches the loop uploads, one circuit each, made in advance.
FIRST_SMALL=100
MAX_ITER=150
for ((b = FIRST_SMALL; b < FIRST_SMALL + MAX_ITER; b++)); do
	cl_prepare "$b" 0 "main_vm=$((1 + b))"
done

# ---------------------------------------------------------------- the loop

WG_HTTP_TIMEOUT=10
declare -A count=()      # "what status" -> how many
acked_uploads=()         # batches answered 201
refused_uploads=()       # batches answered 503 (never retried)
acked_completions=()     # keccak256 prover jobs whose completion was answered 200
refused_completions=()   # ... answered 503 (never retried)
readyz_seq=              # /readyz answers, runs collapsed: "200 503 200"

# req WHAT METHOD URL [CURL ARGS...]: wg_http, which must answer within 10 s, with an allowed
# status for WHAT; a 503 must be `unavailable`. Counts the answers.
req() {
	local what=$1 start=$EPOCHREALTIME ms
	shift
	wg_http "$@"
	ms=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
	((ms < 10000)) || fail "$what: $1 $2 took $ms ms"
	count["$what $HTTP_STATUS"]=$((${count["$what $HTTP_STATUS"]:-0} + 1))
	case $HTTP_STATUS in
	503) assert_error_code unavailable ;;
	000) fail "$what: $1 $2: no answer while the daemon should be up" ;;
	500) fail "$what: $1 $2: 500 $HTTP_BODY" ;;
	esac
}

# One pass of the hand prover: claim a keccak256 basic circuit, download its witness, prove it
# and complete it. A 503 anywhere drops the job (its lease expires later).
prove_by_hand() {
	local id lease
	req claim POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
		--data-binary "{\"prover_id\":\"hand\",\"protocol_version\":24,\"rounds\":[0],\"circuit_ids\":[$KECCAK]}"
	case $HTTP_STATUS in
	200) ;;
	204 | 503) return 0 ;;
	*) fail "claim: HTTP $HTTP_STATUS $HTTP_BODY" ;;
	esac
	id=$(wg_json .id)
	lease=$(wg_json .lease)
	req witness GET "$PL_URL/jobs/$id/witness" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: $lease"
	case $HTTP_STATUS in
	200) ;;
	503) return 0 ;;
	*) fail "witness of job $id: HTTP $HTTP_STATUS $HTTP_BODY" ;;
	esac
	cp "$HTTP_BODY_FILE" "$WG_TMP/hand-witness"
	pl_ref_prove "$WG_TMP/hand-witness" "$WG_TMP/hand-proof"
	req complete POST "$PL_URL/proofs/$id/complete" -H "Authorization: Bearer $PL_PROVER" \
		-H 'Content-Type: application/octet-stream' -H "X-WG-Lease: $lease" --data-binary "@$WG_TMP/hand-proof"
	case $HTTP_STATUS in
	200) acked_completions+=("$id") ;;
	503) refused_completions+=("$id") ;;
	409) assert_error_code lease_lost ;; # held across the outage longer than its lease
	*) fail "complete of job $id: HTTP $HTTP_STATUS $HTTP_BODY" ;;
	esac
}

# hold_jobs N: claim N keccak256 circuits and prove them, keeping id, lease and proof, to complete
# them once the database is down.
held=()
hold_jobs() {
	local k
	for ((k = 0; k < $1; k++)); do
		pl_claim "{\"prover_id\":\"hand\",\"protocol_version\":24,\"rounds\":[0],\"circuit_ids\":[$KECCAK]}"
		assert_status 200
		pl_witness "$PL_JOB_ID" "$WG_TMP/held-witness"
		pl_ref_prove "$WG_TMP/held-witness" "$WG_TMP/held-proof-$PL_JOB_ID"
		held+=("$PL_JOB_ID:$PL_JOB_LEASE")
	done
}

# complete_held: post the held completions (the database is down: each must be refused).
complete_held() {
	local job id
	for job in "${held[@]}"; do
		id=${job%%:*}
		req complete POST "$PL_URL/proofs/$id/complete" -H "Authorization: Bearer $PL_PROVER" \
			-H 'Content-Type: application/octet-stream' -H "X-WG-Lease: ${job#*:}" \
			--data-binary "@$WG_TMP/held-proof-$id"
		assert_status 503
		refused_completions+=("$id")
	done
	held=()
}

outage() {
	echo "stopping $((SECONDS - T0))" >>"$WG_TMP/outage"
	wg_pg_stop >>"$WG_TMP/outage.log" 2>&1
	echo "stopped $((SECONDS - T0))" >>"$WG_TMP/outage"
	sleep 3
	# On a loaded machine a pass of the loop can take seconds: the outage lasts until the loop
	# made two whole passes in it.
	local deadline=$((SECONDS + 60))
	while [[ ! -e $WG_TMP/outage-seen ]] && ((SECONDS < deadline)); do
		sleep 0.1
	done
	wg_pg_start >>"$WG_TMP/outage.log" 2>&1
	echo "started $((SECONDS - T0))" >>"$WG_TMP/outage"
}
: >"$WG_TMP/outage"

during=0 # passes ended while the cluster is down
after=0  # passes since the cluster is back
acked_after=0 # uploads acknowledged since the cluster is back
for ((i = 0; i < MAX_ITER; i++)); do
	b=$((FIRST_SMALL + i))
	if ((i == 4)); then
		hold_jobs 3
		outage &
		OUTAGE=$!
	fi
	if ((${#held[@]} > 0)) && grep -q '^stopped' "$WG_TMP/outage"; then
		complete_held
	fi
	req upload POST "$PL_URL/batches/$b/witness-inputs" -H "Authorization: Bearer $PL_TREE" \
		-H 'Content-Type: application/json' --data-binary "@$WG_TMP/in$b.json"
	case $HTTP_STATUS in
	201) acked_uploads+=("$b") ;;
	503) refused_uploads+=("$b") ;;
	*) fail "upload of batch $b: HTTP $HTTP_STATUS $HTTP_BODY" ;;
	esac
	prove_by_hand
	req batch GET "$PL_URL/batches/1" -H "Authorization: Bearer $PL_VIEWER"
	[[ $HTTP_STATUS == 200 || $HTTP_STATUS == 503 ]] || fail "GET /batches/1: HTTP $HTTP_STATUS"
	req readyz GET "$PL_URL/readyz"
	[[ $HTTP_STATUS == 200 || $HTTP_STATUS == 503 ]] || fail "GET /readyz: HTTP $HTTP_STATUS"
	[[ $readyz_seq == "$HTTP_STATUS" || $readyz_seq == *" $HTTP_STATUS" ]] || readyz_seq+="${readyz_seq:+ }$HTTP_STATUS"
	if grep -q '^stopped' "$WG_TMP/outage" && ! grep -q '^started' "$WG_TMP/outage"; then
		during=$((during + 1))
		((during < 3)) || : >"$WG_TMP/outage-seen" # the first may have begun before the stop
	fi
	if grep -q '^started' "$WG_TMP/outage"; then
		after=$((after + 1))
		[[ ${acked_uploads[-1]:-} == "$b" ]] && acked_after=$((acked_after + 1))
		# Enough passes with the database back and the daemon ready again (on a loaded machine
		# the first passes after the restart may still be refused while the daemon reconnects).
		((after >= 8 && acked_after >= 4)) && [[ $HTTP_STATUS == 200 ]] && break
	fi
	sleep 0.05
done
((i < MAX_ITER)) || fail "the loop ran $MAX_ITER passes without the daemon recovering"
wait "$OUTAGE"
echo "# outage: $(tr '\n' ' ' <"$WG_TMP/outage"); $((i + 1)) passes"
echo "# answers: $(for k in "${!count[@]}"; do echo "$k=${count[$k]}"; done | sort | tr '\n' ' ')"

# ---------------------------------------------------------------- what the outage did

assert_eq "$PID" "$(wg_daemon_pid a)" "the daemon process"
[[ $(cl__state "$PID") != gone && $(cl__state "$PID") != Z ]] || fail "the daemon died in the outage"
wg__pass
assert_eq "200 503 200" "$readyz_seq" "/readyz answers through the outage"
((${#refused_uploads[@]} > 0)) || fail "no upload was refused during the outage"
((${count[claim 503]:-0} > 0)) || fail "no claim was refused during the outage"
((${#acked_uploads[@]} >= 8)) || fail "only ${#acked_uploads[@]} uploads acknowledged"
((${#acked_completions[@]} >= 8)) || fail "only ${#acked_completions[@]} completions acknowledged"
((${#refused_completions[@]} >= 3)) || fail "only ${#refused_completions[@]} completions refused"
wg__pass

# Exactly the acknowledged uploads exist; a refused one is unknown to the API as well.
assert_eq "$(printf '%s\n' "${acked_uploads[@]}")" "$(wg_psql "SELECT l1_batch_number FROM basic_circuit_witness_jobs
	WHERE l1_batch_number >= $FIRST_SMALL ORDER BY 1")" "batches stored = uploads acknowledged"
pl_get "/batches/${refused_uploads[0]}"
assert_status 404
# The tree service retries a refused upload once the database is back: it is stored now.
retried=${refused_uploads[0]}
pl_upload "$retried" "$WG_TMP/in$retried.json"
assert_status 201
acked_uploads+=("$retried")
# Exactly the acknowledged completions are successful, each with its proof, and counted once.
sorted_acked=$(printf '%s\n' "${acked_completions[@]}" | sort -n)
assert_eq "$sorted_acked" "$(wg_psql "SELECT id FROM prover_jobs WHERE l1_batch_number = 1
	AND aggregation_round = 0 AND circuit_id = $KECCAK AND status = 'successful' ORDER BY id")" \
	"keccak256 circuits successful = completions acknowledged"
assert_eq "$sorted_acked" "$(wg_psql "SELECT p.prover_job_id FROM proofs p JOIN prover_jobs j ON j.id = p.prover_job_id
	WHERE j.l1_batch_number = 1 AND j.aggregation_round = 0 AND j.circuit_id = $KECCAK ORDER BY 1")" \
	"keccak256 proofs stored = completions acknowledged"
assert_eq "${#acked_completions[@]}" "$(wg_psql "SELECT proofs_done FROM leaf_aggregation_jobs
	WHERE l1_batch_number = 1 AND circuit_id = $KECCAK")" "keccak256 leaf job: proofs counted"
echo "# acknowledged: ${#acked_uploads[@]} uploads, ${#acked_completions[@]} completions;" \
	"refused: ${#refused_uploads[@]} uploads, ${#refused_completions[@]} completions"

# ---------------------------------------------------------------- the workers resumed

cl_stop_prover others
cl_start_prover all "$PL_URL" --concurrency 4
cl_wait_proven 60 1 "${acked_uploads[@]}"
check_invariants 1 "${acked_uploads[@]}"
cl_stop_prover all
assert_eq "$PID" "$(wg_daemon_pid a)" "the daemon process at the end"
echo "# t_db_outage: $((SECONDS - T0)) s"
