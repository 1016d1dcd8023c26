/* Operator repairs and retention. A requeue records who moved the job in its error column and
 * grants the job max_attempts more claims from where it stands: attempts only grows (leases are
 * fenced on it), so the limit counts from attempts_base, which the requeue moves up to attempts.
 * A requeued prover job is claimable at once (no retry backoff). A requeue takes only failed jobs,
 * whose last attempt has ended, so it ends no attempt record (none is ever "requeued"); deleting or
 * restarting a batch removes its attempt records with its jobs, and the archive leaves them. */
#include "config.h"
#include "db/repairs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuits/circuits.h"
#include "db/blob_sweeps.h"
#include "db/job_views.h"
#include "db/prover_jobs.h"
#include "db/witness_jobs.h"

#define REQUEUE(NAME, TABLE, EXTRA)                                                                                   \
  {"requeue_batch_" NAME,                                                                                     \
   "UPDATE " TABLE " SET status = 'queued', lease_expires_at = NULL, updated_at = now(), attempts_base = attempts," \
   " error = 'requeued by an operator after: ' || coalesce(error, 'no error recorded')" EXTRA                 \
   " WHERE l1_batch_number = $1 AND status = 'failed' RETURNING id"}
/* Named, not positional: the archive table gained columns after archived_at. */
#define ARCHIVED_COLUMNS                                                                                       \
  "id, l1_batch_number, protocol_version, aggregation_round, circuit_id, depth, sequence_number, status,"      \
  " proof_hash, attempts, error, picked_by, lease_expires_at, processing_started_at, time_taken, created_at,"   \
  " updated_at, witness_pack, witness_offset, witness_length, retry_at, attempts_base, lease_hash, lease_token,"   \
  " lease_touched, witness_pack_id, claims, priority"
#define REQUEUE_ONE(NAME, TABLE)                                                                               \
  {"requeue_witness_" NAME,                                                                                   \
   "UPDATE " TABLE " SET status = 'queued', lease_expires_at = NULL, updated_at = now(), attempts_base = attempts," \
   " retry_at = NULL, error = 'requeued by an operator after: ' || coalesce(error, 'no error recorded')"      \
   " WHERE id = $1 AND status = 'failed' RETURNING id"},                                                      \
  {"witness_status_" NAME, "SELECT status FROM " TABLE " WHERE id = $1"}
#define DELETE(NAME, TABLE) {"delete_batch_" NAME, "DELETE FROM " TABLE " WHERE l1_batch_number = $1"}

static const char *const tables[] = {"prover", "basic", "leaf", "node", "sched"};

