#!/bin/bash
# t_secrets.sh: secrets the systemd way (issue 15, item 3).
# 1. A TLS key (by its old name --tls-key and its new one --tls-key-file), a database password file
#    and an S3 credentials file that group or others may read stop the daemon at start, before it
#    listens, with a message naming the file and `chmod 600 FILE`; so does such a file in
#    $CREDENTIALS_DIRECTORY, and one shared with another user through an ACL, while a credential
#    shared through an ACL with the daemon's own user (how systemd shares them) is taken.
# 2. The files work: HTTPS with the key from --tls-key-file and from $CREDENTIALS_DIRECTORY/tls-key;
#    a role whose pg_hba line asks for scram-sha-256 is reached with --db-password-file (a password
#    with a space and a quote, which no conninfo string-building would survive) and with
#    $CREDENTIALS_DIRECTORY/db-password, by the daemon and by wgctl, and not without it; S3 requests
#    are signed with the keys of --s3-credentials-file, then of $CREDENTIALS_DIRECTORY/s3-credentials,
#    not with the AWS_* variables also set (checked by tests/tools/s3_recorder.py, which verifies
#    each signature with the file's secret); blank credentials (the unit's defaults) are ignored.
#    No secret appears in a log.
# 3. The installed unit runs as the witness-generator user with LoadCredential= for the three files
#    and passes `systemd-analyze verify` where systemd is present (the test says when it is not).
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup
wg__require_tool python3
command -v openssl >/dev/null || fail "openssl is required by this test"
# No password may reach libpq from anywhere but the daemon.
unset PGPASSWORD
export PGPASSFILE=/nonexistent

CERT="$WG_TMP/cert.pem"
KEY="$WG_TMP/key.pem"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$KEY" -out "$CERT" 2>"$WG_TMP/openssl.err" || fail "openssl req failed: $(cat "$WG_TMP/openssl.err")"
chmod 600 "$KEY"
KEY_LINE=$(sed -n 2p "$KEY")

# secret_file PATH MODE TEXT: write TEXT to PATH with MODE.
secret_file() {
	printf '%s' "$3" >"$1"
	chmod "$2" "$1"
}

# start_refused NAME ARGS...: run the daemon with ARGS; it must exit by itself within 20 s (a daemon
# that accepted the file would be stopped by timeout, status 124). Sets REFUSED_RC and REFUSED_LOG.
start_refused() {
	local name=$1 port
	shift
	wg__take_port port
	REFUSED_LOG="$WG_TMP/refused-$name.log"
	REFUSED_RC=0
	timeout 20 "$WG_BUILDDIR/witness-generator" --db "$WG_DB" --listen "127.0.0.1:$port" \
		--store "file:$WG_TMP/store-refused" "$@" </dev/null >"$REFUSED_LOG" 2>&1 || REFUSED_RC=$?
}

# assert_refused NAME WHAT FILE MODE ARGS...: the daemon with ARGS stops at start and names FILE,
# its MODE and the command that fixes it.
assert_refused() {
	local name=$1 what=$2 file=$3 mode=$4
	shift 4
	start_refused "$name" "$@"
	assert_eq 2 "$REFUSED_RC" "exit status with a $what of mode $mode"
	assert_contains "$(cat "$REFUSED_LOG")" "the $what $file may be read by users other than its owner (mode $mode" \
		"the refusal names the $what and its mode"
	assert_contains "$(cat "$REFUSED_LOG")" "Fix it with: chmod 600 $file" "the refusal says how to fix it"
}

# ---------------------------------------------------------------- 1. refusals
chmod 644 "$KEY"
assert_refused key-old-name "TLS key file" "$KEY" 0644 --tls-cert "$CERT" --tls-key "$KEY"
chmod 640 "$KEY"
assert_refused key-new-name "TLS key file" "$KEY" 0640 --tls-cert "$CERT" --tls-key-file "$KEY"
assert_eq 0 "$(cat "$WG_TMP"/refused-key-*.log | grep -c -F "$KEY_LINE" || true)" "key material in the refusals"
chmod 600 "$KEY"

