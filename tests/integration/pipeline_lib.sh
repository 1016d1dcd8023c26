# shellcheck shell=bash
# pipeline_lib.sh: helpers shared by the pipeline tests (t_pipeline, t_inputs, t_prover_api,
# t_concurrency, t_big_batch). Source it after lib.sh and wg_setup:
#
#   . "$WG_SRCDIR/tests/integration/lib.sh"
#   . "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
#   wg_setup
#   wg_start_daemon a --leaf-arity 2
#   pl_use a                       # PL_URL and a token per role for daemon a
#   pl_gen_input 1 --logs 40 --workload main_vm=20000 >"$WG_TMP/in1.json"
#   pl_upload 1 "$WG_TMP/in1.json"; assert_status 201
#   prove_all_until 1 proven
#
# Provers here are curl and tests/tools/ref_prove, which writes the reference proof
# ("WGREF1" || BLAKE2s(witness)) of a witness blob. Helpers that print a value (pl_gen_input,
# circuit_counts, expected_counts, expected_total, batch_status, pl_sql_counts) may run in
# $(...); the others set globals (HTTP_*, PL_JOB_*) or count assertions and must run in the
# test's own shell.

PL_URL=
PL_TREE=
PL_PROVER=
PL_VIEWER=
PL_ADMIN=
PL_JOB_ID=
PL_JOB_LEASE=
PL_PROVED=0
PL_PROTOCOL_VERSION=24
PL_REF_PROVE="$WG_BUILDDIR/tests/tools/ref_prove"
PL_EXPLAIN_CLAIMS="$WG_BUILDDIR/tests/tools/explain_claims"

# The basic circuit capacities of docs/circuits.md (protocol version 24), by workload key, and
# the key's circuit id. Written out here, not read from the code, so that the tests check it.
declare -gA PL_CAPACITY=(
	[main_vm]=5390 [decommitments_sorter]=111250 [code_decommitter]=2845 [log_demuxer]=58125
	[keccak256]=293 [sha256]=2206 [ecrecover]=7 [ram_permutation]=127145 [storage_sorter]=44171
	[storage_application]=33 [events_sorter]=31287 [l1_messages_sorter]=31287
	[l1_messages_hasher]=774 [transient_storage_sorter]=50875 [secp256r1_verify]=4
)
declare -gA PL_CIRCUIT_ID=(
	[main_vm]=1 [decommitments_sorter]=2 [code_decommitter]=3 [log_demuxer]=4 [keccak256]=5
	[sha256]=6 [ecrecover]=7 [ram_permutation]=8 [storage_sorter]=9 [storage_application]=10
	[events_sorter]=11 [l1_messages_sorter]=12 [l1_messages_hasher]=13
	[transient_storage_sorter]=14 [secp256r1_verify]=15
)

# pl_use NAME: talk to daemon NAME from now on (PL_URL); creates one token per role once.
pl_use() {
	PL_URL=$(wg_url "$1")
	[[ -x $PL_REF_PROVE ]] || fail "$PL_REF_PROVE not built (make check builds it)"
	if [[ -z $PL_ADMIN ]]; then
		PL_TREE=$(wg_token tree)
		PL_PROVER=$(wg_token prover)
		PL_VIEWER=$(wg_token viewer)
		PL_ADMIN=$(wg_token admin)
	fi
}

# pl_gen_input BATCH [wgctl gen-input options...]: print a valid input JSON.
pl_gen_input() {
	local batch=$1
	shift
	"$WG_BUILDDIR/wgctl" gen-input --batch "$batch" "$@" || fail "wgctl gen-input --batch $batch $* failed"
}

# pl_upload BATCH FILE [CURL ARGS...]: POST FILE as the input of BATCH (sets HTTP_*).
pl_upload() {
	local batch=$1 file=$2
	shift 2
	wg_http POST "$PL_URL/batches/$batch/witness-inputs" -H "Authorization: Bearer $PL_TREE" \
		-H 'Content-Type: application/json' --data-binary "@$file" "$@"
}

# pl_get PATH [CURL ARGS...]: GET PATH as a viewer (sets HTTP_*).
pl_get() {
	local path=$1
	shift
	wg_http GET "$PL_URL$path" -H "Authorization: Bearer $PL_VIEWER" "$@"
}

