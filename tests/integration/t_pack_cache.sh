#!/bin/bash
# t_pack_cache.sh: the local pack cache of the s3:// store (--cache-dir, --cache-bytes; issue 17,
# item 2), against s3rver.
# 1. A round's pack is kept in the cache directory (0700) as a file (0600) holding the bytes of
#    the bucket's object, and no spool file is left; with s3rver stopped, every witness of the
#    layer still downloads, the same bytes as from the bucket, and once it is back the batch is
#    proven with every witness read a cache hit (no miss).
# 2. A cached pack that was truncated is not served: it is dropped (wg_pack_cache_invalid_total),
#    the download goes to the bucket (it fails while s3rver is down, then gives the right bytes).
# 3. The bound: with --cache-bytes smaller than a batch's packs, least recently used packs are
#    evicted, the pack files never exceed the bound (sampled while the batch is proven), a pack
#    larger than the bound is not kept, and the misses are read from the bucket: the batch is
#    proven with the same witnesses.
# 4. A restart: what a previous run left (packs, a spool file of a killed round) is removed and
#    never served, a file that is not the cache's is left alone; the first read that misses
#    copies the pack in from the bucket, and the layer's next witness is read from it with
#    s3rver stopped; a second daemon given the same directory refuses to start; a bad
#    --cache-bytes is a clear error.
# 5. The postgres store: every read of a batch a hit, the cached pack the blob's bytes, and a
#    pack copied in after a restart; a pack of several 1 MiB chunks is one whole blob holding
#    every witness of its layer, the bytes of the cached pack, and no large object is left.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
# shellcheck source=tests/integration/s3_lib.sh
. "$WG_SRCDIR/tests/integration/s3_lib.sh"

wg_setup
s3_install
s3_start
CACHE=$WG_TMP/cache
ARGS=(--store "s3://$S3_BUCKET/pc" --s3-endpoint "$S3_ENDPOINT" --s3-region us-east-1 --leaf-arity 4
	--node-arity 2 --poll-ms 200 --housekeeping-ms 200 --cache-dir "$CACHE")

