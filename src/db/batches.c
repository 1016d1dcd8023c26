/* Operator views of batches. The batch status is derived from its jobs (docs/api.md), so it
 * can never disagree with them. */
#include "config.h"
#include "db/batches.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/backpressure.h"

#define TS(col) WG_SQL_UTC(col)

/* The status of batch b (a row of basic_circuit_witness_jobs). */
#define BATCH_STATUS                                                                                           \
  "CASE WHEN b.status = 'failed'"                                                                             \
  " OR EXISTS (SELECT 1 FROM prover_jobs p WHERE p.l1_batch_number = b.l1_batch_number AND p.status = 'failed')" \
  " OR EXISTS (SELECT 1 FROM leaf_aggregation_jobs j WHERE j.l1_batch_number = b.l1_batch_number AND j.status = 'failed')" \
  " OR EXISTS (SELECT 1 FROM node_aggregation_jobs j WHERE j.l1_batch_number = b.l1_batch_number AND j.status = 'failed')" \
  " OR EXISTS (SELECT 1 FROM scheduler_witness_jobs j WHERE j.l1_batch_number = b.l1_batch_number AND j.status = 'failed')" \
  " THEN 'failed'"                                                                                              \
  " WHEN EXISTS (SELECT 1 FROM prover_jobs p WHERE p.l1_batch_number = b.l1_batch_number"                      \
  "   AND p.aggregation_round = 3 AND p.status = 'successful') THEN 'proven'"                                  \
  " WHEN b.status = 'queued' THEN 'queued' ELSE 'in_progress' END"

const struct wg_stmt wg_sql_batches[] = {
  /* Two statements, not one ORDER BY chosen by a parameter, so that each walks the primary key
   * in its own direction and stops after limit rows. */
  {"batches_list",
   "SELECT b.l1_batch_number, b.protocol_version, " BATCH_STATUS ", " TS("b.created_at") ", b.priority"
   " FROM basic_circuit_witness_jobs b WHERE b.l1_batch_number > $1 ORDER BY b.l1_batch_number LIMIT $2"},
  {"batches_list_desc",
   "SELECT b.l1_batch_number, b.protocol_version, " BATCH_STATUS ", " TS("b.created_at") ", b.priority"
   " FROM basic_circuit_witness_jobs b WHERE b.l1_batch_number < $1 ORDER BY b.l1_batch_number DESC LIMIT $2"},
  {"batch_get",
   "SELECT b.l1_batch_number, b.protocol_version, " BATCH_STATUS ", " TS("b.created_at") ", b.input_bytes,"
   " b.priority FROM basic_circuit_witness_jobs b WHERE b.l1_batch_number = $1"},
  {"batch_counts",
   "SELECT 0, 'w', status, count(*) FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1 GROUP BY status"
   " UNION ALL SELECT 1, 'w', status, count(*) FROM leaf_aggregation_jobs WHERE l1_batch_number = $1 GROUP BY status"
   " UNION ALL SELECT 2, 'w', status, count(*) FROM node_aggregation_jobs WHERE l1_batch_number = $1 GROUP BY status"
   " UNION ALL SELECT 3, 'w', status, count(*) FROM scheduler_witness_jobs WHERE l1_batch_number = $1 GROUP BY status"
   " UNION ALL SELECT aggregation_round, 'p', status, count(*) FROM prover_jobs WHERE l1_batch_number = $1"
   " GROUP BY aggregation_round, status"},
  {"batch_timings",
   "SELECT r, " TS("min(s)") ", " TS("max(u)") ", extract(epoch FROM max(u) - min(s)) FROM ("
   " SELECT 0 AS r, processing_started_at AS s, updated_at AS u FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1"
   " UNION ALL SELECT 1, processing_started_at, updated_at FROM leaf_aggregation_jobs WHERE l1_batch_number = $1"
   " UNION ALL SELECT 2, processing_started_at, updated_at FROM node_aggregation_jobs WHERE l1_batch_number = $1"
   " UNION ALL SELECT 3, processing_started_at, updated_at FROM scheduler_witness_jobs WHERE l1_batch_number = $1"
   " UNION ALL SELECT aggregation_round, processing_started_at, updated_at FROM prover_jobs WHERE l1_batch_number = $1"
   ") t GROUP BY r"},
  {"batch_errors",
   "SELECT kind, aggregation_round, id, status, error FROM ("
   " SELECT 'witness' AS kind, 0 AS aggregation_round, id, status, error FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1"
   " UNION ALL SELECT 'witness', 1, id, status, error FROM leaf_aggregation_jobs WHERE l1_batch_number = $1"
   " UNION ALL SELECT 'witness', 2, id, status, error FROM node_aggregation_jobs WHERE l1_batch_number = $1"
   " UNION ALL SELECT 'witness', 3, id, status, error FROM scheduler_witness_jobs WHERE l1_batch_number = $1"
   " UNION ALL (SELECT 'prover', aggregation_round, id, status, error FROM prover_jobs"
   "   WHERE l1_batch_number = $1 AND error IS NOT NULL ORDER BY id LIMIT 20)"
   ") t WHERE error IS NOT NULL ORDER BY aggregation_round, kind, id LIMIT 20"},
  {"batch_witness_jobs",
   "SELECT id, r, c, d, status, attempts, error FROM ("
   " SELECT id, 0 AS r, 0 AS c, 0 AS d, status, attempts, error FROM basic_circuit_witness_jobs WHERE l1_batch_number = $1"
   " UNION ALL SELECT id, 1, circuit_id, 0, status, attempts, error FROM leaf_aggregation_jobs WHERE l1_batch_number = $1"
   " UNION ALL SELECT id, 2, circuit_id, depth, status, attempts, error FROM node_aggregation_jobs WHERE l1_batch_number = $1"
   " UNION ALL SELECT id, 3, 0, 0, status, attempts, error FROM scheduler_witness_jobs WHERE l1_batch_number = $1"
   ") t WHERE ($2::integer IS NULL OR r = $2::integer) AND ($3::text IS NULL OR status = $3::text)"
   " ORDER BY r, c, d, id"},
  {"batch_prover_jobs",
   "SELECT id, aggregation_round, circuit_id, depth, sequence_number, status, attempts, error FROM prover_jobs"
   " WHERE l1_batch_number = $1 AND ($2::integer IS NULL OR aggregation_round = $2::integer)"
   " AND ($3::text IS NULL OR status = $3::text) AND id > $4 ORDER BY id LIMIT $5"},
  {NULL, NULL},
};

