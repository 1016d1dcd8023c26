/* The queue report and the pauses (sql/0009_pauses.sql). The report is one grouped statement
 * that reads only unfinished prover jobs (through the partial indexes on queued and in-progress
 * rows) and the last minute's successful ones (through prover_jobs_successful_at), so that its
 * cost follows the live queue, not the history. */
#include "config.h"
#include "db/queue.h"

#include <stdlib.h>

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* The pauses of relation P as one JSON array, oldest first. */
#define PAUSES_JSON(P)                                                                                   \
  "SELECT coalesce(json_agg(json_build_object('id', p.id, 'protocol_version', p.protocol_version,"    \
  " 'rounds', p.rounds, 'circuit_ids', p.circuit_ids, 'created_at', " TS("p.created_at") ") ORDER BY p.id),"  \
  " '[]')::text FROM " P " p"

/* A list stored sorted and without repeats, so that equal filters are one row. */
#define SORTED(LIST) "(SELECT array_agg(DISTINCT x ORDER BY x) FROM unnest(" LIST "::smallint[]) AS x)"

const struct wg_stmt wg_sql_queue[] = {
  /* Per triple: claimable queued jobs, held ones, queued ones waiting out their backoff, the age
   * of the oldest queued one, the completions of the last 60 s, and a row for each triple that a
   * pause names in full even when it has no job. The OR (not IN) lets the planner join the two
   * partial indexes prover_jobs_queued and prover_jobs_leased in one bitmap scan. */
  {"queue_report",
   "WITH live AS ("
   " SELECT protocol_version, aggregation_round, circuit_id,"
   "   count(*) FILTER (WHERE status = 'queued' AND (retry_at IS NULL OR retry_at <= now())) AS queued,"
   "   count(*) FILTER (WHERE status = 'in_progress') AS in_progress,"
   "   count(*) FILTER (WHERE status = 'queued' AND retry_at > now()) AS backoff,"
   "   min(updated_at) FILTER (WHERE status = 'queued') AS oldest, 0 AS completed"
   "   FROM prover_jobs WHERE status = 'queued' OR status = 'in_progress' GROUP BY 1, 2, 3"
   " UNION ALL SELECT protocol_version, aggregation_round, circuit_id, 0, 0, 0, NULL, count(*)"
   "   FROM prover_jobs WHERE status = 'successful' AND updated_at > now() - interval '60 seconds' GROUP BY 1, 2, 3"
   " UNION ALL SELECT p.protocol_version, r, c, 0, 0, 0, NULL, 0"
   "   FROM queue_pauses p, unnest(p.rounds) AS r, unnest(p.circuit_ids) AS c WHERE p.protocol_version IS NOT NULL)"
   " SELECT t.*, " WG_SQL_PAUSED("t") " FROM ("
   "  SELECT protocol_version, aggregation_round, circuit_id, sum(queued), sum(in_progress), sum(backoff),"
   "   coalesce(extract(epoch FROM now() - min(oldest)), 0), sum(completed)"
   "  FROM live GROUP BY 1, 2, 3) AS t ORDER BY 1, 2, 3"},
  {"queue_pause",
   "WITH added AS (INSERT INTO queue_pauses (protocol_version, rounds, circuit_ids)"
   "   VALUES ($1::integer, " SORTED("$2") ", " SORTED("$3") ") ON CONFLICT DO NOTHING RETURNING *)"
   " " PAUSES_JSON("(SELECT * FROM queue_pauses UNION ALL SELECT * FROM added)")},
  {"queue_resume",
   "WITH gone AS (DELETE FROM queue_pauses q WHERE ($1::integer IS NULL OR q.protocol_version = $1::integer)"
   "   AND ($2::smallint[] IS NULL OR q.rounds <@ $2::smallint[])"
   "   AND ($3::smallint[] IS NULL OR q.circuit_ids <@ $3::smallint[]) RETURNING id)"
   " " PAUSES_JSON("(SELECT * FROM queue_pauses WHERE id NOT IN (SELECT id FROM gone))")},
  {NULL, NULL},
};

enum wg_status wg_queue_report(struct wg_dbconn *c, struct wg_queue_row **rows, size_t *n)
{
  PGresult *r;
  enum wg_status s = wg_db_exec(c, "queue_report", NULL, false, &r);
  if (s != WG_OK)
    return s;
  size_t count = (size_t)PQntuples(r);
  struct wg_queue_row *out = calloc(count ? count : 1, sizeof *out);
  if (out == NULL) {
    PQclear(r);
    return WG_E_INTERNAL;
  }
  for (size_t i = 0; i < count; i++) {
    int row = (int)i;
    out[i] = (struct wg_queue_row){
      .protocol_version = wg_db_int(r, row, 0),
      .round = wg_db_int(r, row, 1),
      .circuit_id = wg_db_int(r, row, 2),
      .queued = wg_db_int(r, row, 3),
      .in_progress = wg_db_int(r, row, 4),
      .backoff = wg_db_int(r, row, 5),
      .oldest_queued_age_s = atof(PQgetvalue(r, row, 6)),
      .completed_last_60s = wg_db_int(r, row, 7),
      .paused = PQgetvalue(r, row, 8)[0] == 't',
    };
  }
  PQclear(r);
  *rows = out;
  *n = count;
  return WG_OK;
}

enum wg_status wg_queue_report_json(struct wg_dbconn *c, json_t **out)
{
  struct wg_queue_row *rows;
  size_t n;
  enum wg_status s = wg_queue_report(c, &rows, &n);
  if (s != WG_OK)
    return s;
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(
      list, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:I,s:b}", "protocol_version", (json_int_t)rows[i].protocol_version,
                      "aggregation_round", (json_int_t)rows[i].round, "circuit_id", (json_int_t)rows[i].circuit_id,
                      "queued", (json_int_t)rows[i].queued, "in_progress", (json_int_t)rows[i].in_progress,
                      "backoff", (json_int_t)rows[i].backoff, "oldest_queued_age_s", rows[i].oldest_queued_age_s,
                      "completed_last_60s", (json_int_t)rows[i].completed_last_60s, "paused", rows[i].paused));
  free(rows);
  *out = json_pack("{s:o}", "queues", list);
  return WG_OK;
}

static enum wg_status pauses_exec(struct wg_dbconn *c, const char *stmt, const struct wg_pause_filter *f, json_t **out)
{
  struct wg_params p = {0};
  if (f->protocol_version < 0)
    wg_p_null(&p);
  else
    wg_p_int(&p, f->protocol_version);
  wg_p_text(&p, f->rounds);
  wg_p_text(&p, f->circuit_ids);
  PGresult *r;
  enum wg_status s = wg_db_exec_row(c, stmt, &p, false, &r);
  if (s != WG_OK)
    return s;
  json_t *pauses = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
  PQclear(r);
  if (pauses == NULL)
    return WG_E_INTERNAL;
  *out = json_pack("{s:o}", "pauses", pauses);
  return WG_OK;
}

enum wg_status wg_queue_pause(struct wg_dbconn *c, const struct wg_pause_filter *f, json_t **out)
{
  return pauses_exec(c, "queue_pause", f, out);
}

enum wg_status wg_queue_resume(struct wg_dbconn *c, const struct wg_pause_filter *f, json_t **out)
{
  return pauses_exec(c, "queue_resume", f, out);
}
