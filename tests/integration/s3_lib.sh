# shellcheck shell=bash
# s3_lib.sh: a local S3-compatible server for the s3 store's tests (t_s3.sh). Source it after
# lib.sh and call wg_setup first:
#
#   s3_install                  # s3rver from npm, cached in $WG_TOOL_CACHE (lib.sh), outside the build tree
#   s3_start                    # $S3_ENDPOINT, bucket $S3_BUCKET, data in $WG_TMP/s3
#   wg_start_daemon a --store "s3://$S3_BUCKET/p" --s3-endpoint "$S3_ENDPOINT"
#   s3_keys p/batches/1/        # the keys under a prefix, one a line (ListObjectsV2)
#   s3_stop; s3_start           # an outage; the server comes back on the same port with its data
#
# s3rver accepts the access key and secret S3RVER; the daemons get them in the environment.

S3RVER_VERSION=3.7.1
S3_BUCKET=wg
S3_PORT=
S3_PID=
S3_ENDPOINT=
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN

# s3_install: install s3rver once into $WG_TOOL_CACHE/s3rver-VERSION (a lock keeps parallel
# tests from installing it twice at once). A test that cannot get it fails.
s3_install() {
	local dir="$WG_TOOL_CACHE/s3rver-$S3RVER_VERSION"
	mkdir -p "$dir"
	S3RVER_BIN="$dir/node_modules/.bin/s3rver"
	command -v npm >/dev/null || fail "npm is required to install s3rver (contrib/install-deps.sh)"
	(
		flock 9
		if [[ ! -x $S3RVER_BIN ]] || [[ $("$S3RVER_BIN" --version 2>/dev/null) != "$S3RVER_VERSION" ]]; then
			npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error \
				"s3rver@$S3RVER_VERSION" >"$WG_TMP/npm.log" 2>&1
		fi
	) 9>"$dir/.lock" || {
		cat "$WG_TMP/npm.log" >&2
		fail "npm could not install s3rver@$S3RVER_VERSION"
	}
	[[ -x $S3RVER_BIN ]] || fail "s3rver is not at $S3RVER_BIN after npm install"
}

s3__answers() {
	[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$S3_ENDPOINT/" 2>/dev/null) != 000 ]]
}

# s3_start: start s3rver on $S3_PORT (chosen on the first start, kept afterwards) with the
# bucket $S3_BUCKET, and wait until it answers.
s3_start() {
	[[ -z $S3_PID ]] || fail "s3rver is already running"
	[[ -n $S3_PORT ]] || wg__take_port S3_PORT
	S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
	mkdir -p "$WG_TMP/s3"
	"$S3RVER_BIN" -d "$WG_TMP/s3" -a 127.0.0.1 -p "$S3_PORT" --configure-bucket "$S3_BUCKET" -s \
		</dev/null >>"$WG_TMP/s3rver.log" 2>&1 &
	S3_PID=$!
	wg_wait_until 20 s3__answers
	if [[ -z ${S3_HOOKED:-} ]]; then
		S3_HOOKED=1
		wg_on_exit s3_stop
	fi
}

# s3_stop: stop s3rver (if running) and wait for it.
s3_stop() {
	[[ -n $S3_PID ]] || return 0
	kill -TERM "$S3_PID" 2>/dev/null || true
	wait "$S3_PID" 2>/dev/null || true
	S3_PID=
}

# s3_keys PREFIX: print the keys of the bucket under PREFIX, one a line, sorted, through a signed
# ListObjectsV2 request (a page of up to 1000 keys is enough for these tests).
s3_keys() {
	local empty body
	empty=$(printf '' | sha256sum | cut -d' ' -f1)
	body=$(curl -sS --fail --max-time 10 --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $empty" \
		"$S3_ENDPOINT/$S3_BUCKET?list-type=2&prefix=$1") || fail "ListObjectsV2 of $1 failed"
	grep -o '<Key>[^<]*</Key>' <<<"$body" | sed 's/<Key>\(.*\)<\/Key>/\1/' | sort || true
}