# pl_witness_admin ID OUT_FILE: download the witness blob of job ID as an admin, who needs no
# lease (asserts 200).
pl_witness_admin() {
	wg_http GET "$PL_URL/jobs/$1/witness" -H "Authorization: Bearer $PL_ADMIN"
	assert_status 200
	cp "$HTTP_BODY_FILE" "$2"
}

# pl_ref_prove WITNESS_FILE PROOF_FILE: write the reference proof of a witness blob.
pl_ref_prove() {
	"$PL_REF_PROVE" "$1" >"$2" || fail "ref_prove $1 failed"
}

# The lease of each job claimed by pl_claim, by job id (pl_witness sends it).
declare -gA PL_LEASE_OF=()

# pl_claim [BODY_JSON]: POST /jobs/claim as a prover (default: any job of protocol 24); sets
# HTTP_* and, on 200, PL_JOB_ID and PL_JOB_LEASE (an opaque string: sent back as it is).
pl_claim() {
	local body=${1:-"{\"prover_id\":\"t\",\"protocol_version\":$PL_PROTOCOL_VERSION}"}
	PL_JOB_ID=
	PL_JOB_LEASE=
	wg_http POST "$PL_URL/jobs/claim" -H "Authorization: Bearer $PL_PROVER" \
		-H 'Content-Type: application/json' --data-binary "$body"
	if [[ $HTTP_STATUS == 200 ]]; then
		read -r PL_JOB_ID PL_JOB_LEASE < <(jq -r '"\(.id) \(.lease)"' "$HTTP_BODY_FILE")
		[[ $PL_JOB_ID =~ ^[0-9]+$ && $PL_JOB_LEASE =~ ^[0-9a-f]{32}$ ]] ||
			fail "POST /jobs/claim: no integer id and 32-hex-digit lease in $HTTP_BODY"
		PL_LEASE_OF[$PL_JOB_ID]=$PL_JOB_LEASE
	fi
}

# pl_witness ID OUT_FILE [LEASE]: download the witness blob of job ID into OUT_FILE as its holder
# (LEASE, default: the lease pl_claim got for ID) (asserts 200).
pl_witness() {
	wg_http GET "$PL_URL/jobs/$1/witness" -H "Authorization: Bearer $PL_PROVER" \
		-H "X-WG-Lease: ${3:-${PL_LEASE_OF[$1]:-}}"
	assert_status 200
	cp "$HTTP_BODY_FILE" "$2"
}

# pl_complete ID LEASE PROOF_FILE: POST the proof of job ID under LEASE (sets HTTP_*).
pl_complete() {
	wg_http POST "$PL_URL/proofs/$1/complete" -H "Authorization: Bearer $PL_PROVER" \
		-H 'Content-Type: application/octet-stream' -H "X-WG-Lease: $2" --data-binary "@$3"
}

# pl_heartbeat ID LEASE: POST /jobs/ID/heartbeat (sets HTTP_*).
pl_heartbeat() {
	wg_http POST "$PL_URL/jobs/$1/heartbeat" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: $2"
}

# pl_fail ID LEASE MESSAGE: POST /proofs/ID/fail (sets HTTP_*).
pl_fail() {
	wg_http POST "$PL_URL/proofs/$1/fail" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: $2" \
		-H 'Content-Type: application/json' --data-binary "$(jq -cn --arg e "$3" '{error: $e}')"
}

# prove_one [CLAIM_BODY_JSON]: claim a job, download its witness, prove it with ref_prove and
# complete it. Returns 1 when there is no job to claim (204); the proved job's id is left in
# PL_JOB_ID (and its witness and proof in $WG_TMP/pl-witness, $WG_TMP/pl-proof).
prove_one() {
	pl_claim "$@"
	if [[ $HTTP_STATUS == 204 ]]; then
		return 1
	fi
	assert_status 200
	local id=$PL_JOB_ID lease=$PL_JOB_LEASE
	pl_witness "$id" "$WG_TMP/pl-witness"
	pl_ref_prove "$WG_TMP/pl-witness" "$WG_TMP/pl-proof"
	pl_complete "$id" "$lease" "$WG_TMP/pl-proof"
	assert_status 200
	assert_contains "$HTTP_BODY" '"status":"successful"' "completion of job $id"
	PL_JOB_ID=$id
	PL_PROVED=$((PL_PROVED + 1))
	return 0
}

