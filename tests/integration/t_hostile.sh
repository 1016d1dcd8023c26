#!/bin/bash
# t_hostile.sh: hostile input (issue 4, point 6). One daemon, a table of hostile requests, each of
# which must get its 4xx status and an API error body (docs/api.md: {"error":{"code","message"}},
# valid UTF-8 JSON, the expected code, a non-empty message, the JSON path where
# docs/input-format.md asks for one):
# truncated and malformed JSON, deep nesting, huge numbers, wrong hex, over-long merkle paths,
# overflowing indices, wrong types for every field, duplicate and unknown keys, quotes, SQL and
# printf directives in keys, over-long strings, bodies over --max-body (by Content-Length, chunked,
# gzip bombs), wrong media types, broken gzip, unknown routes and methods, bad ids, bad query
# arguments, bad X-WG-Lease headers. Then what a table cannot say: an over-limit Content-Length is
# refused before the body is sent; slow clients are dropped after --connection-timeout while
# others are served; raw garbage on the socket; 200 garbage requests in parallel; the memory high
# water mark after a gzip bomb. Afterwards the daemon is the same process, answers /healthz, has
# answered no 5xx, and the database (every row, every sequence: pg_dump --data-only) and the
# object store are exactly as before. Last, strings with quotes, backslashes and SQL in a claim's
# prover_id and a failure's error text are stored literally (byte for byte) and drop nothing but
# their control characters (docs/api.md; line breaks and tabs become spaces, t_control_chars.sh).
#
# Every table case runs even when an earlier one fails; the failures are listed at the end.
# WG_HOSTILE_SEED=N repeats the random truncation offsets of an earlier run.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"