enum wg_status wg_batches_list(struct wg_dbconn *c, int64_t after, bool desc, int64_t limit, json_t **out)
{
  struct wg_params p = {0};
  wg_p_int(&p, after);
  wg_p_int(&p, limit);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, desc ? "batches_list_desc" : "batches_list", &p, false, &r);
  if (s != WG_OK)
    return s;
  json_t *list = json_array();
  for (int i = 0; i < PQntuples(r); i++)
    json_array_append_new(list, json_pack("{s:I,s:I,s:s,s:s,s:i}", "l1_batch_number", (json_int_t)wg_db_int(r, i, 0),
                                          "protocol_version", (json_int_t)wg_db_int(r, i, 1), "status",
                                          PQgetvalue(r, i, 2), "created_at", PQgetvalue(r, i, 3), "priority",
                                          (int)wg_db_int(r, i, 4)));
  PQclear(r);
  *out = list;
  return WG_OK;
}

enum wg_status wg_batch_status(struct wg_dbconn *c, int64_t batch, char status[16])
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, "batch_get", &p, false, &r);
  if (s != WG_OK)
    return s;
  snprintf(status, 16, "%s", PQgetvalue(r, 0, 2));
  PQclear(r);
  return WG_OK;
}

static json_t *json_text_or_null(const PGresult *r, int row, int col)
{
  const char *v = wg_db_str(r, row, col);
  return v ? json_string(v) : json_null();
}

