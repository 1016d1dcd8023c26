#!/bin/bash
# t_housekeeping.sh: housekeeping that cannot stop itself (docs/state-machine.md).
# - With --max-attempts 1200 and --retry-base 0, a prover job failed 1,100 times over HTTP is
#   answered 200 every time: the retry backoff's doubling stops (at 2^30) before power()
#   overflows double precision, which answered 500 from the 1,025th failure on.
# - Leases still expire afterwards: that job and another, claimed with a 2 s lease and left
#   alone, are back in the queue within seconds. (The expiry sweep of prover jobs computes the
#   same backoff; it used to fail on the overflow for ever, and the sweeps of the witness tables
#   after it never ran.)
# - wg_housekeeping_errors_total is exported (promtool accepts the scrape) and stays 0.
# - One failing sweep does not stop the others: with a trigger that makes every lease expiry of a
#   prover job fail, a witness job whose holder vanished (a row held by "ghost") still expires on
#   time, the failures are counted in wg_housekeeping_errors_total, and once the trigger is gone
#   the prover job expires too.
# shellcheck source=tests/integration/lib.sh
. "$WG_SRCDIR/tests/integration/lib.sh"
# shellcheck source=tests/integration/pipeline_lib.sh
. "$WG_SRCDIR/tests/integration/pipeline_lib.sh"

wg_setup
if ! command -v promtool >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus >"$WG_TMP/apt.log" 2>&1 ||
		{ cat "$WG_TMP/apt.log" >&2; fail "cannot install promtool (Debian package prometheus)"; }
fi
PY=/usr/bin/python3
[[ -x $PY ]] || DEBIAN_FRONTEND=noninteractive apt-get install -y python3 >/dev/null
[[ -x $PY ]] || fail "/usr/bin/python3 could not be installed"

wg_start_daemon a --max-attempts 1200 --retry-base 0 --retry-max 60 --lease 2 --housekeeping-ms 200
pl_use a

# Two batches of one prover job each: J (batch 1) is failed over and over, K (batch 2) is
# claimed once at the end.
for b in 1 2; do
	pl_gen_input "$b" --logs 0 --workload main_vm=5390 >"$WG_TMP/in$b.json"
	pl_upload "$b" "$WG_TMP/in$b.json"
	assert_status 201
done
jobs_exist() { [[ $(wg_psql "SELECT count(*) FROM prover_jobs") == 2 ]]; }
wg_wait_until 30 jobs_exist
J=$(wg_psql "SELECT id FROM prover_jobs WHERE l1_batch_number = 1")
K=$(wg_psql "SELECT id FROM prover_jobs WHERE l1_batch_number = 2")

# claim_fail N: claims job J and fails it, N times, over one keep-alive connection; every answer
# must be 200 (the lease is taken from the claim reply and sent back as it came).
claim_fail() {
	WG_URL=$PL_URL WG_TOKEN=$PL_PROVER WG_JOB=$J WG_TIMES=$1 "$PY" - <<'EOF'
import http.client, json, os, sys, urllib.parse
u = urllib.parse.urlsplit(os.environ["WG_URL"])
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
auth = {"Authorization": "Bearer " + os.environ["WG_TOKEN"], "Content-Type": "application/json"}
job = int(os.environ["WG_JOB"])
def call(path, body, extra={}):
    conn.request("POST", path, body=json.dumps(body), headers={**auth, **extra})
    r = conn.getresponse()
    data = r.read()
    return r.status, data
for i in range(int(os.environ["WG_TIMES"])):
    status, data = call("/jobs/claim", {"prover_id": "t", "protocol_version": 24})
    if status != 200:
        sys.exit("claim %d: HTTP %d %s" % (i + 1, status, data[:300]))
    claimed = json.loads(data)
    if claimed["id"] != job:
        sys.exit("claim %d: got job %s, not %d" % (i + 1, claimed["id"], job))
    status, data = call("/proofs/%d/fail" % job, {"error": "out of memory"}, {"X-WG-Lease": str(claimed["lease"])})
    if status != 200:
        sys.exit("fail %d (attempt %d): HTTP %d %s" % (i + 1, claimed["attempts"], status, data[:300]))
    if json.loads(data)["status"] != "queued":
        sys.exit("fail %d: not queued: %s" % (i + 1, data[:300]))
print("ok")
EOF
}
out=$(claim_fail 1100 2>&1) || fail "failing job $J 1100 times: $out"
assert_eq ok "$out" "1,100 claims and fails of job $J all answered 200"
assert_eq "1100|queued" "$(wg_psql "SELECT attempts, status FROM prover_jobs WHERE id = $J")" \
	"job $J used 1,100 attempts and is queued again"

