#!/bin/bash
# t_crash_random.sh: kill -9 of the daemon at random moments loses nothing (issue 4, point 2).
# While a tree-service loop uploads five batches (two with hundreds to thousands of basic
# circuits, so that kills land in basic rounds) and a wg-prover with 4 threads proves them, the
# daemon is killed at least KILLS times after random sleeps of 0.2-1.5 s and restarted each time
# under the same --instance-id. The uploader and the prover are never restarted: they retry
# through the outages by themselves. At the end every upload was acknowledged, every batch is
# `proven`, the exactly-once invariants of crash_lib.sh hold, and the prover never had a proof
# rejected (the witnesses it proved did not change under it).
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
# shellcheck source=tests/integration/crash_lib.sh
. "$WG_SRCDIR/tests/integration/crash_lib.sh"

wg_setup
T0=$SECONDS
KILLS=${WG_CRASH_KILLS:-12}
CL_LEAF_ARITY=8
CL_NODE_ARITY=4
# A short prover lease: a claim whose answer died with the daemon comes back within seconds.
# One job may be interrupted by many kills in a row, so attempts are not what is tested here.
DAEMON_ARGS=(--leaf-arity 8 --node-arity 4 --workers 2 --lease 4 --housekeeping-ms 200 --poll-ms 200
	--max-attempts 1000)

wg_start_daemon a "${DAEMON_ARGS[@]}"
pl_use a
URL=$PL_URL

BATCHES=(1 2 3 4 5)
cl_prepare 1 600 "main_vm=$((5390 * 300)),keccak256=$((293 * 100))"
cl_prepare 2 40 "main_vm=$((5390 * 5)),code_decommitter=$((2845 * 3))"
cl_prepare 3 300 "main_vm=$((5390 * 1200)),keccak256=$((293 * 600)),sha256=$((2206 * 200))"
cl_prepare 4 0 "ecrecover=$((7 * 40)),secp256r1_verify=$((4 * 30)),l1_messages_hasher=$((774 * 9))"
cl_prepare 5 70 "main_vm=$((5390 * 20)),log_demuxer=$((58125 * 3)),events_sorter=$((31287 * 2))"
total=0
for b in "${BATCHES[@]}"; do
	total=$((total + $(cl_circuits "$b")))
done
echo "# $total prover jobs in ${#BATCHES[@]} batches; basic circuits of batch 1: $(awk -F'|' '$1 == 0 { n += $4 }
	END { print n }' <<<"${CL_EXPECTED[1]}"), of batch 3: $(awk -F'|' '$1 == 0 { n += $4 } END { print n }' <<<"${CL_EXPECTED[3]}")"

# The tree service: uploads each batch until it is acknowledged (201, or 200 when an earlier
# attempt was stored but its answer died), 1-3 s apart, so that the basic rounds of the big
# batches run while the kills go on. Plain curl: this is a subshell.
uploader() {
	local b code
	for b in 2 1 4 3 5; do
		sleep "$((1 + RANDOM % 2)).$((RANDOM % 10))"
		while :; do
			code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $PL_TREE" \
				-H 'Content-Type: application/json' --data-binary "@$WG_TMP/in$b.json" \
				"$URL/batches/$b/witness-inputs") || code=000
			echo "$b $code" >>"$WG_TMP/uploads.log"
			[[ $code == 200 || $code == 201 ]] && break
			sleep 0.2
		done
	done
	echo finished >>"$WG_TMP/uploads.log"
}
uploader &
UPLOADER=$!
cl_start_prover p "$URL" --concurrency 4

# landed: what the daemon was doing when it died, read from the database it left behind.
landed() {
	wg_psql "SELECT concat_ws(' ',
		CASE WHEN EXISTS (SELECT 1 FROM basic_circuit_witness_jobs WHERE status = 'in_progress' AND picked_by = 'a')
			THEN 'basic' END,
		CASE WHEN EXISTS (SELECT 1 FROM leaf_aggregation_jobs WHERE status = 'in_progress' AND picked_by = 'a')
			OR EXISTS (SELECT 1 FROM node_aggregation_jobs WHERE status = 'in_progress' AND picked_by = 'a')
			OR EXISTS (SELECT 1 FROM scheduler_witness_jobs WHERE status = 'in_progress' AND picked_by = 'a')
			THEN 'aggregation' END)"
}

in_basic=0
kills=0
kill_once() {
	local where b
	wg_kill_daemon a
	kills=$((kills + 1))
	where=$(landed)
	[[ $where == *basic* ]] && in_basic=$((in_basic + 1))
	# Whatever the kill interrupted, the invariants hold in the database it left.
	for b in "${BATCHES[@]}"; do
		assert_eq "" "$(cl_violations "$b")" "batch $b, right after kill $kills"
	done
	echo "# kill $kills at $((SECONDS - T0)) s: in progress: ${where:-no witness job}"
	wg_start_daemon a "${DAEMON_ARGS[@]}"
	assert_eq "$URL" "$(wg_url a)" "the restarted daemon keeps its port"
}

for ((i = 0; i < KILLS; i++)); do
	# 0.2 to 1.5 s
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.2 + 1.3 * r / 32767 }')"
	kill_once
done

# If chance kept every kill out of the basic rounds, aim one more into the basic round of an
# extra batch with 2000 basic circuits.
basic_running() {
	[[ $(wg_psql "SELECT count(*) FROM basic_circuit_witness_jobs WHERE status = 'in_progress'") -gt 0 ]]
}
if ((in_basic == 0)); then
	# The basic round streams its witnesses and flushes once, so it is short; 4,000 storage logs
	# to parse and replay make it last long enough to be caught.
	echo "# no random kill landed in a basic round; uploading batch 6 (4,000 storage logs) to aim one"
	cl_prepare 6 4000 "main_vm=$((5390 * 1000))"
	BATCHES+=(6)
	cl_upload 6 30
	wg_wait_until 30 basic_running
	sleep "0.$((RANDOM % 3))"
	kill_once
	assert_eq 1 "$in_basic" "the aimed kill landed in a basic round"
fi
assert_eq 1 "$((kills >= 10))" "at least 10 kills ($kills)"
assert_eq 1 "$((in_basic >= 1))" "a kill in a basic round"

# Every upload acknowledged: the uploader ends once each batch got 201 or 200.
uploads_done() {
	[[ -s $WG_TMP/uploads.log && $(tail -n 1 "$WG_TMP/uploads.log") == finished ]]
}
wg_wait_until 60 uploads_done
wait "$UPLOADER"
for b in 1 2 3 4 5; do
	assert_contains "$(grep "^$b " "$WG_TMP/uploads.log" | tail -n 1)" "$b 20" "batch $b upload acknowledged"
done
echo "# uploads: $(grep -c -v finished "$WG_TMP/uploads.log") attempts for 5 batches: $(grep -v finished "$WG_TMP/uploads.log" |
	awk '{ print $2 }' | sort | uniq -c | tr -s ' \n' ' ')"

cl_wait_proven 120 "${BATCHES[@]}"
check_invariants "${BATCHES[@]}"
cl_stop_prover p
summary=$(grep 'wg-prover: proved' "$WG_TMP/prover-p.log" | tail -n 1)
echo "# $summary"
assert_contains "$summary" "rejected proofs 0" "wg-prover summary"
echo "# t_crash_random: $kills kills ($in_basic in a basic round) in $((SECONDS - T0)) s"
