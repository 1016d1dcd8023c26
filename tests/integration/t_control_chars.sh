#!/bin/bash
# t_control_chars.sh: client text reaches no terminal and breaks no log (issue 15, item 2).
# - A failure text with ESC, BEL, OSC, CSI and an 8-bit CSI (U+009B), from a prover whose
#   prover_id holds control bytes too: the rows, the API's JSON (GET /jobs/{id},
#   GET /batches/{n}/jobs), wgctl status, status BATCH, stats and token list (in a UTF-8 locale
#   and in the C locale), and the daemon's log hold no raw control byte; the text survives
#   without its control characters.
# - A row written with control bytes before the daemon cleaned them (here with psql): wgctl
#   escapes them (\x1b, \u{9b}), and so does its --json.
# - The text log: a token name with a quote and an '=' and a method with a quote (GET"x=1)
#   still give access lines of key=value pairs whose values read back as they were.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
wg_start_daemon a --max-attempts 1 --log-level debug
pl_use a
log="$WG_TMP/a.log"

# raw_controls FILE: the lines of FILE that hold a C0 control other than tab and line feed, DEL,
# or a C1 control, encoded in UTF-8 (C2 80..C2 9F) or as a lone byte; empty when there is none.
raw_controls() {
	LC_ALL=C grep -naP '[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]' "$1" |
		LC_ALL=C grep -aP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|(?<![\xc2-\xf4])[\x80-\x9f]' || true
}
# assert_no_controls FILE WHAT
assert_no_controls() {
	local found
	found=$(raw_controls "$1")
	[[ -z $found ]] || fail "$2 holds raw control bytes: $(od -c <<<"$found" | head -20)"
	wg__pass
}
# The check itself must see what it looks for.
printf 'a\x1b[2Jb\n' >"$WG_TMP/probe1"
printf 'a\xc2\x9bb\n' >"$WG_TMP/probe2"
printf 'caf\xc3\xa9 \xe2\x82\xac\tx\n' >"$WG_TMP/probe3"
[[ -n $(raw_controls "$WG_TMP/probe1") && -n $(raw_controls "$WG_TMP/probe2") ]] || fail "raw_controls misses ESC or C1"
assert_eq "" "$(raw_controls "$WG_TMP/probe3")" "raw_controls passes printable UTF-8 and tab"

pl_gen_input 1 --logs 0 --workload main_vm=5390 >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
J=
job_exists() { J=$(wg_psql "SELECT min(id) FROM prover_jobs WHERE l1_batch_number = 1"); [[ -n $J ]]; }
wg_wait_until 30 job_exists

# The attack: retitle the terminal (OSC ... BEL), clear it (CSI 2J), colour a forged verdict,
# with an 8-bit CSI, DEL and a line break thrown in (a NUL, \u0000, the JSON parser refuses).
error=$'\e]0;pwned\a\e[2J\e[31mFAKE: all good\e[0m\xc2\x9b1m\x7f tail\nsecond line'
error_json=$(jq -cn --arg e "$error" '{error: $e}')
prover_json=$(jq -cn --arg p $'gpu-7\e[8m\xc2\x9b\x07' --argjson v "$PL_PROTOCOL_VERSION" \
	'{prover_id: $p, protocol_version: $v}')
pl_claim "$prover_json"
assert_status 200
assert_eq "$J" "$PL_JOB_ID" "the batch's first job is claimed"
wg_http POST "$PL_URL/proofs/$J/fail" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: $PL_JOB_LEASE" \
	-H 'Content-Type: application/json' --data-binary "$error_json"
assert_status 200
assert_json_eq .status failed

# Stored without a control character, the printable text kept (line breaks become spaces); the
# job failed for good, which its error says after the prover's text.
STORED=']0;pwned[2J[31mFAKE: all good[0m1m tail second line; reached max_attempts (1)'
assert_eq "$STORED" \
	"$(wg_psql "SELECT error FROM prover_jobs WHERE id = $J")" "the stored error"
assert_eq 'gpu-7[8m' "$(wg_psql "SELECT picked_by FROM prover_jobs WHERE id = $J")" "the stored prover_id"
assert_eq 0 "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE error ~ '[\x01-\x1f\x7f-\x9f]' OR picked_by ~ '[\x01-\x1f\x7f-\x9f]'")" \
	"no job row holds a control character"

# A prover_id of nothing but control characters names nobody.
pl_claim "$(jq -cn --arg p $'\e\a' --argjson v "$PL_PROTOCOL_VERSION" '{prover_id: $p, protocol_version: $v}')"
assert_status 400
assert_error_code invalid_input

# The dashboard's data: the JSON it reads, as bytes.
pl_get "/jobs/$J"
assert_status 200
assert_no_controls "$HTTP_BODY_FILE" "GET /jobs/$J"
assert_json_eq .error "$STORED"
pl_get "/batches/1/jobs"
assert_status 200
assert_no_controls "$HTTP_BODY_FILE" "GET /batches/1/jobs"
pl_get "/batches/1"
assert_status 200
assert_no_controls "$HTTP_BODY_FILE" "GET /batches/1"