PW="open sesame's key"
secret_file "$WG_TMP/db-password" 0644 "$PW"
assert_refused password "database password file" "$WG_TMP/db-password" 0644 --db-password-file "$WG_TMP/db-password"
assert_eq 0 "$(grep -c -F "$PW" "$REFUSED_LOG" || true)" "the password in the refusal"
chmod 600 "$WG_TMP/db-password"

FILE_KEY=AKIAFROMFILE
CRED_KEY=AKIAFROMCREDENTIALS
S3_SECRET='wJalrXUtnFEMI/K7MDENG+bPxRfiCYFILESECRET'
secret_file "$WG_TMP/s3-credentials" 0604 "# the test bucket
access_key_id = $FILE_KEY
secret_access_key = $S3_SECRET
session_token = token-from-file
"
assert_refused s3 "S3 credentials file" "$WG_TMP/s3-credentials" 0604 --s3-credentials-file "$WG_TMP/s3-credentials"
assert_eq 0 "$(grep -c -F "$S3_SECRET" "$REFUSED_LOG" || true)" "the S3 secret in the refusal"
chmod 600 "$WG_TMP/s3-credentials"

# $CREDENTIALS_DIRECTORY is checked too, though systemd makes its files safe.
CREDS="$WG_TMP/credentials"
mkdir -m 700 "$CREDS"
cp "$KEY" "$CREDS/tls-key"
chmod 444 "$CREDS/tls-key"
CREDENTIALS_DIRECTORY=$CREDS assert_refused creds-dir "TLS key file" "$CREDS/tls-key" 0444 --tls-cert "$CERT"
# systemd shares a credential with the service's user through an ACL (the mode then shows the
# ACL's mask as group bits): allowed for this process's own user, refused for another one.
if command -v setfacl >/dev/null; then
	chmod 400 "$CREDS/tls-key"
	setfacl -m "u:nobody:r" "$CREDS/tls-key"
	start_refused acl-other --tls-cert "$CERT" --tls-key-file "$CREDS/tls-key"
	assert_eq 2 "$REFUSED_RC" "exit status with a key shared with nobody through an ACL"
	assert_contains "$(cat "$REFUSED_LOG")" "an ACL that lets other users in" "the refusal names the ACL"
	assert_contains "$(cat "$REFUSED_LOG")" "chmod 600 $CREDS/tls-key && setfacl -b $CREDS/tls-key" "the ACL's fix"
	setfacl -b "$CREDS/tls-key"
	setfacl -m "u:$(id -u):r" "$CREDS/tls-key"
	ACL_SHARED=yes
else
	echo "# setfacl is not installed (Debian: acl): credentials shared through an ACL were not checked"
	chmod 400 "$CREDS/tls-key"
	ACL_SHARED=no
fi

# ---------------------------------------------------------------- 2. the files work
# tls_up NAME ARGS...: start a daemon over TLS, wait for https healthz trusting $CERT, stop it.
tls_up() {
	local name=$1 port pid code="" deadline
	shift
	wg__take_port port
	"$WG_BUILDDIR/witness-generator" --db "$WG_DB" --listen "127.0.0.1:$port" --store "file:$WG_TMP/store-$name" \
		--instance-id "$name" --tls-cert "$CERT" "$@" </dev/null >>"$WG_TMP/$name.log" 2>&1 &
	pid=$!
	WG_DAEMON_PID[$name]=$pid
	WG_DAEMON_PORT[$name]=$port
	deadline=$((SECONDS + 20))
	while ((SECONDS < deadline)) && wg__alive "$pid"; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$CERT" "https://127.0.0.1:$port/healthz") || true
		[[ $code == 200 ]] && break
		sleep 0.1
	done
	assert_eq 200 "$code" "https healthz of $name ($*)"
	wg_stop_daemon "$name"
	assert_eq 0 "$(grep -c -F "$KEY_LINE" "$WG_TMP/$name.log" || true)" "key material in the log of $name"
}
tls_up tls-file --tls-key-file "$KEY"
CREDENTIALS_DIRECTORY=$CREDS tls_up tls-creds
[[ $ACL_SHARED == no ]] || assert_eq "440 user:$(id -u):r--" \
	"$(stat -c %a "$CREDS/tls-key") $(getfacl -cn "$CREDS/tls-key" 2>/dev/null | grep "^user:[0-9]")" \
	"the credential taken was shared through an ACL (its mode shows the mask as group bits)"

