#!/bin/bash
# t_package.sh: the Debian package, as an operator meets it (debian/, issue 18 item 1).
# - `dpkg-buildpackage -us -uc -b` builds witness-generator from a copy of the source tree (the
#   files git tracks, or else the whole tree, e.g. make distcheck's unpacked tarball), without its unit tests
#   (DEB_BUILD_OPTIONS=nocheck: `make check` runs them already), and lintian finds no error and
#   no warning in the result.
# - `apt-get install ./witness-generator_*.deb` installs the programs, man pages, the unit (not
#   enabled, not started), the config as a conffile, the migrations (built into the programs, and
#   in /usr/share/witness-generator to read), and makes the system user and its state
#   directory; the installed programs, run as that user, migrate the test cluster and serve
#   /healthz and an upload into /var/lib/witness-generator.
# - `dpkg -i` of the same package again keeps the operator's edit of the conffile and the state.
# - `apt-get remove` keeps config and state; `apt-get purge` removes both. The system user
#   stays, as Debian's practice is (files elsewhere may still belong to its uid).
# This installs into the real root, so it needs root, and it fails rather than touch a
# witness-generator package that was installed before it; a lock keeps two build trees from
# running it at once. The other tests use the build tree's programs, never /usr/bin's.
# Skipped (77) only where the packaging tools cannot be installed.
WG_TEST_TIMEOUT=${WG_TEST_TIMEOUT:-2400}
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"

[[ $EUID -eq 0 ]] || fail "t_package.sh installs a package: run it as root"
# ---------------------------------------------------------------- tools (skip only if not installable)
if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null || ! command -v lintian >/dev/null; then
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dpkg-dev debhelper lintian \
		>/tmp/wg-t_package-apt.log 2>&1; then
		echo "# SKIP t_package: dpkg-buildpackage, debhelper and lintian cannot be installed" \
			"(apt-get install dpkg-dev debhelper lintian failed: $(tail -1 /tmp/wg-t_package-apt.log))"
		exit 77
	fi
fi

wg_setup

# One run at a time on this machine: it installs into /.
exec 8>/run/lock/witness-generator-t_package.lock
flock 8
if dpkg-query -W -f='${db:Status-Status}' witness-generator 2>/dev/null | grep -qx installed ||
	[[ -e /usr/bin/witness-generator ]]; then
	fail "witness-generator is already installed on this machine; this test installs and purges it (apt-get purge witness-generator first)"
fi
purge_if_installed() {
	if dpkg-query -W -f='${db:Status-Status}' witness-generator 2>/dev/null | grep -qvx not-installed; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y witness-generator >/dev/null 2>&1 || true
	fi
}
wg_on_exit purge_if_installed