# batch_status N: print the status of batch N from GET /batches/N ("" when there is none).
batch_status() {
	curl -sS --max-time 30 -H "Authorization: Bearer $PL_VIEWER" "$PL_URL/batches/$1" | jq -r '.status // ""'
}

# prove_until SECONDS CLAIM_BODY CMD [ARGS...]: prove every job that CLAIM_BODY claims ("" for
# any job) until CMD succeeds when there is none to claim; fails after SECONDS.
prove_until() {
	local limit=$1 body=$2 deadline
	shift 2
	deadline=$((SECONDS + limit))
	while :; do
		if prove_one ${body:+"$body"}; then
			((SECONDS < deadline)) || fail "still proving after $limit s, waiting for: $*"
			continue
		fi
		"$@" && break
		((SECONDS < deadline)) || fail "timed out after $limit s proving, waiting for: $*"
		sleep 0.1
	done
}

# pl__batch_reached BATCH STATUS: true when batch BATCH has STATUS; ends the test when it
# failed while waiting for another status.
pl__batch_reached() {
	local status
	status=$(batch_status "$1")
	[[ $status == "$2" ]] && return 0
	if [[ $status == failed ]]; then
		fail "batch $1 failed while waiting for '$2': $(curl -sS -H "Authorization: Bearer $PL_VIEWER" \
			"$PL_URL/batches/$1" | jq -c .errors)"
	fi
	return 1
}

# prove_all_until BATCH STATUS [SECONDS]: prove every job there is (any batch) until batch
# BATCH has STATUS; fails after SECONDS (default 120) or when the batch fails unexpectedly.
prove_all_until() {
	prove_until "${3:-120}" "" pl__batch_reached "$1" "$2"
	wg__pass
}