# A role that must give its password (the cluster trusts every other one).
wg_psql "CREATE ROLE wgpw LOGIN PASSWORD 'open sesame''s key'" "CREATE DATABASE wgpw OWNER wgpw"
HBA="$WG_PGDIR/data/pg_hba.conf"
{
	echo "host all wgpw 127.0.0.1/32 scram-sha-256"
	cat "$HBA"
} >"$WG_TMP/hba"
cat "$WG_TMP/hba" >"$HBA" # in place: the file keeps the cluster owner's ownership
wg_psql "SELECT pg_reload_conf()" >/dev/null
PORT=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$WG_DB")
PWDB="host=127.0.0.1 port=$PORT dbname=wgpw user=wgpw"
rc=0
"$WG_BUILDDIR/wgctl" --db "$PWDB" migrate >/dev/null 2>"$WG_TMP/nopw.err" || rc=$?
assert_ne 0 "$rc" "wgctl migrate as wgpw without a password"
assert_contains "$(cat "$WG_TMP/nopw.err")" "password" "why wgctl could not connect"
# A wrong password in the conninfo: the file's wins.
"$WG_BUILDDIR/wgctl" --db "$PWDB password=wrong" --db-password-file "$WG_TMP/db-password" migrate 2>"$WG_TMP/pw.err" ||
	fail "wgctl migrate with --db-password-file: $(cat "$WG_TMP/pw.err")"
wg_start_daemon pw --db "$PWDB" --db-password-file "$WG_TMP/db-password" --log-level debug
wg_http GET "$(wg_url pw)/readyz"
assert_status 200
assert_eq wgpw "$(wg_psql "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'witness-generator' AND datname = 'wgpw'")" \
	"the daemon's connections are wgpw's"
wg_stop_daemon pw
secret_file "$CREDS/db-password" 0400 "$PW
"
rm -f "$CREDS/tls-key" # from here on the daemons serve plain HTTP
CREDENTIALS_DIRECTORY=$CREDS wg_start_daemon pw-creds --db "$PWDB" --log-level debug
wg_http GET "$(wg_url pw-creds)/readyz"
assert_status 200
wg_stop_daemon pw-creds
assert_eq 0 "$(cat "$WG_TMP/pw.log" "$WG_TMP/pw-creds.log" "$WG_TMP/pw.err" | grep -c -F "sesame" || true)" \
	"the password in the logs"

