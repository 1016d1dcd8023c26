/* Operations on the witness job tables. The four tables share their bookkeeping columns; the
 * statements that differ only by table name are spelled out per table, since a table name cannot
 * be a statement parameter. */
#include "config.h"
#include "db/witness_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuits/circuits.h"
#include "common/fault.h"
#include "db/backpressure.h"
#include "db/batch_locks.h"

static const char *const table_names[4] = {"basic", "leaf", "node", "sched"};

/* WHERE narrows the claim further: the basic round's holds every basic job while the circuits in
 * flight reach $3 (0: no limit; db/backpressure.h), a condition on no row, checked once. */
#define CLAIM(NAME, TABLE, ORDER, WHERE, EXTRA)                                                                       \
  {"witness_claim_" NAME,                                                                                     \
   "UPDATE " TABLE " SET status = 'in_progress', attempts = attempts + 1, picked_by = $1,"                    \
   " lease_expires_at = now() + make_interval(secs => $2::integer), processing_started_at = now(),"           \
   " retry_at = NULL, updated_at = now() WHERE id = (SELECT id FROM " TABLE " WHERE status = 'queued'"         \
   " AND (retry_at IS NULL OR retry_at <= now())" WHERE " ORDER BY " ORDER                                              \
   " LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, l1_batch_number, protocol_version, attempts, " EXTRA}
#define FENCED(NAME, TABLE)                                                                                    \
  {"witness_renew_" NAME,                                                                                     \
   "UPDATE " TABLE " SET lease_expires_at = now() + make_interval(secs => $3::integer), updated_at = now()"    \
   " WHERE id = $1 AND status = 'in_progress' AND attempts = $2"},                                            \
  {"witness_finish_" NAME,                                                                                    \
   "UPDATE " TABLE " SET status = 'successful', lease_expires_at = NULL, error = NULL,"                       \
   " time_taken = now() - processing_started_at, updated_at = now()"                                          \
   " WHERE id = $1 AND status = 'in_progress' AND attempts = $2"},                                            \
  {"witness_fail_" NAME,                                                                                      \
   "UPDATE " TABLE " SET status = 'failed', lease_expires_at = NULL, error = $3,"                             \
   " time_taken = now() - processing_started_at, updated_at = now()"                                          \
   " WHERE id = $1 AND status = 'in_progress' AND attempts = $2"},                                            \
  {"witness_release_" NAME,                                                                                   \
   "UPDATE " TABLE " SET status = CASE WHEN attempts - $3 - attempts_base >= $4 THEN 'failed' ELSE 'queued' END," \
   " attempts = attempts - $3, error = $5, lease_expires_at = NULL, updated_at = now(),"                      \
   " retry_at = now() + " WG_SQL_BACKOFF("$6", "$7")                                                         \
   " WHERE id = $1 AND status = 'in_progress' AND attempts = $2"}