wg_setup
MAX_BODY=1048576
CONN_TIMEOUT=3
wg_start_daemon a --max-body "$MAX_BODY" --max-proof "$MAX_BODY" --connection-timeout "$CONN_TIMEOUT"
url=$(wg_url a)
port=${url##*:}
pid=$(wg_daemon_pid a)
declare -A TOKEN=()
for role in tree prover viewer admin; do
	TOKEN[$role]=$(wg_token "$role" "hostile-$role")
done
export WG_HTTP_TIMEOUT=10 # a hang fails its case quickly (status 000)

now() { echo "$EPOCHREALTIME"; }
# elapsed T0 T1: seconds between two $EPOCHREALTIME values, to the millisecond.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# less_than A B: A < B, as decimals.
less_than() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
vm_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status"; }
LAP=$EPOCHREALTIME
lap() { # lap WHAT: print how long WHAT took (since the previous lap)
	echo "# t_hostile: $1: $(elapsed "$LAP" "$EPOCHREALTIME") s"
	LAP=$EPOCHREALTIME
}

# ---------------------------------------------------------------- fixtures

# Batch 5 exists (its basic round done, prover jobs queued): ids and batches that exist, and a
# batch that hostile uploads must not disturb. Batch 9 is the target of hostile uploads; its
# valid input ($VALID, no trailing newline) is what the mutations start from, and is uploaded at
# the very end to show that it was valid (so each mutation is what made its case fail).
"$WG_BUILDDIR/wgctl" gen-input --batch 5 --logs 3 --workload main_vm=20000 >"$WG_TMP/in5.json"
wg_http POST "$url/batches/5/witness-inputs" -H "Authorization: Bearer ${TOKEN[tree]}" \
	-H 'Content-Type: application/json' --data-binary "@$WG_TMP/in5.json"
assert_status 201
basic_done() { [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 5") == successful ]]; }
wg_wait_until 30 basic_done
JOB=$(wg_psql "SELECT min(id) FROM prover_jobs WHERE l1_batch_number = 5")
[[ $JOB =~ ^[0-9]+$ ]] || fail "batch 5 has no prover jobs"

VALID="$WG_TMP/valid9.json"
"$WG_BUILDDIR/wgctl" gen-input --batch 9 --logs 4 --workload main_vm=20000,keccak256=500 | tr -d '\n' >"$VALID"
VALID_LEN=$(stat -c %s "$VALID")
assert_eq '}' "$(tail -c 1 "$VALID")" "the valid input ends with its closing brace"
gzip -9 -c "$VALID" >"$WG_TMP/valid9.json.gz"

# Bodies over the limit, and gzip fixtures.
head -c $((MAX_BODY + 1)) /dev/zero | tr '\0' ' ' >"$WG_TMP/over-limit"
head -c $((3 * MAX_BODY)) /dev/zero | tr '\0' ' ' >"$WG_TMP/far-over-limit"
# Over the 16 KiB of claims and failures.
head -c 65536 /dev/zero | tr '\0' ' ' >"$WG_TMP/small-over-limit"
head -c 50000000 /dev/zero | gzip -6 >"$WG_TMP/bomb-zeros.gz" # 50 MB of zeros, ~50 KB
{
	printf '{"l1_batch_number":9,"pad":"'
	head -c 50000000 /dev/zero | tr '\0' x
	printf '"}'
} | gzip -6 >"$WG_TMP/bomb-json.gz" # a JSON string of 50 MB
gzip -c "$WG_TMP/bomb-zeros.gz" >"$WG_TMP/bomb-nested.gz" # gzip of a gzip bomb: decodes once, to gzip
((MAX_BODY > $(stat -c %s "$WG_TMP/bomb-zeros.gz"))) || fail "the gzip bomb is not small on the wire"
gz_size=$(stat -c %s "$WG_TMP/valid9.json.gz")
{ # a wrong CRC-32 in the trailer: every deflate block is fine, the check is not
	head -c $((gz_size - 8)) "$WG_TMP/valid9.json.gz"
	printf '\336\255\276\357'
	tail -c 4 "$WG_TMP/valid9.json.gz"
} >"$WG_TMP/bad-crc.gz"
gzip -t "$WG_TMP/bad-crc.gz" 2>/dev/null && fail "the gzip with a bad CRC tests fine"
head -c 10 "$WG_TMP/valid9.json.gz" >"$WG_TMP/header-only.gz"
printf '\x78\x9c\xab\xae\x05\x00\x01\x75\x00\xf9' >"$WG_TMP/zlib-not-gzip" # '{}' as a zlib stream
printf '{}' | gzip -c >"$WG_TMP/empty-object.gz"
printf '%s' '{"error":"giving it back"}' | gzip -c >"$WG_TMP/fail-body.gz"

lap "batch 5 and the fixtures"

# ---------------------------------------------------------------- body generators
# Each prints a request body on stdout; `none` sends no body at all. The mutations of the valid
# input (g_mut, g_num, g_literal) are computed together, by one jq, before the table runs (jq
# takes tens of milliseconds to start, and there are hundreds of them); the table then holds
# g_mutated N LITERAL, which prints the Nth of its outputs.

g_raw() { printf '%s' "$1"; }
g_bytes() { printf '%b' "$1"; }                  # with \xHH escapes: NUL, invalid UTF-8, BOM
g_file() { cat "$1"; }
g_cut() { head -c "$1" "$VALID"; }               # the valid input, truncated
g_mut() { jq -cj "$1" "$VALID"; }                # the valid input through a jq filter
g_mutated() { # g_mutated N [LITERAL]: mutation N, its "@NUMBER@" strings replaced by LITERAL
	if [[ -n ${2:-} ]]; then
		sed "s/\"@NUMBER@\"/$2/g" "$WG_TMP/mutations/$1"
	else
		cat "$WG_TMP/mutations/$1"
	fi
}
g_sed() { sed -e "$1" "$VALID"; }                # ... through sed (what jq cannot write: duplicate keys)
# g_literal JQ_FILTER LITERAL: the valid input through the filter, whose "@NUMBER@" strings then
# become LITERAL (any JSON text, such as a number that jq, with its doubles, cannot hold).
g_literal() { jq -cj "$1" "$VALID" | sed "s/\"@NUMBER@\"/$2/g"; }
g_num() { g_literal "$1 = \"@NUMBER@\"" "$2"; } # g_num JQ_PATH LITERAL: one field set to LITERAL
g_repeat() { # g_repeat TEXT COUNT: TEXT, COUNT times
	local s=$1 n=$2 out=
	while ((n > 0)); do
		if ((n & 1)); then
			out+=$s
		fi
		s+=$s
		n=$((n >> 1))
	done
	printf '%s' "$out"
}
g_deep() { # g_deep OPEN CLOSE COUNT: COUNT levels of nesting, closed (a valid but too deep document)
	g_repeat "$1" "$3"
	printf 1
	g_repeat "$2" "$3"
}
g_deep_field() { # g_deep_field JQ_PATH COUNT: the valid input with a too deep array at a field
	g_num "$1" "$(g_deep '[' ']' "$2")"
}
g_claim() { # g_claim PROVER_ID [EXTRA_JSON_FIELDS]: a claim body built by jq (so always valid JSON)
	jq -cjn --arg p "$1" "{prover_id: \$p, protocol_version: 24${2:+, $2}}"
}
g_fail() { jq -cjn --arg e "$1" '{error: $e}'; }

# ---------------------------------------------------------------- the table

# tcase NAME METHOD PATH HEADERS STATUS CODE MESSAGE_PART GENERATOR [ARGS...]
#   HEADERS: comma-separated: a role (tree, prover, viewer, admin) for its bearer token; json,
#     octet or ct=TYPE for Content-Type; gzip or ce=ENCODING; chunked; lease=VALUE; lease-empty
#     (an X-WG-Lease header with no value); bearer=TOKEN; - for none.
#   STATUS: the expected status, or alternatives (400|404) where docs/api.md allows either.
#   CODE: the expected error code (or alternatives); - when the reply has no API error body.
#   MESSAGE_PART: text the message must contain (the JSON path of the problem), or ''.
declare -a CASES=() MUTATIONS=()
tcase() {
	(($# >= 8)) || fail "tcase $1: needs 8 fields at least, got $#"
	local -a head=("${@:1:7}")
	case $8 in
	g_mut) MUTATIONS+=("$9") && set -- g_mutated ${#MUTATIONS[@]} ;;
	g_literal) MUTATIONS+=("$9") && set -- g_mutated ${#MUTATIONS[@]} "${10}" ;;
	g_num) MUTATIONS+=("$9 = \"@NUMBER@\"") && set -- g_mutated ${#MUTATIONS[@]} "${10}" ;;
	*) shift 7 ;;
	esac
	CASES+=("$(printf '%q ' "${head[@]}" "$@")")
}

UP=/batches/9/witness-inputs
UP5=/batches/5/witness-inputs # the batch that exists: a malformed body is still a 400, not a 409
CLAIM=/jobs/claim
FAIL=/proofs/$JOB/fail
DONE=/proofs/$JOB/complete
BEAT=/jobs/$JOB/heartbeat
WITNESS=/jobs/$JOB/witness
L0='storage_logs[0]'
H64=$(g_repeat 0 64)

# -- truncated JSON: the valid input cut at 10 random offsets (never at 0 or the end)
seed=${WG_HOSTILE_SEED:-$((RANDOM * 32768 + RANDOM))}
echo "# t_hostile: truncation seed $seed (WG_HOSTILE_SEED=$seed repeats it)"
RANDOM=$seed
offsets=()
for ((i = 0; i < 10; i++)); do
	offsets+=($((1 + (RANDOM * 32768 + RANDOM) % (VALID_LEN - 2))))
done
offsets+=(1 $((VALID_LEN - 1))) # also the first byte alone and all but the last
for off in "${offsets[@]}"; do
	tcase "valid input cut at byte $off of $VALID_LEN" POST "$UP" tree,json 400 bad_request '' g_cut "$off"
done
for off in 11 $((gz_size / 2)) $((gz_size - 1)); do
	head -c "$off" "$WG_TMP/valid9.json.gz" >"$WG_TMP/valid9-cut-$off.gz"
	tcase "gzip of the valid input cut at byte $off" POST "$UP" tree,json,gzip 400 bad_request '' \
		g_file "$WG_TMP/valid9-cut-$off.gz"
done

# -- malformed JSON
tcase 'empty body' POST "$UP" tree,json 400 bad_request '' none
tcase 'whitespace only' POST "$UP" tree,json 400 bad_request '' g_raw $' \n\t '
tcase 'trailing comma in the object' POST "$UP" tree,json 400 bad_request '' g_sed 's/}$/,}/'
tcase 'trailing comma in merkle_path' POST "$UP" tree,json 400 bad_request '' g_sed 's/"]/",]/'
tcase 'leading comma' POST "$UP" tree,json 400 bad_request '' g_sed 's/^{/{,/'
tcase 'single quotes' POST "$UP" tree,json 400 bad_request '' g_raw "{'l1_batch_number':9}"
tcase 'NaN' POST "$UP" tree,json 400 bad_request '' g_sed 's/"leaf_index":[0-9]*/"leaf_index":NaN/'
tcase 'Infinity' POST "$UP" tree,json 400 bad_request '' g_sed 's/"main_vm":[0-9]*/"main_vm":Infinity/'
tcase '-Infinity' POST "$UP" tree,json 400 bad_request '' g_sed 's/"main_vm":[0-9]*/"main_vm":-Infinity/'
tcase 'bare word value' POST "$UP" tree,json 400 bad_request '' g_sed 's/"is_write":true/"is_write":yes/'
tcase 'True capitalised' POST "$UP" tree,json 400 bad_request '' g_sed 's/"is_write":true/"is_write":True/'
tcase 'unquoted key' POST "$UP" tree,json 400 bad_request '' g_sed 's/"l1_batch_number"/l1_batch_number/'
tcase 'bare word body' POST "$UP" tree,json 400 bad_request '' g_raw hello
tcase 'comment' POST "$UP" tree,json 400 bad_request '' g_sed 's|^{|{/* hi */|'
tcase 'two documents' POST "$UP" tree,json 400 bad_request '' g_sed 's/$/{}/'
tcase 'leading zero' POST "$UP" tree,json 400 bad_request '' g_sed 's/"l1_batch_number":9/"l1_batch_number":09/'
tcase 'hex number' POST "$UP" tree,json 400 bad_request '' g_sed 's/"l1_batch_number":9/"l1_batch_number":0x9/'
tcase 'plus sign' POST "$UP" tree,json 400 bad_request '' g_sed 's/"l1_batch_number":9/"l1_batch_number":+9/'
tcase 'UTF-8 BOM' POST "$UP" tree,json 400 bad_request '' g_bytes "\xef\xbb\xbf$(cat "$VALID")"
tcase 'UTF-16 body' POST "$UP" tree,json 400 bad_request '' g_bytes '\xff\xfe{\x00}\x00'
tcase 'NUL byte in the middle' POST "$UP" tree,json 400 bad_request '' g_bytes '{"l1_batch_number":9,\x00"protocol_version":24}'
tcase 'NUL byte in a string' POST "$UP" tree,json 400 bad_request '' g_bytes '{"l1_batch_number":9,"previous_root_hash":"0x\x00"}'
tcase 'escaped NUL in a key' POST "$UP" tree,json 400 bad_request '' g_raw '{"l1_batch_number":9,"a\u0000b":1}'
tcase 'escaped NUL in a hash' POST "$UP" tree,json 400 bad_request '' g_raw '{"l1_batch_number":9,"previous_root_hash":"0x\u0000"}'
tcase 'invalid UTF-8 byte' POST "$UP" tree,json 400 bad_request '' g_bytes '{"l1_batch_number":9,"previous_root_hash":"\xff\xfe"}'
tcase 'overlong UTF-8' POST "$UP" tree,json 400 bad_request '' g_bytes '{"\xc0\xaf":1}'
tcase 'truncated UTF-8' POST "$UP" tree,json 400 bad_request '' g_bytes '{"\xe2\x82":1}'
tcase 'UTF-8 surrogate' POST "$UP" tree,json 400 bad_request '' g_bytes '{"\xed\xa0\x80":1}'
tcase 'lone escaped surrogate' POST "$UP" tree,json 400 bad_request '' g_raw '{"\ud800":1}'
tcase 'raw newline in a string' POST "$UP" tree,json 400 bad_request '' g_raw $'{"l1_batch_number":9,"previous_root_hash":"0x\n"}'
tcase 'bad escape' POST "$UP" tree,json 400 bad_request '' g_raw '{"l1_batch_number":9,"previous_root_hash":"\x41"}'
tcase 'unterminated string' POST "$UP" tree,json 400 bad_request '' g_raw '{"l1_batch_number":9,"previous_root_hash":"0x'
tcase 'a JSON null body' POST "$UP" tree,json 400 invalid_input '$' g_raw null
tcase 'a JSON array body' POST "$UP" tree,json 400 invalid_input '$' g_raw "[$(cat "$VALID")]"
tcase 'a JSON string body' POST "$UP" tree,json 400 invalid_input '$' g_raw '"{}"'
tcase 'malformed body for an existing batch' POST "$UP5" tree,json 400 bad_request '' g_raw '{"l1_batch_number":5,'
head -c 4096 /dev/urandom | tr -d '{[ \t\r\n' >"$WG_TMP/random-bytes"
tcase 'random bytes' POST "$UP" tree,json 400 bad_request '' g_file "$WG_TMP/random-bytes"

# -- deep nesting: jansson stops at depth 2048; any depth must be a 400, never a crash
tcase '10,000 [ unclosed' POST "$UP" tree,json 400 bad_request '' g_repeat '[' 10000
tcase '10,000 [ closed' POST "$UP" tree,json 400 bad_request '' g_deep '[' ']' 10000
tcase '100,000 [ closed' POST "$UP" tree,json 400 bad_request '' g_deep '[' ']' 100000
tcase '10,000 {"a": unclosed' POST "$UP" tree,json 400 bad_request '' g_repeat '{"a":' 10000
tcase '10,000 {"a": closed' POST "$UP" tree,json 400 bad_request '' g_deep '{"a":' '}' 10000
tcase '10,000 [{"a": mixed' POST "$UP" tree,json 400 bad_request '' g_deep '[{"a":' '}]' 5000
tcase 'deep array in merkle_path' POST "$UP" tree,json 400 bad_request '' g_deep_field ".$L0.merkle_path" 10000
tcase 'deep array in circuit_workload' POST "$UP" tree,json 400 bad_request '' g_deep_field .circuit_workload.main_vm 10000
tcase 'nesting just under the parser limit' POST "$UP" tree,json 400 invalid_input '$.circuit_workload.main_vm' \
	g_deep_field .circuit_workload.main_vm 2000
tcase 'deep nesting in a claim' POST "$CLAIM" prover,json 400 bad_request '' g_deep '[' ']' 5000
tcase 'deep nesting in a failure' POST "$FAIL" prover,json,lease=1 400 bad_request '' g_deep '{"a":' '}' 2500

# -- huge numbers: jansson cannot hold them (a 400 bad_request: the body does not parse into
# values), or can but they break the contract (invalid_input)
big400=$(g_repeat 9 400)
tcase 'l1_batch_number 1e999999' POST "$UP" tree,json 400 bad_request '' g_num .l1_batch_number 1e999999
tcase 'l1_batch_number -1e999999' POST "$UP" tree,json 400 bad_request '' g_num .l1_batch_number -1e999999
tcase 'l1_batch_number of 400 digits' POST "$UP" tree,json 400 bad_request '' g_num .l1_batch_number "$big400"
tcase 'l1_batch_number 2^64' POST "$UP" tree,json 400 bad_request '' g_num .l1_batch_number 18446744073709551616
tcase 'l1_batch_number 2^63' POST "$UP" tree,json 400 bad_request '' g_num .l1_batch_number 9223372036854775808
tcase 'l1_batch_number 2^63-1' POST "$UP" tree,json 400 invalid_input '$.l1_batch_number' \
	g_num .l1_batch_number 9223372036854775807
tcase 'l1_batch_number 9.0' POST "$UP" tree,json 400 invalid_input '$.l1_batch_number' g_num .l1_batch_number 9.0
tcase 'l1_batch_number 9e0' POST "$UP" tree,json 400 invalid_input '$.l1_batch_number' g_num .l1_batch_number 9e0
tcase 'protocol_version 1e999999' POST "$UP" tree,json 400 bad_request '' g_num .protocol_version 1e999999
tcase 'protocol_version 2^32+24' POST "$UP" tree,json 400 invalid_input '$.protocol_version' g_num .protocol_version 4294967320
tcase 'protocol_version 23' POST "$UP" tree,json 400 invalid_input '$.protocol_version' g_num .protocol_version 23
tcase 'leaf_index 1e999999' POST "$UP" tree,json 400 bad_request '' g_num ".$L0.leaf_index" 1e999999
tcase 'leaf_index of 400 digits' POST "$UP" tree,json 400 bad_request '' g_num ".$L0.leaf_index" "$big400"
tcase 'leaf_index 2^64' POST "$UP" tree,json 400 bad_request '' g_num ".$L0.leaf_index" 18446744073709551616
tcase 'leaf_index 2^64+1' POST "$UP" tree,json 400 bad_request '' g_num ".$L0.leaf_index" 18446744073709551617
tcase 'leaf_index 2^63' POST "$UP" tree,json 400 bad_request '' g_num ".$L0.leaf_index" 9223372036854775808
tcase 'leaf_index -1' POST "$UP" tree,json 400 invalid_input "\$.$L0.leaf_index" g_num ".$L0.leaf_index" -1
tcase 'leaf_index -2^63' POST "$UP" tree,json 400 invalid_input "\$.$L0.leaf_index" g_num ".$L0.leaf_index" -9223372036854775808
tcase 'leaf_index -2^63-1' POST "$UP" tree,json 400 bad_request '' g_num ".$L0.leaf_index" -9223372036854775809
tcase 'leaf_index 1.5' POST "$UP" tree,json 400 invalid_input "\$.$L0.leaf_index" g_num ".$L0.leaf_index" 1.5
tcase 'leaf_index 1e-999999' POST "$UP" tree,json 400 invalid_input "\$.$L0.leaf_index" g_num ".$L0.leaf_index" 1e-999999
tcase 'leaf_index -0' POST "$UP" tree,json 400 invalid_input "\$.$L0.leaf_index" g_num ".$L0.leaf_index" -0.0
tcase 'main_vm 1e999999' POST "$UP" tree,json 400 bad_request '' g_num .circuit_workload.main_vm 1e999999
tcase 'main_vm of 400 digits' POST "$UP" tree,json 400 bad_request '' g_num .circuit_workload.main_vm "$big400"
tcase 'main_vm 2^64' POST "$UP" tree,json 400 bad_request '' g_num .circuit_workload.main_vm 18446744073709551616
tcase 'main_vm 2^63-1: over the scheduler capacity' POST "$UP" tree,json 400 invalid_input '28000' \
	g_num .circuit_workload.main_vm 9223372036854775807
tcase 'every workload at 2^63-1' POST "$UP" tree,json 400 invalid_input '28000' \
	g_literal '.circuit_workload = ({main_vm:0, keccak256:0, ecrecover:0, sha256:0} | map_values("@NUMBER@"))' \
	9223372036854775807
tcase 'main_vm -1' POST "$UP" tree,json 400 invalid_input '$.circuit_workload.main_vm' g_num .circuit_workload.main_vm -1
tcase 'main_vm 0.5' POST "$UP" tree,json 400 invalid_input '$.circuit_workload.main_vm' g_num .circuit_workload.main_vm 0.5

# -- wrong hex
tcase 'hash without 0x' POST "$UP" tree,json 400 invalid_input '$.previous_root_hash' g_mut '.previous_root_hash |= ltrimstr("0x")'
tcase 'hash of odd length' POST "$UP" tree,json 400 invalid_input '$.new_root_hash' g_mut '.new_root_hash |= .[0:65]'
tcase 'hash of 31 bytes' POST "$UP" tree,json 400 invalid_input "\$.$L0.hashed_key" g_mut ".$L0.hashed_key |= .[0:64]"
tcase 'hash of 33 bytes' POST "$UP" tree,json 400 invalid_input "\$.$L0.value_written" g_mut ".$L0.value_written += \"00\""
tcase 'hash of 0 bytes' POST "$UP" tree,json 400 invalid_input "\$.$L0.value_read" g_mut ".$L0.value_read = \"0x\""
tcase 'empty hash' POST "$UP" tree,json 400 invalid_input "\$.$L0.value_read" g_mut ".$L0.value_read = \"\""
tcase 'hash with a g' POST "$UP" tree,json 400 invalid_input "\$.$L0.merkle_path[0]" g_mut ".$L0.merkle_path[0] |= .[0:65] + \"g\""
tcase 'hash with a space' POST "$UP" tree,json 400 invalid_input "\$.$L0.root_hash" g_mut ".$L0.root_hash |= .[0:40] + \" \" + .[41:]"
tcase 'hash with a leading space' POST "$UP" tree,json 400 invalid_input '$.previous_root_hash' g_mut '.previous_root_hash |= " " + .[1:]'
tcase 'hash with a sign' POST "$UP" tree,json 400 invalid_input '$.previous_root_hash' g_mut '.previous_root_hash |= "-" + .'
tcase 'hash 0x0x' POST "$UP" tree,json 400 invalid_input '$.previous_root_hash' g_mut '.previous_root_hash |= "0x" + .[0:64]'
tcase 'hash with an Arabic-Indic digit' POST "$UP" tree,json 400 invalid_input "\$.$L0.root_hash" g_mut ".$L0.root_hash |= .[0:64] + \"\\u0663\""
tcase 'hash with a fullwidth digit' POST "$UP" tree,json 400 invalid_input "\$.$L0.hashed_key" g_mut ".$L0.hashed_key |= .[0:63] + \"\\uff10\""
tcase 'hash with a superscript digit' POST "$UP" tree,json 400 invalid_input '$.new_root_hash' g_mut '.new_root_hash |= .[0:64] + "\u00b2"'
tcase 'hash of 10 KB' POST "$UP" tree,json 400 invalid_input '$.new_root_hash' g_mut ".new_root_hash = \"0x$(g_repeat ab 5120)\""
tcase 'hash as a number of 65 digits' POST "$UP" tree,json 400 bad_request '' g_num .previous_root_hash "1$H64"

# -- merkle paths
tcase 'merkle_path of 257 entries' POST "$UP" tree,json 400 invalid_input "\$.$L0.merkle_path" \
	g_mut ".$L0.merkle_path = [range(257) | \"0x$H64\"]"
tcase 'merkle_path of 257 entries on the last log' POST "$UP" tree,json 400 invalid_input '$.storage_logs[3].merkle_path' \
	g_mut ".storage_logs[3].merkle_path = [range(257) | \"0x$H64\"]"
tcase 'merkle_path of 14,000 entries' POST "$UP" tree,json 400 invalid_input "\$.$L0.merkle_path" \
	g_mut ".$L0.merkle_path = [range(14000) | \"0x$H64\"]"
tcase 'merkle_path of 256 entries, the last bad' POST "$UP" tree,json 400 invalid_input "\$.$L0.merkle_path[255]" \
	g_mut ".$L0.merkle_path = [range(255) | \"0x$H64\"] + [\"0x$H64\" + \"0\"]"

# -- wrong types for every field (and missing ones), each with the JSON path of the field
declare -A WRONG=(
	[number]='"9" null true [] {} 1.5 -1'
	[hash]='12 true [] {} null'
	[optional_hash]='12 true [] {}'
	[bool]='"true" 1 0 null [] {}'
	[array]='"x" {} null 5 true'
	[object]='[] "x" null 5 true'
)
for spec in l1_batch_number:number protocol_version:number previous_root_hash:hash new_root_hash:hash \
	storage_logs:array circuit_workload:object "$L0:object" "$L0.hashed_key:hash" "$L0.leaf_index:number" \
	"$L0.is_write:bool" "$L0.first_write:bool" "$L0.value_read:hash" "$L0.value_written:hash" \
	"$L0.merkle_path:array" "$L0.merkle_path[0]:hash" "$L0.root_hash:optional_hash" \
	circuit_workload.main_vm:number; do
	field=${spec%%:*}
	kind=${spec##*:}
	read -ra values <<<"${WRONG[$kind]}"
	for value in "${values[@]}"; do
		tcase "$field = $value" POST "$UP" tree,json 400 invalid_input "\$.$field" g_num ".$field" "$value"
	done
done
for field in l1_batch_number protocol_version previous_root_hash new_root_hash storage_logs circuit_workload \
	"$L0.hashed_key" "$L0.leaf_index" "$L0.is_write" "$L0.first_write" "$L0.value_read" "$L0.value_written" \
	"$L0.merkle_path"; do
	tcase "$field missing" POST "$UP" tree,json 400 invalid_input "\$.$field" g_mut "del(.$field)"
done
tcase 'l1_batch_number not the one in the path' POST "$UP" tree,json 400 invalid_input '$.l1_batch_number' g_mut '.l1_batch_number = 10'
tcase 'no work at all' POST "$UP" tree,json 400 invalid_input '$' g_mut '.storage_logs = [] | .circuit_workload = {}'
tcase 'storage_application in circuit_workload' POST "$UP" tree,json 400 invalid_input 'storage_application' \
	g_mut '.circuit_workload.storage_application = 1'

# -- duplicate and unknown keys
tcase 'duplicate top-level key' POST "$UP" tree,json 400 bad_request 'duplicate' g_sed 's/^{"l1_batch_number":9,/&"l1_batch_number":9,/'
tcase 'duplicate key, other value' POST "$UP" tree,json 400 bad_request 'duplicate' g_sed 's/^{"l1_batch_number":9,/&"l1_batch_number":10,/'
tcase 'duplicate key in a storage log' POST "$UP" tree,json 400 bad_request 'duplicate' g_sed 's/"leaf_index":/"leaf_index":1,"leaf_index":/'
tcase 'duplicate key in circuit_workload' POST "$UP" tree,json 400 bad_request 'duplicate' g_sed 's/"main_vm":/"main_vm":1,"main_vm":/'
tcase 'duplicate key in a claim' POST "$CLAIM" prover,json 400 bad_request 'duplicate' g_raw '{"prover_id":"a","protocol_version":24,"prover_id":"b"}'
tcase 'duplicate key in a failure' POST "$FAIL" prover,json,lease=1 400 bad_request 'duplicate' g_raw '{"error":"a","error":"b"}'
tcase 'unknown top-level field' POST "$UP" tree,json 400 invalid_input '$.extra' g_mut '.extra = 1'
tcase 'unknown storage log field' POST "$UP" tree,json 400 invalid_input "\$.$L0.extra" g_mut ".$L0.extra = null"
tcase 'unknown workload key' POST "$UP" tree,json 400 invalid_input '$.circuit_workload.bogus' g_mut '.circuit_workload.bogus = 1'
tcase 'misspelt field' POST "$UP" tree,json 400 invalid_input '$.l1_batch_nunber' g_mut '.l1_batch_nunber = .l1_batch_number | del(.l1_batch_number)'
tcase 'field names differing in case' POST "$UP" tree,json 400 invalid_input '$.L1_BATCH_NUMBER' g_mut '.L1_BATCH_NUMBER = 9'
tcase 'key with quotes and SQL' POST "$UP" tree,json 400 invalid_input 'DROP TABLE prover_jobs' \
	g_mut '.["x\"'"'"'; DROP TABLE prover_jobs; --\\"] = 1'
tcase 'workload key with SQL' POST "$UP" tree,json 400 invalid_input 'DROP TABLE' \
	g_mut '.circuit_workload["main_vm'"'"'; DROP TABLE prover_jobs; --"] = 1'
tcase 'key with printf directives' POST "$UP" tree,json 400 invalid_input '%n%s' g_mut '.["%n%s%s%s%s%n%x%p"] = 1'
tcase 'key with control characters' POST "$UP" tree,json 400 invalid_input '' g_mut '.["a\u0001\u001f\n\tb"] = 1'
tcase 'key of 10 KB' POST "$UP" tree,json 400 invalid_input '...' g_mut ".[\"$(g_repeat k 10240)\"] = 1"
tcase 'key of 10 KB of emoji' POST "$UP" tree,json 400 invalid_input '' g_mut ".[\"$(g_repeat '😀' 2560)\"] = 1"
tcase 'empty key' POST "$UP" tree,json 400 invalid_input '' g_mut '.[""] = 1'

# -- claims (a valid one would take a job: every body here is invalid)
tcase 'claim: trailing comma' POST "$CLAIM" prover,json 400 bad_request '' g_raw '{"prover_id":"x","protocol_version":24,"rounds":[1,],}'
tcase 'claim: truncated' POST "$CLAIM" prover,json 400 bad_request '' g_raw '{"prover_id":"x","protocol_ver'
tcase 'claim: prover_id of 10 KB' POST "$CLAIM" prover,json 400 invalid_input '$.prover_id' g_claim "$(g_repeat p 10240)"
tcase 'claim: prover_id of 10 KB of quotes' POST "$CLAIM" prover,json 400 invalid_input '$.prover_id' g_claim "$(g_repeat "\"'\\" 2400)"
tcase 'claim: prover_id of 201 bytes' POST "$CLAIM" prover,json 400 invalid_input '$.prover_id' g_claim "$(g_repeat p 201)"
tcase 'claim: prover_id of 67 emoji (268 bytes)' POST "$CLAIM" prover,json 400 invalid_input '$.prover_id' g_claim "$(g_repeat '😀' 67)"
tcase 'claim: empty prover_id' POST "$CLAIM" prover,json 400 invalid_input '$.prover_id' g_claim ''
tcase 'claim: SQL prover_id, bad version' POST "$CLAIM" prover,json 400 invalid_input '$.protocol_version' \
	g_raw "{\"prover_id\":\"'; DROP TABLE prover_jobs; --\",\"protocol_version\":\"24'; DROP TABLE prover_jobs; --\"}"
for value in 123 null true '{}' '[]'; do
	tcase "claim: prover_id = $value" POST "$CLAIM" prover,json 400 invalid_input '$.prover_id' \
		g_raw "{\"prover_id\":$value,\"protocol_version\":24}"
done
tcase 'claim: no prover_id' POST "$CLAIM" prover,json 400 invalid_input '$.prover_id' g_raw '{"protocol_version":24}'
for value in '"24"' null -1 65536 24.0 1.5 2147483672 9223372036854775807; do
	tcase "claim: protocol_version = $value" POST "$CLAIM" prover,json 400 invalid_input '$.protocol_version' \
		g_raw "{\"prover_id\":\"x\",\"protocol_version\":$value}"
done
for value in 18446744073709551616 1e999999 "$big400"; do
	tcase "claim: protocol_version = ${value:0:24}" POST "$CLAIM" prover,json 400 bad_request '' \
		g_raw "{\"prover_id\":\"x\",\"protocol_version\":$value}"
done
for value in '[4]' '[-1]' '"0"' '0' '[1.5]' '[null]' '["1"]' '{}' '[[1]]' '[9223372036854775807]' \
	"[$(g_repeat 1, 64)1]"; do
	tcase "claim: rounds = ${value:0:24}" POST "$CLAIM" prover,json 400 invalid_input '$.rounds' \
		g_raw "{\"prover_id\":\"x\",\"protocol_version\":24,\"rounds\":$value}"
done
tcase 'claim: rounds = [2^64]' POST "$CLAIM" prover,json 400 bad_request '' g_raw '{"prover_id":"x","protocol_version":24,"rounds":[18446744073709551616]}'
for value in '[256]' '[-1]' '{}' '"1"' '[1,2,"3"]'; do
	tcase "claim: circuit_ids = $value" POST "$CLAIM" prover,json 400 invalid_input '$.circuit_ids' \
		g_raw "{\"prover_id\":\"x\",\"protocol_version\":24,\"circuit_ids\":$value}"
done
# Bodies that parse as JSON but are not objects break the contract: invalid_input, as for an
# upload (docs/api.md: bad_request is for a body that does not parse).
for value in null 42 '"x"' true '[]'; do
	tcase "claim: body $value" POST "$CLAIM" prover,json 400 invalid_input '$' g_raw "$value"
done
tcase 'claim: BOM' POST "$CLAIM" prover,json 400 bad_request '' g_bytes '\xef\xbb\xbf{"prover_id":"x","protocol_version":24}'
tcase 'claim: invalid UTF-8 prover_id' POST "$CLAIM" prover,json 400 bad_request '' g_bytes '{"prover_id":"\xff\xfe","protocol_version":24}'
tcase 'claim: escaped NUL in prover_id' POST "$CLAIM" prover,json 400 bad_request '' g_raw '{"prover_id":"a\u0000b","protocol_version":24}'
tcase 'claim: NUL byte' POST "$CLAIM" prover,json 400 bad_request '' g_bytes '{"prover_id":"x",\x00"protocol_version":24}'

# -- failures and completions of a job that is queued (so nothing can change) and leases
tcase 'fail: error of 4097 bytes' POST "$FAIL" prover,json,lease=1 400 invalid_input '$.error' g_fail "$(g_repeat e 4097)"
tcase 'fail: error of 10 KB of quotes' POST "$FAIL" prover,json,lease=1 400 invalid_input '$.error' g_fail "$(g_repeat "'\"" 5120)"
for value in 5 null true '{}' '["x"]'; do
	tcase "fail: error = $value" POST "$FAIL" prover,json,lease=1 400 invalid_input '$.error' g_raw "{\"error\":$value}"
done
tcase 'fail: no error field' POST "$FAIL" prover,json,lease=1 400 invalid_input '$.error' g_raw '{}'
tcase 'fail: escaped NUL in error' POST "$FAIL" prover,json,lease=1 400 bad_request '' g_raw '{"error":"a\u0000b"}'
tcase 'fail: truncated body' POST "$FAIL" prover,json,lease=1 400 bad_request '' g_raw '{"error":"x'
tcase 'fail: body null' POST "$FAIL" prover,json,lease=1 400 invalid_input '$' g_raw null
tcase 'fail: SQL, job not held' POST "$FAIL" prover,json,lease=1 409 lease_lost '' g_fail "'); DELETE FROM prover_jobs; --"
tcase 'fail: gzip body, job not held' POST "$FAIL" prover,json,gzip,lease=1 409 lease_lost '' g_file "$WG_TMP/fail-body.gz"
tcase 'fail: unknown job' POST /proofs/9223372036854775807/fail prover,json,lease=1 404 not_found '' g_fail x
tcase 'complete: proof of a job not held' POST "$DONE" prover,octet,lease=1 409 lease_lost '' g_raw "WGREF1'; DROP TABLE prover_jobs; --"
tcase 'complete: unknown job' POST /proofs/9223372036854775807/complete prover,octet,lease=1 404 not_found '' g_raw x
tcase 'complete: gzip' POST "$DONE" prover,octet,gzip,lease=1 415 unsupported_media_type '' g_file "$WG_TMP/empty-object.gz"
tcase 'heartbeat: job not held' POST "$BEAT" prover,lease=0 409 lease_lost '' none
for lease in abc -1 1099511627776 2147483648 99999999999999999999 '1 2' 0x1 +1 1.0 1e3 "$(printf '\xd9\xa3')" \
	"'; DROP TABLE prover_jobs; --" "$(g_repeat 7 4000)"; do
	for route in "$BEAT" "$DONE" "$FAIL"; do
		hdr=prover,lease=$lease
		gen=(none)
		[[ $route == "$DONE" ]] && hdr=prover,octet,lease=$lease gen=(g_raw proof)
		[[ $route == "$FAIL" ]] && hdr=prover,json,lease=$lease gen=(g_fail x)
		# A lease is opaque: whatever is sent is compared (by its hash) with the job's, and
		# anything but the lease is the same 409 lease_lost, saying nothing about the job.
		tcase "X-WG-Lease '${lease:0:24}' on $route" POST "$route" "$hdr" 409 lease_lost '' "${gen[@]}"
	done
	tcase "X-WG-Lease '${lease:0:24}' on $WITNESS" GET "$WITNESS" "prover,lease=$lease" 409 lease_lost '' none
done
tcase 'X-WG-Lease empty' POST "$BEAT" prover,lease-empty 409 lease_lost '' none
tcase 'witness without X-WG-Lease' GET "$WITNESS" prover 400 bad_request 'X-WG-Lease' none
tcase 'witness as a viewer' GET "$WITNESS" viewer 403 forbidden '' none

# -- bodies over --max-body, wrong media types and encodings, broken gzip and gzip bombs
tcase 'over the limit by Content-Length' POST "$UP" tree,json 413 payload_too_large '' g_file "$WG_TMP/over-limit"
tcase 'claim over the limit by Content-Length' POST "$CLAIM" prover,json 413 payload_too_large '' g_file "$WG_TMP/far-over-limit"
tcase 'proof over the limit by Content-Length' POST "$DONE" prover,octet,lease=1 413 payload_too_large '' g_file "$WG_TMP/over-limit"
tcase 'failure over the limit by Content-Length' POST "$FAIL" prover,json,lease=1 413 payload_too_large '' g_file "$WG_TMP/far-over-limit"
tcase 'heartbeat with a body over the limit' POST "$BEAT" prover,lease=1 413 payload_too_large '' g_file "$WG_TMP/over-limit"
tcase 'chunked over the limit' POST "$UP" tree,json,chunked 413 payload_too_large '' g_file "$WG_TMP/over-limit"
tcase 'chunked claim over the limit' POST "$CLAIM" prover,json,chunked 413 payload_too_large '' g_file "$WG_TMP/small-over-limit"
tcase 'chunked proof over the limit' POST "$DONE" prover,octet,chunked,lease=1 413 payload_too_large '' g_file "$WG_TMP/over-limit"
tcase 'gzip bomb: 50 MB of zeros' POST "$UP" tree,json,gzip 413 payload_too_large '' g_file "$WG_TMP/bomb-zeros.gz"
tcase 'gzip bomb: a JSON string of 50 MB' POST "$UP" tree,json,gzip 413 payload_too_large '' g_file "$WG_TMP/bomb-json.gz"
tcase 'gzip bomb, chunked' POST "$UP" tree,json,gzip,chunked 413 payload_too_large '' g_file "$WG_TMP/bomb-json.gz"
tcase 'gzip bomb in a claim' POST "$CLAIM" prover,json,gzip 413 payload_too_large '' g_file "$WG_TMP/bomb-zeros.gz"
tcase 'gzip of a gzip bomb (decoded once)' POST "$UP" tree,json,gzip 400 bad_request '' g_file "$WG_TMP/bomb-nested.gz"
tcase 'gzip with a bad CRC' POST "$UP" tree,json,gzip 400 bad_request '' g_file "$WG_TMP/bad-crc.gz"
tcase 'gzip header only' POST "$UP" tree,json,gzip 400 bad_request '' g_file "$WG_TMP/header-only.gz"
tcase 'gzip: empty body' POST "$UP" tree,json,gzip 400 bad_request '' none
tcase 'zlib stream labelled gzip' POST "$UP" tree,json,gzip 400 bad_request '' g_file "$WG_TMP/zlib-not-gzip"
tcase 'plain JSON labelled gzip' POST "$UP" tree,json,gzip 400 bad_request '' g_file "$VALID"
tcase 'GZIP in capitals decodes' POST "$UP" tree,json,ce=GZIP 400 invalid_input '$' g_file "$WG_TMP/empty-object.gz"
tcase 'Content-Encoding: gzip, gzip' POST "$UP" tree,json,ce=gzip~gzip 415 unsupported_media_type '' g_file "$WG_TMP/empty-object.gz"
tcase 'Content-Encoding: x-gzip' POST "$UP" tree,json,ce=x-gzip 415 unsupported_media_type '' g_file "$WG_TMP/empty-object.gz"
tcase 'Content-Encoding: compress' POST "$UP" tree,json,ce=compress 415 unsupported_media_type '' g_raw '{}'
for type in text/json application/json-seq application/jsonp 'multipart/form-data; boundary=x' \
	application/x-www-form-urlencoded application/octet-stream 'application/json%' '*/*'; do
	tcase "upload as $type" POST "$UP" "tree,ct=$type" 415 unsupported_media_type '' g_file "$VALID"
done
tcase 'claim as text/plain' POST "$CLAIM" prover,ct=text/plain 415 unsupported_media_type '' g_claim x
tcase 'failure as octet-stream' POST "$FAIL" prover,octet,lease=1 415 unsupported_media_type '' g_fail x
tcase 'proof as application/json' POST "$DONE" prover,json,lease=1 415 unsupported_media_type '' g_raw '{}'
tcase 'APPLICATION/JSON is JSON' POST "$UP" tree,ct=APPLICATION/JSON 400 invalid_input '$' g_raw '{}'
tcase 'a charset parameter is fine' POST "$UP" tree,'ct=application/json;charset=latin1' 400 invalid_input '$' g_raw '{}'

# -- access is decided before the body is looked at
tcase 'no token, malformed body' POST "$UP" json 401 unauthorized '' g_deep '[' ']' 10000
tcase 'no token, body over the limit' POST "$UP" json 401 unauthorized '' g_file "$WG_TMP/over-limit"
tcase 'prover uploads a gzip bomb' POST "$UP" prover,json,gzip 403 forbidden '' g_file "$WG_TMP/bomb-zeros.gz"
tcase 'viewer claims' POST "$CLAIM" viewer,json 403 forbidden '' g_raw '{"prover_id":'
tcase 'token of 10 KB' GET /batches "bearer=$(g_repeat z 10240)" 401 unauthorized '' none
tcase 'token with SQL' GET /batches "bearer='; DROP TABLE tokens; --" 401 unauthorized '' none
tcase 'token with invalid UTF-8' GET /batches "bearer=$(printf '\xff\xfe')" 401 unauthorized '' none

# -- unknown routes and methods, odd paths
long8k=$(g_repeat a 8192)
tcase 'path of 8 KB' GET "/$long8k" viewer 404 not_found '' none
tcase 'path of 8 KB under /batches' GET "/batches/5/$long8k" viewer 404 not_found '' none
tcase 'id of 8 KB' GET "/jobs/$(g_repeat 1 8192)" viewer 400 bad_request '' none
tcase 'path of 40 KB (over the header memory: a bare 414)' GET "/$(g_repeat a 40960)" viewer 414 - '' none
tcase 'path with %00' GET '/healthz%00abc' - '400|404' 'bad_request|not_found' '' none
tcase 'id with %00' GET "/jobs/$JOB%00junk" viewer '400|404' 'bad_request|not_found' '' none
tcase 'path with %00 before the id' GET "/jobs%00/$JOB" viewer '400|404' 'bad_request|not_found' '' none
tcase 'query argument with %00' GET "/batches/5/jobs?round=1%00x" viewer 400 bad_request '' none
tcase 'path with ..' GET /batches/../healthz - 404 not_found '' none
tcase 'path with ../..' GET /batches/5/../../healthz - 404 not_found '' none
tcase 'path with %2e%2e' GET /batches/%2e%2e/healthz - 404 not_found '' none
tcase 'path with .' GET /./healthz - 404 not_found '' none
tcase 'path with //' GET //healthz - 404 not_found '' none
tcase 'empty id' GET /jobs//witness prover 404 not_found '' none
tcase 'path with a trailing /' GET "/jobs/$JOB/witness/" prover 404 not_found '' none
tcase 'path with invalid UTF-8' GET '/%FF%FE%22%5C' - 404 not_found '' none
tcase 'path with printf directives' GET '/%25n%25s%25s%25s%25n' - 404 not_found '' none
tcase 'path with quotes and SQL' GET "/batches/5'%3B%20DROP%20TABLE%20prover_jobs%3B--" viewer 400 bad_request '' none
tcase 'unknown path, POST with a bomb' POST /nope tree,json,gzip 404 not_found '' g_file "$WG_TMP/bomb-zeros.gz"
tcase 'method BREW' BREW /healthz - 405 method_not_allowed '' none
tcase 'method get (lower case)' get /healthz - 405 method_not_allowed '' none
tcase 'method OPTIONS' OPTIONS /batches viewer 405 method_not_allowed '' none
tcase 'method PATCH' PATCH "/jobs/$JOB" admin 405 method_not_allowed '' none
tcase 'method PUT with a body' PUT "$UP" tree,json 405 method_not_allowed '' g_file "$VALID"
tcase 'method DELETE on a job' DELETE "/jobs/$JOB" admin 405 method_not_allowed '' none
tcase 'method of 1 KB' "$(g_repeat M 1024)" /healthz - 405 method_not_allowed '' none
tcase 'garbage query on /healthz' GET '/healthz?%ZZ&&&=&%00=%00&a=%&b==c' - 200 - '' none
tcase 'query of 4 KB in one argument' GET "/healthz?q=$(g_repeat '%ZZ%25+%22%00' 320)" - 200 - '' none
tcase 'query of 300 arguments' GET "/healthz?$(g_repeat 'x=%25&' 300)" - 200 - '' none
tcase 'query of 4 KB on a bad route' GET "/nope?q=$(g_repeat '%ZZ%25+%22%00' 320)" - 404 not_found '' none

# -- ids
for id in abc -1 +1 1.0 1e3 0x1 '%201' '1%20' 99999999999999999999 9223372036854775808 "$big400"; do
	tcase "GET /jobs/${id:0:24}" GET "/jobs/$id" viewer 400 bad_request '' none
	tcase "GET /batches/${id:0:24}" GET "/batches/$id" viewer 400 bad_request '' none
done
tcase 'GET /batches/1e3' GET /batches/1e3 viewer 400 bad_request '' none
tcase 'GET /batches/1e3/proof' GET /batches/1e3/proof viewer 400 bad_request '' none
tcase 'POST /proofs/abc/complete' POST /proofs/abc/complete prover,octet,lease=1 400 bad_request '' g_raw x
tcase 'POST /proofs/-1/fail' POST /proofs/-1/fail prover,json,lease=1 400 bad_request '' g_fail x
tcase 'POST /jobs/x/requeue' POST /jobs/x/requeue admin 400 bad_request '' none
tcase 'DELETE /batches/-5' DELETE /batches/-5 admin 400 bad_request '' none
tcase 'GET /jobs/2^63-1' GET /jobs/9223372036854775807 viewer 404 not_found '' none
tcase 'GET /jobs/2^63-1/witness' GET /jobs/9223372036854775807/witness prover,lease=1 404 not_found '' none
tcase 'GET /batches/2^63-1' GET /batches/9223372036854775807 viewer 404 not_found '' none
tcase 'GET /batches/0/jobs' GET /batches/0/jobs viewer 404 not_found '' none
tcase 'GET /batches/9/proof' GET /batches/9/proof viewer 404 not_found '' none
tcase 'POST /jobs/2^63-1/requeue' POST /jobs/9223372036854775807/requeue admin 404 not_found '' none
tcase 'POST /batches/2^63-1/requeue' POST /batches/9223372036854775807/requeue admin 404 not_found '' none
tcase 'DELETE /batches/2^63-1' DELETE /batches/9223372036854775807 admin 404 not_found '' none

# -- query arguments
for query in 'round=x&status=y&limit=-1' round=x round=4 round=-1 round= round=1.0 round=99999999999999999999 \
	status=y status= status=QUEUED 'status=queued%27%3B%20DROP%20TABLE%20prover_jobs%3B--' status=%00 \
	limit=-1 limit=1000001 limit=abc limit=1e3 after_id=-1 after_id=x after_id=9223372036854775808 \
	'round=1&limit=x'; do
	tcase "GET /batches/5/jobs?$query" GET "/batches/5/jobs?$query" viewer 400 bad_request '' none
done

lap "building the table, ${#CASES[@]} cases"

# ---------------------------------------------------------------- running the table

# header_args SPEC: the curl arguments of a HEADERS field, in ARGS.
header_args() {
	local item
	local -a items
	ARGS=(--path-as-is)
	IFS=, read -ra items <<<"$1"
	for item in "${items[@]}"; do
		case $item in
		tree | prover | viewer | admin) ARGS+=(-H "Authorization: Bearer ${TOKEN[$item]}") ;;
		bearer=*) ARGS+=(-H "Authorization: Bearer ${item#bearer=}") ;;
		json) ARGS+=(-H 'Content-Type: application/json') ;;
		octet) ARGS+=(-H 'Content-Type: application/octet-stream') ;;
		ct=*) ARGS+=(-H "Content-Type: ${item#ct=}") ;;
		gzip) ARGS+=(-H 'Content-Encoding: gzip') ;;
		ce=*) ARGS+=(-H "Content-Encoding: $(tr '~' , <<<"${item#ce=}")") ;;
		chunked) ARGS+=(-H 'Transfer-Encoding: chunked') ;;
		lease=*) ARGS+=(-H "X-WG-Lease: ${item#lease=}") ;;
		lease-empty) ARGS+=(-H 'X-WG-Lease;') ;;
		-) ;;
		*) fail "unknown header item '$item'" ;;
		esac
	done
	# Without a Content-Type of our own, curl's default for --data-binary would be sent.
	[[ ,$1, == *,json,* || ,$1, == *,octet,* || ,$1, == *,ct=* ]] || ARGS+=(-H 'Content-Type:')
}