# Both jobs claimed and taken up (witness downloaded) under a 2 s lease, then abandoned:
# housekeeping puts both back in time.
pl_claim
assert_status 200
assert_eq "$J" "$PL_JOB_ID" "job $J claimed the 1,101st time"
pl_witness "$J" "$WG_TMP/wJ"
pl_claim
assert_status 200
assert_eq "$K" "$PL_JOB_ID" "job $K claimed"
pl_witness "$K" "$WG_TMP/wK"
both_expired() {
	[[ $(wg_psql "SELECT count(*) FROM prover_jobs WHERE status = 'queued' AND error LIKE 'lease expired%'") == 2 ]]
}
wg_wait_until 10 both_expired
wg__pass

wg_http GET "$PL_URL/metrics"
assert_status 200
promtool check metrics <"$HTTP_BODY_FILE" >"$WG_TMP/promtool.out" 2>&1 ||
	{ cat "$WG_TMP/promtool.out" >&2; fail "promtool check metrics rejects the scrape"; }
assert_eq 0 "$(awk '$1 == "wg_housekeeping_errors_total" { print $2 }' "$HTTP_BODY_FILE")" \
	"no housekeeping step failed"

# One sweep fails on every tick; the others still run.
refuse_fn='CREATE FUNCTION refuse_expiry() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN RAISE EXCEPTION '"'"'the test refuses lease expiries of prover jobs'"'"'; END $$'
wg_psql "$refuse_fn" "CREATE TRIGGER refuse_expiry BEFORE UPDATE ON prover_jobs FOR EACH ROW
	WHEN (OLD.status = 'in_progress' AND NEW.status <> 'in_progress'
	AND (NEW.error LIKE 'lease expired%' OR NEW.error LIKE 'claim not taken up%'))
	EXECUTE FUNCTION refuse_expiry()"
pl_claim
assert_status 200
assert_eq "$J" "$PL_JOB_ID" "job $J claimed again"
# A basic job held by a daemon that vanished, at its last attempt (1,200): its expiry fails it.
wg_psql "INSERT INTO basic_circuit_witness_jobs (l1_batch_number, protocol_version, status, input_sha256,
	input_key, input_bytes, attempts, picked_by, lease_expires_at)
	VALUES (99, 24, 'in_progress', sha256('ghost'), 'batches/99/input-ghost.json', 5, 1200, 'ghost',
	now() + interval '2 s')"
ghost_expired() {
	[[ $(wg_psql "SELECT status || '|' || error FROM basic_circuit_witness_jobs WHERE l1_batch_number = 99") == \
		"failed|lease expired while held by ghost; reached max_attempts (1200)" ]]
}
wg_wait_until 10 ghost_expired
wg__pass
assert_eq in_progress "$(wg_psql "SELECT status FROM prover_jobs WHERE id = $J")" \
	"job $J is held past its lease while its sweep fails"
wg_http GET "$PL_URL/metrics"
assert_status 200
errors=$(awk '$1 == "wg_housekeeping_errors_total" { print $2 }' "$HTTP_BODY_FILE")
((errors > 0)) || fail "wg_housekeeping_errors_total is $errors while a sweep fails"
wg__pass
grep -q "housekeeping: expire_prover failed" "$WG_TMP/a.log" || fail "the failing sweep is not logged"
wg__pass
wg_psql "DROP TRIGGER refuse_expiry ON prover_jobs"
j_expired() { [[ $(wg_psql "SELECT status FROM prover_jobs WHERE id = $J") == queued ]]; }
wg_wait_until 10 j_expired
wg__pass