const struct wg_stmt wg_sql_witness_jobs[] = {
  CLAIM("basic", "basic_circuit_witness_jobs", "priority DESC, l1_batch_number, id",
        " AND ($3::bigint = 0 OR NOT " WG_SQL_CIRCUITS_IN_FLIGHT_REACHED("$3::bigint") ")", "0, 0, 0, input_key, NULL, NULL"),
  CLAIM("leaf", "leaf_aggregation_jobs", "priority DESC, l1_batch_number, id", "",
        "circuit_id, 0, number_of_basic_circuits, NULL, NULL, NULL"),
  CLAIM("node", "node_aggregation_jobs", "priority DESC, l1_batch_number, depth, id", "",
        "circuit_id, depth, number_of_dependent_jobs, NULL, NULL, NULL"),
  CLAIM("sched", "scheduler_witness_jobs", "priority DESC, l1_batch_number, id", "",
        "0, 0, number_of_dependent_jobs, NULL, encode(previous_root_hash, 'hex'), encode(new_root_hash, 'hex')"),
  FENCED("basic", "basic_circuit_witness_jobs"),
  FENCED("leaf", "leaf_aggregation_jobs"),
  FENCED("node", "node_aggregation_jobs"),
  FENCED("sched", "scheduler_witness_jobs"),
  {"witness_await_again_leaf",
   "UPDATE leaf_aggregation_jobs SET status = 'waiting_for_proofs', proofs_done = proofs_done - $3,"
   " lease_expires_at = NULL, updated_at = now(), error = $4 WHERE id = $1 AND status = 'in_progress' AND attempts = $2"},
  {"witness_await_again_node",
   "UPDATE node_aggregation_jobs SET status = 'waiting_for_proofs', proofs_done = proofs_done - $3,"
   " lease_expires_at = NULL, updated_at = now(), error = $4 WHERE id = $1 AND status = 'in_progress' AND attempts = $2"},
  {"witness_await_again_sched",
   "UPDATE scheduler_witness_jobs SET status = 'waiting_for_proofs', proofs_done = proofs_done - $3,"
   " lease_expires_at = NULL, updated_at = now(), error = $4 WHERE id = $1 AND status = 'in_progress' AND attempts = $2"},
  /* Counting a proof: the row lock taken by the UPDATE serialises concurrent completions of one
   * layer, and each sees the count the previous one committed, so exactly one of them queues. */
  {"witness_count_leaf",
   "UPDATE leaf_aggregation_jobs SET proofs_done = proofs_done + 1, updated_at = now(),"
   " status = CASE WHEN status = 'waiting_for_proofs' AND proofs_done + 1 >= number_of_basic_circuits"
   " THEN 'queued' ELSE status END WHERE l1_batch_number = $1 AND circuit_id = $2 RETURNING status"},
  {"witness_count_node",
   "UPDATE node_aggregation_jobs SET proofs_done = proofs_done + 1, updated_at = now(),"
   " status = CASE WHEN status = 'waiting_for_proofs' AND proofs_done + 1 >= number_of_dependent_jobs"
   " THEN 'queued' ELSE status END WHERE l1_batch_number = $1 AND circuit_id = $2 AND depth = $3 RETURNING status"},
  {"witness_count_sched",
   "UPDATE scheduler_witness_jobs SET proofs_done = proofs_done + 1, updated_at = now(),"
   " status = CASE WHEN status = 'waiting_for_proofs' AND proofs_done + 1 >= number_of_dependent_jobs"
   " THEN 'queued' ELSE status END WHERE l1_batch_number = $1 RETURNING status"},
  {"witness_insert_leaves",
   "INSERT INTO leaf_aggregation_jobs (l1_batch_number, protocol_version, circuit_id, number_of_basic_circuits,"
   " priority) SELECT $1, $2, c, n, " WG_SQL_BATCH_PRIORITY("$1") " FROM unnest($3::smallint[], $4::integer[]) AS t(c, n)"},
  {"witness_insert_node_stubs",
   "INSERT INTO node_aggregation_jobs (l1_batch_number, protocol_version, circuit_id, depth, priority)"
   " SELECT $1, $2, c, 0, " WG_SQL_BATCH_PRIORITY("$1") " FROM unnest($3::smallint[]) AS t(c)"},
  {"witness_insert_scheduler",
   "INSERT INTO scheduler_witness_jobs (l1_batch_number, protocol_version, number_of_dependent_jobs,"
   " previous_root_hash, new_root_hash, priority) VALUES ($1, $2, $3, $4, $5, " WG_SQL_BATCH_PRIORITY("$1") ")"},
  /* The depth-0 node job exists as a stub; deeper ones are created by the layer below. */
  {"witness_set_node_inputs",
   "INSERT INTO node_aggregation_jobs (l1_batch_number, protocol_version, circuit_id, depth, number_of_dependent_jobs,"
   " priority) VALUES ($1, $2, $3, $4, $5, " WG_SQL_BATCH_PRIORITY("$1") ") ON CONFLICT (l1_batch_number, circuit_id, depth)"
   " DO UPDATE SET number_of_dependent_jobs = EXCLUDED.number_of_dependent_jobs, updated_at = now()"},
  {"witness_notify", "SELECT pg_notify('" WG_NOTIFY_CHANNEL "', $1)"},
  {NULL, NULL},
};

static void stmt_name(char *out, size_t n, const char *op, int round)
{
  snprintf(out, n, "witness_%s_%s", op, table_names[round]);
}

