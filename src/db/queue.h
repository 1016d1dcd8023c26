/* The prover queue as operators and autoscalers see it, and the pauses that stop its claims. */
#ifndef WG_DB_QUEUE_H
#define WG_DB_QUEUE_H

#include <jansson.h>

#include "db/db.h"

extern const struct wg_stmt wg_sql_queue[];

/* SQL: whether a pause stops the claims of the prover job JOB (a table name or alias). The claim
 * and the report share it, so that what the report calls paused is what the claim skips. */
#define WG_SQL_PAUSED(JOB)                                                                          \
  "EXISTS (SELECT 1 FROM queue_pauses q WHERE (q.protocol_version IS NULL OR q.protocol_version = " JOB \
  ".protocol_version) AND (q.rounds IS NULL OR " JOB ".aggregation_round = ANY(q.rounds))"             \
  " AND (q.circuit_ids IS NULL OR " JOB ".circuit_id = ANY(q.circuit_ids)))"

/* One row of the queue report: a (protocol version, round, circuit id) triple. */
struct wg_queue_row {
  int64_t protocol_version, round, circuit_id;
  int64_t queued;      /* claimable now */
  int64_t in_progress; /* held by a prover */
  int64_t backoff;     /* queued, but not claimable before their retry_at */
  double oldest_queued_age_s; /* 0 when none is queued */
  int64_t completed_last_60s;
  bool paused;
};

/* The queue report, one row per triple with queued or in-progress prover jobs, completions in the
 * last 60 s, or a pause naming it; ordered by triple. *rows is the caller's to free. */
enum wg_status wg_queue_report(struct wg_dbconn *c, struct wg_queue_row **rows, size_t *n);
/* The same as {"queues":[...]}. */
enum wg_status wg_queue_report_json(struct wg_dbconn *c, json_t **out);

/* A pause's filter: protocol_version < 0, or a NULL list, matches every value. Lists are
 * PostgreSQL array literals ("{0,1}"). */
struct wg_pause_filter {
  int64_t protocol_version;
  const char *rounds, *circuit_ids;
};

/* Adds a pause (the same filter twice is one pause) and gives the pauses in force as
 * {"pauses":[{"id","protocol_version","rounds","circuit_ids","created_at"}]}, oldest first. */
enum wg_status wg_queue_pause(struct wg_dbconn *c, const struct wg_pause_filter *f, json_t **out);
/* Removes every pause that the filter covers: each of its fields is absent from the filter, or
 * equal to it (protocol version), or a subset of it (lists). Gives the pauses left in force. */
enum wg_status wg_queue_resume(struct wg_dbconn *c, const struct wg_pause_filter *f, json_t **out);

#endif
