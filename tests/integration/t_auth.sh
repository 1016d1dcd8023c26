#!/bin/bash
# t_auth.sh: the access rules of docs/api.md over real HTTP. For every route the daemon
# serves: no token, a malformed header, an unknown token and a revoked token are 401
# unauthorized, and each role is allowed (any status but 401/403) or refused (403 forbidden)
# exactly as docs/api.md says. Tokens are stored only as SHA-256 hashes and never show up in
# `wgctl token list` or in the daemon's log.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"

wg_setup
# Debug logging, so that a token that leaks into any log line at all is caught below.
wg_start_daemon a --log-level debug
url=$(wg_url a)

# ---------------------------------------------------------------- the routes

# docs/api.md, one line per route: METHOD PATTERN WHO, where WHO is the role docs/api.md names
# (anyone, tree, prover, operator = viewer for GET, admin).
spec_routes='
GET /healthz anyone
GET /readyz anyone
GET /metrics anyone
GET /ui anyone
POST /batches/{n}/witness-inputs tree
POST /jobs/claim prover
GET /jobs/{id}/witness holder
POST /jobs/{id}/heartbeat prover
POST /proofs/{id}/complete prover
POST /proofs/{id}/fail prover
GET /batches operator
GET /batches/{n} operator
GET /batches/{n}/jobs operator
GET /jobs/{id} operator
GET /jobs/{id}/attempts operator
GET /batches/{n}/proof operator
POST /batches/{n}/requeue admin
POST /batches/{n}/priority admin
POST /jobs/{id}/requeue admin
GET /witness-jobs/{round}/{id} operator
POST /witness-jobs/{round}/{id}/requeue admin
DELETE /batches/{n} admin
GET /queue operator
POST /queue/pause admin
POST /queue/resume admin
GET /witness-jobs/{round}/{id} operator
POST /witness-jobs/{round}/{id}/requeue admin
'

# The routes the daemon serves, from its routing table.
served=$(sed -n 's/^ *{"\([A-Z]*\)", *"\([^"]*\)",.*/\1 \2/p' "$WG_SRCDIR/src/http/routes.c")
[[ -n $served ]] || fail "no routes found in src/http/routes.c"
n_served=$(wc -l <<<"$served")
((n_served >= 13)) || fail "only $n_served routes found in src/http/routes.c: $served"

# who_may METHOD PATTERN: the role docs/api.md gives a route ("" if it has no such route).
who_may() {
	awk -v m="$1" -v p="$2" '$1 == m && $2 == p { print $3 }' <<<"$spec_routes"
}

# allowed WHO ROLE METHOD: whether a caller with ROLE may call a route for WHO.
allowed() {
	local who=$1 role=$2 method=$3
	case $role in
	admin) return 0 ;;
	viewer) [[ $method == GET && $who != holder ]] ;;
	prover) [[ $who == prover || $who == holder ]] ;;
	tree) [[ $who == "$role" ]] ;;
	*) return 1 ;;
	esac
}

# request_args METHOD PATTERN: curl arguments for a plausible request to a route, with the
# content type it takes, so that nothing but the token decides the outcome.
request_args() {
	local method=$1 pattern=$2
	ARGS=()
	case "$method $pattern" in
	"POST /batches/{n}/witness-inputs") ARGS=(-H 'Content-Type: application/json' --data '{}') ;;
	"POST /jobs/claim") ARGS=(-H 'Content-Type: application/json' --data '{"prover_id":"t_auth","protocol_version":24}') ;;
	"POST /jobs/{id}/heartbeat") ARGS=(-H 'X-WG-Lease: 1') ;;
	"POST /proofs/{id}/complete") ARGS=(-H 'Content-Type: application/octet-stream' -H 'X-WG-Lease: 1' --data-binary 'WGREF1') ;;
	"POST /proofs/{id}/fail") ARGS=(-H 'Content-Type: application/json' -H 'X-WG-Lease: 1' --data '{"error":"t_auth"}') ;;
	POST*) ARGS=(-H 'Content-Type: application/json' --data '{}') ;;
	esac
}

# And the other way: every route of the API (docs/api.md) is served.
while read -r method pattern _; do
	[[ -n $method ]] || continue
	grep -qxF "$method $pattern" <<<"$served" ||
		fail "docs/api.md lists $method $pattern, which src/http/routes.c does not serve"
	wg__pass