# ---------------------------------------------------------------- a copy of the source tree
SRC="$WG_TMP/pkg/witness-generator"
mkdir -p "$SRC"
srcdir_real=$(cd "$WG_SRCDIR" && pwd -P)
# A git work tree's top, not a tree unpacked inside one (make distcheck's, in the build tree).
if [[ $(git -C "$WG_SRCDIR" rev-parse --show-toplevel 2>/dev/null) == "$srcdir_real" ]]; then
	# The tracked files as they are in the work tree (uncommitted edits included), nothing built.
	(cd "$WG_SRCDIR" && git ls-files -z | xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$SRC"
else
	# An unpacked tarball (make distcheck's) or a copy without .git (wg-check-variant.sh's), maybe
	# built in place: what a build made goes with the package build's first step, `make distclean`.
	# Not distcheck's own build and install trees (_build, _inst), nor what running tests write.
	(tar -C "$WG_SRCDIR" --exclude=./.git --exclude=./_build --exclude=./_inst --exclude='*.o' --exclude='*.a' \
		--exclude='*.log' --exclude='*.trs' --warning=no-file-changed --warning=no-file-removed -cf - . || true) |
		tar -C "$SRC" -xf -
	chmod -R u+w "$SRC"
fi
[[ -f $SRC/debian/control ]] || fail "debian/control is not in the source tree"

# ---------------------------------------------------------------- build and lintian
if ! (cd "$SRC" && dpkg-checkbuilddeps) >"$WG_TMP/builddeps.log" 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y "$SRC" >>"$WG_TMP/builddeps.log" 2>&1 ||
		{ tail -20 "$WG_TMP/builddeps.log" >&2; fail "apt-get build-dep of debian/control failed"; }
fi
start=$SECONDS
(cd "$SRC" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b) \
	>"$WG_TMP/build.log" 2>&1 || { tail -40 "$WG_TMP/build.log" >&2; fail "dpkg-buildpackage failed"; }
echo "# t_package: dpkg-buildpackage took $((SECONDS - start)) s"
debs=("$WG_TMP"/pkg/witness-generator_*.deb)
assert_eq 1 "${#debs[@]}" "one package built"
DEB=${debs[0]}
[[ -f $DEB ]] || fail "no witness-generator_*.deb next to the source copy"
changes=("$WG_TMP"/pkg/witness-generator_*.changes)
# lintian exits non-zero for a finding at --fail-on's levels, or when it could not check.
rc=0
lintian --info --fail-on error,warning "${changes[0]}" >"$WG_TMP/lintian.log" 2>&1 || rc=$?
findings=$(grep -E '^[EW]: ' "$WG_TMP/lintian.log" || true)
[[ -z $findings ]] || cat "$WG_TMP/lintian.log" >&2
((rc == 0)) || [[ -n $findings ]] || { cat "$WG_TMP/lintian.log" >&2; fail "lintian could not check ${changes[0]} (exit $rc)"; }
assert_eq "" "$findings" "lintian errors and warnings"

# ---------------------------------------------------------------- install
DEBIAN_FRONTEND=noninteractive apt-get install -y "$DEB" >"$WG_TMP/install.log" 2>&1 ||
	{ tail -20 "$WG_TMP/install.log" >&2; fail "apt-get install $DEB failed"; }
for f in /usr/bin/witness-generator /usr/bin/wgctl /usr/bin/wg-prover \
	/usr/share/man/man8/witness-generator.8.gz /usr/share/man/man8/wgctl.8.gz /usr/share/man/man1/wg-prover.1.gz \
	/lib/systemd/system/witness-generator.service /etc/witness-generator/witness-generator.conf \
	/usr/share/witness-generator/0001_init.sql; do
	[[ -e $f ]] || fail "$f is not installed"
done
assert_contains "$(dpkg-query -W -f='${Conffiles}' witness-generator)" "/etc/witness-generator/witness-generator.conf" \
	"the config is a conffile"
assert_contains "$(cat /lib/systemd/system/witness-generator.service)" "ExecStart=/usr/bin/witness-generator --config /etc/witness-generator/witness-generator.conf" \
	"the unit runs the installed daemon with the installed config"
uid=$(id -u witness-generator) || fail "the package made no user witness-generator"
((uid < 1000)) || fail "witness-generator is not a system user (uid $uid)"
assert_eq "witness-generator witness-generator 700" "$(stat -c '%U %G %a' /var/lib/witness-generator)" \
	"the state directory belongs to the user alone"
[[ ! -e /etc/systemd/system/multi-user.target.wants/witness-generator.service ]] ||
	fail "the unit was enabled on install; it must wait for the operator's config"

# ---------------------------------------------------------------- the installed daemon as its user
cd /
as_user() { setpriv --reuid=witness-generator --regid=witness-generator --clear-groups -- "$@"; }
rc=0
as_user /usr/bin/wgctl --db "$WG_DB" migrate 2>"$WG_TMP/migrate.err" || rc=$?
newest=$(find "$WG_SRCDIR/sql" -name '[0-9][0-9][0-9][0-9]_*.sql' | sed 's|.*/0*\([0-9]*\)_.*|\1|' | sort -n | tail -n 1)
assert_eq "0|schema is at version $newest" "$rc|$(cat "$WG_TMP/migrate.err")" "the installed wgctl migrates the test cluster"
tree=$(as_user /usr/bin/wgctl --db "$WG_DB" token add --role tree 2>/dev/null)
port=$(wg_free_port)
WG_USED_PORTS+=("$port")
# setpriv execs the daemon (runuser would stay its parent; a shell function would too), so $! is
# the daemon's own pid. The installed config is read; the flags name the test cluster and port
# instead of its examples.
setpriv --reuid=witness-generator --regid=witness-generator --clear-groups -- \
	/usr/bin/witness-generator --config /etc/witness-generator/witness-generator.conf --db "$WG_DB" \
	--listen "127.0.0.1:$port" >"$WG_TMP/daemon.log" 2>&1 &
daemon=$!
stop_installed() { kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; }
wg_on_exit stop_installed
URL="http://127.0.0.1:$port"
wg_wait_until 30 curl -sf -o /dev/null "$URL/healthz"
wg_http GET "$URL/healthz"
assert_status 200
assert_eq witness-generator "$(ps -o user= -p "$daemon")" "the daemon runs as the package's user"
/usr/bin/wgctl gen-input --batch 1 --logs 6 >"$WG_TMP/in1.json"
wg_http POST "$URL/batches/1/witness-inputs" -H "Authorization: Bearer $tree" -H 'Content-Type: application/json' \
	--data-binary "@$WG_TMP/in1.json"
assert_status 201
stored=$(find /var/lib/witness-generator/store -type f | wc -l)
((stored > 0)) || fail "the upload left nothing in the package's store /var/lib/witness-generator/store"
kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
assert_eq 0 "$rc" "the installed daemon stops cleanly on SIGTERM"

# ---------------------------------------------------------------- upgrade over itself
echo "# an operator's edit" >>/etc/witness-generator/witness-generator.conf
dpkg -i "$DEB" >"$WG_TMP/upgrade.log" 2>&1 || { tail -20 "$WG_TMP/upgrade.log" >&2; fail "dpkg -i over the installed package failed"; }
assert_contains "$(tail -1 /etc/witness-generator/witness-generator.conf)" "# an operator's edit" "an upgrade keeps the edited conffile"
assert_eq "$uid" "$(id -u witness-generator)" "an upgrade keeps the user"
assert_eq "$stored" "$(find /var/lib/witness-generator/store -type f | wc -l)" "an upgrade keeps the state"

# ---------------------------------------------------------------- remove, then purge
DEBIAN_FRONTEND=noninteractive apt-get remove -y witness-generator >"$WG_TMP/remove.log" 2>&1 ||
	{ tail -20 "$WG_TMP/remove.log" >&2; fail "apt-get remove failed"; }
[[ ! -e /usr/bin/witness-generator ]] || fail "remove left /usr/bin/witness-generator"
[[ -f /etc/witness-generator/witness-generator.conf ]] || fail "remove (not purge) took the conffile"
[[ -d /var/lib/witness-generator/store ]] || fail "remove (not purge) took the state"
DEBIAN_FRONTEND=noninteractive apt-get purge -y witness-generator >"$WG_TMP/purge.log" 2>&1 ||
	{ tail -20 "$WG_TMP/purge.log" >&2; fail "apt-get purge failed"; }
for f in /etc/witness-generator /var/lib/witness-generator /usr/bin/witness-generator /usr/bin/wgctl \
	/usr/bin/wg-prover /lib/systemd/system/witness-generator.service /usr/share/doc/witness-generator \
	/usr/share/witness-generator; do
	[[ ! -e $f ]] || fail "purge left $f"
done
assert_eq "" "$(dpkg-query -W -f='${db:Status-Status}' witness-generator 2>/dev/null | grep -vx not-installed || true)" \
	"purged: dpkg knows no installed witness-generator"
id -u witness-generator >/dev/null || fail "the system user is gone; Debian's practice keeps it"
echo "# t_package: purged; the system user witness-generator (uid $uid) stays, as Debian's practice is"