# request_case N NAME METHOD PATH HEADERS STATUS CODE MESSAGE_PART GENERATOR [ARGS...]: make the
# request of case N. Runs in a worker (a subshell, several at once): it writes its status to
# $WG_TMP/cases/N.status, the reply's headers to N.headers and its body, with a newline after it
# (jq -R reads all bodies as one stream of lines), to $WG_TMP/bodies/N.
request_case() {
	local n=$1 method=$3 path=$4 headers=$5 body="$WG_TMP/cases/$1.request" status
	shift 8
	header_args "$headers"
	if [[ $1 != none ]]; then
		"$@" >"$body"
		ARGS+=(--data-binary "@$body")
	fi
	status=$(curl -sS -X "$method" -o "$WG_TMP/bodies/$n" -D "$WG_TMP/cases/$n.headers" -w '%{http_code}' \
		--max-time 10 "${ARGS[@]}" "$url$path" 2>"$WG_TMP/cases/$n.curl") || status=000
	echo "$status" >"$WG_TMP/cases/$n.status"
	echo >>"$WG_TMP/bodies/$n"
	touch "$WG_TMP/cases/$n.headers"
	rm -f "$body"
}
# daemon_alive: like wg__alive, without a fork.
daemon_alive() {
	local stat
	[[ -r /proc/$pid/stat ]] && read -r stat <"/proc/$pid/stat" 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}