const struct wg_stmt wg_sql_repairs[] = {
  REQUEUE("prover", "prover_jobs", ", retry_at = NULL"),
  REQUEUE("basic", "basic_circuit_witness_jobs", ", retry_at = NULL"),
  REQUEUE("leaf", "leaf_aggregation_jobs", ", retry_at = NULL"),
  REQUEUE("node", "node_aggregation_jobs", ", retry_at = NULL"),
  REQUEUE("sched", "scheduler_witness_jobs", ", retry_at = NULL"),
  REQUEUE_ONE("basic", "basic_circuit_witness_jobs"),
  REQUEUE_ONE("leaf", "leaf_aggregation_jobs"),
  REQUEUE_ONE("node", "node_aggregation_jobs"),
  REQUEUE_ONE("sched", "scheduler_witness_jobs"),
  DELETE("proofs", "proofs"),
  DELETE("prover", "prover_jobs"),
  DELETE("archive", "prover_jobs_archive"),
  DELETE("attempts", "prover_job_attempts"),
  DELETE("leaf", "leaf_aggregation_jobs"),
  DELETE("node", "node_aggregation_jobs"),
  DELETE("sched", "scheduler_witness_jobs"),
  DELETE("basic", "basic_circuit_witness_jobs"),
  /* A restart keeps the basic job's row (and so its input) and moves attempts_base up as a requeue
   * does: attempts keeps growing, so the restarted round writes a pack named by a new attempt and
   * a worker still running the old attempt, fenced off, removes only its own. */
  {"restart_batch_basic",
   "UPDATE basic_circuit_witness_jobs SET status = 'queued', attempts_base = attempts, error = NULL, picked_by = NULL,"
   " retry_at = NULL,"
   " lease_expires_at = NULL, processing_started_at = NULL, time_taken = NULL, updated_at = now()"
   " WHERE l1_batch_number = $1"},
  {"failed_batches",
   "SELECT l1_batch_number FROM prover_jobs WHERE status = 'failed'"
   " UNION SELECT l1_batch_number FROM basic_circuit_witness_jobs WHERE status = 'failed'"
   " UNION SELECT l1_batch_number FROM leaf_aggregation_jobs WHERE status = 'failed'"
   " UNION SELECT l1_batch_number FROM node_aggregation_jobs WHERE status = 'failed'"
   " UNION SELECT l1_batch_number FROM scheduler_witness_jobs WHERE status = 'failed'"
   " ORDER BY 1"},
  {"repair_batch_exists", "SELECT 1 FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1 FOR UPDATE"},
  {"requeue_job",
   "UPDATE prover_jobs SET status = 'queued', lease_expires_at = NULL, updated_at = now(), attempts_base = attempts,"
   " retry_at = NULL, error = 'requeued by an operator after: ' || coalesce(error, 'no error recorded')"
   " WHERE id = $1 AND status = 'failed' RETURNING id"},
  {"archive_proven",
   "WITH proven AS ("
   "  SELECT l1_batch_number FROM prover_jobs WHERE aggregation_round = 3 AND status = 'successful'"
   "  AND updated_at < now() - make_interval(secs => $1::double precision)),"
   " moved AS (DELETE FROM prover_jobs WHERE aggregation_round < 3"
   "  AND l1_batch_number IN (SELECT l1_batch_number FROM proven) RETURNING *)"
   " INSERT INTO prover_jobs_archive (" ARCHIVED_COLUMNS ", archived_at) SELECT " ARCHIVED_COLUMNS ", now() FROM moved"},
  {NULL, NULL},
};

static enum wg_status batch_exists(struct wg_dbconn *c, int64_t batch)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "repair_batch_exists", &p, false, &r);
  if (s != WG_OK)
    return s;
  bool found = PQntuples(r) > 0;
  PQclear(r);
  return found ? WG_OK : WG_E_NOT_FOUND;
}

struct batch_args {
  int64_t batch;
  int count;
};

static enum wg_status requeue_batch_tx(struct wg_dbconn *c, void *arg)
{
  struct batch_args *a = arg;
  a->count = 0;
  enum wg_status s = batch_exists(c, a->batch);
  for (int t = 0; s == WG_OK && t < 5; t++) {
    char name[48];
    snprintf(name, sizeof name, "requeue_batch_%s", tables[t]);
    struct wg_params p = {0};
    wg_p_int(&p, a->batch);
    PGresult *r;
    s = wg_db_exec(c, name, &p, false, &r);
    if (s != WG_OK)
      break;
    int n = PQntuples(r);
    PQclear(r);
    a->count += n;
    if (n > 0 && t > 0)
      s = wg_db_notify(c, t - 1);
  }
  return s;
}

enum wg_status wg_repair_requeue_batch(struct wg_dbconn *c, int64_t batch, int *requeued)
{
  struct batch_args a = {batch, 0};
  enum wg_status s = wg_db_tx(c, requeue_batch_tx, &a);
  *requeued = a.count;
  return s;
}

enum wg_status wg_repair_requeue_job(struct wg_dbconn *c, int64_t id, char status[24])
{
  struct wg_params p = {0};
  wg_p_int(&p, id);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "requeue_job", &p, false, &r);
  if (s != WG_OK)
    return s;
  bool requeued = PQntuples(r) > 0;
  PQclear(r);
  if (requeued) {
    snprintf(status, 24, "queued");
    return WG_OK;
  }
  struct wg_prover_job job;
  s = wg_prover_job_get(c, id, &job);
  if (s != WG_OK)
    return s;
  snprintf(status, 24, "%s", job.status);
  return WG_E_CONFLICT;
}

