/* Pipeline statistics. Every figure is computed in PostgreSQL (percentile_cont for p95) so that
 * wgctl never pulls job rows across the network. Archived prover jobs count too: archiving moves
 * rows, it does not undo the work. A job counts in the window when its last change (updated_at)
 * falls in it, which for a finished job is when it finished. */
#include "config.h"
#include "db/stats.h"

#include <stdio.h>
#include <stdlib.h>

#define IN_WINDOW(col) "($1::double precision IS NULL OR " col " >= now() - make_interval(secs => $1::double precision))"
#define SECS(col) "extract(epoch FROM " col ")"
#define JOB_FIGURES                                                                                            \
  "count(*) FILTER (WHERE status = 'successful'), count(*) FILTER (WHERE status = 'failed'),"                  \
  " avg(" SECS("time_taken") ") FILTER (WHERE status = 'successful'),"                                        \
  " percentile_cont(0.95) WITHIN GROUP (ORDER BY " SECS("time_taken") ") FILTER (WHERE status = 'successful')"
#define WITNESS_ROUND(N, TABLE)                                                                                \
  "SELECT 'w', " #N ", " JOB_FIGURES " FROM " TABLE " WHERE " IN_WINDOW("updated_at")

const struct wg_stmt wg_sql_stats[] = {
  {"stats_jobs",
   WITNESS_ROUND(0, "basic_circuit_witness_jobs")
   " UNION ALL " WITNESS_ROUND(1, "leaf_aggregation_jobs")
   " UNION ALL " WITNESS_ROUND(2, "node_aggregation_jobs")
   " UNION ALL " WITNESS_ROUND(3, "scheduler_witness_jobs")
   " UNION ALL SELECT 'p', aggregation_round, " JOB_FIGURES " FROM ("
   "  SELECT aggregation_round, status, time_taken, updated_at FROM prover_jobs"
   "  UNION ALL SELECT aggregation_round, status, time_taken, updated_at FROM prover_jobs_archive) p"
   " WHERE " IN_WINDOW("updated_at") " GROUP BY aggregation_round"},
  /* A batch's time is from its upload to its scheduler proof. */
  {"stats_batches",
   "SELECT count(*), avg(" SECS("p.updated_at - b.created_at") "),"
   " percentile_cont(0.95) WITHIN GROUP (ORDER BY " SECS("p.updated_at - b.created_at") ")"
   " FROM prover_jobs p JOIN basic_circuit_witness_jobs b USING (l1_batch_number)"
   " WHERE p.aggregation_round = 3 AND p.status = 'successful' AND " IN_WINDOW("p.updated_at")},
  {"stats_batch_progress",
   "SELECT b.l1_batch_number, count(p.status) FILTER (WHERE p.status = 'successful'), count(p.status),"
   " " SECS("coalesce(max(p.updated_at) FILTER (WHERE p.aggregation_round = 3 AND p.status = 'successful'), now())"
            " - b.created_at")
   " FROM basic_circuit_witness_jobs b LEFT JOIN ("
   "  SELECT l1_batch_number, aggregation_round, status, updated_at FROM prover_jobs"
   "  UNION ALL SELECT l1_batch_number, aggregation_round, status, updated_at FROM prover_jobs_archive) p"
   " USING (l1_batch_number) WHERE b.l1_batch_number BETWEEN $1 AND $2 GROUP BY b.l1_batch_number, b.created_at"},
  {NULL, NULL},
};

static json_t *seconds_or_null(const PGresult *r, int row, int col)
{
  return wg_db_isnull(r, row, col) ? json_null() : json_real(atof(PQgetvalue(r, row, col)));
}

static json_t *job_figures(const PGresult *r, int row)
{
  return json_pack("{s:I,s:I,s:o,s:o}", "successful", (json_int_t)wg_db_int(r, row, 2), "failed",
                   (json_int_t)wg_db_int(r, row, 3), "mean_seconds", seconds_or_null(r, row, 4), "p95_seconds",
                   seconds_or_null(r, row, 5));
}

static json_t *no_jobs(void)
{
  return json_pack("{s:i,s:i,s:n,s:n}", "successful", 0, "failed", 0, "mean_seconds", "p95_seconds");
}

enum wg_status wg_stats(struct wg_dbconn *c, double since_seconds, json_t **out)
{
  struct wg_params p = {0};
  char text[32]; /* the parameter points into it until the last statement ran */
  if (since_seconds < 0) {
    wg_p_null(&p);
  } else {
    snprintf(text, sizeof text, "%.3f", since_seconds);
    wg_p_text(&p, text);
  }
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "stats_batches", &p, false, &r);
  if (s != WG_OK)
    return s;
  json_t *st = json_pack("{s:o,s:{s:I,s:o,s:o},s:[]}", "since_seconds",
                         since_seconds < 0 ? json_null() : json_real(since_seconds), "batches", "proven",
                         (json_int_t)wg_db_int(r, 0, 0), "mean_seconds", seconds_or_null(r, 0, 1), "p95_seconds",
                         seconds_or_null(r, 0, 2), "rounds");
  PQclear(r);
  json_t *rounds = json_object_get(st, "rounds");
  for (int i = 0; i < 4; i++)
    json_array_append_new(rounds, json_pack("{s:i,s:o,s:o}", "aggregation_round", i, "witness_jobs", no_jobs(),
                                            "prover_jobs", no_jobs()));
  s = wg_db_exec(c, "stats_jobs", &p, false, &r);
  if (s != WG_OK) {
    json_decref(st);
    return s;
  }
  for (int i = 0; i < PQntuples(r); i++) {
    int64_t round = wg_db_int(r, i, 1);
    if (round < 0 || round > 3)
      continue;
    json_object_set_new(json_array_get(rounds, (size_t)round),
                        PQgetvalue(r, i, 0)[0] == 'w' ? "witness_jobs" : "prover_jobs", job_figures(r, i));
  }
  PQclear(r);
  *out = st;
  return WG_OK;
}

enum wg_status wg_stats_batch_progress(struct wg_dbconn *c, json_t *list)
{
  size_t n = json_array_size(list);
  if (n == 0)
    return WG_OK;
  struct wg_params p = {0};
  wg_p_int(&p, json_integer_value(json_object_get(json_array_get(list, 0), "l1_batch_number")));
  wg_p_int(&p, json_integer_value(json_object_get(json_array_get(list, n - 1), "l1_batch_number")));
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "stats_batch_progress", &p, false, &r);
  if (s != WG_OK)
    return s;
  /* Both are in batch order; a batch deleted or added meanwhile is skipped or left without. */
  size_t i = 0;
  for (int row = 0; row < PQntuples(r); row++) {
    int64_t batch = wg_db_int(r, row, 0);
    while (i < n && json_integer_value(json_object_get(json_array_get(list, i), "l1_batch_number")) < batch)
      i++;
    if (i == n)
      break;
    json_t *b = json_array_get(list, i);
    if (json_integer_value(json_object_get(b, "l1_batch_number")) != batch)
      continue;
    json_object_set_new(b, "prover_jobs", json_pack("{s:I,s:I}", "successful", (json_int_t)wg_db_int(r, row, 1),
                                                    "total", (json_int_t)wg_db_int(r, row, 2)));
    json_object_set_new(b, "elapsed_seconds", seconds_or_null(r, row, 3));
  }
  PQclear(r);
  return WG_OK;
}