# table_worker W COUNT: the cases N with N % COUNT == W, in order; stops at the first case after
# which the daemon is gone, naming it in $WG_TMP/died.
table_worker() {
	local i
	for ((i = $1; i < ${#CASES[@]}; i += $2)); do
		eval "request_case $i ${CASES[i]}"
		if ! daemon_alive; then
			eval "local -a fields=(${CASES[i]})"
			echo "${fields[0]}" >"$WG_TMP/died"
			return 0
		fi
	done
}

declare -a FAILED=()
declare -A CASE_FAILED=()
# check N WHAT OK: one assertion of case N, recorded (not ending the test) when OK is not 1.
check() {
	if [[ $3 == 1 ]]; then
		wg__pass
	elif [[ -z ${CASE_FAILED[$1]:-} ]]; then
		CASE_FAILED[$1]=1
		FAILED+=("$CASE_NAME: $2")
		echo "not ok: $CASE_NAME: $2" >&2
	fi
}
is_one_of() { [[ "|$2|" == *"|$1|"* ]]; }

# check_cases: for every case, its status; and for those with an error code, the body is valid
# UTF-8, a JSON error object with that code and a non-empty message holding MESSAGE_PART, sent as
# application/json. One jq reads all bodies (the daemon's JSON is one line each).
check_cases() {
	local n file code message ok status type line body want_status want_code part
	local -a fields
	local -A got_code=() got_message=() bad_utf8=()
	# In a UTF-8 locale, a line that '.*' does not match whole holds an invalid sequence.
	while IFS= read -r file; do
		bad_utf8[${file#./}]=1
	done < <(
		cd "$WG_TMP/bodies" || exit
		LC_ALL=C.UTF-8 grep -axvl '.*' ./* || true
	)
	(cd "$WG_TMP/bodies" && jq -R -r '(try fromjson catch null) as $j
		| [input_filename,
		   (if ($j | type) == "object" and ($j.error | type) == "object" and ($j.error.code | type) == "string"
		       and ($j.error.message | type) == "string" and ($j.error.message | length) > 0
		    then $j.error.code elif $j == null then "not JSON" else "not the error body of docs/api.md" end),
		   ($j | objects | .error | objects | .message | strings) // ""] | @tsv' ./*) >"$WG_TMP/cases.tsv"
	while IFS=$'\t' read -r file code message; do
		file=${file#./}
		[[ -z ${got_code[$file]:-} ]] || code="a body of several lines"
		got_code[$file]=$code
		got_message[$file]=$message
	done <"$WG_TMP/cases.tsv"
	for ((n = 0; n < ${#CASES[@]}; n++)); do
		eval "fields=(${CASES[n]})"
		CASE_NAME=${fields[0]}
		want_status=${fields[4]} want_code=${fields[5]} part=${fields[6]}
		read -r status <"$WG_TMP/cases/$n.status"
		read -r -N 400 body <"$WG_TMP/bodies/$n" || true
		body=${body%$'\n'}
		ok=0
		is_one_of "$status" "$want_status" && ok=1
		check "$n" "status $status, expected $want_status; body: $body" $ok
		[[ $want_code != - ]] || continue
		ok=0
		is_one_of "${got_code[$n]:-}" "$want_code" && ok=1
		check "$n" "error code '${got_code[$n]:-}', expected $want_code; body: $body" $ok
		ok=1
		[[ -z ${bad_utf8[$n]:-} ]] || ok=0
		check "$n" "the body is not valid UTF-8" $ok
		type=
		while IFS= read -r line; do
			[[ ${line,,} != content-type:* ]] || type=${line#*: }
		done <"$WG_TMP/cases/$n.headers"
		type=${type%$'\r'}
		ok=0
		[[ $type == application/json* ]] && ok=1
		check "$n" "Content-Type '$type', expected application/json" $ok
		if [[ -n $part ]]; then
			ok=0
			[[ ${got_message[$n]:-} == *"$part"* ]] && ok=1
			check "$n" "the message does not contain '$part': $body" $ok
		fi
	done
}

# The state that nothing in this test may change: every table's rows and sequences, and the store.
PG_DUMP="${PG_BINDIR:-$("$WG_PG_CLUSTER" bindir)}/pg_dump"
[[ -x $PG_DUMP ]] || fail "pg_dump not found (PG_BINDIR=${PG_BINDIR:-})"
TABLES=(basic_circuit_witness_jobs leaf_aggregation_jobs node_aggregation_jobs scheduler_witness_jobs prover_jobs
	blobs tokens)
db_state() { # db_state NAME: write the state to $WG_TMP/state-NAME.{counts,dump,store}
	local t
	for t in "${TABLES[@]}" $(wg_psql "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"); do
		echo "$t $(wg_psql "SELECT count(*) FROM \"$t\"")"
	done | sort -u >"$WG_TMP/state-$1.counts"
	# \restrict lines carry a random key per run; comments carry versions and nothing else.
	"$PG_DUMP" --data-only --no-owner --no-privileges --schema=public -d "$WG_DB" |
		grep -v -e '^--' -e '^\\restrict' -e '^\\unrestrict' >"$WG_TMP/state-$1.dump"
	(cd "$WG_TMP/store-a" && find . -type f -printf '%p %s\n' | sort) >"$WG_TMP/state-$1.store"
}
db_state before
assert_contains "$(cat "$WG_TMP/state-before.dump")" "COPY public.prover_jobs" "the dump holds the prover jobs"

# All mutations of the valid input by one jq, one per line (see g_mutated).
# shellcheck disable=SC2016 # a jq program
program='. as $in'
sep=' | '
for m in "${MUTATIONS[@]}"; do
	program+="$sep(\$in | ($m))"
	sep=', '
done
jq -c "$program" "$VALID" >"$WG_TMP/mutations.jsonl"
assert_eq "${#MUTATIONS[@]}" "$(wc -l <"$WG_TMP/mutations.jsonl")" "mutations computed"
mkdir -p "$WG_TMP/mutations"
awk -v dir="$WG_TMP/mutations" '{ f = dir "/" NR; printf "%s", $0 >f; close(f) }' "$WG_TMP/mutations.jsonl"
mkdir -p "$WG_TMP/cases" "$WG_TMP/bodies"
WORKERS=4
workers=()
for ((w = 0; w < WORKERS; w++)); do
	table_worker "$w" "$WORKERS" &
	workers+=($!)
done
for w in "${workers[@]}"; do
	wait "$w" || fail "a worker of the table failed (status $?)"
done
[[ ! -e $WG_TMP/died ]] || fail "the daemon died on case '$(cat "$WG_TMP/died")' (or one running beside it)"
lap "running the table, $WORKERS workers"
check_cases
lap "checking the table (${#FAILED[@]} cases failed)"

# ---------------------------------------------------------------- what a table cannot say

# raw_exchange TEXT SECONDS OUT: send TEXT (printf %b) on a fresh connection and write what comes
# back within SECONDS to OUT. Never fails (a closed socket is an answer too).
raw_exchange() {
	(
		exec 5<>"/dev/tcp/127.0.0.1/$port" || exit 0
		printf '%b' "$1" >&5 || exit 0
		timeout "$2" cat <&5 >"$3"
	) 2>/dev/null || true
	touch "$3"
}
status_line() { head -n 1 "$1" | tr -d '\r'; }
# a_success_or_failure STATUS_LINE: a 2xx, or a 500 to 504 (505 is the honest answer to HTTP/9.9).
a_success_or_failure() { [[ $1 =~ \ (2[0-9][0-9]|50[0-4])\  ]]; }
auth_tree="Authorization: Bearer ${TOKEN[tree]}"

# -- an over-limit Content-Length is refused from the headers: the 413 comes back before any of
# the body is sent, at once, and the connection is closed.
# (A Content-Length that does not fit 64 bits is refused by libmicrohttpd itself, before the
# daemon sees the request: a 413 with its own HTML body.)
for cl in $((MAX_BODY + 1)) 100000000 9223372036854775807 99999999999999999999999; do
	t1=$(now)
	raw_exchange "POST $UP HTTP/1.1\r\nHost: x\r\n$auth_tree\r\nContent-Type: application/json\r\nContent-Length: $cl\r\n\r\n" \
		5 "$WG_TMP/early.out"
	took=$(elapsed "$t1" "$(now)")
	assert_contains "$(status_line "$WG_TMP/early.out")" " 413 " "Content-Length $cl without a body"
	if ((${#cl} < 20)); then
		assert_contains "$(cat "$WG_TMP/early.out")" '"code":"payload_too_large"' "Content-Length $cl: the error body"
	fi
	less_than "$took" 3 || fail "Content-Length $cl: the 413 and the close took $took s (the daemon waited for the body)"
	wg__pass
done
# The same with Expect: 100-continue: a 413 instead of the 100.
raw_exchange "POST $UP HTTP/1.1\r\nHost: x\r\n$auth_tree\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\n\r\n" \
	5 "$WG_TMP/early.out"
assert_contains "$(status_line "$WG_TMP/early.out")" " 413 " "Expect: 100-continue over the limit"
# curl sending a real 3 MiB body (it waits for the 100 Continue that never comes).
t1=$(now)
wg_http POST "$url$UP" -H "$auth_tree" -H 'Content-Type: application/json' --data-binary "@$WG_TMP/far-over-limit"
assert_status 413
assert_error_code payload_too_large
took=$(elapsed "$t1" "$(now)")
less_than "$took" 3 || fail "curl with a 3 MiB body: the 413 took $took s"

lap "early 413s"

# -- raw garbage on the socket: whatever MHD answers (its own 400, 413, 431 or 505, or a close),
# it is no success and no failure of the server, and the daemon lives. All at once.
cc='Connection: close\r\n'
raw_cases=(
	'GARBAGE\r\n\r\n'
	'\x00\x01\x02\xff\xfe\r\n\r\n'
	"GET /healthz HTTP/9.9\r\nHost: x\r\n$cc\r\n"
	"GET /healthz HTTP/1.1\r\nHost: x\r\n${cc}Bad Header Line\r\n\r\n"
	"GET /nope HTTP/1.1\r\nHost: x\r\n$cc: no name\r\n\r\n"
	"POST $UP HTTP/1.1\r\nHost: x\r\n$cc$auth_tree\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}"
	"POST $UP HTTP/1.1\r\nHost: x\r\n$cc$auth_tree\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\n{}"
	"POST $UP HTTP/1.1\r\nHost: x\r\n$cc$auth_tree\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
	"POST $UP HTTP/1.1\r\nHost: x\r\n$cc$auth_tree\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n{}\r\n0\r\n\r\n"
	"POST $UP HTTP/1.1\r\nHost: x\r\n$cc$auth_tree\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
	"POST $UP HTTP/1.1\r\nHost: x\r\n$cc$auth_tree\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
	"GET /healthz HTTP/1.1\r\nHost: x\r\n$cc$(g_repeat 'X-A: b\r\n' 5000)\r\n"
	"GET /nope?$(g_repeat 'x&' 2000) HTTP/1.1\r\nHost: x\r\n$cc\r\n"
	"GET /batches/5/jobs?$(g_repeat 'round=1&' 1000) HTTP/1.1\r\nHost: x\r\n${cc}Authorization: Bearer ${TOKEN[viewer]}\r\n\r\n"
)
head -c 3000 /dev/urandom >"$WG_TMP/noise"
raw_pids=()
for ((i = 0; i < ${#raw_cases[@]}; i++)); do
	raw_exchange "${raw_cases[i]}" 3 "$WG_TMP/raw-$i.out" &
	raw_pids+=($!)
done
(exec 5<>"/dev/tcp/127.0.0.1/$port" && cat "$WG_TMP/noise" >&5 && timeout 3 cat <&5 >/dev/null) 2>/dev/null &
raw_pids+=($!)
for p in "${raw_pids[@]}"; do
	wait "$p" || true
done
for ((i = 0; i < ${#raw_cases[@]}; i++)); do
	line=$(status_line "$WG_TMP/raw-$i.out")
	! a_success_or_failure "$line" || fail "raw request '${raw_cases[i]:0:60}…' was answered '$line'"
	wg__pass
done
wg__alive "$pid" || fail "the daemon died on the raw garbage"

lap "raw garbage"

# -- slow clients: each stalled connection is dropped after --connection-timeout, with no
# success answered; meanwhile other clients are served at once.
# stall NAME TEXT: in the background, send TEXT and wait (up to 20 s) for the daemon to close;
# writes the seconds it took to $WG_TMP/stall-NAME.time (-1: not closed) and the reply to .out.
declare -a STALLS=() STALL_PIDS=()
stall() {
	STALLS+=("$1")
	(
		exec 5<>"/dev/tcp/127.0.0.1/$port" || exit 0
		printf '%b' "$2" >&5
		start=$EPOCHREALTIME
		if timeout 20 cat <&5 >"$WG_TMP/stall-$1.out"; then
			elapsed "$start" "$EPOCHREALTIME" >"$WG_TMP/stall-$1.time"
		else
			echo -1 >"$WG_TMP/stall-$1.time"
		fi
	) 2>/dev/null &
	STALL_PIDS+=($!)
}
stall half-headers "GET /batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bear"
stall request-line-only "POST $UP HTTP/1.1\r\n"
stall nothing ""
stall body-10-of-1000 "POST $UP HTTP/1.1\r\nHost: x\r\n$auth_tree\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"l1_batch"
stall valid-body-minus-1 "POST $UP HTTP/1.1\r\nHost: x\r\n$auth_tree\r\nContent-Type: application/json\r\nContent-Length: $VALID_LEN\r\n\r\n$(head -c $((VALID_LEN - 1)) "$VALID")"
stall chunk-half "POST $UP HTTP/1.1\r\nHost: x\r\n$auth_tree\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n{\"l1_"
stall claim-half "POST $CLAIM HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN[prover]}\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{\"prover_id\":\"slow\","
for ((i = 0; i < 30; i++)); do
	stall "slowloris-$i" "GET /healthz HTTP/1.1\r\nHost: x\r\nX-$i: "
done
sleep 0.5
for ((i = 0; i < 5; i++)); do
	t1=$(now)
	wg_http GET "$url/healthz" --max-time 2
	assert_status 200
	took=$(elapsed "$t1" "$(now)")
	# Well under the 3 s connection timeout the stalled clients hold their connections for (the
	# margin is for a loaded CI machine, where starting curl alone can take a few hundred ms).
	less_than "$took" 1.5 || fail "GET /healthz took $took s while slow clients were stalled"
	wg_http POST "$url$UP" -H "$auth_tree" -H 'Content-Type: application/json' --data '{"l1_batch_number":' --max-time 2
	assert_status 400
	sleep 0.2
done
for p in "${STALL_PIDS[@]}"; do
	wait "$p" || true
done
for name in "${STALLS[@]}"; do
	took=$(cat "$WG_TMP/stall-$name.time" 2>/dev/null || echo -1)
	[[ $took != -1 ]] || fail "slow client $name was not dropped within 20 s"
	if ! less_than "$((CONN_TIMEOUT - 1))" "$took" || ! less_than "$took" $((CONN_TIMEOUT + 5)); then
		fail "slow client $name was dropped after $took s, not after about $CONN_TIMEOUT s"
	fi
	line=$(status_line "$WG_TMP/stall-$name.out")
	! a_success_or_failure "$line" || fail "slow client $name was answered '$line'"
	wg__pass
done
lap "${#STALLS[@]} slow clients dropped"

# -- 200 garbage requests in parallel, of 8 kinds; every one gets its 4xx
cat >"$WG_TMP/flood.sh" <<'EOF'
#!/bin/bash
# flood.sh N: one garbage request of kind N % 8; prints "N STATUS".
n=$1
auth=(-H "Authorization: Bearer $FLOOD_TREE")
json=(-H 'Content-Type: application/json')
case $((n % 8)) in
0) args=(-X POST "${auth[@]}" "${json[@]}" --data-binary "@$FLOOD_DIR/deep") ;;
1) args=(-X POST "${auth[@]}" "${json[@]}" --data-binary "@$FLOOD_DIR/cut") ;;
2) args=(-X POST "${auth[@]}" "${json[@]}" -H 'Content-Encoding: gzip' --data-binary "@$FLOOD_DIR/bomb") ;;
3) args=(-X POST "${auth[@]}" "${json[@]}" -H 'Transfer-Encoding: chunked' --data-binary "@$FLOOD_DIR/over") ;;
4) args=(-X POST "${auth[@]}" -H 'Content-Type: text/plain' --data-binary "@$FLOOD_DIR/cut") ;;
5) args=(-X POST "${auth[@]}" "${json[@]}" --data-binary "@$FLOOD_DIR/wrong-type") ;;
6) args=(--path-as-is -X GET "${auth[@]}") path="/jobs/$n'%3B--" ;;
7) args=(-X DELETE) path=/nope/$n ;;
esac
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "${args[@]}" "$FLOOD_URL${path:-/batches/9/witness-inputs}")
echo "$((n % 8)) $code"
EOF
chmod +x "$WG_TMP/flood.sh"
mkdir -p "$WG_TMP/flood"
g_repeat '[' 10000 >"$WG_TMP/flood/deep"
g_cut $((VALID_LEN / 2)) >"$WG_TMP/flood/cut"
cp "$WG_TMP/bomb-zeros.gz" "$WG_TMP/flood/bomb"
cp "$WG_TMP/over-limit" "$WG_TMP/flood/over"
g_num .l1_batch_number '"9"' >"$WG_TMP/flood/wrong-type"
seq 0 199 | FLOOD_URL=$url FLOOD_TREE=${TOKEN[tree]} FLOOD_DIR=$WG_TMP/flood xargs -P 50 -n 1 "$WG_TMP/flood.sh" \
	>"$WG_TMP/flood.out"
expect_flood=(400 400 413 413 415 400 400 404)
assert_eq 200 "$(wc -l <"$WG_TMP/flood.out")" "answers to the parallel garbage"
while read -r kind code; do
	[[ $code == "${expect_flood[$kind]}" ]] ||
		fail "parallel garbage of kind $kind was answered $code, expected ${expect_flood[$kind]}"
done <"$WG_TMP/flood.out"
wg__pass
lap "200 parallel garbage requests"

# -- memory: the gzip bombs and over-limit bodies were never held whole
hwm=$(vm_hwm_kb)
# AddressSanitizer's shadow memory and quarantine multiply the footprint; the bound is for the
# daemon as shipped.
hwm_limit_mb=200
if grep -qa __asan_init "$WG_BUILDDIR/witness-generator"; then
	hwm_limit_mb=1024
fi
echo "# t_hostile: daemon VmHWM $((hwm / 1024)) MB (limit $hwm_limit_mb MB)"
((hwm < hwm_limit_mb * 1024)) ||
	fail "the daemon's memory high water mark is $((hwm / 1024)) MB, over $hwm_limit_mb MB"
wg__pass

# ---------------------------------------------------------------- afterwards: nothing changed

wg__alive "$pid" || fail "the daemon is gone"
assert_eq "$pid" "$(wg_daemon_pid a)" "the daemon's pid"
wg_http GET "$url/healthz"
assert_status 200
wg_http GET "$url/readyz"
assert_status 200
wg_http GET "$url/metrics"
assert_status 200
# The hostile requests were counted (as 4xx), so the format grepped here is the one served.
grep -Eq '^wg_http_requests_total\{route="[^"]*",code="4[0-9][0-9]"\} [1-9]' "$HTTP_BODY_FILE" ||
	fail "no 4xx answers counted in /metrics: $(grep '^wg_http_requests_total' "$HTTP_BODY_FILE" | head -n 5)"
wg__pass
five=$(grep -E '^wg_http_requests_total\{route="[^"]*",code="5[0-9][0-9]"\}' "$HTTP_BODY_FILE") ||
	[[ $? == 1 ]] || fail "could not read the /metrics body"
assert_eq "" "$five" "5xx answers counted in /metrics"
db_state after
for part in counts dump store; do
	diff "$WG_TMP/state-before.$part" "$WG_TMP/state-after.$part" >"$WG_TMP/state.diff" ||
		fail "the hostile requests changed the $part: $(head -c 2000 "$WG_TMP/state.diff")"
	wg__pass
done

lap "the checks afterwards"

# ---------------------------------------------------------------- quotes and SQL, stored literally

# hex_of TEXT: the bytes of TEXT in hex, to compare with what PostgreSQL holds byte for byte.
hex_of() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
# stored_as TEXT: TEXT as the daemon stores client text: C0 controls, DEL and C1 controls left out
# but for tab, line feed, vertical tab, form feed and carriage return, which become spaces.
stored_as() { printf '%s' "$1" | perl -0777 -CSD -pe 's/[\t\n\x0b\f\r]/ /g; s/[\x00-\x1f\x7f-\x9f]//g'; }
column_hex() { wg_psql "SELECT coalesce(encode(convert_to($1, 'UTF8'), 'hex'), 'NULL') FROM prover_jobs WHERE id = $2"; }
prover_ids=(
	"'; DROP TABLE prover_jobs; --"
	"Robert'); DELETE FROM prover_jobs WHERE ('1'='1"
	$'quote " backslash \\ \\\\ \\" \\u0041 %s%n%x $1 ${HOME} `id` $(id) \t tab \n newline \x01 ü 😀'
	"$(g_repeat "'\\\"" 66)xy" # 200 bytes exactly
)
errors=(
	"'; DROP TABLE prover_jobs; --"
	$'"); TRUNCATE blobs, tokens; -- \\ \\\\ \\x00 \\u0000 %s %n \n\r\t \x7f é 漢字 😀'
	"$(g_repeat "'\"\\;" 1024)" # 4096 bytes exactly
)
counts_before=$(for t in "${TABLES[@]}"; do wg_psql "SELECT count(*) FROM $t"; done | tr '\n' ' ')
for ((i = 0; i < ${#prover_ids[@]}; i++)); do
	prover_id=${prover_ids[i]}
	error=${errors[i % ${#errors[@]}]}
	wg_http POST "$url$CLAIM" -H "Authorization: Bearer ${TOKEN[prover]}" -H 'Content-Type: application/json' \
		--data-binary "$(g_claim "$prover_id")"
	assert_status 200
	id=$(wg_json .id)
	lease=$(wg_json .lease)
	assert_eq "$(hex_of "$(stored_as "$prover_id")")" "$(column_hex picked_by "$id")" \
		"prover_id #$i stored as picked_by, byte for byte but for control characters"
	wg_http POST "$url/proofs/$id/fail" -H "Authorization: Bearer ${TOKEN[prover]}" -H 'Content-Type: application/json' \
		-H "X-WG-Lease: $lease" --data-binary "$(g_fail "$error")"
	assert_status 200
	assert_json_eq .status queued
	assert_eq "$(hex_of "$(stored_as "$error")")" "$(column_hex error "$id")" \
		"error #$i stored byte for byte but for control characters"
	# ... and served back as it was sent.
	wg_http GET "$url/batches/5/jobs" -H "Authorization: Bearer ${TOKEN[viewer]}"
	assert_status 200
	assert_eq true "$(jq --arg e "$(stored_as "$error")" --argjson id "$id" '.prover_jobs[] | select(.id == $id) | .error == $e' \
		"$HTTP_BODY_FILE")" "error #$i as GET /batches/5/jobs serves it"
done
for t in "${TABLES[@]}"; do
	assert_eq t "$(wg_psql "SELECT to_regclass('public.$t') IS NOT NULL")" "table $t still exists"
done
assert_eq "$counts_before" "$(for t in "${TABLES[@]}"; do wg_psql "SELECT count(*) FROM $t"; done | tr '\n' ' ')" \
	"row counts after the quoted claims and failures"

# The input every mutation started from is valid: uploaded as it is, it is accepted.
wg_http POST "$url$UP" -H "$auth_tree" -H 'Content-Type: application/json' --data-binary "@$VALID"
assert_status 201
wg_http GET "$url/healthz"
assert_status 200
assert_eq "$pid" "$(wg_daemon_pid a)" "the daemon's pid at the end"
wg__alive "$pid" || fail "the daemon is gone at the end"

lap "quotes and SQL"

# The table's failures, listed together.
((${#FAILED[@]} == 0)) || fail "${#FAILED[@]} of ${#CASES[@]} table cases failed:$(printf '\n  %s' "${FAILED[@]}")"