static bool hex32(const char *s, uint8_t out[32])
{
  if (s == NULL || strlen(s) != 64)
    return false;
  for (int i = 0; i < 32; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1)
      return false;
    out[i] = (uint8_t)v;
  }
  return true;
}

enum wg_status wg_witness_claim(struct wg_dbconn *c, int round, const char *instance_id, int lease_seconds,
                                long max_in_flight, struct wg_witness_job *job)
{
  char name[48];
  stmt_name(name, sizeof name, "claim", round);
  struct wg_params p = {0};
  wg_p_text(&p, instance_id);
  wg_p_int(&p, lease_seconds);
  if (round == 0)
    wg_p_int(&p, max_in_flight > 0 ? max_in_flight : 0);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, name, &p, false, &r);
  if (s != WG_OK)
    return s;
  memset(job, 0, sizeof *job);
  job->round = round;
  job->id = wg_db_int(r, 0, 0);
  job->l1_batch_number = wg_db_int(r, 0, 1);
  job->protocol_version = (int)wg_db_int(r, 0, 2);
  job->attempts = (int)wg_db_int(r, 0, 3);
  job->circuit_id = (int)wg_db_int(r, 0, 4);
  job->depth = (int)wg_db_int(r, 0, 5);
  job->dependencies = wg_db_int(r, 0, 6);
  snprintf(job->input_key, sizeof job->input_key, "%s", PQgetvalue(r, 0, 7));
  hex32(wg_db_str(r, 0, 8), job->previous_root);
  hex32(wg_db_str(r, 0, 9), job->new_root);
  PQclear(r);
  return WG_OK;
}

/* Runs a statement fenced by (id, attempts); no row matched means the lease was lost. */
static enum wg_status fenced(struct wg_dbconn *c, const char *op, const struct wg_witness_job *job,
                             struct wg_params *p)
{
  char name[48];
  stmt_name(name, sizeof name, op, job->round);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, name, p, false, &r);
  if (s != WG_OK)
    return s;
  bool hit = strcmp(PQcmdTuples(r), "0") != 0;
  PQclear(r);
  return hit ? WG_OK : WG_E_LEASE_LOST;
}

static void fence_params(struct wg_params *p, const struct wg_witness_job *job)
{
  wg_p_reset(p);
  wg_p_int(p, job->id);
  wg_p_int(p, job->attempts);
}

enum wg_status wg_witness_renew(struct wg_dbconn *c, const struct wg_witness_job *job, int lease_seconds)
{
  struct wg_params p;
  fence_params(&p, job);
  wg_p_int(&p, lease_seconds);
  return fenced(c, "renew", job, &p);
}

enum wg_status wg_witness_finish(struct wg_dbconn *c, const struct wg_witness_job *job)
{
  /* Shared with the other rounds of the batch, exclusive against its DELETE: a round either
   * commits before the delete (which then removes what it made) or finds its job gone. */
  enum wg_status s = wg_batch_lock(c, job->l1_batch_number, false);
  if (s != WG_OK)
    return s;
  char point[48];
  stmt_name(point, sizeof point, "finish", job->round);
  WG_FAULT(point); /* "witness_finish_leaf": a round about to commit, for the fencing tests */
  struct wg_params p;
  fence_params(&p, job);
  return fenced(c, "finish", job, &p);
}

enum wg_status wg_witness_fail(struct wg_dbconn *c, const struct wg_witness_job *job, const char *error)
{
  struct wg_params p;
  fence_params(&p, job);
  wg_p_text(&p, error);
  return fenced(c, "fail", job, &p);
}

enum wg_status wg_witness_release(struct wg_dbconn *c, const struct wg_witness_job *job, bool take_back_claim,
                                  int max_attempts, double retry_base, double retry_max, const char *error)
{
  struct wg_params p;
  fence_params(&p, job);
  wg_p_int(&p, take_back_claim ? 1 : 0);
  wg_p_int(&p, max_attempts);
  wg_p_text(&p, error);
  char base[32], max[32];
  snprintf(base, sizeof base, "%.3f", retry_base);
  snprintf(max, sizeof max, "%.3f", retry_max);
  wg_p_text(&p, base);
  wg_p_text(&p, max);
  enum wg_status s = fenced(c, "release", job, &p);
  if (s == WG_OK)
    wg_db_notify(c, job->round);
  return s;
}

