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
# shellcheck source=tests/integration/promql_lib.sh
. "$WG_SRCDIR/tests/integration/promql_lib.sh"
wg_setup
pq_install_promtool
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

pq_assert_exported rules "$RULES" "the rules"
# The one label value a rule depends on: completions are counted under this route.
assert_contains "$(cat "$HTTP_BODY_FILE")" 'wg_http_requests_total{route="POST /proofs/{id}/complete",code="200"}'