# wgctl_out NAME ARGS...: wgctl's stdout and stderr, into $WG_TMP/NAME (a failing command is
# still looked at: wgctl status exits 0 on a failed batch).
wgctl_out() {
	local name=$1
	shift
	wg_wgctl "$@" >"$WG_TMP/$name" 2>&1 || fail "wgctl $* failed: $(cat "$WG_TMP/$name")"
}
# wgctl_clean TAG: every wgctl command that prints stored text, none with a raw control byte.
wgctl_clean() {
	local locale
	for locale in C.UTF-8 C; do
		LC_ALL=$locale wgctl_out "$1-status-$locale" status
		LC_ALL=$locale wgctl_out "$1-status1-$locale" status 1
		LC_ALL=$locale wgctl_out "$1-stats-$locale" stats
		LC_ALL=$locale wgctl_out "$1-tokens-$locale" token list
		LC_ALL=$locale wgctl_out "$1-json-$locale" --json status 1
		for f in status status1 stats tokens json; do
			assert_no_controls "$WG_TMP/$1-$f-$locale" "wgctl $f ($1, LC_ALL=$locale)"
		done
	done
}
wgctl_clean new
assert_contains "$(cat "$WG_TMP/new-status1-C.UTF-8")" 'FAKE: all good' "wgctl status 1 shows the error"

# A row as a database written before this change may hold it: raw ESC, BEL, C1 CSI and DEL.
wg_psql "UPDATE prover_jobs SET error = E'\\033]0;old\\007\\033[2J' || chr(155) || 'OLD' || chr(127)
	WHERE id = $J" >/dev/null
[[ $(wg_psql "SELECT error ~ '\x1b' FROM prover_jobs WHERE id = $J") == t ]] || fail "psql did not store ESC"
old_name=$(wg_psql "SELECT name FROM tokens WHERE role = 'viewer'")
wg_psql "UPDATE tokens SET name = name || E'\\033[2J' || chr(155) WHERE name = '$old_name'" >/dev/null
wgctl_clean old
assert_contains "$(cat "$WG_TMP/old-status1-C.UTF-8")" '\x1b]0;old\x07\x1b[2J\u{9b}OLD\x7f' \
	"wgctl status 1 escapes an old row"
assert_contains "$(cat "$WG_TMP/old-status1-C")" '\x1b]0;old\x07\x1b[2J\u{9b}OLD\x7f' \
	"wgctl status 1 escapes an old row in the C locale"
assert_contains "$(cat "$WG_TMP/old-tokens-C.UTF-8")" "$old_name"'\x1b[2J\u{9b}' "wgctl token list escapes an old name"
assert_eq $'\e]0;old\a\e[2J\xc2\x9bOLD\x7f' "$(jq -r '.errors[0].error' "$WG_TMP/old-json-C.UTF-8")" \
	"wgctl --json keeps the text, escaped as JSON"
pl_get "/jobs/$J"
assert_status 200
assert_no_controls "$HTTP_BODY_FILE" "GET /jobs/$J of an old row"

# Names are checked at the door as well: wgctl refuses a C1 control as it refuses C0.
rc=0
wg_wgctl token add --role viewer --name $'csi\xc2\x9bname' >/dev/null 2>"$WG_TMP/add.err" || rc=$?
assert_eq 2 "$rc" "wgctl token add with a C1 control in the name"
assert_contains "$(cat "$WG_TMP/add.err")" "printable"

# The text log. A token name may hold a quote and '=' (it is printable); the access line of its
# request still reads as key=value pairs, and the value reads back as the name.
quote_name='evil" x=1 \ name'
quote_token=$(wg_token viewer "$quote_name")
wg_http GET "$PL_URL/batches/1" -H "Authorization: Bearer $quote_token" -H 'X-Request-Id: quoted-name'
assert_status 200
# A method with a quote: refused (no route has it), and logged.
wg_http 'GET"x=1' "$PL_URL/batches/1" -H "Authorization: Bearer $PL_VIEWER" -H 'X-Request-Id: quoted-method'
# logfmt_line ID: the access line of request ID, when it is whole "key=value" pairs.
logfmt_line() {
	LC_ALL=C grep -a "request_id=$1 " "$log" |
		LC_ALL=C grep -aP '^\S+ +info +access( [a-z_]+=([^ "=\\\x00-\x1f\x7f]+|"([^"\\\x00-\x1f\x7f]|\\.)*"))+$'
}
logged() { LC_ALL=C grep -aq "request_id=$1 " "$log"; }
wg_wait_until 5 logged quoted-name
wg_wait_until 5 logged quoted-method
[[ -n $(logfmt_line quoted-name) ]] ||
	fail "the access line of a token named '$quote_name' is not key=value pairs: $(grep -a 'request_id=quoted-name ' "$log")"
wg__pass
[[ -n $(logfmt_line quoted-method) ]] ||
	fail "the access line of method GET\"x=1 is not key=value pairs: $(grep -a 'request_id=quoted-method ' "$log")"
wg__pass
# Read back: quoted values unescape to what was sent.
value_of() {
	logfmt_line "$1" | KEY=$2 perl -ne 'while (/ ([a-z_]+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))/g) {
		next unless $1 eq $ENV{KEY}; my $v = defined $2 ? $2 : $3; $v =~ s/\\(.)/$1/g; print "$v\n" }'
}
assert_eq "$quote_name" "$(value_of quoted-name token_name)" "token_name read back from the log"
assert_eq 'GET"x=1' "$(value_of quoted-method method)" "method read back from the log"

# The daemon's whole log (at debug level: libmicrohttpd's messages too) holds no raw control byte.
assert_no_controls "$log" "the daemon's log"
