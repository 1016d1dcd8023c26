#!/bin/bash
# t_token_flood.sh: made-up bearer tokens cannot make the daemon read its token table more than
# once a second, nor slow down the holders of valid tokens (issue 15 item 5).
# 1. A token added or revoked with wgctl takes effect at once (wgctl notifies the daemons' token
#    caches), not only when the cached table is a second old.
# 2. 10,000 requests with random unknown tokens in 10 s (tests/tools/token_flood.py): all 401;
#    meanwhile a valid token is answered within 50 ms at the 99th percentile, and the token table
#    is read at most once a second: by the daemon's own count (wg_token_reloads_total) and by
#    PostgreSQL's (pg_stat_user_tables scans of tokens).
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
wg_setup
metric() { # metric NAME: its value in GET /metrics of daemon a
	curl -sS --max-time 10 "$(wg_url a)/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
table_reads() {
	wg_psql "select seq_scan + coalesce(idx_scan, 0) from pg_stat_user_tables where relname = 'tokens'"
}

started=$SECONDS
wg_start_daemon a
url=$(wg_url a)
viewer=$(wg_token viewer)
wg_http GET "$url/batches" -H "Authorization: Bearer $viewer"
assert_status 200

# 1. Changes take effect at once: the table was just read, so only the notification can tell.
fresh=$(wg_token viewer fresh-viewer)
wg_http GET "$url/batches" -H "Authorization: Bearer $fresh"
assert_status 200
wg_http GET "$url/batches" -H "Authorization: Bearer $viewer"
wg_wgctl token revoke fresh-viewer >/dev/null
revoked_at=$(date +%s%3N)
for _ in 1 2 3 4 5 6; do
	wg_http GET "$url/batches" -H "Authorization: Bearer $fresh"
	[[ $HTTP_STATUS == 401 ]] && break
	sleep 0.05
done
assert_status 401
assert_eq 1 "$(($(date +%s%3N) - revoked_at < 500))" "a revoked token refused within 0.5 s"

# 2. The flood. First the valid token's latency under a light load of unknown tokens (160 in 3 s):
# on a machine loaded by other work, that baseline says what the daemon can do at all.
python3 "$WG_SRCDIR/tests/tools/token_flood.py" "$url" "$viewer" --requests 160 --seconds 3 \
	>"$WG_TMP/baseline.json" || fail "token_flood.py (baseline) failed"
base_p99=$(jq -r .valid_p99_ms "$WG_TMP/baseline.json")
echo "# valid token p99 under a light load: $base_p99 ms"
reloads_before=$(metric wg_token_reloads_total)
[[ -n $reloads_before ]] || fail "GET /metrics has no wg_token_reloads_total"
python3 "$WG_SRCDIR/tests/tools/token_flood.py" "$url" "$viewer" --requests 10000 --seconds 10 \
	>"$WG_TMP/flood.json" || fail "token_flood.py failed"
cat "$WG_TMP/flood.json"
reloads=$(($(metric wg_token_reloads_total) - reloads_before))
flood_seconds=$(jq -r '.flood_seconds | ceil' "$WG_TMP/flood.json")
echo "# token table reads during the flood: $reloads"
assert_eq 10000 "$(jq -r .flood_requests "$WG_TMP/flood.json")" "flood requests"
assert_eq '{"401":10000}' "$(jq -c .flood_status "$WG_TMP/flood.json")" "answers to unknown tokens"
assert_eq 1 "$(jq -r '.valid_status | keys == ["200"]' "$WG_TMP/flood.json" | grep -c true)" \
	"answers to the valid token: $(jq -c .valid_status "$WG_TMP/flood.json")"
p99=$(jq -r .valid_p99_ms "$WG_TMP/flood.json")
# 50 ms, or, where even the light load's p99 is past 25 ms (a machine busy with other work), no
# more than twice that plus 10 ms: the flood must not be what slows valid tokens down.
limit=$(jq -n --argjson b "$base_p99" 'if $b > 25 then 2 * $b + 10 else 50 end')
assert_eq 1 "$(jq -r --argjson l "$limit" '.valid_p99_ms < $l' "$WG_TMP/flood.json" | grep -c true)" \
	"valid token p99 ${p99} ms < ${limit} ms (light-load p99 ${base_p99} ms)"
assert_eq 1 "$((reloads <= flood_seconds + 2))" "token table reads during the ${flood_seconds} s flood: $reloads"

# PostgreSQL's count: an idle backend reports its statistics within 10 s. Every read since the
# cluster started (the cache's, and wgctl's revoke) fits in one a second of the test's life.
sleep 11
reads=$(table_reads)
lifetime=$((SECONDS - started))
echo "# scans of the tokens table in the test's $lifetime s: $reads"
assert_eq 1 "$((reads <= lifetime + 5))" "scans of the tokens table in the test's ${lifetime} s: $reads"