enum wg_status wg_witness_await_again(struct wg_dbconn *c, const struct wg_witness_job *job, int missing)
{
  struct wg_params p;
  fence_params(&p, job);
  wg_p_int(&p, missing);
  wg_p_text(&p, "a stored proof failed verification; waiting for it to be proved again");
  return fenced(c, "await_again", job, &p);
}

enum wg_status wg_db_notify(struct wg_dbconn *c, int round)
{
  char payload[8];
  snprintf(payload, sizeof payload, "%d", round);
  struct wg_params p = {0};
  wg_p_text(&p, payload);
  return wg_db_exec(c, "witness_notify", &p, false, NULL);
}

/* Runs a counting statement; notifies the next round when it queued its job. */
static enum wg_status count(struct wg_dbconn *c, const char *stmt, struct wg_params *p, int next_round, bool *matched)
{
  PGresult *r;
  enum wg_status s = wg_db_exec(c, stmt, p, false, &r);
  if (s != WG_OK)
    return s;
  *matched = PQntuples(r) > 0;
  bool queued = *matched && strcmp(PQgetvalue(r, 0, 0), "queued") == 0;
  PQclear(r);
  return queued ? wg_db_notify(c, next_round) : WG_OK;
}

enum wg_status wg_witness_count_proof(struct wg_dbconn *c, int64_t batch, int round, int circuit_id, int depth)
{
  struct wg_params p = {0};
  bool matched = false;
  wg_p_int(&p, batch);
  switch (round) {
  case WG_ROUND_BASIC:
    wg_p_int(&p, circuit_id);
    return count(c, "witness_count_leaf", &p, WG_ROUND_LEAF, &matched);
  case WG_ROUND_LEAF:
    wg_p_int(&p, circuit_id);
    wg_p_int(&p, 0);
    return count(c, "witness_count_node", &p, WG_ROUND_NODE, &matched);
  case WG_ROUND_NODE: {
    /* A node layer feeds the next layer if the round created one, else it is the type's final
     * proof and feeds the scheduler. */
    wg_p_int(&p, circuit_id);
    wg_p_int(&p, depth + 1);
    enum wg_status s = count(c, "witness_count_node", &p, WG_ROUND_NODE, &matched);
    if (s != WG_OK || matched)
      return s;
    wg_p_reset(&p);
    wg_p_int(&p, batch);
    return count(c, "witness_count_sched", &p, WG_ROUND_SCHEDULER, &matched);
  }
  default:
    return WG_OK; /* the scheduler proof: the batch is proven */
  }
}

enum wg_status wg_witness_insert_basic_outputs(struct wg_dbconn *c, int64_t batch, int protocol_version,
                                               const char *circuit_ids, const char *counts, int types,
                                               const uint8_t previous_root[32], const uint8_t new_root[32])
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  wg_p_int(&p, protocol_version);
  wg_p_text(&p, circuit_ids);
  wg_p_text(&p, counts);
  enum wg_status s = wg_db_exec(c, "witness_insert_leaves", &p, false, NULL);
  if (s != WG_OK)
    return s;
  wg_p_reset(&p);
  wg_p_int(&p, batch);
  wg_p_int(&p, protocol_version);
  wg_p_text(&p, circuit_ids);
  s = wg_db_exec(c, "witness_insert_node_stubs", &p, false, NULL);
  if (s != WG_OK)
    return s;
  wg_p_reset(&p);
  wg_p_int(&p, batch);
  wg_p_int(&p, protocol_version);
  wg_p_int(&p, types);
  wg_p_bytes(&p, previous_root, 32);
  wg_p_bytes(&p, new_root, 32);
  return wg_db_exec(c, "witness_insert_scheduler", &p, false, NULL);
}

enum wg_status wg_witness_set_node_inputs(struct wg_dbconn *c, int64_t batch, int protocol_version, int circuit_id,
                                          int depth, int64_t proofs)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  wg_p_int(&p, protocol_version);
  wg_p_int(&p, circuit_id);
  wg_p_int(&p, depth);
  wg_p_int(&p, proofs);
  return wg_db_exec(c, "witness_set_node_inputs", &p, false, NULL);
}
