#!/bin/bash
# t_partition.sh: a silent network partition to PostgreSQL under prover load (issue 14, item 3).
# The cluster's packets are dropped (iptables, both directions, connections left open: nothing
# is refused, nothing is closed) for 25 s while wg-prover proves two batches and a hand prover
# (curl) proves their keccak256 circuits. Throughout, /readyz answers within 2 s; it says 503
# within 15 s of the partition's start; within 60 s of the heal every batch is proven with no
# restart; and every completion answered 200 before or during the partition (the hand prover's,
# and wg-prover's, which it logs) is `successful`: an acknowledged write is there after the
# fault, not just the system up. Fails without keepalives and a /readyz that never waits for
# the database (before them /readyz hung through the partition).
# Needs iptables and the right to use it (root, CAP_NET_ADMIN); it installs iptables if missing
# and fails, never skips, when it cannot drop packets.
# shellcheck shell=bash
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
# shellcheck source=tests/integration/crash_lib.sh
. "$WG_SRCDIR/tests/integration/crash_lib.sh"

PARTITION_S=25
KECCAK=5 # the circuit id proved by hand (every round); wg-prover proves every other one

if ! command -v iptables >/dev/null 2>&1; then
	apt-get install -y iptables >/dev/null 2>&1 || fail "iptables is missing and apt-get install -y iptables failed"
fi
iptables -w -L INPUT -n >/dev/null 2>&1 ||
	fail "iptables cannot read the INPUT chain (root with CAP_NET_ADMIN is needed): $(iptables -w -L INPUT -n 2>&1 | head -n 1)"

wg_setup
T0=$EPOCHREALTIME
PGPORT=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$WG_DB")
[[ -n $PGPORT ]] || fail "no port in $WG_DB"

# The rules drop what goes to the cluster and what comes from it; the exit hook removes them
# whatever happens, before the harness stops the cluster.
RULES=("INPUT -p tcp --dport $PGPORT -j DROP" "INPUT -p tcp --sport $PGPORT -j DROP")
partition_on() {
	local rule
	for rule in "${RULES[@]}"; do
		# shellcheck disable=SC2086 # a rule is words
		iptables -w -I $rule || fail "iptables -I $rule failed"
	done
}
partition_off() {
	local rule
	for rule in "${RULES[@]}"; do
		# shellcheck disable=SC2086
		while iptables -w -D $rule 2>/dev/null; do :; done
	done
}
wg_on_exit partition_off

# ms since the test began.
now_ms() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

CL_LEAF_ARITY=4
CL_NODE_ARITY=2
# Short leases: jobs whose holder lost track of them in the partition come back within seconds.
wg_start_daemon a --leaf-arity 4 --node-arity 2 --lease 8 --witness-lease 6 --housekeeping-ms 200 --poll-ms 200
pl_use a
PID=$(wg_daemon_pid a)
BATCHES=(1 2)
for b in "${BATCHES[@]}"; do
	cl_prepare "$b" 20 "main_vm=$((5390 * 12)),keccak256=$((293 * 30)),code_decommitter=$((2845 * 4))"
	cl_upload "$b" 30
done
# 400 ms a proof: the prover is still at work when the partition begins.
others=0,1,2,3,4,6,7,8,9,10,11,12,13,14,15
cl_start_prover others "$PL_URL" --concurrency 2 --circuits "$others" --prove-ms 400 --timeout 30 --verbose

# ---------------------------------------------------------------- the watchers

STOP="$WG_TMP/stop"
# /readyz every 0.2 s: "ms-since-start status seconds-taken" a line; curl gives up at 2 s.
readyz_loop() {
	local line
	while [[ ! -e $STOP ]]; do
		line=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 2 "$PL_URL/readyz" 2>/dev/null) ||
			line="000 ${line#* }"
		echo "$(now_ms) $line" >>"$WG_TMP/readyz"
		sleep 0.2
	done
}

