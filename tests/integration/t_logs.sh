#!/bin/bash
# t_logs.sh: --log-format json. Every line the daemon writes parses as a JSON object; each
# request has one access line with its request id (the client's X-Request-Id when sane, else one
# made and echoed), route pattern, status, duration and the token's name, and never the token;
# each witness job has one "job start" and one "job end" line with its round, result and time.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup

# A bad format is refused at start, naming the option's values.
rc=0
"$WG_BUILDDIR/witness-generator" --db "$WG_DB" --log-format yaml >"$WG_TMP/bad.log" 2>&1 || rc=$?
assert_eq 2 "$rc" "exit status for --log-format yaml"
assert_contains "$(cat "$WG_TMP/bad.log")" 'unknown log format "yaml"'

wg_start_daemon a --log-format json
pl_use a
log="$WG_TMP/a.log"
viewer_name=$(wg_psql "SELECT name FROM tokens WHERE role = 'viewer'")
# access LINE_SELECTOR: the access lines whose request_id is $1.
access() { grep -v '^#' "$log" | jq -c --arg id "$1" 'select(.msg == "access" and .request_id == $id)'; }
# The line is written when the request completes, which may be just after the client has its reply.
logged() { [[ -n $(access "$1") ]]; }

# A sane client id is used and echoed.
wg_http GET "$PL_URL/batches/7" -H "Authorization: Bearer $PL_VIEWER" -H 'X-Request-Id: trace-42.a:b_c'
assert_status 404
assert_eq 'trace-42.a:b_c' "$(wg_header X-Request-Id)" "echoed X-Request-Id"
wg_wait_until 5 logged 'trace-42.a:b_c'
line=$(access 'trace-42.a:b_c')
assert_eq 1 "$(wc -l <<<"$line")" "one access line per request"
assert_eq 'GET|/batches/{n}|404|string|'"$viewer_name" \
	"$(jq -r '[.method, .route, (.status | tostring), (.level | type), .token_name] | join("|")' <<<"$line")"
assert_eq true "$(jq '(.duration_ms | type == "number" and . >= 0) and (.ts | test("^20[0-9-]{8}T[0-9:.]{12}Z$"))' <<<"$line")"

# Insane ids (too long, unsafe characters) are replaced by a made one; so is a missing one.
for bad in "$(printf 'x%.0s' {1..65})" 'a b' 'id"},{"forged":1' ''; do
	if [[ -n $bad ]]; then
		wg_http GET "$PL_URL/healthz" -H "X-Request-Id: $bad"
	else
		wg_http GET "$PL_URL/healthz"
	fi
	assert_status 200
	made=$(wg_header X-Request-Id)
	[[ $made =~ ^[0-9a-f]{16}$ ]] || fail "made request id '$made' for X-Request-Id '$bad'"
	wg__pass
	wg_wait_until 5 logged "$made"
	assert_eq '|/healthz|200' "$(access "$made" | jq -r '[.token_name, .route, .status] | map(tostring) | join("|")')"
done
# Errors found before routing carry the id too.
wg_http GET "$PL_URL/nowhere" -H 'X-Request-Id: lost-1'
assert_status 404
assert_eq lost-1 "$(wg_header X-Request-Id)"
wg_wait_until 5 logged lost-1
assert_eq unmatched "$(access lost-1 | jq -r .route)"
# A wrong token: 401, logged with no name.
wg_http GET "$PL_URL/batches" -H 'Authorization: Bearer wgt_0000' -H 'X-Request-Id: bad-token'
assert_status 401
wg_wait_until 5 logged bad-token
assert_eq '401|' "$(access bad-token | jq -r '"\(.status)|\(.token_name)"')"

# A batch runs its basic round: one start and one end line for its job.
pl_gen_input 1 --logs 10 --workload main_vm=6000 >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json" -H 'X-Request-Id: upload-1'
assert_status 201
tree_name=$(wg_psql "SELECT name FROM tokens WHERE role = 'tree'")
wg_wait_until 5 logged upload-1
assert_eq "POST|/batches/{n}/witness-inputs|201|$tree_name" "$(access upload-1 | jq -r '[.method, .route, .status, .token_name] | map(tostring) | join("|")')"
job_lines() { grep -v '^#' "$log" | jq -c 'select(.msg == "job start" or .msg == "job end")'; }
wg_wait_until 20 grep -q '"msg":"job end"' "$log"
assert_eq '"job start"|basic|1|1|null "job end"|basic|1|1|committed' \
	"$(job_lines | jq -r '[(.msg | tojson), .round, .batch, .attempt, .result] | map(tostring) | join("|")' | tr '\n' ' ' | sed 's/ $//')"
assert_eq true "$(job_lines | jq -s '.[1].duration_ms | type == "number" and . > 0')" "job end has its time"
assert_eq "$(job_lines | jq -s '.[0].job')" "$(wg_psql "SELECT id FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1")"

# Every line is a JSON object with ts, level and msg; no token is anywhere in the log.
n_lines=$(grep -vc '^#' "$log")
((n_lines > 10)) || fail "only $n_lines log lines"
assert_eq "$n_lines" "$(grep -v '^#' "$log" | jq -c 'select(type == "object" and has("ts") and has("level") and has("msg"))' | wc -l)" \
	"log lines that are JSON objects with ts, level and msg"
for t in "$PL_TREE" "$PL_PROVER" "$PL_VIEWER" "$PL_ADMIN"; do
	assert_eq 0 "$(grep -cF "${t#wgt_}" "$log" || true)" "a token in the log"
done
