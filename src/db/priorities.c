/* Setting a batch's priority. The priority lives on the basic job (the list of batches) and on
 * every other job of the batch, so that each claim orders by a column of the row it claims and
 * walks its partial index of queued rows (sql/0010_priority.sql). Setting it therefore costs one
 * update of the batch's jobs whose priority differs, in one statement; the batch lock, taken
 * exclusively, waits for a round committing new jobs of the batch, and a round that commits later
 * copies the new priority (WG_SQL_BATCH_PRIORITY). Every row is updated, not only the queued
 * ones: a job held, waiting or failed now keeps the batch's priority when it is queued again. */
#include "config.h"
#include "db/priorities.h"


#include "db/batch_locks.h"

#define SET_PRIORITY(NAME, TABLE)                                                                              \
  " " NAME " AS (UPDATE " TABLE " SET priority = $2 WHERE l1_batch_number = $1 AND priority <> $2 RETURNING 1)"

const struct wg_stmt wg_sql_priorities[] = {
  {"priority_set",
   "WITH basic AS (UPDATE basic_circuit_witness_jobs SET priority = $2, updated_at = now()"
   "   WHERE l1_batch_number = $1 RETURNING 1),"
   SET_PRIORITY("leaf", "leaf_aggregation_jobs") ","
   SET_PRIORITY("node", "node_aggregation_jobs") ","
   SET_PRIORITY("sched", "scheduler_witness_jobs") ","
   SET_PRIORITY("prover", "prover_jobs")
   " SELECT count(*) FROM basic"},
  {NULL, NULL},
};

struct set_args {
  int64_t batch;
  int priority;
};

static enum wg_status set_tx(struct wg_dbconn *c, void *arg)
{
  struct set_args *a = arg;
  enum wg_status s = wg_batch_lock(c, a->batch, true);
  if (s != WG_OK)
    return s;
  struct wg_params p = {0};
  wg_p_int(&p, a->batch);
  wg_p_int(&p, a->priority);
  PGresult *r;
  s = wg_db_exec_row(c, "priority_set", &p, false, &r);
  if (s != WG_OK)
    return s;
  bool found = wg_db_int(r, 0, 0) > 0;
  PQclear(r);
  return found ? WG_OK : WG_E_NOT_FOUND;
}

enum wg_status wg_priority_set(struct wg_dbconn *c, int64_t batch, int priority)
{
  struct set_args a = {batch, priority};
  return wg_db_tx(c, set_tx, &a);
}
