# Integration tests: executable bash scripts that start a throwaway PostgreSQL
# cluster and the real daemon and speak HTTP to it (harness: lib.sh, which
# documents its helpers). Each test is run directly and makes its own cluster on
# its own port, so `make -jN check` runs them in parallel.
#
# To add a test, write tests/integration/t_NAME.sh (mode 755, sourcing lib.sh)
# and list it here; it is then both run by `make check` and distributed.
INTEGRATION_TESTS = \
	tests/integration/t_harness.sh \
	tests/integration/t_pipeline.sh \
	tests/integration/t_inputs.sh \
	tests/integration/t_prover_api.sh \
	tests/integration/t_concurrency.sh \
	tests/integration/t_big_batch.sh \
	tests/integration/t_defence.sh \
	tests/integration/t_archive.sh

# Foundation: migrations, health across a database outage, the auth matrix, HTTP-level errors.
INTEGRATION_TESTS += \
	tests/integration/t_migrations.sh \
	tests/integration/t_health.sh \
	tests/integration/t_auth.sh \
	tests/integration/t_http_errors.sh

EXTRA_DIST += tests/integration/lib.sh tests/integration/pipeline_lib.sh

# ref_prove: the reference proof of a witness blob, so that tests can prove jobs with curl.
check_PROGRAMS += tests/tools/ref_prove
tests_tools_ref_prove_SOURCES = tests/tools/ref_prove.c
tests_tools_ref_prove_LDADD = $(CORE_LIBS)
# explain_claims: the plans of the project's own claim statements, as the daemon prepares them.
check_PROGRAMS += tests/tools/explain_claims
tests_tools_explain_claims_SOURCES = tests/tools/explain_claims.c
tests_tools_explain_claims_LDADD = $(SERVER_LIBS)
dist_noinst_SCRIPTS += $(INTEGRATION_TESTS)
TESTS += $(INTEGRATION_TESTS)

# Robustness (issue 4): kill -9 at random moments, a database outage, three daemons on one
# database; crash_lib.sh holds the exactly-once invariants they check.
INTEGRATION_TESTS += \
	tests/integration/t_crash_random.sh \
	tests/integration/t_db_outage.sh \
	tests/integration/t_many_daemons.sh
# A silent network partition to PostgreSQL (issue 14, item 3): needs iptables, as root.
INTEGRATION_TESTS += tests/integration/t_partition.sh
EXTRA_DIST += tests/integration/crash_lib.sh tests/tools/http_fuzz.py

# Named crash points (WG_FAULT, src/common/fault.h; compiled into every build).
INTEGRATION_TESTS += tests/integration/t_crash_points.sh

# Leases and fencing, graceful shutdown, repairs and retention, HTTPS (issue 4 points 1, 5, 9, 10).
INTEGRATION_TESTS += \
	tests/integration/t_leases.sh \
	tests/integration/t_lease_boundary.sh \
	tests/integration/t_claim_grace.sh \
	tests/integration/t_claim_wait.sh \
	tests/integration/t_prover_overlap.sh \
	tests/integration/t_self_vacuum.sh \
	tests/integration/t_shutdown.sh \
	tests/integration/t_repairs.sh \
	tests/integration/t_tls.sh \
	tests/integration/t_secrets.sh \
	tests/integration/t_witness_lease.sh \
	tests/integration/t_witness_stall.sh \
	tests/integration/t_round_fencing.sh \
	tests/integration/t_delete_race.sh \
	tests/integration/t_operator_api.sh \
	tests/integration/t_http_fuzz.sh \
	tests/integration/t_shutdown_release.sh

# Hostile input (issue 4, point 6): malformed bodies, limits, bad routes and ids, slow clients.
INTEGRATION_TESTS += tests/integration/t_hostile.sh

# Throughput (issue 7): batched claims, grouped completions, witness packs, claim plans, retries.
INTEGRATION_TESTS += tests/integration/t_throughput.sh tests/integration/t_retries.sh tests/integration/t_attempts.sh \
	tests/integration/t_queue.sh

# The HTTP edge (issue 8): readable early refusals, limits per route, slow clients, JSON 414/431.
INTEGRATION_TESTS += tests/integration/t_edge.sh
EXTRA_DIST += tests/integration/edge_clients.py

# Usability (issue 9): jobs named by kind and round, errors that say what to fix, metric and CLI
# slips.
INTEGRATION_TESTS += tests/integration/t_job_names.sh
# The guides' curl examples, run against a real daemon (docs/*.md, "```sh doc-test" blocks).
INTEGRATION_TESTS += tests/integration/t_docs.sh
EXTRA_DIST += docs

# The operator's console (issue 10): access and job logs, histograms and pool gauges, the dashboard.
INTEGRATION_TESTS += tests/integration/t_logs.sh tests/integration/t_metrics.sh tests/integration/t_ui.sh
EXTRA_DIST += tests/integration/ui_e2e.js
# t_ui.sh keeps its screenshot in the build tree. The tools the tests fetch with npm
# (playwright-core, s3rver, @redocly/cli) live in $WG_TOOL_CACHE, outside it (lib.sh); the
# directories where older versions kept them in the build tree go too.
clean-local: clean-ui-test
clean-ui-test:
	-rm -rf tests/integration/.node tests/integration/t_ui.out .cache
