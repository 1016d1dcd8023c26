#!/bin/bash
# t_tls.sh: HTTPS through libmicrohttpd's own TLS (--tls-cert, --tls-key; issue 4 point 9).
# With a self-signed certificate for 127.0.0.1: the daemon serves exactly that certificate;
# healthz answers over https to a client that trusts it and not to one that does not; plain http
# on the port gets no HTTP answer; tokens work as over http; a batch goes from upload to proven
# over HTTPS; a key that cannot be read stops the daemon at start; SIGTERM exits 0.
# The daemon is started here rather than with wg_start_daemon, which waits on http://.../healthz;
# it is entered in lib.sh's tables so that its log is shown on failure and teardown stops it.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
command -v openssl >/dev/null || fail "openssl is required by this test"
CERT="$WG_TMP/cert.pem"
KEY="$WG_TMP/key.pem"
# make_cert CERT KEY: a self-signed certificate for 127.0.0.1.
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$2" -out "$1" 2>"$WG_TMP/openssl.err" || {
		cat "$WG_TMP/openssl.err" >&2
		fail "openssl req failed"
	}
}
make_cert "$CERT" "$KEY"
make_cert "$WG_TMP/other.pem" "$WG_TMP/other-key.pem"
# running PID: PID has not exited (a zombie has).
running() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $state != Z* ]]
}

# Under AddressSanitizer freed memory is set aside untouched (its quarantine) instead of being
# reused: the TLS library's freed temporaries of the key would still be found there, which the
# shipped build's allocator does not keep. Freed memory is filled there, as reuse would.
if grep -qa __asan_init "$WG_BUILDDIR/witness-generator"; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_free_fill_size=1048576"
fi