enum wg_status wg_batch_get(struct wg_dbconn *c, int64_t batch, long max_in_flight, json_t **out)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, "batch_get", &p, false, &r);
  if (s != WG_OK)
    return s;
  json_t *b = json_pack("{s:I,s:I,s:s,s:s,s:I,s:i}", "l1_batch_number", (json_int_t)wg_db_int(r, 0, 0),
                        "protocol_version", (json_int_t)wg_db_int(r, 0, 1), "status", PQgetvalue(r, 0, 2),
                        "created_at", PQgetvalue(r, 0, 3), "input_bytes", (json_int_t)wg_db_int(r, 0, 4),
                        "priority", (int)wg_db_int(r, 0, 5));
  PQclear(r);

  json_t *rounds = json_array();
  for (int i = 0; i < 4; i++)
    json_array_append_new(rounds, json_pack("{s:i,s:{},s:{}}", "aggregation_round", i, "witness_jobs", "prover_jobs"));
  s = wg_db_exec(c, "batch_counts", &p, false, &r);
  if (s == WG_OK) {
    for (int i = 0; i < PQntuples(r); i++) {
      json_t *round = json_array_get(rounds, (size_t)wg_db_int(r, i, 0));
      json_t *map = json_object_get(round, PQgetvalue(r, i, 1)[0] == 'w' ? "witness_jobs" : "prover_jobs");
      json_object_set_new(map, PQgetvalue(r, i, 2), json_integer(wg_db_int(r, i, 3)));
    }
    PQclear(r);
    s = wg_db_exec(c, "batch_timings", &p, false, &r);
  }
  if (s == WG_OK) {
    for (int i = 0; i < PQntuples(r); i++) {
      json_t *round = json_array_get(rounds, (size_t)wg_db_int(r, i, 0));
      json_object_set_new(round, "started_at", json_text_or_null(r, i, 1));
      json_object_set_new(round, "updated_at", json_text_or_null(r, i, 2));
      json_object_set_new(round, "elapsed_seconds",
                          wg_db_isnull(r, i, 3) ? json_null() : json_real(atof(PQgetvalue(r, i, 3))));
    }
    PQclear(r);
    s = wg_db_exec(c, "batch_errors", &p, false, &r);
  }
  if (s == WG_OK) {
    json_t *errors = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
      /* The path of the job itself, since a witness id alone is ambiguous across rounds. */
      char href[64];
      if (PQgetvalue(r, i, 0)[0] == 'w')
        snprintf(href, sizeof href, "/witness-jobs/%lld/%lld", (long long)wg_db_int(r, i, 1),
                 (long long)wg_db_int(r, i, 2));
      else
        snprintf(href, sizeof href, "/jobs/%lld", (long long)wg_db_int(r, i, 2));
      json_array_append_new(errors, json_pack("{s:s,s:I,s:I,s:s,s:s,s:s}", "kind", PQgetvalue(r, i, 0),
                                              "aggregation_round", (json_int_t)wg_db_int(r, i, 1), "id",
                                              (json_int_t)wg_db_int(r, i, 2), "status", PQgetvalue(r, i, 3),
                                              "error", PQgetvalue(r, i, 4), "href", href));
    }
    PQclear(r);
    json_object_set_new(b, "errors", errors);
  }
  json_object_set_new(b, "rounds", rounds);
  if (s == WG_OK && max_in_flight > 0 && strcmp(json_string_value(json_object_get(b, "status")), "queued") == 0) {
    bool held;
    s = wg_backpressure_held(c, max_in_flight, &held);
    if (s == WG_OK && held)
      json_object_set_new(b, "held", json_string("max_circuits_in_flight"));
  }
  if (s != WG_OK) {
    json_decref(b);
    return s;
  }
  *out = b;
  return WG_OK;
}

enum wg_status wg_batch_jobs(struct wg_dbconn *c, int64_t batch, int round, const char *status, int64_t after_id,
                             int64_t limit, json_t **out)
{
  struct wg_params p = {0};
  wg_p_int(&p, batch);
  if (round >= 0)
    wg_p_int(&p, round);
  else
    wg_p_null(&p);
  wg_p_text(&p, status);
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "batch_witness_jobs", &p, false, &r);
  if (s != WG_OK)
    return s;
  json_t *witness = json_array();
  for (int i = 0; i < PQntuples(r); i++)
    json_array_append_new(witness,
                          json_pack("{s:s,s:I,s:I,s:I,s:I,s:s,s:I,s:o}", "kind", "witness", "id",
                                    (json_int_t)wg_db_int(r, i, 0),
                                    "aggregation_round", (json_int_t)wg_db_int(r, i, 1), "circuit_id",
                                    (json_int_t)wg_db_int(r, i, 2), "depth", (json_int_t)wg_db_int(r, i, 3), "status",
                                    PQgetvalue(r, i, 4), "attempts", (json_int_t)wg_db_int(r, i, 5), "error",
                                    json_text_or_null(r, i, 6)));
  PQclear(r);
  wg_p_int(&p, after_id);
  if (limit >= 0)
    wg_p_int(&p, limit);
  else
    wg_p_null(&p);
  s = wg_db_exec(c, "batch_prover_jobs", &p, false, &r);
  if (s != WG_OK) {
    json_decref(witness);
    return s;
  }
  json_t *prover = json_array();
  for (int i = 0; i < PQntuples(r); i++)
    json_array_append_new(prover, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:s,s:I,s:o}", "kind", "prover", "id",
                                            (json_int_t)wg_db_int(r, i, 0),
                                            "aggregation_round", (json_int_t)wg_db_int(r, i, 1), "circuit_id",
                                            (json_int_t)wg_db_int(r, i, 2), "depth", (json_int_t)wg_db_int(r, i, 3),
                                            "sequence_number", (json_int_t)wg_db_int(r, i, 4), "status",
                                            PQgetvalue(r, i, 5), "attempts", (json_int_t)wg_db_int(r, i, 6), "error",
                                            json_text_or_null(r, i, 7)));
  PQclear(r);
  *out = json_pack("{s:o,s:o}", "witness_jobs", witness, "prover_jobs", prover);
  return WG_OK;
}
