#!/bin/bash
# t_dashboard.sh: contrib/grafana/witness-generator.json is built only from metrics the daemon
# exports. Every panel target's expr parses as PromQL (promtool check rules on a rule file made of
# them, with Grafana's $__rate_interval and $instance filled in), and every metric name the exprs
# use (tests/tools/promql_metrics.py) is in a real /metrics scrape of a daemon after a batch proven
# by the bundled wg-prover, with a second batch queued. Every route a target names is in the route
# table (the scrape has a route only once it was asked).
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"
# shellcheck source=tests/integration/promql_lib.sh
. "$WG_SRCDIR/tests/integration/promql_lib.sh"
wg_setup
pq_install_promtool
DASHBOARD="$WG_SRCDIR/contrib/grafana/witness-generator.json"

jq -e '.panels | length > 0' "$DASHBOARD" >/dev/null || fail "$DASHBOARD is not a dashboard with panels"
wg__pass
# Each expr as a recording rule, for promtool's PromQL parser.
jq -r '[.. | objects | select(has("expr")) | .expr] | to_entries[] |
	"      - record: panel_target_\(.key)\n        expr: \(.value | gsub("\\$__rate_interval"; "5m") |
	gsub("\\$instance"; ".*") | tojson)"' "$DASHBOARD" >"$WG_TMP/rules.body"
{ printf 'groups:\n  - name: dashboard\n    rules:\n'; cat "$WG_TMP/rules.body"; } >"$WG_TMP/dashboard.rules.yml"
promtool check rules "$WG_TMP/dashboard.rules.yml" >"$WG_TMP/check.out" 2>&1 ||
	{ cat "$WG_TMP/check.out" >&2; fail "a target's expr is not PromQL"; }
assert_contains "$(cat "$WG_TMP/check.out")" "SUCCESS: $(grep -c 'record:' "$WG_TMP/rules.body") rules found"

pq_assert_exported grafana "$DASHBOARD" "the dashboard"
# The routes named in the targets' label matchers, as /metrics labels them ("METHOD pattern").
routes=$(jq -r '.. | objects | select(has("expr")) | .expr' "$DASHBOARD" |
	grep -oE '(GET|POST) /[a-z/{}\\-]+' | tr -d '\\' | tr ' ' '_' | sort -u)
assert_ne "" "$routes" "routes in the dashboard"
for route in $routes; do
	grep -qF "{\"${route%%_*}\", \"${route#*_}\"," "$WG_SRCDIR/src/http/routes.c" ||
		fail "the dashboard names route ${route/_/ }, which src/http/routes.c does not have"
	wg__pass
done