done <<<"$spec_routes"

ROUTES=() # "METHOD PATTERN WHO", for each served route
while read -r method pattern; do
	who=$(who_may "$method" "$pattern")
	[[ -n $who ]] || fail "the daemon serves $method $pattern, which docs/api.md does not list; add it to t_auth.sh"
	ROUTES+=("$method $pattern $who")
done <<<"$served"
assert_eq "$n_served" "${#ROUTES[@]}" "routes under test"

# call ROUTE AUTH_ARGS...: make the request of a route ("METHOD PATTERN WHO") with ids of 1.
call() {
	local method pattern who path
	read -r method pattern who <<<"$1"
	shift
	path=$pattern
	while [[ $path =~ \{[a-z]+\} ]]; do
		path=${path/"${BASH_REMATCH[0]}"/1}
	done
	request_args "$method" "$pattern"
	wg_http "$method" "$url$path" "${ARGS[@]}" "$@"
}

# assert_unauthorized: the last answer is a 401 unauthorized error with a challenge.
assert_unauthorized() {
	assert_status 401
	assert_error_code unauthorized
	assert_ne "" "$(wg_json '.error.message // ""')" "401 message"
	assert_contains "$(wg_header WWW-Authenticate)" Bearer "$HTTP_METHOD $HTTP_URL: WWW-Authenticate"
}

# assert_allowed: neither refused (401/403) nor a failure (no answer, 5xx).
assert_allowed() {
	case $HTTP_STATUS in
	401 | 403 | 000 | 5??) fail "$1: $HTTP_METHOD $HTTP_URL answered $HTTP_STATUS, expected it to be allowed; body: $HTTP_BODY" ;;
	esac
	assert_ne "" "$HTTP_STATUS" "$1"
	[[ -z ${WG_TRACE:-} ]] || echo "# $1: $HTTP_STATUS" >&2
}

# ---------------------------------------------------------------- tokens

declare -A TOKEN=()
for role in tree prover viewer admin; do
	TOKEN[$role]=$(wg_token "$role" "t-auth-$role")
done
TOKEN[revoked]=$(wg_token admin t-auth-revoked)
ALL_TOKENS=("${TOKEN[@]}")

# The token to be revoked works first...
call "GET /batches operator"
assert_status 401
call "GET /batches operator" -H "Authorization: Bearer ${TOKEN[revoked]}"
assert_status 200
# ...and stops working within a second or two of `wgctl token revoke`.
wg_wgctl token revoke t-auth-revoked 2>"$WG_TMP/revoke.err" || fail "wgctl token revoke: $(cat "$WG_TMP/revoke.err")"
revoked_refused() {
	call "GET /batches operator" -H "Authorization: Bearer ${TOKEN[revoked]}"
	[[ $HTTP_STATUS == 401 ]]
}
wg_wait_until 2 revoked_refused
assert_unauthorized
# Revoking it again, or a token that does not exist, fails.
if wg_wgctl token revoke t-auth-revoked 2>/dev/null; then
	fail "revoking a revoked token succeeded"
fi
if wg_wgctl token revoke no-such-token 2>/dev/null; then
	fail "revoking an unknown token succeeded"
fi

unknown_token="wgt_$(printf '0%.0s' {1..64})"
# A valid token that was altered: longer, shorter, upper case.
altered=("${TOKEN[admin]}x" "${TOKEN[admin]%?}" "${TOKEN[admin]^^}")

# ---------------------------------------------------------------- the matrix

for route in "${ROUTES[@]}"; do
	read -r method pattern who <<<"$route"

	if [[ $who == anyone ]]; then
		call "$route"
		assert_allowed "$route without a token"
		call "$route" -H 'Authorization: Basic abc'
		assert_allowed "$route with a Basic header"
		continue
	fi

	call "$route"
	assert_unauthorized
	call "$route" -H 'Authorization: Basic abc'
	assert_unauthorized
	call "$route" -H 'Authorization: Bearer'
	assert_unauthorized
	call "$route" -H "Authorization: ${TOKEN[admin]}"
	assert_unauthorized
	call "$route" -H "Authorization: Bearer $unknown_token"
	assert_unauthorized
	call "$route" -H "Authorization: Bearer ${TOKEN[revoked]}"
	assert_unauthorized
	for token in "${altered[@]}"; do
		call "$route" -H "Authorization: Bearer $token"
		assert_unauthorized
	done

	for role in tree prover viewer admin; do
		call "$route" -H "Authorization: Bearer ${TOKEN[$role]}"
		if allowed "$who" "$role" "$method"; then
			assert_allowed "role $role on $route"
		else
			assert_status 403
			assert_error_code forbidden
			assert_ne "" "$(wg_json '.error.message // ""')" "403 message"
		fi
	done
