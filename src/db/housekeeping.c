/* Lease expiry and restart recovery. Each sweep takes its rows with SKIP LOCKED, so daemons
 * sweeping together neither block each other nor requeue a job twice. */
#include "config.h"
#include "db/housekeeping.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/log.h"
#include "db/witness_jobs.h"

/* EXTRA sets more columns; it may use $2 and $3 (the prover jobs' retry backoff). WHY says why
 * the job was taken back; a job failed for good also says that it reached max_attempts. */
#define EXPIRE_UPDATE(TABLE, WHY, EXTRA)                                                                      \
  "UPDATE " TABLE " SET status = CASE WHEN attempts - attempts_base >= $1 THEN 'failed' ELSE 'queued' END,"   \
  " error = " WHY " || coalesce(picked_by, 'unknown')"                                                        \
  " || CASE WHEN attempts - attempts_base >= $1"                                                              \
  " THEN '; reached max_attempts (' || (attempts_base + $1) || ')' ELSE '' END,"                             \
  " lease_expires_at = NULL, updated_at = now()" EXTRA                                                        \
  " WHERE id IN (SELECT id FROM " TABLE " WHERE status = 'in_progress' AND lease_expires_at < now()"          \
  " ORDER BY lease_expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED)"
#define EXPIRE(NAME, TABLE, WHY, EXTRA) {"expire_" NAME, EXPIRE_UPDATE(TABLE, WHY, EXTRA) " RETURNING status"}
#define LEASE_EXPIRED "'lease expired while held by '"
#define PROVER_EXPIRED                                                                                         \
  "CASE WHEN lease_touched THEN 'lease expired while held by ' ELSE 'claim not taken up within the claim"       \
  " grace by ' END"
#define PROVER_EXPIRED_EXTRA                                                                                   \
  ", lease_hash = NULL, retry_at = CASE WHEN lease_touched THEN now() + " WG_SQL_BACKOFF("$2", "$3") " END"
#define RECOVER(NAME, TABLE)                                                                                   \
  {"recover_" NAME,                                                                                           \
   "UPDATE " TABLE " SET status = CASE WHEN attempts - attempts_base >= $2 THEN 'failed' ELSE 'queued' END,"   \
   " lease_expires_at = NULL, updated_at = now(),"                                                            \
   " error = 'held when ' || $1 || ' stopped without releasing it'"                                          \
   " || CASE WHEN attempts - attempts_base >= $2"                                                              \
   " THEN '; reached max_attempts (' || (attempts_base + $2) || ')' ELSE '' END"                             \
   " WHERE status = 'in_progress' AND picked_by = $1 RETURNING id"}

static const char *const expire_names[] = {"expire_prover", "expire_basic", "expire_leaf", "expire_node",
                                           "expire_sched"};
static const char *const recover_names[] = {"recover_basic", "recover_leaf", "recover_node", "recover_sched"};

const struct wg_stmt wg_sql_housekeeping[] = {
  /* A prover job whose witness was never downloaded nor heartbeaten was held only for the claim
   * grace: its claim reply most likely never reached the prover, so it is claimable at once. Its
   * attempt record ends as expired either way, with the reason alone: the claim counted. */
  {"expire_prover",
   "WITH expired AS (" EXPIRE_UPDATE("prover_jobs", PROVER_EXPIRED, PROVER_EXPIRED_EXTRA)
   " RETURNING id, claims, status, lease_touched, picked_by),"
   " ended AS (UPDATE prover_job_attempts a SET outcome = 'expired', ended_at = now(),"
   "   error = " PROVER_EXPIRED " || coalesce(e.picked_by, 'unknown')"
   "   FROM expired e WHERE a.prover_job_id = e.id AND a.attempt = e.claims)"
   " SELECT status FROM expired"},
  EXPIRE("basic", "basic_circuit_witness_jobs", LEASE_EXPIRED, ""),
  EXPIRE("leaf", "leaf_aggregation_jobs", LEASE_EXPIRED, ""),
  EXPIRE("node", "node_aggregation_jobs", LEASE_EXPIRED, ""),
  EXPIRE("sched", "scheduler_witness_jobs", LEASE_EXPIRED, ""),
  RECOVER("basic", "basic_circuit_witness_jobs"),
  RECOVER("leaf", "leaf_aggregation_jobs"),
  RECOVER("node", "node_aggregation_jobs"),
  RECOVER("sched", "scheduler_witness_jobs"),
  /* PostgreSQL's own counters of prover_jobs (flushed by every backend within a second). */
  {"prover_jobs_churn",
   "SELECT n_dead_tup, n_live_tup, n_mod_since_analyze FROM pg_stat_user_tables WHERE relid = 'prover_jobs'::regclass"},
  /* Skipped when another daemon or autovacuum is vacuuming or analyzing it. */
  {"prover_jobs_vacuum", "VACUUM (SKIP_LOCKED) prover_jobs"},
  {"prover_jobs_analyze", "ANALYZE (SKIP_LOCKED) prover_jobs"},
  /* The basic round's, after a big layer: waits for a vacuum or analysis running. */
  {"prover_jobs_analyze_now", "ANALYZE prover_jobs"},
  {NULL, NULL},
};

