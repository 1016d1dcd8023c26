#!/bin/bash
# t_generated_client.sh: a client generated from api/openapi.yaml proves a batch. openapi-typescript
# generates the types (the test fails if generation does), tsc --strict type-checks
# tests/clients/generated_prover.mts against them, and node runs it on openapi-fetch against a
# real daemon: it claims, downloads each witness with the claim's lease (X-WG-Lease), completes
# with the reference proof and fails its first job once, until batch 1 is proven. The test then
# finds the batch proven, every prover job proven once by that client, and the failure with its
# text in the job's attempts. A copy of the client that sends a string where the document says
# integer must not type-check, so the types are the document's and not `any`.
#
# The npm packages (pinned below) are installed once into a cache outside the source and build
# trees, so that `make distcheck` finds nothing left behind: $WG_GENERATED_CLIENT_CACHE, else
# ${XDG_CACHE_HOME:-$HOME/.cache}/witness-generator/generated-client-VERSIONS. Node and npm are
# Debian's (installed here when missing; never a skip).
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup

PACKAGES=(openapi-typescript@7.13.0 openapi-fetch@0.17.0 typescript@5.9.3 @types/node@20.19.43)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm >"$WG_TMP/apt.log" 2>&1 ||
		{ tail -20 "$WG_TMP/apt.log" >&2; fail "cannot install Debian's nodejs and npm"; }
fi
CACHE_ROOT=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/witness-generator
CACHE=${WG_GENERATED_CLIENT_CACHE:-$CACHE_ROOT/generated-client-$(printf '%s\n' "${PACKAGES[@]}" | md5sum | cut -c1-12)}
case $(realpath -m "$CACHE")/ in
"$(realpath "$WG_SRCDIR")"/* | "$(realpath "$WG_BUILDDIR")"/*) fail "the npm cache $CACHE is inside the source or build tree" ;;
esac
BIN="$CACHE/node_modules/.bin"
if [[ ! -x $BIN/tsc || ! -x $BIN/openapi-typescript || ! -f $CACHE/node_modules/@types/node/package.json ]]; then
	mkdir -p "$CACHE"
	# Parallel runs install once.
	(
		flock 9
		[[ -x $BIN/tsc && -x $BIN/openapi-typescript && -f $CACHE/node_modules/@types/node/package.json ]] ||
			npm install --prefix "$CACHE" --no-audit --no-fund --no-save "${PACKAGES[@]}" >"$CACHE/install.log" 2>&1 ||
			{ tail -20 "$CACHE/install.log" >&2; exit 1; }
	) 9>"$CACHE/.lock" || fail "npm install ${PACKAGES[*]} failed"
fi
echo "# t_generated_client: npm packages in $CACHE"
assert_eq "Version 5.9.3" "$("$BIN/tsc" --version)" "tsc version"

# ---------------------------------------------------------------- generate, type-check, compile
WORK="$WG_TMP/client"
mkdir -p "$WORK"
ln -s "$CACHE/node_modules" "$WORK/node_modules"
cp "$WG_SRCDIR/tests/clients/generated_prover.mts" "$WORK/"
"$BIN/openapi-typescript" "$WG_SRCDIR/api/openapi.yaml" -o "$WORK/schema.d.ts" >"$WG_TMP/generate.log" 2>&1 ||
	{ cat "$WG_TMP/generate.log" >&2; fail "openapi-typescript cannot generate types from api/openapi.yaml"; }
assert_contains "$(cat "$WORK/schema.d.ts")" '"/proofs/{id}/complete": {' "the generated paths"
# tsc_check FILE: type-check and compile FILE with the generated types into $WORK/out.
tsc_check() {
	(cd "$WORK" && "$BIN/tsc" --strict --noEmitOnError --target es2022 --module nodenext --moduleResolution nodenext \
		--types node --outDir out "$1" schema.d.ts) >"$WG_TMP/tsc.log" 2>&1
}
tsc_check generated_prover.mts || { cat "$WG_TMP/tsc.log" >&2; fail "tsc rejects generated_prover.mts"; }
wg__pass
sed 's/protocol_version: 24/protocol_version: "24"/' "$WORK/generated_prover.mts" >"$WORK/wrong_type.mts"
assert_ne "$(cat "$WORK/generated_prover.mts")" "$(cat "$WORK/wrong_type.mts")" "the wrong copy differs"
if tsc_check wrong_type.mts; then fail "tsc accepts a string protocol_version"; fi
assert_contains "$(cat "$WG_TMP/tsc.log")" "wrong_type.mts" "tsc's finding in the wrong copy"

# ---------------------------------------------------------------- a batch, proven by the client
wg_start_daemon a --leaf-arity 2 --node-arity 2 --retry-base 0
pl_use a
pl_gen_input 1 --logs 10 --workload main_vm=$((5390 * 3)) >"$WG_TMP/in1.json"
pl_upload 1 "$WG_TMP/in1.json"
assert_status 201
rc=0
WG_URL=$PL_URL PROVER_TOKEN=$PL_PROVER VIEWER_TOKEN=$PL_VIEWER BATCH=1 DEADLINE_S=90 \
	timeout 120 node "$WORK/out/generated_prover.mjs" >"$WG_TMP/client.out" 2>"$WG_TMP/client.err" || rc=$?
cat "$WG_TMP/client.out" "$WG_TMP/client.err"
assert_eq 0 "$rc" "generated_prover.mjs exit status"
assert_eq proven "$(jq -r .batch_status "$WG_TMP/client.out")" "the batch, as the client saw it"
assert_eq proven "$(batch_status 1)" "the batch"
jobs=$(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 1")
assert_eq "$jobs" "$(jq -r .proved "$WG_TMP/client.out")" "every prover job proven by the client, once"
assert_eq "$jobs" "$(wg_psql "SELECT count(*) FROM prover_jobs WHERE l1_batch_number = 1 AND status = 'successful'")"
assert_eq 1 "$(jq -r '.failed | length' "$WG_TMP/client.out")" "jobs failed by the client"
failed=$(jq -r '.failed[0]' "$WG_TMP/client.out")
assert_eq "successful|2" "$(wg_psql "SELECT status || '|' || attempts FROM prover_jobs WHERE id = $failed")" \
	"the failed job, proven at its second claim"
wg_http GET "$PL_URL/jobs/$failed/attempts" -H "Authorization: Bearer $PL_VIEWER"
assert_status 200
assert_contains "$(cat "$HTTP_BODY_FILE")" "generated client: the first job is given back once" "the failure in the attempts"