# S3: the recorder checks every signature with the file's secret; the environment holds others.
export AWS_ACCESS_KEY_ID=AKIAFROMENV AWS_SECRET_ACCESS_KEY=env-secret-that-must-not-sign AWS_SESSION_TOKEN=token-from-env
mkdir -p "$WG_TMP/rec"
: >"$WG_TMP/rec/requests.jsonl"
REQS=$WG_TMP/rec/requests.jsonl
wg__take_port REC_PORT
S3_RECORDER_SECRET=$S3_SECRET python3 "$WG_SRCDIR/tests/tools/s3_recorder.py" "$REC_PORT" "$WG_TMP/rec" 2>"$WG_TMP/recorder.log" &
REC_PID=$!
stop_recorder() { kill "$REC_PID" 2>/dev/null; wait "$REC_PID" 2>/dev/null || true; }
wg_on_exit stop_recorder
rec_up() { [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REC_PORT/b/x") == 404 ]]; }
wg_wait_until 10 rec_up

# s3_upload NAME BATCH KEY TOKEN ARGS...: start daemon NAME on the recorder with ARGS, upload BATCH,
# and check that every request was signed with KEY and the file's secret, and carried TOKEN.
s3_upload() {
	local name=$1 batch=$2 key=$3 token=$4
	shift 4
	: >"$REQS"
	wg_start_daemon "$name" --store s3://wg-bucket/p --s3-endpoint "http://127.0.0.1:$REC_PORT" "$@"
	pl_use "$name"
	pl_gen_input "$batch" --logs 4 >"$WG_TMP/in$batch.json"
	pl_upload "$batch" "$WG_TMP/in$batch.json"
	assert_status 201
	assert_eq 1 "$(($(wc -l <"$REQS") >= 1))" "requests recorded for $name"
	assert_eq "$key" "$(jq -r '.headers.authorization | capture("Credential=(?<k>[^/]*)/").k' "$REQS" | sort -u)" \
		"the access key id that signed $name's requests"
	assert_eq "" "$(jq -r 'select(.signature_ok | not) | "\(.method) \(.path)"' "$REQS")" \
		"$name's requests whose signature does not verify with the file's secret"
	assert_eq "$token" "$(jq -r '.headers["x-amz-security-token"]' "$REQS" | sort -u)" "$name's session token"
	wg_stop_daemon "$name"
	assert_eq 0 "$(grep -c -F "$S3_SECRET" "$WG_TMP/$name.log" || true)" "the S3 secret in $name's log"
}
s3_upload s3-file 1 "$FILE_KEY" token-from-file --s3-credentials-file "$WG_TMP/s3-credentials"
assert_contains "$(cat "$WG_TMP/s3-file.log")" "credentials from $WG_TMP/s3-credentials" "the log names the source"
secret_file "$CREDS/s3-credentials" 0400 "access_key_id=$CRED_KEY
secret_access_key=$S3_SECRET
"
CREDENTIALS_DIRECTORY=$CREDS s3_upload s3-creds 2 "$CRED_KEY" null
# Blank credentials (the unit's SetCredential= defaults when a file is missing) are no credentials:
# the environment signs again (and the recorder, knowing another secret, says so).
for f in tls-key db-password s3-credentials; do
	printf '\n' >"$CREDS/$f"
	chmod 400 "$CREDS/$f"
done
: >"$REQS"
CREDENTIALS_DIRECTORY=$CREDS wg_start_daemon s3-blank --store s3://wg-bucket/p --s3-endpoint "http://127.0.0.1:$REC_PORT"
pl_use s3-blank
pl_gen_input 3 --logs 4 >"$WG_TMP/in3.json"
pl_upload 3 "$WG_TMP/in3.json"
assert_eq AKIAFROMENV "$(jq -r '.headers.authorization | capture("Credential=(?<k>[^/]*)/").k' "$REQS" | sort -u)" \
	"with blank credentials, the environment's key signs"
assert_contains "$(cat "$WG_TMP/s3-blank.log")" "credentials from the environment" "the log names the source"
wg_stop_daemon s3-blank
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

# ---------------------------------------------------------------- 3. the unit
PREFIX="$WG_TMP/prefix"
env -u DESTDIR make -s -C "$WG_BUILDDIR" install prefix="$PREFIX" >"$WG_TMP/install.log" 2>&1 ||
	fail "make install failed: $(tail -5 "$WG_TMP/install.log")"
UNIT="$PREFIX/lib/systemd/system/witness-generator.service"
for directive in User=witness-generator Group=witness-generator \
	"LoadCredential=tls-key:$PREFIX/etc/witness-generator/tls.key" \
	"LoadCredential=db-password:$PREFIX/etc/witness-generator/db-password" \
	"LoadCredential=s3-credentials:$PREFIX/etc/witness-generator/s3-credentials" \
	'SetCredential=tls-key:\n' 'SetCredential=db-password:\n' 'SetCredential=s3-credentials:\n'; do
	assert_eq 1 "$(grep -cxF "$directive" "$UNIT")" "the unit sets $directive"
done
assert_eq 0 "$(grep -c '^DynamicUser=' "$UNIT" || true)" "DynamicUser= in the unit"
if ! command -v systemd-analyze >/dev/null && command -v apt-get >/dev/null && ((EUID == 0)); then
	apt-get install -y -qq systemd >"$WG_TMP/apt.log" 2>&1 || true
fi
if command -v systemd-analyze >/dev/null; then
	MANPATH="$PREFIX/share/man" systemd-analyze verify "$UNIT" >"$WG_TMP/verify.log" 2>&1 ||
		fail "systemd-analyze verify rejects the unit: $(cat "$WG_TMP/verify.log")"
	assert_eq "" "$(cat "$WG_TMP/verify.log")" "systemd-analyze verify has nothing to say about the unit"
else
	echo "# systemd-analyze is not available and could not be installed: the unit was NOT verified"
fi
