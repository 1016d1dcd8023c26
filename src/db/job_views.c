/* Operator views of single jobs: a witness job by round and id, a prover job's error and its
 * attempt records. Kept apart
 * from the claim and lease statements, which the rounds and provers depend on. */
#include "config.h"
#include "db/job_views.h"

#include <stdio.h>
#include <stdlib.h>

#define TS(col) WG_SQL_UTC(col)

/* One statement per table (a table name cannot be a parameter); the columns line up so that one
 * reader serves all four. Columns a table lacks read as 0 or NULL. */
#define WITNESS_VIEW(NAME, TABLE, CIRCUIT, DEPTH, DEPS)                                                         \
  {"job_view_witness_" NAME,                                                                                  \
   "SELECT id, l1_batch_number, protocol_version, " CIRCUIT ", " DEPTH ", status, attempts, error, picked_by, " \
   TS("lease_expires_at") ", " TS("created_at") ", " TS("updated_at") ", " DEPS ","                          \
   " CASE WHEN status = 'queued' AND retry_at > now() THEN " TS("retry_at") " END"                            \
   " FROM " TABLE " WHERE id = $1"}

static const char *const kind_names[4] = {"basic", "leaf", "node", "sched"};

const struct wg_stmt wg_sql_job_views[] = {
  WITNESS_VIEW("basic", "basic_circuit_witness_jobs", "0", "0", "NULL::integer, NULL::integer"),
  WITNESS_VIEW("leaf", "leaf_aggregation_jobs", "circuit_id", "0", "number_of_basic_circuits, proofs_done"),
  WITNESS_VIEW("node", "node_aggregation_jobs", "circuit_id", "depth", "number_of_dependent_jobs, proofs_done"),
  WITNESS_VIEW("sched", "scheduler_witness_jobs", "0", "0", "number_of_dependent_jobs, proofs_done"),
  {"job_view_prover_error",
   "SELECT error FROM prover_jobs WHERE id = $1 UNION ALL SELECT error FROM prover_jobs_archive WHERE id = $1 LIMIT 1"},
  /* One row per attempt, oldest first, or one row of NULLs for a job never claimed; no row for
   * an unknown job. Archived jobs keep their records (sql/0007_attempts.sql). */
  {"job_view_prover_attempts",
   "SELECT a.attempt, a.prover_id, a.token_name, " TS("a.claimed_at") ", " TS("a.ended_at") ", a.outcome, a.error"
   " FROM (SELECT 1 WHERE EXISTS (SELECT 1 FROM prover_jobs WHERE id = $1)"
   "   OR EXISTS (SELECT 1 FROM prover_jobs_archive WHERE id = $1)) AS job"
   " LEFT JOIN prover_job_attempts a ON a.prover_job_id = $1 ORDER BY a.attempt"},
  {NULL, NULL},
};

static json_t *text_at(const PGresult *r, int row, int col)
{
  const char *v = wg_db_str(r, row, col);
  return v ? json_string(v) : json_null();
}

static json_t *text_or_null(const PGresult *r, int col) { return text_at(r, 0, col); }

static json_t *int_or_null(const PGresult *r, int col)
{
  return wg_db_isnull(r, 0, col) ? json_null() : json_integer(wg_db_int(r, 0, col));
}

enum wg_status wg_witness_job_view(struct wg_dbconn *c, int round, int64_t id, json_t **out)
{
  if (round < 0 || round > 3)
    return WG_E_NOT_FOUND;
  char name[48];
  snprintf(name, sizeof name, "job_view_witness_%s", kind_names[round]);
  struct wg_params p = {0};
  wg_p_int(&p, id);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, name, &p, false, &r);
  if (s != WG_OK)
    return s;
  json_t *j = json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:s,s:I}", "kind", "witness", "aggregation_round", round, "id",
                        (json_int_t)wg_db_int(r, 0, 0), "l1_batch_number", (json_int_t)wg_db_int(r, 0, 1),
                        "protocol_version", (json_int_t)wg_db_int(r, 0, 2), "circuit_id",
                        (json_int_t)wg_db_int(r, 0, 3), "depth", (json_int_t)wg_db_int(r, 0, 4), "status",
                        PQgetvalue(r, 0, 5), "attempts", (json_int_t)wg_db_int(r, 0, 6));
  json_object_set_new(j, "error", text_or_null(r, 7));
  json_object_set_new(j, "picked_by", text_or_null(r, 8));
  json_object_set_new(j, "lease_expires_at", text_or_null(r, 9));
  json_object_set_new(j, "created_at", text_or_null(r, 10));
  json_object_set_new(j, "updated_at", text_or_null(r, 11));
  if (round > 0) {
    json_object_set_new(j, "proofs_awaited", int_or_null(r, 12));
    json_object_set_new(j, "proofs_done", int_or_null(r, 13));
  }
  json_object_set_new(j, "retry_at", text_or_null(r, 14));
  PQclear(r);
  *out = j;
  return WG_OK;
}

enum wg_status wg_prover_job_error(struct wg_dbconn *c, int64_t id, json_t **error)
{
  struct wg_params p = {0};
  wg_p_int(&p, id);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, "job_view_prover_error", &p, false, &r);
  if (s != WG_OK)
    return s;
  *error = text_or_null(r, 0);
  PQclear(r);
  return WG_OK;
}

enum wg_status wg_prover_job_attempts(struct wg_dbconn *c, int64_t id, json_t **out)
{
  struct wg_params p = {0};
  wg_p_int(&p, id);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, "job_view_prover_attempts", &p, false, &r);
  if (s != WG_OK)
    return s;
  json_t *list = json_array();
  for (int row = 0; row < PQntuples(r); row++) {
    if (wg_db_isnull(r, row, 0))
      continue; /* a job never claimed */
    json_t *a = json_pack("{s:I,s:s}", "attempt", (json_int_t)wg_db_int(r, row, 0), "outcome", PQgetvalue(r, row, 5));
    json_object_set_new(a, "prover_id", text_at(r, row, 1));
    json_object_set_new(a, "token_name", text_at(r, row, 2));
    json_object_set_new(a, "claimed_at", text_at(r, row, 3));
    json_object_set_new(a, "ended_at", text_at(r, row, 4));
    json_object_set_new(a, "error", text_at(r, row, 6));
    json_array_append_new(list, a);
  }
  PQclear(r);
  *out = json_pack("{s:o}", "attempts", list);
  return WG_OK;
}