struct witness_requeue_args {
  int round;
  int64_t id;
  char *status;
};

static enum wg_status requeue_witness_tx(struct wg_dbconn *c, void *arg)
{
  struct witness_requeue_args *a = arg;
  char name[48];
  snprintf(name, sizeof name, "requeue_witness_%s", tables[a->round + 1]);
  struct wg_params p = {0};
  wg_p_int(&p, a->id);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, name, &p, false, &r);
  if (s != WG_OK)
    return s;
  bool requeued = PQntuples(r) > 0;
  PQclear(r);
  if (requeued) {
    snprintf(a->status, 24, "queued");
    return wg_db_notify(c, a->round);
  }
  snprintf(name, sizeof name, "witness_status_%s", tables[a->round + 1]);
  s = wg_db_exec_row(c, name, &p, false, &r);
  if (s != WG_OK)
    return s;
  snprintf(a->status, 24, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return WG_E_CONFLICT;
}

enum wg_status wg_repair_requeue_witness_job(struct wg_dbconn *c, int round, int64_t id, char status[24])
{
  if (round < 0 || round > 3)
    return WG_E_NOT_FOUND;
  struct witness_requeue_args a = {round, id, status};
  return wg_db_tx(c, requeue_witness_tx, &a);
}

enum wg_status wg_repair_delete_batch(struct wg_dbconn *c, int64_t batch)
{
  static const char *const order[] = {"proofs", "prover", "archive", "attempts", "leaf", "node", "sched", "basic"};
  enum wg_status s = batch_exists(c, batch);
  for (size_t t = 0; s == WG_OK && t < sizeof order / sizeof order[0]; t++) {
    char name[48];
    snprintf(name, sizeof name, "delete_batch_%s", order[t]);
    struct wg_params p = {0};
    wg_p_int(&p, batch);
    s = wg_db_exec(c, name, &p, false, NULL);
  }
  return s == WG_OK ? wg_blob_sweep_add(c, batch) : s;
}

enum wg_status wg_repair_restart_batch(struct wg_dbconn *c, int64_t batch)
{
  static const char *const order[] = {"proofs", "prover", "archive", "attempts", "leaf", "node", "sched"};
  enum wg_status s = batch_exists(c, batch);
  for (size_t t = 0; s == WG_OK && t < sizeof order / sizeof order[0]; t++) {
    char name[48];
    snprintf(name, sizeof name, "delete_batch_%s", order[t]);
    struct wg_params p = {0};
    wg_p_int(&p, batch);
    s = wg_db_exec(c, name, &p, false, NULL);
  }
  if (s == WG_OK) {
    struct wg_params p = {0};
    wg_p_int(&p, batch);
    s = wg_db_exec(c, "restart_batch_basic", &p, false, NULL);
  }
  return s == WG_OK ? wg_db_notify(c, WG_ROUND_BASIC) : s;
}

enum wg_status wg_repair_failed_batches(struct wg_dbconn *c, int64_t **batches, int *count)
{
  PGresult *r;
  struct wg_params p = {0};
  enum wg_status s = wg_db_exec(c, "failed_batches", &p, false, &r);
  if (s != WG_OK)
    return s;
  *count = PQntuples(r);
  *batches = calloc((size_t)*count + 1, sizeof **batches);
  for (int i = 0; i < *count; i++)
    (*batches)[i] = wg_db_int(r, i, 0);
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_repair_archive(struct wg_dbconn *c, int64_t age_seconds, int *archived)
{
  struct wg_params p = {0};
  wg_p_int(&p, age_seconds);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "archive_proven", &p, false, &r);
  if (s != WG_OK)
    return s;
  *archived = atoi(PQcmdTuples(r));
  PQclear(r);
  return WG_OK;
}