/* One sweep failing (a statement error, a lost connection) must not keep the others from
 * running: each runs on its own, and a failure is logged and counted for the caller. */
static int sweep_failed(const char *name, enum wg_status s)
{
  wg_warn("housekeeping: %s failed: %s", name, wg_status_name(s));
  return 1;
}

int wg_housekeeping_expire(struct wg_dbconn *c, int max_attempts, double retry_base, double retry_max, int *requeued)
{
  *requeued = 0;
  int failures = 0;
  char base[32], max[32];
  snprintf(base, sizeof base, "%.3f", retry_base);
  snprintf(max, sizeof max, "%.3f", retry_max);
  for (int t = 0; t < 5; t++) {
    struct wg_params p = {0};
    wg_p_int(&p, max_attempts);
    if (t == 0) {
      wg_p_text(&p, base);
      wg_p_text(&p, max);
    }
    PGresult *r;
    enum wg_status s = wg_db_exec(c, expire_names[t], &p, false, &r);
    if (s != WG_OK) {
      failures += sweep_failed(expire_names[t], s);
      continue;
    }
    int n = PQntuples(r);
    PQclear(r);
    *requeued += n;
    /* Witness jobs back in the queue: wake the round workers of every daemon. */
    if (n > 0 && t > 0 && (s = wg_db_notify(c, t - 1)) != WG_OK)
      failures += sweep_failed("notify", s);
  }
  return failures;
}

int wg_housekeeping_recover(struct wg_dbconn *c, const char *instance_id, int max_attempts, int *requeued)
{
  *requeued = 0;
  int failures = 0;
  for (int t = 0; t < 4; t++) {
    struct wg_params p = {0};
    wg_p_text(&p, instance_id);
    wg_p_int(&p, max_attempts);
    PGresult *r;
    enum wg_status s = wg_db_exec(c, recover_names[t], &p, false, &r);
    if (s != WG_OK) {
      failures += sweep_failed(recover_names[t], s);
      continue;
    }
    *requeued += PQntuples(r);
    PQclear(r);
  }
  return failures;
}

/* Whether n changes of a table of live rows are worth acting on: 10% of it, and at least
 * WG_VACUUM_MIN_DEAD. */
static bool worth(int64_t n, int64_t live) { return n >= WG_VACUUM_MIN_DEAD && n * 10 >= live; }

int wg_housekeeping_vacuum(struct wg_dbconn *c, bool *vacuumed)
{
  /* The housekeeper's thread alone calls this. */
  static int64_t next_vacuum_ms;
  *vacuumed = false;
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "prover_jobs_churn", NULL, false, &r);
  if (s != WG_OK)
    return sweep_failed("reading prover_jobs' statistics", s);
  bool one = PQntuples(r) == 1;
  int64_t dead = one ? wg_db_int(r, 0, 0) : 0, live = one ? wg_db_int(r, 0, 1) : 0,
          changed = one ? wg_db_int(r, 0, 2) : 0;
  PQclear(r);
  if (worth(dead, live) && wg_monotonic_ms() >= next_vacuum_ms) {
    if ((s = wg_db_exec(c, "prover_jobs_vacuum", NULL, false, NULL)) != WG_OK)
      return sweep_failed("vacuuming prover_jobs", s);
    *vacuumed = true;
    next_vacuum_ms = wg_monotonic_ms() + WG_VACUUM_MIN_INTERVAL_MS;
  }
  if (worth(changed, live) && (s = wg_db_exec(c, "prover_jobs_analyze", NULL, false, NULL)) != WG_OK)
    return sweep_failed("analyzing prover_jobs", s);
  return 0;
}

enum wg_status wg_housekeeping_analyze(struct wg_dbconn *c)
{
  return wg_db_exec(c, "prover_jobs_analyze_now", NULL, false, NULL);
}
