#!/bin/bash
# t_s3_caps.sh: the s3 store reads no more of an answer than it asked for. A look-alike S3
# (tests/tools/s3_recorder.py with DIR/flood) answers with 1 GiB where a few KiB were asked:
# 1. a witness download (a Range GET of its slice) answered 206 with 1 GiB, declared or chunked:
#    the download fails cleanly with a 503, the daemon's peak RSS grows by less than 128 MiB and
#    the server could write only a small part of the flood before the daemon hung up;
# 2. a Range GET answered 200 with the whole object and 1 GiB more: the slice is taken from its
#    head, the download succeeds with the right bytes, and the rest is not read;
# 3. the basic round's GET of a whole input answered with 1 GiB: refused at the largest blob the
#    daemon writes (--max-body or --max-proof), the job is
#    not failed for it (the store is unavailable, not the input bad), and it succeeds once the
#    store answers normally;
# 4. a listing (the sweeper's, after DELETE /batches/N) answered with 1 GiB of keys: refused.
# Afterwards the daemon still serves, and the normal tests of the store (t_s3.sh, t_s3_sign.sh)
# cover the answers of the right size.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup
wg__require_tool python3

export AWS_ACCESS_KEY_ID=AKIATESTCAPS AWS_SECRET_ACCESS_KEY=secret-of-the-caps-test
unset AWS_SESSION_TOKEN
REC=$WG_TMP/rec
mkdir -p "$REC"
wg__take_port REC_PORT
python3 "$WG_SRCDIR/tests/tools/s3_recorder.py" "$REC_PORT" "$REC" 2>"$WG_TMP/recorder.log" &
REC_PID=$!
stop_recorder() { kill "$REC_PID" 2>/dev/null; wait "$REC_PID" 2>/dev/null || true; }
wg_on_exit stop_recorder
rec_up() { [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REC_PORT/b/x") == 404 ]]; }
wg_wait_until 10 rec_up

# --cache-bytes 0: every witness download is a ranged GET of the bucket, not a read of the
# daemon's pack cache (t_pack_cache.sh).
wg_start_daemon a --s3-endpoint "http://127.0.0.1:$REC_PORT" --store s3://caps --max-body 1048576 \
	--leaf-arity 2 --node-arity 2 --cache-bytes 0
pl_use a
pid=$(wg_daemon_pid a)
peak() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$pid/status"; } # KiB

pl_gen_input 1 --logs 10 --workload main_vm=$((5390 * 2)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
basic_done() { [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 1") == successful ]]; }
wg_wait_until 30 basic_done
pl_claim
assert_status 200
pl_witness "$PL_JOB_ID" "$WG_TMP/w.good"
assert_status 200
len=$(stat -c %s "$WG_TMP/w.good")
base=$(peak)
echo "# peak RSS before the floods: $base KiB"

# sent: the bytes the server wrote in the last flood, once it has seen the daemon hang up.
: >"$REC/flood_sent"
floods=0
sent() { tail -n 1 "$REC/flood_sent"; }
bounded() { # bounded WHAT: the daemon's peak RSS and the bytes sent stayed small
	local now
	wg_wait_until 20 eval '(($(wc -l <"$REC/flood_sent") > floods))'
	floods=$(wc -l <"$REC/flood_sent")
	now=$(peak)
	echo "# $1: peak RSS $now KiB, the server wrote $(sent) bytes"
	((now - base < 128 * 1024)) || fail "$1: peak RSS grew from $base to $now KiB"
	wg__pass
	(($(sent) < 256 * 1024 * 1024)) || fail "$1: the server could write $(sent) bytes"
	wg__pass
}

# ---------------------------------------------------------------- 1. ranged GETs flooded
for mode in range range-chunked; do
	echo "$mode" >"$REC/flood"
	wg_http GET "$PL_URL/jobs/$PL_JOB_ID/witness" -H "Authorization: Bearer $PL_PROVER" -H "X-WG-Lease: $PL_JOB_LEASE"
	bounded "a witness slice answered with 1 GiB ($mode)"
	assert_status 503
	assert_error_code unavailable
	grep -q "HTTP 206 with an answer over $len bytes, the most it may have; refused" "$WG_TMP/a.log" || fail "the refusal is not logged"
	wg__pass
done

# ---------------------------------------------------------------- 2. Range ignored
echo range-200 >"$REC/flood"
pl_witness "$PL_JOB_ID" "$WG_TMP/w.200"
assert_status 200
assert_eq "$(sha256sum <"$WG_TMP/w.good")" "$(sha256sum <"$WG_TMP/w.200")" "the slice taken from a 200 answer"
bounded "a Range ignored, with 1 GiB after the object"
rm "$REC/flood"
pl_ref_prove "$WG_TMP/w.good" "$WG_TMP/p"
pl_complete "$PL_JOB_ID" "$PL_JOB_LEASE" "$WG_TMP/p"
assert_status 200

# ---------------------------------------------------------------- 3. a whole input flooded
echo whole >"$REC/flood"
pl_gen_input 2 --logs 10 --workload main_vm=5390 --seed 2 >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
refused() { grep -q "s3 GET batches/2/input-.* HTTP 200 with an answer over .*; refused" "$WG_TMP/a.log"; }
wg_wait_until 20 refused
bounded "an input answered with 1 GiB"
assert_ne failed "$(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 2")" \
	"the basic job of a store that answered too much"
rm "$REC/flood"
basic2_done() { [[ $(wg_psql "SELECT status FROM basic_circuit_witness_jobs WHERE l1_batch_number = 2") == successful ]]; }
wg_wait_until 90 basic2_done
wg__pass

# ---------------------------------------------------------------- 4. a listing flooded
echo list >"$REC/flood"
refusals() { grep -c "(bucket listing): HTTP 200 with an answer over $((8 * 1024 * 1024)) bytes" "$WG_TMP/a.log" || true; }
before=$(refusals)
wg_http DELETE "$PL_URL/batches/1" -H "Authorization: Bearer $PL_ADMIN"
assert_status 200
listing_refused() { (($(refusals) > before)); }
wg_wait_until 30 listing_refused
bounded "a listing answered with 1 GiB"
rm "$REC/flood"

wg_http GET "$PL_URL/healthz"
assert_status 200