done

# The scheme is case-insensitive (RFC 9110 section 11.1).
call "GET /batches operator" -H "Authorization: bearer ${TOKEN[viewer]}"
assert_status 200

# A token made while the daemon runs works at once (within the cache's reload interval).
late=$(wg_token prover t-auth-late)
ALL_TOKENS+=("$late")
late_ok() {
	call "POST /jobs/claim prover" -H "Authorization: Bearer $late"
	[[ $HTTP_STATUS != 401 ]]
}
wg_wait_until 2 late_ok
assert_allowed "a new prover token"

# ---------------------------------------------------------------- secrets stay secret

# Stored hashed: the SHA-256 of each token, and the token itself nowhere in its row.
for name in tree prover viewer admin revoked; do
	token=${TOKEN[$name]}
	row_name=t-auth-$name
	want=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
	assert_eq "$want" "$(wg_psql "select encode(token_sha256, 'hex') from tokens where name = '$row_name'")" \
		"stored hash of $row_name"
	assert_eq 0 "$(wg_psql "select count(*) from tokens t where position('${token#wgt_}' in lower(t::text)) > 0")" \
		"token $row_name stored in clear"
done
assert_eq 1 "$(wg_psql "select count(*) from tokens where name = 't-auth-revoked' and revoked_at is not null")" \
	"revoked_at set"
assert_eq 0 "$(wg_psql "select count(*) from tokens where name <> 't-auth-revoked' and revoked_at is not null")" \
	"only one token revoked"

# `wgctl token list` names the tokens and their roles but never prints a value.
list=$(wg_wgctl token list 2>&1)
for name in tree prover viewer admin; do
	assert_contains "$list" "t-auth-$name" "token list"
done
revoked_line=$(grep 't-auth-revoked' <<<"$list") || fail "t-auth-revoked missing from the token list: $list"
assert_contains "$revoked_line" revoked "state of t-auth-revoked in the list"
for token in "${ALL_TOKENS[@]}"; do
	if [[ $list == *"${token#wgt_}"* || $list == *"${token:0:20}"* ]]; then
		fail "wgctl token list printed a token: $list"
	fi
done
assert_ne "" "$list" "token list output"

# A token added without --name gets a name of its role, the time and a random suffix drawn apart
# from the token: the listed name holds no digits of the secret.
for i in 1 2 3 4 5; do
	unnamed=$(wg_wgctl token add --role viewer 2>"$WG_TMP/unnamed.err")
	name=$(sed -n 's/.*token "\(.*\)".*/\1/p' "$WG_TMP/unnamed.err")
	[[ $name =~ ^viewer-[0-9]+-([0-9a-f]{8})$ ]] || fail "unexpected default token name '$name'"
	suffix=${BASH_REMATCH[1]}
	assert_contains "$(wg_wgctl token list 2>&1)" "$name" "the default name is listed"
	if [[ ${unnamed#wgt_} == *"$suffix"* ]]; then
		fail "the default name $name repeats digits of its token"
	fi
	wg__pass
done

# The daemon's log never holds a token, in full or in part (it saw every one of them).
log="$WG_TMP/a.log"
assert_ne 0 "$(wc -l <"$log")" "daemon log lines"
log_has() {
	if grep -qiF -- "$1" "$log"; then
		fail "the daemon log contains $2: $(grep -iF -- "$1" "$log" | head -n 3)"
	fi
}
for token in "${ALL_TOKENS[@]}"; do
	for part in "$token" "${token:4:16}" "${token: -16}"; do
		log_has "$part" "(part of) a token"
	done
done
for token in "$unknown_token" "${altered[@]}"; do
	log_has "$token" "a token that was refused"
done
assert_eq 0 "$(grep -ciF 'wgt_' "$log" || true)" "lines in the daemon log with a token prefix"
