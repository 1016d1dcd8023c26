#!/bin/bash
# t_install.sh: what `make install` installs works on its own.
# - The three programs, a man page for each, the example configuration and the systemd unit land
#   under the prefix; `make uninstall` removes them all again.
# - Each man page renders with man -l and no groff warning.
# - systemd-analyze verify accepts the unit (its ExecStart binary exists and its Documentation=
#   pages are found), and `systemd-analyze security --offline` rates it well hardened.
# - The installed tree, moved away from its prefix and with no source or build tree in reach
#   (its own cwd, no WG_* paths), migrates a fresh database, serves /readyz, and proves an
#   uploaded batch with the installed wg-prover.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"

command -v man >/dev/null || fail "man is needed (Debian: man-db; contrib/install-deps.sh)"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is needed (Debian: systemd; contrib/install-deps.sh)"
wg_setup
PREFIX="$WG_TMP/prefix"
env -u DESTDIR make -s -C "$WG_BUILDDIR" install prefix="$PREFIX" >"$WG_TMP/install.log" 2>&1 ||
	{ cat "$WG_TMP/install.log" >&2; fail "make install failed"; }

for f in bin/witness-generator bin/wgctl bin/wg-prover share/man/man8/witness-generator.8 share/man/man8/wgctl.8 \
	share/man/man1/wg-prover.1 share/doc/witness-generator/witness-generator.conf.example \
	lib/systemd/system/witness-generator.service share/doc/witness-generator/monitoring/witness-generator.rules.yml \
	share/doc/witness-generator/monitoring/witness-generator.rules.test.yml \
	share/doc/witness-generator/monitoring/witness-generator.json; do
	assert_eq yes "$([[ -s $PREFIX/$f ]] && echo yes || echo no)" "installed $f"
done

# ---------------------------------------------------------------- man pages
for page in man8/witness-generator.8 man8/wgctl.8 man1/wg-prover.1; do
	name=$(basename "$page" | sed 's/\.[0-9]$//')
	text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$PREFIX/share/man/$page" 2>"$WG_TMP/man.err")
	assert_eq "" "$(cat "$WG_TMP/man.err")" "man -l $page renders without warnings"
	assert_contains "$(grep -A1 '^NAME' <<<"$text")" "$name —"
	assert_contains "$text" "SEE ALSO"
done
assert_contains "$(MANWIDTH=80 man -l "$PREFIX/share/man/man8/wgctl.8" 2>/dev/null)" "restart batch"

# ---------------------------------------------------------------- the systemd unit
UNIT="$PREFIX/lib/systemd/system/witness-generator.service"
assert_contains "$(grep '^ExecStart=' "$UNIT")" "ExecStart=$PREFIX/bin/witness-generator --config $PREFIX/etc/"
for directive in User=witness-generator ProtectSystem=strict StateDirectory=witness-generator NoNewPrivileges=yes \
	PrivateTmp=yes 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' SystemCallFilter=@system-service; do
	assert_eq 1 "$(grep -cxF "$directive" "$UNIT")" "the unit sets $directive"
done
MANPATH="$PREFIX/share/man" systemd-analyze verify "$UNIT" >"$WG_TMP/verify.log" 2>&1 ||
	{ cat "$WG_TMP/verify.log" >&2; fail "systemd-analyze verify rejects the unit"; }
assert_eq "" "$(cat "$WG_TMP/verify.log")" "systemd-analyze verify has nothing to say"
# A unit with a typo must be rejected, or the check above proves nothing.
sed 's/^ProtectSystem=strict/ProtectSystem=strictly/' "$UNIT" >"$WG_TMP/witness-generator.service"
MANPATH="$PREFIX/share/man" systemd-analyze verify "$WG_TMP/witness-generator.service" >"$WG_TMP/verify-bad.log" 2>&1 || true
assert_contains "$(cat "$WG_TMP/verify-bad.log")" "Failed to parse protect system value"
exposure=$(systemd-analyze security --offline=true "$UNIT" 2>/dev/null | sed -n 's/.*Overall exposure level for witness-generator.service: \([0-9.]*\).*/\1/p')
assert_eq yes "$(awk -v e="$exposure" 'BEGIN { print (e != "" && e < 2.0) ? "yes" : "no" }')" \
	"systemd-analyze security exposure $exposure is below 2.0"

# ---------------------------------------------------------------- the installed programs alone
# Moved away, so nothing can be found through the prefix or the build tree either.
mv "$PREFIX" "$WG_TMP/moved"
BIN="$WG_TMP/moved/bin"
mkdir "$WG_TMP/run"
cd "$WG_TMP/run"
alone() { env -u WG_SRCDIR -u WG_BUILDDIR -u PG_BINDIR "$@"; }
rc=0
alone "$BIN/wgctl" --db "$WG_DB" migrate 2>"$WG_TMP/migrate.err" || rc=$?
newest=$(find "$WG_SRCDIR/sql" -name '[0-9][0-9][0-9][0-9]_*.sql' | sed 's|.*/0*\([0-9]*\)_.*|\1|' | sort -n | tail -n 1)
assert_eq "0|schema is at version $newest" "$rc|$(cat "$WG_TMP/migrate.err")" "the installed wgctl migrates a fresh database"
tree=$(alone "$BIN/wgctl" --db "$WG_DB" token add --role tree 2>/dev/null)
prover=$(alone "$BIN/wgctl" --db "$WG_DB" token add --role prover 2>/dev/null)
viewer=$(alone "$BIN/wgctl" --db "$WG_DB" token add --role viewer 2>/dev/null)
port=$(wg_free_port)
WG_USED_PORTS+=("$port")
# env execs the daemon, so $! is the daemon's own pid.
env -u WG_SRCDIR -u WG_BUILDDIR -u PG_BINDIR "$BIN/witness-generator" --db "$WG_DB" --listen "127.0.0.1:$port" --store "file:$WG_TMP/run/store" \
	>"$WG_TMP/installed.log" 2>&1 &
daemon=$!
stop_installed() { kill "$daemon" 2>/dev/null || true; }
wg_on_exit stop_installed
URL="http://127.0.0.1:$port"
wg_wait_until 30 curl -sf -o /dev/null "$URL/readyz"
wg_http GET "$URL/readyz"
assert_status 200
alone "$BIN/wgctl" gen-input --batch 1 --logs 6 >"$WG_TMP/in1.json"
wg_http POST "$URL/batches/1/witness-inputs" -H "Authorization: Bearer $tree" -H 'Content-Type: application/json' \
	--data-binary "@$WG_TMP/in1.json"
assert_status 201
proven() {
	[[ $(curl -sS -H "Authorization: Bearer $viewer" "$URL/batches/1" | jq -r .status) == proven ]]
}
deadline=$((SECONDS + 60))
until proven; do
	WG_PROVER_TOKEN=$prover alone "$BIN/wg-prover" --url "$URL" --until-idle --idle-seconds 1 >>"$WG_TMP/prover.log" 2>&1 ||
		fail "the installed wg-prover failed: $(tail -3 "$WG_TMP/prover.log")"
	((SECONDS < deadline)) || fail "batch 1 not proven by the installed programs in 60 s"
done
wg_http GET "$URL/batches/1/proof" -H "Authorization: Bearer $viewer"
assert_status 200
kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
assert_eq 0 "$rc" "the installed daemon stops cleanly on SIGTERM"