# The hand prover: claims a keccak256 circuit (basic, leaf or node), downloads its witness, proves it and completes
# it, sending the claim's lease back verbatim. Records every completion answered 200.
hand_loop() {
	local dir="$WG_TMP/hand" code id lease
	mkdir -p "$dir"
	while [[ ! -e $STOP ]]; do
		code=$(curl -s -o "$dir/claim" -w '%{http_code}' --max-time 30 -X POST "$PL_URL/jobs/claim" \
			-H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/json' \
			--data-binary "{\"prover_id\":\"hand\",\"protocol_version\":24,\"circuit_ids\":[$KECCAK]}") ||
			code=000
		if [[ $code != 200 ]]; then
			sleep 0.2
			continue
		fi
		id=$(jq -r .id "$dir/claim")
		lease=$(jq -r .lease "$dir/claim")
		code=$(curl -s -o "$dir/witness" -w '%{http_code}' --max-time 30 "$PL_URL/jobs/$id/witness" \
			-H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: $lease") || code=000
		[[ $code == 200 ]] || continue
		"$PL_REF_PROVE" "$dir/witness" >"$dir/proof" || continue
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X POST "$PL_URL/proofs/$id/complete" \
			-H "Authorization: Bearer $PL_PROVER" -H 'Content-Type: application/octet-stream' \
			-H "X-WG-Lease: $lease" --data-binary "@$dir/proof") || code=000
		echo "$(now_ms) $id $code" >>"$WG_TMP/completions"
		sleep 0.1
	done
}
: >"$WG_TMP/readyz"
: >"$WG_TMP/completions"
readyz_loop &
READYZ_PID=$!
hand_loop &
HAND_PID=$!

# ---------------------------------------------------------------- the partition

sleep 4 # load before the partition
PART_START=$(now_ms)
partition_on
echo "# partition on at ${PART_START} ms (port $PGPORT)"
sleep "$PARTITION_S"
partition_off
HEAL=$(now_ms)
HEAL_S=$SECONDS
echo "# partition off at $HEAL ms"

# Serving again: a request that needs the database answers 200, long before 60 s.
serving() {
	wg_http GET "$PL_URL/batches/1" -H "Authorization: Bearer $PL_VIEWER"
	[[ $HTTP_STATUS == 200 ]]
}
WG_HTTP_TIMEOUT=10 wg_wait_until 60 serving
echo "# serving again $(($(now_ms) - HEAL)) ms after the heal"

# Every batch proven within 60 s of the heal. The hand prover is slow (a few processes a job, on a
# machine that may be busy): a second wg-prover takes every circuit, keccak256 too.
cl_start_prover all "$PL_URL" --concurrency 2 --timeout 30
cl_wait_proven $((60 - (SECONDS - HEAL_S))) "${BATCHES[@]}"
PROVEN=$(now_ms)
echo "# proven $((PROVEN - HEAL)) ms after the heal"
: >"$STOP"
wait "$READYZ_PID" "$HAND_PID"
cl_stop_prover others
cl_stop_prover all

# ---------------------------------------------------------------- what the partition did

assert_eq "$PID" "$(wg_daemon_pid a)" "the daemon process (no restart)"

# /readyz: always an answer within 2 s, 200 or 503; 200 before; 503 within 15 s of the start.
bad=$(awk '$2 != 200 && $2 != 503 || $3 >= 2' "$WG_TMP/readyz")
assert_eq "" "$bad" "/readyz answers slower than 2 s or neither 200 nor 503 (ms status seconds)"
assert_eq 200 "$(awk -v p="$PART_START" '$1 < p { s = $2 } END { print s }' "$WG_TMP/readyz")" \
	"/readyz before the partition"
first_503=$(awk -v p="$PART_START" '$1 >= p && $2 == 503 { print $1 - p; exit }' "$WG_TMP/readyz")
[[ -n $first_503 ]] || fail "/readyz never said 503 during the partition"
((first_503 <= 15000)) || fail "/readyz said 503 only $first_503 ms after the partition began"
echo "# /readyz: 503 $first_503 ms after the partition began; $(wc -l <"$WG_TMP/readyz") answers"
assert_eq 200 "$(tail -n 1 "$WG_TMP/readyz" | awk '{ print $2 }')" "/readyz after the heal"
wg__pass

# Every completion answered 200 before or during the partition is successful, with its proof.
acked=$(awk -v h="$HEAL" '$1 < h && $3 == 200 { print $2 }' "$WG_TMP/completions" | sort -n -u)
[[ -n $acked ]] || fail "no completion was acknowledged before the heal"
assert_eq "$acked" "$(wg_psql "SELECT id FROM prover_jobs WHERE id IN ($(tr '\n' ',' <<<"$acked" | sed 's/,$//'))
	AND status = 'successful' AND EXISTS (SELECT 1 FROM proofs WHERE prover_job_id = prover_jobs.id) ORDER BY id")" \
	"completions acknowledged before the heal are successful with a proof"
echo "# completions: $(awk '{ print $3 }' "$WG_TMP/completions" | sort | uniq -c | tr -s ' \n' ' ')"
# And every proof wg-prover saw acknowledged (it logs "job ID (...): proved" on a 200).
acked=$(grep -ho 'job [0-9]* ([^)]*): proved' "$WG_TMP/prover-others.log" | awk '{ print $2 }' | sort -n -u)
[[ -n $acked ]] || fail "wg-prover logged no acknowledged proof"
assert_eq "$acked" "$(wg_psql "SELECT id FROM prover_jobs WHERE id IN ($(tr '\n' ',' <<<"$acked" | sed 's/,$//'))
	AND status = 'successful' ORDER BY id")" "wg-prover's acknowledged proofs are successful"

check_invariants "${BATCHES[@]}"