.PHONY: clean-ui-test

# PostgreSQL failover (issue 11, part 2): kill -9 of the primary and promotion of a synchronous or
# asynchronous streaming standby, under load, on a multi-host conninfo.
INTEGRATION_TESTS += tests/integration/t_failover_sync.sh tests/integration/t_failover_async.sh
EXTRA_DIST += tests/integration/failover_lib.sh

# The s3:// store (issue 11 part 1): against s3rver from npm (cached in $WG_TOOL_CACHE, see
# s3_lib.sh), and its signing inputs against a server that records requests.
INTEGRATION_TESTS += tests/integration/t_s3.sh tests/integration/t_s3_sign.sh
EXTRA_DIST += tests/integration/s3_lib.sh tests/tools/s3_recorder.py
# The local pack cache of s3:// and postgres stores (issue 17, item 2): kept packs, hits while the
# bucket is down, a truncated pack not served, the bound, a restart.
INTEGRATION_TESTS += tests/integration/t_pack_cache.sh

# The operator's console (issue 10): every wgctl command, for people and with --json.
INTEGRATION_TESTS += tests/integration/t_wgctl.sh

# api/openapi.yaml: @redocly/cli's lint finds nothing, and the daemon's real replies validate
# against it (python3-jsonschema).
INTEGRATION_TESTS += tests/integration/t_openapi_lint.sh tests/integration/t_openapi_responses.sh
EXTRA_DIST += tests/tools/openapi_check.py

# Packaging (issue 10 item 6): make install, the man pages, the systemd unit, the installed
# programs run alone.
INTEGRATION_TESTS += tests/integration/t_install.sh

# Faults that heal (issue 14): housekeeping steps that fail alone, witness jobs that back off.
INTEGRATION_TESTS += tests/integration/t_housekeeping.sh tests/integration/t_store_full.sh \
	tests/integration/t_s3_outage.sh
# No blocking under locks (issue 14 item 6): a DELETE removes its blobs after its commit, holding
# no batch lock or row lock meanwhile, and the sweeper removes what a crash left.
INTEGRATION_TESTS += tests/integration/t_delete_unlocked.sh

# Made-up tokens cannot make the daemon read its token table more than once a second, nor slow
# down valid ones (issue 15 item 5).
INTEGRATION_TESTS += tests/integration/t_token_flood.sh
EXTRA_DIST += tests/tools/token_flood.py
# The database cases of the combiner and claimer unit tests (issue 14): `make check` runs the unit
# tests without a database, this runs their "db" cases on a throwaway cluster.
INTEGRATION_TESTS += tests/integration/t_unit_db.sh

# Client text reaches no terminal and breaks no log (issue 15 item 2): control characters in a
# failure text and a prover_id, an old row holding them, quotes in a token name and a method.
INTEGRATION_TESTS += tests/integration/t_control_chars.sh

# Cheaper refusals and scrapes, the rest (issue 15 item 5): nosniff on every reply.
INTEGRATION_TESTS += tests/integration/t_nosniff.sh
# The file store's blobs are 0600 in 0700 directories, whatever the umask.
INTEGRATION_TESTS += tests/integration/t_store_modes.sh
# /metrics reads the database at most once a second, however many scrape it.
INTEGRATION_TESTS += tests/integration/t_metrics_scrapes.sh
# The s3 store reads no more of an answer than it asked for.
INTEGRATION_TESTS += tests/integration/t_s3_caps.sh
# Transient store errors are retried inside the round (issue 16 item 6).
INTEGRATION_TESTS += tests/integration/t_store_retry.sh

# Request bodies held at once are bounded by --max-buffered-bytes (issue 15 item 4).
INTEGRATION_TESTS += tests/integration/t_memory_budget.sh
EXTRA_DIST += tests/tools/upload_flood.py

# What operators install (issue 18): the alert rules pass promtool's checks and unit tests and use
# only metrics a real scrape holds; so does the Grafana dashboard.
# promql_lib.sh holds what the two share (promtool, the check against a real scrape).
INTEGRATION_TESTS += tests/integration/t_alert_rules.sh tests/integration/t_dashboard.sh
EXTRA_DIST += tests/integration/promql_lib.sh tests/tools/promql_metrics.py
# A prover on openapi-fetch, typed by openapi-typescript from api/openapi.yaml, proves a batch
# (npm packages cached outside the source and build trees: see the test's header).
INTEGRATION_TESTS += tests/integration/t_generated_client.sh
EXTRA_DIST += tests/clients/generated_prover.mts
# Fleet controls (issue 16): batch priorities and backpressure on circuits in flight.
INTEGRATION_TESTS += tests/integration/t_priority.sh
# The Debian package (issue 18 item 1): built from a copy of the sources with debian/, lintian
# clean, installed into / and run as its system user, upgraded over itself, purged.
INTEGRATION_TESTS += tests/integration/t_package.sh
EXTRA_DIST += debian
