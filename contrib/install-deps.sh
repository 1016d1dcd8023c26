#!/bin/bash
# install-deps.sh: install, with apt-get, everything needed to build witness-generator
# and run `make check` on Debian 12. Does nothing (not even `apt-get update`) when
# every package is already installed. Run as root, or as a user with sudo.
#
# The build dependencies are those of debian/control (Build-Depends), installed with
# `apt-get build-dep`: one list for the package and for a build from the tree. Below are only
# the tools the plain build and the tests use besides.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
	# build from the tree (autoreconf -fi); dpkg-checkbuilddeps (dpkg-dev) reads debian/control
	build-essential autoconf automake libtool pkg-config dpkg-dev
	# the Debian package's test (t_package.sh): lintian; debhelper comes with the build-deps
	lintian
	# tests: throwaway PostgreSQL clusters, HTTP, JSON, memory checks
	postgresql curl jq valgrind clang libclang-rt-14-dev
	# the s3 store's tests run a recording server (and npm, below, installs s3rver)
	python3
	# used by the test scripts: runuser and flock (util-linux), useradd (passwd);
	# handy when a test hangs: ps (procps), ss (iproute2)
	util-linux passwd procps iproute2
	# api/openapi.yaml: the validator of recorded replies, npm for @redocly/cli (t_openapi_*.sh);
	# packaging: man -l and systemd-analyze verify (t_install.sh, t_secrets.sh)
	python3-jsonschema python3-yaml nodejs man-db systemd
	# secret files shared through an ACL, as systemd shares credentials (t_secrets.sh)
	acl
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[[ $status == installed ]] || missing+=("$pkg")
done
# The s3 store's tests install s3rver with npm. A node.js from elsewhere (NodeSource) brings its
# own npm, which Debian's npm package would conflict with: only a missing command counts.
command -v npm >/dev/null 2>&1 || missing+=(npm)
# debian/control's Build-Depends, checked by dpkg-checkbuilddeps once dpkg-dev is there.
build_deps_missing=1
if command -v dpkg-checkbuilddeps >/dev/null 2>&1 && dpkg-checkbuilddeps >/dev/null 2>&1; then
	build_deps_missing=0
fi

if ((${#missing[@]} == 0 && build_deps_missing == 0)); then
	echo "install-deps.sh: all ${#PACKAGES[@]} packages and debian/control's build dependencies are installed"
	exit 0
fi

if [[ $EUID -eq 0 ]]; then
	as_root=(env DEBIAN_FRONTEND=noninteractive)
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
else
	echo "install-deps.sh: error: missing packages (${missing[*]}) and not root; run as root" >&2
	exit 1
fi

echo "install-deps.sh: installing ${missing[*]}${missing[*]:+ and }debian/control's build dependencies"
"${as_root[@]}" apt-get update
if ((${#missing[@]} > 0)); then
	"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
"${as_root[@]}" apt-get build-dep -y --no-install-recommends ./
