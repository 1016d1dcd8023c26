#!/bin/bash
# t_alert_rules.sh: contrib/prometheus/witness-generator.rules.yml passes `promtool check rules`,
# its unit tests (witness-generator.rules.test.yml: every alert firing and not firing) pass
# `promtool test rules`, and every metric name its expressions use is in a real /metrics scrape of
# a daemon after a batch proven by the bundled wg-prover and with a second one queued (`up` excepted: Prometheus makes it). A
# rule on a name the daemon never exports would never fire, and promtool cannot see that.
# promtool comes from Debian's prometheus package, installed here when missing (never a skip).
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
wg_setup
if ! command -v promtool >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus >"$WG_TMP/apt.log" 2>&1 ||
		{ cat "$WG_TMP/apt.log" >&2; fail "cannot install promtool (Debian package prometheus)"; }
fi
RULES_DIR="$WG_SRCDIR/contrib/prometheus"
RULES="$RULES_DIR/witness-generator.rules.yml"

promtool check rules "$RULES" >"$WG_TMP/check.out" 2>&1 || { cat "$WG_TMP/check.out" >&2; fail "promtool check rules"; }
wg__pass
# The test file names its rule file relative to itself.
(cd "$RULES_DIR" && promtool test rules witness-generator.rules.test.yml) >"$WG_TMP/test.out" 2>&1 ||
	{ cat "$WG_TMP/test.out" >&2; fail "promtool test rules"; }
wg__pass
# Every alert has unit tests and a runbook line.
for alert in $(awk '$1 == "-" && $2 == "alert:" { print $3 }' "$RULES"); do
	assert_contains "$(cat "$RULES_DIR/witness-generator.rules.test.yml")" "alertname: $alert" "unit tests of $alert"
	assert_contains "$(cat "$WG_SRCDIR/docs/guide-operator.md")" "\`$alert\`" "runbook line of $alert"
done

wg_start_daemon a --leaf-arity 2 --node-arity 2
pl_use a
pl_scrape_after_batch
used=$(/usr/bin/python3 "$WG_SRCDIR/tests/tools/promql_metrics.py" rules "$RULES") || fail "promql_metrics.py rules"
for name in $used; do
	[[ $name == up ]] && continue
	grep -qx "$name" "$WG_TMP/exported" || fail "the rules use $name, which /metrics does not export"
	wg__pass
done
# The one label value a rule depends on: completions are counted under this route.
assert_contains "$(cat "$HTTP_BODY_FILE")" 'wg_http_requests_total{route="POST /proofs/{id}/complete",code="200"}'