# tls_start NAME ARGS...: start witness-generator NAME over TLS on a free port and wait for
# https healthz (trusting $CERT). Sets TLS_URL.
tls_start() {
	local name=$1 port pid code deadline
	shift
	wg__take_port port
	"$WG_BUILDDIR/witness-generator" --db "$WG_DB" --listen "127.0.0.1:$port" --store "file:$WG_TMP/store-$name" \
		--instance-id "$name" --tls-cert "$CERT" --tls-key "$KEY" "$@" </dev/null >>"$WG_TMP/$name.log" 2>&1 &
	pid=$!
	WG_DAEMON_PID[$name]=$pid
	WG_DAEMON_PORT[$name]=$port
	TLS_URL="https://127.0.0.1:$port"
	deadline=$((SECONDS + 20))
	while ((SECONDS < deadline)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$CERT" "$TLS_URL/healthz") || true
		[[ $code == 200 ]] && return 0
		running "$pid" || break
		sleep 0.1
	done
	fail "daemon $name did not answer GET $TLS_URL/healthz within 20 s"
}

tls_start t
port=${TLS_URL##*:}
assert_contains "$(cat "$WG_TMP/t.log")" "listening on https://127.0.0.1:$port" "daemon log"

# The certificate served is ours.
fingerprint() {
	openssl x509 -noout -fingerprint -sha256
}
served=$(openssl s_client -connect "127.0.0.1:$port" -servername 127.0.0.1 </dev/null 2>/dev/null | fingerprint) ||
	fail "openssl s_client could not fetch the certificate"
assert_eq "$(fingerprint <"$CERT")" "$served" "the certificate the daemon serves"

# healthz over https, trusted; not trusted without the certificate or with another one.
wg_http GET "$TLS_URL/healthz" --cacert "$CERT"
assert_status 200
assert_json_eq .status ok
rc=0
curl -sS -o /dev/null --max-time 5 "$TLS_URL/healthz" 2>"$WG_TMP/curl.err" || rc=$?
assert_eq 60 "$rc" "https without trusting the certificate (curl: $(cat "$WG_TMP/curl.err"))"
rc=0
curl -sS -o /dev/null --max-time 5 --cacert "$WG_TMP/other.pem" "$TLS_URL/healthz" 2>"$WG_TMP/curl.err" || rc=$?
assert_eq 60 "$rc" "https trusting another certificate (curl: $(cat "$WG_TMP/curl.err"))"
# Plain http on the TLS port: no HTTP answer at all.
wg_http GET "http://127.0.0.1:$port/healthz"
assert_status 000
wg_http GET "$TLS_URL/readyz" --cacert "$CERT"
assert_status 200

# TLS 1.2 and 1.3 are served; TLS 1.1 is refused by the server. The client is told to offer
# TLS 1.1 at security level 0, so a refusal can only come from the server's side.
for version in 1.2 1.3; do
	wg_http GET "$TLS_URL/healthz" --cacert "$CERT" --tlsv"$version" --tls-max "$version"
	assert_status 200
done
s_client() {
	openssl s_client -connect "127.0.0.1:$port" -servername 127.0.0.1 "$@" </dev/null 2>&1 || true
}
out=$(s_client -tls1_2)
assert_contains "$out" "Protocol  : TLSv1.2" "a TLS 1.2 handshake"
out=$(s_client -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
assert_contains "$out" "CONNECTED" "the TLS 1.1 client reached the server"
assert_contains "$out" "SSL handshake has read 0 bytes and written" "TLS 1.1 refused by the server"
assert_contains "$out" "Cipher is (NONE)" "no TLS 1.1 session"
if [[ $out == *"no protocols available"* ]]; then
	fail "the TLS 1.1 client refused itself: $out"
fi
# The private key's text is wiped from the daemon's memory once TLS is set up.
key_line=$(sed -n 5p "$KEY")
assert_eq 0 "$(/usr/bin/python3 - "$(wg_daemon_pid t)" "$key_line" <<'PY'
import re, sys
pid, needle = sys.argv[1], sys.argv[2].encode()
found = 0
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) r", line)
        if not m or "[vvar]" in line:
            continue
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        # Mappings over 1 GiB are reservations (AddressSanitizer's shadow memory), not data.
        if end - start > 1 << 30:
            continue
        chunk = 1 << 20
        for at in range(start, end, chunk):
            try:
                mem.seek(at)
                # Overlap by the needle's length so that a copy across two chunks is found.
                data = mem.read(min(chunk + len(needle), end - at))
            except OSError:
                continue
            pos = data.find(needle)
            while 0 <= pos < chunk:  # a copy starting in the overlap is the next chunk's
                found += 1
                pos = data.find(needle, pos + 1)
print(found)
PY
)" "copies of a line of the private key in the daemon's memory"

# From here on every curl (wg_http and pipeline_lib's) trusts $CERT; curl reads CURL_CA_BUNDLE.
export CURL_CA_BUNDLE="$CERT"
pl_use t
PL_URL=$TLS_URL
wg_http GET "$PL_URL/batches" -H "Authorization: Bearer $PL_VIEWER"
assert_status 200
assert_json_eq '.batches | type' array
wg_http GET "$PL_URL/batches"
assert_status 401
assert_error_code unauthorized
wg_http GET "$PL_URL/batches" -H "Authorization: Bearer not-a-token"
assert_status 401
wg_http DELETE "$PL_URL/batches/1" -H "Authorization: Bearer $PL_VIEWER"
assert_status 403

# A batch from upload to proven over HTTPS, with gzip on the way in.
pl_gen_input 1 --logs 40 --workload main_vm=$((5390 * 3)),keccak256=300 >"$WG_TMP/in1.json"
gzip -c "$WG_TMP/in1.json" >"$WG_TMP/in1.json.gz"
pl_upload 1 "$WG_TMP/in1.json.gz" -H 'Content-Encoding: gzip'
assert_status 201
assert_json_eq .basic_circuits 7
pl_upload 1 "$WG_TMP/in1.json"
assert_status 200
prove_all_until 1 proven 60
pl_get /batches/1/proof
assert_status 200
assert_eq 38 "$(stat -c %s "$HTTP_BODY_FILE")" "final proof length over HTTPS"
pl_get /batches/1
assert_json_eq .status proven

# wg-prover refuses a server it cannot verify, and proves over HTTPS when told the CA (--cacert).
rc=0
timeout 20 "$WG_BUILDDIR/wg-prover" --url "$PL_URL" --token "$PL_PROVER" --until-idle --idle-seconds 1 \
	>"$WG_TMP/prover.out" 2>"$WG_TMP/prover.err" || rc=$?
assert_ne 0 "$rc" "wg-prover against a server it cannot verify"
assert_contains "$(cat "$WG_TMP/prover.err")" "SSL certificate problem" "wg-prover's reason"
assert_contains "$(cat "$WG_TMP/prover.out")" "wg-prover: proved 0 jobs"

pl_gen_input 2 --logs 10 --workload main_vm=$((5390 * 4)) --seed 2 >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
"$WG_BUILDDIR/wg-prover" --url "$PL_URL" --token "$PL_PROVER" --cacert "$CERT" --concurrency 2 \
	--until-idle --idle-seconds 2 >"$WG_TMP/prover.out" 2>"$WG_TMP/prover.err" ||
	fail "wg-prover over https exited with status $?: $(tail -n 5 "$WG_TMP/prover.err")"
assert_eq proven "$(batch_status 2)" "batch 2 proved by wg-prover over HTTPS"
assert_contains "$(cat "$WG_TMP/prover.out")" "wg-prover: proved 10 jobs"

rc=0
wg_stop_daemon t || rc=$?
assert_eq 0 "$rc" "exit status of the TLS daemon on SIGTERM"

# A key that cannot be read: the daemon refuses to start, with a message, and does not listen.
rc=0
"$WG_BUILDDIR/witness-generator" --db "$WG_DB" --listen "127.0.0.1:$port" --store "file:$WG_TMP/store-t" \
	--tls-cert "$CERT" --tls-key "$WG_TMP/missing-key.pem" >"$WG_TMP/bad.log" 2>&1 </dev/null &
bad=$!
deadline=$((SECONDS + 20))
while running "$bad" && ((SECONDS < deadline)); do
	sleep 0.1
done
if running "$bad"; then
	kill -KILL "$bad" 2>/dev/null || true
	fail "the daemon with a missing TLS key is still running after 20 s"
fi
wait "$bad" || rc=$?
assert_ne 0 "$rc" "exit status with a missing TLS key"
assert_contains "$(cat "$WG_TMP/bad.log")" "cannot read the TLS key file $WG_TMP/missing-key.pem" "error message for a missing key"