holds() { (($1)) && echo true || echo false; } # holds EXPR: "true" or "false"
metric() { # metric NAME: its value in a fresh scrape of PL_URL
	curl -sS --max-time 10 "$PL_URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
pack_files() { find "$CACHE" -maxdepth 1 -name 'pack-*' -type f | sort; }
pack_bytes() { find "$CACHE" -maxdepth 1 -name 'pack-*' -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
# s3_object KEY OUT: the bytes of an object of the bucket.
s3_object() {
	local empty
	empty=$(printf '' | sha256sum | cut -d' ' -f1)
	curl -sS --fail --max-time 10 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H "x-amz-content-sha256: $empty" -o "$2" "$S3_ENDPOINT/$S3_BUCKET/$1" || fail "GET of object $1 failed"
}
file_hex() { od -An -tx1 -v "$1" | tr -d ' \n'; }
blob_hex() { wg_psql "select encode(data, 'hex') from blobs where key = '$1'" | tr -d '\n'; }
round_jobs() { wg_psql "select id from prover_jobs where l1_batch_number = $1 and aggregation_round = $2 order by id"; }
basic_queued() { [[ $(wg_psql "select count(*) from prover_jobs where l1_batch_number = $1 and aggregation_round = 0") -gt 0 ]]; }

# 1. Packs are kept; downloads are served from them while the bucket is down.
wg_start_daemon a "${ARGS[@]}" --cache-bytes 64M
pl_use a
pl_gen_input 1 --logs 60 --workload "main_vm=$((5390 * 9)),keccak256=$((293 * 5))" >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
wg_wait_until 30 basic_queued 1
pack_id=$(wg_psql "select distinct lpad(to_hex(witness_pack_id), 16, '0') from prover_jobs where l1_batch_number = 1")
key="batches/1/r0/c0/d0/p$pack_id.pack"
file="$CACHE/pack-${key//\//_}"
assert_eq "$file" "$(pack_files)" "the cache holds the basic round's pack"
assert_eq 700 "$(stat -c %a "$CACHE")" "mode of the cache directory"
assert_eq 600 "$(stat -c %a "$file")" "mode of a cached pack"
assert_eq "" "$(find "$CACHE" -name 'spool-*')" "spool files left after the commit"
s3_object "pc/$key" "$WG_TMP/object"
cmp "$file" "$WG_TMP/object" || fail "the cached pack differs from the bucket's object"
wg__pass
mkdir -p "$WG_TMP/w"
s3_stop
n=0
for id in $(round_jobs 1 0); do
	pl_witness_admin "$id" "$WG_TMP/w/$id"
	n=$((n + 1))
done
echo "# $n witnesses downloaded with s3rver stopped"
assert_eq true "$(holds "n >= 10")" "basic circuits of batch 1 (at least 10)"
assert_eq "$n" "$(metric wg_pack_cache_hits_total)" "downloads served from the cache"
s3_start
# Each witness is the slice of the bucket's pack that the job records.
for id in $(round_jobs 1 0); do
	read -r off len < <(wg_psql "select witness_offset, witness_length from prover_jobs where id = $id" | tr '|' ' ')
	cmp <(tail -c +$((off + 1)) "$WG_TMP/object" | head -c "$len") "$WG_TMP/w/$id" ||
		fail "job $id: the cached witness is not the bucket's slice"
done
wg__pass
prove_all_until 1 proven 120
assert_eq 0 "$(metric wg_pack_cache_misses_total)" "witness reads that missed the cache"
hits=$(metric wg_pack_cache_hits_total)
# Every proved job: its download and its completion's check read the witness; the rounds read the
# leaf and node witnesses again.
assert_eq true "$(holds "hits >= n + 2 * PL_PROVED")" "cache hits ($hits) for $PL_PROVED proved jobs"
assert_eq "$(pack_bytes)" "$(metric wg_pack_cache_bytes)" "wg_pack_cache_bytes"

# 2. A truncated pack is not served.
first=$(round_jobs 1 0 | sed -n 1p)
truncate -s -1 "$file"
s3_stop
wg_http GET "$PL_URL/jobs/$first/witness" -H "Authorization: Bearer $PL_ADMIN"
assert_ne 200 "$HTTP_STATUS" "a witness of a truncated pack, bucket down"
assert_eq 1 "$(metric wg_pack_cache_invalid_total)" "packs found damaged"
[[ ! -e $file ]] || fail "the truncated pack is still in the cache"
s3_start
pl_witness_admin "$first" "$WG_TMP/again"
cmp "$WG_TMP/w/$first" "$WG_TMP/again" || fail "the witness read from the bucket differs"
wg__pass

# 4 (first part). A restart empties the cache; only the cache's own files go.
timeout 20 "$WG_BUILDDIR/witness-generator" --db "$WG_DB" --listen 127.0.0.1:0 --instance-id b "${ARGS[@]}" \
	>"$WG_TMP/b.log" 2>&1 && fail "a second daemon started on the same cache directory"
assert_contains "$(cat "$WG_TMP/b.log")" "is in use by another process" "the second daemon's log"
wg_stop_daemon a
echo junk >"$CACHE/pack-batches_1_r0_c0_d0_p$pack_id.pack"
echo junk >"$CACHE/spool-99999-1"
echo mine >"$CACHE/notes.txt"
wg_start_daemon a "${ARGS[@]}" --cache-bytes 64M
assert_eq "" "$(pack_files)" "packs of the previous run after a restart"
assert_eq "" "$(find "$CACHE" -name 'spool-*')" "spool files of the previous run after a restart"
assert_eq mine "$(cat "$CACHE/notes.txt")" "a file that is not the cache's"
pl_witness_admin "$first" "$WG_TMP/after-restart"
cmp "$WG_TMP/w/$first" "$WG_TMP/after-restart" || fail "the witness after a restart differs"
assert_eq 1 "$(metric wg_pack_cache_misses_total)" "the read after the restart went to the bucket"
# That miss copied the pack in from the bucket: the layer's other witnesses are read from it.
assert_eq 1 "$(metric wg_pack_cache_fills_total)" "packs copied in after a miss"
cmp "$file" "$WG_TMP/object" || fail "the pack copied in differs from the bucket's object"
s3_stop
second=$(round_jobs 1 0 | sed -n 2p)
pl_witness_admin "$second" "$WG_TMP/second"
cmp "$WG_TMP/w/$second" "$WG_TMP/second" || fail "the witness read from the pack copied in differs"
assert_eq 1 "$(metric wg_pack_cache_misses_total)" "misses after the copy"
s3_start
wg_stop_daemon a
"$WG_BUILDDIR/witness-generator" --db "$WG_DB" --store postgres --cache-bytes lots --listen 127.0.0.1:1 \
	>"$WG_TMP/bad.log" 2>&1 && fail "--cache-bytes lots accepted"
assert_contains "$(cat "$WG_TMP/bad.log")" "cache-bytes" "the error names the option"

# 3. The bound, set from batch 1's packs (batch 2 has the same shape): below its basic pack and
# half its other packs.
read -r basic1 others1 largest1 < <(wg_psql "select sum(l) filter (where r = 0), sum(l) filter (where r > 0),
	max(l) filter (where r > 0) from (select aggregation_round r, sum(witness_length) l from prover_jobs
	where l1_batch_number = 1 group by aggregation_round, circuit_id, depth) p" | tr '|' ' ')
BOUND=$((others1 / 2))
echo "# batch 1: basic pack $basic1 bytes, other packs $others1 bytes (largest $largest1); bound $BOUND"
assert_eq true "$(holds "largest1 < BOUND && BOUND < basic1")" "the test's bound lies between the pack sizes"
wg_start_daemon a "${ARGS[@]}" --cache-bytes "$BOUND"
pl_gen_input 2 --logs 60 --seed 2 --workload "main_vm=$((5390 * 9)),keccak256=$((293 * 5))" >"$WG_TMP/in2.json"
pl_upload 2 "$WG_TMP/in2.json"
assert_status 201
(
	while :; do
		pack_bytes >>"$WG_TMP/samples"
		sleep 0.05
	done
) &
sampler=$!
stop_sampler() { kill "$sampler" 2>/dev/null || true; }
wg_on_exit stop_sampler
prove_all_until 2 proven 180
stop_sampler
max=$(sort -n "$WG_TMP/samples" | tail -1)
echo "# $(wc -l <"$WG_TMP/samples") samples of the cache, largest $max bytes (bound $BOUND)"
assert_eq true "$(holds "max <= BOUND")" "the cache's packs ($max bytes) within --cache-bytes $BOUND"
assert_eq true "$(holds "max > 0")" "packs kept under the bound"
basic2=$(wg_psql "select sum(witness_length) from prover_jobs where l1_batch_number = 2 and aggregation_round = 0")
assert_eq true "$(holds "basic2 > BOUND")" "batch 2's basic pack ($basic2 bytes) is larger than the bound"
assert_eq "" "$(pack_files | grep '_r0_')" "a pack larger than the bound is not kept"
assert_ne 0 "$(metric wg_pack_cache_evictions_total)" "evictions"
assert_ne 0 "$(metric wg_pack_cache_misses_total)" "reads of evicted packs went to the bucket"
assert_ne 0 "$(metric wg_pack_cache_hits_total)" "reads of kept packs"
wg_stop_daemon a

# 5. The postgres store: packs spooled, sent from the file and kept; every read a hit; after a
# restart, a miss copies the pack in from the blobs table.
wg_start_daemon c --store postgres --cache-dir "$WG_TMP/cache-pg" --leaf-arity 4 --node-arity 2 --poll-ms 200
pl_use c
pl_gen_input 3 --logs 60 --seed 3 --workload "main_vm=$((5390 * 9))" >"$WG_TMP/in3.json"
pl_upload 3 "$WG_TMP/in3.json"
assert_status 201
prove_all_until 3 proven 120
assert_eq 0 "$(metric wg_pack_cache_misses_total)" "postgres store: reads that missed the cache"
assert_ne 0 "$(metric wg_pack_cache_hits_total)" "postgres store: reads from the cache"
key3=$(wg_psql "select key from blobs where key like 'batches/3/r0/%.pack'")
pgfile="$WG_TMP/cache-pg/pack-${key3//\//_}"
assert_eq "$(blob_hex "$key3")" "$(file_hex "$pgfile")" "the cached pack is the blob in the database"
wg_stop_daemon c
wg_start_daemon c --store postgres --cache-dir "$WG_TMP/cache-pg" --leaf-arity 4 --node-arity 2 --poll-ms 200
first3=$(round_jobs 3 0 | sed -n 1p)
pl_witness_admin "$first3" "$WG_TMP/w3"
assert_eq 1 "$(metric wg_pack_cache_fills_total)" "postgres store: packs copied in after a restart"
assert_eq "$(blob_hex "$key3")" "$(file_hex "$pgfile")" "the pack copied in is the blob in the database"
# A basic pack of several 1 MiB chunks: sent in chunks of one transaction, the blob whole.
pl_gen_input 4 --logs 10 --seed 4 --workload "main_vm=$((5390 * 20000))" >"$WG_TMP/in4.json"
pl_upload 4 "$WG_TMP/in4.json"
assert_status 201
wg_wait_until 60 basic_queued 4
key4=$(wg_psql "select key from blobs where key like 'batches/4/r0/%.pack'")
size4=$(wg_psql "select octet_length(data) from blobs where key = '$key4'")
echo "# batch 4: basic pack of $size4 bytes"
assert_eq true "$(holds "size4 > 2 * 1048576")" "batch 4's basic pack spans several chunks"
assert_eq "$(wg_psql "select sum(witness_length) from prover_jobs where l1_batch_number = 4 and aggregation_round = 0")" \
	"$size4" "the blob holds every witness of the layer"
assert_eq "$(wg_psql "select encode(sha256(data), 'hex') from blobs where key = '$key4'")" \
	"$(sha256sum "$WG_TMP/cache-pg/pack-${key4//\//_}" | cut -d' ' -f1)" "the chunked blob is the cached pack"
assert_eq 0 "$(wg_psql "select count(*) from pg_largeobject_metadata")" "large objects left behind"
wg_stop_daemon c
echo "# t_pack_cache: ok"
