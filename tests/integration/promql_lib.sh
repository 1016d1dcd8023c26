# shellcheck shell=bash
# promql_lib.sh: what the tests of the files operators install beside Prometheus share
# (t_alert_rules.sh, t_dashboard.sh). Source it after lib.sh and pipeline_lib.sh and call
# wg_setup first:
#
#   pq_install_promtool                      # Debian's prometheus when promtool is missing (never a skip)
#   pq_assert_exported rules FILE "the rules"  # every metric name FILE's PromQL uses is in a real scrape
#
# pq_assert_exported starts daemon a (--leaf-arity 2 --node-arity 2), proves batch 1 with wg-prover
# and leaves batch 2 queued (pl_scrape_after_batch), so that every gauge has samples.

# pq_install_promtool: promtool on the PATH, from Debian's prometheus package when missing.
pq_install_promtool() {
	command -v promtool >/dev/null && return
	DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus >"$WG_TMP/apt.log" 2>&1 ||
		{ cat "$WG_TMP/apt.log" >&2; fail "cannot install promtool (Debian package prometheus)"; }
}

# pq_assert_exported KIND FILE WHAT: every metric name the PromQL of FILE uses
# (tests/tools/promql_metrics.py KIND: rules or grafana) is in a /metrics scrape of a daemon that
# has run a batch; WHAT names FILE in the failures. `up` is Prometheus's own. A name the daemon
# never exports would never have a sample, and promtool cannot see that. Leaves the scrape in
# HTTP_BODY_FILE and daemon a running (PL_URL).
pq_assert_exported() {
	local kind=$1 file=$2 what=$3 used name
	wg_start_daemon a --leaf-arity 2 --node-arity 2
	pl_use a
	pl_scrape_after_batch
	used=$(/usr/bin/python3 "$WG_SRCDIR/tests/tools/promql_metrics.py" "$kind" "$file") ||
		fail "promql_metrics.py $kind"
	assert_ne "" "$used" "metric names in $what"
	for name in $used; do
		[[ $name == up ]] && continue
		grep -qx "$name" "$WG_TMP/exported" || fail "$what use $name, which /metrics does not export"
		wg__pass
	done
}