# circuit_counts WORKLOAD LOGS: print "id=count" per basic circuit type with work (id order) for a
# gen-input workload spec ("main_vm=6000,keccak256=100" or "") and LOGS storage logs, from the
# capacities of docs/circuits.md: ceil(work / capacity); storage_application from the logs.
circuit_counts() {
	local spec=$1 logs=$2 entry key value id words=()
	local -A by_id=()
	local IFS=,
	for entry in $spec; do
		[[ -n $entry ]] || continue
		key=${entry%%=*}
		value=${entry#*=}
		[[ -n ${PL_CAPACITY[$key]:-} ]] || fail "circuit_counts: unknown workload key $key"
		((value > 0)) || continue
		by_id[${PL_CIRCUIT_ID[$key]}]=$(((value + PL_CAPACITY[$key] - 1) / PL_CAPACITY[$key]))
	done
	if ((logs > 0)); then
		by_id[10]=$(((logs + 32) / 33))
	fi
	unset IFS
	for id in $(printf '%s\n' "${!by_id[@]}" | sort -n); do
		words+=("$id=${by_id[$id]}")
	done
	echo "${words[*]}"
}

# expected_counts LEAF_ARITY NODE_ARITY ID=K...: print the prover jobs a batch must get, one line
# "round|circuit_id|depth|count" per layer, in the order of pl_sql_counts, from docs/circuits.md:
# K basic circuits of type ID; ceil(K / LEAF_ARITY) leaf circuits; node layers of ceil(m / NODE_ARITY)
# over the m proofs below, from depth 0 until a layer of one; one scheduler circuit (id 0).
expected_counts() {
	local leaf_arity=$1 node_arity=$2 entry id k m depth
	shift 2
	local basic=() leaf=() node=()
	for entry in "$@"; do
		id=${entry%%=*}
		k=${entry#*=}
		basic+=("0|$id|0|$k")
		m=$(((k + leaf_arity - 1) / leaf_arity))
		leaf+=("1|$id|0|$m")
		depth=0
		while :; do
			m=$(((m + node_arity - 1) / node_arity))
			node+=("2|$id|$depth|$m")
			((m > 1)) || break
			depth=$((depth + 1))
		done
	done
	printf '%s\n' "${basic[@]}" "${leaf[@]}" "${node[@]}" "3|0|0|1"
}

# expected_total LEAF_ARITY NODE_ARITY ID=K...: the total number of prover jobs of a batch.
expected_total() {
	expected_counts "$@" | awk -F'|' '{ n += $4 } END { print n }'
}

# expected_packs LEAF_ARITY NODE_ARITY TYPE=COUNT...: the witness packs a batch's rounds write
# when no round is retried: one for the basic round, one per leaf, node and scheduler layer.
expected_packs() {
	expected_counts "$@" | awk -F'|' '$1 > 0 { n++ } END { print n + 1 }'
}

# pl_sql_counts BATCH: print the prover jobs of BATCH per layer, "round|circuit_id|depth|count".
pl_sql_counts() {
	wg_psql "SELECT aggregation_round, circuit_id, depth, count(*) FROM prover_jobs
		WHERE l1_batch_number = $1 GROUP BY 1, 2, 3
		ORDER BY aggregation_round, circuit_id, depth"
}

# pl_assert_unique BATCH: each (round, circuit, depth, sequence) of BATCH exists once, and the
# sequence numbers of each layer are 0..count-1.
pl_assert_unique() {
	assert_eq 0 "$(wg_psql "SELECT count(*) FROM (SELECT 1 FROM prover_jobs WHERE l1_batch_number = $1
		GROUP BY aggregation_round, circuit_id, depth, sequence_number HAVING count(*) > 1) d")" \
		"duplicate prover jobs in batch $1"
	assert_eq 0 "$(wg_psql "SELECT count(*) FROM (SELECT 1 FROM prover_jobs WHERE l1_batch_number = $1
		GROUP BY aggregation_round, circuit_id, depth
		HAVING min(sequence_number) <> 0 OR max(sequence_number) <> count(*) - 1) d")" \
		"sequence numbers of batch $1 are not 0..n-1 per layer"
}

# pl_wg_prover_until BATCH STATUS: run the bundled wg-prover (--until-idle) against PL_URL until
# batch BATCH has STATUS, at most 5 runs; its output is kept in $WG_TMP/wg-prover.RUN.
pl_wg_prover_until() {
	local batch=$1 status=$2 run
	[[ -x $WG_BUILDDIR/wg-prover ]] || fail "$WG_BUILDDIR/wg-prover not built"
	for run in 1 2 3 4 5; do
		WG_PROVER_TOKEN=$PL_PROVER "$WG_BUILDDIR/wg-prover" --url "$PL_URL" --until-idle --idle-seconds 2 \
			>"$WG_TMP/wg-prover.$run" 2>&1 || { tail -20 "$WG_TMP/wg-prover.$run" >&2; fail "wg-prover run $run failed"; }
		pl__batch_reached "$batch" "$status" && { wg__pass; return 0; }
	done
	fail "batch $batch is not $status after 5 runs of wg-prover"
}

# pl_scrape_after_batch: on daemon PL_URL, batch 1 proven by wg-prover and batch 2 uploaded with
# its basic prover jobs left queued (so that the gauges of unfinished jobs have samples), then a
# scrape of /metrics (HTTP_BODY_FILE) and the metric names it holds in $WG_TMP/exported.
pl_scrape_after_batch() {
	pl_gen_input 1 --logs 10 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in1.json"
	pl_upload 1 "$WG_TMP/in1.json"
	assert_status 201
	pl_wg_prover_until 1 proven
	pl_gen_input 2 --logs 10 --workload main_vm=$((5390 * 3)) --seed 2 >"$WG_TMP/in2.json"
	pl_upload 2 "$WG_TMP/in2.json"
	assert_status 201
	pl__queued_2() { (($(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 2 AND status = 'queued'") >= 1)); }
	wg_wait_until 30 pl__queued_2
	sleep 1.1 # the database's figures are at most a second old
	wg_http GET "$PL_URL/metrics"
	assert_status 200
	pl_metric_names "$HTTP_BODY_FILE" >"$WG_TMP/exported"
}

# pl_metric_names FILE: the metric names of the samples of a /metrics scrape (a histogram's are
# NAME_bucket, NAME_sum and NAME_count), one a line.
pl_metric_names() {
	awk '!/^#/ && NF { sub(/[{ ].*/, ""); print }' "$1" | sort -u
}
